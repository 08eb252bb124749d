//! OCPP-J RPC frames: `[2,id,action,{payload}]`, `[3,id,{payload}]`, `[4,id,code,description,{details}]`.
//!
//! Which CALLERROR a bad frame earns (kinds here, spelled per version by [`ErrorCode::as_str`]):
//!
//! | problem | kind | 1.6 wire | 2.0.1 wire |
//! | --- | --- | --- | --- |
//! | not JSON, not an array, empty, MessageTypeId not a number | RpcFrameworkError | FormationViolation | RpcFrameworkError |
//! | message id not a string or longer than 36 characters | RpcFrameworkError | FormationViolation | RpcFrameworkError |
//! | MessageTypeId a number other than 2, 3, 4 | MessageTypeNotSupported | FormationViolation | MessageTypeNotSupported |
//! | wrong number of elements, action / code / description not a string, details not an object | RpcFrameworkError | FormationViolation | RpcFrameworkError |
//! | CALL / CALLRESULT payload not a JSON object | FormatViolation | FormationViolation | FormatViolation |
//!
//! Sources: OCPP 2.0.1 Part 4 error code table: RpcFrameworkError "Content of the call is not a
//! valid RPC Request, for example: MessageId could not be read", MessageTypeNotSupported "A message
//! with an Message Type Number received that is not supported by this implementation",
//! FormatViolation "Payload for Action is syntactically incorrect". OCPP-J 1.6 section 4.2.3 has no
//! frame-level code; FormationViolation ("syntactically incorrect or not conform the PDU structure")
//! is the one that fits. OCPP-J 1.6 section 4.1.3 tells a receiver to *ignore the payload* of an
//! unknown MessageTypeId: the error is still returned here, and the `$default` handler answers
//! nothing for it in 1.6.
//! Message ids are strings of at most 36 characters ("The message ID", OCPP-J 1.6 section 4.1.4 and
//! OCPP 2.0.1 Part 4); when the id cannot be read (not a string, too long, absent) we answer with
//! `"-1"` (DESIGN.md section 3) rather than echo an id the pile could not have sent.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::OcppVersion;
use crate::error::{CallError, ErrorCode, UNKNOWN_MESSAGE_ID, truncate};

/// The longest message id, in characters (OCPP-J: "maximum of 36 characters, to allow for GUIDs").
pub const MAX_MESSAGE_ID_CHARS: usize = 36;

/// MessageTypeIds.
pub const CALL: u64 = 2;
pub const CALLRESULT: u64 = 3;
pub const CALLERROR: u64 = 4;

/// A CALL: a request from the other side.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub message_id: String,
    pub action: String,
    /// Always a JSON object when it comes from [`parse_frame`].
    pub payload: Value,
}

/// One well-formed OCPP-J frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call(Call),
    CallResult {
        message_id: String,
        payload: Value,
    },
    /// A CALLERROR received; `code` is as sent (see [`ErrorCode::parse`]).
    CallError {
        message_id: String,
        code: String,
        description: String,
        details: Value,
    },
}

impl Frame {
    pub fn message_id(&self) -> &str {
        match self {
            Frame::Call(call) => &call.message_id,
            Frame::CallResult { message_id, .. } | Frame::CallError { message_id, .. } => message_id,
        }
    }
}

/// Reads one text frame. The error is the CALLERROR to answer with; its id is `"-1"` when the
/// frame's id could not be read. The payload is not checked here beyond being an object: see
/// [`crate::decode_request`].
///
/// The rules are the same for 1.6 and 2.0.1 (only the spelling of the codes differs, see
/// [`CallError::to_frame`]); the version is taken so that 2.1's MessageTypeIds 5 and 6 can be added.
pub fn parse_frame(_version: OcppVersion, text: &str) -> Result<Frame, CallError> {
    // serde_json bounds nesting (128 levels) and never panics on bad input.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        CallError::new(
            UNKNOWN_MESSAGE_ID,
            ErrorCode::RpcFrameworkError,
            format!("frame is not valid JSON ({})", e.classify_str()),
        )
    })?;
    let Value::Array(elements) = value else {
        return Err(CallError::new(
            UNKNOWN_MESSAGE_ID,
            ErrorCode::RpcFrameworkError,
            "frame is not a JSON array",
        ));
    };
    let readable_id = elements.get(1).and_then(|id| match id {
        Value::String(s) if s.chars().count() <= MAX_MESSAGE_ID_CHARS => Some(s.as_str()),
        _ => None,
    });
    let fail = |code: ErrorCode, why: String| CallError::new(readable_id.unwrap_or(UNKNOWN_MESSAGE_ID), code, why);

    let type_id = match elements.first() {
        None => {
            return Err(fail(ErrorCode::RpcFrameworkError, "frame is an empty array".into()));
        }
        Some(Value::Number(n)) => n,
        Some(other) => {
            return Err(fail(
                ErrorCode::RpcFrameworkError,
                format!("MessageTypeId must be a number, not {}", json_type(other)),
            ));
        }
    };
    let type_id = match type_id.as_u64() {
        Some(t @ (CALL | CALLRESULT | CALLERROR)) => t,
        _ => {
            return Err(fail(
                ErrorCode::MessageTypeNotSupported,
                format!("MessageTypeId {} is not supported", truncate(&type_id.to_string(), 20)),
            ));
        }
    };
    let Some(message_id) = readable_id else {
        let why = match elements.get(1) {
            None => "frame has no message id".to_owned(),
            Some(Value::String(_)) => {
                format!("message id is longer than {MAX_MESSAGE_ID_CHARS} characters")
            }
            Some(other) => format!("message id must be a string, not {}", json_type(other)),
        };
        return Err(fail(ErrorCode::RpcFrameworkError, why));
    };
    let arity = match type_id {
        CALL => 4,
        CALLRESULT => 3,
        _ => 5,
    };
    if elements.len() != arity {
        return Err(fail(
            ErrorCode::RpcFrameworkError,
            format!(
                "{} must have {arity} elements, not {}",
                type_name(type_id),
                elements.len()
            ),
        ));
    }
    let string_at = |i: usize, what: &str| match &elements[i] {
        Value::String(s) => Ok(s.clone()),
        other => Err(fail(
            ErrorCode::RpcFrameworkError,
            format!("{what} must be a string, not {}", json_type(other)),
        )),
    };
    let payload_at = |i: usize| match &elements[i] {
        Value::Object(_) => Ok(elements[i].clone()),
        other => Err(fail(
            ErrorCode::FormatViolation,
            format!("payload must be a JSON object, not {}", json_type(other)),
        )),
    };
    let message_id = message_id.to_owned();
    Ok(match type_id {
        CALL => Frame::Call(Call {
            message_id,
            action: string_at(2, "action")?,
            payload: payload_at(3)?,
        }),
        CALLRESULT => Frame::CallResult {
            message_id,
            payload: payload_at(2)?,
        },
        _ => {
            let code = string_at(2, "errorCode")?;
            let description = string_at(3, "errorDescription")?;
            let details = match &elements[4] {
                Value::Object(_) => elements[4].clone(),
                other => {
                    return Err(fail(
                        ErrorCode::RpcFrameworkError,
                        format!("errorDetails must be a JSON object, not {}", json_type(other)),
                    ));
                }
            };
            Frame::CallError {
                message_id,
                code,
                description,
                details,
            }
        }
    })
}

/// `[3,"<id>",{payload}]`. A payload that does not serialize to a JSON object (never the case for
/// rust-ocpp types) is answered with an InternalError CALLERROR instead, so the CALL still gets
/// exactly one answer.
pub fn call_result_frame(message_id: &str, payload: &impl Serialize) -> String {
    match serde_json::to_value(payload) {
        Ok(payload @ Value::Object(_)) => {
            Value::Array(vec![Value::from(CALLRESULT), Value::from(message_id), payload]).to_string()
        }
        _ => CallError::new(
            message_id,
            ErrorCode::InternalError,
            "response payload could not be serialized",
        )
        // InternalError is spelled the same in every version.
        .to_frame(OcppVersion::V201),
    }
}

/// `[2,"<id>","<Action>",{payload}]`. See [`try_call_frame`] to learn of a payload that does not
/// serialize to an object; here such a payload is sent as `{}` (never the case for rust-ocpp types).
pub fn call_frame(message_id: &str, action: &str, payload: &impl Serialize) -> String {
    try_call_frame(message_id, action, payload).unwrap_or_else(|_| {
        Value::Array(vec![
            Value::from(CALL),
            Value::from(message_id),
            Value::from(action),
            Value::Object(Map::new()),
        ])
        .to_string()
    })
}

/// Like [`call_frame`], but says when the payload does not serialize to a JSON object.
pub fn try_call_frame(message_id: &str, action: &str, payload: &impl Serialize) -> Result<String, serde_json::Error> {
    let payload = serde_json::to_value(payload)?;
    if !payload.is_object() {
        return Err(serde::ser::Error::custom("payload is not a JSON object"));
    }
    Ok(Value::Array(vec![
        Value::from(CALL),
        Value::from(message_id),
        Value::from(action),
        payload,
    ])
    .to_string())
}

fn type_name(type_id: u64) -> &'static str {
    match type_id {
        CALL => "CALL",
        CALLRESULT => "CALLRESULT",
        _ => "CALLERROR",
    }
}

/// The JSON type of a value, for descriptions.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

trait ClassifyStr {
    fn classify_str(&self) -> &'static str;
}

impl ClassifyStr for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "bad data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}
