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
use ordo_app::channels::{self, ChannelError};
use ordo_app::orders::{
    self, ApprovalInbox, ApprovalStepView, CancelOrder, Decision, MergeOrders, NewOrder, Order, OrderError,
    OrderEvents, OrderFilter, OrderPatch, Placed, QueueCounts, ReasonInput, SplitOrder, SplitResult,
};
use ordo_app::{Ctx, db::Tx};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list_orders).post(place_order))
        .route("/orders/{id}", get(get_order).patch(edit_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/orders/{id}/events", get(order_events))
        .route("/orders/{id}/approve", post(approve_order))
        .route("/orders/{id}/reject", post(reject_order))
        .route("/orders/{id}/hold", post(hold_order))
        .route("/orders/{id}/release", post(release_order))
        .route("/orders/{id}/submit", post(submit_order))
        .route("/orders/{id}/split", post(split_order))
        .route("/orders/{id}/approvals", get(order_approvals))
        .route("/orders/merge", post(merge_orders))
        .route("/approvals", get(approval_inbox))
        .route("/queues", get(queues))
}

/// The list's filters and paging, documented for the query string. (Kept flat: serde's
/// `flatten` would hand numbers over as text and refuse `customer_id=5`.)
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OrderListQuery {
    /// draft, pending_approval, on_hold, confirmed, cancelled.
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
    /// The department queue rules routed the order to.
    department: Option<String>,
    /// The customer's group, region or account salesperson (e-mail), as they are now.
    customer_group: Option<String>,
    region: Option<String>,
    salesperson: Option<String>,
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
    let (ctx, partner) = caller.staff_or_partner(Permission::OrdersCreate, "create orders")?;
    if body.value.lines.iter().flatten().any(|line| line.unit_price.is_some()) {
        caller.require(Permission::PricesOverride, "override prices")?;
    }
    let key = idempotency_key(&headers, &caller, "orders", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    let response = post_once(&state, key, &ctx, move |tx| {
        let placed = match &partner {
            Some(partner) => channels::place_partner_order(tx, &work_ctx, partner, &input),
            None => orders::place_order(tx, &work_ctx, &input).map_err(ChannelError::from),
        };
        placed.map(placed_response)
    })
    .await?;
    if response.status() == StatusCode::CREATED && !response.headers().contains_key("idempotent-replayed") {
        metrics::counter!("orders_placed_total").increment(1);
    }
    Ok(response)
}

/// 201 for a new order, 200 for the one already placed under the same reference.
pub(crate) fn placed_response(placed: Placed) -> (StatusCode, Order) {
    match placed {
        Placed::Created(order) => (StatusCode::CREATED, order),
        Placed::Existing(order) => (StatusCode::OK, order),
    }
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderListQuery),
    responses((status = 200, body = Page<Order>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_orders(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<OrderListQuery>,
) -> Result<Json<Page<Order>>, ApiError> {
    let (_, partner) = caller.staff_or_partner(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    let mut filter = OrderFilter {
        status: query.status,
        payment_status: query.payment_status,
        fulfillment_status: query.fulfillment_status,
        customer_id: query.customer_id,
        channel: query.channel,
        q: query.q,
        created_from: query.created_from,
        created_to: query.created_to,
        sort: query.sort,
        department: query.department,
        customer_group: query.customer_group,
        region: query.region,
        salesperson: query.salesperson,
    };
    if let Some(partner) = partner {
        filter.channel = Some(partner.channel);
    }
    Ok(Json(state.db.read(move |tx| orders::list_orders(tx, &filter, page)).await?))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)),
    responses((status = 200, body = Order, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, partner) = caller.staff_or_partner(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    let order = state
        .db
        .read(move |tx| match &partner {
            Some(partner) => channels::partner_order(tx, partner, id),
            None => orders::get_order(tx, id),
        })
        .await?;
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
    let (ctx, partner) = caller.staff_or_partner(Permission::OrdersCancel, "cancel orders")?;
    let id = path_id(&id, "order")?;
    let expected = if_match(&headers)?;
    let (input, hash) = (body.value, body.hash);
    let key = idempotency_key(&headers, &caller, &format!("orders/{id}/cancel"), &hash)?;
    let work_ctx = ctx.clone();
    let response = post_once(&state, key, &ctx, move |tx| {
        if let Some(partner) = &partner {
            channels::partner_order(tx, partner, id)?;
        }
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

/// Runs an action on one order at most once per `Idempotency-Key`, answering with the order.
async fn act_on_order<F>(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    headers: &HeaderMap,
    hash: &str,
    (action, ctx): (&str, Ctx),
    mut work: F,
) -> Result<Response, ApiError>
where
    F: FnMut(&mut dyn Tx, &Ctx, i64, Option<i64>) -> Result<Order, OrderError> + Send + 'static,
{
    let id = path_id(raw_id, "order")?;
    let expected = if_match(headers)?;
    let key = idempotency_key(headers, caller, &format!("orders/{id}/{action}"), hash)?;
    let work_ctx = ctx.clone();
    post_once(state, key, &ctx, move |tx| work(tx, &work_ctx, id, expected).map(|order| (StatusCode::OK, order))).await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/approve", tag = "approvals", request_body(content = Decision, description = "Optional comment"),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "Step approved; confirmed after the last one"),
        (status = 403, body = Problem, description = "The caller's role is not the one the current step waits for"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<Decision>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersApprove, "approve orders")?;
    let (input, roles) = (body.value, vec![caller.0.role]);
    act_on_order(&state, &caller, &id, &headers, &body.hash, ("approve", ctx), move |tx, ctx, id, expected| {
        ordo_app::approvals::approve_order(tx, ctx, &roles, id, expected, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/reject", tag = "approvals", request_body = Decision,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "Returned to draft for editing, or cancelled with `cancel: true`"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem, description = "A comment is required")),
    security(("bearer" = [])))]
pub async fn reject_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<Decision>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersApprove, "reject orders")?;
    let (input, roles) = (body.value, vec![caller.0.role]);
    act_on_order(&state, &caller, &id, &headers, &body.hash, ("reject", ctx), move |tx, ctx, id, expected| {
        ordo_app::approvals::reject_order(tx, ctx, &roles, id, expected, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/hold", tag = "orders", request_body = ReasonInput,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "On hold until released"), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn hold_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReasonInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersEdit, "hold orders")?;
    let input = body.value;
    act_on_order(&state, &caller, &id, &headers, &body.hash, ("hold", ctx), move |tx, ctx, id, expected| {
        orders::hold_order(tx, ctx, id, expected, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/release", tag = "orders", request_body = ReasonInput,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "Every hold lifted (the reason is recorded); waits for approval or is confirmed"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn release_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReasonInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersRelease, "release held orders")?;
    let input = body.value;
    act_on_order(&state, &caller, &id, &headers, &body.hash, ("release", ctx), move |tx, ctx, id, expected| {
        orders::release_order(tx, ctx, id, expected, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/submit", tag = "orders",
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "Checked and routed again: on hold, pending approval or confirmed"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)),
    security(("bearer" = [])))]
pub async fn submit_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersCreate, "submit orders")?;
    act_on_order(&state, &caller, &id, &headers, "", ("submit", ctx), move |tx, ctx, id, expected| {
        orders::submit_order(tx, ctx, id, expected)
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/orders/{id}", tag = "orders", request_body = OrderPatch,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "ETag from a GET; 412 if the order changed since")),
    responses((status = 200, body = Order, headers(("ETag" = String)), description = "Edited, re-reserved and checked again"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not editable in its status, or not enough stock for the new lines"),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn edit_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<OrderPatch>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersEdit, "edit orders")?;
    if body.value.lines.iter().flatten().any(|line| line.unit_price.is_some()) {
        caller.require(Permission::PricesOverride, "override prices")?;
    }
    let id = path_id(&id, "order")?;
    let expected = if_match(&headers)?;
    let patch = body.value;
    let order = state.db.write(move |tx| orders::edit_order(tx, &ctx, id, expected, &patch)).await?;
    Ok(with_etag(StatusCode::OK, &order, order.version))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/split", tag = "orders", request_body = SplitOrder,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = SplitResult, description = "The order left behind and the new one"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn split_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<SplitOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersEdit, "split orders")?;
    let id = path_id(&id, "order")?;
    let expected = if_match(&headers)?;
    let key = idempotency_key(&headers, &caller, &format!("orders/{id}/split"), &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        orders::split_order(tx, &work_ctx, id, expected, &input).map(|r| (StatusCode::CREATED, r))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/merge", tag = "orders", request_body = MergeOrders,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Order, description = "The merged order (the oldest); the others are cancelled with `merged_into`"),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn merge_orders(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<MergeOrders>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::OrdersEdit, "merge orders")?;
    let key = idempotency_key(&headers, &caller, "orders/merge", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| orders::merge_orders(tx, &work_ctx, &input).map(|o| (StatusCode::OK, o)))
        .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    /// Only `pending` (the default) is supported: the steps waiting for the caller now.
    status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals", params(InboxQuery),
    responses((status = 200, body = ApprovalInbox, description = "Steps waiting for the caller's role, oldest first"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn approval_inbox(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<InboxQuery>,
) -> Result<Json<ApprovalInbox>, ApiError> {
    caller.require(Permission::Read, "read")?;
    if query.status.as_deref().is_some_and(|s| s != "pending") {
        return Err(ApiError::Invalid(ordo_domain::Invalid::field("status", "only pending is supported")));
    }
    let roles = vec![caller.0.role];
    Ok(Json(state.db.read(move |tx| ordo_app::approvals::approval_inbox(tx, &roles)).await?))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/approvals", tag = "approvals", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ApprovalStepView>, description = "Every approval step, all rounds"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn order_approvals(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<ApprovalStepView>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| ordo_app::approvals::approval_history(tx, id)).await?))
}

#[utoipa::path(get, path = "/api/v1/queues", tag = "orders",
    responses((status = 200, body = QueueCounts, description = "Work waiting in each department's queue (counts stop at 1,000)")),
    security(("bearer" = [])))]
pub async fn queues(State(state): State<AppState>, caller: Caller) -> Result<Json<QueueCounts>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let roles = vec![caller.0.role];
    Ok(Json(state.db.read(move |tx| orders::queue_counts(tx, &roles)).await?))
}
