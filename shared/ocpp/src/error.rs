//! CALLERROR codes and the CALLERROR we answer with.
//!
//! [`ErrorCode`] names the *kind* of error, the same for every version; [`ErrorCode::as_str`] gives
//! the code the version puts on the wire. The two versions differ in spelling (1.6 keeps its typos
//! `FormationViolation` and `OccurenceConstraintViolation`, OCPP-J 1.6 errata section 5 "known
//! issues that will not be fixed") and 2.0.1 adds `MessageTypeNotSupported` and `RpcFrameworkError`
//! (OCPP 2.0.1 Part 4, section 4.3 "RPC Framework Error Codes"), which 1.6 answers with
//! `FormationViolation`: "Payload for Action is syntactically incorrect or not conform the PDU
//! structure for Action" (OCPP-J 1.6 section 4.2.3) is the only 1.6 code about the frame itself.

use serde_json::{Map, Value};

use crate::OcppVersion;

/// The longest `errorDescription` we send (OCPP 2.0.1 Part 4 section 4.2.3: at most 255 characters;
/// 1.6 sets no limit, and the same bound does no harm there).
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// A CALLERROR error code, version-neutral. [`ErrorCode::as_str`] spells it for a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Payload (or, in 1.6, the frame) syntactically incorrect / not conform the PDU structure.
    FormatViolation,
    /// A required field is missing.
    OccurrenceConstraintViolation,
    /// A field holds a value its definition does not allow (length, enum, range, date-time...).
    PropertyConstraintViolation,
    /// A field has the wrong JSON type.
    TypeConstraintViolation,
    /// The action is not known by the receiver.
    NotImplemented,
    /// The action is known but not supported by the receiver.
    NotSupported,
    ProtocolError,
    SecurityError,
    InternalError,
    GenericError,
    /// 2.0.1: MessageTypeId not supported. 1.6 answers `FormationViolation`.
    MessageTypeNotSupported,
    /// 2.0.1: not a valid RPC frame, e.g. the message id cannot be read. 1.6 answers
    /// `FormationViolation`.
    RpcFrameworkError,
}

impl ErrorCode {
    /// Every kind, for tests and tools.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::FormatViolation,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::InternalError,
        ErrorCode::GenericError,
        ErrorCode::MessageTypeNotSupported,
        ErrorCode::RpcFrameworkError,
    ];

    /// The code as the version spells it on the wire.
    pub fn as_str(self, v: OcppVersion) -> &'static str {
        use ErrorCode::*;
        match (self, v) {
            (FormatViolation | MessageTypeNotSupported | RpcFrameworkError, OcppVersion::V16) => "FormationViolation",
            (FormatViolation, OcppVersion::V201) => "FormatViolation",
            (MessageTypeNotSupported, OcppVersion::V201) => "MessageTypeNotSupported",
            (RpcFrameworkError, OcppVersion::V201) => "RpcFrameworkError",
            // The 1.6 typo is kept on the wire in 2.0.1 too; the corrected spelling arrives with 2.1
            // (1.6-J errata sheet section 5.1; the Python `ocpp` library and ocpp-go agree).
            (OccurrenceConstraintViolation, _) => "OccurenceConstraintViolation",
            (PropertyConstraintViolation, _) => "PropertyConstraintViolation",
            (TypeConstraintViolation, _) => "TypeConstraintViolation",
            (NotImplemented, _) => "NotImplemented",
            (NotSupported, _) => "NotSupported",
            (ProtocolError, _) => "ProtocolError",
            (SecurityError, _) => "SecurityError",
            (InternalError, _) => "InternalError",
            (GenericError, _) => "GenericError",
        }
    }

    /// The codes a version defines, as spelled on its wire.
    pub fn codes(v: OcppVersion) -> &'static [&'static str] {
        match v {
            OcppVersion::V16 => &[
                "FormationViolation",
                "OccurenceConstraintViolation",
                "PropertyConstraintViolation",
                "TypeConstraintViolation",
                "NotImplemented",
                "NotSupported",
                "ProtocolError",
                "SecurityError",
                "InternalError",
                "GenericError",
            ],
            OcppVersion::V201 => &[
                "FormatViolation",
                "OccurenceConstraintViolation",
                "PropertyConstraintViolation",
                "TypeConstraintViolation",
                "NotImplemented",
                "NotSupported",
                "ProtocolError",
                "SecurityError",
                "InternalError",
                "GenericError",
                "MessageTypeNotSupported",
                "RpcFrameworkError",
            ],
        }
    }

    /// Reads a wire code of the version (e.g. from a pile's CALLERROR). In 1.6 `FormationViolation`
    /// reads as [`ErrorCode::FormatViolation`].
    pub fn parse(v: OcppVersion, code: &str) -> Option<ErrorCode> {
        match v {
            OcppVersion::V16 => match code {
                "FormationViolation" => Some(ErrorCode::FormatViolation),
                "OccurenceConstraintViolation" => Some(ErrorCode::OccurrenceConstraintViolation),
                _ => Self::common(code),
            },
            OcppVersion::V201 => match code {
                "FormatViolation" => Some(ErrorCode::FormatViolation),
                // Both spellings are read: piles written to 2.1 habits send the corrected one.
                "OccurenceConstraintViolation" | "OccurrenceConstraintViolation" => {
                    Some(ErrorCode::OccurrenceConstraintViolation)
                }
                "MessageTypeNotSupported" => Some(ErrorCode::MessageTypeNotSupported),
                "RpcFrameworkError" => Some(ErrorCode::RpcFrameworkError),
                _ => Self::common(code),
            },
        }
    }

    fn common(code: &str) -> Option<ErrorCode> {
        Some(match code {
            "PropertyConstraintViolation" => ErrorCode::PropertyConstraintViolation,
            "TypeConstraintViolation" => ErrorCode::TypeConstraintViolation,
            "NotImplemented" => ErrorCode::NotImplemented,
            "NotSupported" => ErrorCode::NotSupported,
            "ProtocolError" => ErrorCode::ProtocolError,
            "SecurityError" => ErrorCode::SecurityError,
            "InternalError" => ErrorCode::InternalError,
            "GenericError" => ErrorCode::GenericError,
            _ => return None,
        })
    }
}

/// A CALLERROR to answer a frame with. Build it with [`CallError::new`]; send it with
/// [`CallError::to_frame`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code:?} (message {message_id}): {description}")]
pub struct CallError {
    /// The id of the CALL answered, or [`UNKNOWN_MESSAGE_ID`] when it could not be read.
    pub message_id: String,
    pub code: ErrorCode,
    /// Says which field and why; never carries secrets (no payload values beyond short excerpts).
    pub description: String,
    /// A JSON object; `{}` when there is nothing to add.
    pub details: Value,
}

/// The message id of a CALLERROR answering a frame whose id could not be read: the convention of
/// OCPP 2.0.1 Part 4 (CALLERROR) that DESIGN.md section 3 adopts for both versions (1.6 has no rule
/// of its own).
pub const UNKNOWN_MESSAGE_ID: &str = "-1";

impl CallError {
    /// A CALLERROR with empty details; the description is cut to [`MAX_DESCRIPTION_CHARS`].
    pub fn new(message_id: impl Into<String>, code: ErrorCode, description: impl Into<String>) -> Self {
        CallError {
            message_id: message_id.into(),
            code,
            description: truncate(&description.into(), MAX_DESCRIPTION_CHARS),
            details: Value::Object(Map::new()),
        }
    }

    /// The same error with `details` set (non-objects are replaced by `{}` when framed).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// `[4,"<id>","<code>","<description>",{<details>}]` with the version's spelling of the code.
    pub fn to_frame(&self, v: OcppVersion) -> String {
        let details = match &self.details {
            Value::Object(_) => self.details.clone(),
            _ => Value::Object(Map::new()),
        };
        Value::Array(vec![
            Value::from(4),
            Value::from(self.message_id.as_str()),
            Value::from(self.code.as_str(v)),
            Value::from(truncate(&self.description, MAX_DESCRIPTION_CHARS)),
            details,
        ])
        .to_string()
    }
}

/// A value a pile sent, as it may appear in a log line: at most [`LOGGED_VALUE_CHARS`]
/// characters (an ellipsis marks the cut), so that a 128 KB frame cannot make a 128 KB log line.
/// Never use it for id tokens or passwords: those are not logged at all.
pub fn for_log(s: &str) -> String {
    truncate(s, LOGGED_VALUE_CHARS)
}

/// The most characters of one pile value a log line holds.
pub const LOGGED_VALUE_CHARS: usize = 64;

/// `s` cut to at most `max` characters (an ellipsis marks the cut).
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_a_code_of_each_version() {
        for v in [OcppVersion::V16, OcppVersion::V201] {
            for code in ErrorCode::ALL {
                let wire = code.as_str(v);
                assert!(ErrorCode::codes(v).contains(&wire), "{code:?} -> {wire} for {v:?}");
                assert!(ErrorCode::parse(v, wire).is_some());
            }
            for wire in ErrorCode::codes(v) {
                assert_eq!(ErrorCode::parse(v, wire).map(|c| c.as_str(v)), Some(*wire));
            }
        }
    }

    #[test]
    fn spelling_differs_by_version() {
        assert_eq!(
            ErrorCode::FormatViolation.as_str(OcppVersion::V16),
            "FormationViolation"
        );
        assert_eq!(ErrorCode::FormatViolation.as_str(OcppVersion::V201), "FormatViolation");
        assert_eq!(
            ErrorCode::OccurrenceConstraintViolation.as_str(OcppVersion::V16),
            "OccurenceConstraintViolation"
        );
        assert_eq!(
            ErrorCode::OccurrenceConstraintViolation.as_str(OcppVersion::V201),
            "OccurenceConstraintViolation"
        );
        assert_eq!(
            ErrorCode::RpcFrameworkError.as_str(OcppVersion::V16),
            "FormationViolation"
        );
    }

    #[test]
    fn frame_is_a_five_element_array_with_object_details() {
        let e = CallError::new("abc", ErrorCode::NotImplemented, "Requested Action is not known")
            .with_details(Value::from("not an object"));
        let frame: Value = serde_json::from_str(&e.to_frame(OcppVersion::V201)).unwrap();
        assert_eq!(
            frame,
            serde_json::json!([4, "abc", "NotImplemented", "Requested Action is not known", {}])
        );
    }

    #[test]
    fn long_descriptions_are_cut_to_255_characters() {
        let e = CallError::new("1", ErrorCode::GenericError, "é".repeat(1000));
        assert_eq!(e.description.chars().count(), MAX_DESCRIPTION_CHARS);
        let frame: Value = serde_json::from_str(&e.to_frame(OcppVersion::V16)).unwrap();
        assert_eq!(frame[3].as_str().unwrap().chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
