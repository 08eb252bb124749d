//! Typed builders of the commands the CSMS sends, per version, and readers of what comes back:
//! callers say what they want (start charging with this token on that connector, reserve, cancel)
//! and get the action and its payload, written with rust-ocpp's message types; no caller writes a
//! command's JSON by hand. The result still goes through [`crate::validate_command_request`]
//! before it is queued, like every command.

use chrono::{DateTime, Utc};
use rust_ocpp::v1_6::messages as m16;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType as WireIdToken;
use rust_ocpp::v2_0_1::enumerations::id_token_enum_type::IdTokenEnumType;
use rust_ocpp::v2_0_1::messages as m201;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::OcppVersion;

/// A command ready to be checked and queued: its action and its request payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub action: &'static str,
    pub payload: Value,
}

/// Why a command cannot be written for a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("{0:?} is not a 2.0.1 id token type")]
    TokenType(String),
    #[error("{0:?} is not a 2.0.1 connector type")]
    ConnectorType(String),
    #[error("a 1.6 transaction id is a number, not {0:?}")]
    TransactionId(String),
    #[error("{0} does not fit the message")]
    OutOfRange(&'static str),
}

/// An id token as a command names it: the value, and for 2.0.1 its IdTokenEnumType word
/// (`Central` when the CSMS knows none). 1.6 sends the value alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub value: &'a str,
    pub kind: Option<&'a str>,
}

/// ReserveNow (1.6 section 5.13, 2.0.1 H01).
#[derive(Debug, Clone, PartialEq)]
pub struct ReserveNow<'a> {
    pub reservation_id: i32,
    pub expiry: DateTime<Utc>,
    pub token: Token<'a>,
    /// 1.6 parentIdTag, 2.0.1 groupIdToken.
    pub group: Option<Token<'a>>,
    /// 1.6: the connector (0: any, where the station supports it); 2.0.1: the EVSE (None: any).
    pub spot: Option<u32>,
    /// 2.0.1 only: a ConnectorEnumType word.
    pub connector_type: Option<&'a str>,
}

/// 1.6 RemoteStartTransaction / 2.0.1 RequestStartTransaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteStart<'a> {
    pub token: Token<'a>,
    /// 2.0.1 only: the group token (1.6 has no such field).
    pub group: Option<Token<'a>>,
    /// 1.6: the connector; 2.0.1: the EVSE. None: the station picks.
    pub spot: Option<u32>,
    /// 2.0.1 only; the pile echoes it in the TransactionEvent that starts the session.
    pub remote_start_id: i32,
}

fn to_value(payload: impl Serialize) -> Value {
    serde_json::to_value(payload).expect("rust-ocpp messages always serialize")
}

fn wire_token(token: Token<'_>) -> Result<WireIdToken, BuildError> {
    let kind = token.kind.unwrap_or("Central");
    let kind: IdTokenEnumType =
        serde_json::from_value(Value::from(kind)).map_err(|_| BuildError::TokenType(kind.to_owned()))?;
    Ok(WireIdToken {
        id_token: token.value.to_owned(),
        kind,
        additional_info: None,
    })
}

fn spot_201(spot: Option<u32>) -> Result<Option<i32>, BuildError> {
    spot.map(|s| i32::try_from(s).map_err(|_| BuildError::OutOfRange("evseId")))
        .transpose()
}

pub fn reserve_now(v: OcppVersion, r: &ReserveNow<'_>) -> Result<Outgoing, BuildError> {
    let payload = match v {
        OcppVersion::V16 => to_value(m16::reserve_now::ReserveNowRequest {
            connector_id: r.spot.unwrap_or(0),
            expiry_date: r.expiry,
            id_tag: r.token.value.to_owned(),
            parent_id_tag: r.group.map(|g| g.value.to_owned()),
            reservation_id: r.reservation_id,
        }),
        OcppVersion::V201 => to_value(m201::reserve_now::ReserveNowRequest {
            id: r.reservation_id,
            expiry_date_time: r.expiry,
            connector_type: r
                .connector_type
                .map(|t| serde_json::from_value(Value::from(t)).map_err(|_| BuildError::ConnectorType(t.to_owned())))
                .transpose()?,
            evse_id: spot_201(r.spot)?,
            id_token: wire_token(r.token)?,
            group_id_token: r.group.map(wire_token).transpose()?,
        }),
    };
    Ok(Outgoing {
        action: "ReserveNow",
        payload,
    })
}

pub fn cancel_reservation(v: OcppVersion, reservation_id: i32) -> Outgoing {
    let payload = match v {
        OcppVersion::V16 => to_value(m16::cancel_reservation::CancelReservationRequest { reservation_id }),
        OcppVersion::V201 => to_value(m201::cancel_reservation::CancelReservationRequest { reservation_id }),
    };
    Outgoing {
        action: "CancelReservation",
        payload,
    }
}

pub fn remote_start(v: OcppVersion, r: &RemoteStart<'_>) -> Result<Outgoing, BuildError> {
    Ok(match v {
        OcppVersion::V16 => Outgoing {
            action: "RemoteStartTransaction",
            payload: to_value(m16::remote_start_transaction::RemoteStartTransactionRequest {
                connector_id: r.spot,
                id_tag: r.token.value.to_owned(),
                charging_profile: None,
            }),
        },
        OcppVersion::V201 => Outgoing {
            action: "RequestStartTransaction",
            payload: to_value(m201::request_start_transaction::RequestStartTransactionRequest {
                evse_id: spot_201(r.spot)?,
                remote_start_id: r.remote_start_id,
                id_token: wire_token(r.token)?,
                charging_profile: None,
                group_id_token: r.group.map(wire_token).transpose()?,
            }),
        },
    })
}

/// `transaction` as the station gave it: a number for 1.6, the station's string for 2.0.1.
pub fn remote_stop(v: OcppVersion, transaction: &str) -> Result<Outgoing, BuildError> {
    Ok(match v {
        OcppVersion::V16 => Outgoing {
            action: "RemoteStopTransaction",
            payload: to_value(m16::remote_stop_transaction::RemoteStopTransactionRequest {
                transaction_id: transaction
                    .parse()
                    .map_err(|_| BuildError::TransactionId(transaction.to_owned()))?,
            }),
        },
        OcppVersion::V201 => Outgoing {
            action: "RequestStopTransaction",
            payload: to_value(m201::request_stop_transaction::RequestStopTransactionRequest {
                transaction_id: transaction.to_owned(),
            }),
        },
    })
}

// --- Readers ----------------------------------------------------------------------------------

fn read<T: DeserializeOwned>(payload: &Value) -> Option<T> {
    serde_json::from_value(payload.clone()).ok()
}

/// The wire word of an enum value.
fn word(value: impl Serialize) -> Option<String> {
    match serde_json::to_value(value).ok()? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The reservation a ReserveNow or CancelReservation request is about.
pub fn reservation_id(v: OcppVersion, action: &str, request: &Value) -> Option<i32> {
    match (v, action) {
        (OcppVersion::V16, "ReserveNow") => {
            read::<m16::reserve_now::ReserveNowRequest>(request).map(|r| r.reservation_id)
        }
        (OcppVersion::V201, "ReserveNow") => read::<m201::reserve_now::ReserveNowRequest>(request).map(|r| r.id),
        (OcppVersion::V16, "CancelReservation") => {
            read::<m16::cancel_reservation::CancelReservationRequest>(request).map(|r| r.reservation_id)
        }
        (OcppVersion::V201, "CancelReservation") => {
            read::<m201::cancel_reservation::CancelReservationRequest>(request).map(|r| r.reservation_id)
        }
        _ => None,
    }
}

/// The `status` word of a ReserveNow answer (Accepted, Faulted, Occupied, Rejected, Unavailable)
/// or of a CancelReservation answer (Accepted, Rejected).
pub fn answer_status(v: OcppVersion, action: &str, answer: &Value) -> Option<String> {
    match (v, action) {
        (OcppVersion::V16, "ReserveNow") => word(read::<m16::reserve_now::ReserveNowResponse>(answer)?.status),
        (OcppVersion::V201, "ReserveNow") => word(read::<m201::reserve_now::ReserveNowResponse>(answer)?.status),
        (OcppVersion::V16, "CancelReservation") => {
            word(read::<m16::cancel_reservation::CancelReservationResponse>(answer)?.status)
        }
        (OcppVersion::V201, "CancelReservation") => {
            word(read::<m201::cancel_reservation::CancelReservationResponse>(answer)?.status)
        }
        _ => None,
    }
}

/// Whether the station reserves "any connector" (1.6 connectorId 0, 2.0.1 ReserveNow without an
/// evseId), as a configuration answer reports it: 1.6 GetConfiguration's
/// `ReserveConnectorZeroSupported`, 2.0.1 GetVariables' `ReservationCtrlr.NonEvseSpecific`
/// (Actual). None when the answer does not say.
pub fn reserves_any_connector(v: OcppVersion, action: &str, answer: &Value) -> Option<bool> {
    let truth = |s: &str| s.trim().eq_ignore_ascii_case("true");
    match (v, action) {
        (OcppVersion::V16, "GetConfiguration") => read::<m16::get_configuration::GetConfigurationResponse>(answer)?
            .configuration_key?
            .into_iter()
            .find(|k| k.key.eq_ignore_ascii_case("ReserveConnectorZeroSupported"))
            .map(|k| k.value.as_deref().is_some_and(truth)),
        (OcppVersion::V201, "GetVariables") => {
            let answer = read::<m201::get_variables::GetVariablesResponse>(answer)?;
            answer.get_variable_result.into_iter().find_map(|r| {
                let accepted = word(&r.attribute_status).as_deref() == Some("Accepted");
                let actual = r
                    .attribute_type
                    .as_ref()
                    .is_none_or(|t| word(t).as_deref() == Some("Actual"));
                (accepted && actual && r.component.name == "ReservationCtrlr" && r.variable.name == "NonEvseSpecific")
                    .then(|| r.attribute_value.as_deref().is_some_and(truth))
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate_command_request;
    use serde_json::json;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T10:30:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn reserve_now_in_both_versions_passes_the_schemas() {
        let token = Token {
            value: "04E91C5A",
            kind: Some("ISO14443"),
        };
        let group = Token {
            value: "FLEET-1",
            kind: None,
        };
        let r = ReserveNow {
            reservation_id: 7,
            expiry: at(),
            token,
            group: Some(group),
            spot: Some(2),
            connector_type: Some("cCCS2"),
        };
        let mut v16 = reserve_now(OcppVersion::V16, &r).unwrap();
        assert_eq!(
            v16.payload,
            json!({"connectorId": 2, "expiryDate": "2026-05-01T10:30:00Z", "idTag": "04E91C5A",
                   "parentIdTag": "FLEET-1", "reservationId": 7})
        );
        validate_command_request(OcppVersion::V16, v16.action, &mut v16.payload).unwrap();
        let mut v201 = reserve_now(OcppVersion::V201, &r).unwrap();
        assert_eq!(
            v201.payload["idToken"],
            json!({"idToken": "04E91C5A", "type": "ISO14443"})
        );
        assert_eq!(v201.payload["groupIdToken"]["type"], "Central");
        assert_eq!(
            (v201.payload["evseId"].clone(), v201.payload["id"].clone()),
            (json!(2), json!(7))
        );
        assert_eq!(v201.payload["connectorType"], "cCCS2");
        validate_command_request(OcppVersion::V201, v201.action, &mut v201.payload).unwrap();
        // Any connector: 1.6 says 0, 2.0.1 leaves the EVSE out.
        let any = ReserveNow {
            spot: None,
            ..r.clone()
        };
        assert_eq!(reserve_now(OcppVersion::V16, &any).unwrap().payload["connectorId"], 0);
        assert!(
            reserve_now(OcppVersion::V201, &any)
                .unwrap()
                .payload
                .get("evseId")
                .is_none()
        );
        let bad = ReserveNow {
            connector_type: Some("cBanana"),
            ..r
        };
        assert_eq!(
            reserve_now(OcppVersion::V201, &bad),
            Err(BuildError::ConnectorType("cBanana".into()))
        );
    }

    #[test]
    fn starts_stops_and_cancels_are_written_per_version() {
        let token = Token {
            value: "ABC",
            kind: None,
        };
        let start = RemoteStart {
            token,
            group: None,
            spot: Some(1),
            remote_start_id: 42,
        };
        for v in OcppVersion::ALL {
            for mut out in [
                remote_start(v, &start).unwrap(),
                remote_stop(v, "17").unwrap(),
                cancel_reservation(v, 9),
            ] {
                validate_command_request(v, out.action, &mut out.payload).unwrap();
            }
        }
        assert_eq!(
            remote_start(OcppVersion::V16, &start).unwrap().payload,
            json!({"connectorId": 1, "idTag": "ABC"})
        );
        assert_eq!(
            remote_start(OcppVersion::V201, &start).unwrap().payload,
            json!({"evseId": 1, "remoteStartId": 42, "idToken": {"idToken": "ABC", "type": "Central"}})
        );
        assert_eq!(
            remote_stop(OcppVersion::V16, "x-1"),
            Err(BuildError::TransactionId("x-1".into()))
        );
    }

    #[test]
    fn answers_and_requests_are_read_back() {
        let v = OcppVersion::V16;
        let request = reserve_now(
            v,
            &ReserveNow {
                reservation_id: 3,
                expiry: at(),
                token: Token { value: "T", kind: None },
                group: None,
                spot: Some(1),
                connector_type: None,
            },
        )
        .unwrap();
        assert_eq!(reservation_id(v, "ReserveNow", &request.payload), Some(3));
        assert_eq!(
            reservation_id(OcppVersion::V201, "CancelReservation", &json!({"reservationId": 5})),
            Some(5)
        );
        assert_eq!(reservation_id(v, "Reset", &json!({"type": "Soft"})), None);
        assert_eq!(
            answer_status(v, "ReserveNow", &json!({"status": "Occupied"})).as_deref(),
            Some("Occupied")
        );
        assert_eq!(
            answer_status(
                OcppVersion::V201,
                "CancelReservation",
                &json!({"status": "Rejected", "statusInfo": {"reasonCode": "x"}})
            )
            .as_deref(),
            Some("Rejected")
        );
        assert_eq!(answer_status(v, "ReserveNow", &json!({"status": "Maybe"})), None);
    }

    #[test]
    fn configuration_answers_say_whether_any_connector_can_be_reserved() {
        let v16 = json!({"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
            {"key": "ReserveConnectorZeroSupported", "readonly": true, "value": "True"}
        ]});
        assert_eq!(
            reserves_any_connector(OcppVersion::V16, "GetConfiguration", &v16),
            Some(true)
        );
        assert_eq!(
            reserves_any_connector(OcppVersion::V16, "GetConfiguration", &json!({"unknownKey": ["X"]})),
            None
        );
        let v201 = |status: &str, value: &str| {
            json!({"getVariableResult": [{"attributeStatus": status, "attributeValue": value,
                "component": {"name": "ReservationCtrlr"}, "variable": {"name": "NonEvseSpecific"}}]})
        };
        assert_eq!(
            reserves_any_connector(OcppVersion::V201, "GetVariables", &v201("Accepted", "false")),
            Some(false)
        );
        assert_eq!(
            reserves_any_connector(OcppVersion::V201, "GetVariables", &v201("Accepted", "true")),
            Some(true)
        );
        assert_eq!(
            reserves_any_connector(OcppVersion::V201, "GetVariables", &v201("UnknownVariable", "")),
            None
        );
    }
}
