//! `$default`: every frame a pile sends. A CALL is validated and answered synchronously in the
//! route response; work the answer does not need goes to SQS. CALLRESULT / CALLERROR frames
//! answer the CSMS's own calls and get no reply.
//!
//! This crate only maps: rust-ocpp requests to domain requests, domain answers to rust-ocpp
//! responses. What a request means (authorization, transaction ids, session events) is decided by
//! the domain's use cases.
//!
//! Invariant: every CALL gets exactly one answer, a CALLRESULT or a CALLERROR.

mod answers;
mod reservations;
mod v16;
mod v201;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chrono::{DateTime, SubsecRound, Utc};
use csms_aws::lambda::route_response;
use csms_domain::reservation::ReservationServices;
use csms_domain::{
    Authorization, Connection, IdToken, IdTokenError, Measurand, MeterSample, Phase, ProtocolVersion, ReadingContext,
    Services, SessionError, StoreError, boot, id_token,
};
use csms_ocpp::{Call, CallError, ErrorCode, Frame, OcppVersion, Request};
use serde::Serialize;

/// How the CSMS answers a CALL.
enum Answer {
    Result(serde_json::Value),
    Error(ErrorCode, String),
}

impl Answer {
    fn result(payload: impl Serialize) -> Self {
        Answer::Result(serde_json::to_value(payload).expect("response types always serialize"))
    }
}

#[tracing::instrument(skip_all, fields(connection = event.request_context.connection_id.as_deref().unwrap_or("")))]
pub async fn handle(
    services: &Services,
    reservations: &ReservationServices,
    event: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
    let connection_id = event.request_context.connection_id.as_deref().unwrap_or_default();
    let body = event.body.as_deref().unwrap_or_default();
    let now = Utc::now().trunc_subsecs(3);
    let reply = match connection(services, connection_id).await {
        Ok(Some(connection)) => on_frame(services, reservations, &connection, body, now).await,
        Ok(None) => {
            // $connect always records the connection first; without it we do not know the version.
            // "InternalError" is spelled alike in 1.6 and 2.0.1.
            tracing::error!("frame on an unknown connection");
            unreadable_call_error(body, "connection is not known")
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "could not read the connection");
            unreadable_call_error(body, "temporary failure, retry later")
        }
    };
    Ok(route_response(200, reply))
}

/// The frame's connection. The cheap eventually consistent read can miss a connection opened or a
/// boot accepted a moment ago; only then is the answer checked with a strongly consistent read.
async fn connection(services: &Services, connection_id: &str) -> Result<Option<Connection>, StoreError> {
    match services.connections.get(connection_id).await? {
        Some(connection) if boot::may_send_requests(connection.boot) => Ok(Some(connection)),
        _ => services.connections.get_latest(connection_id).await,
    }
}

async fn on_frame(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    body: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let version = ocpp_version(connection.protocol);
    match csms_ocpp::parse_frame(version, body) {
        // OCPP 1.6 section 4.1.3: a message with an unknown MessageTypeId is ignored.
        Err(error) if version == OcppVersion::V16 && error.code == ErrorCode::MessageTypeNotSupported => {
            tracing::warn!(station = %connection.station_id, "frame with an unknown MessageTypeId ignored");
            None
        }
        Err(error) => {
            tracing::warn!(station = %connection.station_id, code = error.code.as_str(version), description = %error.description, "malformed frame");
            Some(error.to_frame(version))
        }
        Ok(Frame::Call(call)) => Some(on_call(services, reservations, connection, version, &call, now).await),
        Ok(frame) => {
            answers::on_answer(services, reservations, connection, version, frame, now).await;
            None
        }
    }
}

#[tracing::instrument(skip_all, fields(station = %connection.station_id, action = %csms_ocpp::for_log(&call.action), message = %call.message_id))]
async fn on_call(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    version: OcppVersion,
    call: &Call,
    now: DateTime<Utc>,
) -> String {
    let answer = match csms_ocpp::decode_request(version, call) {
        Err(error) => {
            tracing::warn!(code = error.code.as_str(version), description = %error.description, "invalid request");
            return error.to_frame(version);
        }
        Ok(request) => answer(services, reservations, connection, request, call, now).await,
    };
    match answer {
        Ok(Answer::Result(payload)) => csms_ocpp::call_result_frame(&call.message_id, &payload),
        Ok(Answer::Error(code, description)) => {
            tracing::warn!(code = code.as_str(version), %description, "request refused");
            CallError::new(call.message_id.as_str(), code, description).to_frame(version)
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "request failed");
            CallError::new(
                call.message_id.as_str(),
                ErrorCode::InternalError,
                "temporary failure, retry later",
            )
            .to_frame(version)
        }
    }
}

async fn answer(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    request: Request,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Answer, SessionError> {
    let is_boot = request.action() == "BootNotification";
    if !is_boot && !boot::may_send_requests(connection.boot) {
        let description = "BootNotification has not been accepted; only BootNotification is allowed";
        return Ok(Answer::Error(ErrorCode::SecurityError, description.into()));
    }
    let answer = match request {
        Request::V16(request) => v16::answer(services, reservations, connection, request, call, now).await?,
        Request::V201(request) => v201::answer(services, reservations, connection, request, call, now).await?,
    };
    if !is_boot {
        // Any accepted request shows the station is alive, not only Heartbeat.
        csms_domain::connection::seen(services, connection, now).await?;
    }
    Ok(answer)
}

fn ocpp_version(protocol: ProtocolVersion) -> OcppVersion {
    match protocol {
        ProtocolVersion::Ocpp16 => OcppVersion::V16,
        ProtocolVersion::Ocpp201 => OcppVersion::V201,
    }
}

/// An InternalError for a frame whose connection could not be read; 1.6 and 2.0.1 spell it alike.
fn unreadable_call_error(body: &str, description: &str) -> Option<String> {
    match csms_ocpp::parse_frame(OcppVersion::V201, body) {
        Ok(Frame::Call(call)) => {
            Some(CallError::new(call.message_id, ErrorCode::InternalError, description).to_frame(OcppVersion::V201))
        }
        Ok(_) => None,
        Err(error) => {
            Some(CallError::new(error.message_id, ErrorCode::InternalError, description).to_frame(OcppVersion::V201))
        }
    }
}

/// The wire name of an OCPP enum value (`ChargePointStatus::SuspendedEV` -> `"SuspendedEV"`).
fn wire_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Hands a status report to the status function, once per report.
async fn publish_status(services: &Services, report: &csms_domain::StatusReport) -> Result<(), StoreError> {
    // 2.0.1 gives retries a new message id, so the report's content is the identity.
    let dedup_key = format!(
        "{}|{}|{}|{}|{}",
        report.station_id,
        report.component,
        report.timestamp.to_rfc3339(),
        report.status,
        report.error_code.as_deref().unwrap_or("")
    );
    services
        .bus
        .status_reported(report, &dedup_key)
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Answers for a token from the registry of the station's organisation. A token the domain cannot
/// hold passed the schema, so it is answered Invalid rather than refused with a CALLERROR.
async fn authorize(
    services: &Services,
    connection: &Connection,
    token: Result<IdToken, IdTokenError>,
    now: DateTime<Utc>,
) -> Result<Authorization, StoreError> {
    match token {
        Ok(token) => {
            let organisation = connection.organisation.as_deref();
            id_token::authorize(services.charging.tokens.as_ref(), organisation, &token, now).await
        }
        Err(e) => Ok(unusable_token(&e)),
    }
}

fn unusable_token(error: &IdTokenError) -> Authorization {
    tracing::warn!(%error, "id token answered Invalid");
    Authorization::invalid()
}

/// One sampled value as either version sends it, by its wire names.
struct WireSample<'a> {
    timestamp: DateTime<Utc>,
    /// The decimal as text: 1.6 sends a string, 2.0.1 a JSON number (read exactly as a Decimal).
    value: &'a str,
    measurand: Option<String>,
    phase: Option<String>,
    context: Option<String>,
    unit: Option<String>,
    multiplier: i32,
}

impl WireSample<'_> {
    /// The domain's reading, in its base unit; None (logged) for a value that is no finite
    /// number: the rest of the message is still taken.
    fn to_domain(&self) -> Option<MeterSample> {
        let measurand = Measurand::parse(self.measurand.as_deref());
        let sample = MeterSample::parse_value(self.value).and_then(|value| {
            MeterSample::new(
                self.timestamp,
                measurand.clone(),
                value,
                self.unit.as_deref(),
                self.multiplier,
            )
        });
        match sample {
            Ok(sample) => Some(
                sample
                    .with_phase(self.phase.as_deref().and_then(Phase::parse))
                    .with_context(ReadingContext::parse(self.context.as_deref()).unwrap_or(ReadingContext::Other)),
            ),
            Err(error) => {
                let value = csms_ocpp::for_log(self.value);
                tracing::warn!(%error, measurand = measurand.as_str(), %value, "meter value left out");
                None
            }
        }
    }
}
