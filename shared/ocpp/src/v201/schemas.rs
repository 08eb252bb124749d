//! OCPP 2.0.1 request payloads, from the message and datatype tables of OCPP 2.0.1 Part 2
//! (messages section and "Datatypes"), with the OCA 2.0.1 JSON schemas (draft-06) as the judge.
//!
//! Every object is closed except `customData` (CustomDataType: `vendorId` <= 255 required, any other
//! property allowed), which every object may carry. Integers land in rust-ocpp's `i32`, decimals
//! (`type: number`) in `rust_decimal::Decimal`; values beyond those are PropertyConstraintViolations
//! although the schema sets no range.

use crate::schema::{
    Array, BOOLEAN, DATE_TIME, DECIMAL, Field, I32, Object, Schema, array_of, object, one_of, optional, required,
    string,
};

/// A closed object that may also carry `customData`, as every 2.0.1 class.
pub(crate) const fn class(fields: &'static [Field]) -> Object {
    Object {
        fields,
        custom_data: true,
    }
}

// --- Messages ---------------------------------------------------------------------------------

pub static AUTHORIZE: Object = class(&[
    required("idToken", object(&ID_TOKEN)),
    optional("certificate", string(5500)),
    optional(
        "iso15118CertificateHashData",
        array_of(&Array {
            items: object(&OCSP_REQUEST_DATA),
            min_items: 1,
            max_items: Some(4),
        }),
    ),
]);

pub static BOOT_NOTIFICATION: Object = class(&[
    required("chargingStation", object(&CHARGING_STATION)),
    required(
        "reason",
        one_of(&[
            "ApplicationReset",
            "FirmwareUpdate",
            "LocalReset",
            "PowerUp",
            "RemoteReset",
            "ScheduledReset",
            "Triggered",
            "Unknown",
            "Watchdog",
        ]),
    ),
]);

pub static HEARTBEAT: Object = class(&[]);

pub static METER_VALUES: Object = class(&[required("evseId", I32), required("meterValue", METER_VALUE_LIST)]);

pub static NOTIFY_EVENT: Object = class(&[
    required("generatedAt", DATE_TIME),
    optional("tbc", BOOLEAN),
    required("seqNo", I32),
    required(
        "eventData",
        array_of(&Array {
            items: object(&EVENT_DATA),
            min_items: 1,
            max_items: None,
        }),
    ),
]);

pub static NOTIFY_REPORT: Object = class(&[
    required("requestId", I32),
    required("generatedAt", DATE_TIME),
    optional(
        "reportData",
        array_of(&Array {
            items: object(&REPORT_DATA),
            min_items: 1,
            max_items: None,
        }),
    ),
    optional("tbc", BOOLEAN),
    required("seqNo", I32),
]);

pub static RESERVATION_STATUS_UPDATE: Object = class(&[
    required("reservationId", I32),
    required("reservationUpdateStatus", one_of(&["Expired", "Removed"])),
]);

pub static STATUS_NOTIFICATION: Object = class(&[
    required("timestamp", DATE_TIME),
    required(
        "connectorStatus",
        one_of(&["Available", "Occupied", "Reserved", "Unavailable", "Faulted"]),
    ),
    required("evseId", I32),
    required("connectorId", I32),
]);

pub static TRANSACTION_EVENT: Object = class(&[
    required("eventType", one_of(&["Ended", "Started", "Updated"])),
    optional("meterValue", METER_VALUE_LIST),
    required("timestamp", DATE_TIME),
    required(
        "triggerReason",
        one_of(&[
            "Authorized",
            "CablePluggedIn",
            "ChargingRateChanged",
            "ChargingStateChanged",
            "Deauthorized",
            "EnergyLimitReached",
            "EVCommunicationLost",
            "EVConnectTimeout",
            "MeterValueClock",
            "MeterValuePeriodic",
            "TimeLimitReached",
            "Trigger",
            "UnlockCommand",
            "StopAuthorized",
            "EVDeparted",
            "EVDetected",
            "RemoteStop",
            "RemoteStart",
            "AbnormalCondition",
            "SignedDataReceived",
            "ResetCommand",
        ]),
    ),
    required("seqNo", I32),
    optional("offline", BOOLEAN),
    optional("numberOfPhasesUsed", I32),
    optional("cableMaxCurrent", I32),
    optional("reservationId", I32),
    required("transactionInfo", object(&TRANSACTION)),
    optional("evse", object(&EVSE)),
    optional("idToken", object(&ID_TOKEN)),
]);

// --- Datatypes --------------------------------------------------------------------------------

static ADDITIONAL_INFO: Object = class(&[required("additionalIdToken", string(36)), required("type", string(50))]);

static CHARGING_STATION: Object = class(&[
    optional("serialNumber", string(25)),
    required("model", string(20)),
    optional("modem", object(&MODEM)),
    required("vendorName", string(50)),
    optional("firmwareVersion", string(50)),
]);

pub(crate) static COMPONENT: Object = class(&[
    optional("evse", object(&EVSE)),
    required("name", string(50)),
    optional("instance", string(50)),
]);

static EVENT_DATA: Object = class(&[
    required("eventId", I32),
    required("timestamp", DATE_TIME),
    required("trigger", one_of(&["Alerting", "Delta", "Periodic"])),
    optional("cause", I32),
    required("actualValue", string(2500)),
    optional("techCode", string(50)),
    optional("techInfo", string(500)),
    optional("cleared", BOOLEAN),
    optional("transactionId", string(36)),
    required("component", object(&COMPONENT)),
    optional("variableMonitoringId", I32),
    required(
        "eventNotificationType",
        one_of(&[
            "HardWiredNotification",
            "HardWiredMonitor",
            "PreconfiguredMonitor",
            "CustomMonitor",
        ]),
    ),
    required("variable", object(&VARIABLE)),
]);

pub(crate) static EVSE: Object = class(&[required("id", I32), optional("connectorId", I32)]);

pub(crate) static ID_TOKEN: Object = class(&[
    optional(
        "additionalInfo",
        array_of(&Array {
            items: object(&ADDITIONAL_INFO),
            min_items: 1,
            max_items: None,
        }),
    ),
    required("idToken", string(36)),
    required(
        "type",
        one_of(&[
            "Central",
            "eMAID",
            "ISO14443",
            "ISO15693",
            "KeyCode",
            "Local",
            "MacAddress",
            "NoAuthorization",
        ]),
    ),
]);

/// `meterValue`: MeterValueType 1..*.
const METER_VALUE_LIST: Schema = array_of(&METER_VALUES_1_N);
static METER_VALUES_1_N: Array = Array {
    items: object(&METER_VALUE),
    min_items: 1,
    max_items: None,
};

static METER_VALUE: Object = class(&[
    required(
        "sampledValue",
        array_of(&Array {
            items: object(&SAMPLED_VALUE),
            min_items: 1,
            max_items: None,
        }),
    ),
    required("timestamp", DATE_TIME),
]);

static MODEM: Object = class(&[optional("iccid", string(20)), optional("imsi", string(20))]);

static OCSP_REQUEST_DATA: Object = class(&[
    required("hashAlgorithm", one_of(&["SHA256", "SHA384", "SHA512"])),
    required("issuerNameHash", string(128)),
    required("issuerKeyHash", string(128)),
    required("serialNumber", string(40)),
    required("responderURL", string(512)),
]);

static REPORT_DATA: Object = class(&[
    required("component", object(&COMPONENT)),
    required("variable", object(&VARIABLE)),
    required(
        "variableAttribute",
        array_of(&Array {
            items: object(&VARIABLE_ATTRIBUTE),
            min_items: 1,
            max_items: Some(4),
        }),
    ),
    optional("variableCharacteristics", object(&VARIABLE_CHARACTERISTICS)),
]);

static SAMPLED_VALUE: Object = class(&[
    required("value", DECIMAL),
    optional(
        "context",
        one_of(&[
            "Interruption.Begin",
            "Interruption.End",
            "Other",
            "Sample.Clock",
            "Sample.Periodic",
            "Transaction.Begin",
            "Transaction.End",
            "Trigger",
        ]),
    ),
    optional(
        "measurand",
        one_of(&[
            "Current.Export",
            "Current.Import",
            "Current.Offered",
            "Energy.Active.Export.Register",
            "Energy.Active.Import.Register",
            "Energy.Reactive.Export.Register",
            "Energy.Reactive.Import.Register",
            "Energy.Active.Export.Interval",
            "Energy.Active.Import.Interval",
            "Energy.Active.Net",
            "Energy.Reactive.Export.Interval",
            "Energy.Reactive.Import.Interval",
            "Energy.Reactive.Net",
            "Energy.Apparent.Net",
            "Energy.Apparent.Import",
            "Energy.Apparent.Export",
            "Frequency",
            "Power.Active.Export",
            "Power.Active.Import",
            "Power.Factor",
            "Power.Offered",
            "Power.Reactive.Export",
            "Power.Reactive.Import",
            "SoC",
            "Voltage",
        ]),
    ),
    optional(
        "phase",
        one_of(&["L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"]),
    ),
    optional("location", one_of(&["Body", "Cable", "EV", "Inlet", "Outlet"])),
    optional("signedMeterValue", object(&SIGNED_METER_VALUE)),
    optional("unitOfMeasure", object(&UNIT_OF_MEASURE)),
]);

static SIGNED_METER_VALUE: Object = class(&[
    required("signedMeterData", string(2500)),
    required("signingMethod", string(50)),
    required("encodingMethod", string(50)),
    required("publicKey", string(2500)),
]);

static TRANSACTION: Object = class(&[
    required("transactionId", string(36)),
    optional(
        "chargingState",
        one_of(&["Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle"]),
    ),
    optional("timeSpentCharging", I32),
    optional(
        "stoppedReason",
        one_of(&[
            "DeAuthorized",
            "EmergencyStop",
            "EnergyLimitReached",
            "EVDisconnected",
            "GroundFault",
            "ImmediateReset",
            "Local",
            "LocalOutOfCredit",
            "MasterPass",
            "Other",
            "OvercurrentFault",
            "PowerLoss",
            "PowerQuality",
            "Reboot",
            "Remote",
            "SOCLimitReached",
            "StoppedByEV",
            "TimeLimitReached",
            "Timeout",
        ]),
    ),
    optional("remoteStartId", I32),
]);

static UNIT_OF_MEASURE: Object = class(&[optional("unit", string(20)), optional("multiplier", I32)]);

pub(crate) static VARIABLE: Object = class(&[required("name", string(50)), optional("instance", string(50))]);

static VARIABLE_ATTRIBUTE: Object = class(&[
    optional("type", one_of(&["Actual", "Target", "MinSet", "MaxSet"])),
    optional("value", string(2500)),
    optional("mutability", one_of(&["ReadOnly", "WriteOnly", "ReadWrite"])),
    optional("persistent", BOOLEAN),
    optional("constant", BOOLEAN),
]);

static VARIABLE_CHARACTERISTICS: Object = class(&[
    optional("unit", string(16)),
    required(
        "dataType",
        one_of(&[
            "string",
            "decimal",
            "integer",
            "dateTime",
            "boolean",
            "OptionList",
            "SequenceList",
            "MemberList",
        ]),
    ),
    optional("minLimit", DECIMAL),
    optional("maxLimit", DECIMAL),
    optional("valuesList", string(1000)),
    required("supportsMonitoring", BOOLEAN),
]);
