//! A driver starts and stops charging with one of their own id tokens, through the station's
//! remote start / stop, and follows the command.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use commands::orders::OcppOrders;
use csms_auth::Role;
use csms_domain::command::CommandId;
use csms_domain::order::OrderError;
use csms_domain::remote_charging::{self, StartCharging as StartRequest, StartError, StartPorts};
use csms_domain::token_registry;
use csms_domain::{IdToken, IdTokenType, Station, TokenRecord};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::paging::{self, PageQuery};
use crate::problem::{JsonBody, Problem};
use crate::remote::{self, CommandView, DriverOrders};
use crate::stations::station_id;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartCharging {
    pub station_id: String,
    /// One of your id tokens, as registered.
    pub id_token: String,
    /// 1.6: the connector; 2.0.1: the EVSE. Left out: the one reserved for you at this station,
    /// else the station picks.
    pub connector: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StopCharging {
    pub station_id: String,
    /// The session's transaction id as the station gave it (a number for 1.6 stations).
    pub transaction_id: String,
}

type Accepted = (StatusCode, Json<CommandView>);

/// The caller's token as the station's organisation registered it, if it is theirs (404
/// otherwise: others' tokens are not confirmed, and a token works only at its organisation's
/// stations).
async fn own_token(
    app: &App,
    caller: &Caller,
    station: &Station,
    raw: &str,
) -> Result<csms_domain::TokenRecord, Problem> {
    let token =
        IdToken::parse_201(raw, IdTokenType::Central).map_err(|e| Problem::bad_request(format!("idToken: {e}")))?;
    app.services
        .charging
        .tokens
        .get(station.organisation.as_deref(), &token)
        .await?
        .filter(|record| record.owner.as_deref() == Some(caller.subject()))
        .ok_or_else(|| Problem::not_found("you have no such id token that this station accepts"))
}

/// Start charging: sends the station a remote start (1.6 RemoteStartTransaction, 2.0.1
/// RequestStartTransaction) for your token. 202: the command is on its way; follow it at
/// `/v1/commands/{stationId}/{commandId}`. A connector reserved for someone else is refused (409);
/// your own reservation is used when you name no connector.
#[utoipa::path(
    post,
    path = "/v1/charging/start",
    tag = "charging",
    request_body = StartCharging,
    responses(
        (status = 202, description = "Remote start submitted", body = CommandView),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver, or the token may not charge", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such station, or no such token of yours that the station accepts", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The connector is reserved for someone else, or another command of yours is still pending", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<StartCharging>,
) -> Result<Accepted, Problem> {
    caller.require(Role::Driver)?;
    // The station's organisation decides which registry the token is looked up in.
    let (station, _) = remote::target(&app.services, &station_id(&body.station_id)?).await?;
    let token = own_token(&app, &caller, &station, &body.id_token).await?;
    let orders = orders(&app);
    let ports = StartPorts {
        stations: &*app.services.stations,
        connections: &*app.services.connections,
        reservations: &*app.reservations.store,
        orders: &orders,
    };
    let request = StartRequest {
        station: &station.id,
        token: &token,
        spot: body.connector,
        requested_by: Some(caller.subject()),
    };
    let command = remote_charging::start(ports, &request, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            StartError::TokenNotAccepted { .. } => Problem::forbidden(e.to_string()),
            StartError::UnknownStation(_) => Problem::not_found(e.to_string()),
            StartError::AmbiguousProtocol { .. } => Problem::bad_request(e.to_string()),
            StartError::Reserved { .. } => Problem::conflict(e.to_string()),
            StartError::Store(e) => e.into(),
            StartError::Order(e) => order_problem(e),
        })?;
    Ok((StatusCode::ACCEPTED, Json(CommandView::submitted(&command))))
}

/// The commands queue, reached through orders written by csms-ocpp, one pending command per
/// driver.
fn orders(app: &App) -> DriverOrders<'_> {
    DriverOrders {
        app,
        orders: OcppOrders {
            queue: app.services.commands.queue.clone(),
        },
    }
}

fn order_problem(e: OrderError) -> Problem {
    match e {
        // A value the station's version cannot carry (a 2.0.1 token too long for 1.6, ...).
        OrderError::Unwritable(why) => Problem::bad_request(why),
        OrderError::Command(e) => Problem::internal(&e),
        OrderError::Pending(ref p) => Problem::conflict(format!(
            "{e}: follow it at /v1/commands/{}/{} and send the next when it has ended",
            p.station, p.id
        )),
    }
}

/// Stop charging: sends the station a remote stop for a session of one of your tokens.
#[utoipa::path(
    post,
    path = "/v1/charging/stop",
    tag = "charging",
    request_body = StopCharging,
    responses(
        (status = 202, description = "Remote stop submitted", body = CommandView),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another command of yours is still pending", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stop(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<StopCharging>,
) -> Result<Accepted, Problem> {
    caller.require(Role::Driver)?;
    let station = station_id(&body.station_id)?;
    let not_found = || Problem::not_found("you have no such session");
    // The session tells the version: a 1.6 id is a number, a 2.0.1 id is the station's string.
    let session = crate::sessions::find_session(&app, &station, &body.transaction_id)
        .await?
        .ok_or_else(not_found)?;
    // The sessions consumer recorded whose token started it: no token read needed.
    if session.owner.as_deref() != Some(caller.subject()) {
        return Err(not_found());
    }
    // The transaction's own version: no lookup needed.
    let command = remote_charging::stop(
        &orders(&app),
        &station,
        &session.transaction,
        Some(caller.subject()),
        chrono::Utc::now(),
    )
    .await
    .map_err(order_problem)?;
    Ok((StatusCode::ACCEPTED, Json(CommandView::submitted(&command))))
}

/// A command you submitted, with the station's answer once it came.
#[utoipa::path(
    get,
    path = "/v1/commands/{stationId}/{commandId}",
    tag = "charging",
    params(
        ("stationId" = String, Path, description = "The station the command went to"),
        ("commandId" = String, Path, description = "The command's id"),
    ),
    responses(
        (status = 200, description = "The command", body = CommandView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such command of yours (yet: it is recorded within a second of its submission)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn command(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_station, raw_command)): Path<(String, String)>,
) -> Result<Json<CommandView>, Problem> {
    let station = station_id(&raw_station)?;
    let id = CommandId::parse(&raw_command).map_err(|e| Problem::bad_request(format!("commandId: {e}")))?;
    let record = app
        .services
        .commands
        .store
        .get(&station, &id)
        .await?
        .filter(|r| r.command.requested_by.as_deref() == Some(caller.subject()))
        .ok_or_else(|| Problem::not_found(format!("you have no command {id} for station {station}")))?;
    Ok(Json(CommandView::of(&record)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimToken {
    /// The claim code the token's organisation gave you (case, spaces and dashes do not matter).
    pub claim_code: String,
}

#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id_token: String,
    /// The 2.0.1 token type, when registered with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// Accepted, Blocked, Expired or Invalid, as of now.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<chrono::DateTime<chrono::Utc>>,
}

impl TokenView {
    fn of(r: &TokenRecord, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id_token: r.token.as_str().to_owned(),
            r#type: r.token.kind().map(|k| k.as_str().to_owned()),
            status: r.authorization(&r.token, now).status.as_str().to_owned(),
            expiry: r.expiry,
        }
    }
}

#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Your id tokens (cards, key fobs, app tokens), with their status now.
#[utoipa::path(
    get,
    path = "/v1/me/tokens",
    tag = "charging",
    params(PageQuery),
    responses(
        (status = 200, description = "Your tokens, by token id", body = TokenList),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_tokens(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<TokenList>, Problem> {
    caller.require(Role::Driver)?;
    let page = PageQuery::page(query)?;
    let now = chrono::Utc::now();
    let records = app
        .services
        .charging
        .tokens
        .list_by_owner(caller.subject(), &page)
        .await?;
    let tokens = records.items.iter().map(|r| TokenView::of(r, now)).collect();
    Ok(Json(TokenList {
        tokens,
        next_cursor: paging::next_cursor(records.next),
    }))
}

/// Make an id token yours by redeeming the claim code its organisation gave you: from then on
/// you start charging with it and its sessions are yours. A code binds once.
#[utoipa::path(
    post,
    path = "/v1/me/tokens",
    tag = "charging",
    request_body = ClaimToken,
    responses(
        (status = 201, description = "The token, now yours", body = TokenView),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a driver", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim code: wrong, spent, replaced or expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn claim_token(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<ClaimToken>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    caller.require(Role::Driver)?;
    let now = chrono::Utc::now();
    let record = token_registry::claim(&*app.services.charging.tokens, caller.subject(), &body.claim_code, now)
        .await
        .map_err(crate::operator_tokens::registry_problem)?;
    tracing::info!(subject = caller.subject(), "id token claimed");
    Ok((StatusCode::CREATED, Json(TokenView::of(&record, now))))
}
