//! Charging sessions as drivers and operators see them: a driver's own history and live sessions
//! (by the owner of the session's token), an operator's organisation's sessions (by the
//! station's organisation). Lists are summaries, newest start first; one session comes with a
//! page of its meter series, oldest first. Another driver's or organisation's session is
//! answered 404.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use csms_auth::Role;
use csms_domain::transaction::TransactionId;
use csms_domain::{
    MeterSample, Page, PageRequest, Session, SessionFilter, SessionState, SessionSummary, StationId,
    StationTransactionId, TransactionKey,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use crate::App;
use crate::caller::Caller;
use crate::paging;
use crate::problem::Problem;
use crate::stations::station_id;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// Only sessions at this station.
    pub station_id: Option<String>,
    /// Only sessions that started at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Only sessions that started at or before this time (RFC 3339).
    pub to: Option<String>,
    /// `active` (not completed yet) or `completed`.
    pub state: Option<String>,
    /// Items per page, 1-100 (default 20).
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn time(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, Problem> {
    raw.map(|raw| {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| Problem::bad_request(format!("{name} must be an RFC 3339 date-time, not {raw:?}")))
    })
    .transpose()
}

impl SessionQuery {
    fn filter(&self) -> Result<SessionFilter, Problem> {
        let filter = SessionFilter {
            station: self.station_id.as_deref().map(station_id).transpose()?,
            from: time("from", self.from.as_deref())?,
            to: time("to", self.to.as_deref())?,
            state: match self.state.as_deref() {
                None => None,
                Some("active") => Some(SessionState::Active),
                Some("completed") => Some(SessionState::Completed),
                Some(other) => {
                    return Err(Problem::bad_request(format!(
                        "state must be active or completed, not {other:?}"
                    )));
                }
            },
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(Problem::bad_request("from must not be after to"));
        }
        Ok(filter)
    }
}

/// The transaction id as the station knows it: a number for 1.6, the station's string for 2.0.1.
fn transaction_id(key: &TransactionKey) -> String {
    match key {
        TransactionKey::Ocpp16(id) => id.get().to_string(),
        TransactionKey::Ocpp201(id) => id.as_str().to_owned(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    pub station_id: String,
    /// As the station gave it: a number for 1.6 stations, the station's own id for 2.0.1.
    pub transaction_id: String,
    /// `active` or `completed`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evse: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector: Option<u32>,
    /// The id token that authorized the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The start; until the station reports it, the earliest time the session has seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// Energy charged so far, or as billed once completed (Wh, exact).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::arbitrary_precision_option::serialize"
    )]
    #[schema(value_type = Option<f64>)]
    pub energy_wh: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
}

impl SessionView {
    fn of(s: &SessionSummary) -> Self {
        Self {
            station_id: s.station.as_str().to_owned(),
            transaction_id: transaction_id(&s.transaction),
            state: if s.completed { "completed" } else { "active" }.to_owned(),
            evse: s.evse,
            connector: s.connector,
            id_token: s.id_token.as_ref().map(|t| t.as_str().to_owned()),
            started_at: s.started_at,
            stopped_at: s.stopped_at,
            energy_wh: s.energy_wh,
            stop_reason: s.stop_reason.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
    /// Pass as `cursor` for the next page; absent on the last page. A page may hold fewer than
    /// `limit` sessions and still have a next one when filters skip many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl SessionList {
    fn of(page: Page<SessionSummary>) -> Self {
        Self {
            sessions: page.items.iter().map(SessionView::of).collect(),
            next_cursor: paging::next_cursor(page.next),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SampleView {
    pub timestamp: DateTime<Utc>,
    /// The OCPP measurand, e.g. Energy.Active.Import.Register.
    pub measurand: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The OCPP reading context, e.g. Sample.Periodic.
    pub context: String,
    /// In the unit below (energy in Wh, power in W), exact.
    #[serde(serialize_with = "rust_decimal::serde::arbitrary_precision::serialize")]
    #[schema(value_type = f64)]
    pub value: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl SampleView {
    fn of(s: &MeterSample) -> Self {
        Self {
            timestamp: s.timestamp,
            measurand: s.measurand.as_str().to_owned(),
            phase: s.phase.map(|p| p.as_str().to_owned()),
            context: s.context.as_str().to_owned(),
            value: s.value,
            unit: s.unit.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionView,
    /// Seconds from start to stop, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// The newest total active import power reading (W).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::arbitrary_precision_option::serialize"
    )]
    #[schema(value_type = Option<f64>)]
    pub latest_power_w: Option<Decimal>,
    /// One page of the meter series, oldest first: every reading of up to `limit` instants.
    pub samples: Vec<SampleView>,
    /// Pass as `cursor` for the series' next page; absent on its last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl SessionDetail {
    fn of(s: &Session, samples: Page<MeterSample>) -> Self {
        Self {
            session: SessionView::of(&s.summary()),
            duration_seconds: s.completion.as_ref().map(|c| c.duration_seconds),
            latest_power_w: s.latest_power_w(),
            samples: samples.items.iter().map(SampleView::of).collect(),
            next_cursor: paging::next_cursor(samples.next),
        }
    }

    /// The session with the page of its series that `page` asks for.
    async fn read(app: &App, session: &Session, page: &PageRequest) -> Result<Self, Problem> {
        let samples = app
            .services
            .charging
            .series
            .page(&session.station, &session.transaction, page)
            .await?;
        Ok(Self::of(session, samples))
    }
}

/// The query string of one session: which page of its meter series.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// Instants (distinct reading times) of the meter series per page, 1-100 (default 20), each
    /// with all its readings.
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl SeriesQuery {
    fn page(query: Result<Query<SeriesQuery>, QueryRejection>) -> Result<PageRequest, Problem> {
        let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
        paging::page_request(query.limit, query.cursor)
    }
}

/// The session `raw` names at the station: a number may be a 1.6 id, any id a 2.0.1 one.
pub(crate) async fn find_session(app: &App, station: &StationId, raw: &str) -> Result<Option<Session>, Problem> {
    let mut candidates = Vec::new();
    if let Some(id) = raw.parse::<i64>().ok().and_then(TransactionId::new) {
        candidates.push(TransactionKey::Ocpp16(id));
    }
    if let Ok(id) = StationTransactionId::parse(raw) {
        candidates.push(TransactionKey::Ocpp201(id));
    }
    for key in candidates {
        if let Some(session) = app.services.charging.sessions.get(station, &key).await? {
            return Ok(Some(session));
        }
    }
    Ok(None)
}

fn query(query: Result<Query<SessionQuery>, QueryRejection>) -> Result<SessionQuery, Problem> {
    query.map(|Query(q)| q).map_err(|e| Problem::bad_request(e.body_text()))
}

/// Your charging sessions, live and completed, newest start first.
#[utoipa::path(
    get,
    path = "/v1/me/sessions",
    tag = "charging",
    params(SessionQuery),
    responses(
        (status = 200, description = "Your sessions", body = SessionList),
        (status = 400, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    raw: Result<Query<SessionQuery>, QueryRejection>,
) -> Result<Json<SessionList>, Problem> {
    caller.require(Role::Driver)?;
    let q = query(raw)?;
    let filter = q.filter()?;
    let page = paging::page_request(q.limit, q.cursor)?;
    let sessions = app
        .services
        .charging
        .sessions
        .list_by_owner(caller.subject(), &filter, &page)
        .await?;
    Ok(Json(SessionList::of(sessions)))
}

/// One of your sessions, live or completed, with a page of its meter series: poll it to watch
/// charging.
#[utoipa::path(
    get,
    path = "/v1/me/sessions/{stationId}/{transactionId}",
    tag = "charging",
    params(
        ("stationId" = String, Path, description = "The station of the session"),
        ("transactionId" = String, Path, description = "The transaction id as the station gave it"),
        SeriesQuery,
    ),
    responses(
        (status = 200, description = "The session", body = SessionDetail),
        (status = 400, description = "Malformed station id, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of yours", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_session(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_transaction)): Path<(String, String)>,
    query: Result<Query<SeriesQuery>, QueryRejection>,
) -> Result<Json<SessionDetail>, Problem> {
    caller.require(Role::Driver)?;
    let station = station_id(&raw_station)?;
    let page = SeriesQuery::page(query)?;
    let session = find_session(&app, &station, &raw_transaction)
        .await?
        .filter(|s| s.owner.as_deref() == Some(caller.subject()))
        .ok_or_else(|| Problem::not_found("you have no such session"))?;
    Ok(Json(SessionDetail::read(&app, &session, &page).await?))
}

/// The sessions at your organisation's stations, newest start first.
#[utoipa::path(
    get,
    path = "/v1/operator/sessions",
    tag = "operator",
    params(SessionQuery),
    responses(
        (status = 200, description = "The sessions", body = SessionList),
        (status = 400, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or no organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_sessions(
    State(app): State<Arc<App>>,
    caller: Caller,
    raw: Result<Query<SessionQuery>, QueryRejection>,
) -> Result<Json<SessionList>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let q = query(raw)?;
    let filter = q.filter()?;
    let page = paging::page_request(q.limit, q.cursor)?;
    let sessions = app
        .services
        .charging
        .sessions
        .list_by_organisation(&organisation, &filter, &page)
        .await?;
    Ok(Json(SessionList::of(sessions)))
}

/// One session at your organisation's stations, with a page of its meter series.
#[utoipa::path(
    get,
    path = "/v1/operator/sessions/{stationId}/{transactionId}",
    tag = "operator",
    params(
        ("stationId" = String, Path, description = "The station of the session"),
        ("transactionId" = String, Path, description = "The transaction id as the station gave it"),
        SeriesQuery,
    ),
    responses(
        (status = 200, description = "The session", body = SessionDetail),
        (status = 400, description = "Malformed station id, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator, or no organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_session(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_transaction)): Path<(String, String)>,
    query: Result<Query<SeriesQuery>, QueryRejection>,
) -> Result<Json<SessionDetail>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let station = station_id(&raw_station)?;
    let page = SeriesQuery::page(query)?;
    let session = find_session(&app, &station, &raw_transaction)
        .await?
        .filter(|s| s.organisation.as_deref() == Some(organisation.as_str()))
        .ok_or_else(|| Problem::not_found("your organisation has no such session"))?;
    Ok(Json(SessionDetail::read(&app, &session, &page).await?))
}
