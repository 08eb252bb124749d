//! OCPP 1.6J request payloads, from the field tables of OCPP 1.6 (edition 2) sections 6 and 7, with
//! the OCA 1.6 JSON schemas (draft-04) as the judge where the two disagree:
//!
//! - DataTransfer `vendorId` is CiString255 and `data` has no maximum length (schema), where some
//!   readings of the PDF give 255 for `data`.
//! - StopTransaction `transactionData[].sampledValue` has no minimum item count in the schema
//!   (MeterValues' has one).
//! - The MeterValues schema also allows the unit `Hertz`, which neither the 1.6 PDF nor rust-ocpp's
//!   `UnitOfMeasure` knows: we refuse it (PropertyConstraintViolation), a documented divergence.
//!   `Celcius` (the PDF's spelling) and `Celsius` are both allowed, as in the schema.
//! - Integers land in rust-ocpp's `u32` (connector ids) and `i32` (everything else), so values
//!   outside those ranges are PropertyConstraintViolations although the schema sets no range; 1.6
//!   itself says connectorId >= 0.

use crate::schema::{Array, DATE_TIME, I32, Object, TEXT, U32, array_of, object, one_of, optional, required, string};

pub(crate) const fn closed(fields: &'static [crate::schema::Field]) -> Object {
    Object {
        fields,
        custom_data: false,
    }
}

/// IdToken (CiString20).
pub(crate) const ID_TOKEN: crate::schema::Schema = string(20);

pub static AUTHORIZE: Object = closed(&[required("idTag", ID_TOKEN)]);

pub static BOOT_NOTIFICATION: Object = closed(&[
    required("chargePointVendor", string(20)),
    required("chargePointModel", string(20)),
    optional("chargePointSerialNumber", string(25)),
    optional("chargeBoxSerialNumber", string(25)),
    optional("firmwareVersion", string(50)),
    optional("iccid", string(20)),
    optional("imsi", string(20)),
    optional("meterType", string(25)),
    optional("meterSerialNumber", string(25)),
]);

pub static DATA_TRANSFER: Object = closed(&[
    required("vendorId", string(255)),
    optional("messageId", string(50)),
    optional("data", TEXT),
]);

pub static DIAGNOSTICS_STATUS_NOTIFICATION: Object = closed(&[required(
    "status",
    one_of(&["Idle", "Uploaded", "UploadFailed", "Uploading"]),
)]);

pub static FIRMWARE_STATUS_NOTIFICATION: Object = closed(&[required(
    "status",
    one_of(&[
        "Downloaded",
        "DownloadFailed",
        "Downloading",
        "Idle",
        "InstallationFailed",
        "Installing",
        "Installed",
    ]),
)]);

pub static HEARTBEAT: Object = closed(&[]);

pub static METER_VALUES: Object = closed(&[
    required("connectorId", U32),
    optional("transactionId", I32),
    required(
        "meterValue",
        array_of(&Array {
            items: object(&METER_VALUE),
            min_items: 1,
            max_items: None,
        }),
    ),
]);

/// MeterValue as MeterValues carries it: at least one sampled value.
static METER_VALUE: Object = closed(&[
    required("timestamp", DATE_TIME),
    required(
        "sampledValue",
        array_of(&Array {
            items: object(&SAMPLED_VALUE),
            min_items: 1,
            max_items: None,
        }),
    ),
]);

/// MeterValue as StopTransaction.transactionData carries it (no minimum in the schema).
static TRANSACTION_DATA_METER_VALUE: Object = closed(&[
    required("timestamp", DATE_TIME),
    required(
        "sampledValue",
        array_of(&Array {
            items: object(&SAMPLED_VALUE),
            min_items: 0,
            max_items: None,
        }),
    ),
]);

static SAMPLED_VALUE: Object = closed(&[
    required("value", TEXT),
    optional(
        "context",
        one_of(&[
            "Interruption.Begin",
            "Interruption.End",
            "Sample.Clock",
            "Sample.Periodic",
            "Transaction.Begin",
            "Transaction.End",
            "Trigger",
            "Other",
        ]),
    ),
    optional("format", one_of(&["Raw", "SignedData"])),
    optional(
        "measurand",
        one_of(&[
            "Energy.Active.Export.Register",
            "Energy.Active.Import.Register",
            "Energy.Reactive.Export.Register",
            "Energy.Reactive.Import.Register",
            "Energy.Active.Export.Interval",
            "Energy.Active.Import.Interval",
            "Energy.Reactive.Export.Interval",
            "Energy.Reactive.Import.Interval",
            "Power.Active.Export",
            "Power.Active.Import",
            "Power.Offered",
            "Power.Reactive.Export",
            "Power.Reactive.Import",
            "Power.Factor",
            "Current.Import",
            "Current.Export",
            "Current.Offered",
            "Voltage",
            "Frequency",
            "Temperature",
            "SoC",
            "RPM",
        ]),
    ),
    optional(
        "phase",
        one_of(&["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"]),
    ),
    optional("location", one_of(&["Cable", "EV", "Inlet", "Outlet", "Body"])),
    optional(
        "unit",
        one_of(&[
            "Wh",
            "kWh",
            "varh",
            "kvarh",
            "W",
            "kW",
            "VA",
            "kVA",
            "var",
            "kvar",
            "A",
            "V",
            "K",
            "Celcius",
            "Celsius",
            "Fahrenheit",
            "Percent",
        ]),
    ),
]);

pub static START_TRANSACTION: Object = closed(&[
    required("connectorId", U32),
    required("idTag", ID_TOKEN),
    required("meterStart", I32),
    optional("reservationId", I32),
    required("timestamp", DATE_TIME),
]);

pub static STATUS_NOTIFICATION: Object = closed(&[
    required("connectorId", U32),
    required(
        "errorCode",
        one_of(&[
            "ConnectorLockFailure",
            "EVCommunicationError",
            "GroundFailure",
            "HighTemperature",
            "InternalError",
            "LocalListConflict",
            "NoError",
            "OtherError",
            "OverCurrentFailure",
            "PowerMeterFailure",
            "PowerSwitchFailure",
            "ReaderFailure",
            "ResetFailure",
            "UnderVoltage",
            "OverVoltage",
            "WeakSignal",
        ]),
    ),
    optional("info", string(50)),
    required(
        "status",
        one_of(&[
            "Available",
            "Preparing",
            "Charging",
            "SuspendedEVSE",
            "SuspendedEV",
            "Finishing",
            "Reserved",
            "Unavailable",
            "Faulted",
        ]),
    ),
    optional("timestamp", DATE_TIME),
    optional("vendorId", string(255)),
    optional("vendorErrorCode", string(50)),
]);

pub static STOP_TRANSACTION: Object = closed(&[
    optional("idTag", ID_TOKEN),
    required("meterStop", I32),
    required("timestamp", DATE_TIME),
    required("transactionId", I32),
    optional(
        "reason",
        one_of(&[
            "EmergencyStop",
            "EVDisconnected",
            "HardReset",
            "Local",
            "Other",
            "PowerLoss",
            "Reboot",
            "Remote",
            "SoftReset",
            "UnlockCommand",
            "DeAuthorized",
        ]),
    ),
    optional(
        "transactionData",
        array_of(&Array {
            items: object(&TRANSACTION_DATA_METER_VALUE),
            min_items: 0,
            max_items: None,
        }),
    ),
]);
