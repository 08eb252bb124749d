//! Stations as drivers see them: where, whether online, and each connector's live status.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use csms_domain::{Availability, Station, StationId};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::problem::Problem;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatus {
    /// The 2.0.1 EVSE; absent for 1.6 connectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// 0 is the whole station (1.6).
    pub connector_id: u32,
    /// As the station reported it, e.g. Available, Charging, Faulted.
    pub status: String,
    pub since: DateTime<Utc>,
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
    pub fn new(station: &Station, availability: Vec<Availability>) -> Self {
        let mut connectors: Vec<ConnectorStatus> = availability
            .into_iter()
            .map(|a| ConnectorStatus {
                evse_id: a.component.evse,
                connector_id: a.component.connector,
                status: a.status,
                since: a.since,
            })
            .collect();
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
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn station(
    State(app): State<Arc<App>>,
    _caller: Caller,
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
    Ok(Json(StationView::new(&station, availability)))
}
