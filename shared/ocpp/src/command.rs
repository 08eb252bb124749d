//! Remote commands: the CALLs the CSMS sends to piles, validated both ways.
//!
//! A request is validated before it leaves, so that a bug of ours never reaches a pile as a
//! malformed CALL; a pile's CALLRESULT is validated as strictly as its CALLs ([`crate::schema`]),
//! so that nothing the version forbids is acted upon. The schemas are in [`crate::v16::commands`]
//! and [`crate::v201::commands`].

use serde_json::Value;

use crate::error::truncate;
use crate::schema::{self, Object};
use crate::{ErrorCode, OcppVersion, v16, v201};

/// Why a command payload was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandPayloadError {
    /// Not one of [`command_actions`] for the version.
    #[error(
        "{action} is not a command the CSMS sends over {} (it sends {})",
        .version.subprotocol(),
        command_actions(*.version).join(", ")
    )]
    UnknownAction { action: String, version: OcppVersion },
    /// The payload violates the action's schema.
    #[error("{action}: {}: {message}", if .path.is_empty() { "payload" } else { .path.as_str() })]
    Invalid {
        action: String,
        code: ErrorCode,
        /// Where: `chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit`; empty for the
        /// payload itself.
        path: String,
        message: String,
    },
}

impl CommandPayloadError {
    /// The CALLERROR code this error amounts to, as the version spells it: what a pile would answer
    /// to such a request, or what its response deserves.
    pub fn code_str(&self, v: OcppVersion) -> &'static str {
        match self {
            CommandPayloadError::UnknownAction { .. } => ErrorCode::NotImplemented.as_str(v),
            CommandPayloadError::Invalid { code, .. } => code.as_str(v),
        }
    }
}

/// The CSMS-initiated actions the CSMS can send, per version.
pub fn command_actions(v: OcppVersion) -> &'static [&'static str] {
    match v {
        OcppVersion::V16 => v16::commands::ACTIONS,
        OcppVersion::V201 => v201::commands::ACTIONS,
    }
}

/// Validates a request payload the CSMS is about to send as `action`, with the rules and dialect of
/// [`crate::decode_request`] (in 2.0.1 integral numbers such as `2.0` are rewritten as `2`).
pub fn validate_command_request(v: OcppVersion, action: &str, payload: &mut Value) -> Result<(), CommandPayloadError> {
    validate(v, action, payload, |(request, _)| request)
}

/// Validates a pile's CALLRESULT payload for a CALL of `action`.
pub fn validate_command_response(v: OcppVersion, action: &str, payload: &mut Value) -> Result<(), CommandPayloadError> {
    validate(v, action, payload, |(_, response)| response)
}

fn validate(
    v: OcppVersion,
    action: &str,
    payload: &mut Value,
    pick: fn((&'static Object, &'static Object)) -> &'static Object,
) -> Result<(), CommandPayloadError> {
    let schemas = match v {
        OcppVersion::V16 => v16::commands::schemas_for(action),
        OcppVersion::V201 => v201::commands::schemas_for(action),
    };
    let Some(schemas) = schemas else {
        return Err(CommandPayloadError::UnknownAction {
            action: truncate(action, 60),
            version: v,
        });
    };
    schema::validate(pick(schemas), payload, v.dialect()).map_err(|violation| CommandPayloadError::Invalid {
        action: action.to_owned(),
        code: violation.code,
        path: violation.path,
        message: violation.reason,
    })
}

/// A token a remote start would charge on: its value and, in 2.0.1, its IdTokenEnumType.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStartToken {
    pub value: String,
    pub kind: Option<String>,
}

/// The token a (valid) remote start request charges on: 1.6 RemoteStartTransaction's `idTag`,
/// 2.0.1 RequestStartTransaction's `idToken`. None for any other action.
pub fn remote_start_token(v: OcppVersion, action: &str, payload: &Value) -> Option<RemoteStartToken> {
    match (v, action) {
        (OcppVersion::V16, "RemoteStartTransaction") => Some(RemoteStartToken {
            value: payload.get("idTag")?.as_str()?.to_owned(),
            kind: None,
        }),
        (OcppVersion::V201, "RequestStartTransaction") => {
            let token = payload.get("idToken")?;
            Some(RemoteStartToken {
                value: token.get("idToken")?.as_str()?.to_owned(),
                kind: Some(token.get("type")?.as_str()?.to_owned()),
            })
        }
        _ => None,
    }
}

/// Declares a version's commands: one line per action with its request and response schemas.
/// Generates `ACTIONS` (in the order given) and `schemas_for`.
macro_rules! commands {
    ($( $action:ident => $request:expr, $response:expr; )*) => {
        /// The CSMS-initiated actions the CSMS sends, in the order it lists them.
        pub const ACTIONS: &[&str] = &[ $( stringify!($action), )* ];

        /// The (request, response) schemas of a command action.
        pub fn schemas_for(
            action: &str,
        ) -> Option<(&'static $crate::schema::Object, &'static $crate::schema::Object)> {
            match action {
                $( stringify!($action) => Some((&$request, &$response)), )*
                _ => None,
            }
        }
    };
}
pub(crate) use commands;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_command_is_an_action_of_its_version() {
        for v in OcppVersion::ALL {
            assert_eq!(command_actions(v).len(), 14);
            for action in command_actions(v) {
                assert!(crate::is_known_action(v, action), "{v:?} {action}");
            }
        }
    }

    #[test]
    fn remote_starts_name_the_token_they_charge_on() {
        let token = |v, action, payload| remote_start_token(v, action, &payload);
        assert_eq!(
            token(
                OcppVersion::V16,
                "RemoteStartTransaction",
                json!({"idTag": "ABC", "connectorId": 1})
            ),
            Some(RemoteStartToken {
                value: "ABC".into(),
                kind: None
            })
        );
        let request = json!({"idToken": {"idToken": "ABC", "type": "ISO14443"}, "remoteStartId": 7,
                             "groupIdToken": {"idToken": "FLEET", "type": "Central"}});
        assert_eq!(
            token(OcppVersion::V201, "RequestStartTransaction", request.clone()),
            Some(RemoteStartToken {
                value: "ABC".into(),
                kind: Some("ISO14443".into())
            })
        );
        assert_eq!(token(OcppVersion::V16, "RequestStartTransaction", request), None);
        assert_eq!(token(OcppVersion::V16, "Reset", json!({"type": "Soft"})), None);
    }

    #[test]
    fn errors_read_as_one_sentence() {
        let e = validate_command_request(
            OcppVersion::V16,
            "RemoteStartTransaction",
            &mut json!({"idTag": "x".repeat(21)}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "RemoteStartTransaction: idTag: longer than 20 characters"
        );
        assert_eq!(e.code_str(OcppVersion::V16), "PropertyConstraintViolation");
        let e = validate_command_response(OcppVersion::V16, "Reset", &mut json!([])).unwrap_err();
        assert_eq!(e.to_string(), "Reset: payload: must be a JSON object, found an array");
        assert_eq!(e.code_str(OcppVersion::V16), "FormationViolation");
        assert_eq!(e.code_str(OcppVersion::V201), "FormatViolation");
        let e = validate_command_request(OcppVersion::V201, "RemoteStartTransaction", &mut json!({})).unwrap_err();
        assert_eq!(e.code_str(OcppVersion::V201), "NotImplemented");
        let text = e.to_string();
        let expected = "RemoteStartTransaction is not a command the CSMS sends over ocpp2.0.1 (it sends \
                        RequestStartTransaction, RequestStopTransaction, Reset, ";
        assert!(text.starts_with(expected), "{text}");
    }
}
