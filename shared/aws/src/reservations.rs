//! Reservations on AWS: ReservationsTable (DynamoDB), the reservations queue (SQS FIFO) and one
//! EventBridge Scheduler schedule per reservation.
//!
//! ReservationsTable is keyed by `pk` and `sk`. Per station (`pk = <stationId>`): the reservation
//! id counter (`counter`), reservations (`reservation#<id, 10 digits>`), holds on spots
//! (`hold#<spot>`: `connector#1`, `evse#2`, `station`), reservations the pile may still hold
//! (`leftover#<id>`) and whether it reserves any connector (`capabilities`). Per driver
//! (`pk = driver#<subject>`, `sk = active`): the lock that allows one active reservation.
//! Station ids never contain `#`, so the two kinds of partition cannot meet. Reservations carry
//! `driver` and `organisation`, the partition keys of the `ByDriver` and `ByOrganisation`
//! indexes (sorted by `createdAt`); holds and locks name their driver `holder`, so they stay out
//! of the indexes.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use csms_domain::command::{CommandId, FailureReason};
use csms_domain::ports::{PublishError, StoreError};
use csms_domain::reservation::*;
use csms_domain::{Component, ConnectorType, IdToken, Page, PageRequest, ProtocolVersion, StationId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::attributes::*;
use crate::dynamo::{Table, backend, condition_failed};
use crate::sqs::send_fifo;
use crate::wire::{IdTokenV1, WireError};

/// Index of a driver's reservations, newest first (`driver`, `createdAt`).
pub const RESERVATIONS_BY_DRIVER: &str = "ByDriver";
/// Index of the reservations at an organisation's stations (`organisation`, `createdAt`).
pub const RESERVATIONS_BY_ORGANISATION: &str = "ByOrganisation";
/// How long reservation records are kept after their expiry (DynamoDB TTL).
const RETENTION: Duration = Duration::days(90);
/// How long the CSMS waits for a pile to show a reservation it should no longer hold.
const LEFTOVER_RETENTION: Duration = Duration::days(7);

fn malformed(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(Box::new(WireError(what.to_string())))
}

fn reservation_sk(id: ReservationId) -> String {
    format!("reservation#{:010}", id.get())
}

fn hold_sk(spot: Spot) -> String {
    format!("hold#{}", spot.key())
}

fn leftover_sk(id: ReservationId) -> String {
    format!("leftover#{:010}", id.get())
}

fn driver_pk(driver: &str) -> String {
    format!("driver#{driver}")
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn history_attribute(changes: &[Change]) -> AttributeValue {
    AttributeValue::L(changes.iter().map(change_attribute).collect())
}

fn change_attribute(c: &Change) -> AttributeValue {
    let mut m = Item::from([("at".to_owned(), time(c.at)), ("state".to_owned(), s(c.state.as_str()))]);
    put_opt(&mut m, "note", c.note.clone().map(s));
    AttributeValue::M(m)
}

fn change_from(value: &AttributeValue) -> Result<Change, StoreError> {
    let m = value.as_m().map_err(|_| malformed("history entry is not a map"))?;
    Ok(Change {
        at: get_time(m, "at").map_err(backend)?,
        state: State::parse(&get_s(m, "state").map_err(backend)?).ok_or_else(|| malformed("history state"))?,
        note: opt_s(m, "note"),
    })
}

fn token_attributes(item: &mut Item, name: &str, token: &IdToken) {
    item.insert(name.to_owned(), s(token.as_str()));
    put_opt(item, &format!("{name}Type"), token.kind().map(|k| s(k.as_str())));
}

fn token_from(item: &Item, name: &'static str, kind: &str) -> Result<Option<IdToken>, StoreError> {
    let Some(value) = opt_s(item, name) else {
        return Ok(None);
    };
    let wire = IdTokenV1 {
        value,
        kind: opt_s(item, kind),
    };
    IdToken::try_from(&wire).map(Some).map_err(backend)
}

fn reservation_item(r: &Reservation) -> Item {
    let mut item = key(r.station.as_str(), reservation_sk(r.id));
    item.extend([
        ("stationId".to_owned(), s(r.station.as_str())),
        ("reservationId".to_owned(), n(r.id.get())),
        ("protocol".to_owned(), s(r.protocol.as_str())),
        ("spot".to_owned(), s(r.spot.key())),
        ("driver".to_owned(), s(&r.driver)),
        ("createdAt".to_owned(), time(r.created_at)),
        ("expiry".to_owned(), time(r.expiry)),
        ("commandId".to_owned(), s(r.command.as_str())),
        ("state".to_owned(), s(r.state.as_str())),
        ("history".to_owned(), history_attribute(&r.history)),
        ("expiresAt".to_owned(), n((r.expiry + RETENTION).timestamp())),
    ]);
    token_attributes(&mut item, "idToken", &r.token);
    if let Some(group) = &r.group {
        token_attributes(&mut item, "group", group);
    }
    put_opt(&mut item, "organisation", r.organisation.clone().map(s));
    put_opt(&mut item, "connectorType", r.connector_type.map(|t| s(t.as_str())));
    item
}

fn reservation_from(item: &Item) -> Result<Reservation, StoreError> {
    let text = |name: &'static str| get_s(item, name).map_err(backend);
    let history = item
        .get("history")
        .and_then(|h| h.as_l().ok())
        .ok_or_else(|| malformed("history"))?
        .iter()
        .map(change_from)
        .collect::<Result<Vec<_>, _>>()?;
    let id = item
        .get("reservationId")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .and_then(ReservationId::new)
        .ok_or_else(|| malformed("reservationId"))?;
    Ok(Reservation {
        id,
        station: StationId::parse(&text("stationId")?).map_err(malformed)?,
        organisation: opt_s(item, "organisation"),
        protocol: ProtocolVersion::parse(&text("protocol")?).ok_or_else(|| malformed("protocol"))?,
        spot: Spot::parse_key(&text("spot")?).ok_or_else(|| malformed("spot"))?,
        connector_type: opt_s(item, "connectorType").and_then(|t| ConnectorType::parse(&t)),
        driver: text("driver")?,
        token: token_from(item, "idToken", "idTokenType")?.ok_or_else(|| malformed("idToken"))?,
        group: token_from(item, "group", "groupType")?,
        created_at: get_time(item, "createdAt").map_err(backend)?,
        expiry: get_time(item, "expiry").map_err(backend)?,
        command: CommandId::parse(&text("commandId")?).map_err(malformed)?,
        state: State::parse(&text("state")?).ok_or_else(|| malformed("state"))?,
        history,
    })
}

fn hold_item(h: &Hold) -> Item {
    let mut item = key(h.station.as_str(), hold_sk(h.spot));
    item.extend([
        ("reservationId".to_owned(), n(h.reservation.get())),
        ("holder".to_owned(), s(&h.driver)),
        ("token".to_owned(), s(&h.token)),
        ("expiry".to_owned(), time(h.expiry)),
        // Gone by itself a day after a release that never came.
        ("expiresAt".to_owned(), n((h.expiry + Duration::days(1)).timestamp())),
    ]);
    put_opt(&mut item, "group", h.group.clone().map(s));
    item
}

fn number(item: &Item, name: &'static str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn hold_from(station: &StationId, item: &Item) -> Result<Hold, StoreError> {
    let sk = get_s(item, "sk").map_err(backend)?;
    Ok(Hold {
        station: station.clone(),
        spot: sk
            .strip_prefix("hold#")
            .and_then(Spot::parse_key)
            .ok_or_else(|| malformed("hold spot"))?,
        reservation: number(item, "reservationId")
            .and_then(ReservationId::new)
            .ok_or_else(|| malformed("reservationId"))?,
        driver: get_s(item, "holder").map_err(backend)?,
        token: get_s(item, "token").map_err(backend)?,
        group: opt_s(item, "group"),
        expiry: get_time(item, "expiry").map_err(backend)?,
    })
}

/// "Free, or held by a reservation whose time is up."
const FREE: &str = "attribute_not_exists(pk) OR expiry <= :now";

pub struct Reservations(pub Table);

impl Reservations {
    async fn get_item(&self, pk: &str, sk: &str, consistent: bool) -> Result<Option<Item>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    async fn query_prefix(&self, station: &StationId, prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.0
            .client
            .query()
            .table_name(self.0.name()?)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(station.as_str()))
            .expression_attribute_values(":prefix", s(prefix))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend)
    }

    /// Deletes an item if its `reservationId` is `id`; a failed condition is not an error.
    async fn delete_if_ours(&self, item_key: Item, id: ReservationId) -> Result<(), StoreError> {
        let out = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .set_key(Some(item_key))
            .condition_expression("reservationId = :id")
            .expression_attribute_values(":id", n(id.get()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn list_by(
        &self,
        index: &str,
        partition_attribute: &str,
        partition_value: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        let build = |query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder| {
            let mut query = query.index_name(index).scan_index_forward(false);
            let mut conditions = Vec::new();
            if let Some(station) = &filter.station {
                conditions.push("stationId = :station");
                query = query.expression_attribute_values(":station", s(station.as_str()));
            }
            if let Some(state) = filter.state {
                conditions.push("#state = :state");
                query = query
                    .expression_attribute_names("#state", "state")
                    .expression_attribute_values(":state", s(state.as_str()));
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
            &["pk", "sk", partition_attribute, "createdAt"],
            page,
            |start| {
                start
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with("reservation#"))
            },
            build,
            reservation_from,
        )
        .await
    }
}

fn put(table: &str, item: Item, condition: &str, now: Option<DateTime<Utc>>) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if let Some(now) = now {
        put = put.expression_attribute_values(":now", time(now));
    }
    Ok(TransactWriteItem::builder().put(put.build().map_err(backend)?).build())
}

#[async_trait]
impl ReservationStore for Reservations {
    async fn next_id(&self, station: &StationId) -> Result<ReservationId, StoreError> {
        let out = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("pk", s(station.as_str()))
            .key("sk", s("counter"))
            .update_expression("ADD #last :one")
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        out.attributes
            .as_ref()
            .and_then(|a| number(a, "last"))
            .and_then(ReservationId::new)
            .ok_or_else(|| StoreError::Backend("the station's reservation ids are exhausted".into()))
    }

    async fn create(
        &self,
        r: &Reservation,
        one_per_driver: bool,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Conflict>, StoreError> {
        let table = self.0.name()?;
        let mut items = vec![put(table, hold_item(&r.hold()), FREE, Some(now))?];
        if one_per_driver {
            let mut lock = key(driver_pk(&r.driver), "active");
            lock.extend([
                ("stationId".to_owned(), s(r.station.as_str())),
                ("reservationId".to_owned(), n(r.id.get())),
                ("holder".to_owned(), s(&r.driver)),
                ("expiry".to_owned(), time(r.expiry)),
                ("expiresAt".to_owned(), n((r.expiry + Duration::days(1)).timestamp())),
            ]);
            items.push(put(table, lock, FREE, Some(now))?);
        }
        items.push(put(table, reservation_item(r), "attribute_not_exists(pk)", None)?);
        let out = self
            .0
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let e = match out {
            Ok(_) => return Ok(Ok(())),
            Err(e) => e,
        };
        let reasons = match e.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => c.cancellation_reasons().to_vec(),
            _ => return Err(backend(e)),
        };
        let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        if failed(0) {
            return Ok(Err(Conflict::SpotHeld));
        }
        if one_per_driver && failed(1) {
            let lock = match reasons[1].item() {
                Some(item) => Some(item.clone()),
                None => self.get_item(&driver_pk(&r.driver), "active", true).await?,
            };
            let holder = lock.as_ref().and_then(|l| {
                let station = StationId::parse(&opt_s(l, "stationId")?).ok()?;
                Some((station, ReservationId::new(number(l, "reservationId")?)?))
            });
            return Ok(match holder {
                Some((station, id)) => Err(Conflict::DriverHasOne { station, id }),
                // The lock went between the two calls: tell the driver to try again.
                None => Err(Conflict::SpotHeld),
            });
        }
        Err(StoreError::AlreadyExists)
    }

    async fn get(&self, station: &StationId, id: ReservationId) -> Result<Option<Reservation>, StoreError> {
        // Strongly consistent: signals follow the API's write within milliseconds.
        self.get_item(station.as_str(), &reservation_sk(id), true)
            .await?
            .as_ref()
            .map(reservation_from)
            .transpose()
    }

    async fn transition(
        &self,
        station: &StationId,
        id: ReservationId,
        from: &[State],
        change: &Change,
    ) -> Result<Option<Reservation>, StoreError> {
        let allowed: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("pk", s(station.as_str()))
            .key("sk", s(reservation_sk(id)))
            .update_expression("SET #state = :next, history = list_append(history, :change)")
            .condition_expression(format!("#state IN ({})", allowed.join(", ")))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":next", s(change.state.as_str()))
            .expression_attribute_values(":change", AttributeValue::L(vec![change_attribute(change)]))
            .return_values(ReturnValue::AllNew);
        for (name, state) in allowed.iter().zip(from) {
            update = update.expression_attribute_values(name, s(state.as_str()));
        }
        match update.send().await {
            Ok(out) => out.attributes.as_ref().map(reservation_from).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
        self.delete_if_ours(key(r.station.as_str(), hold_sk(r.spot)), r.id)
            .await?;
        let out = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .key("pk", s(driver_pk(&r.driver)))
            .key("sk", s("active"))
            .condition_expression("reservationId = :id AND stationId = :station")
            .expression_attribute_values(":id", n(r.id.get()))
            .expression_attribute_values(":station", s(r.station.as_str()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn holds(&self, station: &StationId) -> Result<Vec<Hold>, StoreError> {
        self.query_prefix(station, "hold#")
            .await?
            .iter()
            .map(|item| hold_from(station, item))
            .collect()
    }

    async fn hold(&self, station: &StationId, spot: Spot) -> Result<Option<Hold>, StoreError> {
        // Eventually consistent (half the price): a hold is made seconds before its holder arrives.
        self.get_item(station.as_str(), &hold_sk(spot), false)
            .await?
            .as_ref()
            .map(|item| hold_from(station, item))
            .transpose()
    }

    async fn list_by_driver(
        &self,
        driver: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        self.list_by(RESERVATIONS_BY_DRIVER, "driver", driver, filter, page)
            .await
    }

    async fn list_by_organisation(
        &self,
        organisation: &str,
        filter: &ReservationFilter,
        page: &PageRequest,
    ) -> Result<Page<Reservation>, StoreError> {
        self.list_by(RESERVATIONS_BY_ORGANISATION, "organisation", organisation, filter, page)
            .await
    }

    async fn add_leftover(&self, l: &Leftover, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut item = key(l.station.as_str(), leftover_sk(l.reservation));
        item.extend([
            ("reservationId".to_owned(), n(l.reservation.get())),
            ("protocol".to_owned(), s(l.protocol.as_str())),
            ("spot".to_owned(), s(l.spot.key())),
            ("expiresAt".to_owned(), n((now + LEFTOVER_RETENTION).timestamp())),
        ]);
        self.0.put(item).await
    }

    async fn leftovers(&self, station: &StationId) -> Result<Vec<Leftover>, StoreError> {
        self.query_prefix(station, "leftover#")
            .await?
            .iter()
            .map(|item| {
                Ok(Leftover {
                    station: station.clone(),
                    reservation: number(item, "reservationId")
                        .and_then(ReservationId::new)
                        .ok_or_else(|| malformed("reservationId"))?,
                    protocol: opt_s(item, "protocol")
                        .and_then(|p| ProtocolVersion::parse(&p))
                        .ok_or_else(|| malformed("protocol"))?,
                    spot: opt_s(item, "spot")
                        .and_then(|p| Spot::parse_key(&p))
                        .ok_or_else(|| malformed("spot"))?,
                })
            })
            .collect()
    }

    async fn remove_leftover(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError> {
        self.0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .key("pk", s(station.as_str()))
            .key("sk", s(leftover_sk(id)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn any_connector(&self, station: &StationId) -> Result<Option<bool>, StoreError> {
        Ok(self
            .get_item(station.as_str(), "capabilities", false)
            .await?
            .and_then(|item| opt_bool(&item, "anyConnector")))
    }

    async fn set_any_connector(&self, station: &StationId, supported: bool) -> Result<(), StoreError> {
        let mut item = key(station.as_str(), "capabilities");
        item.insert("anyConnector".into(), AttributeValue::Bool(supported));
        self.0.put(item).await
    }
}

// ---------------------------------------------------------------------------------------------
// The reservations queue

/// A signal as its JSON message body (also the input of the expiry schedules). Externally
/// tagged, like the other queue bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SignalV1 {
    Requested(ReservationRefV1),
    ExpiryDue(ReservationRefV1),
    Cancelled(ReservationRefV1),
    Answered(AnsweredV1),
    Used(UsedV1),
    StationEnded(StationEndedV1),
    ReportedReserved(ReportedReservedV1),
    AnyConnector(AnyConnectorV1),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReservationRefV1 {
    pub station_id: String,
    pub reservation_id: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnsweredV1 {
    pub station_id: String,
    pub reservation_id: i32,
    pub action: String,
    /// The pile's status word, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The CALLERROR code and description, when it refused the CALL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Why the command failed, when it got no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsedV1 {
    pub station_id: String,
    pub reservation_id: i32,
    pub transaction_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StationEndedV1 {
    pub station_id: String,
    pub reservation_id: i32,
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportedReservedV1 {
    pub station_id: String,
    /// The report's time: two reports are two messages.
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    pub connector_id: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnyConnectorV1 {
    pub station_id: String,
    pub supported: bool,
}

fn reference(station: &StationId, id: ReservationId) -> ReservationRefV1 {
    ReservationRefV1 {
        station_id: station.to_string(),
        reservation_id: id.get(),
    }
}

impl From<&Signal> for SignalV1 {
    fn from(signal: &Signal) -> Self {
        match signal {
            Signal::Requested { station, id } => SignalV1::Requested(reference(station, *id)),
            Signal::ExpiryDue { station, id } => SignalV1::ExpiryDue(reference(station, *id)),
            Signal::Cancelled { station, id } => SignalV1::Cancelled(reference(station, *id)),
            Signal::Answered {
                station,
                id,
                action,
                outcome,
            } => {
                let mut wire = AnsweredV1 {
                    station_id: station.to_string(),
                    reservation_id: id.get(),
                    action: action.as_str().to_owned(),
                    status: None,
                    error_code: None,
                    error_description: None,
                    failure: None,
                };
                match outcome {
                    Outcome::Status(word) => wire.status = Some(word.clone()),
                    Outcome::Refused { code, description } => {
                        wire.error_code = Some(code.clone());
                        wire.error_description = Some(description.clone());
                    }
                    Outcome::Failed(reason) => wire.failure = Some(reason.as_str().to_owned()),
                }
                SignalV1::Answered(wire)
            }
            Signal::Used {
                station,
                id,
                transaction,
            } => SignalV1::Used(UsedV1 {
                station_id: station.to_string(),
                reservation_id: id.get(),
                transaction_id: transaction.clone(),
            }),
            Signal::StationEnded { station, id, removed } => SignalV1::StationEnded(StationEndedV1 {
                station_id: station.to_string(),
                reservation_id: id.get(),
                removed: *removed,
            }),
            Signal::ReportedReserved { station, component, at } => SignalV1::ReportedReserved(ReportedReservedV1 {
                station_id: station.to_string(),
                at: *at,
                evse_id: component.evse,
                connector_id: component.connector,
            }),
            Signal::AnyConnector { station, supported } => SignalV1::AnyConnector(AnyConnectorV1 {
                station_id: station.to_string(),
                supported: *supported,
            }),
        }
    }
}

fn station_of(raw: &str) -> Result<StationId, WireError> {
    StationId::parse(raw).map_err(|e| WireError(format!("stationId: {e}")))
}

fn id_of(raw: i32) -> Result<ReservationId, WireError> {
    ReservationId::new(raw.into()).ok_or_else(|| WireError(format!("reservationId {raw} is not positive")))
}

impl TryFrom<&SignalV1> for Signal {
    type Error = WireError;
    fn try_from(wire: &SignalV1) -> Result<Self, WireError> {
        let r = |r: &ReservationRefV1| -> Result<(StationId, ReservationId), WireError> {
            Ok((station_of(&r.station_id)?, id_of(r.reservation_id)?))
        };
        Ok(match wire {
            SignalV1::Requested(x) => {
                let (station, id) = r(x)?;
                Signal::Requested { station, id }
            }
            SignalV1::ExpiryDue(x) => {
                let (station, id) = r(x)?;
                Signal::ExpiryDue { station, id }
            }
            SignalV1::Cancelled(x) => {
                let (station, id) = r(x)?;
                Signal::Cancelled { station, id }
            }
            SignalV1::Answered(a) => {
                let outcome = match (&a.status, &a.error_code, &a.failure) {
                    (Some(status), None, None) => Outcome::Status(status.clone()),
                    (None, Some(code), None) => Outcome::Refused {
                        code: code.clone(),
                        description: a.error_description.clone().unwrap_or_default(),
                    },
                    (None, None, Some(failure)) => Outcome::Failed(
                        FailureReason::parse(failure).ok_or_else(|| WireError(format!("failure {failure:?}")))?,
                    ),
                    _ => return Err(WireError("an answer has one of status, errorCode, failure".into())),
                };
                Signal::Answered {
                    station: station_of(&a.station_id)?,
                    id: id_of(a.reservation_id)?,
                    action: ReservationAction::parse(&a.action)
                        .ok_or_else(|| WireError(format!("action {:?}", a.action)))?,
                    outcome,
                }
            }
            SignalV1::Used(u) => Signal::Used {
                station: station_of(&u.station_id)?,
                id: id_of(u.reservation_id)?,
                transaction: u.transaction_id.clone(),
            },
            SignalV1::StationEnded(e) => Signal::StationEnded {
                station: station_of(&e.station_id)?,
                id: id_of(e.reservation_id)?,
                removed: e.removed,
            },
            SignalV1::ReportedReserved(x) => Signal::ReportedReserved {
                station: station_of(&x.station_id)?,
                at: x.at,
                component: Component {
                    evse: x.evse_id,
                    connector: x.connector_id,
                },
            },
            SignalV1::AnyConnector(x) => Signal::AnyConnector {
                station: station_of(&x.station_id)?,
                supported: x.supported,
            },
        })
    }
}

impl SignalV1 {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("signals always serialize")
    }

    pub fn parse(body: &str) -> Result<Signal, WireError> {
        let wire: SignalV1 =
            serde_json::from_str(body).map_err(|e| WireError(format!("not a reservation signal: {e}")))?;
        Signal::try_from(&wire)
    }
}

/// The reservations queue (FIFO, group = station id). The body is its own deduplication key: a
/// signal sent twice within SQS's five minutes is delivered once, and handling it twice would
/// change nothing anyway.
pub struct ReservationQueue {
    pub client: aws_sdk_sqs::Client,
    pub url: Option<String>,
}

#[async_trait]
impl ReservationSignals for ReservationQueue {
    async fn publish(&self, signal: &Signal) -> Result<(), PublishError> {
        let body = SignalV1::from(signal).to_json();
        send_fifo(
            &self.client,
            self.url.as_deref(),
            "RESERVATION_EVENTS_QUEUE_URL",
            signal.station().as_str(),
            &body,
            body.clone(),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Expiry schedules

/// Where the schedules go and whom they signal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduleTarget {
    /// The schedule group (RESERVATION_SCHEDULE_GROUP).
    pub group: Option<String>,
    /// The reservations queue's ARN (RESERVATION_EVENTS_QUEUE_ARN).
    pub queue_arn: Option<String>,
    /// The role the scheduler sends with (RESERVATION_SCHEDULER_ROLE_ARN).
    pub role_arn: Option<String>,
    /// Where the scheduler puts a signal it could not deliver (RESERVATION_EXPIRY_DLQ_ARN).
    pub dead_letter_arn: Option<String>,
}

/// One-time EventBridge Scheduler schedules: `at(<expiry>)` in UTC, delivering the
/// [`Signal::ExpiryDue`] body to the reservations queue, deleted by the scheduler after it fired
/// (and by us when the reservation ends first).
pub struct Schedules {
    pub client: aws_sdk_scheduler::Client,
    pub target: ScheduleTarget,
}

/// The schedule's name: at most 64 of `[0-9A-Za-z_.-]`. Station ids may hold other characters
/// and 48 of them, so the station is named by a digest.
pub fn schedule_name(station: &StationId, id: ReservationId) -> String {
    let digest = hex::encode(&Sha256::digest(station.as_str().as_bytes())[..12]);
    format!("reservation-{digest}-{}", id.get())
}

fn required<'a>(value: &'a Option<String>, variable: &str) -> Result<&'a str, StoreError> {
    value
        .as_deref()
        .ok_or_else(|| StoreError::Backend(format!("{variable} is not set").into()))
}

#[async_trait]
impl ExpirySchedules for Schedules {
    async fn schedule(&self, r: &Reservation) -> Result<(), StoreError> {
        use aws_sdk_scheduler::types::{
            ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy,
            SqsParameters, Target,
        };
        let t = &self.target;
        let input = SignalV1::from(&Signal::ExpiryDue {
            station: r.station.clone(),
            id: r.id,
        })
        .to_json();
        let mut target = Target::builder()
            .arn(required(&t.queue_arn, "RESERVATION_EVENTS_QUEUE_ARN")?)
            .role_arn(required(&t.role_arn, "RESERVATION_SCHEDULER_ROLE_ARN")?)
            .input(input)
            .sqs_parameters(SqsParameters::builder().message_group_id(r.station.as_str()).build())
            // A day of retries: the expiry must land even through an SQS outage.
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(185)
                    .maximum_event_age_in_seconds(86_400)
                    .build(),
            );
        if let Some(dlq) = &t.dead_letter_arn {
            target = target.dead_letter_config(DeadLetterConfig::builder().arn(dlq).build());
        }
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(backend)?;
        let out = self
            .client
            .create_schedule()
            .name(schedule_name(&r.station, r.id))
            .group_name(required(&t.group, "RESERVATION_SCHEDULE_GROUP")?)
            // Whole seconds, rounded up: never before the expiry.
            .schedule_expression(format!(
                "at({})",
                (r.expiry + Duration::milliseconds(999))
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
                    .trim_end_matches('Z')
            ))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target.build().map_err(backend)?)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(format!("Expiry of reservation {} at station {}", r.id, r.station))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Created by an earlier delivery of the same signal.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn unschedule(&self, station: &StationId, id: ReservationId) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_schedule()
            .name(schedule_name(station, id))
            .group_name(required(&self.target.group, "RESERVATION_SCHEDULE_GROUP")?)
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Fired and deleted itself, or never made.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_round_trip_through_json() {
        let station = StationId::parse("CP-1").unwrap();
        let id = ReservationId::new(7).unwrap();
        let signals = [
            Signal::Requested {
                station: station.clone(),
                id,
            },
            Signal::ExpiryDue {
                station: station.clone(),
                id,
            },
            Signal::Answered {
                station: station.clone(),
                id,
                action: ReservationAction::ReserveNow,
                outcome: Outcome::Status("Occupied".into()),
            },
            Signal::Answered {
                station: station.clone(),
                id,
                action: ReservationAction::CancelReservation,
                outcome: Outcome::Failed(FailureReason::StationOffline),
            },
            Signal::Answered {
                station: station.clone(),
                id,
                action: ReservationAction::ReserveNow,
                outcome: Outcome::Refused {
                    code: "NotSupported".into(),
                    description: "no".into(),
                },
            },
            Signal::Used {
                station: station.clone(),
                id,
                transaction: "tx-1".into(),
            },
            Signal::StationEnded {
                station: station.clone(),
                id,
                removed: true,
            },
            Signal::ReportedReserved {
                station: station.clone(),
                component: Component {
                    evse: Some(1),
                    connector: 1,
                },
                at: DateTime::parse_from_rfc3339("2026-05-01T10:00:00.123Z")
                    .unwrap()
                    .with_timezone(&Utc),
            },
            Signal::AnyConnector {
                station: station.clone(),
                supported: false,
            },
        ];
        for signal in signals {
            let body = SignalV1::from(&signal).to_json();
            assert_eq!(SignalV1::parse(&body).unwrap(), signal, "{body}");
        }
        assert_eq!(
            SignalV1::from(&Signal::ExpiryDue { station, id }).to_json(),
            r#"{"ExpiryDue":{"stationId":"CP-1","reservationId":7}}"#
        );
        assert!(SignalV1::parse(r#"{"ExpiryDue":{"stationId":"CP-1","reservationId":0}}"#).is_err());
        assert!(SignalV1::parse("{}").is_err());
    }

    #[test]
    fn schedule_names_fit_the_schedulers_rules() {
        let long = StationId::parse(&"A*=+|@.".repeat(6)).unwrap();
        let name = schedule_name(&long, ReservationId::new(i32::MAX.into()).unwrap());
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{name}"
        );
        assert_ne!(
            schedule_name(&StationId::parse("a").unwrap(), ReservationId::new(1).unwrap()),
            schedule_name(&StationId::parse("b").unwrap(), ReservationId::new(1).unwrap())
        );
    }
}
