//! Admins manage organisations and who operates for them. Every route needs the admin role (403
//! otherwise). A membership takes effect on the operator's next request: operator routes read it
//! on every call ([`Caller::organisation_of`]), not from the token.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Utc};
use csms_auth::Role;
use csms_domain::organisation::{self, OrganisationError};
use csms_domain::{Membership, Organisation, OrganisationId, Subject};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use crate::App;
use crate::caller::Caller;
use crate::paging;
use crate::paging::PageQuery;
use crate::problem::{JsonBody, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewOrganisation {
    /// 1-64 of A-Z a-z 0-9 . _ - ; stations name their organisation by it. Cannot change.
    pub id: String,
    /// Display name, 1-200 characters.
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationChange {
    /// The new display name, 1-200 characters.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl OrganisationView {
    fn of(o: &Organisation) -> Self {
        Self {
            id: o.id.as_str().to_owned(),
            name: o.name.clone(),
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationList {
    pub organisations: Vec<OrganisationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorView {
    /// The operator's subject (`sub` of their access token).
    pub subject: String,
    pub organisation_id: String,
    /// When they became an operator of this organisation.
    pub since: DateTime<Utc>,
}

impl OperatorView {
    fn of(m: &Membership) -> Self {
        Self {
            subject: m.subject.as_str().to_owned(),
            organisation_id: m.organisation.as_str().to_owned(),
            since: m.since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperatorList {
    pub operators: Vec<OperatorView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

fn organisation_id(raw: &str) -> Result<OrganisationId, Problem> {
    OrganisationId::parse(raw).map_err(|e| Problem::bad_request(format!("organisationId {raw:?}: {e}")))
}

fn subject(raw: &str) -> Result<Subject, Problem> {
    Subject::parse(raw).map_err(|e| Problem::bad_request(format!("subject: {e}")))
}

impl From<OrganisationError> for Problem {
    fn from(e: OrganisationError) -> Self {
        match e {
            OrganisationError::AlreadyExists => Problem::conflict("an organisation with this id exists"),
            OrganisationError::UnknownOrganisation => Problem::not_found("no such organisation"),
            OrganisationError::Store(e) => e.into(),
        }
    }
}

/// Create an organisation.
#[utoipa::path(
    post,
    path = "/v1/admin/organisations",
    tag = "admin",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Created", body = OrganisationView,
         headers(("Location" = String, description = "The organisation's URL"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An organisation with this id exists", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_organisation(
    State(app): State<Arc<App>>,
    caller: Caller,
    JsonBody(body): JsonBody<NewOrganisation>,
) -> Result<(StatusCode, HeaderMap, Json<OrganisationView>), Problem> {
    caller.require(Role::Admin)?;
    let id = OrganisationId::parse(&body.id).map_err(|e| Problem::bad_request(format!("id: {e}")))?;
    let name = organisation::parse_name(&body.name).map_err(|e| Problem::bad_request(format!("name: {e}")))?;
    let created = organisation::create(&*app.services.organisations, id, name, Utc::now()).await?;
    let mut headers = HeaderMap::new();
    // Ids are URL-safe by construction.
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/admin/organisations/{}", created.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(OrganisationView::of(&created))))
}

/// Every organisation, by id.
#[utoipa::path(
    get,
    path = "/v1/admin/organisations",
    tag = "admin",
    params(PageQuery),
    responses(
        (status = 200, description = "Organisations, by id", body = OrganisationList),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn organisations(
    State(app): State<Arc<App>>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<OrganisationList>, Problem> {
    caller.require(Role::Admin)?;
    let page = PageQuery::page(query)?;
    let found = app.services.organisations.list(&page).await?;
    Ok(Json(OrganisationList {
        organisations: found.items.iter().map(OrganisationView::of).collect(),
        next_cursor: paging::next_cursor(found.next),
    }))
}

/// One organisation.
#[utoipa::path(
    get,
    path = "/v1/admin/organisations/{organisationId}",
    tag = "admin",
    params(("organisationId" = String, Path, description = "The organisation's id")),
    responses(
        (status = 200, description = "The organisation", body = OrganisationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn organisation(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<OrganisationView>, Problem> {
    caller.require(Role::Admin)?;
    let id = organisation_id(&raw)?;
    let found = app
        .services
        .organisations
        .get(&id)
        .await?
        .ok_or(OrganisationError::UnknownOrganisation)?;
    Ok(Json(OrganisationView::of(&found)))
}

/// Rename an organisation (its id never changes).
#[utoipa::path(
    patch,
    path = "/v1/admin/organisations/{organisationId}",
    tag = "admin",
    params(("organisationId" = String, Path, description = "The organisation's id")),
    request_body = OrganisationChange,
    responses(
        (status = 200, description = "The organisation as changed", body = OrganisationView),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_organisation(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody<OrganisationChange>,
) -> Result<Json<OrganisationView>, Problem> {
    caller.require(Role::Admin)?;
    let id = organisation_id(&raw)?;
    let name = organisation::parse_name(&body.name).map_err(|e| Problem::bad_request(format!("name: {e}")))?;
    let changed = organisation::rename(&*app.services.organisations, &id, &name).await?;
    Ok(Json(OrganisationView::of(&changed)))
}

/// The organisation's operators, by subject.
#[utoipa::path(
    get,
    path = "/v1/admin/organisations/{organisationId}/operators",
    tag = "admin",
    params(("organisationId" = String, Path, description = "The organisation's id"), PageQuery),
    responses(
        (status = 200, description = "Operators, by subject", body = OperatorList),
        (status = 400, description = "Malformed id, invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operators(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path(raw): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<OperatorList>, Problem> {
    caller.require(Role::Admin)?;
    let id = organisation_id(&raw)?;
    let page = PageQuery::page(query)?;
    let found = organisation::operators(&*app.services.organisations, &id, &page).await?;
    Ok(Json(OperatorList {
        operators: found.items.iter().map(OperatorView::of).collect(),
        next_cursor: paging::next_cursor(found.next),
    }))
}

/// Make someone an operator of the organisation (idempotent). An operator acts for one
/// organisation: this moves them out of any other. Takes effect on their next request.
#[utoipa::path(
    put,
    path = "/v1/admin/organisations/{organisationId}/operators/{subject}",
    tag = "admin",
    params(
        ("organisationId" = String, Path, description = "The organisation's id"),
        ("subject" = String, Path, description = "The user's subject (`sub` of their access token)"),
    ),
    responses(
        (status = 200, description = "The membership", body = OperatorView),
        (status = 400, description = "Malformed id or subject", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_operator(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_organisation, raw_subject)): Path<(String, String)>,
) -> Result<Json<OperatorView>, Problem> {
    caller.require(Role::Admin)?;
    let id = organisation_id(&raw_organisation)?;
    let subject = subject(&raw_subject)?;
    let membership = organisation::add_operator(&*app.services.organisations, &id, subject, Utc::now()).await?;
    Ok(Json(OperatorView::of(&membership)))
}

/// End someone's membership of the organisation (idempotent). It holds from their next request
/// on, even with a token issued before.
#[utoipa::path(
    delete,
    path = "/v1/admin/organisations/{organisationId}/operators/{subject}",
    tag = "admin",
    params(
        ("organisationId" = String, Path, description = "The organisation's id"),
        ("subject" = String, Path, description = "The user's subject (`sub` of their access token)"),
    ),
    responses(
        (status = 204, description = "They are not an operator of this organisation (any more)"),
        (status = 400, description = "Malformed id or subject", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_operator(
    State(app): State<Arc<App>>,
    caller: Caller,
    Path((raw_organisation, raw_subject)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    caller.require(Role::Admin)?;
    let id = organisation_id(&raw_organisation)?;
    let subject = subject(&raw_subject)?;
    organisation::remove_operator(&*app.services.organisations, &id, &subject).await?;
    Ok(StatusCode::NO_CONTENT)
}
