//! Reservations: a driver reserves a connector on the way, sees and cancels their reservations;
//! operators list, filter and cancel the reservations at their organisation's stations. The
//! domain decides (`csms-domain::reservation`): who gets the spot is settled here at once by one
//! conditional write; ReserveNow, the pile's answer and the expiry follow through the
//! reservations function. Another driver's or organisation's reservation is answered 404.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use csms_auth::Role;
use csms_domain::reservation::{
    self, CancelError, Canceller, Reservation, ReservationFilter, ReservationId, ReserveError, ReservePorts,
    ReserveRequest, Spot, SpotRequest, State as ReservationState,
};
use csms_domain::{ConnectorType, IdToken, IdTokenType, Page, StationId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::caller::Caller;
use crate::paging;
use crate::problem::{JsonBody, Problem};
use crate::stations::station_id;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reserve {
    pub station_id: String,
    /// One of your id tokens, as registered: the station holds the connector for it (and its group).
    pub id_token: String,
    /// 1.6: the connector; 2.0.1: the EVSE; 0: any connector, which the station keeps free (only
    /// where the station says it supports that). Left out, the CSMS picks a free one (of
    /// `connectorType`, if given).
    pub connector: Option<u32>,
    /// The plug you need, in OCPP 2.0.1 ConnectorEnumType words (cType2, cCCS2, ...).
    pub connector_type: Option<String>,
    /// How long to hold it, in minutes (1 to the operator's maximum).
    #[schema(minimum = 1)]
    pub minutes: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeView {
    pub at: DateTime<Utc>,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationView {
    /// The OCPP reservationId: unique per station.
    pub reservation_id: i32,
    pub station_id: String,
    /// The reserved 1.6 connector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// The reserved 2.0.1 EVSE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// The station keeps any one connector free.
    pub any_connector: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_type: Option<String>,
    pub id_token: String,
    /// Requested (on its way to the station), Accepted (held), Refused (the station said no),
    /// Consumed (charging started), Cancelled, Expired, Failed (the station never answered).
    pub state: String,
    /// Why it is in its state, in words: the station's answer, who cancelled, which transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Oldest first.
    pub history: Vec<ChangeView>,
}

impl ReservationView {
    pub fn of(r: &Reservation) -> Self {
        let (connector_id, evse_id) = match r.spot {
            Spot::Connector(c) => (Some(c), None),
            Spot::Evse(e) => (None, Some(e)),
            Spot::Station => (None, None),
        };
        Self {
            reservation_id: r.id.get(),
            station_id: r.station.to_string(),
            connector_id,
            evse_id,
            any_connector: r.spot == Spot::Station,
            connector_type: r.connector_type.map(|t| t.as_str().to_owned()),
            id_token: r.token.to_string(),
            state: r.state.as_str().to_owned(),
            reason: r.reason().map(str::to_owned),
            created_at: r.created_at,
            expires_at: r.expiry,
            history: r
                .history
                .iter()
                .map(|c| ChangeView {
                    at: c.at,
                    state: c.state.as_str().to_owned(),
                    note: c.note.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservationList {
    pub reservations: Vec<ReservationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl ReservationList {
    fn of(page: Page<Reservation>) -> Self {
        Self {
            reservations: page.items.iter().map(ReservationView::of).collect(),
            next_cursor: paging::next_cursor(page.next),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReservationQuery {
    /// Only reservations at this station.
    pub station_id: Option<String>,
    /// Only reservations in this state (Requested, Accepted, Refused, Consumed, Cancelled,
    /// Expired, Failed).
    pub state: Option<String>,
    /// Items per page, 1-100 (default 20).
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl ReservationQuery {
    fn parse(
        raw: Result<Query<Self>, QueryRejection>,
    ) -> Result<(ReservationFilter, csms_domain::PageRequest), Problem> {
        let Query(q) = raw.map_err(|e| Problem::bad_request(e.body_text()))?;
        let filter = ReservationFilter {
            station: q.station_id.as_deref().map(station_id).transpose()?,
            state: q
                .state
                .as_deref()
                .map(|s| {
                    ReservationState::parse(s).ok_or_else(|| {
                        Problem::bad_request(format!(
                            "state must be one of Requested, Accepted, Refused, Consumed, Cancelled, Expired, Failed, not {s:?}"
                        ))
                    })
                })
                .transpose()?,
        };
        Ok((filter, paging::page_request(q.limit, q.cursor)?))
    }
}

fn reservation_id(raw: &str) -> Result<ReservationId, Problem> {
    raw.parse::<i64>()
        .ok()
        .and_then(ReservationId::new)
        .ok_or_else(|| Problem::bad_request(format!("reservationId must be a positive integer, not {raw:?}")))
}

fn reserve_problem(e: ReserveError) -> Problem {
    let detail = e.to_string();
    match e {
        ReserveError::Duration { .. } => Problem::bad_request(detail),
        ReserveError::NotYourToken => Problem::not_found(detail),
        ReserveError::TokenNotAccepted { .. } => Problem::forbidden(detail),
        ReserveError::UnknownStation(_)
        | ReserveError::NoSuchSpot { .. }
        | ReserveError::NoSuchConnectorType { .. } => Problem::not_found(detail),
        ReserveError::StationOffline(_)
        | ReserveError::SpotBusy { .. }
        | ReserveError::SpotHeld { .. }
        | ReserveError::NoFreeSpot(_)
        | ReserveError::AnyConnectorUnsupported(_)
        | ReserveError::DriverHasOne { .. } => Problem::conflict(detail),
        ReserveError::Store(e) => e.into(),
        ReserveError::Publish(e) => Problem::internal(&e),
    }
}

/// Reserve a connector: the CSMS holds it for your token at once (or says why not), then asks
/// the station to hold it too (ReserveNow); follow the reservation until it is Accepted, or
/// Refused with the station's answer. Starting to charge there (with this token, or a card of
/// its group) ends it; so does cancelling, or its time running out.
#[utoipa::path(
    post,
    path = "/v1/me/reservations",
    tag = "reservations",
    request_body = Reserve,
    responses(
        (status = 201, description = "Held for you; on its way to the station", body = ReservationView),
        (status = 400, description = "Invalid request or length", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver, or the token may not charge", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station, connector or token of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not now: the station is offline, the connector is busy, faulted, unavailable or reserved, or you have an active reservation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reserve(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<Reserve>,
) -> Result<(StatusCode, Json<ReservationView>), Problem> {
    caller.require(Role::Driver)?;
    let station: StationId = station_id(&body.station_id)?;
    let token = IdToken::parse_201(&body.id_token, IdTokenType::Central)
        .map_err(|e| Problem::bad_request(format!("idToken: {e}")))?;
    let connector_type = body
        .connector_type
        .as_deref()
        .map(|t| {
            ConnectorType::parse(t)
                .ok_or_else(|| Problem::bad_request(format!("connectorType {t:?} is not a ConnectorEnumType word")))
        })
        .transpose()?;
    let spot = match body.connector {
        None => SpotRequest::Pick,
        Some(0) => SpotRequest::AnyConnector,
        Some(n) => SpotRequest::Numbered(n),
    };
    let request = ReserveRequest {
        station,
        driver: caller.subject().to_owned(),
        token,
        spot,
        connector_type,
        duration: Duration::minutes(body.minutes.into()),
    };
    let ports = ReservePorts {
        store: &*app.reservations.store,
        signals: &*app.reservations.signals,
        tokens: &*app.services.charging.tokens,
        stations: &*app.services.stations,
        connections: &*app.services.connections,
        availability: &*app.services.availability,
        settings: app.reservations.settings,
    };
    let r = reservation::reserve(ports, &request, commands::request::new_id(), Utc::now())
        .await
        .map_err(reserve_problem)?;
    Ok((StatusCode::CREATED, Json(ReservationView::of(&r))))
}

/// Your reservations, newest first.
#[utoipa::path(
    get,
    path = "/v1/me/reservations",
    tag = "reservations",
    params(ReservationQuery),
    responses(
        (status = 200, description = "Your reservations", body = ReservationList),
        (status = 400, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_reservations(
    State(app): State<Arc<App>>,
    caller: Caller,
    raw: Result<Query<ReservationQuery>, QueryRejection>,
) -> Result<Json<ReservationList>, Problem> {
    caller.require(Role::Driver)?;
    let (filter, page) = ReservationQuery::parse(raw)?;
    let found = app
        .reservations
        .store
        .list_by_driver(caller.subject(), &filter, &page)
        .await?;
    Ok(Json(ReservationList::of(found)))
}

async fn mine(app: &App, caller: &Caller, raw_station: &str, raw_id: &str) -> Result<Reservation, Problem> {
    caller.require(Role::Driver)?;
    let (station, id) = (station_id(raw_station)?, reservation_id(raw_id)?);
    app.reservations
        .store
        .get(&station, id)
        .await?
        .filter(|r| r.driver == caller.subject())
        .ok_or_else(|| Problem::not_found("you have no such reservation"))
}

/// One of your reservations, with its history.
#[utoipa::path(
    get,
    path = "/v1/me/reservations/{stationId}/{reservationId}",
    tag = "reservations",
    params(
        ("stationId" = String, Path, description = "The reservation's station"),
        ("reservationId" = String, Path, description = "The reservation's id"),
    ),
    responses(
        (status = 200, description = "The reservation", body = ReservationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_reservation(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_id)): Path<(String, String)>,
) -> Result<Json<ReservationView>, Problem> {
    Ok(Json(ReservationView::of(
        &mine(&app, &caller, &raw_station, &raw_id).await?,
    )))
}

fn cancel_problem(e: CancelError, not_found: &str) -> Problem {
    match e {
        CancelError::NotFound => Problem::not_found(not_found),
        ended @ CancelError::Ended(_) => Problem::conflict(ended.to_string()),
        CancelError::Store(e) => e.into(),
        CancelError::Publish(e) => Problem::internal(&e),
    }
}

/// Cancel one of your reservations: the connector is free again at once; the station is told.
#[utoipa::path(
    delete,
    path = "/v1/me/reservations/{stationId}/{reservationId}",
    tag = "reservations",
    params(
        ("stationId" = String, Path, description = "The reservation's station"),
        ("reservationId" = String, Path, description = "The reservation's id"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = ReservationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has already ended", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_mine(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_id)): Path<(String, String)>,
) -> Result<Json<ReservationView>, Problem> {
    caller.require(Role::Driver)?;
    let (station, id) = (station_id(&raw_station)?, reservation_id(&raw_id)?);
    let cancelled = reservation::cancel(
        &*app.reservations.store,
        &*app.reservations.signals,
        &station,
        id,
        Canceller::Driver(caller.subject()),
        Utc::now(),
    )
    .await
    .map_err(|e| cancel_problem(e, "you have no such reservation"))?;
    Ok(Json(ReservationView::of(&cancelled)))
}

/// The reservations at your organisation's stations, newest first.
#[utoipa::path(
    get,
    path = "/v1/operator/reservations",
    tag = "operator",
    params(ReservationQuery),
    responses(
        (status = 200, description = "The reservations", body = ReservationList),
        (status = 400, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or no organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_reservations(
    State(app): State<Arc<App>>,
    caller: Caller,
    raw: Result<Query<ReservationQuery>, QueryRejection>,
) -> Result<Json<ReservationList>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let (filter, page) = ReservationQuery::parse(raw)?;
    let found = app
        .reservations
        .store
        .list_by_organisation(&organisation, &filter, &page)
        .await?;
    Ok(Json(ReservationList::of(found)))
}

/// One reservation at your organisation's stations.
#[utoipa::path(
    get,
    path = "/v1/operator/reservations/{stationId}/{reservationId}",
    tag = "operator",
    params(
        ("stationId" = String, Path, description = "The reservation's station"),
        ("reservationId" = String, Path, description = "The reservation's id"),
    ),
    responses(
        (status = 200, description = "The reservation", body = ReservationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or no organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_reservation(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_id)): Path<(String, String)>,
) -> Result<Json<ReservationView>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let (station, id) = (station_id(&raw_station)?, reservation_id(&raw_id)?);
    let r = app
        .reservations
        .store
        .get(&station, id)
        .await?
        .filter(|r| r.organisation.as_deref() == Some(organisation.as_str()))
        .ok_or_else(|| Problem::not_found("your organisation has no such reservation"))?;
    Ok(Json(ReservationView::of(&r)))
}

/// Cancel a reservation at one of your organisation's stations.
#[utoipa::path(
    delete,
    path = "/v1/operator/reservations/{stationId}/{reservationId}",
    tag = "operator",
    params(
        ("stationId" = String, Path, description = "The reservation's station"),
        ("reservationId" = String, Path, description = "The reservation's id"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = ReservationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or no organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reservation in your organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has already ended", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_cancel(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_id)): Path<(String, String)>,
) -> Result<Json<ReservationView>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let (station, id) = (station_id(&raw_station)?, reservation_id(&raw_id)?);
    let by = Canceller::Operator {
        organisation: &organisation,
        subject: caller.subject(),
    };
    let cancelled = reservation::cancel(
        &*app.reservations.store,
        &*app.reservations.signals,
        &station,
        id,
        by,
        Utc::now(),
    )
    .await
    .map_err(|e| cancel_problem(e, "your organisation has no such reservation"))?;
    Ok(Json(ReservationView::of(&cancelled)))
}
