//! OCPP 1.6J requests.

use chrono::{DateTime, Utc};
use csms_domain::connection::{self, BootReport};
use csms_domain::reservation::{ReservationServices, StartSeen};
use csms_domain::transaction::{self, MeterValues, StartTransaction, StopTransaction};
use csms_domain::{
    Authorization, AuthorizationStatus, Component, Connection, IdToken, MeterSample, Registration, Services,
    SessionError, StatusReport,
};
use csms_ocpp::{Call, ErrorCode, v16::Request};
use rust_ocpp::v1_6::messages::{
    authorize::AuthorizeResponse, boot_notification::BootNotificationResponse, data_transfer::DataTransferResponse,
    heart_beat::HeartbeatResponse, meter_values::MeterValuesResponse, start_transaction::StartTransactionResponse,
    status_notification::StatusNotificationResponse, stop_transaction::StopTransactionResponse,
};
use rust_ocpp::v1_6::types::{
    AuthorizationStatus as WireStatus, DataTransferStatus, IdTagInfo, MeterValue, RegistrationStatus, ValueFormat,
};

use crate::{Answer, WireSample, authorize, publish_status, unusable_token, wire_name};

pub(crate) async fn answer(
    services: &Services,
    reservations: &ReservationServices,
    connection: &Connection,
    request: Request,
    _call: &Call,
    now: DateTime<Utc>,
) -> Result<Answer, SessionError> {
    Ok(match request {
        Request::BootNotification(req) => {
            let report = BootReport {
                vendor: req.charge_point_vendor,
                model: req.charge_point_model,
                serial_number: req.charge_point_serial_number.or(req.charge_box_serial_number),
                firmware_version: req.firmware_version,
            };
            let decision = connection::boot(services, connection, report, now).await?;
            Answer::result(BootNotificationResponse {
                current_time: now,
                interval: decision.interval,
                status: match decision.status {
                    Registration::Accepted => RegistrationStatus::Accepted,
                    Registration::Pending => RegistrationStatus::Pending,
                    Registration::Rejected => RegistrationStatus::Rejected,
                },
            })
        }
        Request::Heartbeat(_) => Answer::result(HeartbeatResponse { current_time: now }),
        Request::StatusNotification(req) => {
            let report = StatusReport {
                station_id: connection.station_id.clone(),
                component: Component {
                    evse: None,
                    connector: req.connector_id,
                },
                status: wire_name(&req.status),
                error_code: Some(wire_name(&req.error_code)),
                info: req.info,
                vendor_error_code: req.vendor_error_code,
                // Optional in 1.6: without it, the time of receipt.
                timestamp: req.timestamp.unwrap_or(now),
                received_at: now,
            };
            publish_status(services, &report).await?;
            crate::reservations::reported(reservations, &report).await?;
            Answer::result(StatusNotificationResponse {})
        }
        // No vendor extensions are known: the specified answer is UnknownVendorId.
        Request::DataTransfer(_) => Answer::result(DataTransferResponse {
            status: DataTransferStatus::UnknownVendorId,
            data: None,
        }),
        Request::Authorize(req) => {
            let authorization = authorize(services, connection, IdToken::parse_16(&req.id_tag), now).await?;
            Answer::result(AuthorizeResponse {
                id_tag_info: id_tag_info(&authorization),
            })
        }
        Request::StartTransaction(req) => {
            let Ok(id_tag) = IdToken::parse_16(&req.id_tag) else {
                // The domain cannot hold this tag, so no transaction can be recorded for it. The
                // answer must still carry an id: 0, which the CSMS never hands out, so the stop
                // and meter values that may follow are recorded as anomalies for the operator.
                // The idTag is personal data: its length tells what went wrong, not its value.
                let length = req.id_tag.chars().count();
                tracing::warn!(length, "StartTransaction with an unusable idTag answered Invalid");
                return Ok(Answer::result(StartTransactionResponse {
                    id_tag_info: id_tag_info(&Authorization::invalid()),
                    transaction_id: 0,
                }));
            };
            let request = StartTransaction {
                station: connection.station_id.clone(),
                organisation: connection.organisation.clone(),
                connector: req.connector_id,
                id_tag,
                meter_start_wh: req.meter_start.into(),
                timestamp: req.timestamp,
                reservation_id: req.reservation_id,
            };
            let started = transaction::start_transaction(&services.charging.ports(), &request, now).await?;
            // 1.6 section 5.13: the reservation named, or the one on this connector for this tag.
            let start = StartSeen {
                station: &request.station,
                reservation: request.reservation_id,
                spot: crate::reservations::spot_16(request.connector),
                token: Some(&request.id_tag),
                group: started.id_tag_info.group.as_ref(),
                transaction: started.transaction_id.get().to_string(),
            };
            crate::reservations::started(reservations, &start, now).await?;
            Answer::result(StartTransactionResponse {
                id_tag_info: id_tag_info(&started.id_tag_info),
                transaction_id: started.transaction_id.get(),
            })
        }
        Request::MeterValues(req) => {
            let request = MeterValues {
                station: connection.station_id.clone(),
                connector: req.connector_id,
                transaction_id: req.transaction_id,
                samples: samples(&req.meter_value),
            };
            let outcome = transaction::meter_values(&services.charging.ports(), &request, now).await?;
            tracing::debug!(?outcome, samples = request.samples.len(), "meter values taken");
            Answer::result(MeterValuesResponse {})
        }
        Request::StopTransaction(req) => {
            // Never refused (1.6 section 4.10): whatever the outcome, a CALLRESULT.
            let id_tag = req.id_tag.as_deref().map(IdToken::parse_16);
            let request = StopTransaction {
                station: connection.station_id.clone(),
                organisation: connection.organisation.clone(),
                transaction_id: req.transaction_id,
                id_tag: id_tag.as_ref().and_then(|tag| tag.as_ref().ok()).cloned(),
                meter_stop_wh: req.meter_stop.into(),
                timestamp: req.timestamp,
                reason: req.reason.as_ref().map(wire_name),
                transaction_data: samples(req.transaction_data.as_deref().unwrap_or_default()),
            };
            let stopped = transaction::stop_transaction(&services.charging.ports(), &request, now).await?;
            tracing::info!(outcome = ?stopped.outcome, "transaction stop taken");
            let authorization = match id_tag {
                // A tag was sent that the domain cannot hold: it is no valid tag.
                Some(Err(e)) => Some(unusable_token(&e)),
                _ => stopped.id_tag_info,
            };
            Answer::result(StopTransactionResponse {
                id_tag_info: authorization.as_ref().map(id_tag_info),
            })
        }
        other => Answer::Error(
            ErrorCode::NotSupported,
            format!("{} is recognized but not supported yet", other.action()),
        ),
    })
}

/// 1.6 IdTagInfo. A parentIdTag is at most 20 characters: a longer (2.0.1) group is left out.
fn id_tag_info(authorization: &Authorization) -> IdTagInfo {
    IdTagInfo {
        expiry_date: authorization.expiry,
        parent_id_tag: authorization
            .group
            .as_ref()
            .map(|group| group.as_str().to_owned())
            .filter(|group| group.len() <= IdToken::MAX_LEN_16),
        status: match authorization.status {
            AuthorizationStatus::Accepted => WireStatus::Accepted,
            AuthorizationStatus::Blocked => WireStatus::Blocked,
            AuthorizationStatus::Expired => WireStatus::Expired,
            AuthorizationStatus::Invalid => WireStatus::Invalid,
        },
    }
}

/// The numeric readings of 1.6 MeterValue lists. SignedData values are signed blobs, not
/// numbers, and are left out, as is any value that does not parse (logged).
fn samples(meter_values: &[MeterValue]) -> Vec<MeterSample> {
    meter_values
        .iter()
        .flat_map(|meter_value| {
            meter_value
                .sampled_value
                .iter()
                .filter(|sampled| sampled.format != Some(ValueFormat::SignedData))
                .filter_map(|sampled| {
                    WireSample {
                        timestamp: meter_value.timestamp,
                        value: &sampled.value,
                        measurand: sampled.measurand.as_ref().map(wire_name),
                        phase: sampled.phase.as_ref().map(wire_name),
                        context: sampled.context.as_ref().map(wire_name),
                        unit: sampled.unit.as_ref().map(wire_name),
                        // 1.6 has no multiplier.
                        multiplier: 0,
                    }
                    .to_domain()
                })
        })
        .collect()
}
