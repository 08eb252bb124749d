//! Local authorization lists on DynamoDB Local: the list state in CommandsTable (created from the
//! CDK template), driven by the domain's use cases, with the token registry in TokensTable.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use csms_aws::dynamo::Table;
use csms_aws::local_list::{LocalLists, send_local_list_payload};
use csms_domain::local_list::{
    self, Entries, ListChange, LocalListEntry, LocalListState, LocalListStore, MAX_ENTRIES, PendingUpdate,
    UpdateStatus, UpdateType,
};
use csms_domain::*;
use integration_tests::{Stack, fresh_stack};

/// Seconds after one instant fixed for the whole test run: a clock read per call crossed a second
/// boundary now and then and made `t(1)` differ between writing and checking.
fn t(secs: i64) -> DateTime<Utc> {
    static BASE: std::sync::LazyLock<DateTime<Utc>> = std::sync::LazyLock::new(|| Utc::now().trunc_subsecs(0));
    *BASE + Duration::seconds(secs)
}

fn lists(stack: &Stack) -> LocalLists {
    LocalLists(Table::new(
        stack.dynamodb.clone(),
        stack.config.commands_table.clone(),
        "COMMANDS_TABLE",
    ))
}

async fn register(stack: &Stack, token: IdToken, status: AuthorizationStatus) {
    let record = TokenRecord {
        token,
        status,
        expiry: Some(t(86_400)),
        group: Some(IdToken::parse_16("FLEET-1").unwrap()),
        owner: None,
        organisation: None,
    };
    stack.services.charging.tokens.put(&record).await.unwrap();
}

#[tokio::test]
async fn a_local_list_is_planned_answered_and_resynced_through_dynamodb() {
    let stack = fresh_stack().await;
    let store = lists(&stack);
    let tokens = &*stack.services.charging.tokens;
    let station = StationId::parse("CP-IT-LL").unwrap();
    let card = IdToken::parse_201("04E91C5A", IdTokenType::Iso14443).unwrap();
    let tag = IdToken::parse_16("CAFE0001").unwrap();
    register(&stack, card.clone(), AuthorizationStatus::Accepted).await;
    register(&stack, tag.clone(), AuthorizationStatus::Blocked).await;
    assert!(store.get(&station).await.unwrap().is_none());

    // GIVEN a first plan: Full, version 1, stored as pending
    let change = ListChange::Add(vec![IdToken::parse_16("04e91c5a").unwrap(), tag.clone()]);
    let first = local_list::plan(&store, tokens, None, &station, change, "cmd-1", t(0))
        .await
        .unwrap();
    assert_eq!((first.update_type, first.version), (UpdateType::Full, 1));
    let stored = store.get(&station).await.unwrap().unwrap();
    assert_eq!(
        stored.pending.as_ref(),
        Some(&first),
        "the result is rebuilt from the stored entries"
    );
    assert_eq!(stored.revision, 1);
    assert_eq!(
        stored.pending.as_ref().unwrap().result["04E91C5A"].token.kind(),
        Some(IdTokenType::Iso14443),
        "the registered type"
    );
    let payload = send_local_list_payload(ProtocolVersion::Ocpp201, &first);
    assert_eq!(payload["versionNumber"], 1);
    assert_eq!(payload["localAuthorizationList"][0]["idToken"]["type"], "ISO14443");
    assert_eq!(payload["localAuthorizationList"][1]["idTokenInfo"]["status"], "Blocked");

    // WHEN the pile accepts (twice: a redelivered answer)
    let status = UpdateStatus::Accepted;
    assert!(
        local_list::update_answered(&store, &station, "cmd-1", status, t(1))
            .await
            .unwrap()
    );
    assert!(
        !local_list::update_answered(&store, &station, "cmd-1", status, t(2))
            .await
            .unwrap()
    );
    // THEN the list is known at version 1
    let state = store.get(&station).await.unwrap().unwrap();
    assert!(state.in_sync());
    assert_eq!(state.version, 1);
    assert_eq!(state.entries, first.result);
    assert_eq!(state.updated_at, Some(t(1)));
    assert_eq!(state.revision, 2);

    // WHEN the card is removed THEN a Differential removal goes out, 1.6-shaped for a 1.6 pile
    let removal = local_list::plan(
        &store,
        tokens,
        None,
        &station,
        ListChange::Remove(vec![card.clone()]),
        "cmd-2",
        t(3),
    )
    .await
    .unwrap();
    assert_eq!((removal.update_type, removal.version), (UpdateType::Differential, 2));
    let payload = send_local_list_payload(ProtocolVersion::Ocpp16, &removal);
    assert_eq!(payload["listVersion"], 2);
    assert_eq!(payload["updateType"], "Differential");
    assert_eq!(payload["localAuthorizationList"][0]["idTag"], "04E91C5A");
    assert!(
        payload["localAuthorizationList"][0].get("idTagInfo").is_none(),
        "a removal"
    );
    assert_eq!(store.get(&station).await.unwrap().unwrap().pending, Some(removal));

    // WHEN the pile answers VersionMismatch THEN the next update is a Full one
    local_list::update_answered(&store, &station, "cmd-2", UpdateStatus::VersionMismatch, t(4))
        .await
        .unwrap();
    let state = store.get(&station).await.unwrap().unwrap();
    assert!(state.needs_full && state.pending.is_none());
    let resync = local_list::plan(&store, tokens, None, &station, ListChange::Resync, "cmd-3", t(5))
        .await
        .unwrap();
    assert_eq!((resync.update_type, resync.version), (UpdateType::Full, 3));
    assert_eq!(resync.entries.len(), 2);
    local_list::update_failed(&store, &station, "cmd-3", true, t(6))
        .await
        .unwrap();
    local_list::version_reported(&store, &station, -1, t(7)).await.unwrap();
    let state = store.get(&station).await.unwrap().unwrap();
    assert_eq!(state.supported, Some(false));
    assert_eq!(state.planned_version, 3);
    assert!(state.needs_full && state.pending.is_none());
}

#[tokio::test]
async fn writes_are_conditional_on_the_revision() {
    let stack = fresh_stack().await;
    let store = lists(&stack);
    let station = StationId::parse("CP-IT-LL-REV").unwrap();
    let state = LocalListState::default();
    assert!(!store.put_if_revision(&station, Some(0), &state).await.unwrap());
    assert!(store.put_if_revision(&station, None, &state).await.unwrap());
    assert!(!store.put_if_revision(&station, None, &state).await.unwrap(), "exists");
    assert!(
        !store.put_if_revision(&station, Some(7), &state).await.unwrap(),
        "stale"
    );
    assert!(store.put_if_revision(&station, Some(1), &state).await.unwrap());
    let stored = store.get(&station).await.unwrap().unwrap();
    assert_eq!(stored.revision, 2);
    assert_eq!(stored, LocalListState { revision: 2, ..state });

    // The list item shares the station's partition with its commands, under its own sort key.
    let out = stack
        .dynamodb
        .get_item()
        .table_name(stack.config.commands_table.clone().unwrap())
        .key(
            "stationId",
            aws_sdk_dynamodb::types::AttributeValue::S(station.to_string()),
        )
        .key("entry", aws_sdk_dynamodb::types::AttributeValue::S("locallist".into()))
        .send()
        .await
        .unwrap();
    assert!(out.item.is_some());
}

/// The largest state there can be (a full list of the longest tokens with the longest groups, and
/// a pending Full update of as many others) fits in one item.
#[tokio::test]
async fn the_largest_list_fits_in_one_item() {
    let stack = fresh_stack().await;
    let store = lists(&stack);
    let station = StationId::parse("CP-IT-LL-BIG").unwrap();
    let entry = |i: usize, prefix: char| {
        let token = IdToken::parse_201(&format!("{prefix}{i:035}"), IdTokenType::NoAuthorization).unwrap();
        let group = IdToken::parse_201(&format!("G{i:035}"), IdTokenType::NoAuthorization).unwrap();
        LocalListEntry {
            token,
            authorization: Some(Authorization {
                status: AuthorizationStatus::Accepted,
                expiry: Some(t(86_400)),
                group: Some(group),
            }),
        }
    };
    let entries: Entries = (0..MAX_ENTRIES).map(|i| entry(i, 'A')).map(|e| (e.key(), e)).collect();
    let others = (0..MAX_ENTRIES).map(|i| entry(i, 'B')).collect();
    let pending = PendingUpdate::new(
        "a-command-id-of-36-characters-000000",
        i32::MAX,
        UpdateType::Full,
        others,
        &entries,
    );
    let state = LocalListState {
        version: i32::MAX - 1,
        entries,
        pending: Some(pending),
        needs_full: true,
        supported: Some(true),
        planned_version: i32::MAX,
        updated_at: Some(t(0)),
        revision: 0,
    };
    assert!(store.put_if_revision(&station, None, &state).await.unwrap());
    let stored = store.get(&station).await.unwrap().unwrap();
    assert_eq!(stored, LocalListState { revision: 1, ..state });
}
