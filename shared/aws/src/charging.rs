//! DynamoDB and SQS adapters for charging sessions: id tokens, 1.6 transaction ids and start
//! claims, transactions, 2.0.1 seqNo tracking, anomalies, session records and their events.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};
use csms_domain::anomaly::{Anomaly, AnomalyKind};
use csms_domain::ports::*;
use csms_domain::transaction::{StartKey, Stop, Transaction};
use csms_domain::transaction_event::SeqNoLog;
use csms_domain::*;
use serde::{Deserialize, Serialize};

use crate::attributes::*;
use crate::dynamo::{Table, backend, condition_failed};
use crate::events::DomainEvent;
use crate::sqs::send_fifo;
use crate::wire::{IdTokenV1, SeqNoLogV1, SessionSummaryV1, SessionV1, WireError};

fn malformed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(Box::new(WireError(e.to_string())))
}

fn json<T: Serialize>(value: &T) -> AttributeValue {
    s(serde_json::to_string(value).expect("records always serialize"))
}

fn from_json<T: for<'de> Deserialize<'de>>(item: &Item, name: &'static str) -> Result<T, StoreError> {
    serde_json::from_str(&get_s(item, name).map_err(backend)?).map_err(malformed)
}

// ---------------------------------------------------------------------------------------------
// Id tokens (TokensTable, key `pk`, `sk`): one registry per issuing organisation, and claims.
//
// - a token: `pk = org#<organisation>` (`unassigned` for tokens registered without one),
//   `sk = <IdToken::key()>`; also `idToken` (the key again, sort key of the `ByOwner` index),
//   `organisation`, `owner`, and `claim`, the digest of the one code that may bind it;
// - a claim code: `pk = claim#<digest>`, `sk = claim`, naming its token; TTL `expiresAt`.

pub struct Tokens(pub Table);

/// The partition of an organisation's registry (None: tokens registered without organisation).
/// Organisation ids cannot contain `#`, so no registry shares a partition with another or with
/// a claim.
fn registry_partition(organisation: Option<&str>) -> String {
    match organisation {
        Some(organisation) => format!("org#{organisation}"),
        None => "unassigned".to_owned(),
    }
}

fn token_key(organisation: Option<&str>, token: &IdToken) -> Item {
    Item::from([
        ("pk".into(), s(registry_partition(organisation))),
        ("sk".into(), s(token.key())),
    ])
}

fn claim_key(digest: &str) -> Item {
    Item::from([("pk".into(), s(format!("claim#{digest}"))), ("sk".into(), s("claim"))])
}

fn token_from_item(item: &Item) -> Result<TokenRecord, StoreError> {
    let token: IdTokenV1 = from_json(item, "token")?;
    let group: Option<IdTokenV1> = opt_s(item, "group")
        .map(|g| serde_json::from_str(&g))
        .transpose()
        .map_err(malformed)?;
    Ok(TokenRecord {
        token: (&token).try_into().map_err(malformed)?,
        status: AuthorizationStatus::parse(&get_s(item, "status").map_err(backend)?)
            .ok_or_else(|| malformed("status"))?,
        expiry: opt_time(item, "expiry"),
        group: group.as_ref().map(IdToken::try_from).transpose().map_err(malformed)?,
        owner: opt_s(item, "owner"),
        organisation: opt_s(item, "organisation"),
    })
}

/// A transaction cancelled because one of its conditions failed (not a backend fault).
fn transaction_cancelled<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_transaction_canceled_exception())
}

impl Tokens {
    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .set_key(Some(key))
            .send()
            .await;
        Ok(out.map_err(backend)?.item)
    }
}

#[async_trait]
impl TokenRepository for Tokens {
    async fn get(&self, organisation: Option<&str>, token: &IdToken) -> Result<Option<TokenRecord>, StoreError> {
        self.get_item(token_key(organisation, token))
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
    }

    async fn put(&self, r: &TokenRecord) -> Result<(), StoreError> {
        self.0.put(token_item(r)).await
    }

    async fn register(&self, r: &TokenRecord) -> Result<Option<TokenRecord>, StoreError> {
        // An update, not a put: the owner and the pending claim are not the operator's to set.
        let mut set = vec!["#token = :token", "#status = :status", "#idToken = :key"];
        let mut remove = Vec::new();
        let mut values = Item::from([
            (":token".into(), json(&IdTokenV1::from(&r.token))),
            (":status".into(), s(r.status.as_str())),
            (":key".into(), s(r.token.key())),
        ]);
        let mut optional = |name: &'static str, placeholder: &'static str, value: Option<AttributeValue>| match value {
            Some(v) => {
                set.push(placeholder);
                values.insert(format!(":{name}"), v);
            }
            None => remove.push(name),
        };
        optional("expiry", "#expiry = :expiry", r.expiry.map(time));
        optional(
            "group",
            "#group = :group",
            r.group.as_ref().map(|g| json(&IdTokenV1::from(g))),
        );
        optional(
            "organisation",
            "#organisation = :organisation",
            r.organisation.clone().map(s),
        );
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            let removed: Vec<String> = remove.iter().map(|name| format!("#{name}")).collect();
            expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let out = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .set_key(Some(token_key(r.organisation.as_deref(), &r.token)))
            .update_expression(&expression)
            .set_expression_attribute_names(Some(crate::dynamo::names(&expression)))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        match out.attributes {
            Some(old) if !old.is_empty() => Ok(Some(token_from_item(&old)?)),
            _ => Ok(None),
        }
    }

    async fn release(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError> {
        let result = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .set_key(Some(token_key(organisation, token)))
            .update_expression("REMOVE #owner")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#owner", "owner")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, organisation: Option<&str>, token: &IdToken) -> Result<(), StoreError> {
        let result = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .set_key(Some(token_key(organisation, token)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete_owned(&self, organisation: Option<&str>, token: &IdToken, owner: &str) -> Result<bool, StoreError> {
        // A pending claim goes with the token: its code binds only a token that names it.
        let result = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .set_key(Some(token_key(organisation, token)))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn list_by_organisation(
        &self,
        organisation: &str,
        page: &PageRequest,
    ) -> Result<Page<TokenRecord>, StoreError> {
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &["pk", "sk"],
            "pk",
            &registry_partition(Some(organisation)),
            page,
            |query| query,
            token_from_item,
        )
        .await
    }

    async fn list(&self) -> Result<Vec<TokenRecord>, StoreError> {
        // Claims share the table; only tokens carry a status.
        let scan = self
            .0
            .client
            .scan()
            .table_name(self.0.name()?)
            .filter_expression("attribute_exists(#status)")
            .expression_attribute_names("#status", "status");
        let items = scan
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend)?;
        items.iter().map(token_from_item).collect()
    }

    async fn list_by_owner(&self, owner: &str, page: &PageRequest) -> Result<Page<TokenRecord>, StoreError> {
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &["pk", "sk", "owner", "idToken"],
            "owner",
            owner,
            page,
            |query| query.index_name(TOKENS_BY_OWNER),
            token_from_item,
        )
        .await
    }

    async fn offer_claim(&self, claim: &TokenClaim) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
        let mut claim_item = claim_key(&claim.digest);
        claim_item.insert("token".into(), json(&IdTokenV1::from(&claim.token)));
        claim_item.insert("expiresAt".into(), n(claim.expires_at.timestamp()));
        put_opt(&mut claim_item, "organisation", claim.organisation.clone().map(s));
        let table = self.0.name()?;
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(claim_item))
            .build()
            .map_err(backend)?;
        // The token names its current claim: redeeming an older code fails its condition.
        let point = Update::builder()
            .table_name(table)
            .set_key(Some(token_key(claim.organisation.as_deref(), &claim.token)))
            .update_expression("SET #claim = :digest")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":digest", s(&claim.digest))
            .build()
            .map_err(backend)?;
        let result = self
            .0
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(point).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if transaction_cancelled(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn redeem_claim(
        &self,
        digest: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
        let Some(claim) = self.get_item(claim_key(digest)).await? else {
            return Ok(None);
        };
        // TTL deletes expired items only eventually: expiry is checked here, and again below.
        let expires_at = claim
            .get("expiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok());
        if expires_at.is_none_or(|at| at <= now.timestamp()) {
            return Ok(None);
        }
        let token: IdTokenV1 = from_json(&claim, "token")?;
        let token = IdToken::try_from(&token).map_err(malformed)?;
        let organisation = opt_s(&claim, "organisation");
        let table = self.0.name()?;
        let spend = Delete::builder()
            .table_name(table)
            .set_key(Some(claim_key(digest)))
            .condition_expression("#expiresAt > :now")
            .expression_attribute_names("#expiresAt", "expiresAt")
            .expression_attribute_values(":now", n(now.timestamp()))
            .build()
            .map_err(backend)?;
        let bind = Update::builder()
            .table_name(table)
            .set_key(Some(token_key(organisation.as_deref(), &token)))
            .update_expression("SET #owner = :owner REMOVE #claim")
            .condition_expression("#claim = :digest")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_names("#claim", "claim")
            .expression_attribute_values(":owner", s(owner))
            .expression_attribute_values(":digest", s(digest))
            .build()
            .map_err(backend)?;
        let result = self
            .0
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(spend).build())
            .transact_items(TransactWriteItem::builder().update(bind).build())
            .send()
            .await;
        match result {
            Ok(_) => self.get(organisation.as_deref(), &token).await,
            Err(e) if transaction_cancelled(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }
}

fn token_item(r: &TokenRecord) -> Item {
    let mut item = token_key(r.organisation.as_deref(), &r.token);
    item.extend([
        ("idToken".into(), s(r.token.key())),
        ("token".into(), json(&IdTokenV1::from(&r.token))),
        ("status".into(), s(r.status.as_str())),
    ]);
    put_opt(&mut item, "expiry", r.expiry.map(time));
    put_opt(&mut item, "group", r.group.as_ref().map(|g| json(&IdTokenV1::from(g))));
    put_opt(&mut item, "owner", r.owner.clone().map(s));
    put_opt(&mut item, "organisation", r.organisation.clone().map(s));
    item
}

/// The TokensTable index by owner: partition `owner`, sort `idToken`, all attributes.
pub const TOKENS_BY_OWNER: &str = "ByOwner";

// ---------------------------------------------------------------------------------------------
// TransactionsTable: one key `pk`, prefixed by what the item is.

pub struct Transactions(pub Table);

impl Transactions {
    /// Start claims outlive any offline queue a station replays from.
    const CLAIM_RETENTION: Duration = Duration::days(90);

    fn transaction_key(station: &StationId, id: TransactionId) -> AttributeValue {
        s(format!("tx16#{station}#{}", id.get()))
    }

    async fn get_item(&self, pk: AttributeValue) -> Result<Option<Item>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("pk", pk)
            .consistent_read(true)
            .send()
            .await;
        Ok(out.map_err(backend)?.item)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionV1 {
    connector: u32,
    id_tag: IdTokenV1,
    meter_start_wh: i64,
    started_at: DateTime<Utc>,
    reservation_id: Option<i32>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopV1 {
    meter_stop_wh: i64,
    timestamp: DateTime<Utc>,
    reason: String,
    id_tag: Option<IdTokenV1>,
}

fn transaction_from_item(station: &StationId, id: TransactionId, item: &Item) -> Result<Transaction, StoreError> {
    let t: TransactionV1 = from_json(item, "record")?;
    let stop = match opt_s(item, "stop") {
        Some(raw) => {
            let stop: StopV1 = serde_json::from_str(&raw).map_err(malformed)?;
            Some(Stop {
                meter_stop_wh: stop.meter_stop_wh,
                timestamp: stop.timestamp,
                reason: stop.reason,
                id_tag: stop
                    .id_tag
                    .as_ref()
                    .map(IdToken::try_from)
                    .transpose()
                    .map_err(malformed)?,
            })
        }
        None => None,
    };
    Ok(Transaction {
        station: station.clone(),
        id,
        connector: t.connector,
        id_tag: (&t.id_tag).try_into().map_err(malformed)?,
        meter_start_wh: t.meter_start_wh,
        started_at: t.started_at,
        reservation_id: t.reservation_id,
        stop,
    })
}

#[async_trait]
impl TransactionIdAllocator for Transactions {
    async fn next(&self) -> Result<u64, StoreError> {
        let out = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("pk", s("counter#transaction-id"))
            .update_expression("ADD #value :one")
            .expression_attribute_names("#value", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        let value = out
            .attributes
            .as_ref()
            .and_then(|a| a.get("value"))
            .and_then(|v| v.as_n().ok());
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| malformed("counter value"))
    }
}

#[async_trait]
impl StartClaims for Transactions {
    async fn claim(&self, key: &StartKey, id: TransactionId) -> Result<TransactionId, StoreError> {
        let pk = s(format!("start#{}#{}", key.station, key.key));
        let item = Item::from([
            ("pk".into(), pk.clone()),
            ("transactionId".into(), n(id.get())),
            ("expiresAt".into(), n((Utc::now() + Self::CLAIM_RETENTION).timestamp())),
        ]);
        let put = self.0.client.put_item().table_name(self.0.name()?).set_item(Some(item));
        // A failed condition hands back the claim that won, without a second read.
        let put = put.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match put.condition_expression("attribute_not_exists(pk)").send().await {
            Ok(_) => Ok(id),
            Err(e) if condition_failed(&e) => {
                let returned = match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                    _ => None,
                };
                let item = match returned {
                    Some(item) => item,
                    None => self
                        .get_item(pk)
                        .await?
                        .ok_or_else(|| malformed("start claim vanished"))?,
                };
                let first = item
                    .get("transactionId")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok());
                first
                    .and_then(TransactionId::new)
                    .ok_or_else(|| malformed("start claim id"))
            }
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl TransactionRepository for Transactions {
    async fn create(&self, t: &Transaction) -> Result<bool, StoreError> {
        let record = TransactionV1 {
            connector: t.connector,
            id_tag: (&t.id_tag).into(),
            meter_start_wh: t.meter_start_wh,
            started_at: t.started_at,
            reservation_id: t.reservation_id,
        };
        let item = Item::from([
            ("pk".into(), Self::transaction_key(&t.station, t.id)),
            ("record".into(), json(&record)),
        ]);
        let put = self.0.client.put_item().table_name(self.0.name()?).set_item(Some(item));
        match put.condition_expression("attribute_not_exists(pk)").send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn get(&self, station: &StationId, id: TransactionId) -> Result<Option<Transaction>, StoreError> {
        let item = self.get_item(Self::transaction_key(station, id)).await?;
        item.as_ref().map(|i| transaction_from_item(station, id, i)).transpose()
    }

    async fn stop(
        &self,
        station: &StationId,
        id: TransactionId,
        stop: &Stop,
    ) -> Result<Option<Transaction>, StoreError> {
        let record = StopV1 {
            meter_stop_wh: stop.meter_stop_wh,
            timestamp: stop.timestamp,
            reason: stop.reason.clone(),
            id_tag: stop.id_tag.as_ref().map(IdTokenV1::from),
        };
        let result = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("pk", Self::transaction_key(station, id))
            .update_expression("SET #stop = :stop")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#stop)")
            .expression_attribute_names("#stop", "stop")
            .expression_attribute_values(":stop", json(&record))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .as_ref()
                .map(|i| transaction_from_item(station, id, i))
                .transpose(),
            // Stopped already: the failed condition hands back the record as it is. Unknown: no
            // item comes back, and a read confirms it.
            Err(e) if condition_failed(&e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) if failed.item().is_some() => {
                    failed.item().map(|i| transaction_from_item(station, id, i)).transpose()
                }
                _ => TransactionRepository::get(self, station, id).await,
            },
            Err(e) => Err(backend(e)),
        }
    }
}

/// The seqNo tracker: one item per 2.0.1 transaction (`seq#<station>#<transactionId>`), its
/// bounded log as JSON (`log`), a `version` for optimistic concurrency, and a TTL refreshed by
/// every event. Items written before the log was bounded (one attribute per seqNo) have no
/// `version`: they are read as no log and replaced.
impl Transactions {
    /// A transaction's log outlives any offline queue a station replays from.
    const SEQ_RETENTION: Duration = Duration::days(90);

    fn seq_key(station: &StationId, transaction: &StationTransactionId) -> AttributeValue {
        s(format!("seq#{station}#{transaction}"))
    }
}

#[async_trait]
impl SeqNoTracker for Transactions {
    async fn get(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
    ) -> Result<Option<SeqNoLog>, StoreError> {
        let Some(item) = self.get_item(Self::seq_key(station, transaction)).await? else {
            return Ok(None);
        };
        let Some(version) = item.get("version").and_then(|v| v.as_n().ok()) else {
            return Ok(None);
        };
        let version = version.parse().map_err(|_| malformed("seqNo log version"))?;
        let log: SeqNoLogV1 = from_json(&item, "log")?;
        log.into_log(version).map(Some).map_err(malformed)
    }

    async fn save(
        &self,
        station: &StationId,
        transaction: &StationTransactionId,
        log: &SeqNoLog,
        expected_version: Option<u64>,
    ) -> Result<bool, StoreError> {
        let item = Item::from([
            ("pk".into(), Self::seq_key(station, transaction)),
            ("log".into(), json(&SeqNoLogV1::from(log))),
            ("version".into(), n(log.version)),
            ("expiresAt".into(), n((Utc::now() + Self::SEQ_RETENTION).timestamp())),
        ]);
        let put = self
            .0
            .client
            .put_item()
            .table_name(self.0.name()?)
            .set_item(Some(item))
            .expression_attribute_names("#version", "version");
        let put = match expected_version {
            None => put.condition_expression("attribute_not_exists(#version)"),
            Some(v) => put
                .condition_expression("#version = :expected")
                .expression_attribute_values(":expected", n(v)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Anomalies (AnomaliesTable: stationId, entry = Anomaly::key())

pub struct Anomalies(pub Table);

/// Externally tagged, for the reason given on [`crate::events::DomainEvent`].
#[derive(Serialize, Deserialize)]
enum AnomalyKindV1 {
    StopForUnknownTransaction {
        transaction_id: i32,
        meter_stop_wh: i64,
        id_tag: Option<String>,
    },
    StopForStoppedTransaction {
        transaction_id: i32,
    },
    MeterValuesForUnknownTransaction {
        transaction_id: i32,
    },
    SeqNoGap {
        transaction_id: String,
        seq_no: u32,
        /// Absent in anomalies recorded before gaps were counted: then every number was listed.
        #[serde(default)]
        missing_count: Option<u64>,
        missing: Vec<u32>,
    },
    SeqNoReused {
        transaction_id: String,
        seq_no: u32,
    },
    /// The component's key (`connector#3`, `evse#2#connector#1`).
    UndeclaredComponent {
        component: String,
    },
}

impl Anomalies {
    const RETENTION: Duration = Duration::days(180);
}

#[async_trait]
impl AnomalyLog for Anomalies {
    async fn record(&self, a: &Anomaly) -> Result<(), StoreError> {
        let kind = match &a.kind {
            AnomalyKind::StopForUnknownTransaction {
                transaction_id,
                meter_stop_wh,
                id_tag,
            } => AnomalyKindV1::StopForUnknownTransaction {
                transaction_id: *transaction_id,
                meter_stop_wh: *meter_stop_wh,
                id_tag: id_tag.clone(),
            },
            AnomalyKind::StopForStoppedTransaction { transaction_id } => AnomalyKindV1::StopForStoppedTransaction {
                transaction_id: transaction_id.get(),
            },
            AnomalyKind::MeterValuesForUnknownTransaction { transaction_id } => {
                AnomalyKindV1::MeterValuesForUnknownTransaction {
                    transaction_id: *transaction_id,
                }
            }
            AnomalyKind::SeqNoGap {
                transaction_id,
                seq_no,
                missing_count,
                missing,
            } => AnomalyKindV1::SeqNoGap {
                transaction_id: transaction_id.to_string(),
                seq_no: *seq_no,
                missing_count: Some(*missing_count),
                missing: missing.clone(),
            },
            AnomalyKind::SeqNoReused { transaction_id, seq_no } => AnomalyKindV1::SeqNoReused {
                transaction_id: transaction_id.to_string(),
                seq_no: *seq_no,
            },
            AnomalyKind::UndeclaredComponent { component } => AnomalyKindV1::UndeclaredComponent {
                component: component.key(),
            },
        };
        let item = Item::from([
            ("stationId".into(), s(a.station.as_str())),
            ("entry".into(), s(a.key())),
            ("anomaly".into(), json(&kind)),
            ("timestamp".into(), time(a.timestamp)),
            ("detectedAt".into(), time(a.detected_at)),
            ("expiresAt".into(), n((a.detected_at + Self::RETENTION).timestamp())),
        ]);
        // Keyed without the detection time: a redelivery overwrites its own entry.
        self.0.put(item).await
    }

    async fn list(&self, station: &StationId) -> Result<Vec<Anomaly>, StoreError> {
        let items = self.0.query_station(station).await?;
        let tx = |raw: &str| StationTransactionId::parse(raw).map_err(malformed);
        items
            .iter()
            .map(|item| {
                let kind = match from_json::<AnomalyKindV1>(item, "anomaly")? {
                    AnomalyKindV1::StopForUnknownTransaction {
                        transaction_id,
                        meter_stop_wh,
                        id_tag,
                    } => AnomalyKind::StopForUnknownTransaction {
                        transaction_id,
                        meter_stop_wh,
                        id_tag,
                    },
                    AnomalyKindV1::StopForStoppedTransaction { transaction_id } => {
                        AnomalyKind::StopForStoppedTransaction {
                            transaction_id: TransactionId::new(transaction_id.into()).ok_or_else(|| malformed("id"))?,
                        }
                    }
                    AnomalyKindV1::MeterValuesForUnknownTransaction { transaction_id } => {
                        AnomalyKind::MeterValuesForUnknownTransaction { transaction_id }
                    }
                    AnomalyKindV1::SeqNoGap {
                        transaction_id,
                        seq_no,
                        missing_count,
                        missing,
                    } => AnomalyKind::SeqNoGap {
                        transaction_id: tx(&transaction_id)?,
                        seq_no,
                        missing_count: missing_count.unwrap_or(missing.len() as u64),
                        missing,
                    },
                    AnomalyKindV1::SeqNoReused { transaction_id, seq_no } => AnomalyKind::SeqNoReused {
                        transaction_id: tx(&transaction_id)?,
                        seq_no,
                    },
                    AnomalyKindV1::UndeclaredComponent { component } => AnomalyKind::UndeclaredComponent {
                        component: Component::parse_key(&component).ok_or_else(|| malformed("component"))?,
                    },
                };
                Ok(Anomaly {
                    station: station.clone(),
                    kind,
                    timestamp: get_time(item, "timestamp").map_err(backend)?,
                    detected_at: get_time(item, "detectedAt").map_err(backend)?,
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Session records (SessionsTable: stationId, transaction)

pub struct Sessions(pub Table);

fn session_from_item(item: &Item) -> Result<Session, StoreError> {
    let record: SessionV1 = from_json(item, "record")?;
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok());
    let mut session = record
        .into_session(
            &get_s(item, "stationId").map_err(backend)?,
            &get_s(item, "transaction").map_err(backend)?,
            version.ok_or_else(|| malformed("version"))?,
        )
        .map_err(malformed)?;
    session.owner = opt_s(item, "owner");
    session.organisation = opt_s(item, "organisation");
    Ok(session)
}

fn summary_from_item(item: &Item) -> Result<SessionSummary, StoreError> {
    let summary: SessionSummaryV1 = from_json(item, "summary")?;
    summary
        .into_summary(
            &get_s(item, "stationId").map_err(backend)?,
            &get_s(item, "transaction").map_err(backend)?,
            opt_bool(item, "completed").unwrap_or(false),
        )
        .map_err(malformed)
}

/// The SessionsTable indexes: partition `owner` (a driver's sessions) or `organisation` (the
/// station's), sort `startedAt`; they project `summary` and `completed`.
pub const SESSIONS_BY_OWNER: &str = "ByOwner";
pub const SESSIONS_BY_ORGANISATION: &str = "ByOrganisation";

impl Sessions {
    /// Newest start first; the start time range is the key condition, station and state filter.
    async fn list_by(
        &self,
        index: &str,
        partition_attribute: &str,
        partition_value: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        let (from, to) = (filter.from.map(time_str), filter.to.map(time_str));
        let within = |key: &Item| {
            let started = key.get("startedAt").and_then(|v| v.as_s().ok());
            started
                .is_some_and(|at| from.as_ref().is_none_or(|from| at >= from) && to.as_ref().is_none_or(|to| at <= to))
        };
        let build = |query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder| {
            let mut query = query.index_name(index).scan_index_forward(false);
            let range = match (&from, &to) {
                (Some(_), Some(_)) => Some("startedAt BETWEEN :from AND :to"),
                (Some(_), None) => Some("startedAt >= :from"),
                (None, Some(_)) => Some("startedAt <= :to"),
                (None, None) => None,
            };
            if let Some(range) = range {
                query = query.key_condition_expression(format!("#pk = :pk AND {range}"));
            }
            if let Some(from) = &from {
                query = query.expression_attribute_values(":from", s(from));
            }
            if let Some(to) = &to {
                query = query.expression_attribute_values(":to", s(to));
            }
            let mut conditions = Vec::new();
            if let Some(station) = &filter.station {
                conditions.push("stationId = :station");
                query = query.expression_attribute_values(":station", s(station.as_str()));
            }
            if let Some(state) = filter.state {
                conditions.push("completed = :completed");
                let completed = state == SessionState::Completed;
                query = query.expression_attribute_values(":completed", AttributeValue::Bool(completed));
            }
            if !conditions.is_empty() {
                query = query.filter_expression(conditions.join(" AND "));
            }
            query
        };
        crate::page::query_filled(
            &self.0.client,
            self.0.name()?,
            partition_attribute,
            partition_value,
            &["stationId", "transaction", partition_attribute, "startedAt"],
            page,
            within,
            build,
            summary_from_item,
        )
        .await
    }
}

#[async_trait]
impl SessionRepository for Sessions {
    async fn get(&self, station: &StationId, transaction: &TransactionKey) -> Result<Option<Session>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("transaction", s(transaction.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(session_from_item).transpose()
    }

    async fn save(&self, session: &Session, expected_version: Option<u64>) -> Result<bool, StoreError> {
        let mut item = Item::from([
            ("stationId".into(), s(session.station.as_str())),
            ("transaction".into(), s(session.transaction.to_string())),
            ("version".into(), n(session.version)),
            ("record".into(), json(&SessionV1::from(session))),
            ("completed".into(), AttributeValue::Bool(session.completion.is_some())),
        ]);
        put_opt(
            &mut item,
            "energyWh",
            session.completion.as_ref().and_then(|c| c.energy_wh).map(n),
        );
        // The indexes' keys: a record without them (no owner known, no time seen) is in neither
        // list. DynamoDB refuses an empty string as an index key, so none is written.
        let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty()).map(s);
        put_opt(&mut item, "owner", non_empty(&session.owner));
        put_opt(&mut item, "organisation", non_empty(&session.organisation));
        let summary = session.summary();
        put_opt(&mut item, "startedAt", summary.started_at.map(time));
        item.insert("summary".into(), json(&SessionSummaryV1::from(&summary)));
        self.0.put_if(item, "version", expected_version.map(n)).await
    }

    async fn list(&self, station: &StationId) -> Result<Vec<Session>, StoreError> {
        self.0
            .query_station(station)
            .await?
            .iter()
            .map(session_from_item)
            .collect()
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        self.list_by(SESSIONS_BY_OWNER, "owner", owner, filter, page).await
    }

    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionSummary>, StoreError> {
        self.list_by(SESSIONS_BY_ORGANISATION, "organisation", organisation, filter, page)
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Session events and completions on SQS FIFO queues (group = station id)

pub struct SessionQueues {
    pub client: aws_sdk_sqs::Client,
    pub events_url: Option<String>,
    pub completed_url: Option<String>,
}

#[async_trait]
impl SessionEventBus for SessionQueues {
    async fn session_event(&self, event: &SessionEvent, dedup_key: &str) -> Result<(), PublishError> {
        let body = DomainEvent::SessionEvent(event.into()).to_json();
        send_fifo(
            &self.client,
            self.events_url.as_deref(),
            "SESSION_EVENTS_QUEUE_URL",
            event.station.as_str(),
            dedup_key,
            body,
        )
        .await
    }
}

#[async_trait]
impl SessionCompletedBus for SessionQueues {
    async fn session_completed(&self, completed: &SessionCompleted, dedup_key: &str) -> Result<(), PublishError> {
        let body = DomainEvent::SessionCompleted(completed.into()).to_json();
        let group = completed.station.as_str();
        send_fifo(
            &self.client,
            self.completed_url.as_deref(),
            "SESSION_COMPLETED_QUEUE_URL",
            group,
            dedup_key,
            body,
        )
        .await
    }
}
