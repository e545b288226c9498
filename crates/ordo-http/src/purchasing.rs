//! `/api/v1/suppliers` and `/api/v1/purchase-orders`.

use crate::AppState;
use crate::customers::page_of;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, idempotency_key, path_id, post_once};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::purchasing::{
    self, NewPurchaseOrder, NewSupplier, PurchaseOrder, ReceivePurchase, Supplier, SupplierList,
};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/suppliers", get(list_suppliers).post(create_supplier))
        .route("/suppliers/{id}", get(get_supplier))
        .route("/purchase-orders", get(list_purchase_orders).post(create_purchase_order))
        .route("/purchase-orders/{id}", get(get_purchase_order))
        .route("/purchase-orders/{id}/send", post(send_purchase_order))
        .route("/purchase-orders/{id}/receive", post(receive_purchase_order))
}

#[utoipa::path(post, path = "/api/v1/suppliers", tag = "purchasing", request_body = NewSupplier,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Supplier), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_supplier(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewSupplier>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "manage purchasing")?;
    let key = idempotency_key(&headers, &caller, "suppliers", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        purchasing::create_supplier(tx, &work_ctx, &input).map(|s| (StatusCode::CREATED, s))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/suppliers", tag = "purchasing",
    responses((status = 200, body = SupplierList)), security(("bearer" = [])))]
pub async fn list_suppliers(State(state): State<AppState>, caller: Caller) -> Result<Json<SupplierList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(purchasing::list_suppliers).await?))
}

#[utoipa::path(get, path = "/api/v1/suppliers/{id}", tag = "purchasing", params(("id" = i64, Path)),
    responses((status = 200, body = Supplier), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_supplier(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Supplier>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "supplier")?;
    Ok(Json(state.db.read(move |tx| purchasing::get_supplier(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/purchase-orders", tag = "purchasing", request_body = NewPurchaseOrder,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PurchaseOrder, description = "A draft"), (status = 403, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewPurchaseOrder>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "manage purchasing")?;
    let key = idempotency_key(&headers, &caller, "purchase-orders", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        purchasing::create_purchase_order(tx, &work_ctx, &input).map(|p| (StatusCode::CREATED, p))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PurchaseOrderQuery {
    /// draft, sent, partially_received, received, cancelled.
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/purchase-orders", tag = "purchasing", params(PurchaseOrderQuery),
    responses((status = 200, body = Page<PurchaseOrder>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_purchase_orders(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PurchaseOrderQuery>,
) -> Result<Json<Page<PurchaseOrder>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| purchasing::list_purchase_orders(tx, query.status.as_deref(), page)).await?))
}

#[utoipa::path(get, path = "/api/v1/purchase-orders/{id}", tag = "purchasing", params(("id" = i64, Path)),
    responses((status = 200, body = PurchaseOrder), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PurchaseOrder>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "purchase order")?;
    Ok(Json(state.db.read(move |tx| purchasing::get_purchase_order(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/send", tag = "purchasing",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = PurchaseOrder), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn send_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "manage purchasing")?;
    let id = path_id(&id, "purchase order")?;
    let key = idempotency_key(&headers, &caller, &format!("purchase-orders/{id}/send"), "")?;
    let work_ctx = ctx.clone();
    post_once(&state, key, &ctx, move |tx| {
        purchasing::send_purchase_order(tx, &work_ctx, id).map(|p| (StatusCode::OK, p))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/purchase-orders/{id}/receive", tag = "purchasing", request_body = ReceivePurchase,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = PurchaseOrder, description = "On hand raised; moving-average cost updated"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn receive_purchase_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReceivePurchase>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "receive goods")?;
    let id = path_id(&id, "purchase order")?;
    let key = idempotency_key(&headers, &caller, &format!("purchase-orders/{id}/receive"), &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        purchasing::receive_purchase_order(tx, &work_ctx, id, &input).map(|p| (StatusCode::OK, p))
    })
    .await
}
