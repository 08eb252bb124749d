//! A small schema language for OCPP payloads, and its validator.
//!
//! The 1.6 and 2.0.1 messages are described with it in [`crate::v16::schemas`],
//! [`crate::v201::schemas`] and, for the remote commands, [`crate::v16::commands`] and
//! [`crate::v201::commands`], written from the specs' field tables (and checked against the OCA JSON
//! schemas by `tests/conformance/`). It covers exactly what those schemas use: strings with a
//! maximum length, enumerations, RFC 3339 date-times, integers (with `minimum`), decimals (with 1.6's
//! `multipleOf: 0.1`), booleans, closed objects (`additionalProperties: false`), arrays with item
//! bounds and 2.0.1's open `customData` object.
//!
//! Each violation maps to one CALLERROR kind:
//!
//! | violation | kind |
//! | --- | --- |
//! | payload not an object; a property the schema does not define | FormatViolation |
//! | a required property missing | OccurrenceConstraintViolation |
//! | wrong JSON type (including `null`, and a number with a fraction where an integer is due) | TypeConstraintViolation |
//! | string too long, value not in the enumeration, date-time unreadable, integer or decimal out of range, too many fraction digits, too few / too many array items | PropertyConstraintViolation |
//!
//! Unknown properties are a FormatViolation because the OCA schemas close every object
//! (`additionalProperties: false`), so such a payload "does not conform to the PDU structure"
//! (OCPP-J 1.6 FormationViolation) / "is syntactically incorrect" (OCPP 2.0.1 FormatViolation),
//! while the three constraint violations presuppose a payload that is "syntactically correct".
//! That is also why, within an object, unknown properties are looked for first, then missing
//! required ones, then each property in the order of the schema; the first violation found wins.
//!
//! Integers and decimals are also bounded by what the rust-ocpp types can hold (`u32`, `i32`,
//! `rust_decimal::Decimal`): a value the schema allows but the type cannot hold is a
//! PropertyConstraintViolation ("integer out of range"), never a failure after validation.
//!
//! The validator only descends where the schema does, so its recursion depth is bounded by the
//! schema's (a handful of levels), whatever the input.

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{ErrorCode, truncate};
use crate::frame::json_type;

/// How the schema's JSON Schema draft reads `"type": "integer"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// draft-04 (the 1.6 schemas): an integer is a number written without fraction or exponent.
    Draft4,
    /// draft-06 (the 2.0.1 schemas): any number whose value is integral (`1.0`, `1e2`). Such
    /// values are rewritten as plain integers before deserializing.
    Draft6,
}

/// The schema of one JSON value.
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// A string of at most `max_chars` characters (Unicode scalar values), or any length.
    String {
        max_chars: Option<usize>,
    },
    /// A string from a fixed list.
    Enum(&'static [&'static str]),
    /// An RFC 3339 date-time string (`format: date-time`).
    DateTime,
    /// An integer in `min..=max` (the range of the Rust type it lands in).
    Integer {
        min: i64,
        max: i64,
    },
    /// A number that fits `rust_decimal::Decimal`, with at most `max_fraction_digits` digits after
    /// the point when set (1.6's "at most one digit fraction", `multipleOf: 0.1` in its schemas).
    /// The digits are counted exactly on the number as written (`1.50` and `2e-1` have one), not
    /// on a binary float, where 0.3 is no multiple of 0.1.
    Decimal {
        max_fraction_digits: Option<u32>,
    },
    Boolean,
    Object(&'static Object),
    Array(&'static Array),
    /// OCPP 2.0.1 `CustomDataType`: an open object with a required `vendorId` (string, <= 255).
    CustomData,
}

/// A closed object: only the listed properties (plus `customData` where allowed) may appear.
#[derive(Debug)]
pub struct Object {
    pub fields: &'static [Field],
    /// Whether the optional 2.0.1 `customData` property is allowed.
    pub custom_data: bool,
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub schema: Schema,
}

#[derive(Debug)]
pub struct Array {
    pub items: Schema,
    pub min_items: usize,
    pub max_items: Option<usize>,
}

/// `maxLength` of 2.0.1 `CustomDataType.vendorId`.
pub const CUSTOM_DATA_VENDOR_ID_CHARS: usize = 255;

// Building blocks, so that a message reads like its field table.

pub const fn string(max_chars: usize) -> Schema {
    Schema::String {
        max_chars: Some(max_chars),
    }
}
/// A string without a maximum length.
pub const TEXT: Schema = Schema::String { max_chars: None };
pub const fn one_of(values: &'static [&'static str]) -> Schema {
    Schema::Enum(values)
}
pub const DATE_TIME: Schema = Schema::DateTime;
/// An integer landing in an `i32`.
pub const I32: Schema = Schema::Integer {
    min: i32::MIN as i64,
    max: i32::MAX as i64,
};
/// An integer landing in a `u32`.
pub const U32: Schema = Schema::Integer {
    min: 0,
    max: u32::MAX as i64,
};
pub const DECIMAL: Schema = Schema::Decimal {
    max_fraction_digits: None,
};
/// A decimal with at most `digits` digits after the point.
pub const fn decimal_places(digits: u32) -> Schema {
    Schema::Decimal {
        max_fraction_digits: Some(digits),
    }
}
/// An integer in `min..=max`, for a schema's `minimum` (and the Rust type's bounds).
pub const fn integer(min: i64, max: i64) -> Schema {
    Schema::Integer { min, max }
}
pub const BOOLEAN: Schema = Schema::Boolean;
pub const fn object(o: &'static Object) -> Schema {
    Schema::Object(o)
}
/// An array of at least `min_items` items.
pub const fn array_of(a: &'static Array) -> Schema {
    Schema::Array(a)
}
pub const fn required(name: &'static str, schema: Schema) -> Field {
    Field {
        name,
        required: true,
        schema,
    }
}
pub const fn optional(name: &'static str, schema: Schema) -> Field {
    Field {
        name,
        required: false,
        schema,
    }
}

/// Why a payload does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: ErrorCode,
    /// Where: `meterValue[0].sampledValue[1].unit`; empty for the payload itself.
    pub path: String,
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() { "payload" } else { &self.path };
        write!(f, "{at}: {}", self.reason)
    }
}

/// Checks `payload` against `root`. In [`Dialect::Draft6`] integral numbers written with a
/// fraction or exponent are rewritten in place as plain integers, ready for deserializing.
pub fn validate(root: &Object, payload: &mut Value, dialect: Dialect) -> Result<(), Violation> {
    let at = Path::Root;
    match payload {
        Value::Object(map) => check_object(root, map, &at, dialect),
        other => Err(at.violation(
            ErrorCode::FormatViolation,
            format!("must be a JSON object, found {}", json_type(other)),
        )),
    }
}

/// Where the validator is, kept on the stack and rendered only for a violation.
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn violation(&self, code: ErrorCode, reason: String) -> Violation {
        Violation {
            code,
            path: self.to_string(),
            reason,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => write!(f, "{name}"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn check_object(
    schema: &Object,
    map: &mut Map<String, Value>,
    at: &Path<'_>,
    dialect: Dialect,
) -> Result<(), Violation> {
    let allowed =
        |key: &str| schema.fields.iter().any(|f| f.name == key) || (schema.custom_data && key == "customData");
    if let Some(unknown) = map.keys().find(|k| !allowed(k)) {
        let name = truncate(unknown, 40);
        return Err(Path::Field(at, &name).violation(
            ErrorCode::FormatViolation,
            "property is not defined for this message (additional properties are not allowed)".into(),
        ));
    }
    if let Some(missing) = schema.fields.iter().find(|f| f.required && !map.contains_key(f.name)) {
        return Err(Path::Field(at, missing.name).violation(
            ErrorCode::OccurrenceConstraintViolation,
            "required property is missing".into(),
        ));
    }
    if schema.custom_data
        && let Some(value) = map.get_mut("customData")
    {
        check(&Schema::CustomData, value, &Path::Field(at, "customData"), dialect)?;
    }
    for field in schema.fields {
        if let Some(value) = map.get_mut(field.name) {
            check(&field.schema, value, &Path::Field(at, field.name), dialect)?;
        }
    }
    Ok(())
}

fn check(schema: &Schema, value: &mut Value, at: &Path<'_>, dialect: Dialect) -> Result<(), Violation> {
    let wrong_type = |expected: &str, found: &Value| {
        at.violation(
            ErrorCode::TypeConstraintViolation,
            format!("expected {expected}, found {}", json_type(found)),
        )
    };
    let bad_value = |reason: String| at.violation(ErrorCode::PropertyConstraintViolation, reason);
    match (schema, value) {
        (Schema::String { max_chars }, Value::String(s)) => match max_chars {
            Some(max) if s.chars().count() > *max => Err(bad_value(format!("longer than {max} characters"))),
            _ => Ok(()),
        },
        (Schema::String { .. }, other) => Err(wrong_type("a string", other)),

        (Schema::Enum(values), Value::String(s)) if values.contains(&s.as_str()) => Ok(()),
        (Schema::Enum(_), Value::String(s)) => Err(bad_value(format!(
            "\"{}\" is not one of the values allowed",
            truncate(s, 40)
        ))),
        (Schema::Enum(_), other) => Err(wrong_type("a string", other)),

        (Schema::DateTime, Value::String(s)) if is_date_time(s) => Ok(()),
        (Schema::DateTime, Value::String(s)) => Err(bad_value(format!(
            "\"{}\" is not an RFC 3339 date-time",
            truncate(s, 40)
        ))),
        (Schema::DateTime, other) => Err(wrong_type("a date-time string", other)),

        (Schema::Integer { min, max }, value @ Value::Number(_)) => {
            let Value::Number(n) = &*value else {
                unreachable!("matched a number")
            };
            let text = n.to_string();
            match integer_value(&text, dialect) {
                Integral::No => Err(at.violation(
                    ErrorCode::TypeConstraintViolation,
                    format!("expected an integer, found {}", truncate(&text, 40)),
                )),
                Integral::Yes(Some(i)) if (*min..=*max).contains(&i) => {
                    if !is_integer_token(&text) {
                        *value = Value::from(i); // 2.0 -> 2, for rust-ocpp's integer fields
                    }
                    Ok(())
                }
                Integral::Yes(_) => Err(bad_value(format!(
                    "{} is out of range {min}..={max}",
                    truncate(&text, 40)
                ))),
            }
        }
        (Schema::Integer { .. }, other) => Err(wrong_type("an integer", other)),

        (Schema::Decimal { max_fraction_digits }, value @ Value::Number(_)) => {
            let text = value.to_string();
            if let Some(max) = max_fraction_digits
                && fraction_digits(&text) > u64::from(*max)
            {
                Err(bad_value(format!(
                    "{} has more than {max} digit(s) after the decimal point",
                    truncate(&text, 40)
                )))
            } else if rust_decimal::serde::arbitrary_precision::deserialize(&*value).is_ok() {
                Ok(())
            } else {
                Err(bad_value(format!(
                    "{} does not fit a decimal (magnitude below 7.9e28, at most 28 decimal places)",
                    truncate(&value.to_string(), 40)
                )))
            }
        }
        (Schema::Decimal { .. }, other) => Err(wrong_type("a number", other)),

        (Schema::Boolean, Value::Bool(_)) => Ok(()),
        (Schema::Boolean, other) => Err(wrong_type("a boolean", other)),

        (Schema::Object(object), Value::Object(map)) => check_object(object, map, at, dialect),
        (Schema::Object(_), other) => Err(wrong_type("an object", other)),

        (Schema::Array(array), Value::Array(items)) => {
            if items.len() < array.min_items {
                return Err(bad_value(format!(
                    "has {} items, at least {} required",
                    items.len(),
                    array.min_items
                )));
            }
            if let Some(max) = array.max_items
                && items.len() > max
            {
                return Err(bad_value(format!("has {} items, at most {max} allowed", items.len())));
            }
            for (i, item) in items.iter_mut().enumerate() {
                check(&array.items, item, &Path::Index(at, i), dialect)?;
            }
            Ok(())
        }
        (Schema::Array(_), other) => Err(wrong_type("an array", other)),

        (Schema::CustomData, Value::Object(map)) => match map.get("vendorId") {
            None => Err(Path::Field(at, "vendorId").violation(
                ErrorCode::OccurrenceConstraintViolation,
                "required property is missing".into(),
            )),
            Some(vendor_id) => {
                let mut vendor_id = vendor_id.clone();
                check(
                    &string(CUSTOM_DATA_VENDOR_ID_CHARS),
                    &mut vendor_id,
                    &Path::Field(at, "vendorId"),
                    dialect,
                )
            }
        },
        (Schema::CustomData, other) => Err(wrong_type("an object", other)),
    }
}

enum Integral {
    No,
    /// Integral; `None` when beyond `i64`.
    Yes(Option<i64>),
}

/// Whether a JSON number (as written) is an integer for `dialect`, and its value.
fn integer_value(text: &str, dialect: Dialect) -> Integral {
    if is_integer_token(text) {
        return Integral::Yes(text.parse::<i64>().ok());
    }
    match dialect {
        Dialect::Draft4 => Integral::No,
        Dialect::Draft6 => match text.parse::<f64>() {
            Ok(f) if f.is_finite() && f.fract() == 0.0 => {
                // Exact for |f| < 2^63; beyond that the value is out of every range we use.
                let in_i64 = f >= -(2f64.powi(63)) && f < 2f64.powi(63);
                Integral::Yes(in_i64.then_some(f as i64))
            }
            _ => Integral::No,
        },
    }
}

/// How many digits after the decimal point the JSON number `text` needs, exactly: `1.50` -> 1,
/// `25e-2` -> 2, `1e3` -> 0. Saturates for absurd exponents instead of overflowing.
fn fraction_digits(text: &str) -> u64 {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (
            &unsigned[..i],
            unsigned[i + 1..].parse::<i64>().unwrap_or_else(|_| {
                // Beyond i64: a huge positive exponent has no fraction, a huge negative one has many.
                if unsigned[i + 1..].starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                }
            }),
        ),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let significant = format!("{int_part}{frac_part}");
    let trailing_zeros = significant.len() - significant.trim_end_matches('0').len();
    if trailing_zeros == significant.len() {
        return 0; // zero
    }
    let places = i128::try_from(frac_part.len()).unwrap_or(i128::MAX)
        - i128::from(exponent)
        - i128::try_from(trailing_zeros).unwrap_or(i128::MAX);
    u64::try_from(places.max(0)).unwrap_or(u64::MAX)
}

/// `-?[0-9]+`: how JSON writes an integer without fraction or exponent.
fn is_integer_token(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// RFC 3339 `date-time` (section 5.6), as JSON Schema's `format: date-time` reads it:
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, `T` and `Z` in either case, a real calendar
/// day, no leap second (as the Python `jsonschema` checker the conformance test compares with), and
/// readable by chrono, which rust-ocpp uses to deserialize it.
pub fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) =
        (num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2))
    else {
        return false;
    };
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += 1 + digits;
    }
    let offset_ok = if at(i, b"Zz") {
        i + 1 == b.len()
    } else if at(i, b"+-") {
        let (Some(oh), Some(om)) = (num(i + 1, 2), num(i + 4, 2)) else {
            return false;
        };
        at(i + 3, b":") && i + 6 == b.len() && oh <= 23 && om <= 59
    } else {
        false
    };
    offset_ok
        && year > 0
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && s.parse::<chrono::DateTime<chrono::Utc>>().is_ok()
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static INNER: Object = Object {
        fields: &[required("n", I32), optional("flag", BOOLEAN)],
        custom_data: true,
    };
    static ROOT: Object = Object {
        fields: &[
            required("name", string(5)),
            optional("kind", one_of(&["A", "B"])),
            optional("at", DATE_TIME),
            optional("count", U32),
            optional("amount", DECIMAL),
            optional("limit", decimal_places(1)),
            optional("level", integer(0, i32::MAX as i64)),
            optional(
                "items",
                array_of(&Array {
                    items: object(&INNER),
                    min_items: 1,
                    max_items: Some(2),
                }),
            ),
        ],
        custom_data: false,
    };

    fn check(mut payload: Value, dialect: Dialect) -> Result<Value, (ErrorCode, String)> {
        validate(&ROOT, &mut payload, dialect)
            .map(|()| payload)
            .map_err(|v| (v.code, v.to_string()))
    }

    fn code(payload: Value) -> Option<ErrorCode> {
        check(payload, Dialect::Draft4).err().map(|(c, _)| c)
    }

    #[test]
    fn each_violation_has_its_code_and_names_the_field() {
        use ErrorCode::*;
        let cases = [
            (json!({"name": "abc"}), None),
            (json!([]), Some(FormatViolation)),
            (json!({"name": "abc", "other": 1}), Some(FormatViolation)),
            (json!({}), Some(OccurrenceConstraintViolation)),
            (json!({"name": null}), Some(TypeConstraintViolation)),
            (json!({"name": 5}), Some(TypeConstraintViolation)),
            (json!({"name": "abcdef"}), Some(PropertyConstraintViolation)),
            (json!({"name": "ééééé"}), None),
            (json!({"name": "a", "kind": "C"}), Some(PropertyConstraintViolation)),
            (json!({"name": "a", "kind": 1}), Some(TypeConstraintViolation)),
            (
                json!({"name": "a", "at": "2024-02-30T00:00:00Z"}),
                Some(PropertyConstraintViolation),
            ),
            (json!({"name": "a", "count": -1}), Some(PropertyConstraintViolation)),
            (
                json!({"name": "a", "count": 4294967296u64}),
                Some(PropertyConstraintViolation),
            ),
            (json!({"name": "a", "count": "1"}), Some(TypeConstraintViolation)),
            (json!({"name": "a", "count": 1.5}), Some(TypeConstraintViolation)),
            (json!({"name": "a", "amount": "1.5"}), Some(TypeConstraintViolation)),
            (json!({"name": "a", "amount": 1.5}), None),
            (json!({"name": "a", "items": []}), Some(PropertyConstraintViolation)),
            (
                json!({"name": "a", "items": [{"n": 1}, {"n": 2}, {"n": 3}]}),
                Some(PropertyConstraintViolation),
            ),
            (json!({"name": "a", "items": [{}]}), Some(OccurrenceConstraintViolation)),
            (
                json!({"name": "a", "items": [{"n": 1, "customData": {"vendorId": "x", "any": [1]}}]}),
                None,
            ),
            (
                json!({"name": "a", "items": [{"n": 1, "customData": {}}]}),
                Some(OccurrenceConstraintViolation),
            ),
            (
                json!({"name": "a", "items": [{"n": 1, "customData": {"vendorId": 7}}]}),
                Some(TypeConstraintViolation),
            ),
            (
                json!({"name": "a", "customData": {"vendorId": "x"}}),
                Some(FormatViolation),
            ),
        ];
        for (payload, expected) in cases {
            assert_eq!(code(payload.clone()), expected, "{payload}");
        }
        let (_, description) =
            check(json!({"name": "a", "items": [{"n": 1}, {"n": "x"}]}), Dialect::Draft4).unwrap_err();
        assert_eq!(description, "items[1].n: expected an integer, found a string");
    }

    #[test]
    fn fraction_digits_are_counted_exactly_as_written() {
        let parse = |text: &str| serde_json::from_str::<Value>(&format!(r#"{{"name":"a","limit":{text}}}"#)).unwrap();
        for ok in [
            "0", "-0.0", "7", "0.3", "21.4", "1.50", "2e-1", "25E-1", "1.2e+3", "100e-2", "-3.1", "1e20",
        ] {
            assert_eq!(code(parse(ok)), None, "{ok}");
        }
        for bad in [
            "1.25",
            "0.05",
            "2e-2",
            "0.30000000000000004",
            "1e-40",
            "-0.01",
            "123456789.123",
        ] {
            assert_eq!(code(parse(bad)), Some(ErrorCode::PropertyConstraintViolation), "{bad}");
        }
        let (_, description) = check(parse("8.25"), Dialect::Draft4).unwrap_err();
        assert_eq!(
            description,
            "limit: 8.25 has more than 1 digit(s) after the decimal point"
        );
        // Beyond Decimal whatever its digits; absurd exponents neither overflow nor panic.
        for bad in ["1e30", "1e99999999999999999999", "1e-99999999999999999999"] {
            assert_eq!(code(parse(bad)), Some(ErrorCode::PropertyConstraintViolation), "{bad}");
        }
        assert_eq!(fraction_digits("1e-9223372036854775808"), 9223372036854775808);
        assert_eq!(fraction_digits("0e-99999999999999999999"), 0);
    }

    #[test]
    fn integer_minimum() {
        assert_eq!(code(json!({"name": "a", "level": 0})), None);
        assert_eq!(
            code(json!({"name": "a", "level": -1})),
            Some(ErrorCode::PropertyConstraintViolation)
        );
    }

    #[test]
    fn unknown_properties_are_reported_before_missing_ones() {
        assert_eq!(code(json!({"nam": "a"})), Some(ErrorCode::FormatViolation));
    }

    #[test]
    fn huge_numbers_are_out_of_range_not_a_crash() {
        let huge = serde_json::from_str::<Value>(&format!(r#"{{"name":"a","count":{}}}"#, "9".repeat(400))).unwrap();
        assert_eq!(code(huge), Some(ErrorCode::PropertyConstraintViolation));
        let huge = serde_json::from_str::<Value>(r#"{"name":"a","amount":1e400}"#).unwrap();
        assert_eq!(code(huge), Some(ErrorCode::PropertyConstraintViolation));
        let tiny = serde_json::from_str::<Value>(r#"{"name":"a","amount":1e-400}"#).unwrap();
        let _ = code(tiny); // either verdict, but no panic
    }

    #[test]
    fn draft6_reads_integral_numbers_as_integers_and_normalizes_them() {
        let payload = serde_json::from_str::<Value>(r#"{"name":"a","count":2.0,"items":[{"n":-1e2}]}"#).unwrap();
        assert_eq!(code(payload.clone()), Some(ErrorCode::TypeConstraintViolation));
        let normalized = check(payload, Dialect::Draft6).unwrap();
        assert_eq!(normalized["count"], json!(2));
        assert_eq!(normalized["items"][0]["n"], json!(-100));
        let bad = serde_json::from_str::<Value>(r#"{"name":"a","count":2.5}"#).unwrap();
        assert_eq!(
            check(bad, Dialect::Draft6).unwrap_err().0,
            ErrorCode::TypeConstraintViolation
        );
        let bad = serde_json::from_str::<Value>(r#"{"name":"a","count":1e300}"#).unwrap();
        assert_eq!(
            check(bad, Dialect::Draft6).unwrap_err().0,
            ErrorCode::PropertyConstraintViolation
        );
    }

    #[test]
    fn date_times() {
        for ok in [
            "2024-02-29T23:59:59Z",
            "2024-01-01T00:00:00.123456789+05:30",
            "2024-01-01t00:00:00z",
            "2024-01-01T00:00:00-23:59",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.1Z",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01 00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+2400",
            "2024-01-01T00:00:00+24:00",
            "0000-01-01T00:00:00Z",
            "2024-01-01T00:00:00Zjunk",
            "２０２４-01-01T00:00:00Z",
            "2024-01-01T00:00:00.１Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
