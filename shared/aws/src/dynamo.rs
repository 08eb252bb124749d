//! DynamoDB adapters. One table per concern; see ARCHITECTURE.md for keys and attributes.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use chrono::{DateTime, Duration, Utc};
use csms_domain::ports::*;
use csms_domain::status::{Availability, Component, StatusReport};
use csms_domain::*;
use std::collections::HashMap;

use crate::attributes::*;

/// A table's client and name. The name is None when the function was not given the table, which
/// is an error only when the table is used.
#[derive(Clone)]
pub struct Table {
    pub(crate) client: aws_sdk_dynamodb::Client,
    name: Option<String>,
    variable: &'static str,
}

impl Table {
    pub fn new(client: aws_sdk_dynamodb::Client, name: Option<String>, variable: &'static str) -> Self {
        Self { client, name, variable }
    }

    pub(crate) fn name(&self) -> Result<&str, StoreError> {
        self.name
            .as_deref()
            .ok_or_else(|| StoreError::Backend(format!("{} is not set", self.variable).into()))
    }

    /// Puts `item`, replacing any item under its key.
    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(self.name()?)
            .set_item(Some(item))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Deletes the item under `key`, if there is one.
    pub(crate) async fn delete(&self, key: Item) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(self.name()?)
            .set_key(Some(key))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Every item of a station (tables keyed by `stationId`), all pages.
    pub(crate) async fn query_station(&self, station: &StationId) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.name()?)
            .key_condition_expression("stationId = :s")
            .expression_attribute_values(":s", s(station.as_str()));
        query
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend)
    }

    /// Optimistic concurrency: puts `item` only if the stored one's `attribute` still equals
    /// `expected` (None: only if there is no stored item). False when another writer got there first.
    pub(crate) async fn put_if(
        &self,
        item: Item,
        attribute: &str,
        expected: Option<AttributeValue>,
    ) -> Result<bool, StoreError> {
        let put = self.client.put_item().table_name(self.name()?).set_item(Some(item));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(stationId)"),
            Some(value) => put
                .condition_expression("#attribute = :expected")
                .expression_attribute_names("#attribute", attribute)
                .expression_attribute_values(":expected", value),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// True when the SDK error is a failed condition expression.
pub(crate) fn condition_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
{
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

/// Placeholders for every `#name` in an expression, so no attribute name can clash with one of
/// DynamoDB's reserved words.
pub(crate) fn names(expression: &str) -> HashMap<String, String> {
    expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
        .filter_map(|token| token.strip_prefix('#'))
        .map(|name| (format!("#{name}"), name.to_owned()))
        .collect()
}

fn ttl(at: DateTime<Utc>) -> AttributeValue {
    n(at.timestamp())
}

// ---------------------------------------------------------------------------------------------
// Stations

pub struct Stations(pub Table);

fn station_to_item(st: &Station) -> Item {
    let mut item = Item::from([
        ("stationId".into(), s(st.id.as_str())),
        (
            "protocols".into(),
            AttributeValue::L(st.protocols.iter().map(|p| s(p.as_str())).collect()),
        ),
        ("registration".into(), s(st.registration.as_str())),
        ("passwordHash".into(), s(st.password_hash.as_str())),
        ("online".into(), AttributeValue::Bool(st.online)),
        ("createdAt".into(), time(st.created_at)),
    ]);
    put_opt(&mut item, "site", st.site.clone().map(s));
    put_opt(&mut item, "organisation", st.organisation.clone().map(s));
    put_opt(&mut item, "latitude", st.location.map(|l| n(l.latitude())));
    // The ByGeoCell index holds only stations with a location (geo::index_keys).
    if let Some(location) = st.location {
        let (cell, geohash) = csms_domain::geo::index_keys(location);
        item.insert("geoCell".into(), s(cell));
        item.insert("geohash".into(), s(geohash));
    }
    put_opt(&mut item, "longitude", st.location.map(|l| n(l.longitude())));
    put_opt(&mut item, "connectionId", st.connection_id.clone().map(s));
    if !st.connectors.is_empty() {
        item.insert("connectors".into(), connectors_attribute(&st.connectors));
    }
    if let Some(boot) = &st.boot {
        item.extend(boot_attributes(boot));
    }
    item
}

/// The declared connectors: a list of maps (`evseId` only for 2.0.1 EVSEs).
fn connectors_attribute(connectors: &[Connector]) -> AttributeValue {
    AttributeValue::L(
        connectors
            .iter()
            .map(|c| {
                let mut m = Item::from([
                    ("connectorId".into(), n(c.connector_id)),
                    ("type".into(), s(c.kind.as_str())),
                    ("maxPowerW".into(), n(c.max_power_w)),
                ]);
                put_opt(&mut m, "evseId", c.evse_id.map(n));
                AttributeValue::M(m)
            })
            .collect(),
    )
}

fn connectors_from_item(item: &Item) -> Result<Vec<Connector>, StoreError> {
    let malformed = || StoreError::Backend(Box::new(Malformed("connectors")));
    let Some(value) = item.get("connectors") else {
        return Ok(Vec::new());
    };
    let list = value.as_l().map_err(|_| malformed())?;
    list.iter()
        .map(|v| {
            let m = v.as_m().map_err(|_| malformed())?;
            let number = |name: &str| {
                m.get(name)
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<u32>().ok())
            };
            Ok(Connector {
                evse_id: number("evseId"),
                connector_id: number("connectorId").ok_or_else(malformed)?,
                kind: opt_s(m, "type")
                    .as_deref()
                    .and_then(ConnectorType::parse)
                    .ok_or_else(malformed)?,
                max_power_w: number("maxPowerW").ok_or_else(malformed)?,
            })
        })
        .collect()
}

fn boot_attributes(boot: &BootInfo) -> Item {
    let mut item = Item::from([
        ("vendor".into(), s(&boot.vendor)),
        ("model".into(), s(&boot.model)),
        ("bootStatus".into(), s(boot.status.as_str())),
        ("bootAt".into(), time(boot.at)),
    ]);
    put_opt(&mut item, "serialNumber", boot.serial_number.clone().map(s));
    put_opt(&mut item, "firmwareVersion", boot.firmware_version.clone().map(s));
    item
}

fn station_from_item(item: &Item) -> Result<Station, StoreError> {
    let malformed = |name| StoreError::Backend(Box::new(Malformed(name)));
    let id = StationId::parse(&get_s(item, "stationId").map_err(backend)?).map_err(|_| malformed("stationId"))?;
    let protocols = match item.get("protocols") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .filter_map(|v| v.as_s().ok())
            .filter_map(|p| ProtocolVersion::parse(p))
            .collect(),
        _ => return Err(malformed("protocols")),
    };
    let registration =
        Registration::parse(&get_s(item, "registration").map_err(backend)?).ok_or(malformed("registration"))?;
    let boot = match (
        opt_s(item, "bootStatus").as_deref().and_then(Registration::parse),
        opt_time(item, "bootAt"),
    ) {
        (Some(status), Some(at)) => Some(BootInfo {
            vendor: opt_s(item, "vendor").unwrap_or_default(),
            model: opt_s(item, "model").unwrap_or_default(),
            serial_number: opt_s(item, "serialNumber"),
            firmware_version: opt_s(item, "firmwareVersion"),
            status,
            at,
        }),
        _ => None,
    };
    let location = match (opt_f64(item, "latitude"), opt_f64(item, "longitude")) {
        (Some(lat), Some(lon)) => GeoPoint::new(lat, lon),
        _ => None,
    };
    Ok(Station {
        id,
        protocols,
        registration,
        site: opt_s(item, "site"),
        organisation: opt_s(item, "organisation"),
        location,
        connectors: connectors_from_item(item)?,
        password_hash: PasswordHash::from_stored(get_s(item, "passwordHash").map_err(backend)?),
        boot,
        connection_id: opt_s(item, "connectionId"),
        online: opt_bool(item, "online").unwrap_or(false),
        created_at: get_time(item, "createdAt").map_err(backend)?,
    })
}

/// The StationsTable index by organisation: partition `organisation`, sort `stationId`, all attributes.
pub const STATIONS_BY_ORGANISATION: &str = "ByOrganisation";

impl Stations {
    /// `SET` the given attributes on an existing station; returns its live connection.
    async fn set(&self, id: &StationId, values: Item) -> Result<Option<String>, StoreError> {
        self.set_remove(id, values, &[]).await
    }

    /// `SET` the given attributes and `REMOVE` the named ones on an existing station; returns
    /// its live connection as the write left it (the new item comes back at no extra cost).
    async fn set_remove(&self, id: &StationId, values: Item, remove: &[&str]) -> Result<Option<String>, StoreError> {
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("stationId", s(id.as_str()));
        let mut clauses = Vec::new();
        for (i, (name, value)) in values.into_iter().enumerate() {
            clauses.push(format!("#a{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        let mut expression = String::new();
        if !clauses.is_empty() {
            expression = format!("SET {}", clauses.join(", "));
        }
        if !remove.is_empty() {
            let mut removed = Vec::new();
            for (i, name) in remove.iter().enumerate() {
                removed.push(format!("#r{i}"));
                update = update.expression_attribute_names(format!("#r{i}"), *name);
            }
            expression = format!("{expression} REMOVE {}", removed.join(", "));
        }
        let result = update
            .update_expression(expression)
            .condition_expression("attribute_exists(stationId)")
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.as_ref().and_then(|a| opt_s(a, "connectionId"))),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl StationRepository for Stations {
    async fn get(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("stationId", s(id.as_str()))
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(station_from_item).transpose()
    }

    async fn create(&self, station: &Station) -> Result<(), StoreError> {
        let result = self
            .0
            .client
            .put_item()
            .table_name(self.0.name()?)
            .set_item(Some(station_to_item(station)))
            .condition_expression("attribute_not_exists(stationId)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(backend(e)),
        }
    }

    async fn set_password_hash(&self, id: &StationId, hash: &PasswordHash) -> Result<Option<String>, StoreError> {
        self.set(id, Item::from([("passwordHash".into(), s(hash.as_str()))]))
            .await
    }

    async fn set_registration(&self, id: &StationId, registration: Registration) -> Result<Option<String>, StoreError> {
        self.set(id, Item::from([("registration".into(), s(registration.as_str()))]))
            .await
    }

    async fn update(&self, id: &StationId, changes: &StationChanges) -> Result<Option<String>, StoreError> {
        let mut values = Item::new();
        let mut remove = Vec::new();
        if let Some(protocols) = &changes.protocols {
            let list = protocols.iter().map(|p| s(p.as_str())).collect();
            values.insert("protocols".into(), AttributeValue::L(list));
        }
        if let Some(registration) = changes.registration {
            values.insert("registration".into(), s(registration.as_str()));
        }
        match &changes.site {
            Some(Some(site)) => {
                values.insert("site".into(), s(site));
            }
            Some(None) => remove.push("site"),
            None => {}
        }
        match changes.location {
            // The index keys move with the location (ByGeoCell holds only located stations).
            Some(Some(location)) => {
                let (cell, geohash) = csms_domain::geo::index_keys(location);
                values.insert("latitude".into(), n(location.latitude()));
                values.insert("longitude".into(), n(location.longitude()));
                values.insert("geoCell".into(), s(cell));
                values.insert("geohash".into(), s(geohash));
            }
            Some(None) => remove.extend(["latitude", "longitude", "geoCell", "geohash"]),
            None => {}
        }
        match &changes.connectors {
            Some(connectors) if connectors.is_empty() => remove.push("connectors"),
            Some(connectors) => {
                values.insert("connectors".into(), connectors_attribute(connectors));
            }
            None => {}
        }
        if values.is_empty() && remove.is_empty() {
            return Ok(self.get(id).await?.and_then(|s| s.connection_id));
        }
        self.set_remove(id, values, &remove).await
    }

    async fn delete(&self, id: &StationId) -> Result<Option<Station>, StoreError> {
        let out = self
            .0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .key("stationId", s(id.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        out.attributes.as_ref().map(station_from_item).transpose()
    }

    async fn list_by_organisation(&self, organisation: &str, page: &PageRequest) -> Result<Page<Station>, StoreError> {
        crate::page::query_page(
            &self.0.client,
            self.0.name()?,
            &["stationId", "organisation"],
            "organisation",
            organisation,
            page,
            |query| query.index_name(STATIONS_BY_ORGANISATION),
            station_from_item,
        )
        .await
    }

    async fn list(&self) -> Result<Vec<Station>, StoreError> {
        let scan = self.0.client.scan().table_name(self.0.name()?);
        let items = scan
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend)?;
        let mut stations = items.iter().map(station_from_item).collect::<Result<Vec<_>, _>>()?;
        stations.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(stations)
    }

    async fn attach_connection(
        &self,
        id: &StationId,
        connection_id: &str,
        checked: CheckedAgainst<'_>,
    ) -> Result<Option<String>, StoreError> {
        let result = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("stationId", s(id.as_str()))
            // Names go through placeholders: ONLINE is one of DynamoDB's reserved words.
            .update_expression("SET #connection = :c, #online = :t")
            // Also false when the station is gone.
            .condition_expression("#hash = :hash AND #registration = :registration")
            .expression_attribute_names("#connection", "connectionId")
            .expression_attribute_names("#online", "online")
            .expression_attribute_names("#hash", "passwordHash")
            .expression_attribute_names("#registration", "registration")
            .expression_attribute_values(":c", s(connection_id))
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":hash", s(checked.password_hash.as_str()))
            .expression_attribute_values(":registration", s(checked.registration.as_str()))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes.as_ref().and_then(|a| opt_s(a, "connectionId"))),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }

    async fn detach_connection(&self, id: &StationId, connection_id: &str) -> Result<bool, StoreError> {
        let result = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("stationId", s(id.as_str()))
            .update_expression("SET #online = :f REMOVE #connection")
            .condition_expression("#connection = :c")
            .expression_attribute_names("#connection", "connectionId")
            .expression_attribute_names("#online", "online")
            .expression_attribute_values(":c", s(connection_id))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn record_boot(&self, id: &StationId, boot: &BootInfo) -> Result<(), StoreError> {
        self.set(id, boot_attributes(boot)).await.map(drop)
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

pub struct Connections(pub Table);

fn connection_from_item(item: &Item) -> Result<Connection, StoreError> {
    let malformed = |name| StoreError::Backend(Box::new(Malformed(name)));
    Ok(Connection {
        connection_id: get_s(item, "connectionId").map_err(backend)?,
        station_id: StationId::parse(&get_s(item, "stationId").map_err(backend)?)
            .map_err(|_| malformed("stationId"))?,
        protocol: ProtocolVersion::parse(&get_s(item, "protocol").map_err(backend)?).ok_or(malformed("protocol"))?,
        boot: opt_s(item, "boot").as_deref().and_then(Registration::parse),
        organisation: opt_s(item, "organisation"),
        connected_at: get_time(item, "connectedAt").map_err(backend)?,
        last_seen_at: get_time(item, "lastSeenAt").map_err(backend)?,
    })
}

impl Connections {
    async fn read(&self, connection_id: &str, consistent: bool) -> Result<Option<Connection>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("connectionId", s(connection_id))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(connection_from_item).transpose()
    }

    async fn update(&self, connection_id: &str, expression: &str, values: Item) -> Result<(), StoreError> {
        let result = self
            .0
            .client
            .update_item()
            .table_name(self.0.name()?)
            .key("connectionId", s(connection_id))
            .update_expression(expression)
            .condition_expression("attribute_exists(connectionId)")
            .set_expression_attribute_names(Some(names(expression)))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::NotFound),
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl ConnectionRepository for Connections {
    async fn put(&self, c: &Connection) -> Result<(), StoreError> {
        let mut item = Item::from([
            ("connectionId".into(), s(&c.connection_id)),
            ("stationId".into(), s(c.station_id.as_str())),
            ("protocol".into(), s(c.protocol.as_str())),
            ("connectedAt".into(), time(c.connected_at)),
            ("lastSeenAt".into(), time(c.last_seen_at)),
            ("expiresAt".into(), ttl(c.expires_at())),
        ]);
        put_opt(&mut item, "boot", c.boot.map(|b| s(b.as_str())));
        put_opt(&mut item, "organisation", c.organisation.clone().map(s));
        self.0.put(item).await
    }

    async fn get(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.read(connection_id, false).await
    }

    async fn get_latest(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        self.read(connection_id, true).await
    }

    async fn get_many(&self, ids: &[String]) -> Result<Vec<Connection>, StoreError> {
        let table = self.0.name()?;
        let mut found = Vec::new();
        // BatchGetItem takes at most 100 keys; unprocessed keys are retried.
        for chunk in ids.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| HashMap::from([("connectionId".to_string(), s(id))]))
                .collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .build()
                    .map_err(backend)?,
            );
            while let Some(keys) = request.take() {
                let out = self
                    .0
                    .client
                    .batch_get_item()
                    .request_items(table, keys)
                    .send()
                    .await
                    .map_err(backend)?;
                for item in out.responses.unwrap_or_default().remove(table).unwrap_or_default() {
                    found.push(connection_from_item(&item)?);
                }
                request = out
                    .unprocessed_keys
                    .unwrap_or_default()
                    .remove(table)
                    .filter(|k| !k.keys.is_empty());
            }
        }
        Ok(found)
    }

    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.0
            .client
            .delete_item()
            .table_name(self.0.name()?)
            .key("connectionId", s(connection_id))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn set_boot(
        &self,
        connection_id: &str,
        boot: Registration,
        seen_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let values = Item::from([(":b".into(), s(boot.as_str())), (":t".into(), time(seen_at))]);
        self.update(connection_id, "SET #boot = :b, #lastSeenAt = :t", values)
            .await
    }

    async fn touch(&self, connection_id: &str, seen_at: DateTime<Utc>) -> Result<(), StoreError> {
        self.update(
            connection_id,
            "SET #lastSeenAt = :t",
            Item::from([(":t".into(), time(seen_at))]),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Availability view and status history

pub struct AvailabilityView(pub Table);

fn availability_from_item(item: &Item) -> Result<Availability, StoreError> {
    let malformed = |name| StoreError::Backend(Box::new(Malformed(name)));
    Ok(Availability {
        station_id: StationId::parse(&get_s(item, "stationId").map_err(backend)?)
            .map_err(|_| malformed("stationId"))?,
        component: Component::parse_key(&get_s(item, "component").map_err(backend)?).ok_or(malformed("component"))?,
        status: get_s(item, "status").map_err(backend)?,
        error_code: opt_s(item, "errorCode"),
        since: get_time(item, "since").map_err(backend)?,
        reported_at: get_time(item, "reportedAt").map_err(backend)?,
    })
}

#[async_trait]
impl AvailabilityRepository for AvailabilityView {
    async fn get(&self, station: &StationId, component: Component) -> Result<Option<Availability>, StoreError> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(self.0.name()?)
            .key("stationId", s(station.as_str()))
            .key("component", s(component.key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.item.as_ref().map(availability_from_item).transpose()
    }

    async fn replace(&self, next: &Availability, expected: Option<DateTime<Utc>>) -> Result<bool, StoreError> {
        let mut item = Item::from([
            ("stationId".into(), s(next.station_id.as_str())),
            ("component".into(), s(next.component.key())),
            ("status".into(), s(&next.status)),
            ("since".into(), time(next.since)),
            ("reportedAt".into(), time(next.reported_at)),
        ]);
        put_opt(&mut item, "errorCode", next.error_code.clone().map(s));
        self.0.put_if(item, "reportedAt", expected.map(time)).await
    }

    async fn list(&self, station: &StationId) -> Result<Vec<Availability>, StoreError> {
        self.0
            .query_station(station)
            .await?
            .iter()
            .map(availability_from_item)
            .collect()
    }

    async fn clear(&self, station: &StationId) -> Result<(), StoreError> {
        // One item per connector or EVSE the station reported: a few dozen at most.
        for item in self.0.query_station(station).await? {
            let key = ["stationId", "component"]
                .into_iter()
                .filter_map(|name| item.get(name).map(|v| (name.to_owned(), v.clone())))
                .collect();
            self.0.delete(key).await?;
        }
        Ok(())
    }
}

pub struct History(pub Table);

impl History {
    /// History entries are kept for 90 days.
    const RETENTION: Duration = Duration::days(90);
}

#[async_trait]
impl StatusHistory for History {
    async fn append(&self, r: &StatusReport) -> Result<(), StoreError> {
        let mut item = Item::from([
            ("stationId".into(), s(r.station_id.as_str())),
            // Time first so a query reads the history in order; the component makes it unique.
            (
                "entry".into(),
                s(format!("{}#{}", time_str(r.timestamp), r.component.key())),
            ),
            ("component".into(), s(r.component.key())),
            ("status".into(), s(&r.status)),
            ("timestamp".into(), time(r.timestamp)),
            ("receivedAt".into(), time(r.received_at)),
            ("expiresAt".into(), ttl(r.received_at + Self::RETENTION)),
        ]);
        put_opt(&mut item, "errorCode", r.error_code.clone().map(s));
        put_opt(&mut item, "info", r.info.clone().map(s));
        put_opt(&mut item, "vendorErrorCode", r.vendor_error_code.clone().map(s));
        self.0.put(item).await
    }

    async fn list(
        &self,
        station: &StationId,
        since: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<StatusReport>, StoreError> {
        // Entries are keyed by the station's clock, which is no bound on when we received them:
        // the registration bounds the receipt time, a filter (exact, and cheap while the id has
        // no earlier life; reading through an earlier one's entries costs until their TTL).
        crate::page::query_filled(
            &self.0.client,
            self.0.name()?,
            "stationId",
            station.as_str(),
            &["stationId", "entry"],
            page,
            |_| true,
            // Entries start with the station's timestamp: backwards is newest first.
            |query| {
                query
                    .scan_index_forward(false)
                    .filter_expression("#receivedAt >= :since")
                    .expression_attribute_names("#receivedAt", "receivedAt")
                    .expression_attribute_values(":since", time(since))
            },
            |item| {
                let malformed = |name| StoreError::Backend(Box::new(Malformed(name)));
                Ok(StatusReport {
                    station_id: station.clone(),
                    component: Component::parse_key(&get_s(item, "component").map_err(backend)?)
                        .ok_or(malformed("component"))?,
                    status: get_s(item, "status").map_err(backend)?,
                    error_code: opt_s(item, "errorCode"),
                    info: opt_s(item, "info"),
                    vendor_error_code: opt_s(item, "vendorErrorCode"),
                    timestamp: get_time(item, "timestamp").map_err(backend)?,
                    received_at: get_time(item, "receivedAt").map_err(backend)?,
                })
            },
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Station event log (2.0.1 NotifyReport / NotifyEvent)

pub struct EventLog(pub Table);

impl EventLog {
    /// Reports and events are kept for 30 days.
    const RETENTION: Duration = Duration::days(30);
}

#[async_trait]
impl StationEventLog for EventLog {
    async fn store(
        &self,
        station: &StationId,
        entry: &str,
        body: &str,
        received_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = Item::from([
            ("stationId".into(), s(station.as_str())),
            ("entry".into(), s(entry)),
            ("body".into(), s(body)),
            ("receivedAt".into(), time(received_at)),
            ("expiresAt".into(), ttl(received_at + Self::RETENTION)),
        ]);
        self.0.put(item).await
    }
}
