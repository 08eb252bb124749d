//! Turning an operator's or app's request into a [`Command`] ready to submit: the OCPP version
//! it is written for, a time-ordered id, a deadline, and a payload checked against the action's
//! schema before anything is queued, so a bad request is refused at once with the reason.

use chrono::{DateTime, Duration, Utc};
use csms_domain::command::{Command, CommandId, MAX_TIMEOUT};
use csms_domain::token_registry::{self, TokenRegistryError};
use csms_domain::{IdToken, IdTokenType, ProtocolVersion, Services, Station, StationId, StoreError};
use csms_ocpp::{CommandPayloadError, OcppVersion};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no station {0}")]
    UnknownStation(StationId),
    #[error("station {station} may speak {allowed}; it is not connected, so say which version the command is for")]
    AmbiguousProtocol { station: StationId, allowed: String },
    #[error("{0}")]
    Payload(#[from] CommandPayloadError),
    #[error("the payload must be a JSON object")]
    NotAnObject,
    #[error("the timeout must be between 1 second and {} minutes", MAX_TIMEOUT.num_minutes())]
    Timeout,
    /// A remote start by someone other than the token's driver, on a token that is not the
    /// station's organisation's own unbound one.
    #[error(transparent)]
    NotAServiceToken(csms_domain::token_registry::TokenRegistryError),
    #[error("the command's frame is {0} bytes; a pile can be sent at most 128 KB ({MAX_FRAME_BYTES} bytes) a message")]
    TooLarge(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// API Gateway carries at most 128 KB a WebSocket message (also `PostToConnection`'s limit): a
/// larger CALL can never reach the pile, so it is refused before it is queued.
pub const MAX_FRAME_BYTES: usize = 128 * 1024;

pub fn ocpp_version(protocol: ProtocolVersion) -> OcppVersion {
    match protocol {
        ProtocolVersion::Ocpp16 => OcppVersion::V16,
        ProtocolVersion::Ocpp201 => OcppVersion::V201,
    }
}

/// The version a command for the station must be written in: the one its live connection speaks,
/// else the only one it is registered for.
pub async fn station_protocol(services: &Services, station: &StationId) -> Result<ProtocolVersion, RequestError> {
    Ok(target(services, station).await?.1)
}

/// The station a command goes to, and the version it must be written in.
pub async fn target(services: &Services, station: &StationId) -> Result<(Station, ProtocolVersion), RequestError> {
    let record = services
        .stations
        .get(station)
        .await?
        .ok_or_else(|| RequestError::UnknownStation(station.clone()))?;
    if let Some(connection_id) = &record.connection_id
        && let Some(connection) = services.connections.get_latest(connection_id).await?
    {
        return Ok((record, connection.protocol));
    }
    match record.protocols.as_slice() {
        [only] => Ok((record.clone(), *only)),
        many => Err(RequestError::AmbiguousProtocol {
            station: station.clone(),
            allowed: many.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", "),
        }),
    }
}

/// A new command. For 2.0.1 RequestStartTransaction a `remoteStartId` is chosen when the request
/// has none: the pile echoes it in the TransactionEvent that starts the session, which links the
/// session to the command.
pub fn new_command(
    station: StationId,
    protocol: ProtocolVersion,
    action: &str,
    payload: Value,
    timeout: Duration,
    now: DateTime<Utc>,
) -> Result<Command, RequestError> {
    new_command_with_id(new_id(), station, protocol, action, payload, timeout, now)
}

/// A new command id: a UUIDv7, so a station's commands sort by creation.
pub fn new_id() -> CommandId {
    CommandId::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID is a valid message id")
}

/// Like [`new_command`], with an id chosen beforehand (a local list update is planned under the
/// id of the command that carries it).
pub fn new_command_with_id(
    id: CommandId,
    station: StationId,
    protocol: ProtocolVersion,
    action: &str,
    mut payload: Value,
    timeout: Duration,
    now: DateTime<Utc>,
) -> Result<Command, RequestError> {
    if timeout < Duration::seconds(1) || timeout > MAX_TIMEOUT {
        return Err(RequestError::Timeout);
    }
    let object = payload.as_object_mut().ok_or(RequestError::NotAnObject)?;
    if protocol == ProtocolVersion::Ocpp201
        && action == "RequestStartTransaction"
        && !object.contains_key("remoteStartId")
    {
        object.insert("remoteStartId".into(), Value::from(remote_start_id()));
    }
    csms_ocpp::validate_command_request(ocpp_version(protocol), action, &mut payload)?;
    let bytes = csms_ocpp::call_frame(id.as_str(), action, &payload).len();
    if bytes > MAX_FRAME_BYTES {
        return Err(RequestError::TooLarge(bytes));
    }
    Ok(Command {
        id,
        station,
        protocol,
        action: action.to_owned(),
        payload: payload.to_string(),
        deadline: now + timeout,
        created_at: now,
        requested_by: None,
    })
}

/// A random positive 31-bit integer (remoteStartId is an integer; ids only need to differ
/// between the station's recent remote starts).
pub fn remote_start_id() -> i32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    i32::try_from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) >> 1)
        .unwrap_or(i32::MAX)
        .max(1)
}

/// Refuses a remote start that would charge on someone else's token: when anyone but the token's
/// driver (an operator, the command-line tool) starts charging, the token must be one of the
/// station's organisation's own that no driver holds (`token_registry::check_remote_start`), so
/// no session is attributed to a driver who did not start it. Other commands pass.
pub async fn check_not_on_a_drivers_token(
    services: &Services,
    station: &Station,
    command: &Command,
) -> Result<(), RequestError> {
    let payload: Value = serde_json::from_str(&command.payload).map_err(|_| RequestError::NotAnObject)?;
    let Some(token) = csms_ocpp::remote_start_token(ocpp_version(command.protocol), &command.action, &payload) else {
        return Ok(());
    };
    let token = match token.kind.as_deref().map(IdTokenType::parse) {
        None => IdToken::parse_16(&token.value),
        Some(Some(kind)) => IdToken::parse_201(&token.value, kind),
        // The schema admits only the version's types.
        Some(None) => return Err(RequestError::NotAServiceToken(TokenRegistryError::NotAServiceToken)),
    };
    let Ok(token) = token else {
        return Err(RequestError::NotAServiceToken(TokenRegistryError::NotAServiceToken));
    };
    match token_registry::check_remote_start(&*services.charging.tokens, station.organisation.as_deref(), &token).await
    {
        Ok(()) => Ok(()),
        Err(TokenRegistryError::Store(e)) => Err(RequestError::Store(e)),
        Err(e) => Err(RequestError::NotAServiceToken(e)),
    }
}

/// The CALL frame of a command, after checking its payload against the action's schema again
/// (the queue is an interface: whatever sent it, an invalid payload never reaches a pile).
pub fn call_frame(command: &Command) -> Result<String, String> {
    let mut payload: Value = serde_json::from_str(&command.payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    csms_ocpp::validate_command_request(ocpp_version(command.protocol), &command.action, &mut payload)
        .map_err(|e| e.to_string())?;
    let frame = csms_ocpp::call_frame(command.id.as_str(), &command.action, &payload);
    if frame.len() > MAX_FRAME_BYTES {
        return Err(RequestError::TooLarge(frame.len()).to_string());
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn station() -> StationId {
        StationId::parse("CP-1").unwrap()
    }

    #[test]
    fn a_remote_start_gets_a_remote_start_id_and_a_time_ordered_id() {
        let now = Utc::now();
        let payload = json!({"idToken": {"idToken": "ABC", "type": "Central"}});
        let a = new_command(
            station(),
            ProtocolVersion::Ocpp201,
            "RequestStartTransaction",
            payload.clone(),
            Duration::seconds(30),
            now,
        )
        .unwrap();
        let b = new_command(
            station(),
            ProtocolVersion::Ocpp201,
            "RequestStartTransaction",
            payload,
            Duration::seconds(30),
            now,
        )
        .unwrap();
        let sent: Value = serde_json::from_str(&a.payload).unwrap();
        assert!(sent["remoteStartId"].as_i64().unwrap() > 0);
        assert!(a.id < b.id, "UUIDv7 ids sort by creation");
        assert_eq!(a.deadline, now + Duration::seconds(30));
        let frame = call_frame(&a).unwrap();
        assert!(frame.starts_with(&format!(r#"[2,"{}","RequestStartTransaction",{{"#, a.id)));
    }

    #[test]
    fn bad_requests_are_refused_with_the_reason() {
        let now = Utc::now();
        let long_tag = json!({"idTag": "X".repeat(21)});
        let err = new_command(
            station(),
            ProtocolVersion::Ocpp16,
            "RemoteStartTransaction",
            long_tag,
            Duration::seconds(30),
            now,
        )
        .unwrap_err();
        assert!(err.to_string().contains("idTag"), "{err}");
        let err = new_command(
            station(),
            ProtocolVersion::Ocpp16,
            "Fly",
            json!({}),
            Duration::seconds(30),
            now,
        )
        .unwrap_err();
        assert!(
            matches!(err, RequestError::Payload(CommandPayloadError::UnknownAction { .. })),
            "{err}"
        );
        let err = new_command(
            station(),
            ProtocolVersion::Ocpp16,
            "ClearCache",
            json!([]),
            Duration::seconds(30),
            now,
        )
        .unwrap_err();
        assert!(matches!(err, RequestError::NotAnObject));
        let err = new_command(
            station(),
            ProtocolVersion::Ocpp16,
            "ClearCache",
            json!({}),
            Duration::minutes(16),
            now,
        )
        .unwrap_err();
        assert!(matches!(err, RequestError::Timeout));
    }
}
