//! OCPP 2.0.1 requests.

use chrono::{DateTime, SecondsFormat, Utc};
use csms_domain::connection::{self, BootReport};
use csms_domain::{Component, Connection, Registration, Services, StatusReport, StoreError};
use csms_ocpp::{Call, ErrorCode, v201::Request};
use rust_ocpp::v2_0_1::enumerations::registration_status_enum_type::RegistrationStatusEnumType;
use rust_ocpp::v2_0_1::messages::{
    boot_notification::BootNotificationResponse, heartbeat::HeartbeatResponse, notify_event::NotifyEventResponse,
    notify_report::NotifyReportResponse, status_notification::StatusNotificationResponse,
};

use crate::{Answer, publish_status, wire_name};

pub(crate) async fn answer(
    services: &Services,
    connection: &Connection,
    request: Request,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<Answer, StoreError> {
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
        other => Answer::Error(
            ErrorCode::NotSupported,
            format!("{} is recognized but not supported yet", other.action()),
        ),
    })
}
