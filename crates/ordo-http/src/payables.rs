//! Supplier bills, supplier payments, payables aging, costs and order margins.

use crate::AppState;
use crate::customers::page_of;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, command, path_id};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::payables::{
    self, Bill, BillApproval, Cost, NewBill, NewCost, NewSupplierPayment, OrderMargin, PayablesAgingReport,
    SupplierPayment,
};
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use ordo_domain::{Currency, Invalid, Timestamp};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/purchase-orders/{id}/bills", post(enter_bill))
        .route("/supplier-bills", get(list_bills))
        .route("/supplier-bills/{id}", get(get_bill))
        .route("/supplier-bills/{id}/approve", post(approve_bill))
        .route("/supplier-bills/{id}/payments", post(pay_bill))
        .route("/supplier-bills/{id}/void", post(void_bill))
        .route("/reports/ap-aging", get(ap_aging))
        .route("/costs", get(list_costs).post(record_cost))
        .route("/costs/{id}", get(get_cost))
        .route("/orders/{id}/margin", get(order_margin))
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/bills", tag = "payables", request_body = NewBill,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Bill, description = "Entered: `open` when it matched, else `on_hold`"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The supplier's invoice is entered already, or the order is a draft"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn enter_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewBill>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "enter supplier bills")?;
    let id = path_id(&id, "purchase order")?;
    let input = body.value;
    let scope = format!("purchase-orders/{id}/bills");
    command(&state, &caller, &headers, scope, &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        payables::enter_bill(tx, ctx, id, &input)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BillQuery {
    /// on_hold, open, partially_paid, paid, voided.
    status: Option<String>,
    supplier_id: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/supplier-bills", tag = "payables", params(BillQuery),
    responses((status = 200, body = Page<Bill>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_bills(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<BillQuery>,
) -> Result<Json<Page<Bill>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| payables::list_bills(tx, query.status.as_deref(), query.supplier_id, page)).await?))
}

#[utoipa::path(get, path = "/api/v1/supplier-bills/{id}", tag = "payables", params(("id" = i64, Path)),
    responses((status = 200, body = Bill), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Bill>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "supplier bill")?;
    Ok(Json(state.db.read(move |tx| payables::get_bill(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/supplier-bills/{id}/approve", tag = "payables", request_body = BillApproval,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Bill), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<BillApproval>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "approve supplier bills")?;
    let id = path_id(&id, "supplier bill")?;
    let input = body.value;
    let scope = format!("supplier-bills/{id}/approve");
    command(&state, &caller, &headers, scope, &body.hash, ctx, StatusCode::OK, move |tx, ctx| {
        payables::approve_bill(tx, ctx, id, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/supplier-bills/{id}/payments", tag = "payables",
    request_body = NewSupplierPayment,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = SupplierPayment), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The bill is on hold, paid or voided"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn pay_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewSupplierPayment>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "pay suppliers")?;
    let id = path_id(&id, "supplier bill")?;
    let input = body.value;
    let scope = format!("supplier-bills/{id}/payments");
    command(&state, &caller, &headers, scope, &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        payables::pay_bill(tx, ctx, id, &input)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/supplier-bills/{id}/void", tag = "payables",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Bill), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn void_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "void supplier bills")?;
    let id = path_id(&id, "supplier bill")?;
    command(&state, &caller, &headers, format!("supplier-bills/{id}/void"), "", ctx, StatusCode::OK, move |tx, ctx| {
        payables::void_bill(tx, ctx, id)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ApAgingQuery {
    /// ISO 4217; default CNY.
    pub currency: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/ap-aging", tag = "payables", params(ApAgingQuery),
    responses((status = 200, body = PayablesAgingReport), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn ap_aging(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ApAgingQuery>,
) -> Result<Json<PayablesAgingReport>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let as_of = Date::field("as_of", query.as_of.as_deref()).map_err(|e| Invalid(vec![e]))?;
    let currency = Currency::field("currency", query.currency.as_deref()).map_err(|e| Invalid(vec![e]))?;
    let (currency, now) = (currency.unwrap_or(Currency::CNY), Timestamp::now());
    Ok(Json(
        state
            .db
            .read(move |tx| {
                let as_of = match as_of {
                    Some(day) => day,
                    None => ordo_app::reports::sales::today(tx, now)?,
                };
                payables::payables_aging(tx, currency, as_of)
            })
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/costs", tag = "payables", request_body = NewCost,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Cost, description = "Recorded and shared over the order lines"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn record_cost(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewCost>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "record costs")?;
    let input = body.value;
    command(&state, &caller, &headers, "costs".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        payables::record_cost(tx, ctx, &input)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CostQuery {
    /// Only costs shared to this order.
    order_id: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/costs", tag = "payables", params(CostQuery),
    responses((status = 200, body = Page<Cost>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_costs(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<CostQuery>,
) -> Result<Json<Page<Cost>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| payables::list_costs(tx, query.order_id, page)).await?))
}

#[utoipa::path(get, path = "/api/v1/costs/{id}", tag = "payables", params(("id" = i64, Path)),
    responses((status = 200, body = Cost), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_cost(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Cost>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "cost")?;
    Ok(Json(state.db.read(move |tx| payables::get_cost(tx, id)).await?))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/margin", tag = "payables", params(("id" = i64, Path)),
    responses((status = 200, body = OrderMargin), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn order_margin(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderMargin>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| payables::order_margin(tx, id)).await?))
}
