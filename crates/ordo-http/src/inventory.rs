//! `/api/v1/warehouses` and `/api/v1/stock`.

use crate::AppState;
use crate::customers::page_of;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, idempotency_key, post_once};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use ordo_app::Page;
use ordo_app::inventory::{
    self, MovementQuery, NewWarehouse, SetStock, StockLevel, StockLevels, StockMovement, Warehouse,
};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/warehouses", get(list_warehouses).post(create_warehouse))
        .route("/stock", get(stock_levels))
        .route("/stock/movements", get(stock_movements))
        .route("/stock/{warehouse}/{sku}", put(set_stock))
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
