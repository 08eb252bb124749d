//! What operators use, on DynamoDB Local: stations by organisation through the ByOrganisation
//! index and tokens in each organisation's registry (pages, isolation, cursors of another list
//! refused), claim codes, station changes and decommissioning, status history and commands in
//! pages, newest first, and a station id registered again starting afresh.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_domain::command::{Command, CommandId, CommandRecord};
use csms_domain::registry::{self, NewStation, RegistryError};
use csms_domain::token_registry::{self, TokenRegistryError};
use csms_domain::*;
use integration_tests::fresh_stack;

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn station(id: &str, organisation: &str) -> NewStation {
    NewStation {
        id: StationId::parse(id).unwrap(),
        protocols: vec![ProtocolVersion::Ocpp201],
        registration: Registration::Accepted,
        site: Some("depot".into()),
        organisation: Some(organisation.into()),
        location: GeoPoint::new(52.37, 4.89),
        connectors: vec![
            Connector {
                evse_id: Some(2),
                connector_id: 1,
                kind: ConnectorType::CType2,
                max_power_w: 22_000,
            },
            Connector {
                evse_id: Some(1),
                connector_id: 1,
                kind: ConnectorType::CCcs2,
                max_power_w: 150_000,
            },
        ],
        password: None,
    }
}

/// Every page of a list, by following cursors.
async fn walk<T, F, Fut>(limit: usize, mut read: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut request = PageRequest::first(limit);
    let mut all = Vec::new();
    loop {
        let page = read(request.clone()).await.unwrap();
        assert!(page.items.len() <= limit);
        all.extend(page.items);
        match page.next {
            Some(next) => request = request.after(Some(next)),
            None => return all,
        }
    }
}

#[tokio::test]
async fn an_organisations_stations_come_in_pages_and_change_and_go() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    for id in ["A-3", "A-1", "A-2"] {
        registry::register(s, station(id, "org-a"), now()).await.unwrap();
    }
    registry::register(s, station("B-1", "org-b"), now()).await.unwrap();

    let theirs = walk(2, |page| async move {
        s.stations.list_by_organisation("org-a", &page).await
    })
    .await;
    let ids: Vec<&str> = theirs.iter().map(|st| st.id.as_str()).collect();
    assert_eq!(ids, ["A-1", "A-2", "A-3"]);
    // Connectors come back as declared, ordered by EVSE.
    assert_eq!(theirs[0].connectors[0].kind, ConnectorType::CCcs2);
    assert_eq!(theirs[0].connectors[1].evse_id, Some(2));
    let other = s
        .stations
        .list_by_organisation("org-b", &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(other.items.len(), 1);

    // A cursor of org-a's list is refused for org-b's, and a forged one too.
    let first = s
        .stations
        .list_by_organisation("org-a", &PageRequest::first(1))
        .await
        .unwrap();
    let cursor = first.next.unwrap();
    let stolen = PageRequest::first(1).after(Some(cursor));
    assert!(matches!(
        s.stations.list_by_organisation("org-b", &stolen).await,
        Err(StoreError::InvalidCursor)
    ));
    let forged = PageRequest::first(1).after(Some(Cursor::new("eyJvcmdhbmlzYXRpb24iOlsiUyIsIm9yZy1iIl19x")));
    assert!(matches!(
        s.stations.list_by_organisation("org-a", &forged).await,
        Err(StoreError::InvalidCursor)
    ));

    // Changes: protocols, registration, site and location removed, connectors replaced.
    let id = StationId::parse("A-1").unwrap();
    let changes = StationChanges {
        protocols: Some(vec![ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201]),
        registration: Some(Registration::Rejected),
        site: Some(None),
        location: Some(None),
        connectors: Some(vec![Connector {
            evse_id: None,
            connector_id: 1,
            kind: ConnectorType::SType2,
            max_power_w: 11_000,
        }]),
    };
    registry::update(s, &id, changes).await.unwrap();
    let changed = s.stations.get(&id).await.unwrap().unwrap();
    assert_eq!(changed.protocols, [ProtocolVersion::Ocpp16, ProtocolVersion::Ocpp201]);
    assert_eq!(changed.registration, Registration::Rejected);
    assert_eq!((changed.site, changed.location), (None, None));
    assert_eq!(changed.connectors.len(), 1);
    // Out of the geohash index with its location.
    let cell = csms_domain::geo::index_keys(GeoPoint::new(52.37, 4.89).unwrap()).0;
    let located = s.locator.in_cell(&cell).await.unwrap();
    assert!(!located.iter().any(|(st, _)| st == &id));
    let moved = StationChanges {
        location: Some(GeoPoint::new(48.85, 2.35)),
        connectors: Some(Vec::new()),
        ..StationChanges::default()
    };
    registry::update(s, &id, moved).await.unwrap();
    let moved = s.stations.get(&id).await.unwrap().unwrap();
    assert_eq!(moved.location, GeoPoint::new(48.85, 2.35));
    assert!(moved.connectors.is_empty());
    assert_eq!(moved.registration, Registration::Rejected);
    let paris = csms_domain::geo::index_keys(GeoPoint::new(48.85, 2.35).unwrap()).0;
    assert!(s.locator.in_cell(&paris).await.unwrap().iter().any(|(st, _)| st == &id));
    assert!(matches!(
        registry::update(
            s,
            &StationId::parse("NOPE").unwrap(),
            StationChanges {
                registration: Some(Registration::Pending),
                ..StationChanges::default()
            }
        )
        .await,
        Err(RegistryError::UnknownStation)
    ));

    // Decommissioning: the record goes (an offline station has no connection to close), the
    // organisation's list no longer has it, and the id can be registered again.
    let gone = registry::decommission(s, &id).await.unwrap();
    assert_eq!(gone.id, id);
    assert!(s.stations.get(&id).await.unwrap().is_none());
    let left = s
        .stations
        .list_by_organisation("org-a", &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(left.items.len(), 2);
    assert!(matches!(
        registry::decommission(s, &id).await,
        Err(RegistryError::UnknownStation)
    ));
    registry::register(s, station("A-1", "org-b"), now()).await.unwrap();
}

#[tokio::test]
async fn every_organisation_has_its_own_token_registry_and_drivers_claim_tokens() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let tokens = &*s.charging.tokens;
    let record = |raw: &str| TokenRecord {
        token: IdToken::parse_201(raw, IdTokenType::Iso14443).unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: Some("someone-an-operator-names".into()),
        organisation: None,
    };
    for raw in ["t-3", "t-1", "t-2"] {
        let (stored, new) = token_registry::put(tokens, Some("org-a"), record(raw)).await.unwrap();
        assert!(new && stored.owner.is_none(), "an operator never names the owner");
    }
    // Again by the same organisation: replaced. By another: a registration of its own.
    let mut blocked = record("T-1");
    blocked.status = AuthorizationStatus::Blocked;
    assert!(!token_registry::put(tokens, Some("org-a"), blocked).await.unwrap().1);
    assert!(
        token_registry::put(tokens, Some("org-b"), record("t-1"))
            .await
            .unwrap()
            .1
    );
    tokens.put(&record("unassigned")).await.unwrap();
    assert!(
        token_registry::put(tokens, Some("org-a"), record("unassigned"))
            .await
            .unwrap()
            .1
    );
    let key = IdToken::parse_16("T-1").unwrap();
    let status = async |organisation| tokens.get(organisation, &key).await.unwrap().map(|r| r.status);
    assert_eq!(status(Some("org-a")).await, Some(AuthorizationStatus::Blocked));
    assert_eq!(status(Some("org-b")).await, Some(AuthorizationStatus::Accepted));
    assert_eq!(status(None).await, None);

    // A driver claims org-a's t-2 with the newest code, once; the registration keeps the owner.
    let t2 = IdToken::parse_16("T-2").unwrap();
    let (stale, _) = token_registry::offer(tokens, Some("org-a"), &t2, now()).await.unwrap();
    let (code, expires) = token_registry::offer(tokens, Some("org-a"), &t2, now()).await.unwrap();
    for (code, at) in [(&stale, now()), (&code, expires)] {
        assert!(matches!(
            token_registry::claim(tokens, "dave", &code.expose(), at).await,
            Err(TokenRegistryError::UnknownClaim)
        ));
    }
    let claimed = token_registry::claim(tokens, "dave", &code.expose(), now())
        .await
        .unwrap();
    assert_eq!(
        (claimed.owner.as_deref(), claimed.organisation.as_deref()),
        (Some("dave"), Some("org-a"))
    );
    assert!(matches!(
        token_registry::claim(tokens, "eve", &code.expose(), now()).await,
        Err(TokenRegistryError::UnknownClaim)
    ));
    let (kept, _) = token_registry::put(tokens, Some("org-a"), record("t-2")).await.unwrap();
    assert_eq!(kept.owner.as_deref(), Some("dave"));
    assert!(matches!(
        token_registry::offer(tokens, Some("org-b"), &t2, now()).await,
        Err(TokenRegistryError::Unknown)
    ));

    let theirs = walk(
        2,
        |page| async move { tokens.list_by_organisation("org-a", &page).await },
    )
    .await;
    let keys: Vec<String> = theirs.iter().map(|r| r.token.key()).collect();
    assert_eq!(keys, ["T-1", "T-2", "T-3", "UNASSIGNED"]);
    assert_eq!(theirs[0].organisation.as_deref(), Some("org-a"));
    let first = tokens
        .list_by_organisation("org-a", &PageRequest::first(1))
        .await
        .unwrap();
    assert!(matches!(
        tokens
            .list_by_organisation("org-b", &PageRequest::first(1).after(first.next))
            .await,
        Err(StoreError::InvalidCursor)
    ));
    // The driver's own list (ByOwner) has what they claimed, and the scan lists tokens, not claims.
    let mine = tokens.list_by_owner("dave", &PageRequest::first(10)).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(tokens.list().await.unwrap().len(), 6);

    // The operator may unbind it, and delete only their own.
    token_registry::update(
        s,
        "org-a",
        &t2,
        token_registry::TokenChange {
            release: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(tokens.get(Some("org-a"), &t2).await.unwrap().unwrap().owner, None);
    assert!(matches!(
        token_registry::delete(s, "org-b", &t2).await,
        Err(TokenRegistryError::Unknown)
    ));
    token_registry::delete(s, "org-a", &t2).await.unwrap();
    assert!(tokens.get(Some("org-a"), &t2).await.unwrap().is_none());
}

#[tokio::test]
async fn history_and_commands_page_newest_first() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let id = StationId::parse("H-1").unwrap();
    let t0 = now() - Duration::minutes(30);
    for i in 0..5 {
        let at = t0 + Duration::minutes(i);
        s.history
            .append(&StatusReport {
                station_id: id.clone(),
                component: Component {
                    evse: Some(1),
                    connector: 1,
                },
                status: format!("S{i}"),
                error_code: None,
                info: None,
                vendor_error_code: None,
                timestamp: at,
                received_at: at,
            })
            .await
            .unwrap();
    }
    let history = walk(2, |page| {
        let id = id.clone();
        async move { s.history.list(&id, t0, &page).await }
    })
    .await;
    let statuses: Vec<&str> = history.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["S4", "S3", "S2", "S1", "S0"]);
    let first = s.history.list(&id, t0, &PageRequest::first(1)).await.unwrap();
    assert!(matches!(
        s.history
            .list(
                &StationId::parse("H-2").unwrap(),
                t0,
                &PageRequest::first(1).after(first.next)
            )
            .await,
        Err(StoreError::InvalidCursor)
    ));

    // Commands: only the command items (not the station's slot), newest first.
    let mut ids = Vec::new();
    for i in 0..3 {
        let command = Command {
            id: CommandId::parse(&uuid::Uuid::now_v7().to_string()).unwrap(),
            station: id.clone(),
            protocol: ProtocolVersion::Ocpp201,
            action: "Reset".into(),
            payload: r#"{"type":"Immediate"}"#.into(),
            deadline: t0 + Duration::minutes(40),
            created_at: t0 + Duration::seconds(i),
            requested_by: None,
        };
        ids.push(command.id.clone());
        assert!(s.commands.store.create(&CommandRecord::queued(command)).await.unwrap());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    s.commands
        .store
        .acquire_slot(&id, &ids[0], t0 + Duration::minutes(40), now())
        .await
        .unwrap();
    let listed = walk(2, |page| {
        let id = id.clone();
        async move { s.commands.store.list_newest(&id, t0, &page).await }
    })
    .await;
    let listed: Vec<CommandId> = listed.into_iter().map(|r| r.command.id).collect();
    ids.reverse();
    assert_eq!(listed, ids);
    // The station's history cursor is not a commands cursor.
    let history_page = s.history.list(&id, t0, &PageRequest::first(1)).await.unwrap();
    assert!(matches!(
        s.commands
            .store
            .list_newest(&id, t0, &PageRequest::first(1).after(history_page.next))
            .await,
        Err(StoreError::InvalidCursor)
    ));
}

/// Issue 10 item 18 on DynamoDB Local: a station id registered again starts without the live
/// status, slot and local-list belief of its earlier registration, and sees only the history and
/// commands received since it was registered (also through a cursor of the earlier one).
#[tokio::test]
async fn a_station_id_registered_again_starts_a_life_of_its_own() {
    let stack = fresh_stack().await;
    let s = &stack.services;
    let id = StationId::parse("R-1").unwrap();
    registry::register(s, station("R-1", "org-a"), now() - Duration::minutes(10))
        .await
        .unwrap();
    // GIVEN the first registration's live status, history, commands, slot and local list belief
    let component = Component {
        evse: Some(1),
        connector: 1,
    };
    let report = |status: &str, received: DateTime<Utc>| StatusReport {
        station_id: id.clone(),
        component,
        status: status.into(),
        error_code: None,
        info: None,
        vendor_error_code: None,
        timestamp: received,
        received_at: received,
    };
    let before = now() - Duration::minutes(5);
    csms_domain::status::record(&*s.availability, &*s.history, &report("Charging", before))
        .await
        .unwrap();
    let mut old_commands = Vec::new();
    for _ in 0..2 {
        let command = Command {
            id: CommandId::parse(&uuid::Uuid::now_v7().to_string()).unwrap(),
            station: id.clone(),
            protocol: ProtocolVersion::Ocpp201,
            action: "Reset".into(),
            payload: r#"{"type":"Immediate"}"#.into(),
            deadline: now() + Duration::minutes(10),
            created_at: now(),
            requested_by: None,
        };
        s.commands
            .store
            .create(&CommandRecord::queued(command.clone()))
            .await
            .unwrap();
        old_commands.push(command.id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    s.commands
        .store
        .acquire_slot(&id, &old_commands[0], now() + Duration::minutes(10), now())
        .await
        .unwrap();
    let belief = csms_domain::local_list::LocalListState {
        version: 7,
        needs_full: false,
        ..Default::default()
    };
    assert!(
        s.commands
            .local_lists
            .put_if_revision(&id, None, &belief)
            .await
            .unwrap()
    );
    let old_cursor = s
        .commands
        .store
        .list_newest(&id, before - Duration::hours(1), &PageRequest::first(1))
        .await
        .unwrap()
        .next;
    assert!(old_cursor.is_some());

    // WHEN it is decommissioned and registered again by another organisation
    registry::decommission(s, &id).await.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let registered = now();
    registry::register(s, station("R-1", "org-b"), registered)
        .await
        .unwrap();

    // THEN nothing of the first registration shows from its registration on
    assert!(s.availability.list(&id).await.unwrap().is_empty());
    assert!(s.commands.store.holder(&id).await.unwrap().is_none());
    assert!(s.commands.local_lists.get(&id).await.unwrap().is_none());
    let history = s.history.list(&id, registered, &PageRequest::first(10)).await.unwrap();
    assert!(history.items.is_empty() && history.next.is_none());
    let commands = s
        .commands
        .store
        .list_newest(&id, registered, &PageRequest::first(10))
        .await
        .unwrap();
    assert!(commands.items.is_empty());
    assert!(matches!(
        s.commands
            .store
            .list_newest(&id, registered, &PageRequest::first(1).after(old_cursor))
            .await,
        Err(StoreError::InvalidCursor)
    ));
    // AND what the new pile reports, even dated by a clock running behind, and the new commands do
    csms_domain::status::record(&*s.availability, &*s.history, &{
        let mut late_clock = report("Available", now());
        late_clock.timestamp = before - Duration::minutes(1);
        late_clock
    })
    .await
    .unwrap();
    let history = s.history.list(&id, registered, &PageRequest::first(10)).await.unwrap();
    assert_eq!(history.items.len(), 1);
    assert_eq!(history.items[0].status, "Available");
    let command = Command {
        id: CommandId::parse(&uuid::Uuid::now_v7().to_string()).unwrap(),
        station: id.clone(),
        protocol: ProtocolVersion::Ocpp201,
        action: "Reset".into(),
        payload: r#"{"type":"Immediate"}"#.into(),
        deadline: now() + Duration::minutes(10),
        created_at: now(),
        requested_by: None,
    };
    s.commands
        .store
        .create(&CommandRecord::queued(command.clone()))
        .await
        .unwrap();
    let commands = s
        .commands
        .store
        .list_newest(&id, registered, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(
        commands.items.iter().map(|r| &r.command.id).collect::<Vec<_>>(),
        [&command.id]
    );
}
