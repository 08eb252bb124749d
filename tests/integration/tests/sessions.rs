//! The sessions indexes (ByOwner, ByOrganisation) against DynamoDB Local: pages, isolation
//! between owners and organisations, filters, and cursors that are refused.

use chrono::{DateTime, Duration, Utc};
use csms_domain::transaction::TransactionId;
use csms_domain::*;
use integration_tests::fresh_stack;
use rust_decimal::Decimal;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A 1.6 session `tx` at `station`, started `minute` minutes after t0 with one energy reading,
/// completed when `stopped`.
fn session(station: &str, tx: i64, minute: i64, stopped: bool, owner: &str, organisation: &str) -> Session {
    let key = TransactionKey::Ocpp16(TransactionId::new(tx).unwrap());
    let at = t0() + Duration::minutes(minute);
    let event = |kind, at: DateTime<Utc>| SessionEvent {
        station: StationId::parse(station).unwrap(),
        transaction: key.clone(),
        seq_no: None,
        timestamp: at,
        offline: false,
        evse: None,
        connector: Some(1),
        id_token: Some(IdToken::parse_16("TAG").unwrap()),
        kind,
        samples: vec![
            MeterSample::new(
                at,
                Measurand::EnergyActiveImportRegister,
                Decimal::from(100),
                Some("Wh"),
                0,
            )
            .unwrap(),
        ],
    };
    let started = SessionEventKind::Started {
        meter_start_wh: Some(Decimal::ZERO),
        reason: None,
        remote_start_id: None,
    };
    let mut s = match Session::apply(None, &event(started, at)) {
        Change::Updated(s) => s,
        other => panic!("{other:?}"),
    };
    if stopped {
        let stop = SessionEventKind::Stopped {
            meter_stop_wh: Some(Decimal::from(500)),
            reason: "Local".into(),
        };
        s = match Session::apply(Some(&s), &event(stop, at + Duration::minutes(20))) {
            Change::Completed(s) => s,
            other => panic!("{other:?}"),
        };
    }
    s.version = 1;
    s.owner = Some(owner.into());
    s.organisation = Some(organisation.into());
    s
}

fn ids(page: &Page<SessionSummary>) -> Vec<String> {
    page.items
        .iter()
        .map(|s| format!("{}/{}", s.station, s.transaction))
        .collect()
}

#[tokio::test]
async fn sessions_page_by_owner_and_organisation_newest_first_with_filters() {
    let stack = fresh_stack().await;
    let sessions = &stack.services.charging.sessions;
    // GIVEN 25 sessions of alice's at org-a's two stations (every third one still active), and
    // 4 of bob's at org-b's station
    let mut alices = Vec::new();
    for i in 0..25 {
        let station = if i % 2 == 0 { "CP-A1" } else { "CP-A2" };
        let s = session(station, i + 1, i * 10, i % 3 != 0, "alice", "org-a");
        assert!(sessions.save(&s, None).await.unwrap());
        alices.push(s);
    }
    for i in 0..4 {
        let s = session("CP-B1", 100 + i, i * 10 + 5, true, "bob", "org-b");
        assert!(sessions.save(&s, None).await.unwrap());
    }
    let all = SessionFilter::default();

    // WHEN alice's sessions are read in pages of 7
    let mut seen = Vec::new();
    let mut request = PageRequest::first(7);
    let mut pages = 0;
    loop {
        let page = sessions.list_by_owner("alice", &all, &request).await.unwrap();
        assert!(page.items.len() <= 7);
        pages += 1;
        seen.extend(ids(&page));
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => break,
        }
    }
    // THEN all 25, newest start first, once each, in 4 pages
    let expected: Vec<String> = alices
        .iter()
        .rev()
        .map(|s| format!("{}/{}", s.station, s.transaction))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(pages, 4);

    // The summary comes from the index alone.
    let newest = sessions
        .list_by_owner("alice", &all, &PageRequest::first(1))
        .await
        .unwrap();
    let summary = &newest.items[0];
    assert_eq!(summary.started_at, Some(t0() + Duration::minutes(240)));
    assert_eq!(summary.id_token.as_ref().unwrap().as_str(), "TAG");
    // i = 24 is still active: energy so far is its one reading.
    assert_eq!(
        (summary.completed, summary.energy_wh),
        (false, Some(Decimal::from(100)))
    );

    // Isolation: bob and org-b see only theirs, nobody else sees anything.
    let bobs = sessions
        .list_by_owner("bob", &all, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(
        ids(&bobs),
        ["CP-B1/tx16#103", "CP-B1/tx16#102", "CP-B1/tx16#101", "CP-B1/tx16#100"]
    );
    let org_b = sessions
        .list_by_organisation("org-b", &all, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(ids(&org_b), ids(&bobs));
    let org_a = sessions
        .list_by_organisation("org-a", &all, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(org_a.items.len(), 25);
    assert!(
        sessions
            .list_by_owner("carol", &all, &PageRequest::first(100))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Filters: station and state, filled across queries into full pages.
    let completed_at_a2 = SessionFilter {
        station: Some(StationId::parse("CP-A2").unwrap()),
        state: Some(SessionState::Completed),
        ..SessionFilter::default()
    };
    let page = sessions
        .list_by_organisation("org-a", &completed_at_a2, &PageRequest::first(3))
        .await
        .unwrap();
    // Odd i at CP-A2, completed unless i % 3 == 0: i = 23, 19, 17 (21 and 15 are active).
    assert_eq!(ids(&page), ["CP-A2/tx16#24", "CP-A2/tx16#20", "CP-A2/tx16#18"]);
    let rest = sessions
        .list_by_organisation("org-a", &completed_at_a2, &PageRequest::first(100).after(page.next))
        .await
        .unwrap();
    assert_eq!(
        ids(&rest),
        [
            "CP-A2/tx16#14",
            "CP-A2/tx16#12",
            "CP-A2/tx16#8",
            "CP-A2/tx16#6",
            "CP-A2/tx16#2"
        ]
    );
    let active = SessionFilter {
        state: Some(SessionState::Active),
        ..SessionFilter::default()
    };
    let live = sessions
        .list_by_owner("alice", &active, &PageRequest::first(100))
        .await
        .unwrap();
    assert_eq!(live.items.len(), 9);
    assert!(live.items.iter().all(|s| !s.completed));

    // Start time range (inclusive): minutes 50 to 100 are i = 5..=10.
    let range = SessionFilter {
        from: Some(t0() + Duration::minutes(50)),
        to: Some(t0() + Duration::minutes(100)),
        ..SessionFilter::default()
    };
    let first = sessions
        .list_by_owner("alice", &range, &PageRequest::first(4))
        .await
        .unwrap();
    assert_eq!(
        ids(&first),
        ["CP-A1/tx16#11", "CP-A2/tx16#10", "CP-A1/tx16#9", "CP-A2/tx16#8"]
    );
    let second = sessions
        .list_by_owner("alice", &range, &PageRequest::first(4).after(first.next.clone()))
        .await
        .unwrap();
    assert_eq!(ids(&second), ["CP-A1/tx16#7", "CP-A2/tx16#6"]);
    assert_eq!(second.next, None);

    // Cursors: forged, another owner's, another organisation's, or outside the range: refused.
    let bobs_cursor = sessions
        .list_by_owner("bob", &all, &PageRequest::first(1))
        .await
        .unwrap()
        .next
        .unwrap();
    let alices_cursor = sessions
        .list_by_owner("alice", &all, &PageRequest::first(1))
        .await
        .unwrap()
        .next
        .unwrap();
    let refused = [
        ("alice", Cursor::new("bm90IGEgY3Vyc29y"), &all),
        ("alice", bobs_cursor.clone(), &all),
        ("alice", alices_cursor.clone(), &range),
    ];
    for (owner, cursor, filter) in refused {
        let request = PageRequest::first(5).after(Some(cursor));
        assert!(
            matches!(
                sessions.list_by_owner(owner, filter, &request).await,
                Err(StoreError::InvalidCursor)
            ),
            "{owner}"
        );
    }
    let request = PageRequest::first(5).after(Some(alices_cursor));
    assert!(matches!(
        sessions.list_by_organisation("org-a", &all, &request).await,
        Err(StoreError::InvalidCursor)
    ));

    // The record itself keeps its owner and organisation.
    let one = sessions
        .get(&alices[3].station, &alices[3].transaction)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (one.owner.as_deref(), one.organisation.as_deref()),
        (Some("alice"), Some("org-a"))
    );
}
