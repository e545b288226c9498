//! The customer portal's two edges: the staff API that invites a customer's people
//! (`/api/v1/customers/{id}/portal-users`), and the portal's own pages under `/portal`
//! (`pages`), which call the `ordo_app::portal` use cases scoped to the signed-in buyer.

pub mod pages;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, command, path_id};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Json, Router};
use ordo_app::portal::{self, Invitation, NewPortalUser, PortalUser};
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/portal-users", get(list_portal_users).post(invite_portal_user))
        .route("/customers/{id}/portal-users/{user_id}", delete(disable_portal_user))
}

/// Where this server is reached, as the caller reached it: the start of invitation links.
pub(crate) fn public_base(headers: &HeaderMap) -> String {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let host = text("x-forwarded-host").or_else(|| text(header::HOST.as_str())).unwrap_or("127.0.0.1:8080");
    // Only a host name and port: a forged header must not turn the link into something else.
    let host: String =
        host.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')).collect();
    let scheme =
        if text("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https")) { "https" } else { "http" };
    format!("{scheme}://{host}")
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/portal-users", tag = "portal", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PortalUser>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_portal_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<PortalUser>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "customer")?;
    Ok(Json(state.db.read(move |tx| portal::portal_users(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/portal-users", tag = "portal", request_body = NewPortalUser,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Invitation), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn invite_portal_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewPortalUser>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CustomersManage, "invite portal users")?;
    let id = path_id(&id, "customer")?;
    let (input, base) = (body.value, public_base(&headers));
    let scope = format!("portal-users:{id}");
    command(&state, &caller, &headers, scope, &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        portal::invite(tx, ctx, id, &input, &base)
    })
    .await
}

#[utoipa::path(delete, path = "/api/v1/customers/{id}/portal-users/{user_id}", tag = "portal",
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 200, body = PortalUser), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn disable_portal_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Json<PortalUser>, ApiError> {
    let ctx = caller.require(Permission::CustomersManage, "switch off portal users")?;
    let (id, user_id) = (path_id(&id, "customer")?, path_id(&user_id, "portal user")?);
    Ok(Json(state.db.write(move |tx| portal::disable_portal_user(tx, &ctx, id, user_id)).await?))
}
