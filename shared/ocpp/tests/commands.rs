//! Remote commands: validate_command_request / validate_command_response for every action of both
//! versions, and agreement of the response schemas with the rust-ocpp types the CSMS reads them into.

mod common;

use common::{commands, exhaustive_examples, valid_object};
use csms_ocpp::{
    CommandPayloadError, ErrorCode, OcppVersion, command_actions, validate_command_request, validate_command_response,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use OcppVersion::{V16, V201};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Request,
    Response,
}
use Kind::{Request, Response};

fn validate(v: OcppVersion, action: &str, kind: Kind, payload: &mut Value) -> Result<(), CommandPayloadError> {
    match kind {
        Request => validate_command_request(v, action, payload),
        Response => validate_command_response(v, action, payload),
    }
}

/// (version, action, minimal request, full request, minimal response, full response): every
/// optional property of the full ones present.
fn valid_cases() -> Vec<(OcppVersion, &'static str, Value, Value, Value, Value)> {
    let id_token = json!({"idToken": "04E91C5A", "type": "ISO14443"});
    let full_id_token = json!({
        "customData": {"vendorId": "com.example", "anything": [1]},
        "additionalInfo": [{"additionalIdToken": "X-1", "type": "contract", "customData": {"vendorId": "v"}}],
        "idToken": "04E91C5A",
        "type": "eMAID",
    });
    let status_info =
        json!({"reasonCode": "Busy", "additionalInfo": "try again later", "customData": {"vendorId": "v"}});
    let component = json!({"name": "OCPPCommCtrlr"});
    let full_component = json!({"evse": {"id": 1, "connectorId": 2}, "name": "EVSE", "instance": "main"});
    let variable = json!({"name": "HeartbeatInterval"});
    let full_variable = json!({"name": "Power", "instance": "max", "customData": {"vendorId": "v"}});
    vec![
        (
            V16,
            "RemoteStartTransaction",
            json!({"idTag": "04E91C5A"}),
            json!({
                "connectorId": 1,
                "idTag": "abcdefghijklmnopqrst",
                "chargingProfile": {
                    "chargingProfileId": 7,
                    "transactionId": 12,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Recurring",
                    "recurrencyKind": "Daily",
                    "validFrom": "2024-01-01T00:00:00Z",
                    "validTo": "2025-01-01T00:00:00+01:00",
                    "chargingSchedule": {
                        "duration": 3600,
                        "startSchedule": "2024-01-01T08:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 16.5, "numberPhases": 3},
                            {"startPeriod": 1800, "limit": 0.3},
                            {"startPeriod": 2700, "limit": 8}
                        ],
                        "minChargingRate": 6.1
                    }
                }
            }),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected"}),
        ),
        (
            V16,
            "RemoteStopTransaction",
            json!({"transactionId": 42}),
            json!({"transactionId": -2147483648}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected"}),
        ),
        (
            V16,
            "Reset",
            json!({"type": "Soft"}),
            json!({"type": "Hard"}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected"}),
        ),
        (
            V16,
            "UnlockConnector",
            json!({"connectorId": 1}),
            json!({"connectorId": 4294967295u32}),
            json!({"status": "Unlocked"}),
            json!({"status": "NotSupported"}),
        ),
        (
            V16,
            "ChangeAvailability",
            json!({"connectorId": 0, "type": "Inoperative"}),
            json!({"connectorId": 2, "type": "Operative"}),
            json!({"status": "Scheduled"}),
            json!({"status": "Accepted"}),
        ),
        (
            V16,
            "ChangeConfiguration",
            json!({"key": "HeartbeatInterval", "value": "300"}),
            json!({"key": "k".repeat(50), "value": "é".repeat(500)}),
            json!({"status": "RebootRequired"}),
            json!({"status": "NotSupported"}),
        ),
        (
            V16,
            "GetConfiguration",
            json!({}),
            json!({"key": ["HeartbeatInterval", "MeterValueSampleInterval"]}),
            json!({}),
            json!({
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": false, "value": "300"},
                    {"key": "NumberOfConnectors", "readonly": true}
                ],
                "unknownKey": ["Foo"]
            }),
        ),
        (
            V16,
            "ClearCache",
            json!({}),
            json!({}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected"}),
        ),
        (
            V16,
            "TriggerMessage",
            json!({"requestedMessage": "Heartbeat"}),
            json!({"requestedMessage": "StatusNotification", "connectorId": 1}),
            json!({"status": "NotImplemented"}),
            json!({"status": "Accepted"}),
        ),
        (
            V16,
            "DataTransfer",
            json!({"vendorId": "com.example"}),
            json!({"vendorId": "com.example", "messageId": "hello", "data": "x".repeat(1000)}),
            json!({"status": "UnknownVendorId"}),
            json!({"status": "Accepted", "data": "{\"free\": \"text\"}"}),
        ),
        (
            V16,
            "SendLocalList",
            json!({"listVersion": 1, "updateType": "Full"}),
            json!({
                "listVersion": 2,
                "localAuthorizationList": [
                    {
                        "idTag": "04E91C5A",
                        "idTagInfo": {
                            "expiryDate": "2030-01-01T00:00:00Z", "parentIdTag": "FLEET-1", "status": "Accepted"
                        }
                    },
                    {"idTag": "BLOCKED1", "idTagInfo": {"status": "Blocked"}},
                    {"idTag": "REMOVED1"}
                ],
                "updateType": "Differential"
            }),
            json!({"status": "VersionMismatch"}),
            json!({"status": "Accepted"}),
        ),
        (
            V16,
            "GetLocalListVersion",
            json!({}),
            json!({}),
            json!({"listVersion": -1}),
            json!({"listVersion": 17}),
        ),
        (
            V16,
            "ReserveNow",
            json!({"connectorId": 1, "expiryDate": "2026-05-01T10:30:00Z", "idTag": "04E91C5A", "reservationId": 1}),
            json!({"connectorId": 0, "expiryDate": "2026-05-01T10:30:00.123+02:00", "idTag": "t".repeat(20),
                   "parentIdTag": "p".repeat(20), "reservationId": 2147483647}),
            json!({"status": "Accepted"}),
            json!({"status": "Unavailable"}),
        ),
        (
            V16,
            "CancelReservation",
            json!({"reservationId": 1}),
            json!({"reservationId": -7}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected"}),
        ),
        (
            V201,
            "RequestStartTransaction",
            json!({"idToken": id_token, "remoteStartId": 1}),
            json!({
                "customData": {"vendorId": "com.example"},
                "evseId": 1,
                "groupIdToken": {"idToken": "FLEET-1", "type": "Central"},
                "idToken": full_id_token,
                "remoteStartId": 2,
                "chargingProfile": {
                    "id": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "recurrencyKind": "Weekly",
                    "validFrom": "2024-01-01T00:00:00Z",
                    "validTo": "2025-01-01T00:00:00Z",
                    "transactionId": "tx-1",
                    "chargingSchedule": [{
                        "id": 1,
                        "startSchedule": "2024-01-01T08:00:00.5Z",
                        "duration": 3600,
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 11000.25, "numberPhases": 3, "phaseToUse": 1},
                            {"startPeriod": 600, "limit": 7400}
                        ],
                        "minChargingRate": 1000.5,
                        "salesTariff": {
                            "id": 1,
                            "salesTariffDescription": "peak",
                            "numEPriceLevels": 2,
                            "salesTariffEntry": [{
                                "relativeTimeInterval": {"start": 0, "duration": 3600},
                                "ePriceLevel": 0,
                                "consumptionCost": [{
                                    "startValue": 0,
                                    "cost": [{"costKind": "CarbonDioxideEmission", "amount": 5, "amountMultiplier": -1}]
                                }]
                            }]
                        }
                    }]
                }
            }),
            json!({"status": "Accepted"}),
            json!({
                "status": "Rejected",
                "statusInfo": status_info,
                "transactionId": "tx-1",
                "customData": {"vendorId": "v"}
            }),
        ),
        (
            V201,
            "RequestStopTransaction",
            json!({"transactionId": "tx-1"}),
            json!({"transactionId": "t".repeat(36), "customData": {"vendorId": "v"}}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected", "statusInfo": status_info}),
        ),
        (
            V201,
            "Reset",
            json!({"type": "Immediate"}),
            json!({"type": "OnIdle", "evseId": 1}),
            json!({"status": "Scheduled"}),
            json!({"status": "Rejected", "statusInfo": status_info}),
        ),
        (
            V201,
            "UnlockConnector",
            json!({"evseId": 1, "connectorId": 1}),
            json!({"evseId": 2, "connectorId": 3, "customData": {"vendorId": "v"}}),
            json!({"status": "Unlocked"}),
            json!({"status": "OngoingAuthorizedTransaction", "statusInfo": status_info}),
        ),
        (
            V201,
            "ChangeAvailability",
            json!({"operationalStatus": "Operative"}),
            json!({"evse": {"id": 1, "connectorId": 1}, "operationalStatus": "Inoperative"}),
            json!({"status": "Accepted"}),
            json!({"status": "Scheduled", "statusInfo": status_info}),
        ),
        (
            V201,
            "SetVariables",
            json!({"setVariableData": [{"attributeValue": "300", "component": component, "variable": variable}]}),
            json!({"setVariableData": [
                {
                    "attributeType": "Target",
                    "attributeValue": "v".repeat(1000),
                    "component": full_component,
                    "variable": full_variable
                },
                {"attributeValue": "", "component": component, "variable": variable}
            ]}),
            json!({"setVariableResult": [
                {"attributeStatus": "Accepted", "component": component, "variable": variable}
            ]}),
            json!({"setVariableResult": [{
                "attributeType": "MaxSet",
                "attributeStatus": "RebootRequired",
                "attributeStatusInfo": status_info,
                "component": full_component,
                "variable": full_variable
            }]}),
        ),
        (
            V201,
            "GetVariables",
            json!({"getVariableData": [{"component": component, "variable": variable}]}),
            json!({"getVariableData": [
                {"attributeType": "Actual", "component": full_component, "variable": full_variable}
            ]}),
            json!({"getVariableResult": [
                {"attributeStatus": "UnknownVariable", "component": component, "variable": variable}
            ]}),
            json!({"getVariableResult": [{
                "attributeStatusInfo": status_info,
                "attributeStatus": "Accepted",
                "attributeType": "Actual",
                "attributeValue": "x".repeat(2500),
                "component": full_component,
                "variable": full_variable
            }]}),
        ),
        (
            V201,
            "GetBaseReport",
            json!({"requestId": 1, "reportBase": "FullInventory"}),
            json!({"requestId": 2, "reportBase": "SummaryInventory", "customData": {"vendorId": "v"}}),
            json!({"status": "EmptyResultSet"}),
            json!({"status": "NotSupported", "statusInfo": status_info}),
        ),
        (
            V201,
            "TriggerMessage",
            json!({"requestedMessage": "Heartbeat"}),
            json!({"evse": {"id": 1, "connectorId": 1}, "requestedMessage": "PublishFirmwareStatusNotification"}),
            json!({"status": "Accepted"}),
            json!({"status": "NotImplemented", "statusInfo": status_info}),
        ),
        (
            V201,
            "ClearCache",
            json!({}),
            json!({"customData": {"vendorId": "v"}}),
            json!({"status": "Accepted"}),
            json!({"status": "Rejected", "statusInfo": status_info}),
        ),
        (
            V201,
            "SendLocalList",
            json!({"versionNumber": 1, "updateType": "Full"}),
            json!({
                "localAuthorizationList": [
                    {
                        "idToken": full_id_token,
                        "idTokenInfo": {
                            "status": "NotAtThisTime",
                            "cacheExpiryDateTime": "2030-01-01T00:00:00Z",
                            "chargingPriority": -9,
                            "language1": "en",
                            "evseId": [1, 2],
                            "groupIdToken": {"idToken": "FLEET-1", "type": "Central"},
                            "language2": "nl",
                            "personalMessage": {"format": "UTF8", "language": "en", "content": "Welcome"}
                        }
                    },
                    {"idToken": id_token}
                ],
                "versionNumber": 2,
                "updateType": "Differential"
            }),
            json!({"status": "Failed"}),
            json!({"status": "Accepted", "statusInfo": status_info}),
        ),
        (
            V201,
            "GetLocalListVersion",
            json!({}),
            json!({"customData": {"vendorId": "v"}}),
            json!({"versionNumber": 0}),
            json!({"versionNumber": 5, "customData": {"vendorId": "v"}}),
        ),
        (
            V201,
            "ReserveNow",
            json!({"id": 1, "expiryDateTime": "2026-05-01T10:30:00Z", "idToken": id_token}),
            json!({"id": 2, "expiryDateTime": "2026-05-01T10:30:00Z", "connectorType": "s309-1P-16A",
                   "idToken": full_id_token, "evseId": 3, "groupIdToken": id_token,
                   "customData": {"vendorId": "v"}}),
            json!({"status": "Occupied"}),
            json!({"status": "Faulted", "statusInfo": status_info}),
        ),
        (
            V201,
            "CancelReservation",
            json!({"reservationId": 1}),
            json!({"reservationId": 9, "customData": {"vendorId": "v"}}),
            json!({"status": "Rejected"}),
            json!({"status": "Accepted", "statusInfo": status_info}),
        ),
    ]
}

#[test]
fn every_command_has_valid_minimal_and_full_payloads_both_ways() {
    let cases = valid_cases();
    for v in [V16, V201] {
        let listed: Vec<&str> = cases.iter().filter(|c| c.0 == v).map(|c| c.1).collect();
        assert_eq!(listed, command_actions(v), "{v:?}: one case per command, in order");
    }
    for (v, action, min_request, full_request, min_response, full_response) in cases {
        for (kind, mut payload) in [
            (Request, min_request),
            (Request, full_request),
            (Response, min_response),
            (Response, full_response),
        ] {
            let original = payload.clone();
            if let Err(e) = validate(v, action, kind, &mut payload) {
                panic!("{v:?} {action} {kind:?}: {e} for {original}");
            }
            assert_eq!(payload, original, "a valid payload is left as it is");
            deserializes(v, action, kind, payload).unwrap_or_else(|e| panic!("{v:?} {action} {kind:?}: {e}"));
        }
    }
}

/// (version, action, kind, payload, expected code as the version spells it, what the message names)
#[rustfmt::skip] // a table: one case per line reads better than rustfmt's eight
fn invalid_cases() -> Vec<(OcppVersion, &'static str, Kind, Value, &'static str, &'static str)> {
    let profile16 = |period: Value| {
        json!({"idTag": "a", "chargingProfile": {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]}
        }})
    };
    let local_list16 =
        |entry: Value| json!({"listVersion": 1, "updateType": "Full", "localAuthorizationList": [entry]});
    let id_token = json!({"idToken": "a", "type": "Central"});
    let start201 = |schedules: Value| {
        json!({"idToken": {"idToken": "a", "type": "Central"}, "remoteStartId": 1, "chargingProfile": {
            "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": schedules
        }})
    };
    let schedule =
        json!({"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]});
    let tariff_entry = |entry: Value| {
        let mut with_tariff = schedule.clone();
        with_tariff["salesTariff"] = json!({"id": 1, "salesTariffEntry": [entry]});
        start201(json!([with_tariff]))
    };
    let local_list201 = |info: Value| {
        json!({"versionNumber": 1, "updateType": "Full",
               "localAuthorizationList": [{"idToken": {"idToken": "a", "type": "Central"}, "idTokenInfo": info}]})
    };
    let (cv, v) = (json!({"name": "c"}), json!({"name": "v"}));
    const FORMATION: &str = "FormationViolation";
    const FORMAT: &str = "FormatViolation";
    const OCCURENCE: &str = "OccurenceConstraintViolation";
    const TYPE: &str = "TypeConstraintViolation";
    const PROPERTY: &str = "PropertyConstraintViolation";
    vec![
        // OCPP 1.6 requests
        (V16, "RemoteStartTransaction", Request, json!({}), OCCURENCE, "idTag: required property is missing"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": "x".repeat(21)}), PROPERTY,
            "idTag: longer than 20 characters"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": "a", "evseId": 1}), FORMATION,
            "evseId: property is not defined"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": "a", "connectorId": "1"}), TYPE,
            "connectorId: expected an integer, found a string"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": "a", "connectorId": 1.0}), TYPE,
            "connectorId: expected an integer, found 1.0"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": "a", "connectorId": -1}), PROPERTY,
            "connectorId: -1 is out of range"),
        (V16, "RemoteStartTransaction", Request, json!({"idTag": null}), TYPE, "idTag: expected a string, found null"),
        (V16, "RemoteStartTransaction", Request, json!([]), FORMATION, "payload: must be a JSON object"),
        (V16, "RemoteStartTransaction", Request, profile16(json!({"startPeriod": 0, "limit": 8.25})), PROPERTY,
            "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit: 8.25 has more than 1 digit(s)"),
        (V16, "RemoteStartTransaction", Request, profile16(json!({"startPeriod": 0})), OCCURENCE,
            "chargingSchedulePeriod[0].limit: required property is missing"),
        (V16, "RemoteStartTransaction", Request, profile16(json!({"startPeriod": 0, "limit": "8"})), TYPE,
            "limit: expected a number"),
        (V16, "RemoteStartTransaction", Request, profile16(json!({"startPeriod": 0, "limit": 1, "phaseToUse": 1})),
            FORMATION, "chargingSchedulePeriod[0].phaseToUse: property is not defined"),
        (V16, "Reset", Request, json!({"type": "hard"}), PROPERTY, "type: \"hard\" is not one of the values allowed"),
        (V16, "Reset", Request, json!({"type": "Immediate"}), PROPERTY, "type: \"Immediate\""),
        (V16, "ChangeConfiguration", Request, json!({"key": "k"}), OCCURENCE, "value: required property is missing"),
        (V16, "ChangeConfiguration", Request, json!({"key": "k", "value": "v".repeat(501)}), PROPERTY,
            "value: longer than 500"),
        (V16, "GetConfiguration", Request, json!({"key": "HeartbeatInterval"}), TYPE, "key: expected an array"),
        (V16, "GetConfiguration", Request, json!({"key": ["k".repeat(51)]}), PROPERTY, "key[0]: longer than 50"),
        (V16, "ClearCache", Request, json!({"customData": {"vendorId": "v"}}), FORMATION,
            "customData: property is not defined"),
        (V16, "TriggerMessage", Request, json!({"requestedMessage": "TransactionEvent"}), PROPERTY, "requestedMessage"),
        (V16, "DataTransfer", Request, json!({"vendorId": "v".repeat(256)}), PROPERTY, "vendorId: longer than 255"),
        (V16, "SendLocalList", Request, local_list16(json!({"idTag": "a", "idTagInfo": {"status": "NoCredit"}})),
            PROPERTY, "localAuthorizationList[0].idTagInfo.status"),
        (V16, "SendLocalList", Request, local_list16(json!({"idTag": "a", "idTagInfo": {}})), OCCURENCE,
            "localAuthorizationList[0].idTagInfo.status: required property is missing"),
        (V16, "SendLocalList", Request,
            local_list16(json!({"idTag": "a", "idTagInfo": {"status": "Accepted", "expiryDate": "2024-01-01"}})),
            PROPERTY, "expiryDate: \"2024-01-01\" is not an RFC 3339 date-time"),
        // OCPP 1.6 responses
        (V16, "Reset", Response, json!({}), OCCURENCE, "status: required property is missing"),
        (V16, "Reset", Response, json!({"status": "Scheduled"}), PROPERTY, "status"),
        (V16, "Reset", Response, json!({"status": "Accepted", "statusInfo": {"reasonCode": "x"}}), FORMATION,
            "statusInfo"),
        (V16, "Reset", Response, json!({"status": 1}), TYPE, "status: expected a string, found a number"),
        (V16, "UnlockConnector", Response, json!({"status": "UnknownConnector"}), PROPERTY, "status"),
        (V16, "GetConfiguration", Response, json!({"configurationKey": [{"key": "k"}]}), OCCURENCE,
            "configurationKey[0].readonly"),
        (V16, "GetConfiguration", Response, json!({"configurationKey": [{"key": "k", "readonly": "true"}]}), TYPE,
            "readonly: expected a boolean"),
        (V16, "GetConfiguration", Response, json!({"unknownKey": ["k".repeat(51)]}), PROPERTY, "unknownKey[0]"),
        (V16, "DataTransfer", Response, json!({"status": "Accepted", "data": {"x": 1}}), TYPE,
            "data: expected a string, found an object"),
        (V16, "GetLocalListVersion", Response, json!({"listVersion": "1"}), TYPE, "listVersion"),
        (V16, "GetLocalListVersion", Response, json!({"listVersion": 2147483648u32}), PROPERTY,
            "listVersion: 2147483648 is out of range"),
        (V16, "GetLocalListVersion", Response, json!({"versionNumber": 1}), FORMATION, "versionNumber"),
        // OCPP 2.0.1 requests
        (V201, "RequestStartTransaction", Request, json!({"idToken": id_token}), OCCURENCE,
            "remoteStartId: required property is missing"),
        (V201, "RequestStartTransaction", Request,
            json!({"idToken": {"idToken": "a", "type": "RFID"}, "remoteStartId": 1}), PROPERTY, "idToken.type"),
        (V201, "RequestStartTransaction", Request,
            json!({"idToken": {"idToken": "a".repeat(37), "type": "Central"}, "remoteStartId": 1}), PROPERTY,
            "idToken.idToken: longer than 36"),
        (V201, "RequestStartTransaction", Request, json!({"idTag": "a", "idToken": id_token, "remoteStartId": 1}),
            FORMAT, "idTag: property is not defined"),
        (V201, "RequestStartTransaction", Request, json!({"idToken": id_token, "remoteStartId": 1.5}), TYPE,
            "remoteStartId: expected an integer, found 1.5"),
        (V201, "RequestStartTransaction", Request, json!({"idToken": id_token, "remoteStartId": 1, "customData": {}}),
            OCCURENCE, "customData.vendorId"),
        (V201, "RequestStartTransaction", Request,
            json!({"idToken": id_token, "remoteStartId": 1, "groupIdToken": "G"}), TYPE,
            "groupIdToken: expected an object"),
        (V201, "RequestStartTransaction", Request, start201(json!([])), PROPERTY,
            "chargingProfile.chargingSchedule: has 0 items, at least 1 required"),
        (V201, "RequestStartTransaction", Request, start201(json!([schedule, schedule, schedule, schedule])),
            PROPERTY, "chargingSchedule: has 4 items, at most 3 allowed"),
        (V201, "RequestStartTransaction", Request, start201(schedule.clone()), TYPE,
            "chargingSchedule: expected an array"),
        (V201, "RequestStartTransaction", Request,
            tariff_entry(json!({"relativeTimeInterval": {"start": 0}, "ePriceLevel": -1})), PROPERTY,
            "salesTariffEntry[0].ePriceLevel: -1 is out of range 0..="),
        (V201, "RequestStartTransaction", Request,
            tariff_entry(json!({
                "relativeTimeInterval": {"start": 0}, "consumptionCost": [{"startValue": 0, "cost": []}]
            })),
            PROPERTY, "consumptionCost[0].cost: has 0 items"),
        (V201, "RequestStartTransaction", Request, tariff_entry(json!({"relativeTimeInterval": {}})), OCCURENCE,
            "relativeTimeInterval.start"),
        (V201, "RequestStopTransaction", Request, json!({"transactionId": 42}), TYPE,
            "transactionId: expected a string"),
        (V201, "Reset", Request, json!({"type": "Hard"}), PROPERTY, "type"),
        (V201, "UnlockConnector", Request, json!({"connectorId": 1}), OCCURENCE, "evseId"),
        (V201, "ChangeAvailability", Request, json!({"operationalStatus": "Operative", "evse": {"connectorId": 1}}),
            OCCURENCE, "evse.id"),
        (V201, "SetVariables", Request, json!({"setVariableData": []}), PROPERTY, "setVariableData: has 0 items"),
        (V201, "SetVariables", Request,
            json!({"setVariableData": [{"attributeValue": "v".repeat(1001), "component": cv, "variable": v}]}),
            PROPERTY, "setVariableData[0].attributeValue: longer than 1000"),
        (V201, "GetVariables", Request,
            json!({"getVariableData": [{"component": cv, "variable": v, "attributeValue": "1"}]}),
            FORMAT, "getVariableData[0].attributeValue: property is not defined"),
        (V201, "GetBaseReport", Request, json!({"requestId": 1, "reportBase": "Full"}), PROPERTY, "reportBase"),
        (V201, "TriggerMessage", Request, json!({"requestedMessage": "DiagnosticsStatusNotification"}), PROPERTY,
            "requestedMessage"),
        (V201, "SendLocalList", Request,
            json!({"versionNumber": 1, "updateType": "Full", "localAuthorizationList": []}), PROPERTY,
            "localAuthorizationList: has 0 items"),
        (V201, "SendLocalList", Request, local_list201(json!({"status": "Accepted", "evseId": []})), PROPERTY,
            "localAuthorizationList[0].idTokenInfo.evseId: has 0 items"),
        (V201, "SendLocalList", Request,
            local_list201(json!({"status": "Accepted", "personalMessage": {"format": "UTF8"}})), OCCURENCE,
            "personalMessage.content"),
        (V201, "SendLocalList", Request, json!({"listVersion": 1, "updateType": "Full"}), FORMAT, "listVersion"),
        // OCPP 2.0.1 responses
        (V201, "RequestStartTransaction", Response, json!({"status": "Accepted", "transactionId": "t".repeat(37)}),
            PROPERTY, "transactionId: longer than 36"),
        (V201, "RequestStopTransaction", Response, json!({"status": "Accepted", "statusInfo": {}}), OCCURENCE,
            "statusInfo.reasonCode"),
        (V201, "Reset", Response, json!({"status": "Accepted", "statusInfo": {"reasonCode": "r".repeat(21)}}), PROPERTY,
            "statusInfo.reasonCode: longer than 20"),
        (V201, "UnlockConnector", Response, json!({"status": "NotSupported"}), PROPERTY, "status"),
        (V201, "ChangeAvailability", Response, json!({"status": "Accepted", "statusInfo": {"reasonCode": "x", "y": 1}}),
            FORMAT, "statusInfo.y"),
        (V201, "SetVariables", Response,
            json!({"setVariableResult": [{"attributeStatus": "Accepted", "component": cv}]}), OCCURENCE,
            "setVariableResult[0].variable"),
        (V201, "GetVariables", Response,
            json!({"getVariableResult": [{"attributeStatus": "RebootRequired", "component": cv, "variable": v}]}),
            PROPERTY, "getVariableResult[0].attributeStatus"),
        (V201, "GetVariables", Response, json!({"getVariableResult": []}), PROPERTY, "getVariableResult: has 0 items"),
        (V201, "GetBaseReport", Response, json!({"status": true}), TYPE, "status: expected a string, found a boolean"),
        (V201, "TriggerMessage", Response, json!({}), OCCURENCE, "status"),
        (V201, "ClearCache", Response, json!("Accepted"), FORMAT, "payload: must be a JSON object"),
        (V201, "SendLocalList", Response, json!({"status": "NotSupported"}), PROPERTY, "status"),
        (V201, "GetLocalListVersion", Response, json!({"versionNumber": 2.5}), TYPE, "versionNumber"),
        (V201, "GetLocalListVersion", Response, json!({"listVersion": 1}), FORMAT, "listVersion"),
    ]
}

#[test]
fn violations_have_the_version_code_and_name_the_field() {
    for (v, action, kind, mut payload, code, mentions) in invalid_cases() {
        let original = payload.to_string();
        let e = validate(v, action, kind, &mut payload).expect_err(&format!("{v:?} {action} {kind:?} {original}"));
        assert_eq!(e.code_str(v), code, "{v:?} {action} {kind:?} {original}: {e}");
        let CommandPayloadError::Invalid { code: kind_code, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(kind_code.as_str(v), code);
        let text = e.to_string();
        assert!(text.starts_with(&format!("{action}: ")), "{text}");
        assert!(text.contains(mentions), "{text:?} should mention {mentions:?}");
        assert!(!text.contains('\n'), "one line: {text:?}");
    }
}

#[test]
fn the_error_carries_the_violation() {
    let mut payload = json!({"idTag": "a", "connectorId": "1"});
    let e = validate_command_request(V16, "RemoteStartTransaction", &mut payload).unwrap_err();
    assert_eq!(
        e,
        CommandPayloadError::Invalid {
            action: "RemoteStartTransaction".into(),
            code: ErrorCode::TypeConstraintViolation,
            path: "connectorId".into(),
            message: "expected an integer, found a string".into(),
        }
    );
    assert_eq!(
        e.to_string(),
        "RemoteStartTransaction: connectorId: expected an integer, found a string"
    );
}

#[test]
fn unknown_actions_are_named_with_the_actions_that_exist() {
    let cases = [
        (V16, "RequestStartTransaction"),
        (V16, "BootNotification"),
        (V16, "SetChargingProfile"),
        (V16, "reset"),
        (V16, ""),
        (V201, "RemoteStartTransaction"),
        (V201, "DataTransfer"),
        (V201, "Heartbeat"),
        (V201, "ResetRequest"),
    ];
    for (v, action) in cases {
        for kind in [Request, Response] {
            let e = validate(v, action, kind, &mut json!({})).unwrap_err();
            assert_eq!(
                e,
                CommandPayloadError::UnknownAction {
                    action: action.into(),
                    version: v
                }
            );
            assert_eq!(e.code_str(v), "NotImplemented");
            let text = e.to_string();
            assert!(
                text.contains(&command_actions(v).join(", ")),
                "{text} should list the actions"
            );
        }
    }
    let long = "A".repeat(10_000);
    let e = validate_command_request(V16, &long, &mut json!({})).unwrap_err();
    assert!(e.to_string().chars().count() < 500, "the action is cut: {e}");
}

#[test]
fn draft6_integral_numbers_are_rewritten_draft4_ones_refused() {
    let mut payload = serde_json::from_str::<Value>(r#"{"evseId": 1.0, "connectorId": 2e0}"#).unwrap();
    validate_command_request(V201, "UnlockConnector", &mut payload).unwrap();
    assert_eq!(payload, json!({"evseId": 1, "connectorId": 2}));
    let mut payload = serde_json::from_str::<Value>(r#"{"versionNumber": 3.0}"#).unwrap();
    validate_command_response(V201, "GetLocalListVersion", &mut payload).unwrap();
    assert_eq!(payload, json!({"versionNumber": 3}));
    let mut payload = serde_json::from_str::<Value>(r#"{"listVersion": 3.0}"#).unwrap();
    let e = validate_command_response(V16, "GetLocalListVersion", &mut payload).unwrap_err();
    assert_eq!(e.code_str(V16), "TypeConstraintViolation");
}

#[test]
fn one_digit_limits_are_read_exactly() {
    let profile = |limit: &str| {
        serde_json::from_str::<Value>(&format!(
            r#"{{"idTag":"a","chargingProfile":{{"chargingProfileId":1,"stackLevel":0,
            "chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",
            "chargingSchedule":{{"chargingRateUnit":"W",
            "chargingSchedulePeriod":[{{"startPeriod":0,"limit":{limit}}}]}}}}}}"#
        ))
        .unwrap()
    };
    for ok in ["0.3", "21.4", "1.50", "7", "2.2e1", "11e-1", "22000"] {
        validate_command_request(V16, "RemoteStartTransaction", &mut profile(ok))
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in ["0.25", "0.30000000000000004", "1e-2", "1e40"] {
        let e = validate_command_request(V16, "RemoteStartTransaction", &mut profile(bad)).unwrap_err();
        assert_eq!(e.code_str(V16), "PropertyConstraintViolation", "{bad}: {e}");
    }
}

#[test]
fn every_enum_value_and_bound_of_every_response_deserializes() {
    for (v, action, request, response) in commands() {
        for payload in exhaustive_examples(response) {
            let mut checked = payload.clone();
            validate_command_response(v, action, &mut checked).unwrap_or_else(|e| panic!("{e} for {payload}"));
            deserializes(v, action, Response, checked).unwrap_or_else(|e| panic!("{v:?} {action}: {e} for {payload}"));
        }
        for payload in exhaustive_examples(request) {
            let mut checked = payload.clone();
            validate_command_request(v, action, &mut checked).unwrap_or_else(|e| panic!("{e} for {payload}"));
        }
    }
}

/// (version, action, kind, schema, valid payload)
fn valid_command() -> impl Strategy<Value = (OcppVersion, &'static str, Kind, Value)> {
    let all: Vec<_> = commands()
        .into_iter()
        .flat_map(|(v, action, request, response)| [(v, action, Request, request), (v, action, Response, response)])
        .collect();
    proptest::sample::select(all)
        .prop_flat_map(|(v, action, kind, schema)| valid_object(schema).prop_map(move |p| (v, action, kind, p)))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// A pile's valid CALLRESULT always lands in the rust-ocpp response type (no valid response the
    /// CSMS cannot read); requests at least validate.
    #[test]
    fn generated_valid_payloads_validate((v, action, kind, payload) in valid_command()) {
        let mut checked = payload.clone();
        let verdict = validate(v, action, kind, &mut checked);
        prop_assert!(verdict.is_ok(), "{:?} {} {:?} {}: {:?}", v, action, kind, payload, verdict);
        if kind == Response {
            let read = deserializes(v, action, kind, checked);
            prop_assert!(read.is_ok(), "{:?} {} {}: {:?}", v, action, payload, read);
        }
    }

    #[test]
    fn an_unknown_property_is_a_format_violation((v, action, kind, mut payload) in valid_command()) {
        payload.as_object_mut().unwrap().insert("notInTheSchema".into(), json!(1));
        let e = validate(v, action, kind, &mut payload).unwrap_err();
        prop_assert_eq!(e.code_str(v), ErrorCode::FormatViolation.as_str(v));
    }
}

/// Reads a payload into the rust-ocpp type of the command's request or response.
fn deserializes(v: OcppVersion, action: &str, kind: Kind, payload: Value) -> Result<(), String> {
    macro_rules! read {
        ($( $name:literal => $module:ident :: $request:ident, $response:ident; )*) => {
            match (action, kind) {
                $(
                    ($name, Request) => serde_json::from_value::<$module::$request>(payload).map(drop),
                    ($name, Response) => serde_json::from_value::<$module::$response>(payload).map(drop),
                )*
                _ => return Err(format!("no rust-ocpp type for {action}")),
            }
        };
    }
    let read = match v {
        V16 => {
            use rust_ocpp::v1_6::messages::*;
            read! {
                "RemoteStartTransaction" => remote_start_transaction::RemoteStartTransactionRequest,
                    RemoteStartTransactionResponse;
                "RemoteStopTransaction" => remote_stop_transaction::RemoteStopTransactionRequest,
                    RemoteStopTransactionResponse;
                "Reset" => reset::ResetRequest, ResetResponse;
                "UnlockConnector" => unlock_connector::UnlockConnectorRequest, UnlockConnectorResponse;
                "ChangeAvailability" => change_availability::ChangeAvailabilityRequest, ChangeAvailabilityResponse;
                "ChangeConfiguration" => change_configuration::ChangeConfigurationRequest, ChangeConfigurationResponse;
                "GetConfiguration" => get_configuration::GetConfigurationRequest, GetConfigurationResponse;
                "ClearCache" => clear_cache::ClearCacheRequest, ClearCacheResponse;
                "TriggerMessage" => trigger_message::TriggerMessageRequest, TriggerMessageResponse;
                "DataTransfer" => data_transfer::DataTransferRequest, DataTransferResponse;
                "SendLocalList" => send_local_list::SendLocalListRequest, SendLocalListResponse;
                "GetLocalListVersion" => get_local_list_version::GetLocalListVersionRequest,
                    GetLocalListVersionResponse;
                "ReserveNow" => reserve_now::ReserveNowRequest, ReserveNowResponse;
                "CancelReservation" => cancel_reservation::CancelReservationRequest, CancelReservationResponse;
            }
        }
        V201 => {
            use rust_ocpp::v2_0_1::messages::*;
            read! {
                "RequestStartTransaction" => request_start_transaction::RequestStartTransactionRequest,
                    RequestStartTransactionResponse;
                "RequestStopTransaction" => request_stop_transaction::RequestStopTransactionRequest,
                    RequestStopTransactionResponse;
                "Reset" => reset::ResetRequest, ResetResponse;
                "UnlockConnector" => unlock_connector::UnlockConnectorRequest, UnlockConnectorResponse;
                "ChangeAvailability" => change_availability::ChangeAvailabilityRequest, ChangeAvailabilityResponse;
                "SetVariables" => set_variables::SetVariablesRequest, SetVariablesResponse;
                "GetVariables" => get_variables::GetVariablesRequest, GetVariablesResponse;
                "GetBaseReport" => get_base_report::GetBaseReportRequest, GetBaseReportResponse;
                "TriggerMessage" => trigger_message::TriggerMessageRequest, TriggerMessageResponse;
                "ClearCache" => clear_cache::ClearCacheRequest, ClearCacheResponse;
                "SendLocalList" => send_local_list::SendLocalListRequest, SendLocalListResponse;
                "GetLocalListVersion" => get_local_list_version::GetLocalListVersionRequest,
                    GetLocalListVersionResponse;
                "ReserveNow" => reserve_now::ReserveNowRequest, ReserveNowResponse;
                "CancelReservation" => cancel_reservation::CancelReservationRequest, CancelReservationResponse;
            }
        }
    };
    read.map_err(|e| e.to_string())
}
