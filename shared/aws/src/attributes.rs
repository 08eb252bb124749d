//! Reading and writing DynamoDB attribute maps.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
#[error("stored item has a missing or malformed attribute `{0}`")]
pub struct Malformed(pub &'static str);

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Timestamps are stored as fixed-width RFC 3339 (microseconds, `Z`) so that they sort as strings.
pub fn time(t: DateTime<Utc>) -> AttributeValue {
    AttributeValue::S(time_str(t))
}

pub fn time_str(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn get_s(item: &Item, name: &'static str) -> Result<String, Malformed> {
    opt_s(item, name).ok_or(Malformed(name))
}

pub fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn opt_f64(item: &Item, name: &str) -> Option<f64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

pub fn get_time(item: &Item, name: &'static str) -> Result<DateTime<Utc>, Malformed> {
    opt_time(item, name).ok_or(Malformed(name))
}

pub fn opt_time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    let raw = opt_s(item, name)?;
    DateTime::parse_from_rfc3339(&raw).ok().map(|t| t.with_timezone(&Utc))
}

pub fn opt_bool(item: &Item, name: &str) -> Option<bool> {
    item.get(name).and_then(|v| v.as_bool().ok()).copied()
}

/// Puts `value` under `name` when present.
pub fn put_opt(item: &mut Item, name: &str, value: Option<AttributeValue>) {
    if let Some(v) = value {
        item.insert(name.to_owned(), v);
    }
}
