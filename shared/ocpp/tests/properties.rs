//! Property tests: generated valid payloads decode; mutations earn the right code; no input panics.

mod common;

use common::{any_json, covered, exhaustive_examples, valid_object};
use csms_ocpp::schema::Schema;
use csms_ocpp::{Call, ErrorCode, Frame, OcppVersion, decode_request, is_known_action, parse_frame};
use proptest::prelude::*;
use serde_json::{Value, json};

fn call(action: &str, payload: Value) -> Call {
    Call {
        message_id: "p".into(),
        action: action.into(),
        payload,
    }
}

/// The invariants of any answer: a code of the version, a readable id, a well-formed CALLERROR,
/// and never InternalError (which would mean a schema that lets through what rust-ocpp refuses).
fn assert_sound(v: OcppVersion, e: &csms_ocpp::CallError) {
    assert!(ErrorCode::codes(v).contains(&e.code.as_str(v)));
    assert_ne!(e.code, ErrorCode::InternalError, "{}", e.description);
    assert!(e.message_id.chars().count() <= 36);
    assert!(e.description.chars().count() <= 255);
    assert!(matches!(parse_frame(v, &e.to_frame(v)), Ok(Frame::CallError { .. })));
}

#[test]
fn every_enum_value_and_bound_of_every_covered_action_decodes() {
    for (v, action, schema) in covered() {
        for payload in exhaustive_examples(schema) {
            if let Err(e) = decode_request(v, &call(action, payload.clone())) {
                panic!("{v:?} {action}: {} for {payload}", e.description);
            }
        }
    }
}

/// (version, action, schema, valid payload)
fn valid_call() -> impl Strategy<Value = (OcppVersion, &'static str, &'static csms_ocpp::schema::Object, Value)> {
    proptest::sample::select(covered())
        .prop_flat_map(|(v, action, schema)| valid_object(schema).prop_map(move |payload| (v, action, schema, payload)))
}

proptest! {
    // 512 cases each unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn valid_payloads_decode((v, action, _schema, payload) in valid_call()) {
        let decoded = decode_request(v, &call(action, payload.clone()));
        prop_assert!(decoded.is_ok(), "{:?} {} {}: {:?}", v, action, payload, decoded.err());
        prop_assert_eq!(decoded.unwrap().action(), action);
    }

    #[test]
    fn dropping_a_required_field_is_an_occurrence_violation(
        (v, action, schema, mut payload) in valid_call(), pick in any::<proptest::sample::Index>()
    ) {
        let required: Vec<_> = schema.fields.iter().filter(|f| f.required).collect();
        prop_assume!(!required.is_empty());
        let field = required[pick.index(required.len())];
        payload.as_object_mut().unwrap().remove(field.name);
        let e = decode_request(v, &call(action, payload)).unwrap_err();
        prop_assert_eq!(e.code, ErrorCode::OccurrenceConstraintViolation);
        prop_assert!(e.description.contains(field.name));
    }

    #[test]
    fn an_unknown_field_is_a_format_violation(
        (v, action, _schema, mut payload) in valid_call(), name in "[a-zA-Z]{1,12}"
    ) {
        let known = csms_ocpp::request_schema(v, action).unwrap().fields.iter().any(|f| f.name == name);
        prop_assume!(!known && name != "customData");
        payload.as_object_mut().unwrap().insert(name, json!(1));
        let e = decode_request(v, &call(action, payload)).unwrap_err();
        prop_assert_eq!(e.code, ErrorCode::FormatViolation);
    }

    #[test]
    fn a_wrongly_typed_field_is_a_type_violation(
        (v, action, schema, mut payload) in valid_call(), pick in any::<proptest::sample::Index>()
    ) {
        prop_assume!(!schema.fields.is_empty());
        let field = &schema.fields[pick.index(schema.fields.len())];
        let wrong = match field.schema {
            Schema::String { .. } | Schema::Enum(_) | Schema::DateTime => json!(12),
            Schema::Integer { .. } | Schema::Decimal { .. } | Schema::Boolean => json!("12"),
            Schema::Object(_) | Schema::CustomData => json!([]),
            Schema::Array(_) => json!({}),
        };
        payload.as_object_mut().unwrap().insert(field.name.into(), wrong);
        let e = decode_request(v, &call(action, payload)).unwrap_err();
        prop_assert_eq!(e.code, ErrorCode::TypeConstraintViolation, "{}", e.description);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}", v in prop_oneof![Just(OcppVersion::V16), Just(OcppVersion::V201)]) {
        match parse_frame(v, &text) {
            Ok(Frame::Call(c)) => {
                if let Err(e) = decode_request(v, &c) { assert_sound(v, &e) }
            }
            Ok(_) => {}
            Err(e) => assert_sound(v, &e),
        }
    }

    #[test]
    fn arbitrary_json_frames_never_panic(
        frame in prop_oneof![
            any_json(),
            (0u8..8, ".{0,40}", any_json(), any_json()).prop_map(|(t, id, a, b)| json!([t, id, a, b])),
        ],
        v in prop_oneof![Just(OcppVersion::V16), Just(OcppVersion::V201)],
    ) {
        match parse_frame(v, &frame.to_string()) {
            Ok(Frame::Call(c)) => {
                if let Err(e) = decode_request(v, &c) { assert_sound(v, &e) }
            }
            Ok(_) => {}
            Err(e) => assert_sound(v, &e),
        }
    }

    #[test]
    fn arbitrary_payloads_for_every_action_never_panic(
        v in prop_oneof![Just(OcppVersion::V16), Just(OcppVersion::V201)],
        action in prop_oneof![
            proptest::sample::select(covered().into_iter().map(|(_, a, _)| a).collect::<Vec<_>>()).prop_map(String::from),
            ".{0,30}",
        ],
        payload in any_json(),
    ) {
        match decode_request(v, &call(&action, payload)) {
            Ok(r) => prop_assert_eq!(r.action(), action),
            Err(e) => {
                assert_sound(v, &e);
                if !is_known_action(v, &action) {
                    prop_assert_eq!(e.code, ErrorCode::NotImplemented);
                }
            }
        }
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        (v, action, _schema, payload) in valid_call(),
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..4, any::<char>()), 1..6),
        replace in proptest::option::of((any::<proptest::sample::Index>(), any_json())),
    ) {
        let mut payload = payload;
        // Structural mutation: replace one value somewhere in the payload with an arbitrary one.
        if let Some((at, with)) = replace {
            let mut slots = Vec::new();
            collect_pointers(&payload, String::new(), &mut slots);
            let pointer = slots[at.index(slots.len())].clone();
            if let Some(slot) = payload.pointer_mut(&pointer) { *slot = with; }
        }
        // Textual mutation: delete, insert, duplicate or truncate at character positions.
        let mut text: Vec<char> = json!([2, "m-1", action, payload]).to_string().chars().collect();
        for (at, op, c) in edits {
            if text.is_empty() { break; }
            let i = at.index(text.len());
            match op {
                0 => { text.remove(i); }
                1 => text.insert(i, c),
                2 => { let d = text[i]; text.insert(i, d); }
                _ => text.truncate(i),
            }
        }
        let text: String = text.into_iter().collect();
        match parse_frame(v, &text) {
            Ok(Frame::Call(c)) => {
                if let Err(e) = decode_request(v, &c) { assert_sound(v, &e) }
            }
            Ok(_) => {}
            Err(e) => assert_sound(v, &e),
        }
    }
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
