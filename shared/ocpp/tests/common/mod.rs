//! Test helpers: proptest strategies that build payloads from the crate's own schemas.
#![allow(dead_code)] // each test binary uses a part

use csms_ocpp::schema::{Object, Schema};
use csms_ocpp::{OcppVersion, v16, v201};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Every covered action of each version, with its schema.
pub fn covered() -> Vec<(OcppVersion, &'static str, &'static Object)> {
    let mut all = Vec::new();
    for action in v16::COVERED {
        all.push((OcppVersion::V16, *action, v16::schema_for(action).unwrap()));
    }
    for action in v201::COVERED {
        all.push((OcppVersion::V201, *action, v201::schema_for(action).unwrap()));
    }
    all
}

/// Every command action of each version, with its request and response schemas.
pub fn commands() -> Vec<(OcppVersion, &'static str, &'static Object, &'static Object)> {
    let mut all = Vec::new();
    for v in [OcppVersion::V16, OcppVersion::V201] {
        for action in csms_ocpp::command_actions(v) {
            let (request, response) = match v {
                OcppVersion::V16 => v16::commands::schemas_for(action),
                OcppVersion::V201 => v201::commands::schemas_for(action),
            }
            .unwrap();
            all.push((v, *action, request, response));
        }
    }
    all
}

/// Valid payloads for `object`.
pub fn valid_object(object: &'static Object) -> BoxedStrategy<Value> {
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = object
        .fields
        .iter()
        .map(|f| {
            let name = f.name.to_owned();
            let value = valid(&f.schema).prop_map(move |v| (name.clone(), v));
            if f.required {
                value.prop_map(Some).boxed()
            } else {
                proptest::option::of(value).boxed()
            }
        })
        .collect();
    if object.custom_data {
        fields.push(proptest::option::weighted(0.2, custom_data().prop_map(|v| ("customData".into(), v))).boxed());
    }
    fields
        .prop_map(|entries| Value::Object(entries.into_iter().flatten().collect::<Map<_, _>>()))
        .boxed()
}

/// Valid values for `schema`.
pub fn valid(schema: &Schema) -> BoxedStrategy<Value> {
    match *schema {
        Schema::String { max_chars } => string_up_to(max_chars.unwrap_or(300)),
        Schema::Enum(values) => proptest::sample::select(values).prop_map(Value::from).boxed(),
        Schema::DateTime => date_time().prop_map(Value::from).boxed(),
        Schema::Integer { min, max } => prop_oneof![Just(min), Just(max), Just(0i64.clamp(min, max)), min..=max]
            .prop_map(Value::from)
            .boxed(),
        Schema::Decimal {
            max_fraction_digits: Some(digits),
        } => (any::<i32>(), 0..=digits)
            .prop_map(|(mantissa, scale)| {
                serde_json::from_str(&rust_decimal::Decimal::new(mantissa.into(), scale).to_string()).unwrap()
            })
            .boxed(),
        Schema::Decimal {
            max_fraction_digits: None,
        } => prop_oneof![
            any::<i32>().prop_map(Value::from),
            (-1.0e9f64..1.0e9).prop_map(Value::from),
            Just(serde_json::from_str::<Value>("12345.678").unwrap()),
        ]
        .boxed(),
        Schema::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        Schema::Object(object) => valid_object(object),
        Schema::Array(array) => {
            // Capped so that 2.0.1's nested 1024-item arrays (charging schedules) stay small.
            let max = array.max_items.unwrap_or(array.min_items + 3).min(array.min_items + 8);
            proptest::collection::vec(valid(&array.items), array.min_items..=max)
                .prop_map(Value::Array)
                .boxed()
        }
        Schema::CustomData => custom_data(),
    }
}

fn custom_data() -> BoxedStrategy<Value> {
    (string_up_to(255), proptest::option::of(any::<i64>()))
        .prop_map(|(vendor, extra)| {
            let mut m = Map::new();
            m.insert("vendorId".into(), vendor);
            if let Some(x) = extra {
                m.insert("vendorSpecific".into(), serde_json::json!({"nested": [x, "y"]}));
            }
            Value::Object(m)
        })
        .boxed()
}

/// Strings of 0..=max characters, often exactly `max`, with some non-ASCII.
pub fn string_up_to(max: usize) -> BoxedStrategy<Value> {
    let short = proptest::string::string_regex(&format!("[a-zA-Z0-9 é€-]{{0,{}}}", max.min(12))).unwrap();
    let exact =
        prop_oneof![Just('a'), Just('é'), Just('€')].prop_map(move |c| std::iter::repeat_n(c, max).collect::<String>());
    prop_oneof![3 => short, 1 => exact].prop_map(Value::from).boxed()
}

/// RFC 3339 date-times across the calendar, offsets and fractions.
pub fn date_time() -> BoxedStrategy<String> {
    (
        1u32..=9999,
        1u32..=12,
        1u32..=31,
        0u32..24,
        0u32..60,
        0u32..60,
        proptest::option::of("[0-9]{1,9}"),
        prop_oneof![
            Just("Z".to_owned()),
            (prop_oneof![Just('+'), Just('-')], 0u32..24, 0u32..60).prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
        ],
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, off)| {
            let dim = match mo {
                4 | 6 | 9 | 11 => 30,
                2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
                2 => 28,
                _ => 31,
            };
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{:02}T{h:02}:{mi:02}:{s:02}{frac}{off}", d.min(dim))
        })
        .boxed()
}

/// Any JSON value, nested a few levels.
pub fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        // Numbers as JSON writes them, huge and tiny ones included (kept exact as written).
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?"
            .prop_filter_map("a JSON number", |s| serde_json::from_str::<Value>(&s).ok()),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Deterministic valid payloads that together use every enumeration value, every optional field,
/// every string at its maximum length and every integer bound: variant `k` picks value `k` of each
/// enumeration (wrapping), and odd variants drop every optional field.
pub fn exhaustive_examples(object: &'static Object) -> Vec<Value> {
    let variants = widest_enum(&Schema::Object(object)).max(2);
    (0..variants).map(|k| example_object(object, k)).collect()
}

fn widest_enum(schema: &Schema) -> usize {
    match *schema {
        Schema::Enum(values) => values.len(),
        Schema::Object(o) => o.fields.iter().map(|f| widest_enum(&f.schema)).max().unwrap_or(0),
        Schema::Array(a) => widest_enum(&a.items),
        _ => 0,
    }
}

fn example_object(object: &'static Object, k: usize) -> Value {
    let mut map = Map::new();
    for f in object.fields {
        // Drop optional fields in every third variant, keep them otherwise.
        if f.required || k % 3 != 1 {
            map.insert(f.name.into(), example(&f.schema, k));
        }
    }
    if object.custom_data && k.is_multiple_of(2) {
        map.insert(
            "customData".into(),
            serde_json::json!({"vendorId": "com.example", "x": {"y": [1]}}),
        );
    }
    Value::Object(map)
}

fn example(schema: &Schema, k: usize) -> Value {
    match *schema {
        Schema::String { max_chars } => {
            let c = ['a', 'é', '€'][k % 3];
            Value::from(std::iter::repeat_n(c, max_chars.unwrap_or(1000)).collect::<String>())
        }
        Schema::Enum(values) => Value::from(values[k % values.len()]),
        Schema::DateTime => Value::from(
            [
                "2024-02-29T23:59:59.999Z",
                "1999-12-31T00:00:00+14:00",
                "2030-06-15t12:30:45.1-05:30",
            ][k % 3],
        ),
        Schema::Integer { min, max } => Value::from([min, max, 0i64.clamp(min, max)][k % 3]),
        Schema::Decimal {
            max_fraction_digits: None,
        } => serde_json::from_str(["12345.678", "-0.001", "7.2e3", "0"][k % 4]).unwrap(),
        Schema::Decimal {
            max_fraction_digits: Some(_),
        } => serde_json::from_str(["12345.6", "-0.1", "7.2e3", "0"][k % 4]).unwrap(),
        Schema::Boolean => Value::from(k.is_multiple_of(2)),
        Schema::Object(o) => example_object(o, k),
        Schema::Array(a) => {
            let n = a.max_items.unwrap_or(2).max(a.min_items).clamp(1, 4);
            Value::Array((0..n).map(|i| example(&a.items, k + i)).collect())
        }
        Schema::CustomData => serde_json::json!({"vendorId": "com.example"}),
    }
}
