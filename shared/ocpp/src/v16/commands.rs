//! OCPP 1.6J remote commands: request and response payloads of the central system -> charge point
//! messages the CSMS sends, from the field tables of OCPP 1.6 (edition 2) sections 5 and 6, with
//! the OCA 1.6 JSON schemas (draft-04) as the judge where the two disagree:
//!
//! - ChargingSchedule `chargingSchedulePeriod` has no minimum item count in the schema (the PDF
//!   says 1..*).
//! - `limit` and `minChargingRate` are decimals with "at most one digit fraction" (the schema's
//!   `multipleOf: 0.1`), counted exactly on the number as written.
//! - Integers land in `i32`, and in `u32` where rust-ocpp holds them so and the PDF says >= 0
//!   (`connectorId`, `stackLevel`): values beyond are PropertyConstraintViolations although the
//!   schema sets no range.

use super::schemas::{DATA_TRANSFER, ID_TOKEN, closed};
use crate::schema::{
    Array, BOOLEAN, DATE_TIME, I32, Object, Schema, TEXT, U32, array_of, decimal_places, object, one_of, optional,
    required, string,
};

crate::command::commands! {
    RemoteStartTransaction => REMOTE_START_TRANSACTION, REMOTE_START_STOP_RESPONSE;
    RemoteStopTransaction => REMOTE_STOP_TRANSACTION, REMOTE_START_STOP_RESPONSE;
    Reset => RESET, RESET_RESPONSE;
    UnlockConnector => UNLOCK_CONNECTOR, UNLOCK_CONNECTOR_RESPONSE;
    ChangeAvailability => CHANGE_AVAILABILITY, CHANGE_AVAILABILITY_RESPONSE;
    ChangeConfiguration => CHANGE_CONFIGURATION, CHANGE_CONFIGURATION_RESPONSE;
    GetConfiguration => GET_CONFIGURATION, GET_CONFIGURATION_RESPONSE;
    ClearCache => CLEAR_CACHE, CLEAR_CACHE_RESPONSE;
    TriggerMessage => TRIGGER_MESSAGE, TRIGGER_MESSAGE_RESPONSE;
    DataTransfer => DATA_TRANSFER, DATA_TRANSFER_RESPONSE;
    SendLocalList => SEND_LOCAL_LIST, SEND_LOCAL_LIST_RESPONSE;
    GetLocalListVersion => GET_LOCAL_LIST_VERSION, GET_LOCAL_LIST_VERSION_RESPONSE;
    ReserveNow => RESERVE_NOW, RESERVE_NOW_RESPONSE;
    CancelReservation => CANCEL_RESERVATION, CANCEL_RESERVATION_RESPONSE;
}

/// ChargingRateUnit-based values: "decimal, at most one digit fraction".
const RATE: Schema = decimal_places(1);

/// ConfigurationKey (CiString50).
const CONFIGURATION_KEY: Schema = string(50);

// --- Requests ---------------------------------------------------------------------------------

pub static REMOTE_START_TRANSACTION: Object = closed(&[
    optional("connectorId", U32),
    required("idTag", ID_TOKEN),
    optional("chargingProfile", object(&CHARGING_PROFILE)),
]);

pub static REMOTE_STOP_TRANSACTION: Object = closed(&[required("transactionId", I32)]);

pub static RESET: Object = closed(&[required("type", one_of(&["Hard", "Soft"]))]);

pub static UNLOCK_CONNECTOR: Object = closed(&[required("connectorId", U32)]);

pub static CHANGE_AVAILABILITY: Object = closed(&[
    required("connectorId", U32),
    required("type", one_of(&["Inoperative", "Operative"])),
]);

pub static CHANGE_CONFIGURATION: Object = closed(&[required("key", CONFIGURATION_KEY), required("value", string(500))]);

pub static GET_CONFIGURATION: Object = closed(&[optional(
    "key",
    array_of(&Array {
        items: CONFIGURATION_KEY,
        min_items: 0,
        max_items: None,
    }),
)]);

pub static CLEAR_CACHE: Object = closed(&[]);

pub static TRIGGER_MESSAGE: Object = closed(&[
    required(
        "requestedMessage",
        one_of(&[
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "StatusNotification",
        ]),
    ),
    optional("connectorId", U32),
]);

pub static SEND_LOCAL_LIST: Object = closed(&[
    required("listVersion", I32),
    optional(
        "localAuthorizationList",
        array_of(&Array {
            items: object(&AUTHORIZATION_DATA),
            min_items: 0,
            max_items: None,
        }),
    ),
    required("updateType", one_of(&["Differential", "Full"])),
]);

pub static GET_LOCAL_LIST_VERSION: Object = closed(&[]);

/// Section 6.41: connectorId 0 reserves "any connector" (only where ReserveConnectorZeroSupported).
pub static RESERVE_NOW: Object = closed(&[
    required("connectorId", U32),
    required("expiryDate", DATE_TIME),
    required("idTag", ID_TOKEN),
    optional("parentIdTag", ID_TOKEN),
    required("reservationId", I32),
]);

pub static CANCEL_RESERVATION: Object = closed(&[required("reservationId", I32)]);

// --- Responses --------------------------------------------------------------------------------

pub static REMOTE_START_STOP_RESPONSE: Object = closed(&[required("status", one_of(&["Accepted", "Rejected"]))]);

pub static RESET_RESPONSE: Object = closed(&[required("status", one_of(&["Accepted", "Rejected"]))]);

pub static UNLOCK_CONNECTOR_RESPONSE: Object = closed(&[required(
    "status",
    one_of(&["Unlocked", "UnlockFailed", "NotSupported"]),
)]);

pub static CHANGE_AVAILABILITY_RESPONSE: Object =
    closed(&[required("status", one_of(&["Accepted", "Rejected", "Scheduled"]))]);

pub static CHANGE_CONFIGURATION_RESPONSE: Object = closed(&[required(
    "status",
    one_of(&["Accepted", "Rejected", "RebootRequired", "NotSupported"]),
)]);

pub static GET_CONFIGURATION_RESPONSE: Object = closed(&[
    optional(
        "configurationKey",
        array_of(&Array {
            items: object(&KEY_VALUE),
            min_items: 0,
            max_items: None,
        }),
    ),
    optional(
        "unknownKey",
        array_of(&Array {
            items: CONFIGURATION_KEY,
            min_items: 0,
            max_items: None,
        }),
    ),
]);

pub static CLEAR_CACHE_RESPONSE: Object = closed(&[required("status", one_of(&["Accepted", "Rejected"]))]);

pub static TRIGGER_MESSAGE_RESPONSE: Object =
    closed(&[required("status", one_of(&["Accepted", "Rejected", "NotImplemented"]))]);

pub static DATA_TRANSFER_RESPONSE: Object = closed(&[
    required(
        "status",
        one_of(&["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"]),
    ),
    optional("data", TEXT),
]);

pub static SEND_LOCAL_LIST_RESPONSE: Object = closed(&[required(
    "status",
    one_of(&["Accepted", "Failed", "NotSupported", "VersionMismatch"]),
)]);

pub static GET_LOCAL_LIST_VERSION_RESPONSE: Object = closed(&[required("listVersion", I32)]);

pub static RESERVE_NOW_RESPONSE: Object = closed(&[required(
    "status",
    one_of(&["Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"]),
)]);

pub static CANCEL_RESERVATION_RESPONSE: Object = closed(&[required("status", one_of(&["Accepted", "Rejected"]))]);

// --- Datatypes --------------------------------------------------------------------------------

static AUTHORIZATION_DATA: Object = closed(&[required("idTag", ID_TOKEN), optional("idTagInfo", object(&ID_TAG_INFO))]);

static CHARGING_PROFILE: Object = closed(&[
    required("chargingProfileId", I32),
    optional("transactionId", I32),
    required("stackLevel", U32),
    required(
        "chargingProfilePurpose",
        one_of(&["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]),
    ),
    required("chargingProfileKind", one_of(&["Absolute", "Recurring", "Relative"])),
    optional("recurrencyKind", one_of(&["Daily", "Weekly"])),
    optional("validFrom", DATE_TIME),
    optional("validTo", DATE_TIME),
    required("chargingSchedule", object(&CHARGING_SCHEDULE)),
]);

static CHARGING_SCHEDULE: Object = closed(&[
    optional("duration", I32),
    optional("startSchedule", DATE_TIME),
    required("chargingRateUnit", one_of(&["A", "W"])),
    required(
        "chargingSchedulePeriod",
        array_of(&Array {
            items: object(&CHARGING_SCHEDULE_PERIOD),
            min_items: 0,
            max_items: None,
        }),
    ),
    optional("minChargingRate", RATE),
]);

static CHARGING_SCHEDULE_PERIOD: Object = closed(&[
    required("startPeriod", I32),
    required("limit", RATE),
    optional("numberPhases", I32),
]);

static ID_TAG_INFO: Object = closed(&[
    optional("expiryDate", DATE_TIME),
    optional("parentIdTag", ID_TOKEN),
    required(
        "status",
        one_of(&["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]),
    ),
]);

static KEY_VALUE: Object = closed(&[
    required("key", CONFIGURATION_KEY),
    required("readonly", BOOLEAN),
    optional("value", string(500)),
]);
