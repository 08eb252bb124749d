//! Operators run their organisation's stations: detail with live status, and remote commands with
//! their results. Another organisation's station is answered 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use csms_domain::{Station, StationId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::problem::{JsonBody, Problem};
use crate::remote::{self, CommandView};
use crate::stations::{StationView, station_id};

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

/// One of your organisation's stations, with its connectors' live status.
#[utoipa::path(
    get,
    path = "/v1/operator/stations/{stationId}",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The station", body = StationView),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn station(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<StationView>, Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    let availability = app.services.availability.list(&station.id).await?;
    Ok(Json(StationView::new(&station, availability)))
}

/// Send a remote command to one of your organisation's stations.
#[utoipa::path(
    post,
    path = "/v1/operator/stations/{stationId}/commands",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    request_body = SubmitCommand,
    responses(
        (status = 202, description = "Submitted", body = CommandView),
        (status = 400, description = "Unknown action or invalid payload", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
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
    let view = remote::submit(
        &app.services,
        station.id,
        protocol,
        &body.action,
        body.payload,
        timeout,
        caller.subject(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// The remote commands of one of your organisation's stations, oldest first.
#[utoipa::path(
    get,
    path = "/v1/operator/stations/{stationId}/commands",
    tag = "operator",
    params(("stationId" = String, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The commands", body = CommandList),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn commands(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<CommandList>, Problem> {
    let station = own_station(&app, &caller, &raw).await?;
    let records = app.services.commands.store.list(&station.id).await?;
    Ok(Json(CommandList {
        commands: records.iter().map(CommandView::of).collect(),
    }))
}
