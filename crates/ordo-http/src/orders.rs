//! `/api/v1/orders`.

use crate::AppState;
use crate::customers::page_of;
use crate::error::{ApiError, Problem};
use crate::extract::{
    Caller, JsonBody, OptionalJsonBody, QueryParams, idempotency_key, if_match, path_id, post_once, with_etag,
};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::orders::{self, CancelOrder, NewOrder, Order, OrderEvents, OrderFilter, Placed};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders).post(place_order))
        .route("/orders/{id}", get(get_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/orders/{id}/events", get(order_events))
}

/// The list's filters and paging, documented for the query string. (Kept flat: serde's
/// `flatten` would hand numbers over as text and refuse `customer_id=5`.)
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OrderListQuery {
    /// confirmed, cancelled.
    status: Option<String>,
    /// unpaid, partially_paid, paid, refunded.
    payment_status: Option<String>,
    /// unfulfilled, partially_shipped, shipped, delivered.
    fulfillment_status: Option<String>,
    customer_id: Option<i64>,
    channel: Option<String>,
    /// Matches order number, external reference, customer code or name, or a SKU.
    q: Option<String>,
    /// Date or RFC 3339 time, inclusive.
    created_from: Option<String>,
    /// Date (whole day included) or RFC 3339 time, inclusive.
    created_to: Option<String>,
    /// newest (default), oldest, total_desc, total_asc.
    sort: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first response")),
    responses(
        (status = 201, body = Order, description = "Placed and confirmed: stock is reserved for every line"),
        (status = 200, body = Order, description = "An order with this channel and external_ref already exists"),
        (status = 409, body = Problem, description = "Insufficient stock: `short` lists each SKU"),
        (status = 422, body = Problem, description = "Invalid fields: `errors` lists each one")),
    security(("bearer" = [])))]
pub async fn place_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersCreate, "create orders")?;
    let key = idempotency_key(&headers, &caller, "orders", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        orders::place_order(tx, &work_ctx, &input).map(|placed| match placed {
            Placed::Created(order) => (StatusCode::CREATED, order),
            Placed::Existing(order) => (StatusCode::OK, order),
        })
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderListQuery),
    responses((status = 200, body = Page<Order>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<OrderListQuery>,
) -> Result<Json<Page<Order>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    let filter = OrderFilter {
        status: query.status,
        payment_status: query.payment_status,
        fulfillment_status: query.fulfillment_status,
        customer_id: query.customer_id,
        channel: query.channel,
        q: query.q,
        created_from: query.created_from,
        created_to: query.created_to,
        sort: query.sort,
    };
    Ok(Json(state.db.read(move |tx| orders::list_orders(tx, &filter, page)).await?))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = Order, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    let order = state.db.read(move |tx| orders::get_order(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &order, order.version))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", request_body(content = CancelOrder, description = "Optional"),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "Cancelled; the reservation is released"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not allowed in the current status: `current_status` and `allowed_actions` say why"),
        (status = 412, body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<CancelOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersCancel, "cancel orders")?;
    let id = path_id(&id, "order")?;
    let expected = if_match(&headers)?;
    let (input, hash) = (body.value, body.hash);
    let key = idempotency_key(&headers, &caller, &format!("orders/{id}/cancel"), &hash)?;
    let work_ctx = ctx.clone();
    let response = post_once(&state, key, &ctx, move |tx| {
        orders::cancel_order(tx, &work_ctx, id, expected, &input).map(|order| (StatusCode::OK, order))
    })
    .await?;
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/events", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = OrderEvents), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn order_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderEvents>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| orders::order_events(tx, id)).await?))
}
