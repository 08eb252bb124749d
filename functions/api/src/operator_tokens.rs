//! Operators manage the id tokens their organisation issues (cards, key fobs, app tokens) and
//! offer them to drivers with claim codes: a token is a driver's only once the driver redeems the
//! code (`POST /v1/me/tokens`). Every organisation has its own registry: a value another
//! organisation issued too is registered like a new one, and another organisation's token is
//! never read or changed (404). The domain's `token_registry` does the work.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use csms_domain::token_registry::{self, TokenChange, TokenRegistryError};
use csms_domain::{AuthorizationStatus, IdToken, IdTokenType, TokenRecord};
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::paging;
use crate::paging::PageQuery;
use crate::problem::{JsonBody, Problem};

pub(crate) fn registry_problem(e: TokenRegistryError) -> Problem {
    match e {
        TokenRegistryError::Unknown => Problem::not_found("your organisation has no such id token"),
        TokenRegistryError::UnknownClaim => Problem::not_found(e.to_string()),
        TokenRegistryError::NotAServiceToken => Problem::forbidden(e.to_string()),
        TokenRegistryError::Store(e) => e.into(),
    }
}

/// Tells a field sent as null (Some(None): remove it) from a field left out (None: keep it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    /// Up to 20 characters without a type (a 1.6 idTag, answered at both versions), up to 36
    /// with one; case does not matter.
    pub id_token: String,
    /// 2.0.1 IdTokenEnumType: Central, eMAID, ISO14443, ISO15693, KeyCode, Local, MacAddress,
    /// NoAuthorization. A typed token answers only that type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Accepted (default), Blocked, Expired or Invalid.
    pub status: Option<String>,
    /// From then on an Accepted token is Expired.
    pub expiry: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeToken {
    /// Accepted, Blocked, Expired or Invalid.
    pub status: Option<String>,
    /// Only null: unbinds the token from its driver. A driver binds a token to themselves by
    /// redeeming a claim code (`POST /v1/operator/tokens/{idToken}/claim-code`).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub owner: Option<Option<String>>,
    /// null removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expiry: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorTokenView {
    pub id_token: String,
    /// The 2.0.1 token type, when registered with one.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// As registered: Accepted, Blocked, Expired or Invalid.
    pub status: String,
    /// As a station would be answered now (an Accepted token past its expiry is Expired).
    pub effective_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<DateTime<Utc>>,
    /// The driver who redeemed its claim code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl OperatorTokenView {
    fn of(r: &TokenRecord) -> Self {
        Self {
            id_token: r.token.as_str().to_owned(),
            kind: r.token.kind().map(|k| k.as_str().to_owned()),
            status: r.status.as_str().to_owned(),
            effective_status: r.authorization(&r.token, Utc::now()).status.as_str().to_owned(),
            expiry: r.expiry,
            owner: r.owner.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorTokenPage {
    pub tokens: Vec<OperatorTokenView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn status(raw: &str) -> Result<AuthorizationStatus, Problem> {
    AuthorizationStatus::parse(raw)
        .ok_or_else(|| Problem::bad_request(format!("status {raw:?}: use Accepted, Blocked, Expired or Invalid")))
}

fn new_token(raw: &str, kind: Option<&str>) -> Result<IdToken, Problem> {
    let token = match kind {
        None => IdToken::parse_16(raw),
        Some(kind) => {
            let kind = IdTokenType::parse(kind).ok_or_else(|| {
                let types = IdTokenType::ALL.map(IdTokenType::as_str).join(", ");
                Problem::bad_request(format!("type {kind:?}: use {types}"))
            })?;
            IdToken::parse_201(raw, kind)
        }
    };
    token.map_err(|e| Problem::bad_request(format!("idToken: {e}")))
}

/// A token in a path: its key ignores type and case, so any type finds it.
fn path_token(raw: &str) -> Result<IdToken, Problem> {
    IdToken::parse_201(raw, IdTokenType::Central).map_err(|e| Problem::bad_request(format!("idToken: {e}")))
}

/// Your organisation's id tokens, by token.
#[utoipa::path(
    get,
    path = "/v1/operator/tokens",
    operation_id = "operator_tokens",
    tag = "operator",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of your organisation's tokens", body = OperatorTokenPage),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn tokens(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<OperatorTokenPage>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let page = PageQuery::page(query)?;
    let found = token_registry::list(&app.services, &organisation, &page)
        .await
        .map_err(registry_problem)?;
    Ok(Json(OperatorTokenPage {
        tokens: found.items.iter().map(OperatorTokenView::of).collect(),
        next_cursor: paging::next_cursor(found.next),
    }))
}

/// Register an id token for your organisation, or replace one it registered before (its driver,
/// if it has one, stays). Other organisations may issue the same value: each has its own.
#[utoipa::path(
    post,
    path = "/v1/operator/tokens",
    operation_id = "register_token",
    tag = "operator",
    request_body = NewToken,
    responses(
        (status = 201, description = "Registered", body = OperatorTokenView),
        (status = 200, description = "Your organisation's token, replaced", body = OperatorTokenView),
        (status = 400, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn register(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<OperatorTokenView>), Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let record = TokenRecord {
        token: new_token(&body.id_token, body.kind.as_deref())?,
        status: body
            .status
            .as_deref()
            .map(status)
            .transpose()?
            .unwrap_or(AuthorizationStatus::Accepted),
        expiry: body.expiry,
        group: None,
        owner: None,
        organisation: Some(organisation.clone()),
    };
    let (stored, created) = token_registry::put(&*app.services.charging.tokens, Some(&organisation), record)
        .await
        .map_err(registry_problem)?;
    let code = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, Json(OperatorTokenView::of(&stored))))
}

/// One of your organisation's id tokens.
#[utoipa::path(
    get,
    path = "/v1/operator/tokens/{idToken}",
    operation_id = "operator_token",
    tag = "operator",
    params(("idToken" = String, Path, description = "The token (case does not matter)")),
    responses(
        (status = 200, description = "The token", body = OperatorTokenView),
        (status = 400, description = "Malformed token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn token(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OperatorTokenView>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let record = token_registry::get(&app.services, &organisation, &path_token(&raw)?)
        .await
        .map_err(registry_problem)?;
    Ok(Json(OperatorTokenView::of(&record)))
}

/// Change one of your organisation's id tokens: status, expiry, or unbind it from its driver.
/// Fields left out stay.
#[utoipa::path(
    patch,
    path = "/v1/operator/tokens/{idToken}",
    operation_id = "change_token",
    tag = "operator",
    params(("idToken" = String, Path, description = "The token (case does not matter)")),
    request_body = ChangeToken,
    responses(
        (status = 200, description = "The token as changed", body = OperatorTokenView),
        (status = 400, description = "Invalid change", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<ChangeToken>,
) -> Result<Json<OperatorTokenView>, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let token = path_token(&raw)?;
    let release = match body.owner {
        None => false,
        Some(None) => true,
        Some(Some(_)) => {
            return Err(Problem::bad_request(
                "owner can only be removed (null): a driver binds a token to themselves by redeeming \
                 a claim code from POST /v1/operator/tokens/{idToken}/claim-code",
            ));
        }
    };
    let change = TokenChange {
        status: body.status.as_deref().map(status).transpose()?,
        expiry: body.expiry,
        release,
    };
    let record = token_registry::update(&app.services, &organisation, &token, change)
        .await
        .map_err(registry_problem)?;
    Ok(Json(OperatorTokenView::of(&record)))
}

/// Withdraw one of your organisation's id tokens: from now on it is unknown (Invalid). Stations'
/// local authorization lists change only with their next update.
#[utoipa::path(
    delete,
    path = "/v1/operator/tokens/{idToken}",
    operation_id = "delete_token",
    tag = "operator",
    params(("idToken" = String, Path, description = "The token (case does not matter)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<StatusCode, Problem> {
    let organisation = caller.organisation_of(&app).await?;
    token_registry::delete(&app.services, &organisation, &path_token(&raw)?)
        .await
        .map_err(registry_problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A claim code, shown this once: whoever redeems it owns the token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimCodeView {
    pub id_token: String,
    /// Hand it to the driver (with the card, by mail); they redeem it with `POST /v1/me/tokens`.
    pub claim_code: String,
    /// Until then; a newer code for the token replaces this one.
    pub expires_at: DateTime<Utc>,
}

/// Make a claim code for one of your organisation's id tokens, so that a driver can make it theirs.
/// The token becomes the driver's only when they redeem the code; a newer code replaces this one.
#[utoipa::path(
    post,
    path = "/v1/operator/tokens/{idToken}/claim-code",
    tag = "operator",
    params(("idToken" = String, Path, description = "The token (case does not matter)")),
    responses(
        (status = 201, description = "The code, shown this once", body = ClaimCodeView,
         headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "Malformed token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator of an organisation", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token in your organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn claim_code(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<(StatusCode, [(header::HeaderName, &'static str); 1], Json<ClaimCodeView>), Problem> {
    let organisation = caller.organisation_of(&app).await?;
    let record = token_registry::get(&app.services, &organisation, &path_token(&raw)?)
        .await
        .map_err(registry_problem)?;
    let (code, expires_at) = token_registry::offer(
        &*app.services.charging.tokens,
        Some(&organisation),
        &record.token,
        Utc::now(),
    )
    .await
    .map_err(registry_problem)?;
    let view = ClaimCodeView {
        id_token: record.token.as_str().to_owned(),
        claim_code: code.expose(),
        expires_at,
    };
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(view)))
}
