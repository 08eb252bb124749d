//! OCPP 2.0.1 requests.

use chrono::{DateTime, SecondsFormat, Utc};
use csms_domain::connection::{self, BootReport};
use csms_domain::reservation::{ReservationServices, StartSeen};
use csms_domain::transaction_event::{self, TransactionEvent};
use csms_domain::{
    Authorization, AuthorizationStatus, Component, Connection, IdToken, IdTokenError, IdTokenType, MeterSample,
    Registration, Services, SessionError, StationTransactionId, StatusReport, TransactionEventType,
};
use csms_ocpp::{Call, ErrorCode, v201::Request};
use rust_ocpp::v2_0_1::datatypes::id_token_info_type::IdTokenInfoType;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType as WireIdToken;
use rust_ocpp::v2_0_1::datatypes::meter_value_type::MeterValueType;
use rust_ocpp::v2_0_1::enumerations::authorization_status_enum_type::AuthorizationStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::id_token_enum_type::IdTokenEnumType;
use rust_ocpp::v2_0_1::enumerations::registration_status_enum_type::RegistrationStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::transaction_event_enum_type::TransactionEventEnumType;
use rust_ocpp::v2_0_1::messages::{
    authorize::AuthorizeResponse, boot_notification::BootNotificationResponse, heartbeat::HeartbeatResponse,
    meter_values::MeterValuesResponse, notify_event::NotifyEventResponse, notify_report::NotifyReportResponse,
    reservation_status_update::ReservationStatusUpdateResponse, status_notification::StatusNotificationResponse,
    transaction_event::TransactionEventResponse,
};

use crate::{Answer, WireSample, authorize, publish_status, unusable_token, wire_name};

pub(crate) async fn answer(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    request: Request,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Answer, SessionError> {
    Ok(match request {
        Request::BootNotification(req) => {
            let station = req.charging_station;
            let report = BootReport {
                vendor: station.vendor_name,
                model: station.model,
                serial_number: station.serial_number,
                firmware_version: station.firmware_version,
            };
            let decision = connection::boot(services, connection, report, now).await?;
            Answer::result(BootNotificationResponse {
                current_time: now,
                interval: decision.interval.min(u16::MAX as u32) as u16,
                status: match decision.status {
                    Registration::Accepted => RegistrationStatusEnumType::Accepted,
                    Registration::Pending => RegistrationStatusEnumType::Pending,
                    Registration::Rejected => RegistrationStatusEnumType::Rejected,
                },
                status_info: None,
            })
        }
        Request::Heartbeat(_) => Answer::result(HeartbeatResponse { current_time: now }),
        Request::StatusNotification(req) => {
            // The schema bounds both ids to non-negative integers.
            let report = StatusReport {
                station_id: connection.station_id.clone(),
                component: Component {
                    evse: Some(req.evse_id.max(0) as u32),
                    connector: req.connector_id.max(0) as u32,
                },
                status: wire_name(&req.connector_status),
                error_code: None,
                info: None,
                vendor_error_code: None,
                timestamp: req.timestamp,
                received_at: now,
            };
            publish_status(services, &report).await?;
            crate::reservations::reported(reservations, &report).await?;
            Answer::result(StatusNotificationResponse {})
        }
        Request::NotifyReport(req) => {
            // One entry per report part, so a retried part overwrites itself.
            let entry = format!("report#{}#{:010}", req.request_id, req.seq_no);
            services
                .station_events
                .store(&connection.station_id, &entry, &call.payload.to_string(), now)
                .await?;
            Answer::result(NotifyReportResponse {})
        }
        Request::NotifyEvent(req) => {
            let entry = format!(
                "event#{}#{:010}",
                req.generated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                req.seq_no
            );
            services
                .station_events
                .store(&connection.station_id, &entry, &call.payload.to_string(), now)
                .await?;
            Answer::result(NotifyEventResponse {})
        }
        Request::Authorize(req) => {
            let authorization = authorize(services, connection, id_token(&req.id_token), now).await?;
            Answer::result(AuthorizeResponse {
                certificate_status: None,
                id_token_info: id_token_info(&authorization),
            })
        }
        Request::TransactionEvent(req) => {
            // The schema admits what the domain cannot hold: an empty transaction id or one with
            // spaces or non-ASCII characters (2.0.1 makes it an identifierString, which has
            // neither), and a negative seqNo (they count from 0).
            let transaction_id = match StationTransactionId::parse(&req.transaction_info.transaction_id) {
                Ok(id) => id,
                Err(e) => {
                    return Ok(Answer::Error(
                        ErrorCode::PropertyConstraintViolation,
                        format!("transactionId: {e}"),
                    ));
                }
            };
            let Ok(seq_no) = u32::try_from(req.seq_no) else {
                let description = "seqNo: must not be negative".to_owned();
                return Ok(Answer::Error(ErrorCode::PropertyConstraintViolation, description));
            };
            let token = req.id_token.as_ref().map(id_token);
            let event = TransactionEvent {
                station: connection.station_id.clone(),
                organisation: connection.organisation.clone(),
                event_type: match req.event_type {
                    TransactionEventEnumType::Started => TransactionEventType::Started,
                    TransactionEventEnumType::Updated => TransactionEventType::Updated,
                    TransactionEventEnumType::Ended => TransactionEventType::Ended,
                },
                transaction_id,
                seq_no,
                timestamp: req.timestamp,
                trigger_reason: wire_name(&req.trigger_reason),
                offline: req.offline.unwrap_or(false),
                evse: req.evse.as_ref().and_then(|evse| u32::try_from(evse.id).ok()),
                connector: req
                    .evse
                    .as_ref()
                    .and_then(|evse| evse.connector_id)
                    .and_then(|id| u32::try_from(id).ok()),
                id_token: token.as_ref().and_then(|token| token.as_ref().ok()).cloned(),
                stopped_reason: req.transaction_info.stopped_reason.as_ref().map(wire_name),
                remote_start_id: req.transaction_info.remote_start_id,
                meter_values: samples(req.meter_value.as_deref().unwrap_or_default()),
            };
            let answer = transaction_event::transaction_event(&services.charging.ports(), &event, now).await?;
            // H01: a station that starts a transaction for a reservation names it.
            if req.reservation_id.is_some() {
                let start = StartSeen {
                    station: &event.station,
                    reservation: req.reservation_id,
                    spot: None,
                    token: event.id_token.as_ref(),
                    group: None,
                    transaction: event.transaction_id.to_string(),
                };
                crate::reservations::started(reservations, &start, now).await?;
            }
            tracing::info!(event = event.event_type.as_str(), seq_no, seq = ?answer.seq, "transaction event taken");
            let authorization = match token {
                // A token was sent that the domain cannot hold: it is no valid token.
                Some(Err(e)) => Some(unusable_token(&e)),
                _ => answer.id_token_info,
            };
            Answer::result(TransactionEventResponse {
                total_cost: None,
                charging_priority: None,
                id_token_info: authorization.as_ref().map(id_token_info),
                updated_personal_message: None,
            })
        }
        Request::ReservationStatusUpdate(req) => {
            let removed = wire_name(&req.reservation_update_status) == "Removed";
            crate::reservations::station_ended(reservations, &connection.station_id, req.reservation_id, removed)
                .await?;
            Answer::result(ReservationStatusUpdateResponse {})
        }
        Request::MeterValues(req) => {
            // Readings outside a transaction (2.0.1 J01): the domain keeps no station metering
            // yet, so they are checked, logged and accepted.
            let taken = samples(&req.meter_value);
            tracing::info!(evse = req.evse_id, samples = taken.len(), "station meter values taken");
            Answer::result(MeterValuesResponse {})
        }
        // Every typed 2.0.1 request is handled today; one csms-ocpp adds later is NotSupported
        // until it is.
        #[allow(unreachable_patterns)]
        other => Answer::Error(
            ErrorCode::NotSupported,
            format!("{} is recognized but not supported yet", other.action()),
        ),
    })
}

fn id_token(token: &WireIdToken) -> Result<IdToken, IdTokenError> {
    let kind = match token.kind {
        IdTokenEnumType::Central => IdTokenType::Central,
        IdTokenEnumType::EMAID => IdTokenType::EMaid,
        IdTokenEnumType::ISO14443 => IdTokenType::Iso14443,
        IdTokenEnumType::ISO15693 => IdTokenType::Iso15693,
        IdTokenEnumType::KeyCode => IdTokenType::KeyCode,
        IdTokenEnumType::Local => IdTokenType::Local,
        IdTokenEnumType::MacAddress => IdTokenType::MacAddress,
        IdTokenEnumType::NoAuthorization => IdTokenType::NoAuthorization,
    };
    IdToken::parse_201(&token.id_token, kind)
}

/// 2.0.1 IdTokenInfoType. A group without a type (a 1.6 parentIdTag) is a Central token: the
/// CSMS made it up.
fn id_token_info(authorization: &Authorization) -> IdTokenInfoType {
    IdTokenInfoType {
        status: match authorization.status {
            AuthorizationStatus::Accepted => AuthorizationStatusEnumType::Accepted,
            AuthorizationStatus::Blocked => AuthorizationStatusEnumType::Blocked,
            AuthorizationStatus::Expired => AuthorizationStatusEnumType::Expired,
            AuthorizationStatus::Invalid => AuthorizationStatusEnumType::Invalid,
        },
        cache_expiry_date_time: authorization.expiry,
        charging_priority: None,
        language1: None,
        evse_id: None,
        language2: None,
        group_id_token: authorization.group.as_ref().map(|group| WireIdToken {
            id_token: group.as_str().to_owned(),
            kind: id_token_kind(group.kind().unwrap_or(IdTokenType::Central)),
            additional_info: None,
        }),
        personal_message: None,
    }
}

fn id_token_kind(kind: IdTokenType) -> IdTokenEnumType {
    match kind {
        IdTokenType::Central => IdTokenEnumType::Central,
        IdTokenType::EMaid => IdTokenEnumType::EMAID,
        IdTokenType::Iso14443 => IdTokenEnumType::ISO14443,
        IdTokenType::Iso15693 => IdTokenEnumType::ISO15693,
        IdTokenType::KeyCode => IdTokenEnumType::KeyCode,
        IdTokenType::Local => IdTokenEnumType::Local,
        IdTokenType::MacAddress => IdTokenEnumType::MacAddress,
        IdTokenType::NoAuthorization => IdTokenEnumType::NoAuthorization,
    }
}

/// The readings of 2.0.1 meterValue lists. The value is a JSON number read exactly (Decimal);
/// unitOfMeasure's multiplier is a power of ten the domain applies.
fn samples(meter_values: &[MeterValueType]) -> Vec<MeterSample> {
    meter_values
        .iter()
        .flat_map(|meter_value| {
            meter_value.sampled_value.iter().filter_map(|sampled| {
                let unit = sampled.unit_of_measure.as_ref();
                WireSample {
                    timestamp: meter_value.timestamp,
                    value: &sampled.value.to_string(),
                    measurand: sampled.measurand.as_ref().map(wire_name),
                    phase: sampled.phase.as_ref().map(wire_name),
                    context: sampled.context.as_ref().map(wire_name),
                    unit: unit.and_then(|u| u.unit.clone()),
                    multiplier: unit.and_then(|u| u.multiplier).unwrap_or(0),
                }
                .to_domain()
            })
        })
        .collect()
}
