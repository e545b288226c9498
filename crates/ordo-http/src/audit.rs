//! `/api/v1/audit`: the audit log, for admins.

use crate::AppState;
use crate::customers::page_of;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, QueryParams};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::audit::{self, AuditEntry, AuditFilter};
use ordo_app::events::{EventFeed, EventQuery};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit)).route("/events", get(event_feed))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "audit", params(EventQuery),
    responses((status = 200, body = EventFeed, description = "Domain events in order, for polling consumers"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn event_feed(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<EventQuery>,
) -> Result<Json<EventFeed>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| ordo_app::events::feed(tx, &query)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// e.g. `token:ci-bot` or `user:ana@example.com`.
    actor: Option<String>,
    /// catalog, customers, inventory, orders, users.
    area: Option<String>,
    /// Date or RFC 3339 time, inclusive.
    from: Option<String>,
    /// Date (whole day included) or RFC 3339 time, inclusive.
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    caller.require(Permission::AuditRead, "read the audit log")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    let filter = AuditFilter { actor: query.actor, area: query.area, from: query.from, to: query.to };
    Ok(Json(state.db.read(move |tx| audit::list(tx, &filter, page)).await?))
}
