//! decode_request: every error path for both versions, and realistic payloads of every covered action.

use csms_ocpp::{Call, OcppVersion, Request, decode_request, v16, v201};
use serde_json::{Value, json};

use OcppVersion::{V16, V201};

fn call(action: &str, payload: Value) -> Call {
    Call {
        message_id: "m-1".into(),
        action: action.into(),
        payload,
    }
}

/// Decoding `action` with `payload` must fail with `code` (as the version spells it), and the
/// description must mention `mentions`.
#[track_caller]
fn check(v: OcppVersion, action: &str, payload: Value, code: &str, mentions: &str) {
    let e = decode_request(v, &call(action, payload.clone())).expect_err(&payload.to_string());
    assert_eq!(e.code.as_str(v), code, "{v:?} {action} {payload}: {}", e.description);
    assert_eq!(e.message_id, "m-1");
    assert!(
        e.description.contains(mentions),
        "{:?} should mention {mentions:?}",
        e.description
    );
    assert!(e.details.is_object());
}

#[track_caller]
fn ok(v: OcppVersion, action: &str, payload: Value) -> Request {
    decode_request(v, &call(action, payload.clone()))
        .unwrap_or_else(|e| panic!("{v:?} {action} {payload}: {}", e.description))
}

fn boot16() -> Value {
    json!({"chargePointVendor": "VendorX", "chargePointModel": "SingleSocketCharger"})
}

fn boot201() -> Value {
    json!({"reason": "PowerUp", "chargingStation": {"model": "SingleSocketCharger", "vendorName": "VendorX"}})
}

/// `base` with the value at `pointer` set (inserted when the parent is an object).
fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect(pointer);
    match base.pointer_mut(parent).expect(pointer) {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().expect(pointer)] = value,
        _ => panic!("{pointer}"),
    }
    base
}

fn without(mut base: Value, parent: &str, key: &str) -> Value {
    base.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(key);
    base
}

#[test]
fn actions_not_known_or_not_supported() {
    // (version, action, code, mentions)
    let cases = [
        (V16, "Foo", "NotImplemented", "not known"),
        (V16, "bootnotification", "NotImplemented", "not known"),
        (V16, "", "NotImplemented", "not known"),
        (V16, "TransactionEvent", "NotImplemented", "not known"), // 2.0.1-only
        (
            V16,
            "RemoteStartTransaction",
            "NotSupported",
            "recognized but not supported",
        ),
        (V16, "Reset", "NotSupported", "recognized but not supported"),
        (
            V16,
            "SecurityEventNotification",
            "NotSupported",
            "recognized but not supported",
        ),
        (V201, "Foo", "NotImplemented", "not known"),
        (V201, "StartTransaction", "NotImplemented", "not known"), // 1.6-only
        (
            V201,
            "RequestStartTransaction",
            "NotSupported",
            "recognized but not supported",
        ),
        (V201, "DataTransfer", "NotSupported", "recognized but not supported"),
        (
            V201,
            "FirmwareStatusNotification",
            "NotSupported",
            "recognized but not supported",
        ),
    ];
    for (v, action, code, mentions) in cases {
        check(v, action, json!({}), code, mentions);
    }
    // A huge action name is not echoed whole.
    let e = decode_request(V16, &call(&"A".repeat(10_000), json!({}))).unwrap_err();
    assert!(e.description.chars().count() <= 255);
}

#[test]
fn v16_payload_violations() {
    let f = "FormationViolation";
    let o = "OccurenceConstraintViolation";
    let t = "TypeConstraintViolation";
    let p = "PropertyConstraintViolation";
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("Heartbeat", json!([]), f, "must be a JSON object"),
        ("Heartbeat", json!({"x": 1}), f, "x: property is not defined"),
        (
            "BootNotification",
            with(boot16(), "/chargePointVendor", json!("V".repeat(21))),
            p,
            "chargePointVendor: longer than 20 characters",
        ),
        (
            "BootNotification",
            with(boot16(), "/chargePointVendor", json!("é".repeat(20))),
            "",
            "",
        ),
        (
            "BootNotification",
            without(boot16(), "", "chargePointModel"),
            o,
            "chargePointModel: required property is missing",
        ),
        (
            "BootNotification",
            with(boot16(), "/chargePointModel", json!(null)),
            t,
            "chargePointModel: expected a string, found null",
        ),
        (
            "BootNotification",
            with(boot16(), "/chargePointModel", json!(12)),
            t,
            "expected a string, found a number",
        ),
        (
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M", "customData": {"vendorId": "x"}}),
            f,
            "customData",
        ),
        (
            "Authorize",
            json!({"idTag": "0123456789012345678901"}),
            p,
            "idTag: longer than 20",
        ),
        (
            "Authorize",
            json!({"idTag": ["A"]}),
            t,
            "idTag: expected a string, found an array",
        ),
        (
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "Error", "status": "Faulted"}),
            p,
            "errorCode: \"Error\" is not one of",
        ),
        (
            "StatusNotification",
            json!({"connectorId": "1", "errorCode": "NoError", "status": "Available"}),
            t,
            "connectorId: expected an integer, found a string",
        ),
        (
            "StatusNotification",
            json!({"connectorId": 1.0, "errorCode": "NoError", "status": "Available"}),
            t,
            "connectorId: expected an integer, found 1.0",
        ),
        (
            "StatusNotification",
            json!({"connectorId": -1, "errorCode": "NoError", "status": "Available"}),
            p,
            "connectorId: -1 is out of range",
        ),
        (
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "yesterday"}),
            p,
            "timestamp: \"yesterday\" is not an RFC 3339",
        ),
        (
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": 1700000000}),
            t,
            "timestamp: expected a date-time string",
        ),
        (
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "A", "meterStart": 2147483648u64, "timestamp": "2024-01-01T00:00:00Z"}),
            p,
            "meterStart: 2147483648 is out of range",
        ),
        (
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "A", "meterStart": 0}),
            o,
            "timestamp: required",
        ),
        (
            "StopTransaction",
            json!({"meterStop": 1, "timestamp": "2024-01-01T00:00:00Z", "transactionId": 1, "reason": "Unplugged"}),
            p,
            "reason",
        ),
        (
            "StopTransaction",
            json!({"meterStop": 1, "timestamp": "2024-01-01T00:00:00Z", "transactionId": 1, "transactionData": {}}),
            t,
            "transactionData: expected an array",
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": []}),
            p,
            "meterValue: has 0 items, at least 1 required",
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": []}]}),
            p,
            "meterValue[0].sampledValue: has 0 items",
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": 10}]}]}),
            t,
            "meterValue[0].sampledValue[0].value: expected a string",
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": "1", "unit": "Hertz"}]}]}),
            p,
            "unit: \"Hertz\"",
        ),
        (
            "MeterValues",
            json!({"connectorId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": "1", "extra": true}]}]}),
            f,
            "meterValue[0].sampledValue[0].extra",
        ),
        (
            "DataTransfer",
            json!({"vendorId": "v", "data": {"a": 1}}),
            t,
            "data: expected a string, found an object",
        ),
        ("DiagnosticsStatusNotification", json!({"status": "Done"}), p, "status"),
        ("FirmwareStatusNotification", json!({}), o, "status: required"),
    ];
    for (action, payload, code, mentions) in cases {
        if code.is_empty() {
            ok(V16, action, payload);
        } else {
            check(V16, action, payload, code, mentions);
        }
    }
}

#[test]
fn v201_payload_violations() {
    let f = "FormatViolation";
    let o = "OccurenceConstraintViolation";
    let t = "TypeConstraintViolation";
    let p = "PropertyConstraintViolation";
    let event = json!({"generatedAt": "2024-01-01T00:00:00Z", "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": "2024-01-01T00:00:00Z", "trigger": "Alerting", "actualValue": "true",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Problem"}}]});
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("Heartbeat", json!("x"), f, "must be a JSON object"),
        (
            "Heartbeat",
            json!({"customData": {"vendorId": "acme", "anything": {"goes": [1]}}}),
            "",
            "",
        ),
        (
            "Heartbeat",
            json!({"customData": {"anything": 1}}),
            o,
            "customData.vendorId: required",
        ),
        (
            "Heartbeat",
            json!({"customData": "acme"}),
            t,
            "customData: expected an object",
        ),
        (
            "BootNotification",
            with(boot201(), "/chargingStation/vendorName", json!("V".repeat(51))),
            p,
            "chargingStation.vendorName: longer than 50 characters",
        ),
        (
            "BootNotification",
            without(boot201(), "/chargingStation", "model"),
            o,
            "chargingStation.model: required",
        ),
        (
            "BootNotification",
            with(boot201(), "/reason", json!("Reboot")),
            p,
            "reason",
        ),
        (
            "BootNotification",
            with(
                boot201(),
                "/chargingStation",
                json!({"model": "M", "vendorName": "V", "modem": {"iccid": "1", "imei": "2"}}),
            ),
            f,
            "chargingStation.modem.imei",
        ),
        (
            "BootNotification",
            with(boot201(), "/chargingStation", json!(null)),
            t,
            "chargingStation: expected an object, found null",
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1}),
            o,
            "connectorId",
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Charging", "evseId": 1, "connectorId": 1}),
            p,
            "connectorStatus",
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1.5, "connectorId": 1}),
            t,
            "evseId: expected an integer",
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1.0, "connectorId": 1}),
            "",
            "",
        ),
        (
            "StatusNotification",
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 3e9, "connectorId": 1}),
            p,
            "evseId: 3000000000.0 is out of range",
        ),
        (
            "NotifyEvent",
            with(event.clone(), "/eventData", json!([])),
            p,
            "eventData: has 0 items",
        ),
        (
            "NotifyEvent",
            with(event.clone(), "/eventData/0/component/evse/id", json!("1")),
            t,
            "eventData[0].component.evse.id: expected an integer",
        ),
        (
            "NotifyEvent",
            with(event.clone(), "/eventData/0/actualValue", json!("x".repeat(2501))),
            p,
            "eventData[0].actualValue: longer than 2500",
        ),
        (
            "NotifyEvent",
            with(event.clone(), "/eventData/0/tbc", json!(true)),
            f,
            "eventData[0].tbc",
        ),
        (
            "NotifyEvent",
            with(event, "/tbc", json!("true")),
            t,
            "tbc: expected a boolean, found a string",
        ),
        (
            "NotifyReport",
            json!({"requestId": 1, "generatedAt": "2024-01-01T00:00:00Z", "seqNo": 0, "reportData": [{"component": {"name": "C"}, "variable": {"name": "V"}, "variableAttribute": [{}, {}, {}, {}, {}]}]}),
            p,
            "variableAttribute: has 5 items, at most 4",
        ),
        (
            "NotifyReport",
            json!({"requestId": 1, "generatedAt": "2024-01-01T00:00:00Z", "seqNo": 0, "reportData": [{"component": {"name": "C"}, "variable": {"name": "V"}, "variableAttribute": [{"type": "Actual"}], "variableCharacteristics": {"dataType": "decimal", "supportsMonitoring": false, "maxLimit": "10"}}]}),
            t,
            "maxLimit: expected a number",
        ),
        (
            "Authorize",
            json!({"idToken": {"idToken": "AB", "type": "RFID"}}),
            p,
            "idToken.type",
        ),
        (
            "Authorize",
            json!({"idToken": {"idToken": "AB", "type": "ISO14443"}, "iso15118CertificateHashData": []}),
            p,
            "has 0 items",
        ),
        (
            "MeterValues",
            json!({"evseId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": "12.5"}]}]}),
            t,
            "meterValue[0].sampledValue[0].value: expected a number, found a string",
        ),
        (
            "MeterValues",
            json!({"evseId": 1, "meterValue": [{"timestamp": "2024-01-01T00:00:00Z", "sampledValue": [{"value": 1e40}]}]}),
            p,
            "does not fit a decimal",
        ),
        (
            "TransactionEvent",
            json!({"eventType": "Started", "timestamp": "2024-01-01T00:00:00Z", "triggerReason": "CablePluggedIn", "seqNo": 0}),
            o,
            "transactionInfo: required",
        ),
        (
            "TransactionEvent",
            json!({"eventType": "Started", "timestamp": "2024-01-01T00:00:00Z", "triggerReason": "CablePluggedIn", "seqNo": 0, "transactionInfo": {"transactionId": "x".repeat(37)}}),
            p,
            "transactionInfo.transactionId: longer than 36",
        ),
    ];
    for (action, payload, code, mentions) in cases {
        if code.is_empty() {
            ok(V201, action, payload);
        } else {
            check(V201, action, payload, code, mentions);
        }
    }
}

#[test]
fn v16_realistic_payloads() {
    let Request::V16(v16::Request::BootNotification(boot)) = ok(
        V16,
        "BootNotification",
        json!({"chargePointVendor": "ABB", "chargePointModel": "Terra AC", "chargePointSerialNumber": "TACW2244-12345",
               "chargeBoxSerialNumber": "CB-001", "firmwareVersion": "1.6.12", "iccid": "8931440400012345678",
               "imsi": "204043123456789", "meterType": "Eastron SDM630", "meterSerialNumber": "SDM-99"}),
    ) else {
        panic!()
    };
    assert_eq!(boot.charge_point_vendor, "ABB");
    assert_eq!(boot.firmware_version.as_deref(), Some("1.6.12"));

    let Request::V16(v16::Request::StatusNotification(status)) = ok(
        V16,
        "StatusNotification",
        json!({"connectorId": 2, "errorCode": "NoError", "status": "Charging", "timestamp": "2024-05-01T10:15:00.250+02:00",
               "info": "ok", "vendorId": "com.abb", "vendorErrorCode": "0"}),
    ) else {
        panic!()
    };
    assert_eq!(status.connector_id, 2);
    assert_eq!(status.timestamp.unwrap().to_rfc3339(), "2024-05-01T08:15:00.250+00:00");

    let Request::V16(v16::Request::StartTransaction(start)) = ok(
        V16,
        "StartTransaction",
        json!({"connectorId": 1, "idTag": "04A2B3C4D5E6F7", "meterStart": 123456, "reservationId": 7, "timestamp": "2024-05-01T08:00:00Z"}),
    ) else {
        panic!()
    };
    assert_eq!((start.meter_start, start.reservation_id), (123456, Some(7)));

    let Request::V16(v16::Request::MeterValues(mv)) = ok(
        V16,
        "MeterValues",
        json!({"connectorId": 1, "transactionId": 42, "meterValue": [{"timestamp": "2024-05-01T08:05:00Z", "sampledValue": [
            {"value": "123.4", "context": "Sample.Periodic", "format": "Raw", "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unit": "kWh"},
            {"value": "16.1", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
            {"value": "31", "measurand": "Temperature", "location": "Body", "unit": "Celcius"},
            {"value": "55", "measurand": "SoC", "location": "EV", "unit": "Percent"}]}]}),
    ) else {
        panic!()
    };
    assert_eq!(mv.meter_value[0].sampled_value.len(), 4);

    let Request::V16(v16::Request::StopTransaction(stop)) = ok(
        V16,
        "StopTransaction",
        json!({"idTag": "04A2B3C4D5E6F7", "meterStop": 130000, "timestamp": "2024-05-01T09:00:00Z", "transactionId": 42,
               "reason": "EVDisconnected", "transactionData": [{"timestamp": "2024-05-01T09:00:00Z", "sampledValue": []},
               {"timestamp": "2024-05-01T09:00:00Z", "sampledValue": [{"value": "130.0", "context": "Transaction.End", "unit": "kWh"}]}]}),
    ) else {
        panic!()
    };
    assert_eq!(stop.transaction_id, 42);

    for (action, payload) in [
        ("Heartbeat", json!({})),
        ("Authorize", json!({"idTag": "04A2B3C4D5E6F7"})),
        (
            "DataTransfer",
            json!({"vendorId": "com.example", "messageId": "Config", "data": "x".repeat(10_000)}),
        ),
        ("DiagnosticsStatusNotification", json!({"status": "Uploaded"})),
        ("FirmwareStatusNotification", json!({"status": "Installed"})),
    ] {
        assert_eq!(ok(V16, action, payload).action(), action);
    }
}

#[test]
fn v201_realistic_payloads() {
    let Request::V201(v201::Request::BootNotification(boot)) = ok(
        V201,
        "BootNotification",
        json!({"reason": "PowerUp", "chargingStation": {"model": "Terra AC", "vendorName": "ABB", "serialNumber": "TACW2244",
               "firmwareVersion": "2.0.1-rc3", "modem": {"iccid": "8931440400012345678", "imsi": "204043123456789"},
               "customData": {"vendorId": "com.abb", "build": 17}}}),
    ) else {
        panic!()
    };
    assert_eq!(boot.charging_station.vendor_name, "ABB");

    let Request::V201(v201::Request::StatusNotification(status)) = ok(
        V201,
        "StatusNotification",
        json!({"timestamp": "2024-05-01T08:00:00.000Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}),
    ) else {
        panic!()
    };
    assert_eq!((status.evse_id, status.connector_id), (1, 1));

    let Request::V201(v201::Request::NotifyReport(report)) = ok(
        V201,
        "NotifyReport",
        json!({"requestId": 3, "generatedAt": "2024-05-01T08:00:00Z", "seqNo": 0, "tbc": false, "reportData": [
            {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"},
             "variableAttribute": [{"type": "Actual", "value": "Available", "mutability": "ReadOnly", "persistent": false, "constant": false}],
             "variableCharacteristics": {"dataType": "OptionList", "valuesList": "Available,Occupied", "supportsMonitoring": true}},
            {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "LimitChangeSignificance"},
             "variableAttribute": [{"value": "0.1"}, {"type": "MaxSet", "value": "1.0"}],
             "variableCharacteristics": {"unit": "Percent", "dataType": "decimal", "minLimit": 0, "maxLimit": 100.0, "supportsMonitoring": false}}]}),
    ) else {
        panic!()
    };
    assert_eq!(report.report_data.unwrap().len(), 2);

    let Request::V201(v201::Request::NotifyEvent(event)) = ok(
        V201,
        "NotifyEvent",
        json!({"generatedAt": "2024-05-01T08:00:00Z", "seqNo": 1, "tbc": false, "eventData": [{
            "eventId": 1001, "timestamp": "2024-05-01T08:00:00Z", "trigger": "Delta", "cause": 1000, "actualValue": "Faulted",
            "techCode": "E-17", "techInfo": "ground fault", "cleared": false, "transactionId": "tx-1", "variableMonitoringId": 4,
            "eventNotificationType": "PreconfiguredMonitor", "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
            "variable": {"name": "AvailabilityState"}}]}),
    ) else {
        panic!()
    };
    assert_eq!(event.event_data[0].event_id, 1001);

    let Request::V201(v201::Request::TransactionEvent(tx)) = ok(
        V201,
        "TransactionEvent",
        json!({"eventType": "Updated", "timestamp": "2024-05-01T08:10:00Z", "triggerReason": "MeterValuePeriodic", "seqNo": 3,
               "offline": false, "numberOfPhasesUsed": 3, "cableMaxCurrent": 32, "reservationId": 5,
               "transactionInfo": {"transactionId": "f3a8c0de-0000-4000-8000-000000000001", "chargingState": "Charging", "timeSpentCharging": 600, "remoteStartId": 9},
               "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "04A2B3C4", "type": "ISO14443", "additionalInfo": [{"additionalIdToken": "x", "type": "contract"}]},
               "meterValue": [{"timestamp": "2024-05-01T08:10:00Z", "sampledValue": [
                   {"value": 1234.567, "context": "Sample.Periodic", "measurand": "Energy.Active.Import.Register", "location": "Outlet", "unitOfMeasure": {"unit": "kWh", "multiplier": 0}},
                   {"value": 7.2e3, "measurand": "Power.Active.Import", "phase": "L1-N",
                    "signedMeterValue": {"signedMeterData": "AAEC", "signingMethod": "ECDSA", "encodingMethod": "OCMF", "publicKey": "BBFD"}}]}]}),
    ) else {
        panic!()
    };
    assert_eq!(tx.seq_no, 3);
    assert_eq!(tx.meter_value.unwrap()[0].sampled_value[1].value.to_string(), "7200.0");

    for (action, payload) in [
        ("Heartbeat", json!({})),
        (
            "Authorize",
            json!({"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"}}),
        ),
        (
            "Authorize",
            json!({"idToken": {"idToken": "NL-ABC-C12345678-X", "type": "eMAID"}, "certificate": "-----BEGIN CERTIFICATE-----",
            "iso15118CertificateHashData": [{"hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "c", "responderURL": "http://ocsp.example"}]}),
        ),
        (
            "MeterValues",
            json!({"evseId": 0, "meterValue": [{"timestamp": "2024-05-01T08:10:00Z", "sampledValue": [{"value": -0.5}]}]}),
        ),
    ] {
        assert_eq!(ok(V201, action, payload).action(), action);
    }
}

#[test]
fn integral_numbers_are_integers_in_201_not_in_16() {
    let Request::V201(v201::Request::StatusNotification(s)) = ok(
        V201,
        "StatusNotification",
        serde_json::from_str(
            r#"{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1.0,"connectorId":2e0}"#,
        )
        .unwrap(),
    ) else {
        panic!()
    };
    assert_eq!((s.evse_id, s.connector_id), (1, 2));
    check(
        V16,
        "StartTransaction",
        serde_json::from_str(r#"{"connectorId":1,"idTag":"A","meterStart":1e3,"timestamp":"2024-01-01T00:00:00Z"}"#)
            .unwrap(),
        "TypeConstraintViolation",
        "meterStart",
    );
}

#[test]
fn decode_is_independent_of_field_order_and_keeps_the_message_id() {
    let c = Call {
        message_id: "0123456789abcdef0123456789abcdef0123".into(),
        action: "Foo".into(),
        payload: json!({}),
    };
    assert_eq!(decode_request(V16, &c).unwrap_err().message_id, c.message_id);
}
