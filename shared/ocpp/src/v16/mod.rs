//! OCPP 1.6J: the actions the version defines, the typed requests this crate decodes and the
//! remote commands the CSMS sends ([`commands`]).

pub mod commands;
pub mod schemas;

pub use rust_ocpp::v1_6::messages::{
    authorize::AuthorizeRequest, boot_notification::BootNotificationRequest, data_transfer::DataTransferRequest,
    diagnostics_status_notification::DiagnosticsStatusNotificationRequest,
    firmware_status_notification::FirmwareStatusNotificationRequest, heart_beat::HeartbeatRequest,
    meter_values::MeterValuesRequest, start_transaction::StartTransactionRequest,
    status_notification::StatusNotificationRequest, stop_transaction::StopTransactionRequest,
};

crate::requests! { crate::OcppVersion::V16;
    Authorize(AuthorizeRequest) => schemas::AUTHORIZE,
    BootNotification(BootNotificationRequest) => schemas::BOOT_NOTIFICATION,
    DataTransfer(DataTransferRequest) => schemas::DATA_TRANSFER,
    DiagnosticsStatusNotification(DiagnosticsStatusNotificationRequest) => schemas::DIAGNOSTICS_STATUS_NOTIFICATION,
    FirmwareStatusNotification(FirmwareStatusNotificationRequest) => schemas::FIRMWARE_STATUS_NOTIFICATION,
    Heartbeat(HeartbeatRequest) => schemas::HEARTBEAT,
    MeterValues(MeterValuesRequest) => schemas::METER_VALUES,
    StartTransaction(StartTransactionRequest) => schemas::START_TRANSACTION,
    StatusNotification(StatusNotificationRequest) => schemas::STATUS_NOTIFICATION,
    StopTransaction(StopTransactionRequest) => schemas::STOP_TRANSACTION,
}

/// Every action OCPP 1.6J defines, both directions: the spec's profiles (Core, Firmware Management,
/// Local Auth List Management, Reservation, Smart Charging, Remote Trigger) and the messages of the
/// 1.6 Security Whitepaper (edition 2), whose schemas ship with the OCA 1.6 schema set.
pub const ACTIONS: &[&str] = &[
    // Charge point -> central system
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    // Central system -> charge point
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    // Security Whitepaper, charge point -> central system
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    // Security Whitepaper, central system -> charge point
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
];
