//! Which tokens work where (issue 10 item 15): a station answers Authorize and the idTagInfo /
//! idTokenInfo of transactions for its own organisation's tokens only, in both versions, and a
//! session started with another organisation's token is attributed to nobody.

mod common;

use common::*;
use csms_domain::connection::{self, ConnectAttempt};
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::TokenRepository;
use csms_domain::registry::{self, NewStation};
use csms_domain::session;
use csms_domain::*;
use serde_json::json;

/// A booted station of `org-b` on `protocol`, and a registry with org-a's cards (one of them
/// Dave's) and org-b's own card.
async fn station_of_org_b(protocol: &str) -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let new = NewStation {
        id: StationId::parse("CP-DEMO-1").unwrap(),
        protocols: ProtocolVersion::ALL.to_vec(),
        registration: Registration::Accepted,
        site: None,
        organisation: Some("org-b".into()),
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse("demo-password-1234").unwrap()),
    };
    registry::register(&services, new, chrono::Utc::now()).await.unwrap();
    let attempt = ConnectAttempt {
        connection_id: CONNECTION,
        station_id: "CP-DEMO-1",
        credentials: Some(("CP-DEMO-1", "demo-password-1234")),
        offered_protocols: protocol,
        now: chrono::Utc::now(),
    };
    connection::open(&services, attempt).await.unwrap().unwrap();
    let boot = match protocol {
        "ocpp1.6" => event!("ws-default-boot-notification-1.6.json"),
        _ => event!("ws-default-boot-notification-2.0.1.json"),
    };
    assert_eq!(send(&services, boot).await.unwrap()[2]["status"], "Accepted");
    for (token, org, owner) in [
        (IdToken::parse_16("04E91C5A").unwrap(), "org-a", Some("dave")),
        (
            IdToken::parse_201("04A2B3C4D5E6F7", IdTokenType::Iso14443).unwrap(),
            "org-a",
            Some("dave"),
        ),
        (IdToken::parse_16("OWN-CARD").unwrap(), "org-b", Some("erin")),
    ] {
        let record = TokenRecord {
            token,
            status: AuthorizationStatus::Accepted,
            expiry: None,
            group: None,
            owner: owner.map(Into::into),
            organisation: Some(org.into()),
        };
        world.charging.tokens.put(&record).await.unwrap();
    }
    (world, services)
}

async fn project_all(world: &MemoryWorld) -> Vec<Session> {
    let events: Vec<SessionEvent> = world
        .charging
        .session_events
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    for event in &events {
        session::project(world.charging.session_ports(&*world.stations), event)
            .await
            .unwrap();
    }
    world.charging.sessions.0.lock().unwrap().values().cloned().collect()
}

#[tokio::test]
async fn ocpp16_answers_only_its_own_organisations_tags() {
    let (world, services) = station_of_org_b("ocpp1.6").await;

    // WHEN org-a's tag is presented at org-b's station THEN it is unknown here: Invalid
    let foreign = send(&services, event!("ws-default-authorize-1.6.json")).await.unwrap();
    assert_eq!(foreign[2], json!({"idTagInfo": {"status": "Invalid"}}));
    let own = with_payload(event!("ws-default-authorize-1.6.json"), |p| {
        p["idTag"] = json!("own-card")
    });
    assert_eq!(
        send(&services, &own).await.unwrap()[2]["idTagInfo"]["status"],
        "Accepted"
    );

    // AND a transaction started with it (the pile authorized it from a stale cache) is answered
    // Invalid, and its session is nobody's
    let started = send(&services, event!("ws-default-start-transaction-1.6.json"))
        .await
        .unwrap();
    assert_eq!(started[2]["idTagInfo"]["status"], "Invalid");
    let sessions = project_all(&world).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0].owner, None,
        "org-a's driver is not attributed org-b's session"
    );
    assert_eq!(sessions[0].organisation.as_deref(), Some("org-b"));
}

#[tokio::test]
async fn ocpp201_answers_only_its_own_organisations_tokens() {
    let (world, services) = station_of_org_b("ocpp2.0.1").await;

    let foreign = send(&services, event!("ws-default-authorize-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(foreign[2]["idTokenInfo"]["status"], "Invalid");
    let own = with_payload(event!("ws-default-authorize-2.0.1.json"), |p| {
        p["idToken"] = json!({"idToken": "OWN-CARD", "type": "ISO14443"})
    });
    assert_eq!(
        send(&services, &own).await.unwrap()[2]["idTokenInfo"]["status"],
        "Accepted"
    );

    let started = send(&services, event!("ws-default-transaction-event-started-2.0.1.json"))
        .await
        .unwrap();
    assert_eq!(started[2]["idTokenInfo"]["status"], "Invalid");
    let sessions = project_all(&world).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].owner, None);
}
