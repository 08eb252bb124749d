//! Doors and abuse (issue 10) on DynamoDB Local: what a client or a pile sends cannot reach past
//! the checks in front of the tables.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use csms_domain::*;
use integration_tests::fresh_stack;

/// A cursor as the adapters write one (`{"name": ["S", "value"]}`, base64url), with chosen keys.
fn cursor(keys: &[(&str, &str)]) -> PageRequest {
    let json = format!(
        "{{{}}}",
        keys.iter()
            .map(|(name, value)| format!("\"{name}\":[\"S\",\"{value}\"]"))
            .collect::<Vec<_>>()
            .join(",")
    );
    PageRequest::first(5).after(Some(Cursor::new(URL_SAFE_NO_PAD.encode(json))))
}

/// Item 19: a cursor whose partition matches the list but whose other keys belong to another
/// table or index is the client's error (InvalidCursor, a 400), not a DynamoDB failure (a 500).
#[tokio::test]
async fn a_cursor_forged_with_another_tables_keys_is_refused() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let station = StationId::parse("CP-CURSOR").unwrap();
    let refused = |what: &str, result: Result<(), StoreError>| {
        assert!(matches!(result, Err(StoreError::InvalidCursor)), "{what}: {result:?}");
    };
    // Each list gets its own partition with another table's sort key (or an extra key).
    refused(
        "stations by organisation",
        s.stations
            .list_by_organisation("org-a", &cursor(&[("organisation", "org-a"), ("idToken", "X")]))
            .await
            .map(drop),
    );
    refused(
        "tokens by owner",
        s.charging
            .tokens
            .list_by_owner("alice", &cursor(&[("owner", "alice"), ("stationId", "CP-1")]))
            .await
            .map(drop),
    );
    refused(
        "tokens by organisation",
        s.charging
            .tokens
            .list_by_organisation("org-a", &cursor(&[("organisation", "org-a"), ("stationId", "CP-1")]))
            .await
            .map(drop),
    );
    refused(
        "status history",
        s.history
            .list(
                &station,
                chrono::DateTime::UNIX_EPOCH,
                &cursor(&[("stationId", "CP-CURSOR"), ("transaction", "1")]),
            )
            .await
            .map(drop),
    );
    refused(
        "commands",
        s.commands
            .store
            .list_newest(
                &station,
                chrono::DateTime::UNIX_EPOCH,
                &cursor(&[("stationId", "CP-CURSOR"), ("entry", "command#x"), ("pk", "y")]),
            )
            .await
            .map(drop),
    );
    refused(
        "organisations",
        s.organisations
            .list(&cursor(&[("pk", "organisation"), ("stationId", "CP-1")]))
            .await
            .map(drop),
    );
    refused(
        "operators",
        s.organisations
            .operators(
                &OrganisationId::parse("org-a").unwrap(),
                &cursor(&[("organisation", "org-a"), ("idToken", "X")]),
            )
            .await
            .map(drop),
    );
    refused(
        "sessions by owner",
        s.charging
            .sessions
            .list_by_owner(
                "alice",
                &SessionFilter::default(),
                &cursor(&[("owner", "alice"), ("idToken", "X")]),
            )
            .await
            .map(drop),
    );
}

/// Item 9: a report for a component the station has not declared is kept as an anomaly on
/// DynamoDB Local and reads back as such; the declared ones get their view.
#[tokio::test]
async fn undeclared_components_become_anomalies_that_read_back() {
    use chrono::{SubsecRound, Utc};
    use csms_domain::registry::{self, NewStation};
    let stack = fresh_stack().await;
    let s = &stack.services;
    let id = StationId::parse("CP-DECLARED").unwrap();
    let new = NewStation {
        id: id.clone(),
        protocols: vec![ProtocolVersion::Ocpp201],
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors: vec![Connector {
            evse_id: Some(1),
            connector_id: 1,
            kind: ConnectorType::CCcs2,
            max_power_w: 150_000,
        }],
        password: None,
    };
    registry::register(s, new, Utc::now()).await.unwrap();
    let now = Utc::now().trunc_subsecs(3);
    let report = |evse, connector| StatusReport {
        station_id: id.clone(),
        component: Component {
            evse: Some(evse),
            connector,
        },
        status: "Available".into(),
        error_code: None,
        info: None,
        vendor_error_code: None,
        timestamp: now,
        received_at: now,
    };
    let ports = status::StatusPorts {
        stations: &*s.stations,
        anomalies: &*s.charging.anomalies,
        availability: &*s.availability,
        history: &*s.history,
    };
    assert!(matches!(
        status::take(ports, &report(1, 1), now).await.unwrap(),
        status::Taken::Recorded(_)
    ));
    assert_eq!(
        status::take(ports, &report(7, 3), now).await.unwrap(),
        status::Taken::Undeclared
    );
    let views = s.availability.list(&id).await.unwrap();
    assert_eq!(views.len(), 1);
    let anomalies = s.charging.anomalies.list(&id).await.unwrap();
    assert_eq!(anomalies.len(), 1);
    assert_eq!(
        anomalies[0].kind,
        AnomalyKind::UndeclaredComponent {
            component: Component {
                evse: Some(7),
                connector: 3
            }
        }
    );
}

/// Items 11 and 13: LimitsTable on DynamoDB Local. Counts add up across writers; a driver's
/// pending command is replaced only by whoever saw the current one.
#[tokio::test]
async fn limits_count_and_hold_one_pending_command() {
    use chrono::{Duration, Utc};
    use csms_domain::command::CommandId;
    use csms_domain::limits::{self, Budget, Limiter, PendingCommand, Verdict};
    let stack = fresh_stack().await;
    let ports = csms_aws::limit_ports_with(&stack.dynamodb, &stack.config);
    let later = Utc::now() + Duration::minutes(5);
    assert_eq!(ports.counters.add("station#CP-1#1", 3, later).await.unwrap(), 3);
    assert_eq!(ports.counters.add("station#CP-1#1", 4, later).await.unwrap(), 7);
    assert_eq!(ports.counters.add("station#CP-2#1", 1, later).await.unwrap(), 1);

    // Two instances share one budget through the table.
    let (a, b) = (
        Limiter::new(ports.counters.clone()),
        Limiter::new(ports.counters.clone()),
    );
    let budget = Budget::per_minute(30);
    let now = Utc::now();
    let mut allowed = 0;
    for i in 0..100 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        if limiter.count("station#CP-3", budget, now).await.unwrap() == Verdict::Allowed {
            allowed += 1;
        }
    }
    assert!((30..=36).contains(&allowed), "{allowed}");

    let command = |id: &str| PendingCommand {
        station: StationId::parse("CP-1").unwrap(),
        id: CommandId::parse(id).unwrap(),
        deadline: Utc::now() + Duration::seconds(30),
    };
    let pending = &*ports.pending;
    assert_eq!(pending.get("dora").await.unwrap(), None);
    assert!(pending.replace("dora", &command("c1"), None).await.unwrap());
    assert!(!pending.replace("dora", &command("c2"), None).await.unwrap());
    assert!(
        !pending
            .replace("dora", &command("c2"), Some(&CommandId::parse("c0").unwrap()))
            .await
            .unwrap()
    );
    assert_eq!(pending.get("dora").await.unwrap().unwrap().id.as_str(), "c1");
    // c1 is not recorded by the commands function yet: still pending.
    let store = &*stack.services.commands.store;
    let refused = limits::claim_pending(pending, store, "dora", &command("c3"), Utc::now())
        .await
        .unwrap();
    assert_eq!(refused.unwrap_err().id.as_str(), "c1");
    // Past its deadline it no longer holds the driver up.
    let after = Utc::now() + Duration::minutes(1);
    assert_eq!(
        limits::claim_pending(pending, store, "dora", &command("c3"), after)
            .await
            .unwrap(),
        Ok(())
    );
}
