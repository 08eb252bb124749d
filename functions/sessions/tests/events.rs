//! The sessions consumer on the sample SQS batch in `events/`, against in-memory ports.

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use csms_aws::events::{DomainEvent, StatusReportedV1};
use csms_domain::memory::MemoryWorld;
use csms_domain::ports::{PublishError, SessionCompletedBus, StationRepository, TokenRepository};
use csms_domain::session;
use csms_domain::*;
use rust_decimal_macros::dec;
use std::sync::Arc;

const BATCH: &str = include_str!("../../../events/sqs-session-events.json");

fn batch() -> SqsEvent {
    serde_json::from_str(BATCH).unwrap()
}

/// The batch's records, by position (1-based, as the message ids end).
fn records(positions: &[usize]) -> SqsEvent {
    let all = batch();
    let mut some = all.clone();
    some.records = positions.iter().map(|p| all.records[p - 1].clone()).collect();
    some
}

fn failed(response: &SqsBatchResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn message_id(position: usize) -> String {
    format!("7c1e2f90-3b4d-4e8a-9d61-2a5b8c0e41{position:02}")
}

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

fn station() -> StationId {
    StationId::parse("CP-DEMO-1").unwrap()
}

fn tx16(id: i64) -> TransactionKey {
    TransactionKey::Ocpp16(TransactionId::new(id).unwrap())
}

fn session(world: &MemoryWorld, transaction: TransactionKey) -> Option<Session> {
    world
        .charging
        .sessions
        .0
        .lock()
        .unwrap()
        .get(&(station(), transaction))
        .cloned()
}

async fn readings(world: &MemoryWorld, transaction: TransactionKey) -> usize {
    session::whole_series(&*world.charging.series, &station(), &transaction)
        .await
        .unwrap()
        .len()
}

fn completions(world: &MemoryWorld) -> Vec<(String, SessionCompleted)> {
    world.charging.completions.0.lock().unwrap().clone()
}

#[tokio::test]
async fn a_poison_message_fails_itself_and_everything_after_it_in_the_fifo_batch() {
    // GIVEN no session records
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());

    // WHEN the batch arrives: start, meter values, stop, a poison message, another start
    let response = sessions::handle(&services, batch()).await.unwrap();

    // THEN the poison message and the one after it are retried, the rest applied
    assert_eq!(failed(&response), vec![message_id(4), message_id(5)]);
    let first = session(&world, tx16(1)).unwrap();
    let completion = first.completion.as_ref().unwrap();
    assert_eq!(completion.energy_wh, Some(dec!(7750)));
    assert_eq!(completion.duration_seconds, 2400);
    assert_eq!(completion.started_at, at("2026-11-24T05:01:00Z"));
    assert_eq!(first.stop.as_ref().unwrap().reason, "EVDisconnected");
    assert_eq!(readings(&world, tx16(1)).await, 4);
    // Started, metered, stopped, and noted as announced.
    assert_eq!(first.version, 4);
    assert!(first.announced);
    assert!(session(&world, tx16(2)).is_none());
    // AND the completion was announced once, for billing
    let announced = completions(&world);
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].0, "CP-DEMO-1#tx16#1#completed");
    assert_eq!(announced[0].1.energy_wh, Some(dec!(7750)));
    assert_eq!(announced[0].1.id_token.as_ref().unwrap().as_str(), "04E91C5A");

    // WHEN the good messages are redelivered THEN nothing changes
    let before = world.charging.sessions.0.lock().unwrap().clone();
    let again = sessions::handle(&services, records(&[3, 1, 2, 3])).await.unwrap();
    assert!(failed(&again).is_empty());
    assert_eq!(*world.charging.sessions.0.lock().unwrap(), before);
    assert_eq!(completions(&world).len(), 1);

    // WHEN the poison message comes back alone THEN it fails again (the queue will dead-letter it)
    let poison = sessions::handle(&services, records(&[4])).await.unwrap();
    assert_eq!(failed(&poison), vec![message_id(4)]);

    // AND the message held up behind it applies on its own
    let last = sessions::handle(&services, records(&[5])).await.unwrap();
    assert!(failed(&last).is_empty());
    let second = session(&world, tx16(2)).unwrap();
    assert!(!second.is_completed());
    assert_eq!(second.start.as_ref().unwrap().meter_start_wh, Some(dec!(19750)));
}

/// A completion queue that is down.
struct DownBus;

#[async_trait]
impl SessionCompletedBus for DownBus {
    async fn session_completed(&self, _: &SessionCompleted, _: &str) -> Result<(), PublishError> {
        Err(PublishError("queue unavailable".into()))
    }
}

#[tokio::test]
async fn a_completion_that_could_not_be_announced_is_announced_on_redelivery() {
    // GIVEN a completion queue that is down
    let world = MemoryWorld::default();
    let mut services = world.services(BootPolicy::default());
    services.charging.session_completed = Arc::new(DownBus);

    // WHEN start, meter values and stop arrive THEN the stop fails after the completed record
    // is saved (saved first, announced after), and the record says it is not announced yet
    let response = sessions::handle(&services, records(&[1, 2, 3])).await.unwrap();
    assert_eq!(failed(&response), vec![message_id(3)]);
    let saved = session(&world, tx16(1)).unwrap();
    assert!(saved.is_completed() && !saved.announced);

    // WHEN the queue is back and the stop is redelivered THEN the completion is announced once
    services.charging.session_completed = world.charging.completions.clone();
    let response = sessions::handle(&services, records(&[3, 3])).await.unwrap();
    assert!(failed(&response).is_empty());
    assert!(session(&world, tx16(1)).unwrap().announced);
    assert_eq!(completions(&world).len(), 1);
}

#[tokio::test]
async fn another_kind_of_event_on_the_queue_fails() {
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let status = StatusReportedV1 {
        station_id: "CP-DEMO-1".into(),
        evse_id: None,
        connector_id: 1,
        status: "Charging".into(),
        error_code: None,
        info: None,
        vendor_error_code: None,
        timestamp: at("2026-11-24T05:01:00Z"),
        received_at: at("2026-11-24T05:01:00Z"),
    };
    let mut event = records(&[1, 2]);
    event.records[0].body = Some(DomainEvent::StatusReported(status).to_json());
    let response = sessions::handle(&services, event).await.unwrap();
    assert_eq!(failed(&response), vec![message_id(1), message_id(2)]);
    assert!(world.charging.sessions.0.lock().unwrap().is_empty());
}

/// The events the message function publishes for a 1.6 session on CP-DEMO-1.
fn published_events() -> Vec<SessionEvent> {
    let tag = IdToken::parse_16("04E91C5A").unwrap();
    let event = |id, timestamp, kind, id_token, connector, samples| SessionEvent {
        station: station(),
        transaction: tx16(id),
        seq_no: None,
        timestamp: at(timestamp),
        offline: false,
        evse: None,
        connector,
        id_token,
        kind,
        samples,
    };
    let sample = |timestamp, measurand, value, unit, context| {
        MeterSample::new(at(timestamp), Measurand::parse(Some(measurand)), value, Some(unit), 0)
            .unwrap()
            .with_context(context)
    };
    let periodic = ReadingContext::SamplePeriodic;
    let at_16 = "2026-11-24T05:16:00Z";
    vec![
        event(
            1,
            "2026-11-24T05:01:00Z",
            SessionEventKind::Started {
                meter_start_wh: Some(dec!(12000)),
                reason: None,
                remote_start_id: None,
            },
            Some(tag.clone()),
            Some(1),
            vec![],
        ),
        event(
            1,
            at_16,
            SessionEventKind::Updated,
            None,
            Some(1),
            vec![
                sample(at_16, "Energy.Active.Import.Register", dec!(14.75), "kWh", periodic),
                sample(at_16, "Power.Active.Import", dec!(11040), "W", periodic),
                sample(at_16, "Current.Import", dec!(16), "A", periodic).with_phase(Some(Phase::L1)),
            ],
        ),
        event(
            1,
            "2026-11-24T05:41:00Z",
            SessionEventKind::Stopped {
                meter_stop_wh: Some(dec!(19750)),
                reason: "EVDisconnected".into(),
            },
            Some(tag.clone()),
            None,
            vec![sample(
                "2026-11-24T05:41:00Z",
                "Energy.Active.Import.Register",
                dec!(19750),
                "Wh",
                ReadingContext::TransactionEnd,
            )],
        ),
        event(
            2,
            "2026-11-24T06:00:00Z",
            SessionEventKind::Started {
                meter_start_wh: Some(dec!(19750)),
                reason: None,
                remote_start_id: None,
            },
            Some(tag),
            Some(2),
            vec![],
        ),
    ]
}

#[test]
fn the_sample_batch_is_what_the_producer_writes() {
    // The good records are the producer's JSON of these events, deduplicated by their keys.
    let batch = batch();
    let good = [
        &batch.records[0],
        &batch.records[1],
        &batch.records[2],
        &batch.records[4],
    ];
    for (record, event) in good.into_iter().zip(published_events()) {
        assert_eq!(
            record.body.as_deref(),
            Some(DomainEvent::SessionEvent((&event).into()).to_json().as_str())
        );
        assert_eq!(
            record.attributes.get("MessageDeduplicationId"),
            Some(&event.dedup_key())
        );
        assert_eq!(
            record.attributes.get("MessageGroupId").map(String::as_str),
            Some("CP-DEMO-1")
        );
    }
    // The poison record is well-formed JSON of the right shape with a transaction id the CSMS
    // never hands out.
    let poison = batch.records[3].body.as_deref().unwrap();
    assert!(matches!(DomainEvent::parse(poison), Ok(DomainEvent::SessionEvent(_))));
    assert!(poison.contains(r#""transaction":"tx16#0""#));
}

// ---- Whose session: the token's owner and the station's organisation --------------------------

fn body(event: &SessionEvent) -> String {
    DomainEvent::SessionEvent(event.into()).to_json()
}

/// A batch of these events, as the queue delivers them.
fn batch_of(events: &[&SessionEvent]) -> SqsEvent {
    let mut batch = records(&[1]);
    let template = batch.records[0].clone();
    batch.records = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut record = template.clone();
            record.message_id = Some(format!("m{i}"));
            record.body = Some(body(e));
            record
        })
        .collect();
    batch
}

/// The world with CP-DEMO-1 operated by `org-1` and tag 04E91C5A owned by `driver-1`.
async fn registered() -> MemoryWorld {
    let world = MemoryWorld::default();
    let hash = PasswordHash::from_stored("unused".into());
    let mut demo = Station::new(station(), vec![ProtocolVersion::Ocpp201], hash, Utc::now());
    demo.organisation = Some("org-1".into());
    world.stations.create(&demo).await.unwrap();
    let record = TokenRecord {
        token: IdToken::parse_16("04E91C5A").unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: Some("driver-1".into()),
        organisation: Some("org-1".into()),
    };
    world.charging.tokens.put(&record).await.unwrap();
    world
}

#[tokio::test]
async fn a_session_learns_its_organisation_at_once_and_its_owner_when_the_token_comes() {
    // GIVEN a 2.0.1 session that starts on cable plug-in, before the driver is authorized
    let world = registered().await;
    let services = world.services(BootPolicy::default());
    let events = published_events();
    let mut started = events[0].clone();
    started.id_token = None;
    let mut authorized = events[1].clone();
    authorized.id_token = Some(IdToken::parse_16("04E91C5A").unwrap());

    // WHEN the start arrives THEN the session has its station's organisation, no owner yet
    assert!(failed(&sessions::handle(&services, batch_of(&[&started])).await.unwrap()).is_empty());
    let first = session(&world, tx16(1)).unwrap();
    assert_eq!(first.organisation.as_deref(), Some("org-1"));
    assert_eq!(first.owner, None);
    let org_1 = SessionFilter::default();
    let page = PageRequest::default();
    let listed = services
        .charging
        .sessions
        .list_by_organisation("org-1", &org_1, &page)
        .await;
    assert_eq!(listed.unwrap().items.len(), 1);

    // WHEN the token arrives with a later event THEN the owner is its token's owner
    assert!(failed(&sessions::handle(&services, batch_of(&[&authorized])).await.unwrap()).is_empty());
    let owned = session(&world, tx16(1)).unwrap();
    assert_eq!(owned.owner.as_deref(), Some("driver-1"));
    assert_eq!(owned.organisation.as_deref(), Some("org-1"));
    let mine = services
        .charging
        .sessions
        .list_by_owner("driver-1", &org_1, &page)
        .await;
    assert_eq!(mine.unwrap().items.len(), 1);

    // WHEN the station and the token change hands, and everything is redelivered out of order
    let mut moved = world.stations.get(&station()).await.unwrap().unwrap();
    moved.organisation = Some("org-2".into());
    world.stations.0.lock().unwrap().insert(station(), moved);
    let mut given = world
        .charging
        .tokens
        .get(Some("org-1"), &IdToken::parse_16("04E91C5A").unwrap())
        .await
        .unwrap()
        .unwrap();
    given.owner = Some("driver-2".into());
    world.charging.tokens.put(&given).await.unwrap();
    let again = sessions::handle(&services, batch_of(&[&authorized, &started, &authorized]))
        .await
        .unwrap();
    // THEN nothing changes: the record was resolved once, redelivery reads nothing new
    assert!(failed(&again).is_empty());
    assert_eq!(session(&world, tx16(1)).unwrap(), owned);
}

#[tokio::test]
async fn an_unregistered_token_or_station_leaves_the_session_unowned_but_projected() {
    // GIVEN no stations and no tokens registered
    let world = MemoryWorld::default();
    let services = world.services(BootPolicy::default());
    let events = published_events();
    // WHEN the whole session arrives, twice
    let batch = batch_of(&[&events[0], &events[1], &events[2], &events[0], &events[2]]);
    assert!(failed(&sessions::handle(&services, batch).await.unwrap()).is_empty());
    // THEN it is projected and completed once, in nobody's list
    let done = session(&world, tx16(1)).unwrap();
    assert!(done.is_completed());
    assert_eq!((done.owner, done.organisation), (None, None));
    assert_eq!(completions(&world).len(), 1);
}

#[tokio::test]
async fn an_earlier_token_arriving_late_replaces_the_owner() {
    // GIVEN a session whose Updated event (tagged by another driver's token) came first
    let world = registered().await;
    let other = TokenRecord {
        token: IdToken::parse_16("OTHER").unwrap(),
        status: AuthorizationStatus::Accepted,
        expiry: None,
        group: None,
        owner: Some("driver-9".into()),
        organisation: Some("org-1".into()),
    };
    world.charging.tokens.put(&other).await.unwrap();
    let services = world.services(BootPolicy::default());
    let events = published_events();
    let mut update = events[1].clone();
    update.id_token = Some(other.token.clone());
    sessions::handle(&services, batch_of(&[&update])).await.unwrap();
    assert_eq!(session(&world, tx16(1)).unwrap().owner.as_deref(), Some("driver-9"));
    // WHEN the start, with the token that authorized it, arrives late
    sessions::handle(&services, batch_of(&[&events[0]])).await.unwrap();
    // THEN the session is the starting token's, as the module rules say
    let s = session(&world, tx16(1)).unwrap();
    assert_eq!(s.id_token.unwrap().token.as_str(), "04E91C5A");
    assert_eq!(s.owner.as_deref(), Some("driver-1"));
}

/// A session store whose `fail_save`-th save fails (1-based), once.
struct FailingSave {
    inner: Arc<csms_domain::memory::MemorySessions>,
    saves: std::sync::Mutex<usize>,
    fail_save: usize,
}

#[async_trait]
impl csms_domain::ports::SessionRepository for FailingSave {
    async fn get(&self, station: &StationId, transaction: &TransactionKey) -> Result<Option<Session>, StoreError> {
        self.inner.get(station, transaction).await
    }
    async fn save(&self, session: &Session, expected: Option<u64>) -> Result<bool, StoreError> {
        let this = {
            let mut saves = self.saves.lock().unwrap();
            *saves += 1;
            *saves
        };
        if this == self.fail_save {
            return Err(StoreError::Backend("ProvisionedThroughputExceededException".into()));
        }
        self.inner.save(session, expected).await
    }
    async fn list(&self, station: &StationId) -> Result<Vec<Session>, StoreError> {
        self.inner.list(station).await
    }
    async fn list_by_owner(
        &self,
        owner: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        self.inner.list_by_owner(owner, filter, page).await
    }
    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        self.inner.list_by_organisation(organisation, filter, page).await
    }
}

/// Every announcement billing receives, with no deduplication: a redelivery after FIFO's
/// 5-minute window.
#[derive(Default)]
struct Billing(std::sync::Mutex<Vec<SessionCompleted>>);

#[async_trait]
impl SessionCompletedBus for Billing {
    async fn session_completed(&self, completed: &SessionCompleted, _: &str) -> Result<(), PublishError> {
        self.0.lock().unwrap().push(completed.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_save_of_the_completion_does_not_reach_billing_twice() {
    // GIVEN a session store that fails the third save (the one that completes the session)
    let world = MemoryWorld::default();
    let mut services = world.services(BootPolicy::default());
    services.charging.sessions = Arc::new(FailingSave {
        inner: world.charging.sessions.clone(),
        saves: Default::default(),
        fail_save: 3,
    });
    let billing = Arc::new(Billing::default());
    services.charging.session_completed = billing.clone();

    // WHEN start, meter values and stop arrive, the stop fails, and it is redelivered (later
    // than the queue's deduplication window)
    let first = sessions::handle(&services, records(&[1, 2, 3])).await.unwrap();
    assert_eq!(failed(&first), vec![message_id(3)]);
    let again = sessions::handle(&services, records(&[3])).await.unwrap();
    assert!(failed(&again).is_empty());

    // THEN billing heard of the session once
    assert_eq!(billing.0.lock().unwrap().len(), 1);
    assert!(session(&world, tx16(1)).unwrap().is_completed());
}
