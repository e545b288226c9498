//! After-sales: returns (RMA), exchanges, claim remedies, feedback, tickets, the service
//! desk (queue, customer 360) and after-sales analytics.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, command, if_match, path_id, with_etag};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::aftersales::{
    self, AnalyticsQuery, ClaimRemedy, ClaimResolution, Customer360, CustomerNote, Feedback, NewClaimInput,
    NewExchange, NewFeedback, NewNote, NewReply, NewReturn, NewTicket, ReceiveReturn, RefundReturn, Return,
    ReturnDecision, ReturnList, ReturnQuery, ServiceAnalytics, ServiceQueue, ServiceSettings, Ticket, TicketList,
    TicketQuery, TicketUpdate,
};
use ordo_app::fulfillment::Claim;
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/service", get(get_settings).put(put_settings))
        .route("/orders/{id}/returns", post(request_return))
        .route("/orders/{id}/exchanges", post(request_exchange))
        .route("/orders/{id}/feedback", get(get_feedback).post(leave_feedback))
        .route("/returns", get(list_returns))
        .route("/returns/{id}", get(get_return))
        .route("/returns/{id}/approve", post(approve_return))
        .route("/returns/{id}/reject", post(reject_return))
        .route("/returns/{id}/receive", post(receive_return))
        .route("/returns/{id}/refund", post(refund_return))
        .route("/shipments/{id}/claims", post(open_claim))
        .route("/claims/{id}/remedy", post(resolve_claim))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{id}", get(get_ticket).patch(update_ticket))
        .route("/tickets/{id}/replies", post(reply))
        .route("/customers/{id}/360", get(customer_360))
        .route("/customers/{id}/notes", post(add_note))
        .route("/service/queue", get(service_queue))
        .route("/reports/service", get(analytics))
}

#[utoipa::path(get, path = "/api/v1/settings/service", tag = "after-sales",
    responses((status = 200, body = ServiceSettings)), security(("bearer" = [])))]
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> Result<Json<ServiceSettings>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(aftersales::service_settings).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/service", tag = "after-sales", request_body = ServiceSettings,
    responses((status = 200, body = ServiceSettings, description = "Return policies, ticket SLA hours, when tickets open by themselves")),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<ServiceSettings>,
) -> Result<Json<ServiceSettings>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| aftersales::update_service_settings(tx, &ctx, &input)).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "after-sales", request_body = NewReturn,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Return, description = "Approved, rejected (with the policy's reason) or waiting for review"),
        (status = 409, body = Problem, description = "Nothing on the order was shipped")),
    security(("bearer" = [])))]
pub async fn request_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewReturn>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::ReturnsManage, "handle returns")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/returns"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::request_return(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/exchanges", tag = "after-sales", request_body = NewExchange,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Return, description = "The return, with its replacement order once approved"),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn request_exchange(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewExchange>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::ReturnsManage, "handle returns")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/exchanges"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::request_exchange(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/returns", tag = "after-sales", params(ReturnQuery),
    responses((status = 200, body = ReturnList)), security(("bearer" = [])))]
pub async fn list_returns(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ReturnQuery>,
) -> Result<Json<ReturnList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| aftersales::list_returns(tx, &query)).await?))
}

#[utoipa::path(get, path = "/api/v1/returns/{id}", tag = "after-sales", params(("id" = i64, Path)),
    responses((status = 200, body = Return)), security(("bearer" = [])))]
pub async fn get_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Return>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "return")?;
    Ok(Json(state.db.read(move |tx| aftersales::get_return(tx, id)).await?))
}

/// One POST on a return, run once per idempotency key.
async fn on_return<I: Send + 'static>(
    state: AppState,
    caller: Caller,
    id: String,
    headers: HeaderMap,
    body: JsonBody<I>,
    (permission, action, verb): (Permission, &'static str, &'static str),
    work: fn(&mut dyn ordo_app::db::Tx, &ordo_app::Ctx, i64, &I) -> Result<Return, aftersales::AfterSalesError>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(permission, action)?;
    let id = path_id(&id, "return")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("returns/{id}/{verb}"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| work(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/approve", tag = "after-sales", request_body = ReturnDecision,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Return), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn approve_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReturnDecision>,
) -> Result<Response, ApiError> {
    let how = (Permission::ReturnsManage, "decide returns", "approve");
    on_return(state, caller, id, headers, body, how, aftersales::approve_return).await
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/reject", tag = "after-sales", request_body = ReturnDecision,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Return), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn reject_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReturnDecision>,
) -> Result<Response, ApiError> {
    let how = (Permission::ReturnsManage, "decide returns", "reject");
    on_return(state, caller, id, headers, body, how, aftersales::reject_return).await
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/receive", tag = "after-sales", request_body = ReceiveReturn,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Return, description = "Inspected: restocked units are sellable, the refund amount is known"),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn receive_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReceiveReturn>,
) -> Result<Response, ApiError> {
    let how = (Permission::ReturnsReceive, "receive returns", "receive");
    on_return(state, caller, id, headers, body, how, aftersales::receive_return).await
}

#[utoipa::path(post, path = "/api/v1/returns/{id}/refund", tag = "after-sales", request_body = RefundReturn,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Return, description = "Refunds issued (above the approval limit they wait for finance)"),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn refund_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<RefundReturn>,
) -> Result<Response, ApiError> {
    let how = (Permission::PaymentsRefund, "refund", "refund");
    on_return(state, caller, id, headers, body, how, aftersales::refund_return).await
}

#[utoipa::path(post, path = "/api/v1/shipments/{id}/claims", tag = "after-sales", request_body = NewClaimInput,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Claim, description = "The shipment's open claim (a second report returns the same one)")),
    security(("bearer" = [])))]
pub async fn open_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewClaimInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FulfillmentTrack, "handle claims")?;
    let id = path_id(&id, "shipment")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("shipments/{id}/claims"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::open_claim(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/claims/{id}/remedy", tag = "after-sales", request_body = ClaimRemedy,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ClaimResolution, description = "Reshipped (a free replacement order) or refunded"),
        (status = 409, body = Problem, description = "Already remedied, or the claim is closed")),
    security(("bearer" = [])))]
pub async fn resolve_claim(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ClaimRemedy>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PaymentsRefund, "make a customer whole")?;
    let id = path_id(&id, "claim")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("claims/{id}/remedy"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| aftersales::resolve_claim(tx, ctx, id, &input),
    )
    .await
}

/// An order's rating, or that it waits for one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedbackView {
    /// `not_yet` (not delivered), `awaiting` (待评价) or `rated` (已评价).
    pub status: String,
    pub feedback: Option<Feedback>,
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/feedback", tag = "after-sales", params(("id" = i64, Path)),
    responses((status = 200, body = FeedbackView)), security(("bearer" = [])))]
pub async fn get_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FeedbackView>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    let (order, feedback) = state
        .db
        .read(move |tx| -> Result<_, aftersales::AfterSalesError> {
            Ok((ordo_app::orders::get_order(tx, id)?, aftersales::get_feedback(tx, id)?))
        })
        .await?;
    let delivered = matches!(
        order.status,
        ordo_domain::orders::OrderStatus::Delivered | ordo_domain::orders::OrderStatus::Completed
    );
    let status = match (&feedback, delivered) {
        (Some(_), _) => "rated",
        (None, true) => "awaiting",
        (None, false) => "not_yet",
    };
    Ok(Json(FeedbackView { status: status.into(), feedback }))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/feedback", tag = "after-sales", request_body = NewFeedback,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Feedback, description = "A low rating opens a complaint ticket (`ticket_id`)"),
        (status = 409, body = Problem, description = "Not delivered yet, or rated already")),
    security(("bearer" = [])))]
pub async fn leave_feedback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewFeedback>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::TicketsManage, "record feedback")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/feedback"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::leave_feedback(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "after-sales", request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Ticket, description = "Due by the SLA hours of its priority")),
    security(("bearer" = [])))]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewTicket>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::TicketsManage, "handle tickets")?;
    let input = body.value;
    command(&state, &caller, &headers, "tickets".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        aftersales::create_ticket(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "after-sales", params(TicketQuery),
    responses((status = 200, body = TicketList, description = "Earliest due first; `overdue` marks open ones past their SLA")),
    security(("bearer" = [])))]
pub async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TicketQuery>,
) -> Result<Json<TicketList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| aftersales::list_tickets(tx, &query, Timestamp::now())).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "after-sales", params(("id" = i64, Path)),
    responses((status = 200, body = Ticket, headers(("ETag" = String)))), security(("bearer" = [])))]
pub async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "ticket")?;
    let ticket = state.db.read(move |tx| aftersales::get_ticket(tx, id, Timestamp::now())).await?;
    Ok(with_etag(StatusCode::OK, &ticket, ticket.version))
}

#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "after-sales", request_body = TicketUpdate,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Ticket), (status = 409, body = Problem), (status = 412, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TicketUpdate>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::TicketsManage, "handle tickets")?;
    let id = path_id(&id, "ticket")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let ticket = state.db.write(move |tx| aftersales::update_ticket(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &ticket, ticket.version))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/replies", tag = "after-sales", request_body = NewReply,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Ticket), (status = 409, body = Problem, description = "The ticket is closed")),
    security(("bearer" = [])))]
pub async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewReply>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::TicketsManage, "handle tickets")?;
    let id = path_id(&id, "ticket")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("tickets/{id}/replies"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::reply(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/360", tag = "after-sales", params(("id" = i64, Path)),
    responses((status = 200, body = Customer360)), security(("bearer" = [])))]
pub async fn customer_360(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Customer360>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "customer")?;
    Ok(Json(state.db.read(move |tx| aftersales::customer_360(tx, id, Timestamp::now())).await?))
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", tag = "after-sales", request_body = NewNote,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = CustomerNote)), security(("bearer" = [])))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewNote>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::TicketsManage, "note on customers")?;
    let id = path_id(&id, "customer")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("customers/{id}/notes"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| aftersales::add_customer_note(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/service/queue", tag = "after-sales",
    responses((status = 200, body = ServiceQueue)), security(("bearer" = [])))]
pub async fn service_queue(State(state): State<AppState>, caller: Caller) -> Result<Json<ServiceQueue>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| aftersales::service_queue(tx, Timestamp::now())).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/service", tag = "after-sales", params(AnalyticsQuery),
    responses((status = 200, body = ServiceAnalytics)), security(("bearer" = [])))]
pub async fn analytics(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AnalyticsQuery>,
) -> Result<Json<ServiceAnalytics>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let today = Date::of(Timestamp::now());
    Ok(Json(state.db.read(move |tx| aftersales::service_analytics(tx, &query, today)).await?))
}
