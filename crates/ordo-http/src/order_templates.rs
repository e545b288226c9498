//! `/api/v1/order-templates`, `/api/v1/orders/from-template/{id}`, `/api/v1/orders/{id}/reorder`:
//! an order saved by name, or a past order, placed again at today's prices.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, OptionalJsonBody, QueryParams, idempotency_key, path_id, post_once};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::orders::{
    self, FromTemplate, NewOrderTemplate, Order, OrderError, OrderTemplate, OrderTemplates, Placed, Quote, UseTemplate,
};
use ordo_app::{Ctx, db::Tx};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/order-templates", get(list_templates).post(create_template))
        .route("/order-templates/{id}", get(get_template).delete(delete_template))
        .route("/orders/from-template/{id}", post(order_from_template))
        .route("/orders/{id}/reorder", post(reorder))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TemplateQuery {
    /// This customer's templates and the shared ones; absent: all.
    customer_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/order-templates", tag = "orders", request_body = NewOrderTemplate,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = OrderTemplate), (status = 404, body = Problem, description = "`from_order_id` not found"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_template(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewOrderTemplate>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersCreate, "save order templates")?;
    let key = idempotency_key(&headers, &caller, "order-templates", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        orders::create_template(tx, &work_ctx, &input).map(|t| (StatusCode::CREATED, t))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/order-templates", tag = "orders", params(TemplateQuery),
    responses((status = 200, body = OrderTemplates)), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TemplateQuery>,
) -> Result<Json<OrderTemplates>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| orders::list_templates(tx, query.customer_id)).await?))
}

#[utoipa::path(get, path = "/api/v1/order-templates/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = OrderTemplate), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderTemplate>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order template")?;
    Ok(Json(state.db.read(move |tx| orders::get_template(tx, id)).await?))
}

#[utoipa::path(delete, path = "/api/v1/order-templates/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = caller.require(Permission::OrdersCreate, "delete order templates")?;
    let id = path_id(&id, "order template")?;
    state.db.write(move |tx| orders::delete_template(tx, &ctx, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 201 with the order placed, 200 with the existing one (same channel and external_ref), or
/// 200 with the quote of a dry run.
fn placed_or_quoted(result: FromTemplate) -> Result<(StatusCode, serde_json::Value), OrderError> {
    let json = |value: Result<serde_json::Value, serde_json::Error>| {
        value.map_err(|e| OrderError::Db(ordo_app::DbError::Other(e.to_string())))
    };
    Ok(match result {
        FromTemplate::Placed(placed) => match *placed {
            Placed::Created(order) => (StatusCode::CREATED, json(serde_json::to_value(order))?),
            Placed::Existing(order) => (StatusCode::OK, json(serde_json::to_value(order))?),
        },
        FromTemplate::Quoted(quote) => (StatusCode::OK, json(serde_json::to_value(quote))?),
    })
}

#[utoipa::path(post, path = "/api/v1/orders/from-template/{id}", tag = "orders",
    request_body(content = UseTemplate, description = "Optional for a customer's own template"),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Order, description = "Placed at today's prices"),
        (status = 200, body = Quote, description = "`dry_run`: today's prices and what each line could reserve"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "Insufficient stock"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn order_from_template(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<UseTemplate>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "order template")?;
    let scope = format!("orders/from-template/{id}");
    place_again(&state, &caller, &headers, body, &scope, move |tx, ctx, input| {
        orders::order_from_template(tx, ctx, id, input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/reorder", tag = "orders",
    request_body(content = UseTemplate, description = "Optional; `customer_id` is the past order's"),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Order, description = "The same SKUs and quantities, placed at today's prices"),
        (status = 200, body = Quote, description = "`dry_run`: today's prices and what each line could reserve"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "Insufficient stock"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn reorder(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<UseTemplate>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "order")?;
    let scope = format!("orders/{id}/reorder");
    place_again(&state, &caller, &headers, body, &scope, move |tx, ctx, input| orders::reorder(tx, ctx, id, input))
        .await
}

/// Places the lines again once per Idempotency-Key, or only quotes them on a dry run.
async fn place_again<F>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: JsonBody<UseTemplate>,
    scope: &str,
    work: F,
) -> Result<Response, ApiError>
where
    F: Fn(&mut dyn Tx, &Ctx, &UseTemplate) -> Result<FromTemplate, OrderError> + Copy + Send + 'static,
{
    let ctx = caller.require(Permission::OrdersCreate, "create orders")?;
    let key = idempotency_key(headers, caller, scope, &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    if input.dry_run {
        let quoted = state.db.read(move |tx| work(tx, &work_ctx, &input)).await?;
        return Ok(respond(placed_or_quoted(quoted)?));
    }
    post_once(state, key, &ctx, move |tx| placed_or_quoted(work(tx, &work_ctx, &input)?)).await
}

fn respond((status, body): (StatusCode, serde_json::Value)) -> Response {
    (status, Json(body)).into_response()
}
