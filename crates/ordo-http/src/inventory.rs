//! `/api/v1/warehouses` and `/api/v1/stock`.

use crate::AppState;
use crate::customers::{PageQuery, page_of};
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, idempotency_key, path_id, post_once};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::inventory::counts::{CountedLines, NewCount, StockCount};
use ordo_app::inventory::supply::{
    self, Atp, OrderSuggestions, PurchaseOrders, ReplenishmentInput, Suggestion, Suggestions,
};
use ordo_app::inventory::{
    self, MovementQuery, NewTransfer, NewWarehouse, ReceiveTransfer, SetStock, StockLevel, StockLevels, StockMovement,
    Transfer, Warehouse, counts, transfers,
};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/warehouses", get(list_warehouses).post(create_warehouse))
        .route("/warehouses/{code}", axum::routing::patch(update_warehouse))
        .route("/stock", get(stock_levels))
        .route("/stock/movements", get(stock_movements))
        .route("/stock/{warehouse}/{sku}", put(set_stock))
        .route("/stock/transfers", get(list_transfers).post(create_transfer))
        .route("/stock/transfers/{id}", get(get_transfer))
        .route("/stock/transfers/{id}/ship", post(ship_transfer))
        .route("/stock/transfers/{id}/receive", post(receive_transfer))
        .route("/stock/counts", get(list_counts).post(start_count))
        .route("/stock/counts/{id}", get(get_count))
        .route("/stock/counts/{id}/lines", put(enter_counts))
        .route("/stock/counts/{id}/post", post(post_count))
        .route("/atp", get(available_to_promise))
        .route("/replenishment/suggestions", get(replenishment_suggestions))
        .route("/replenishment/orders", post(order_suggestions))
        .route("/replenishment/{warehouse}/{sku}", put(set_replenishment))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AtpQuery {
    sku: String,
    /// Warehouse code; absent for all warehouses together.
    warehouse: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/atp", tag = "inventory", params(AtpQuery),
    responses((status = 200, body = Atp), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn available_to_promise(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AtpQuery>,
) -> Result<Json<Atp>, ApiError> {
    let ctx = caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| supply::atp(tx, &query.sku, query.warehouse.as_deref(), ctx.now)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SuggestionQuery {
    /// Warehouse code.
    warehouse: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/replenishment/suggestions", tag = "inventory", params(SuggestionQuery),
    responses((status = 200, body = Suggestions, description = "SKUs below their reorder point or short over their lead time"),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn replenishment_suggestions(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SuggestionQuery>,
) -> Result<Json<Suggestions>, ApiError> {
    let ctx = caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| supply::replenishment_suggestions(tx, query.warehouse.as_deref(), ctx.now)).await?))
}

#[utoipa::path(put, path = "/api/v1/replenishment/{warehouse}/{sku}", tag = "inventory", request_body = ReplenishmentInput,
    params(("warehouse" = String, Path), ("sku" = String, Path)),
    responses((status = 200, body = Suggestion, description = "The settings, with what they suggest now"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_replenishment(
    State(state): State<AppState>,
    caller: Caller,
    Path((warehouse, sku)): Path<(String, String)>,
    body: JsonBody<ReplenishmentInput>,
) -> Result<Json<Suggestion>, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "manage replenishment")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| supply::set_replenishment(tx, &ctx, &warehouse, &sku, &input)).await?))
}

#[utoipa::path(post, path = "/api/v1/replenishment/orders", tag = "inventory", request_body = OrderSuggestions,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PurchaseOrders, description = "Draft purchase orders, one per supplier and warehouse"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn order_suggestions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<OrderSuggestions>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PurchasingManage, "manage purchasing")?;
    let key = idempotency_key(&headers, &caller, "replenishment/orders", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        supply::order_suggestions(tx, &work_ctx, &input).map(|p| (StatusCode::CREATED, p))
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/stock/counts", tag = "inventory", request_body = NewCount,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = StockCount, description = "Expected quantities snapshotted"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn start_count(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewCount>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "count stock")?;
    let key = idempotency_key(&headers, &caller, "stock/counts", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| counts::start_count(tx, &work_ctx, &input).map(|c| (StatusCode::CREATED, c)))
        .await
}

#[utoipa::path(get, path = "/api/v1/stock/counts", tag = "inventory", params(PageQuery),
    responses((status = 200, body = Page<StockCount>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_counts(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<Page<StockCount>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| counts::list_counts(tx, page)).await?))
}

#[utoipa::path(get, path = "/api/v1/stock/counts/{id}", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 200, body = StockCount, description = "With the variance report"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_count(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StockCount>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "stock count")?;
    Ok(Json(state.db.read(move |tx| counts::get_count(tx, id)).await?))
}

#[utoipa::path(put, path = "/api/v1/stock/counts/{id}/lines", tag = "inventory", request_body = CountedLines,
    params(("id" = i64, Path)),
    responses((status = 200, body = StockCount), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The count is already posted"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn enter_counts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<CountedLines>,
) -> Result<Json<StockCount>, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "count stock")?;
    let id = path_id(&id, "stock count")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| counts::enter_counts(tx, &ctx, id, &input)).await?))
}

#[utoipa::path(post, path = "/api/v1/stock/counts/{id}/post", tag = "inventory",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = StockCount, description = "Variances booked as count_variance movements"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn post_count(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::StockPostCounts, "post stock counts")?;
    let id = path_id(&id, "stock count")?;
    let key = idempotency_key(&headers, &caller, &format!("stock/counts/{id}/post"), "")?;
    let work_ctx = ctx.clone();
    post_once(&state, key, &ctx, move |tx| counts::post_count(tx, &work_ctx, id).map(|c| (StatusCode::OK, c))).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TransferQuery {
    /// draft, shipped, partially_received, received, cancelled.
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/stock/transfers", tag = "inventory", request_body = NewTransfer,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Transfer, description = "A draft: nothing moves until it is shipped"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_transfer(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewTransfer>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "move stock")?;
    let key = idempotency_key(&headers, &caller, "stock/transfers", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        transfers::create_transfer(tx, &work_ctx, &input).map(|t| (StatusCode::CREATED, t))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/stock/transfers", tag = "inventory", params(TransferQuery),
    responses((status = 200, body = Page<Transfer>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_transfers(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TransferQuery>,
) -> Result<Json<Page<Transfer>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| transfers::list_transfers(tx, query.status.as_deref(), page)).await?))
}

#[utoipa::path(get, path = "/api/v1/stock/transfers/{id}", tag = "inventory", params(("id" = i64, Path)),
    responses((status = 200, body = Transfer), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Transfer>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "transfer")?;
    Ok(Json(state.db.read(move |tx| transfers::get_transfer(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/stock/transfers/{id}/ship", tag = "inventory",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Transfer, description = "Stock left the source and is in transit"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Not a draft, or not enough available at the source (`short`)")),
    security(("bearer" = [])))]
pub async fn ship_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "move stock")?;
    let id = path_id(&id, "transfer")?;
    let key = idempotency_key(&headers, &caller, &format!("stock/transfers/{id}/ship"), "")?;
    let work_ctx = ctx.clone();
    post_once(&state, key, &ctx, move |tx| transfers::ship_transfer(tx, &work_ctx, id).map(|t| (StatusCode::OK, t)))
        .await
}

#[utoipa::path(post, path = "/api/v1/stock/transfers/{id}/receive", tag = "inventory", request_body = ReceiveTransfer,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Transfer, description = "Received fully, partly, or closed with the rest recorded as lost"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn receive_transfer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReceiveTransfer>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "move stock")?;
    let id = path_id(&id, "transfer")?;
    let key = idempotency_key(&headers, &caller, &format!("stock/transfers/{id}/receive"), &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        transfers::receive_transfer(tx, &work_ctx, id, &input).map(|t| (StatusCode::OK, t))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StockQuery {
    sku: Option<String>,
    /// Warehouse code.
    warehouse: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/warehouses", tag = "inventory", request_body = NewWarehouse,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Warehouse), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_warehouse(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewWarehouse>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::WarehousesManage, "manage warehouses")?;
    let key = idempotency_key(&headers, &caller, "warehouses", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        inventory::create_warehouse(tx, &work_ctx, &input).map(|w| (StatusCode::CREATED, w))
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/warehouses/{code}", tag = "inventory", request_body = inventory::WarehousePatch,
    params(("code" = String, Path, description = "Warehouse code")),
    responses((status = 200, body = Warehouse), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_warehouse(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: JsonBody<inventory::WarehousePatch>,
) -> Result<Json<Warehouse>, ApiError> {
    let ctx = caller.require(Permission::WarehousesManage, "manage warehouses")?;
    let patch = body.value;
    Ok(Json(state.db.write(move |tx| inventory::update_warehouse(tx, &ctx, &code, &patch)).await?))
}

#[utoipa::path(get, path = "/api/v1/warehouses", tag = "inventory",
    responses((status = 200, body = Vec<Warehouse>)), security(("bearer" = [])))]
pub async fn list_warehouses(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Warehouse>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(inventory::list_warehouses).await?))
}

#[utoipa::path(put, path = "/api/v1/stock/{warehouse}/{sku}", tag = "inventory", request_body = SetStock,
    params(("warehouse" = String, Path, description = "Warehouse code"), ("sku" = String, Path)),
    responses((status = 200, body = StockLevel), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Below the reserved quantity"), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_stock(
    State(state): State<AppState>,
    caller: Caller,
    Path((warehouse, sku)): Path<(String, String)>,
    body: JsonBody<SetStock>,
) -> Result<Json<StockLevel>, ApiError> {
    let ctx = caller.require(Permission::StockAdjust, "adjust stock")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| inventory::set_stock(tx, &ctx, &warehouse, &sku, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/stock", tag = "inventory", params(StockQuery),
    responses((status = 200, body = StockLevels)), security(("bearer" = [])))]
pub async fn stock_levels(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<StockQuery>,
) -> Result<Json<StockLevels>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state.db.read(move |tx| inventory::stock_levels(tx, query.sku.as_deref(), query.warehouse.as_deref())).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/stock/movements", tag = "inventory", params(MovementQuery),
    responses((status = 200, body = Page<StockMovement>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn stock_movements(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<MovementQuery>,
) -> Result<Json<Page<StockMovement>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| inventory::stock_movements(tx, &query, page)).await?))
}
