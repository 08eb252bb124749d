//! Drives `decode_request` from other languages (the differential conformance test).
//!
//! Reads JSON lines `{"version":"ocpp1.6","action":"BootNotification","payload":{...}}` on stdin and
//! prints one JSON line per input: `{"ok":true}` or `{"ok":false,"code":"...","description":"..."}`
//! (the code as the version spells it). A line that is not such an object gets
//! `{"ok":false,"code":"BadInput","description":"..."}`, so outputs stay aligned with inputs.
//!
//! `ocpp-validate --covered` prints the actions decoded into typed requests instead:
//! `{"ocpp1.6":["Authorize",...],"ocpp2.0.1":[...]}`; `--known` every action the versions define.

use std::io::{self, BufRead, BufWriter, Write};

use csms_ocpp::{Call, OcppVersion, decode_request, v16, v201};
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
    let call = Call {
        message_id: "ocpp-validate".into(),
        action: action.into(),
        payload: input.get("payload").cloned().unwrap_or(Value::Null),
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
