//! Reads the synthesized CDK template: which tables and queues to create locally, what each
//! function's environment resolves to, and which queues feed which functions (event source
//! mappings name a function's `live` alias; the plan follows the alias to its function).
//!
//! Resources are named by their CDK construct id (`Metadata."aws:cdk:path"` =
//! `<Stack>/<ConstructId>/Resource`), falling back to the logical id without CDK's 8-character
//! hash suffix when the template carries no path metadata. Local physical names are
//! `<prefix>-<ConstructId>` (`.fifo` appended for FIFO queues).

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("template is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("template has no Resources object")]
    NoResources,
    #[error("resource {logical_id} ({kind}): {message}")]
    Resource {
        logical_id: String,
        kind: String,
        message: String,
    },
    #[error("two resources map to the same construct id {construct_id}: {first} and {second}")]
    DuplicateConstructId {
        construct_id: String,
        first: String,
        second: String,
    },
    #[error(
        "environment variable {name} resolves differently in {first_function} ({first}) and {second_function} ({second})"
    )]
    ConflictingEnvironment {
        name: String,
        first_function: String,
        first: String,
        second_function: String,
        second: String,
    },
}

fn resource_error(logical_id: &str, kind: &str, message: impl Into<String>) -> TemplateError {
    TemplateError::Resource {
        logical_id: logical_id.to_string(),
        kind: kind.to_string(),
        message: message.into(),
    }
}

pub const TABLE: &str = "AWS::DynamoDB::Table";
pub const QUEUE: &str = "AWS::SQS::Queue";
pub const FUNCTION: &str = "AWS::Lambda::Function";
pub const EVENT_SOURCE_MAPPING: &str = "AWS::Lambda::EventSourceMapping";
pub const ALIAS: &str = "AWS::Lambda::Alias";

/// Everything the stand-in needs from the template.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub tables: Vec<TableSpec>,
    pub queues: Vec<QueueSpec>,
    pub functions: Vec<FunctionSpec>,
    pub mappings: Vec<MappingSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    pub logical_id: String,
    pub construct_id: String,
    /// Local physical name: `<prefix>-<ConstructId>`.
    pub name: String,
    /// (attribute name, `HASH` | `RANGE`)
    pub key_schema: Vec<(String, String)>,
    /// (attribute name, `S` | `N` | `B`)
    pub attribute_definitions: Vec<(String, String)>,
    pub global_secondary_indexes: Vec<IndexSpec>,
    pub local_secondary_indexes: Vec<IndexSpec>,
    /// `TimeToLiveSpecification.AttributeName` when `Enabled`.
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    pub name: String,
    pub key_schema: Vec<(String, String)>,
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    pub logical_id: String,
    pub construct_id: String,
    /// Local physical name: `<prefix>-<ConstructId>`, plus `.fifo` for FIFO queues.
    pub name: String,
    pub fifo: bool,
    /// SQS attributes other than `RedrivePolicy`, as SetQueueAttributes wants them (strings).
    pub attributes: BTreeMap<String, String>,
    pub redrive: Option<Redrive>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue.
    pub dead_letter_queue: String,
    pub max_receive_count: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub construct_id: String,
    /// `Timeout` in seconds (Lambda's default is 3).
    pub timeout_seconds: u64,
    pub environment: BTreeMap<String, Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MappingSpec {
    pub logical_id: String,
    /// Logical id of the source queue.
    pub queue: String,
    /// Logical id of the target function.
    pub function: String,
    pub batch_size: u32,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

/// A CloudFormation value in a function's environment.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(String),
    Ref(String),
    GetAtt(String, String),
    Join(String, Vec<Expr>),
    /// An intrinsic the stand-in does not evaluate (kept for the message).
    Unsupported(String),
}

/// Physical names and attributes of what was created locally, keyed by logical id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provisioned {
    pub tables: HashMap<String, TableInfo>,
    pub queues: HashMap<String, QueueInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub name: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// Values of the pseudo parameters (`AWS::Region`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Pseudo {
    pub region: String,
    pub account_id: String,
}

/// The functions' environments after resolution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedEnvironment {
    /// construct id -> variables that resolved.
    pub functions: BTreeMap<String, BTreeMap<String, String>>,
    /// construct id -> variables left out (the stand-in sets some of them itself).
    pub unresolved: BTreeMap<String, Vec<String>>,
    /// Every resolved variable of every function (they agree, or resolution fails).
    pub shared: BTreeMap<String, String>,
}

impl Plan {
    pub fn from_file(path: &std::path::Path, prefix: &str) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, prefix)
    }

    pub fn from_json(text: &str, prefix: &str) -> Result<Self, TemplateError> {
        let template: Value = serde_json::from_str(text)?;
        Self::from_value(&template, prefix)
    }

    pub fn from_value(template: &Value, prefix: &str) -> Result<Self, TemplateError> {
        let resources = template
            .get("Resources")
            .and_then(Value::as_object)
            .ok_or(TemplateError::NoResources)?;
        let mut plan = Plan {
            tables: vec![],
            queues: vec![],
            functions: vec![],
            mappings: vec![],
        };
        let mut construct_ids: HashMap<(String, String), String> = HashMap::new();
        // Functions are deployed behind aliases (a gradual deployment moves the alias), and event
        // source mappings invoke the alias: alias logical id -> function logical id.
        let mut aliases: HashMap<String, String> = HashMap::new();
        for (logical_id, resource) in resources {
            let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default();
            if kind == ALIAS {
                let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
                match props.get("FunctionName").map(parse_expr) {
                    Some(Expr::Ref(function)) => aliases.insert(logical_id.clone(), function),
                    _ => {
                        return Err(resource_error(
                            logical_id,
                            ALIAS,
                            "FunctionName must be a Ref to a function of this template",
                        ));
                    }
                };
                continue;
            }
            if ![TABLE, QUEUE, FUNCTION, EVENT_SOURCE_MAPPING].contains(&kind) {
                continue;
            }
            let empty = Map::new();
            let props = resource.get("Properties").and_then(Value::as_object).unwrap_or(&empty);
            let construct_id = construct_id(logical_id, resource);
            if kind != EVENT_SOURCE_MAPPING
                && let Some(first) = construct_ids.insert((kind.to_string(), construct_id.clone()), logical_id.clone())
            {
                return Err(TemplateError::DuplicateConstructId {
                    construct_id,
                    first,
                    second: logical_id.clone(),
                });
            }
            match kind {
                TABLE => plan.tables.push(table(logical_id, construct_id, props, prefix)?),
                QUEUE => plan.queues.push(queue(logical_id, construct_id, props, prefix)?),
                FUNCTION => plan.functions.push(function(logical_id, construct_id, props)?),
                _ => plan.mappings.push(mapping(logical_id, props)?),
            }
        }
        // Check references now, so a bad template fails before anything is created.
        for queue in &plan.queues {
            if let Some(redrive) = &queue.redrive
                && !plan.queues.iter().any(|q| q.logical_id == redrive.dead_letter_queue)
            {
                return Err(resource_error(
                    &queue.logical_id,
                    QUEUE,
                    format!(
                        "RedrivePolicy names {}, which is not a queue of this template",
                        redrive.dead_letter_queue
                    ),
                ));
            }
        }
        for mapping in &mut plan.mappings {
            if let Some(function) = aliases.get(&mapping.function) {
                mapping.function = function.clone();
            }
            if !plan.queues.iter().any(|q| q.logical_id == mapping.queue) {
                return Err(resource_error(
                    &mapping.logical_id,
                    EVENT_SOURCE_MAPPING,
                    format!(
                        "EventSourceArn names {}, which is not a queue of this template",
                        mapping.queue
                    ),
                ));
            }
            if !plan.functions.iter().any(|f| f.logical_id == mapping.function) {
                return Err(resource_error(
                    &mapping.logical_id,
                    EVENT_SOURCE_MAPPING,
                    format!(
                        "FunctionName names {}, which is not a function of this template",
                        mapping.function
                    ),
                ));
            }
        }
        Ok(plan)
    }

    pub fn function(&self, construct_id: &str) -> Option<&FunctionSpec> {
        self.functions.iter().find(|f| f.construct_id == construct_id)
    }

    pub fn function_by_logical_id(&self, logical_id: &str) -> Option<&FunctionSpec> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }

    /// Resolves every function's environment against what was created.
    pub fn resolve_environment(
        &self,
        provisioned: &Provisioned,
        pseudo: &Pseudo,
    ) -> Result<ResolvedEnvironment, TemplateError> {
        let mut resolved = ResolvedEnvironment::default();
        // variable -> (function, value or None when unresolvable)
        let mut seen: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
        for function in &self.functions {
            let mut env = BTreeMap::new();
            let mut unresolved = vec![];
            for (name, expr) in &function.environment {
                let value = resolve(expr, provisioned, pseudo);
                match seen.get(name) {
                    Some((first_function, first)) if *first != value => {
                        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "<unresolvable>".into());
                        return Err(TemplateError::ConflictingEnvironment {
                            name: name.clone(),
                            first_function: first_function.clone(),
                            first: show(first),
                            second_function: function.construct_id.clone(),
                            second: show(&value),
                        });
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name.clone(), (function.construct_id.clone(), value.clone()));
                    }
                }
                match value {
                    Some(value) => {
                        resolved.shared.insert(name.clone(), value.clone());
                        env.insert(name.clone(), value);
                    }
                    None => unresolved.push(name.clone()),
                }
            }
            resolved.functions.insert(function.construct_id.clone(), env);
            if !unresolved.is_empty() {
                resolved.unresolved.insert(function.construct_id.clone(), unresolved);
            }
        }
        Ok(resolved)
    }
}

/// `Csms/StationsTable/Resource` -> `StationsTable`; nested paths keep their inner segments
/// (`Csms/A/B/Resource` -> `A/B`). Without metadata: the logical id less CDK's hash suffix.
pub fn construct_id(logical_id: &str, resource: &Value) -> String {
    let path = resource
        .get("Metadata")
        .and_then(|m| m.get("aws:cdk:path"))
        .and_then(Value::as_str);
    if let Some(path) = path {
        let segments: Vec<&str> = path.split('/').collect();
        let inner = match segments.as_slice() {
            [_stack, inner @ .., "Resource"] if !inner.is_empty() => inner,
            [_stack, inner @ ..] if !inner.is_empty() => inner,
            _ => &[][..],
        };
        if !inner.is_empty() {
            return inner.join("/");
        }
    }
    strip_cdk_hash(logical_id).to_string()
}

fn strip_cdk_hash(logical_id: &str) -> &str {
    let n = logical_id.len();
    if n > 8 {
        let (head, tail) = logical_id.split_at(n - 8);
        if tail.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            && tail.chars().any(|c| c.is_ascii_digit())
        {
            return head;
        }
    }
    logical_id
}

/// `<prefix>-<ConstructId>` with characters outside `[A-Za-z0-9_-]` turned into `-`.
pub fn local_name(prefix: &str, construct_id: &str) -> String {
    format!("{prefix}-{construct_id}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn key_schema(
    logical_id: &str,
    kind: &str,
    value: Option<&Value>,
    what: &str,
) -> Result<Vec<(String, String)>, TemplateError> {
    let items = value
        .and_then(Value::as_array)
        .ok_or_else(|| resource_error(logical_id, kind, format!("{what} is missing")))?;
    items
        .iter()
        .map(|item| {
            let name = item.get("AttributeName").and_then(Value::as_str);
            let key_type = item.get("KeyType").and_then(Value::as_str);
            match (name, key_type) {
                (Some(n), Some(t)) => Ok((n.to_string(), t.to_string())),
                _ => Err(resource_error(
                    logical_id,
                    kind,
                    format!("{what} entry {item} needs AttributeName and KeyType"),
                )),
            }
        })
        .collect()
}

fn indexes(logical_id: &str, value: Option<&Value>, what: &str) -> Result<Vec<IndexSpec>, TemplateError> {
    let Some(items) = value.and_then(Value::as_array) else {
        return Ok(vec![]);
    };
    items
        .iter()
        .map(|item| {
            let name = item
                .get("IndexName")
                .and_then(Value::as_str)
                .ok_or_else(|| resource_error(logical_id, TABLE, format!("{what} entry without IndexName")))?;
            let projection = item.get("Projection");
            Ok(IndexSpec {
                name: name.to_string(),
                key_schema: key_schema(
                    logical_id,
                    TABLE,
                    item.get("KeySchema"),
                    &format!("{what} {name} KeySchema"),
                )?,
                projection_type: projection
                    .and_then(|p| p.get("ProjectionType"))
                    .and_then(Value::as_str)
                    .unwrap_or("ALL")
                    .to_string(),
                non_key_attributes: projection
                    .and_then(|p| p.get("NonKeyAttributes"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn table(
    logical_id: &str,
    construct_id: String,
    props: &Map<String, Value>,
    prefix: &str,
) -> Result<TableSpec, TemplateError> {
    let attribute_definitions = props
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .ok_or_else(|| resource_error(logical_id, TABLE, "AttributeDefinitions is missing"))?
        .iter()
        .map(|item| {
            let name = item.get("AttributeName").and_then(Value::as_str);
            let t = item.get("AttributeType").and_then(Value::as_str);
            match (name, t) {
                (Some(n), Some(t)) => Ok((n.to_string(), t.to_string())),
                _ => Err(resource_error(
                    logical_id,
                    TABLE,
                    format!("AttributeDefinitions entry {item} needs AttributeName and AttributeType"),
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    let ttl = props.get("TimeToLiveSpecification");
    let ttl_enabled = ttl.and_then(|t| t.get("Enabled")).map(is_true).unwrap_or(false);
    Ok(TableSpec {
        logical_id: logical_id.to_string(),
        name: local_name(prefix, &construct_id),
        construct_id,
        key_schema: key_schema(logical_id, TABLE, props.get("KeySchema"), "KeySchema")?,
        attribute_definitions,
        global_secondary_indexes: indexes(
            logical_id,
            props.get("GlobalSecondaryIndexes"),
            "GlobalSecondaryIndexes",
        )?,
        local_secondary_indexes: indexes(logical_id, props.get("LocalSecondaryIndexes"), "LocalSecondaryIndexes")?,
        ttl_attribute: if ttl_enabled {
            ttl.and_then(|t| t.get("AttributeName"))
                .and_then(Value::as_str)
                .map(str::to_string)
        } else {
            None
        },
    })
}

/// CloudFormation accepts booleans as `true` or `"true"`.
fn is_true(value: &Value) -> bool {
    matches!(value, Value::Bool(true)) || value.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// A scalar property as SQS wants it (a string).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Queue properties copied to SQS attributes as they are.
const QUEUE_ATTRIBUTES: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoThroughputLimit",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
];

fn queue(
    logical_id: &str,
    construct_id: String,
    props: &Map<String, Value>,
    prefix: &str,
) -> Result<QueueSpec, TemplateError> {
    let fifo = props.get("FifoQueue").map(is_true).unwrap_or(false);
    let mut attributes = BTreeMap::new();
    if fifo {
        attributes.insert("FifoQueue".to_string(), "true".to_string());
    }
    for &name in QUEUE_ATTRIBUTES {
        if let Some(value) = props.get(name) {
            let value = scalar(value).ok_or_else(|| {
                resource_error(logical_id, QUEUE, format!("{name} must be a plain value, got {value}"))
            })?;
            attributes.insert(name.to_string(), value);
        }
    }
    let redrive = match props.get("RedrivePolicy") {
        None | Some(Value::Null) => None,
        Some(policy) => {
            let target = policy
                .get("deadLetterTargetArn")
                .ok_or_else(|| resource_error(logical_id, QUEUE, "RedrivePolicy has no deadLetterTargetArn"))?;
            let dead_letter_queue = match parse_expr(target) {
                Expr::GetAtt(id, attribute) if attribute == "Arn" => id,
                _ => {
                    return Err(resource_error(
                        logical_id,
                        QUEUE,
                        format!(
                            "RedrivePolicy.deadLetterTargetArn must be {{\"Fn::GetAtt\": [<queue>, \"Arn\"]}}, got {target}"
                        ),
                    ));
                }
            };
            let max_receive_count = policy
                .get("maxReceiveCount")
                .and_then(scalar)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    resource_error(
                        logical_id,
                        QUEUE,
                        "RedrivePolicy.maxReceiveCount must be a whole number",
                    )
                })?;
            Some(Redrive {
                dead_letter_queue,
                max_receive_count,
            })
        }
    };
    let mut name = local_name(prefix, &construct_id);
    if fifo {
        name.push_str(".fifo");
    }
    Ok(QueueSpec {
        logical_id: logical_id.to_string(),
        construct_id,
        name,
        fifo,
        attributes,
        redrive,
    })
}

fn function(logical_id: &str, construct_id: String, props: &Map<String, Value>) -> Result<FunctionSpec, TemplateError> {
    let mut environment = BTreeMap::new();
    if let Some(variables) = props.get("Environment").and_then(|e| e.get("Variables")) {
        let variables = variables
            .as_object()
            .ok_or_else(|| resource_error(logical_id, FUNCTION, "Environment.Variables must be an object"))?;
        for (name, value) in variables {
            environment.insert(name.clone(), parse_expr(value));
        }
    }
    let timeout_seconds = match props.get("Timeout") {
        None => 3,
        Some(value) => scalar(value).and_then(|s| s.parse().ok()).ok_or_else(|| {
            resource_error(
                logical_id,
                FUNCTION,
                format!("Timeout must be a whole number of seconds, got {value}"),
            )
        })?,
    };
    Ok(FunctionSpec {
        logical_id: logical_id.to_string(),
        construct_id,
        timeout_seconds,
        environment,
    })
}

fn mapping(logical_id: &str, props: &Map<String, Value>) -> Result<MappingSpec, TemplateError> {
    let source = props
        .get("EventSourceArn")
        .ok_or_else(|| resource_error(logical_id, EVENT_SOURCE_MAPPING, "EventSourceArn is missing"))?;
    let queue = match parse_expr(source) {
        Expr::GetAtt(id, attribute) if attribute == "Arn" => id,
        _ => {
            return Err(resource_error(
                logical_id,
                EVENT_SOURCE_MAPPING,
                format!("EventSourceArn must be {{\"Fn::GetAtt\": [<queue>, \"Arn\"]}}, got {source}"),
            ));
        }
    };
    let target = props
        .get("FunctionName")
        .ok_or_else(|| resource_error(logical_id, EVENT_SOURCE_MAPPING, "FunctionName is missing"))?;
    let function = match target_of(&parse_expr(target)) {
        Some(id) => id,
        None => {
            return Err(resource_error(
                logical_id,
                EVENT_SOURCE_MAPPING,
                format!("FunctionName must name a function or an alias of this template, got {target}"),
            ));
        }
    };
    let batch_size = match props.get("BatchSize") {
        // Lambda's default for SQS.
        None => 10,
        Some(value) => scalar(value)
            .and_then(|s| s.parse().ok())
            .filter(|&n: &u32| n >= 1)
            .ok_or_else(|| {
                resource_error(
                    logical_id,
                    EVENT_SOURCE_MAPPING,
                    format!("BatchSize must be a positive number, got {value}"),
                )
            })?,
    };
    let report_batch_item_failures = props
        .get("FunctionResponseTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("ReportBatchItemFailures")));
    let enabled = props
        .get("Enabled")
        .map(|v| !matches!(v, Value::Bool(false)) && v.as_str() != Some("false"))
        .unwrap_or(true);
    Ok(MappingSpec {
        logical_id: logical_id.to_string(),
        queue,
        function,
        batch_size,
        report_batch_item_failures,
        enabled,
    })
}

/// The function or alias a mapping's `FunctionName` names: a `Ref` or `GetAtt .Arn` of it, or
/// the name CDK builds for an alias, `<name part of Ref alias>:<alias>` (`Fn::Join` over
/// `Fn::Select`/`Fn::Split` of the alias' ARN).
fn target_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Ref(id) => Some(id.clone()),
        Expr::GetAtt(id, attribute) if attribute == "Arn" => Some(id.clone()),
        Expr::Join(_, parts) => {
            let named: Vec<String> = parts
                .iter()
                .filter_map(|part| match part {
                    Expr::Literal(_) => None,
                    Expr::Unsupported(raw) => referenced_logical_id(raw),
                    other => target_of(other),
                })
                .collect();
            match named.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The one resource `Ref`-ed inside an intrinsic the stand-in does not evaluate.
fn referenced_logical_id(raw: &str) -> Option<String> {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("Ref", Value::String(id)) if !id.starts_with("AWS::") => found.push(id.clone()),
                        _ => walk(inner, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let value: Value = serde_json::from_str(raw).ok()?;
    let mut found = vec![];
    walk(&value, &mut found);
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// Parses the intrinsics that environment variables use.
pub fn parse_expr(value: &Value) -> Expr {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Expr::Literal(scalar(value).unwrap_or_default()),
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next().expect("one entry");
            match (key.as_str(), arg) {
                ("Ref", Value::String(id)) => Expr::Ref(id.clone()),
                ("Fn::GetAtt", Value::Array(parts)) if parts.len() == 2 => {
                    match (parts[0].as_str(), parts[1].as_str()) {
                        (Some(id), Some(attribute)) => Expr::GetAtt(id.to_string(), attribute.to_string()),
                        _ => Expr::Unsupported(value.to_string()),
                    }
                }
                ("Fn::GetAtt", Value::String(dotted)) => match dotted.split_once('.') {
                    Some((id, attribute)) => Expr::GetAtt(id.to_string(), attribute.to_string()),
                    None => Expr::Unsupported(value.to_string()),
                },
                ("Fn::Join", Value::Array(parts)) if parts.len() == 2 => {
                    match (parts[0].as_str(), parts[1].as_array()) {
                        (Some(separator), Some(items)) => {
                            Expr::Join(separator.to_string(), items.iter().map(parse_expr).collect())
                        }
                        _ => Expr::Unsupported(value.to_string()),
                    }
                }
                _ => Expr::Unsupported(value.to_string()),
            }
        }
        _ => Expr::Unsupported(value.to_string()),
    }
}

/// The local value of an expression, or None when it names something that does not exist locally
/// (the WebSocket API, a function, an unknown attribute).
pub fn resolve(expr: &Expr, provisioned: &Provisioned, pseudo: &Pseudo) -> Option<String> {
    match expr {
        Expr::Literal(s) => Some(s.clone()),
        Expr::Ref(id) => match id.as_str() {
            "AWS::Region" => Some(pseudo.region.clone()),
            "AWS::AccountId" => Some(pseudo.account_id.clone()),
            "AWS::Partition" => Some("aws".into()),
            "AWS::URLSuffix" => Some("amazonaws.com".into()),
            _ => provisioned
                .tables
                .get(id)
                .map(|t| t.name.clone())
                .or_else(|| provisioned.queues.get(id).map(|q| q.url.clone())),
        },
        Expr::GetAtt(id, attribute) => {
            if let Some(table) = provisioned.tables.get(id) {
                return (attribute == "Arn").then(|| table.arn.clone());
            }
            let queue = provisioned.queues.get(id)?;
            match attribute.as_str() {
                "Arn" => Some(queue.arn.clone()),
                "QueueName" => Some(queue.name.clone()),
                "QueueUrl" => Some(queue.url.clone()),
                _ => None,
            }
        }
        Expr::Join(separator, parts) => {
            let parts: Option<Vec<String>> = parts.iter().map(|p| resolve(p, provisioned, pseudo)).collect();
            Some(parts?.join(separator))
        }
        Expr::Unsupported(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn construct_ids_come_from_the_cdk_path_or_the_logical_id() {
        let with_path = json!({"Metadata": {"aws:cdk:path": "Csms/StationsTable/Resource"}});
        assert_eq!(construct_id("StationsTable0A1B2C3D", &with_path), "StationsTable");
        let nested = json!({"Metadata": {"aws:cdk:path": "Csms/StatusFunction/SqsEventSource:X/Resource"}});
        assert_eq!(construct_id("L", &nested), "StatusFunction/SqsEventSource:X");
        assert_eq!(construct_id("StatusQueue7C3E2D1A", &json!({})), "StatusQueue");
        assert_eq!(construct_id("Plain", &json!({})), "Plain");
        assert_eq!(construct_id("ABCDEFGHIJKL", &json!({})), "ABCDEFGHIJKL");
    }

    #[test]
    fn local_names_are_sanitized() {
        assert_eq!(local_name("csms", "StationsTable"), "csms-StationsTable");
        assert_eq!(local_name("t1", "A/B:c"), "t1-A-B-c");
    }
}
