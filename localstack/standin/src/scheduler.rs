//! EventBridge Scheduler, locally. LocalStack's free edition (2026.3.0) answers the Scheduler API
//! but never fires a target (an `at()` schedule and a `rate(1 minute)` one left their SQS queue
//! empty, and the `at()` one was never deleted), so the stand-in serves the calls functions
//! make (`CreateSchedule`, `GetSchedule`, `DeleteSchedule`, restJson1 as the SDK speaks it) on a
//! loopback endpoint and fires each one-time schedule itself: at its time it sends the target's
//! `Input` to the target SQS queue (with the `MessageGroupId` of its `SqsParameters`), as the
//! scheduler does, retries a few times, then puts it in the dead-letter queue, and deletes the
//! schedule when `ActionAfterCompletion` is `DELETE`.
//!
//! What it does not do: recurring schedules (`rate()`, `cron()`), time zones other than UTC,
//! flexible windows, targets other than SQS, and persistence (schedules live as long as the
//! process).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// Attempts to deliver a fired schedule before it goes to the dead-letter queue.
const ATTEMPTS: u32 = 4;

struct Entry {
    body: Value,
    fires: JoinHandle<()>,
}

struct Shared {
    region: String,
    account_id: String,
    groups: HashSet<String>,
    /// Queue ARN -> URL, for targets and dead-letter queues.
    queues: HashMap<String, String>,
    sqs: aws_sdk_sqs::Client,
    schedules: Mutex<HashMap<(String, String), Entry>>,
}

/// The running scheduler.
pub struct LocalScheduler {
    pub url: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl LocalScheduler {
    /// Serves the Scheduler API on `listener` for `groups` (plus `default`).
    pub fn start(
        listener: tokio::net::TcpListener,
        groups: impl IntoIterator<Item = String>,
        queues: HashMap<String, String>,
        sqs: aws_sdk_sqs::Client,
        region: String,
        account_id: String,
    ) -> std::io::Result<Self> {
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            region,
            account_id,
            groups: groups.into_iter().chain(["default".to_owned()]).collect(),
            queues,
            sqs,
            schedules: Mutex::new(HashMap::new()),
        });
        let router = Router::new()
            .route("/schedules/{name}", post(create).get(get).delete(delete))
            .fallback(|| async { error(StatusCode::NOT_FOUND, "UnknownOperationException", "not served locally") })
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "local scheduler stopped");
            }
        });
        Ok(Self { url, shared, server })
    }

    /// Schedules that have not fired yet.
    pub fn pending(&self) -> usize {
        self.shared.schedules.lock().unwrap().len()
    }

    pub fn stop(self) {
        self.server.abort();
        for (_, entry) in self.shared.schedules.lock().unwrap().drain() {
            entry.fires.abort();
        }
    }
}

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let mut response = (status, Json(json!({"__type": kind, "Message": message.into()}))).into_response();
    if let Ok(value) = HeaderValue::from_str(kind) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-amzn-errortype"), value);
    }
    response
}

fn validation(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "ValidationException", message)
}

#[derive(Deserialize)]
struct GroupQuery {
    #[serde(rename = "groupName")]
    group_name: Option<String>,
}

/// The time of `at(yyyy-mm-ddThh:mm:ss)` in UTC.
fn at(expression: &str, timezone: Option<&str>) -> Result<DateTime<Utc>, String> {
    if !matches!(timezone, None | Some("UTC") | Some("Etc/UTC")) {
        return Err(format!("the local scheduler runs UTC schedules only, not {timezone:?}"));
    }
    let inner = expression
        .strip_prefix("at(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("the local scheduler runs one-time at() schedules only, not {expression:?}"))?;
    NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|e| format!("{expression:?}: {e}"))
}

async fn create(State(shared): State<Arc<Shared>>, Path(name): Path<String>, Json(body): Json<Value>) -> Response {
    let group = body["GroupName"].as_str().unwrap_or("default").to_owned();
    if !shared.groups.contains(&group) {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Schedule group {group} does not exist."),
        );
    }
    let when = match at(
        body["ScheduleExpression"].as_str().unwrap_or_default(),
        body["ScheduleExpressionTimezone"].as_str(),
    ) {
        Ok(when) => when,
        Err(why) => return validation(why),
    };
    let target = &body["Target"];
    let Some(queue_url) = target["Arn"].as_str().and_then(|arn| shared.queues.get(arn)).cloned() else {
        return validation(format!(
            "the local scheduler sends to this stack's SQS queues only, not {}",
            target["Arn"]
        ));
    };
    if target["RoleArn"].as_str().is_none_or(str::is_empty) {
        return validation("Target.RoleArn is required");
    }
    let key = (group.clone(), name.clone());
    let mut schedules = shared.schedules.lock().unwrap();
    if schedules.contains_key(&key) {
        return error(
            StatusCode::CONFLICT,
            "ConflictException",
            format!("Schedule {name} already exists."),
        );
    }
    let fires = tokio::spawn(fire(shared.clone(), key.clone(), when, queue_url, body.clone()));
    schedules.insert(key, Entry { body, fires });
    tracing::info!(schedule = %name, %group, at = %when, "schedule created");
    let arn = format!(
        "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
        shared.region, shared.account_id
    );
    Json(json!({ "ScheduleArn": arn })).into_response()
}

async fn get(State(shared): State<Arc<Shared>>, Path(name): Path<String>, Query(query): Query<GroupQuery>) -> Response {
    let group = query.group_name.unwrap_or_else(|| "default".into());
    let schedules = shared.schedules.lock().unwrap();
    match schedules.get(&(group.clone(), name.clone())) {
        Some(entry) => {
            let mut body = entry.body.clone();
            body["Name"] = json!(name);
            body["GroupName"] = json!(group);
            body["State"] = json!("ENABLED");
            body["Arn"] = json!(format!(
                "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
                shared.region, shared.account_id
            ));
            Json(body).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Schedule {name} does not exist."),
        ),
    }
}

async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<GroupQuery>,
) -> Response {
    let group = query.group_name.unwrap_or_else(|| "default".into());
    match shared.schedules.lock().unwrap().remove(&(group, name.clone())) {
        Some(entry) => {
            entry.fires.abort();
            tracing::info!(schedule = %name, "schedule deleted");
            Json(json!({})).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Schedule {name} does not exist."),
        ),
    }
}

/// Waits for the schedule's time, delivers its input, and deletes it when asked to.
async fn fire(shared: Arc<Shared>, key: (String, String), when: DateTime<Utc>, queue_url: String, body: Value) {
    let wait = (when - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait).await;
    let target = &body["Target"];
    let input = target["Input"].as_str().unwrap_or("{}").to_owned();
    let group = target["SqsParameters"]["MessageGroupId"].as_str().map(str::to_owned);
    let mut delivered = false;
    for attempt in 0..ATTEMPTS {
        let send = shared
            .sqs
            .send_message()
            .queue_url(&queue_url)
            .message_body(&input)
            .set_message_group_id(group.clone());
        match send.send().await {
            Ok(_) => {
                delivered = true;
                break;
            }
            Err(e) => {
                tracing::warn!(schedule = %key.1, attempt, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "schedule target failed");
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
        }
    }
    if delivered {
        tracing::info!(schedule = %key.1, "schedule fired");
    } else if let Some(dlq) = target["DeadLetterConfig"]["Arn"]
        .as_str()
        .and_then(|arn| shared.queues.get(arn))
    {
        let sent = shared
            .sqs
            .send_message()
            .queue_url(dlq)
            .message_body(&input)
            .send()
            .await;
        tracing::error!(schedule = %key.1, to_dead_letter_queue = sent.is_ok(), "schedule could not be delivered");
    }
    if body["ActionAfterCompletion"].as_str() == Some("DELETE") {
        shared.schedules.lock().unwrap().remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_time_utc_schedules_are_run() {
        assert_eq!(
            at("at(2026-12-04T20:39:12)", Some("UTC")).unwrap().to_rfc3339(),
            "2026-12-04T20:39:12+00:00"
        );
        assert!(at("at(2026-12-04T20:39:12)", None).is_ok());
        assert!(at("rate(1 minute)", None).is_err());
        assert!(at("at(2026-12-04T20:39:12)", Some("Europe/Paris")).is_err());
        assert!(at("at(tomorrow)", None).is_err());
    }
}
