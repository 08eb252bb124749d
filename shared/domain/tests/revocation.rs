//! Issue 10, item 12: revocation takes effect at once. GIVEN a station with a live connection
//! WHEN its password is rotated or it is set Rejected THEN that connection is closed, a connect
//! racing the change is refused, and a Rejected station must boot again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use csms_domain::connection::{self, ConnectAttempt, ConnectRefusal};
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::{CheckedAgainst, StationRepository};
use csms_domain::registry::{self, NewStation};
use csms_domain::*;
use std::sync::Arc;

const PASSWORD: &str = "s3cret-password-16";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn id() -> StationId {
    StationId::parse("CP-REVOKE").unwrap()
}

async fn registered() -> (MemoryWorld, Services) {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let new = NewStation {
        id: id(),
        protocols: vec![ProtocolVersion::Ocpp16],
        registration: Registration::Accepted,
        site: None,
        organisation: None,
        location: None,
        connectors: Vec::new(),
        password: Some(Password::parse(PASSWORD).unwrap()),
    };
    registry::register(&services, new, now()).await.unwrap();
    (world, services)
}

async fn connect(services: &Services, connection_id: &str, password: &str) -> Result<Connection, ConnectRefusal> {
    let attempt = ConnectAttempt {
        connection_id,
        station_id: "CP-REVOKE",
        credentials: Some(("CP-REVOKE", password)),
        offered_protocols: "ocpp1.6",
        now: now(),
    };
    connection::open(services, attempt).await.unwrap()
}

async fn booted(services: &Services, connection: &Connection) {
    let report = connection::BootReport {
        vendor: "V".into(),
        model: "M".into(),
        serial_number: None,
        firmware_version: None,
    };
    let decision = connection::boot(services, connection, report, now()).await.unwrap();
    assert_eq!(decision.status, Registration::Accepted);
}

fn closed(world: &MemoryWorld) -> Vec<String> {
    world.channel.0.lock().unwrap().clone()
}

#[tokio::test]
async fn rotating_the_password_closes_the_connection_opened_with_the_old_one() {
    let (world, services) = registered().await;
    connect(&services, "c1", PASSWORD).await.unwrap();
    let new = registry::rotate_password(&services, &id(), None).await.unwrap();
    assert_eq!(closed(&world), ["c1"]);
    assert_eq!(
        connect(&services, "c2", PASSWORD).await.unwrap_err(),
        ConnectRefusal::BadCredentials
    );
    connect(&services, "c3", new.expose()).await.unwrap();
}

#[tokio::test]
async fn setting_rejected_closes_the_connection_and_the_old_boot_no_longer_counts() {
    let (world, services) = registered().await;
    let first = connect(&services, "c1", PASSWORD).await.unwrap();
    booted(&services, &first).await;
    // Pending is decided at the next boot; the socket stays.
    registry::set_registration(&services, &id(), Registration::Pending)
        .await
        .unwrap();
    assert!(closed(&world).is_empty());
    registry::set_registration(&services, &id(), Registration::Rejected)
        .await
        .unwrap();
    assert_eq!(closed(&world), ["c1"]);
    // It may connect again, but must boot again (and is told Rejected) before anything else.
    let again = connect(&services, "c2", PASSWORD).await.unwrap();
    assert_eq!(again.boot, Some(Registration::Rejected));
    assert!(!boot::may_send_requests(again.boot));

    // The same through the operator's change of a station.
    registry::set_registration(&services, &id(), Registration::Accepted)
        .await
        .unwrap();
    let third = connect(&services, "c3", PASSWORD).await.unwrap();
    booted(&services, &third).await;
    let changes = StationChanges {
        registration: Some(Registration::Rejected),
        ..StationChanges::default()
    };
    registry::update(&services, &id(), changes).await.unwrap();
    assert_eq!(closed(&world).last().map(String::as_str), Some("c3"));
}

/// Rotates the password right after `$connect` has read the station: the race a revocation must
/// not lose.
struct RotatesWhileConnecting {
    inner: Arc<dyn StationRepository>,
    new_hash: PasswordHash,
}

#[async_trait]
impl StationRepository for RotatesWhileConnecting {
    async fn get(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        let read = self.inner.get(id).await;
        self.inner.set_password_hash(id, &self.new_hash).await?;
        read
    }
    async fn create(&self, station: &Station) -> Result<(), StoreError> {
        self.inner.create(station).await
    }
    async fn set_password_hash(&self, id: &StationId, hash: &PasswordHash) -> Result<Option<String>, StoreError> {
        self.inner.set_password_hash(id, hash).await
    }
    async fn set_registration(&self, id: &StationId, r: Registration) -> Result<Option<String>, StoreError> {
        self.inner.set_registration(id, r).await
    }
    async fn update(&self, id: &StationId, changes: &StationChanges) -> Result<Option<String>, StoreError> {
        self.inner.update(id, changes).await
    }
    async fn delete(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        self.inner.delete(id).await
    }
    async fn list(&self) -> Result<Vec<Station>, StoreError> {
        self.inner.list().await
    }
    async fn list_by_organisation(&self, organisation: &str, page: &PageRequest) -> Result<Page<Station>, StoreError> {
        self.inner.list_by_organisation(organisation, page).await
    }
    async fn attach_connection(
        &self,
        id: &StationId,
        connection_id: &str,
        checked: CheckedAgainst<'_>,
    ) -> Result<Option<String>, StoreError> {
        self.inner.attach_connection(id, connection_id, checked).await
    }
    async fn detach_connection(&self, id: &StationId, connection_id: &str) -> Result<bool, StoreError> {
        self.inner.detach_connection(id, connection_id).await
    }
    async fn record_boot(&self, id: &StationId, boot: &BootInfo) -> Result<(), StoreError> {
        self.inner.record_boot(id, boot).await
    }
}

#[tokio::test]
async fn a_connect_racing_a_rotation_is_refused_when_it_attaches() {
    let (world, mut services) = registered().await;
    services.stations = Arc::new(RotatesWhileConnecting {
        inner: world.stations.clone(),
        new_hash: Password::parse("another-password-16").unwrap().hash().unwrap(),
    });
    // The old password verified against what was read, but no longer holds when it attaches.
    assert_eq!(
        connect(&services, "c1", PASSWORD).await.unwrap_err(),
        ConnectRefusal::BadCredentials
    );
    let station = world.stations.get(&id()).await.unwrap().unwrap();
    assert_eq!(station.connection_id, None);
    assert!(world.connections.0.lock().unwrap().is_empty());
}
