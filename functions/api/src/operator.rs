//! Operators run their organisation's stations: register, change, decommission them, rotate
//! their passwords, read them with live status and status history, and send remote commands.
//! Another organisation's station is answered 404. The domain's `registry` does the work, as it
//! does for `csms-registry`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use csms_domain::registry::{self, NewStation, RegistryError};
use csms_domain::{
    Connection, Connector, ConnectorType, GeoPoint, ProtocolVersion, Registration, Station, StationChanges, StationId,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::paging;
use crate::paging::PageQuery;
use crate::problem::{JsonBody, Problem};
use crate::remote::{self, CommandView};
use crate::stations::{StationView, station_id};

/// Passwords are shown once: no cache may keep them.
type NoStore = [(header::HeaderName, &'static str); 1];
const NO_STORE: NoStore = [(header::CACHE_CONTROL, "no-store")];

fn registry_problem(e: RegistryError) -> Problem {
    match e {
        RegistryError::AlreadyRegistered => Problem::conflict("a station with this id is already registered"),
        RegistryError::UnknownStation => Problem::not_found("your organisation has no such station"),
        RegistryError::Store(e) => e.into(),
        RegistryError::Channel(e) => Problem::internal(&e),
        RegistryError::Password(e) => Problem::internal(&e),
        other => Problem::bad_request(other.to_string()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorInput {
    /// The 2.0.1 EVSE (from 1); leave out for 1.6 stations.
    pub evse_id: Option<u32>,
    /// From 1, on the station (1.6) or on its EVSE (2.0.1).
    pub connector_id: u32,
    /// OCPP 2.0.1 ConnectorEnumType: cCCS1, cCCS2, cG105 (CHAdeMO), cTesla, cType1, cType2,
    /// s309-1P-16A, s309-1P-32A, s309-3P-16A, s309-3P-32A, sBS1361, sCEE-7-7, sType2, sType3,
    /// Other1PhMax16A, Other1PhOver16A, Other3Ph, Pan, wInductive, wResonant, Undetermined, Unknown.
    #[serde(rename = "type")]
    pub kind: String,
    /// The most it delivers, in W (1 to 4,000,000).
    pub max_power_w: u32,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationInput {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterStation {
    /// The id the pile connects with: 1-48 of a-z A-Z 0-9 * - _ = + | @ .
    pub station_id: String,
    /// ocpp1.6 and/or ocpp2.0.1, in order of preference.
    pub protocols: Vec<String>,
    /// Accepted (default), Pending or Rejected: the answer to its BootNotification.
    pub registration: Option<String>,
    pub site: Option<String>,
    pub location: Option<LocationInput>,
    #[serde(default)]
    pub connectors: Vec<ConnectorInput>,
}

/// Tells a field sent as null (Some(None): remove it) from a field left out (None: keep it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeStation {
    /// ocpp1.6 and/or ocpp2.0.1, in order of preference; applies from the next connect.
    pub protocols: Option<Vec<String>>,
    /// Accepted, Pending or Rejected; applies from the next BootNotification.
    pub registration: Option<String>,
    /// null removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub site: Option<Option<String>>,
    /// null removes it (and the station from searches by place).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<LocationInput>)]
    pub location: Option<Option<LocationInput>>,
    /// Replaces the declared connectors ([] removes them).
    pub connectors: Option<Vec<ConnectorInput>>,
}

fn protocols(raw: &[String]) -> Result<Vec<ProtocolVersion>, Problem> {
    raw.iter()
        .map(|p| {
            ProtocolVersion::parse(p)
                .ok_or_else(|| Problem::bad_request(format!("protocol {p:?}: use ocpp1.6 or ocpp2.0.1")))
        })
        .collect()
}

fn registration(raw: &str) -> Result<Registration, Problem> {
    Registration::parse(raw)
        .ok_or_else(|| Problem::bad_request(format!("registration {raw:?}: use Accepted, Pending or Rejected")))
}

fn site(raw: String) -> Result<String, Problem> {
    let length = raw.chars().count();
    if !(1..=100).contains(&length) || raw.chars().any(char::is_control) {
        return Err(Problem::bad_request(
            "site must be 1-100 characters without control characters",
        ));
    }
    Ok(raw)
}

fn location(raw: LocationInput) -> Result<GeoPoint, Problem> {
    GeoPoint::new(raw.latitude, raw.longitude)
        .ok_or_else(|| Problem::bad_request("latitude must be -90 to 90 and longitude -180 to 180"))
}

fn connectors(raw: Vec<ConnectorInput>) -> Result<Vec<Connector>, Problem> {
    raw.into_iter()
        .map(|c| {
            let kind = ConnectorType::parse(&c.kind).ok_or_else(|| {
                let words = ConnectorType::ALL.map(ConnectorType::as_str).join(", ");
                Problem::bad_request(format!("connector type {:?}: use one of {words}", c.kind))
            })?;
            Ok(Connector {
                evse_id: c.evse_id,
                connector_id: c.connector_id,
                kind,
                max_power_w: c.max_power_w,
            })
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BootView {
    pub vendor: String,
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// How its last BootNotification was answered.
    pub status: String,
    pub at: DateTime<Utc>,
}

/// The station's live connection.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// The version it speaks on this connection: commands are written in it.
    pub protocol: String,
    pub connected_at: DateTime<Utc>,
}

/// A station as its operator sees it: the drivers' view plus what the operator decides.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorStationView {
    #[serde(flatten)]
    pub station: StationView,
    /// The versions it may connect with, in order of preference.
    pub protocols: Vec<String>,
    /// Accepted, Pending or Rejected.
    pub registration: String,
    /// What it said in its last BootNotification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot: Option<BootView>,
    /// Its live connection; absent while it is offline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionView>,
}

/// The live connections of the online stations among `stations`, by connection id: one batch
/// read (eventually consistent) for a whole page.
async fn connections(app: &App, stations: &[&Station]) -> Result<HashMap<String, Connection>, Problem> {
    let ids: Vec<String> = stations
        .iter()
        .filter(|s| s.online)
        .filter_map(|s| s.connection_id.clone())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = app.services.connections.get_many(&ids).await?;
    Ok(found.into_iter().map(|c| (c.connection_id.clone(), c)).collect())
}

impl OperatorStationView {
    async fn of(app: &App, station: &Station) -> Result<Self, Problem> {
        let live = connections(app, &[station]).await?;
        Self::with(app, station, &live).await
    }

    async fn with(app: &App, station: &Station, live: &HashMap<String, Connection>) -> Result<Self, Problem> {
        let availability = app.services.availability.list(&station.id).await?;
        let connection = station
            .connection_id
            .as_ref()
            .filter(|_| station.online)
            .and_then(|id| live.get(id))
            .filter(|c| c.station_id == station.id)
            .map(|c| ConnectionView {
                protocol: c.protocol.as_str().to_owned(),
                connected_at: c.connected_at,
            });
        let holds = crate::stations::live_holds(app, &station.id).await?;
        Ok(Self {
            connection,
            station: StationView::new(station, availability, &holds, None),
            protocols: station.protocols.iter().map(|p| p.as_str().to_owned()).collect(),
            registration: station.registration.as_str().to_owned(),
            boot: station.boot.as_ref().map(|b| BootView {
                vendor: b.vendor.clone(),
                model: b.model.clone(),
                firmware_version: b.firmware_version.clone(),
                status: b.status.as_str().to_owned(),
                at: b.at,
            }),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationPage {
    pub stations: Vec<OperatorStationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A station's password, shown this once: only its hash is stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationCredentials {
    pub station_id: String,
    /// The pile's HTTP Basic password (user: the station id).
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubmitCommand {
    /// An OCPP action the station's version defines for the CSMS to send, e.g. Reset.
    pub action: String,
    /// The request payload, checked against the action's schema.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Seconds the station has to answer (1-900, default 30).
    #[schema(minimum = 1, maximum = 900)]
    pub timeout_seconds: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandList {
    pub commands: Vec<CommandView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The station, if it belongs to the caller's organisation.
async fn own_station(app: &App, caller: &Caller, raw: &str) -> Result<Station, Problem> {
    let organisation = caller.organisation_of(app).await?;
    let id: StationId = station_id(raw)?;
    app.services
        .stations
        .get(&id)
        .await?
        .filter(|s| s.organisation.as_deref() == Some(organisation.as_str()))
        .ok_or_else(|| Problem::not_found(format!("your organisation has no station {id}")))
}

/// Your organisation's stations, by station id, with their connectors' live status.
#[utoipa::path(
    get,
    path = "/v1/operator/stations",
    tag = "operator",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of your organisation's stations", body = StationPage),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stations(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<StationPage>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let page = PageQuery::page(query)?;
    let found = registry::organisation_stations(&app.services, &organisation, &page)
        .await
        .map_err(registry_problem)?;
    let live = connections(&app, &found.items.iter().collect::<Vec<_>>()).await?;
    let mut stations = Vec::with_capacity(found.items.len());
    for station in &found.items {
        stations.push(OperatorStationView::with(&app, station, &live).await?);
    }
    Ok(Json(StationPage {
        stations,
        next_cursor: paging::next_cursor(found.next),
    }))
}

/// Register a station in your organisation. The answer carries its password, shown this once.
#[utoipa::path(
    post,
    path = "/v1/operator/stations",
    operation_id = "register_station",
    tag = "operator",
    request_body = RegisterStation,
    responses(
        (status = 201, description = "Registered; the password is shown this once", body = StationCredentials,
         headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Invalid station", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The station id is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterStation>,
) -> Result<(StatusCode, NoStore, Json<StationCredentials>), Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let new = NewStation {
        id: station_id(&body.station_id)?,
        protocols: protocols(&body.protocols)?,
        registration: body
            .registration
            .as_deref()
            .map(registration)
            .transpose()?
            .unwrap_or(Registration::Accepted),
        site: body.site.map(site).transpose()?,
        organisation: Some(organisation),
        location: body.location.map(location).transpose()?,
        connectors: connectors(body.connectors)?,
        password: None,
    };
    let id = new.id.to_string();
    let password = registry::register(&app.services, new, Utc::now())
        .await
        .map_err(registry_problem)?;
    let credentials = StationCredentials {
        station_id: id,
        password: password.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, NO_STORE, Json(credentials)))
}

/// Give one of your organisation's stations a new password, shown this once. Its open connection
/// stays up; the old password is refused from its next connect.
#[utoipa::path(
    post,
    path = "/v1/operator/stations/{stationId}/password",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The new password, shown this once", body = StationCredentials,
         headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Malformed station id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rotate_password(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<(StatusCode, NoStore, Json<StationCredentials>), Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    let password = registry::rotate_password(&app.services, &station.id, None)
        .await
        .map_err(registry_problem)?;
    let credentials = StationCredentials {
        station_id: station.id.to_string(),
        password: password.expose().to_owned(),
    };
    Ok((StatusCode::OK, NO_STORE, Json(credentials)))
}

/// Change one of your organisation's stations: protocols, registration, site, location,
/// connectors. Fields left out stay as they are.
#[utoipa::path(
    patch,
    path = "/v1/operator/stations/{stationId}",
    operation_id = "change_station",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    request_body = ChangeStation,
    responses(
        (status = 200, description = "The station as changed", body = OperatorStationView),
        (status = 400, description = "Invalid change", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<ChangeStation>,
) -> Result<Json<OperatorStationView>, Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    let changes = StationChanges {
        protocols: body.protocols.as_deref().map(protocols).transpose()?,
        registration: body.registration.as_deref().map(registration).transpose()?,
        site: body.site.map(|s| s.map(site).transpose()).transpose()?,
        location: body.location.map(|l| l.map(location).transpose()).transpose()?,
        connectors: body.connectors.map(connectors).transpose()?,
    };
    registry::update(&app.services, &station.id, changes)
        .await
        .map_err(registry_problem)?;
    let station = own_station(&app, &caller, &raw).await?;
    Ok(Json(OperatorStationView::of(&app, &station).await?))
}

/// Decommission one of your organisation's stations: it can no longer connect, its live
/// connection is closed; its sessions, status history and commands stay, and the id may be
/// registered again.
#[utoipa::path(
    delete,
    path = "/v1/operator/stations/{stationId}",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    responses(
        (status = 204, description = "Decommissioned"),
        (status = 400, description = "Malformed station id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decommission(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<StatusCode, Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    registry::decommission(&app.services, &station.id)
        .await
        .map_err(registry_problem)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// 0 is the whole station (1.6).
    pub connector_id: u32,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_error_code: Option<String>,
    /// When the station says the status changed.
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusHistoryPage {
    pub entries: Vec<StatusEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The status changes one of your organisation's stations reported since it was registered,
/// newest first (kept 90 days).
#[utoipa::path(
    get,
    path = "/v1/operator/stations/{stationId}/status-history",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id"), PageQuery),
    responses(
        (status = 200, description = "A page of the station's status history", body = StatusHistoryPage),
        (status = 400, description = "Malformed station id, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn status_history(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<StatusHistoryPage>, Problem> {
    let page = PageQuery::page(query)?;
    let station = own_station(&app, &caller, &raw).await?;
    let reports = app
        .services
        .history
        .list(&station.id, station.created_at, &page)
        .await?;
    Ok(Json(StatusHistoryPage {
        entries: reports
            .items
            .into_iter()
            .map(|r| StatusEntry {
                evse_id: r.component.evse,
                connector_id: r.component.connector,
                status: r.status,
                error_code: r.error_code,
                info: r.info,
                vendor_error_code: r.vendor_error_code,
                timestamp: r.timestamp,
                received_at: r.received_at,
            })
            .collect(),
        next_cursor: paging::next_cursor(reports.next),
    }))
}

/// One of your organisation's stations, with its connectors' live status.
#[utoipa::path(
    get,
    path = "/v1/operator/stations/{stationId}",
    operation_id = "operator_station",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The station", body = OperatorStationView),
        (status = 400, description = "Malformed station id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn station(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OperatorStationView>, Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    Ok(Json(OperatorStationView::of(&app, &station).await?))
}

/// Send a remote command to one of your organisation's stations. A remote start charges only on
/// one of your organisation's id tokens that no driver holds (a service card): drivers start on
/// theirs in the app.
#[utoipa::path(
    post,
    path = "/v1/operator/stations/{stationId}/commands",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    request_body = SubmitCommand,
    responses(
        (status = 202, description = "Submitted", body = CommandView),
        (status = 400, description = "Malformed station id, unknown action or invalid payload", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or a remote start on a token that is not one of your organisation's unbound (service) tokens", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_command(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<SubmitCommand>,
) -> Result<(StatusCode, Json<CommandView>), Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    let timeout = body.timeout_seconds.unwrap_or(30);
    let protocol = remote::protocol_of(&app.services, &station.id).await?;
    let command = remote::prepare(
        station.id.clone(),
        protocol,
        &body.action,
        body.payload,
        timeout,
        caller.subject(),
    )?;
    remote::check_not_on_a_drivers_token(&app.services, &station, &command).await?;
    let view = remote::send(&app.services, command).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The remote commands of one of your organisation's stations since it was registered, newest
/// first.
#[utoipa::path(
    get,
    path = "/v1/operator/stations/{stationId}/commands",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id"), PageQuery),
    responses(
        (status = 200, description = "A page of the commands", body = CommandList),
        (status = 400, description = "Malformed station id, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn commands(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<CommandList>, Problem> {
    let page = PageQuery::page(query)?;
    let station = own_station(&app, &caller, &raw).await?;
    let records = app
        .services
        .commands
        .store
        .list_newest(&station.id, station.created_at, &page)
        .await?;
    Ok(Json(CommandList {
        commands: records.items.iter().map(CommandView::of).collect(),
        next_cursor: paging::next_cursor(records.next),
    }))
}
