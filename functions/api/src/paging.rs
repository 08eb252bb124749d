//! Cursor pagination as the API shows it: `?limit=&cursor=` in, `nextCursor` out (absent on the
//! last page). Every list route pages this way.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use csms_domain::page::MAX_LIMIT;
use csms_domain::{Cursor, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::problem::Problem;

/// The page a list request asks for: `limit` 1-100 (default 20), `cursor` the previous page's
/// `nextCursor`. A limit out of range is a 400, not silently changed.
pub fn page_request(limit: Option<usize>, cursor: Option<String>) -> Result<PageRequest, Problem> {
    let request = match limit {
        None => PageRequest::default(),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => PageRequest::first(n),
        Some(n) => return Err(Problem::bad_request(format!("limit must be 1 to {MAX_LIMIT}, not {n}"))),
    };
    match cursor {
        Some(c) if c.is_empty() || c.len() > 2048 => Err(Problem::bad_request("cursor is not one this API gave out")),
        other => Ok(request.after(other.map(Cursor::new))),
    }
}

/// A page's `nextCursor`, as the response carries it.
pub fn next_cursor(cursor: Option<Cursor>) -> Option<String> {
    cursor.map(|c| c.as_str().to_owned())
}

/// The query string of a list route that takes nothing but the page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1-100 (default 20).
    pub limit: Option<usize>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page such a query string asks for (400 when it is malformed or out of range).
    pub fn page(query: Result<Query<PageQuery>, QueryRejection>) -> Result<PageRequest, Problem> {
        let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
        page_request(query.limit, query.cursor)
    }
}
