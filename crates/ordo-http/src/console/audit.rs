//! The audit log page, for those allowed to read it.

use super::session::Staff;
use super::{Frame, failed, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use ordo_app::audit::{self, AuditEntry, AuditFilter};
use ordo_app::{Page, PageRequest};
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Frame,
    filter: AuditFilter,
    entries: Page<AuditEntry>,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(filter): Query<AuditFilter>,
) -> Response {
    if let Err(page) = staff.require(Permission::AuditRead) {
        return page;
    }
    let query = filter.clone();
    let result = state.db.read(move |tx| audit::list(tx, &query, PageRequest { limit: 200, before_id: None })).await;
    let (entries, error) = match result {
        Ok(entries) => (entries, None),
        Err(audit::AuditError::Invalid(invalid)) => {
            (Page { items: Vec::new(), next_cursor: None }, Some(invalid.to_string()))
        }
        Err(error) => return failed(&staff, error.into()),
    };
    show(&AuditPage { page: Frame::new(&staff, "audit"), filter, entries, error }, &staff, &headers)
}
