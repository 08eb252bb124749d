//! Framing: every way a frame can be wrong, for both versions, and the frames we write.

use csms_ocpp::{Call, CallError, ErrorCode, Frame, OcppVersion, call_frame, call_result_frame, parse_frame};
use serde_json::{Value, json};

use OcppVersion::{V16, V201};

/// `input` must be refused with `code` (as the version spells it), answering message id `id`.
#[track_caller]
fn check(v: OcppVersion, input: &str, code: &str, id: &str) {
    let e = parse_frame(v, input).expect_err(input);
    assert_eq!(
        (e.code.as_str(v), e.message_id.as_str()),
        (code, id),
        "{v:?} {input}: {}",
        e.description
    );
    // The answer itself is a well-formed CALLERROR of the version.
    match parse_frame(v, &e.to_frame(v)) {
        Ok(Frame::CallError { code: wire, .. }) => assert_eq!(wire, code),
        other => panic!("bad CALLERROR frame for {input}: {other:?}"),
    }
}

const LONG_ID: &str = "0123456789012345678901234567890123456"; // 37 characters

#[test]
fn unreadable_frames() {
    // (input, 1.6 code, 2.0.1 code, id)
    let cases: &[(&str, &str, &str, &str)] = &[
        ("", "FormationViolation", "RpcFrameworkError", "-1"),
        ("not json", "FormationViolation", "RpcFrameworkError", "-1"),
        (
            "[2, \"a\", \"Heartbeat\", {}",
            "FormationViolation",
            "RpcFrameworkError",
            "-1",
        ),
        ("\u{0}\u{ff}", "FormationViolation", "RpcFrameworkError", "-1"),
        ("{\"a\": 1}", "FormationViolation", "RpcFrameworkError", "-1"),
        ("\"text\"", "FormationViolation", "RpcFrameworkError", "-1"),
        ("42", "FormationViolation", "RpcFrameworkError", "-1"),
        ("null", "FormationViolation", "RpcFrameworkError", "-1"),
        ("[]", "FormationViolation", "RpcFrameworkError", "-1"),
        (
            "[\"2\", \"a\", \"Heartbeat\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        ("[null, \"a\"]", "FormationViolation", "RpcFrameworkError", "a"),
        // message id unreadable: "-1"
        ("[2]", "FormationViolation", "RpcFrameworkError", "-1"),
        (
            "[2, 17, \"Heartbeat\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "-1",
        ),
        (
            "[2, null, \"Heartbeat\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "-1",
        ),
        (
            "[2, [\"a\"], \"Heartbeat\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "-1",
        ),
        ("[3, {}, {}]", "FormationViolation", "RpcFrameworkError", "-1"),
        // longer than 36 characters: unreadable as an id, and not echoed back
        (
            "[2, \"0123456789012345678901234567890123456\", \"Heartbeat\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "-1",
        ),
        // unknown MessageTypeId
        (
            "[5, \"a\", \"x\", \"y\", {}]",
            "FormationViolation",
            "MessageTypeNotSupported",
            "a",
        ),
        (
            "[6, \"a\", \"Heartbeat\", {}]",
            "FormationViolation",
            "MessageTypeNotSupported",
            "a",
        ),
        ("[0, \"a\"]", "FormationViolation", "MessageTypeNotSupported", "a"),
        (
            "[-2, \"a\", \"Heartbeat\", {}]",
            "FormationViolation",
            "MessageTypeNotSupported",
            "a",
        ),
        (
            "[2.5, \"a\", \"Heartbeat\", {}]",
            "FormationViolation",
            "MessageTypeNotSupported",
            "a",
        ),
        ("[1e400, 7]", "FormationViolation", "MessageTypeNotSupported", "-1"),
        (
            "[99999999999999999999999, \"a\"]",
            "FormationViolation",
            "MessageTypeNotSupported",
            "a",
        ),
        // wrong arity
        (
            "[2, \"a\", \"Heartbeat\"]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        (
            "[2, \"a\", \"Heartbeat\", {}, {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        ("[3, \"a\"]", "FormationViolation", "RpcFrameworkError", "a"),
        ("[3, \"a\", {}, {}]", "FormationViolation", "RpcFrameworkError", "a"),
        (
            "[4, \"a\", \"GenericError\", \"x\"]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        // wrong element types
        ("[2, \"a\", 7, {}]", "FormationViolation", "RpcFrameworkError", "a"),
        ("[2, \"a\", null, {}]", "FormationViolation", "RpcFrameworkError", "a"),
        (
            "[4, \"a\", 1, \"x\", {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        (
            "[4, \"a\", \"GenericError\", null, {}]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        (
            "[4, \"a\", \"GenericError\", \"x\", []]",
            "FormationViolation",
            "RpcFrameworkError",
            "a",
        ),
        // payload not an object
        (
            "[2, \"a\", \"Heartbeat\", []]",
            "FormationViolation",
            "FormatViolation",
            "a",
        ),
        (
            "[2, \"a\", \"Heartbeat\", null]",
            "FormationViolation",
            "FormatViolation",
            "a",
        ),
        (
            "[2, \"a\", \"Heartbeat\", \"{}\"]",
            "FormationViolation",
            "FormatViolation",
            "a",
        ),
        ("[3, \"a\", 1]", "FormationViolation", "FormatViolation", "a"),
    ];
    for (input, code16, code201, id) in cases {
        check(V16, input, code16, id);
        check(V201, input, code201, id);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!(
        "[2, \"a\", \"Heartbeat\", {}{}]",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    check(V201, &deep, "RpcFrameworkError", "-1");
    let deep = format!(
        "[2, \"a\", \"Heartbeat\", {{\"x\": {}1{}}}]",
        "[".repeat(200),
        "]".repeat(200)
    );
    check(V16, &deep, "FormationViolation", "-1");
}

#[test]
fn well_formed_frames() {
    for v in [V16, V201] {
        assert_eq!(
            parse_frame(v, r#"[2,"19223201","BootNotification",{"a":1}]"#).unwrap(),
            Frame::Call(Call {
                message_id: "19223201".into(),
                action: "BootNotification".into(),
                payload: json!({"a": 1}),
            })
        );
        assert_eq!(
            parse_frame(v, r#" [3, "x", {"status": "Accepted"}] "#).unwrap(),
            Frame::CallResult {
                message_id: "x".into(),
                payload: json!({"status": "Accepted"}),
            }
        );
        assert_eq!(
            parse_frame(v, r#"[4,"x","NotSupported","nope",{"k":[1]}]"#).unwrap(),
            Frame::CallError {
                message_id: "x".into(),
                code: "NotSupported".into(),
                description: "nope".into(),
                details: json!({"k": [1]}),
            }
        );
        // 36 characters exactly, non-ASCII counted as characters, empty id allowed
        let id36 = "é".repeat(36);
        let frame = format!(r#"[2,"{id36}","Heartbeat",{{}}]"#);
        assert_eq!(parse_frame(v, &frame).unwrap().message_id(), id36);
        assert_eq!(parse_frame(v, r#"[2,"","Heartbeat",{}]"#).unwrap().message_id(), "");
        assert!(parse_frame(v, &format!(r#"[2,"{LONG_ID}","Heartbeat",{{}}]"#)).is_err());
    }
}

#[test]
fn frames_we_write() {
    let result: Value = serde_json::from_str(&call_result_frame(
        "id-1",
        &json!({"currentTime": "2024-01-01T00:00:00Z"}),
    ))
    .unwrap();
    assert_eq!(result, json!([3, "id-1", {"currentTime": "2024-01-01T00:00:00Z"}]));

    let call: Value = serde_json::from_str(&call_frame("id-2", "Reset", &json!({"type": "Hard"}))).unwrap();
    assert_eq!(call, json!([2, "id-2", "Reset", {"type": "Hard"}]));

    // A response that is not an object still answers the CALL, with InternalError.
    let bad: Value = serde_json::from_str(&call_result_frame("id-3", &vec![1, 2])).unwrap();
    assert_eq!(bad[0], json!(4));
    assert_eq!(bad[1], json!("id-3"));
    assert_eq!(bad[2], json!("InternalError"));

    let e = CallError::new("id-4", ErrorCode::OccurrenceConstraintViolation, "x: missing");
    assert_eq!(
        e.to_frame(V16),
        r#"[4,"id-4","OccurenceConstraintViolation","x: missing",{}]"#
    );
    assert_eq!(
        e.to_frame(V201),
        r#"[4,"id-4","OccurenceConstraintViolation","x: missing",{}]"#
    );
    // Quotes and control characters in descriptions are escaped.
    let e = CallError::new("\"", ErrorCode::GenericError, "a\"b\n\u{0}");
    let back: Value = serde_json::from_str(&e.to_frame(V16)).unwrap();
    assert_eq!(back[3], json!("a\"b\n\u{0}"));
}

#[test]
fn subprotocols() {
    assert_eq!(V16.subprotocol(), "ocpp1.6");
    assert_eq!(V201.subprotocol(), "ocpp2.0.1");
    assert_eq!(OcppVersion::from_subprotocol("ocpp1.6"), Some(V16));
    assert_eq!(OcppVersion::from_subprotocol("ocpp2.0.1"), Some(V201));
    for other in ["ocpp2.0", "ocpp2.1", "OCPP1.6", "", "ocpp1.6 "] {
        assert_eq!(OcppVersion::from_subprotocol(other), None, "{other}");
    }
}
