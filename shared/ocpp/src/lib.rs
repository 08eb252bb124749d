//! OCPP-J for OCPP 1.6J and 2.0.1: the only crate of the CSMS that speaks it.
//!
//! - [`parse_frame`] reads a text frame into a [`Frame`] (CALL, CALLRESULT, CALLERROR) or says
//!   which [`CallError`] to answer with ([`frame`] documents the rules and their sources).
//! - [`decode_request`] validates a CALL's payload strictly against the message's schema
//!   ([`schema`], [`v16::schemas`], [`v201::schemas`]) and only then deserializes it into the
//!   rust-ocpp type, giving a typed [`Request`].
//! - [`call_result_frame`], [`call_frame`] and [`CallError::to_frame`] write frames.
//! - [`validate_command_request`] and [`validate_command_response`] check the remote commands the
//!   CSMS sends ([`command_actions`]) and the piles' CALLRESULTs to them ([`command`]);
//!   [`outgoing`] writes those commands from typed messages and reads their answers back.
//!
//! Invariant: no input panics; every failure is a [`CallError`] whose code the version defines.

pub mod command;
pub mod error;
pub mod frame;
pub mod outgoing;
pub mod schema;
pub mod v16;
pub mod v201;

pub use command::{
    CommandPayloadError, RemoteStartToken, command_actions, remote_start_token, validate_command_request,
    validate_command_response,
};
pub use error::{CallError, ErrorCode, LOGGED_VALUE_CHARS, UNKNOWN_MESSAGE_ID, for_log};
pub use frame::{Call, Frame, MAX_MESSAGE_ID_CHARS, call_frame, call_result_frame, parse_frame, try_call_frame};

use serde_json::Value;

use error::truncate;
use schema::{Dialect, Object};

/// The OCPP-J version a connection speaks, chosen by WebSocket subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OcppVersion {
    V16,
    V201,
}

impl OcppVersion {
    /// Both versions, in the order the CSMS prefers them when a pile offers both.
    pub const ALL: [OcppVersion; 2] = [OcppVersion::V201, OcppVersion::V16];

    /// The `Sec-WebSocket-Protocol` value.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
        }
    }

    /// The version for a subprotocol name (exact, case-sensitive as RFC 6455 tokens are compared).
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        OcppVersion::ALL.into_iter().find(|v| v.subprotocol() == name)
    }

    /// How this version's JSON schemas read integers.
    pub fn dialect(self) -> Dialect {
        match self {
            OcppVersion::V16 => Dialect::Draft4,
            OcppVersion::V201 => Dialect::Draft6,
        }
    }
}

/// A typed request from a pile.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    V16(v16::Request),
    V201(v201::Request),
}

impl Request {
    /// The OCPP action name (`"BootNotification"`).
    pub fn action(&self) -> &'static str {
        match self {
            Request::V16(r) => r.action(),
            Request::V201(r) => r.action(),
        }
    }
}

/// Validates `call`'s payload against its action's schema and deserializes it.
///
/// An action the version does not define is NotImplemented ("Requested Action is not known by
/// receiver"); one it defines that this crate has no typed request for (a CSMS-initiated action sent
/// by a pile, or a pile-initiated one not covered yet) is NotSupported ("Requested Action is
/// recognized but not supported by the receiver"). Payload violations are mapped as [`schema`]
/// describes. A payload that passes validation but does not deserialize is a bug in this crate and
/// is answered with InternalError.
pub fn decode_request(v: OcppVersion, call: &Call) -> Result<Request, CallError> {
    match v {
        OcppVersion::V16 => v16::decode(call).map(Request::V16),
        OcppVersion::V201 => v201::decode(call).map(Request::V201),
    }
}

/// Whether `action` is one the version defines (in either direction).
pub fn is_known_action(v: OcppVersion, action: &str) -> bool {
    match v {
        OcppVersion::V16 => v16::ACTIONS.contains(&action),
        OcppVersion::V201 => v201::ACTIONS.contains(&action),
    }
}

/// The schema this crate validates `action`'s request payload with, if it covers the action.
pub fn request_schema(v: OcppVersion, action: &str) -> Option<&'static Object> {
    match v {
        OcppVersion::V16 => v16::schema_for(action),
        OcppVersion::V201 => v201::schema_for(action),
    }
}

/// The decoding steps shared by both versions; `deserialize` is the version's typed table.
fn decode_with<R>(
    v: OcppVersion,
    call: &Call,
    deserialize: fn(&str, Value) -> Option<Result<R, serde_json::Error>>,
) -> Result<R, CallError> {
    let fail = |code: ErrorCode, description: String| CallError::new(call.message_id.as_str(), code, description);
    let action = truncate(&call.action, 60);
    let Some(schema) = request_schema(v, &call.action) else {
        return Err(if is_known_action(v, &call.action) {
            fail(
                ErrorCode::NotSupported,
                format!("Requested Action is recognized but not supported by the receiver: {action}"),
            )
        } else {
            fail(
                ErrorCode::NotImplemented,
                format!("Requested Action is not known by receiver: {action}"),
            )
        });
    };
    let mut payload = call.payload.clone();
    schema::validate(schema, &mut payload, v.dialect()).map_err(|violation| {
        let details = if violation.path.is_empty() {
            serde_json::json!({})
        } else {
            serde_json::json!({ "field": violation.path })
        };
        fail(violation.code, format!("{action}: {violation}")).with_details(details)
    })?;
    match deserialize(&call.action, payload) {
        Some(Ok(request)) => Ok(request),
        // Validation passed, so the schema and the rust-ocpp type disagree: our bug, not the pile's.
        Some(Err(e)) => Err(fail(
            ErrorCode::InternalError,
            format!("{action}: valid payload could not be decoded ({e})"),
        )),
        None => Err(fail(
            ErrorCode::InternalError,
            format!("{action}: no decoder for a covered action"),
        )),
    }
}

/// Declares a version's typed requests: one line per covered action, naming its rust-ocpp type and
/// its schema. Generates `Request`, `Request::action`, `COVERED`, `schema_for` and `decode`.
macro_rules! requests {
    ($version:expr; $( $action:ident($ty:ty) => $schema:expr, )*) => {
        /// A typed request from a pile.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum Request {
            $( $action($ty), )*
        }

        impl Request {
            /// The OCPP action name.
            pub fn action(&self) -> &'static str {
                match self {
                    $( Request::$action(_) => stringify!($action), )*
                }
            }
        }

        /// The actions this crate decodes into typed requests.
        pub const COVERED: &[&str] = &[ $( stringify!($action), )* ];

        /// The request schema of a covered action.
        pub fn schema_for(action: &str) -> Option<&'static $crate::schema::Object> {
            match action {
                $( stringify!($action) => Some(&$schema), )*
                _ => None,
            }
        }

        fn deserialize(
            action: &str,
            payload: serde_json::Value,
        ) -> Option<Result<Request, serde_json::Error>> {
            match action {
                $( stringify!($action) => {
                    Some(serde_json::from_value::<$ty>(payload).map(Request::$action))
                } )*
                _ => None,
            }
        }

        pub(crate) fn decode(call: &$crate::Call) -> Result<Request, $crate::CallError> {
            $crate::decode_with($version, call, deserialize)
        }
    };
}
pub(crate) use requests;
