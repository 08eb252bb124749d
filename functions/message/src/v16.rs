//! OCPP 1.6J requests.

use chrono::{DateTime, Utc};
use csms_domain::connection::{self, BootReport};
use csms_domain::{Component, Connection, Registration, Services, StatusReport, StoreError};
use csms_ocpp::{Call, ErrorCode, v16::Request};
use rust_ocpp::v1_6::messages::{
    boot_notification::BootNotificationResponse, data_transfer::DataTransferResponse, heart_beat::HeartbeatResponse,
    status_notification::StatusNotificationResponse,
};
use rust_ocpp::v1_6::types::{DataTransferStatus, RegistrationStatus};

use crate::{Answer, publish_status, wire_name};

pub(crate) async fn answer(
    services: &Services,
    connection: &Connection,
    request: Request,
    _call: &Call,
    now: DateTime<Utc>,
) -> Result<Answer, StoreError> {
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
            Answer::result(StatusNotificationResponse {})
        }
        // No vendor extensions are known: the specified answer is UnknownVendorId.
        Request::DataTransfer(_) => Answer::result(DataTransferResponse {
            status: DataTransferStatus::UnknownVendorId,
            data: None,
        }),
        other => Answer::Error(
            ErrorCode::NotSupported,
            format!("{} is recognized but not supported yet", other.action()),
        ),
    })
}
