//! Stations as drivers see them: where, whether online, and each connector's live status.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use csms_domain::geo::{self, NearError};
use csms_domain::reservation::{Hold, Spot};
use csms_domain::{Availability, Component, GeoPoint, Station, StationId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::caller::Caller;
use crate::problem::Problem;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// A connector: what the operator declared (type, power) merged with its live status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatus {
    /// The 2.0.1 EVSE; absent for 1.6 connectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// 0 is the whole station (1.6).
    pub connector_id: u32,
    /// The plug, in OCPP 2.0.1 ConnectorEnumType words (cType2, cCCS2, cG105 for CHAdeMO,
    /// sType2, ...); absent when the operator did not declare this connector.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The most it delivers, in W; absent when not declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_power_w: Option<u32>,
    /// As the station last reported it, e.g. Available, Charging, Faulted; Unknown before its
    /// first report. Reserved also while a reservation holds it and the station still says
    /// Available.
    pub status: String,
    /// Since when the status holds; absent before the first report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Held by a reservation until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_until: Option<DateTime<Utc>>,
    /// The reservation holding it is yours (shown to drivers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_for_you: Option<bool>,
}

impl ConnectorStatus {
    /// Marks the connector held by `hold`, if one covers it; `viewer` is the driver looking.
    fn held(mut self, holds: &[Hold], viewer: Option<&str>) -> Self {
        let component = Component {
            evse: self.evse_id,
            connector: self.connector_id,
        };
        let hold = holds
            .iter()
            .find(|h| h.spot != Spot::Station && h.spot.covers(component) && component.connector > 0);
        if let Some(hold) = hold {
            self.reserved_until = Some(hold.expiry);
            self.reserved_for_you = viewer.map(|v| v == hold.driver);
            if matches!(self.status.as_str(), "Available" | "Unknown") {
                self.status = "Reserved".to_owned();
            }
        }
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StationView {
    pub station_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Connected to the CSMS now.
    pub online: bool,
    pub connectors: Vec<ConnectorStatus>,
}

impl StationView {
    /// The declared connectors with their live status and holds, and any other component the
    /// station reports on (such as 1.6's connector 0, the station itself), by EVSE and connector.
    /// `holds` are the station's live ones; `viewer` is the driver looking, if a driver is.
    pub fn new(station: &Station, availability: Vec<Availability>, holds: &[Hold], viewer: Option<&str>) -> Self {
        let mut live: std::collections::BTreeMap<_, _> = availability.into_iter().map(|a| (a.component, a)).collect();
        let mut connectors: Vec<ConnectorStatus> = station
            .connectors
            .iter()
            .map(|c| {
                let status = live.remove(&c.component());
                ConnectorStatus {
                    evse_id: c.evse_id,
                    connector_id: c.connector_id,
                    kind: Some(c.kind.as_str().to_owned()),
                    max_power_w: Some(c.max_power_w),
                    since: status.as_ref().map(|a| a.since),
                    status: status.map_or_else(|| "Unknown".to_owned(), |a| a.status),
                    reserved_until: None,
                    reserved_for_you: None,
                }
            })
            .collect();
        connectors.extend(live.into_values().map(|a| ConnectorStatus {
            evse_id: a.component.evse,
            connector_id: a.component.connector,
            kind: None,
            max_power_w: None,
            status: a.status,
            since: Some(a.since),
            reserved_until: None,
            reserved_for_you: None,
        }));
        let mut connectors: Vec<ConnectorStatus> = connectors.into_iter().map(|c| c.held(holds, viewer)).collect();
        connectors.sort_by_key(|c| (c.evse_id, c.connector_id));
        Self {
            station_id: station.id.to_string(),
            site: station.site.clone(),
            location: station.location.map(|l| Location {
                latitude: l.latitude(),
                longitude: l.longitude(),
            }),
            online: station.online,
            connectors,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NearQuery {
    /// Degrees, -90 to 90.
    pub latitude: f64,
    /// Degrees, -180 to 180.
    pub longitude: f64,
    /// Metres, up to 50,000 (default 5,000).
    pub radius: Option<f64>,
    /// At most this many stations, nearest first (1-100, default 20).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NearbyStation {
    /// Metres from the point asked about.
    pub distance: f64,
    #[serde(flatten)]
    pub station: StationView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NearbyStations {
    pub stations: Vec<NearbyStation>,
}

/// Stations near a point, nearest first, with their connectors' live status. Answered from a
/// geohash index (one query per index cell the circle touches), never a table scan.
#[utoipa::path(
    get,
    path = "/v1/stations",
    tag = "stations",
    params(NearQuery),
    responses(
        (status = 200, description = "Stations within the radius", body = NearbyStations),
        (status = 400, description = "Invalid point, radius or limit", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn near(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: Result<Query<NearQuery>, QueryRejection>,
) -> Result<Json<NearbyStations>, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let center = GeoPoint::new(query.latitude, query.longitude)
        .ok_or_else(|| Problem::bad_request("latitude must be -90 to 90 and longitude -180 to 180"))?;
    let found = geo::near(
        &*app.services.locator,
        center,
        query.radius.unwrap_or(5_000.0),
        query.limit.unwrap_or(20),
    )
    .await
    .map_err(|e| match e {
        NearError::Store(e) => Problem::internal(&e),
        other => Problem::bad_request(other.to_string()),
    })?;
    let mut stations = Vec::with_capacity(found.len());
    for nearby in found {
        // The index may lag a deregistration by a moment: skip what is gone.
        let Some(station) = app.services.stations.get(&nearby.station).await? else {
            continue;
        };
        let availability = app.services.availability.list(&nearby.station).await?;
        let holds = live_holds(&app, &nearby.station).await?;
        stations.push(NearbyStation {
            distance: (nearby.distance_m * 10.0).round() / 10.0,
            station: StationView::new(&station, availability, &holds, Some(caller.subject())),
        });
    }
    Ok(Json(NearbyStations { stations }))
}

pub(crate) fn station_id(raw: &str) -> Result<StationId, Problem> {
    StationId::parse(raw).map_err(|e| Problem::bad_request(format!("stationId {raw:?}: {e}")))
}

/// One station, with its connectors' live status.
#[utoipa::path(
    get,
    path = "/v1/stations/{stationId}",
    tag = "stations",
    params(("stationId" = String, Path, description = "The station's id, as its pile connects with it")),
    responses(
        (status = 200, description = "The station", body = StationView),
        (status = 400, description = "Malformed station id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn station(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<StationView>, Problem> {
    let id = station_id(&raw)?;
    let station = app
        .services
        .stations
        .get(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no station {id}")))?;
    let availability = app.services.availability.list(&id).await?;
    let holds = live_holds(&app, &id).await?;
    Ok(Json(StationView::new(
        &station,
        availability,
        &holds,
        Some(caller.subject()),
    )))
}

/// The reservations holding the station's connectors now.
pub(crate) async fn live_holds(app: &App, station: &StationId) -> Result<Vec<Hold>, Problem> {
    let now = Utc::now();
    Ok(app
        .reservations
        .store
        .holds(station)
        .await?
        .into_iter()
        .filter(|h| h.is_live(now))
        .collect())
}
