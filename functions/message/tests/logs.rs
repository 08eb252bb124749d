//! What `$default` logs (issue 10, items 11 and 19): RFID values are personal data and never reach
//! the log, and no value a pile sends reaches it untruncated, however long.

mod common;

use common::*;
use csms_domain::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Everything logged at DEBUG and above while `f` runs, as the function's formatter writes it.
async fn logged<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    f.await;
    String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()
}

async fn booted_16() -> Services {
    let (_world, services) = connected("ocpp1.6", Registration::Accepted).await;
    let boot = event!("ws-default-boot-notification-1.6.json");
    assert_eq!(send(&services, boot).await.unwrap()[2]["status"], "Accepted");
    services
}

#[tokio::test]
async fn id_tags_never_reach_the_log() {
    let services = booted_16().await;
    let log = logged(async {
        // A stop for a transaction the station was never given: an anomaly that keeps the idTag.
        let stop = with_payload(event!("ws-default-stop-transaction-1.6.json"), |p| {
            p["transactionId"] = 4711.into();
            p["idTag"] = "SECRETTAG01".into();
        });
        assert_eq!(send(&services, &stop).await.unwrap()[0], 3);
        // A start with an idTag the domain cannot hold (a control character), answered Invalid.
        let start = with_payload(event!("ws-default-start-transaction-1.6.json"), |p| {
            p["idTag"] = "SECRET\u{1}TAG02".into();
        });
        assert_eq!(
            send(&services, &start).await.unwrap()[2]["idTagInfo"]["status"],
            "Invalid"
        );
    })
    .await;
    assert!(log.contains("anomaly"), "{log}");
    for tag in ["SECRETTAG01", "SECRET"] {
        assert!(!log.contains(tag), "{tag} in the log:\n{log}");
    }
}

#[tokio::test]
async fn long_pile_values_are_truncated_in_the_log() {
    let services = booted_16().await;
    let long = "X".repeat(20_000);
    let log = logged(async {
        // An action no version defines, 20,000 characters long.
        let call = format!(r#"[2,"1","{long}",{{}}]"#);
        let event = with_body(event!("ws-default-heartbeat-1.6.json"), &call);
        assert_eq!(send(&services, &event).await.unwrap()[2], "NotImplemented");
        // A meter value that is no number, 20,000 characters long (1.6 bounds it nowhere).
        let meter = with_payload(event!("ws-default-meter-values-1.6.json"), |p| {
            p["meterValue"][0]["sampledValue"][0]["value"] = long.clone().into();
        });
        assert_eq!(send(&services, &meter).await.unwrap()[0], 3);
    })
    .await;
    assert!(log.contains("XXXX"), "the values are logged, truncated:\n{log}");
    let longest = log.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 1_000, "a log line of {longest} bytes");
}
