//! Drives the payload validators from other languages (the differential conformance test).
//!
//! Reads JSON lines `{"version":"ocpp1.6","action":"BootNotification","payload":{...}}` on stdin and
//! prints one JSON line per input: `{"ok":true}` or `{"ok":false,"code":"...","description":"..."}`
//! (the code as the version spells it). An optional `"kind"` picks the validator: `"request"` (the
//! default) is `decode_request`, a pile's CALL; `"commandRequest"` / `"commandResponse"` are
//! `validate_command_request` / `validate_command_response`, a remote command the CSMS sends and the
//! pile's CALLRESULT to it. A line that is not such an object gets
//! `{"ok":false,"code":"BadInput","description":"..."}`, so outputs stay aligned with inputs.
//!
//! `ocpp-validate --covered` prints the actions decoded into typed requests instead:
//! `{"ocpp1.6":["Authorize",...],"ocpp2.0.1":[...]}`; `--known` every action the versions define;
//! `--commands` the remote commands (`command_actions`).

use std::io::{self, BufRead, BufWriter, Write};

use csms_ocpp::{
    Call, OcppVersion, command_actions, decode_request, v16, v201, validate_command_request, validate_command_response,
};
use serde_json::{Value, json};

fn answer(line: &str) -> Value {
    let bad_input = |why: &str| json!({"ok": false, "code": "BadInput", "description": why});
    let Ok(input) = serde_json::from_str::<Value>(line) else {
        return bad_input("line is not JSON");
    };
    let Some(version) = input["version"].as_str().and_then(OcppVersion::from_subprotocol) else {
        return bad_input("version must be \"ocpp1.6\" or \"ocpp2.0.1\"");
    };
    let Some(action) = input["action"].as_str() else {
        return bad_input("action must be a string");
    };
    let mut payload = input.get("payload").cloned().unwrap_or(Value::Null);
    let command = match input.get("kind").map(|k| k.as_str()) {
        None | Some(Some("request")) => None,
        Some(Some("commandRequest")) => Some(validate_command_request(version, action, &mut payload)),
        Some(Some("commandResponse")) => Some(validate_command_response(version, action, &mut payload)),
        Some(_) => return bad_input("kind must be \"request\", \"commandRequest\" or \"commandResponse\""),
    };
    if let Some(verdict) = command {
        return match verdict {
            Ok(()) => json!({"ok": true}),
            Err(e) => json!({"ok": false, "code": e.code_str(version), "description": e.to_string()}),
        };
    }
    let call = Call {
        message_id: "ocpp-validate".into(),
        action: action.into(),
        payload,
    };
    match decode_request(version, &call) {
        Ok(_) => json!({"ok": true}),
        Err(e) => json!({
            "ok": false,
            "code": e.code.as_str(version),
            "description": e.description,
        }),
    }
}

fn main() -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let list = match std::env::args().nth(1).as_deref() {
        Some("--covered") => Some((v16::COVERED, v201::COVERED)),
        Some("--known") => Some((v16::ACTIONS, v201::ACTIONS)),
        Some("--commands") => Some((command_actions(OcppVersion::V16), command_actions(OcppVersion::V201))),
        _ => None,
    };
    if let Some((v16, v201)) = list {
        let list = json!({
            OcppVersion::V16.subprotocol(): v16,
            OcppVersion::V201.subprotocol(): v201,
        });
        return writeln!(out, "{list}");
    }
    for line in io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", answer(&line))?;
        out.flush()?;
    }
    Ok(())
}
