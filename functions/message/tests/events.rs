//! The `$default` handler on the sample events in `events/`, against in-memory ports: each
//! CALL gets exactly one answer, validated by shape here and by the Python `ocpp` library in
//! the end-to-end tests.

mod common;

use common::*;
use csms_domain::memory::MemoryWorld;
use csms_domain::*;
use serde_json::json;

#[tokio::test]
async fn ocpp16_boot_heartbeat_status() {
    let (world, services) = connected("ocpp1.6", Registration::Accepted).await;

    let boot = send(&services, event!("ws-default-boot-notification-1.6.json"))
        .await
        .unwrap();
    assert_eq!(boot[0], 3);
    assert_eq!(boot[1], "19223201");
    assert_eq!(boot[2]["status"], "Accepted");
    assert_eq!(boot[2]["interval"], 240);
    assert!(boot[2]["currentTime"].is_string());
    let station = world.stations.0.lock().unwrap().values().next().cloned().unwrap();
    assert_eq!(station.boot.unwrap().vendor, "VendorX");

    let heartbeat = send(&services, event!("ws-default-heartbeat-1.6.json")).await.unwrap();
    assert_eq!(heartbeat[1], "19223202");
    assert!(heartbeat[2]["currentTime"].is_string());

    let status = send(&services, event!("ws-default-status-notification-1.6.json"))
        .await
        .unwrap();
    assert_eq!(status, json!([3, "19223203", {}]));
    let published = world.bus.0.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].1.status, "Available");
    assert_eq!(
        published[0].1.component,
        Component {
            evse: None,
            connector: 1
        }
    );

    // The same StatusNotification again (a retry) is published once.
    send(&services, event!("ws-default-status-notification-1.6.json"))
        .await
        .unwrap();
    assert_eq!(world.bus.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn requests_before_an_accepted_boot_get_a_security_error() {
    for registration in [Registration::Pending, Registration::Rejected] {
        let (_, services) = connected("ocpp1.6", registration).await;
        let early = send(&services, event!("ws-default-heartbeat-1.6.json")).await.unwrap();
        assert_eq!((early[0].clone(), early[2].clone()), (json!(4), json!("SecurityError")));
        let boot = send(&services, event!("ws-default-boot-notification-1.6.json"))
            .await
            .unwrap();
        assert_eq!(boot[2]["status"], registration.as_str());
        assert_eq!(boot[2]["interval"], 30);
        let still = send(&services, event!("ws-default-heartbeat-1.6.json")).await.unwrap();
        assert_eq!(still[2], "SecurityError");
    }
}

#[tokio::test]
async fn malformed_frames_get_the_versions_code_and_the_connection_stays_usable() {
    let (_, services) = connected("ocpp1.6", Registration::Accepted).await;
    let error = send(&services, event!("ws-default-malformed.json")).await.unwrap();
    assert_eq!(error, json!([4, "-1", "FormationViolation", error[3], {}]));
    send(&services, event!("ws-default-boot-notification-1.6.json"))
        .await
        .unwrap();

    let (_, services) = connected("ocpp2.0.1", Registration::Accepted).await;
    let error = send(&services, event!("ws-default-malformed.json")).await.unwrap();
    assert_eq!(error[2], "RpcFrameworkError");
}

#[tokio::test]
async fn ocpp201_boot_status_report_event() {
    let (world, services) = connected("ocpp2.0.1", Registration::Accepted).await;
    let boot = send(&services, event!("ws-default-boot-notification-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(boot[2]["status"], "Accepted");

    let status = send(&services, event!("ws-default-status-notification-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(status[2], json!({}));
    let published = world.bus.0.lock().unwrap().clone();
    assert_eq!(
        published[0].1.component,
        Component {
            evse: Some(1),
            connector: 1
        }
    );
    assert_eq!(published[0].1.status, "Occupied");

    assert_eq!(
        send(&services, event!("ws-default-notify-report-2.0.1.json"))
            .await
            .unwrap()[2],
        json!({})
    );
    assert_eq!(
        send(&services, event!("ws-default-notify-event-2.0.1.json"))
            .await
            .unwrap()[2],
        json!({})
    );
    let stored: Vec<String> = world
        .station_events
        .0
        .lock()
        .unwrap()
        .keys()
        .map(|(_, entry)| entry.clone())
        .collect();
    assert_eq!(
        stored,
        vec!["event#2026-11-24T05:00:04.000000Z#0000000000", "report#7#0000000000"]
    );
}

#[tokio::test]
async fn recognized_actions_not_handled_yet_are_not_supported_and_unknown_ones_not_implemented() {
    let (_, services) = connected("ocpp1.6", Registration::Accepted).await;
    send(&services, event!("ws-default-boot-notification-1.6.json"))
        .await
        .unwrap();
    let with_body = |body: &str| common::with_body(event!("ws-default-heartbeat-1.6.json"), body);
    let diagnostics = send(
        &services,
        &with_body(r#"[2,"m1","DiagnosticsStatusNotification",{"status":"Idle"}]"#),
    )
    .await
    .unwrap();
    assert_eq!(diagnostics[2], "NotSupported");
    let unknown = send(&services, &with_body(r#"[2,"m2","FlyToTheMoon",{}]"#))
        .await
        .unwrap();
    assert_eq!(unknown[2], "NotImplemented");
    let data_transfer = send(&services, &with_body(r#"[2,"m3","DataTransfer",{"vendorId":"acme"}]"#))
        .await
        .unwrap();
    assert_eq!(data_transfer[2], json!({"status": "UnknownVendorId"}));
    // A CALLRESULT from the pile gets no answer.
    assert_eq!(send(&services, &with_body(r#"[3,"m4",{}]"#)).await, None);
}

#[tokio::test]
async fn a_frame_on_an_unknown_connection_still_gets_an_answer() {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let answer = send(&services, event!("ws-default-heartbeat-1.6.json")).await.unwrap();
    assert_eq!(
        answer.as_array().unwrap()[..3],
        [json!(4), json!("19223202"), json!("InternalError")]
    );
}

#[tokio::test]
async fn an_unknown_message_type_is_ignored_in_16_and_refused_in_201() {
    let with_body = |body: &str| common::with_body(event!("ws-default-heartbeat-1.6.json"), body);
    let (_, services) = connected("ocpp1.6", Registration::Accepted).await;
    assert_eq!(send(&services, &with_body(r#"[7,"x",{}]"#)).await, None);
    let (_, services) = connected("ocpp2.0.1", Registration::Accepted).await;
    let answer = send(&services, &with_body(r#"[7,"x",{}]"#)).await.unwrap();
    assert_eq!(answer[2], "MessageTypeNotSupported");
}
