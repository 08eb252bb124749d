//! OCPP 2.0.1 remote commands: request and response payloads of the CSMS -> charging station
//! messages the CSMS sends, from the message and datatype tables of OCPP 2.0.1 Part 2, with the OCA
//! 2.0.1 JSON schemas (draft-06) as the judge. Same conventions as [`super::schemas`]: every object
//! is closed but may carry `customData`, integers land in `i32` and numbers in
//! `rust_decimal::Decimal`.
//!
//! Where rust-ocpp's types are narrower than the schema (SalesTariffType `id` u32 and optional,
//! ConsumptionCostType `startValue` i32, CostType `amountMultiplier` i8), the schema wins: these
//! only occur in requests, which the CSMS builds from those types anyway.

use super::schemas::{COMPONENT, EVSE, ID_TOKEN, VARIABLE, class};
use crate::schema::{
    Array, DATE_TIME, DECIMAL, I32, Object, Schema, array_of, integer, object, one_of, optional, required, string,
};

crate::command::commands! {
    RequestStartTransaction => REQUEST_START_TRANSACTION, REQUEST_START_TRANSACTION_RESPONSE;
    RequestStopTransaction => REQUEST_STOP_TRANSACTION, REQUEST_STOP_TRANSACTION_RESPONSE;
    Reset => RESET, RESET_RESPONSE;
    UnlockConnector => UNLOCK_CONNECTOR, UNLOCK_CONNECTOR_RESPONSE;
    ChangeAvailability => CHANGE_AVAILABILITY, CHANGE_AVAILABILITY_RESPONSE;
    SetVariables => SET_VARIABLES, SET_VARIABLES_RESPONSE;
    GetVariables => GET_VARIABLES, GET_VARIABLES_RESPONSE;
    GetBaseReport => GET_BASE_REPORT, GET_BASE_REPORT_RESPONSE;
    TriggerMessage => TRIGGER_MESSAGE, TRIGGER_MESSAGE_RESPONSE;
    ClearCache => CLEAR_CACHE, CLEAR_CACHE_RESPONSE;
    SendLocalList => SEND_LOCAL_LIST, SEND_LOCAL_LIST_RESPONSE;
    GetLocalListVersion => GET_LOCAL_LIST_VERSION, GET_LOCAL_LIST_VERSION_RESPONSE;
    ReserveNow => RESERVE_NOW, RESERVE_NOW_RESPONSE;
    CancelReservation => CANCEL_RESERVATION, CANCEL_RESERVATION_RESPONSE;
}

/// `statusInfo`: StatusInfoType 0..1, on most responses.
const STATUS_INFO_FIELD: crate::schema::Field = optional("statusInfo", object(&STATUS_INFO));

const ATTRIBUTE: Schema = one_of(&["Actual", "Target", "MinSet", "MaxSet"]);

// --- Requests ---------------------------------------------------------------------------------

pub static REQUEST_START_TRANSACTION: Object = class(&[
    optional("evseId", I32),
    optional("groupIdToken", object(&ID_TOKEN)),
    required("idToken", object(&ID_TOKEN)),
    required("remoteStartId", I32),
    optional("chargingProfile", object(&CHARGING_PROFILE)),
]);

pub static REQUEST_STOP_TRANSACTION: Object = class(&[required("transactionId", string(36))]);

pub static RESET: Object = class(&[
    required("type", one_of(&["Immediate", "OnIdle"])),
    optional("evseId", I32),
]);

pub static UNLOCK_CONNECTOR: Object = class(&[required("evseId", I32), required("connectorId", I32)]);

pub static CHANGE_AVAILABILITY: Object = class(&[
    optional("evse", object(&EVSE)),
    required("operationalStatus", one_of(&["Inoperative", "Operative"])),
]);

pub static SET_VARIABLES: Object = class(&[required(
    "setVariableData",
    array_of(&Array {
        items: object(&SET_VARIABLE_DATA),
        min_items: 1,
        max_items: None,
    }),
)]);

pub static GET_VARIABLES: Object = class(&[required(
    "getVariableData",
    array_of(&Array {
        items: object(&GET_VARIABLE_DATA),
        min_items: 1,
        max_items: None,
    }),
)]);

pub static GET_BASE_REPORT: Object = class(&[
    required("requestId", I32),
    required(
        "reportBase",
        one_of(&["ConfigurationInventory", "FullInventory", "SummaryInventory"]),
    ),
]);

pub static TRIGGER_MESSAGE: Object = class(&[
    optional("evse", object(&EVSE)),
    required(
        "requestedMessage",
        one_of(&[
            "BootNotification",
            "LogStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "SignChargingStationCertificate",
            "SignV2GCertificate",
            "StatusNotification",
            "TransactionEvent",
            "SignCombinedCertificate",
            "PublishFirmwareStatusNotification",
        ]),
    ),
]);

pub static CLEAR_CACHE: Object = class(&[]);

pub static SEND_LOCAL_LIST: Object = class(&[
    optional(
        "localAuthorizationList",
        array_of(&Array {
            items: object(&AUTHORIZATION_DATA),
            min_items: 1,
            max_items: None,
        }),
    ),
    required("versionNumber", I32),
    required("updateType", one_of(&["Differential", "Full"])),
]);

pub static GET_LOCAL_LIST_VERSION: Object = class(&[]);

/// H01: without `evseId` the station keeps any EVSE (of `connectorType`, if given) free.
pub static RESERVE_NOW: Object = class(&[
    required("id", I32),
    required("expiryDateTime", DATE_TIME),
    optional("connectorType", one_of(CONNECTOR_TYPES)),
    required("idToken", object(&ID_TOKEN)),
    optional("evseId", I32),
    optional("groupIdToken", object(&ID_TOKEN)),
]);

pub static CANCEL_RESERVATION: Object = class(&[required("reservationId", I32)]);

// --- Responses --------------------------------------------------------------------------------

pub static REQUEST_START_TRANSACTION_RESPONSE: Object = class(&[
    required("status", one_of(&["Accepted", "Rejected"])),
    STATUS_INFO_FIELD,
    optional("transactionId", string(36)),
]);

pub static REQUEST_STOP_TRANSACTION_RESPONSE: Object =
    class(&[required("status", one_of(&["Accepted", "Rejected"])), STATUS_INFO_FIELD]);

pub static RESET_RESPONSE: Object = class(&[
    required("status", one_of(&["Accepted", "Rejected", "Scheduled"])),
    STATUS_INFO_FIELD,
]);

pub static UNLOCK_CONNECTOR_RESPONSE: Object = class(&[
    required(
        "status",
        one_of(&[
            "Unlocked",
            "UnlockFailed",
            "OngoingAuthorizedTransaction",
            "UnknownConnector",
        ]),
    ),
    STATUS_INFO_FIELD,
]);

pub static CHANGE_AVAILABILITY_RESPONSE: Object = class(&[
    required("status", one_of(&["Accepted", "Rejected", "Scheduled"])),
    STATUS_INFO_FIELD,
]);

pub static SET_VARIABLES_RESPONSE: Object = class(&[required(
    "setVariableResult",
    array_of(&Array {
        items: object(&SET_VARIABLE_RESULT),
        min_items: 1,
        max_items: None,
    }),
)]);

pub static GET_VARIABLES_RESPONSE: Object = class(&[required(
    "getVariableResult",
    array_of(&Array {
        items: object(&GET_VARIABLE_RESULT),
        min_items: 1,
        max_items: None,
    }),
)]);

pub static GET_BASE_REPORT_RESPONSE: Object = class(&[
    required(
        "status",
        one_of(&["Accepted", "Rejected", "NotSupported", "EmptyResultSet"]),
    ),
    STATUS_INFO_FIELD,
]);

pub static TRIGGER_MESSAGE_RESPONSE: Object = class(&[
    required("status", one_of(&["Accepted", "Rejected", "NotImplemented"])),
    STATUS_INFO_FIELD,
]);

pub static CLEAR_CACHE_RESPONSE: Object =
    class(&[required("status", one_of(&["Accepted", "Rejected"])), STATUS_INFO_FIELD]);

pub static SEND_LOCAL_LIST_RESPONSE: Object = class(&[
    required("status", one_of(&["Accepted", "Failed", "VersionMismatch"])),
    STATUS_INFO_FIELD,
]);

pub static GET_LOCAL_LIST_VERSION_RESPONSE: Object = class(&[required("versionNumber", I32)]);

pub static RESERVE_NOW_RESPONSE: Object = class(&[
    required(
        "status",
        one_of(&["Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"]),
    ),
    STATUS_INFO_FIELD,
]);

pub static CANCEL_RESERVATION_RESPONSE: Object =
    class(&[required("status", one_of(&["Accepted", "Rejected"])), STATUS_INFO_FIELD]);

/// ConnectorEnumType.
pub const CONNECTOR_TYPES: &[&str] = &[
    "cCCS1",
    "cCCS2",
    "cG105",
    "cTesla",
    "cType1",
    "cType2",
    "s309-1P-16A",
    "s309-1P-32A",
    "s309-3P-16A",
    "s309-3P-32A",
    "sBS1361",
    "sCEE-7-7",
    "sType2",
    "sType3",
    "Other1PhMax16A",
    "Other1PhOver16A",
    "Other3Ph",
    "Pan",
    "wInductive",
    "wResonant",
    "Undetermined",
    "Unknown",
];

// --- Datatypes --------------------------------------------------------------------------------

static AUTHORIZATION_DATA: Object = class(&[
    required("idToken", object(&ID_TOKEN)),
    optional("idTokenInfo", object(&ID_TOKEN_INFO)),
]);

static CHARGING_PROFILE: Object = class(&[
    required("id", I32),
    required("stackLevel", I32),
    required(
        "chargingProfilePurpose",
        one_of(&[
            "ChargingStationExternalConstraints",
            "ChargingStationMaxProfile",
            "TxDefaultProfile",
            "TxProfile",
        ]),
    ),
    required("chargingProfileKind", one_of(&["Absolute", "Recurring", "Relative"])),
    optional("recurrencyKind", one_of(&["Daily", "Weekly"])),
    optional("validFrom", DATE_TIME),
    optional("validTo", DATE_TIME),
    required(
        "chargingSchedule",
        array_of(&Array {
            items: object(&CHARGING_SCHEDULE),
            min_items: 1,
            max_items: Some(3),
        }),
    ),
    optional("transactionId", string(36)),
]);

static CHARGING_SCHEDULE: Object = class(&[
    required("id", I32),
    optional("startSchedule", DATE_TIME),
    optional("duration", I32),
    required("chargingRateUnit", one_of(&["W", "A"])),
    required(
        "chargingSchedulePeriod",
        array_of(&Array {
            items: object(&CHARGING_SCHEDULE_PERIOD),
            min_items: 1,
            max_items: Some(1024),
        }),
    ),
    optional("minChargingRate", DECIMAL),
    optional("salesTariff", object(&SALES_TARIFF)),
]);

static CHARGING_SCHEDULE_PERIOD: Object = class(&[
    required("startPeriod", I32),
    required("limit", DECIMAL),
    optional("numberPhases", I32),
    optional("phaseToUse", I32),
]);

static CONSUMPTION_COST: Object = class(&[
    required("startValue", DECIMAL),
    required(
        "cost",
        array_of(&Array {
            items: object(&COST),
            min_items: 1,
            max_items: Some(3),
        }),
    ),
]);

static COST: Object = class(&[
    required(
        "costKind",
        one_of(&[
            "CarbonDioxideEmission",
            "RelativePricePercentage",
            "RenewableGenerationPercentage",
        ]),
    ),
    required("amount", I32),
    optional("amountMultiplier", I32),
]);

static GET_VARIABLE_DATA: Object = class(&[
    optional("attributeType", ATTRIBUTE),
    required("component", object(&COMPONENT)),
    required("variable", object(&VARIABLE)),
]);

static GET_VARIABLE_RESULT: Object = class(&[
    optional("attributeStatusInfo", object(&STATUS_INFO)),
    required(
        "attributeStatus",
        one_of(&[
            "Accepted",
            "Rejected",
            "UnknownComponent",
            "UnknownVariable",
            "NotSupportedAttributeType",
        ]),
    ),
    optional("attributeType", ATTRIBUTE),
    optional("attributeValue", string(2500)),
    required("component", object(&COMPONENT)),
    required("variable", object(&VARIABLE)),
]);

static ID_TOKEN_INFO: Object = class(&[
    required(
        "status",
        one_of(&[
            "Accepted",
            "Blocked",
            "ConcurrentTx",
            "Expired",
            "Invalid",
            "NoCredit",
            "NotAllowedTypeEVSE",
            "NotAtThisLocation",
            "NotAtThisTime",
            "Unknown",
        ]),
    ),
    optional("cacheExpiryDateTime", DATE_TIME),
    optional("chargingPriority", I32),
    optional("language1", string(8)),
    optional(
        "evseId",
        array_of(&Array {
            items: I32,
            min_items: 1,
            max_items: None,
        }),
    ),
    optional("groupIdToken", object(&ID_TOKEN)),
    optional("language2", string(8)),
    optional("personalMessage", object(&MESSAGE_CONTENT)),
]);

static MESSAGE_CONTENT: Object = class(&[
    required("format", one_of(&["ASCII", "HTML", "URI", "UTF8"])),
    optional("language", string(8)),
    required("content", string(512)),
]);

static RELATIVE_TIME_INTERVAL: Object = class(&[required("start", I32), optional("duration", I32)]);

static SALES_TARIFF: Object = class(&[
    required("id", I32),
    optional("salesTariffDescription", string(32)),
    optional("numEPriceLevels", I32),
    required(
        "salesTariffEntry",
        array_of(&Array {
            items: object(&SALES_TARIFF_ENTRY),
            min_items: 1,
            max_items: Some(1024),
        }),
    ),
]);

static SALES_TARIFF_ENTRY: Object = class(&[
    required("relativeTimeInterval", object(&RELATIVE_TIME_INTERVAL)),
    // `minimum: 0`
    optional("ePriceLevel", integer(0, i32::MAX as i64)),
    optional(
        "consumptionCost",
        array_of(&Array {
            items: object(&CONSUMPTION_COST),
            min_items: 1,
            max_items: Some(3),
        }),
    ),
]);

static SET_VARIABLE_DATA: Object = class(&[
    optional("attributeType", ATTRIBUTE),
    required("attributeValue", string(1000)),
    required("component", object(&COMPONENT)),
    required("variable", object(&VARIABLE)),
]);

static SET_VARIABLE_RESULT: Object = class(&[
    optional("attributeType", ATTRIBUTE),
    required(
        "attributeStatus",
        one_of(&[
            "Accepted",
            "Rejected",
            "UnknownComponent",
            "UnknownVariable",
            "NotSupportedAttributeType",
            "RebootRequired",
        ]),
    ),
    optional("attributeStatusInfo", object(&STATUS_INFO)),
    required("component", object(&COMPONENT)),
    required("variable", object(&VARIABLE)),
]);

static STATUS_INFO: Object = class(&[
    required("reasonCode", string(20)),
    optional("additionalInfo", string(512)),
]);
