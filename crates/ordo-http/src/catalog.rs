//! `/api/v1/products`, `/api/v1/price-lists` and the tax rules.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, idempotency_key, if_match, path_id, post_once, with_etag};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use ordo_app::catalog::{
    self, NewPriceList, NewProduct, PriceList, Product, ProductPatch, SetPrice, TaxRules, TaxRulesInput,
};
use ordo_app::{Page, PageRequest};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{id}", get(get_product).patch(update_product))
        .route("/price-lists", get(list_price_lists).post(create_price_list))
        .route("/price-lists/{code}/items/{sku}", put(set_list_price))
        .route("/settings/tax-rules", get(get_tax_rules).put(put_tax_rules))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ProductQuery {
    /// Matches SKU or name, case-insensitively.
    q: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", request_body = NewProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses((status = 201, body = Product), (status = 409, body = Problem, description = "SKU taken"),
        (status = 422, body = Problem, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewProduct>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    let key = idempotency_key(&headers, &caller, "products", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        catalog::create_product(tx, &work_ctx, &input).map(|p| (StatusCode::CREATED, p))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ProductQuery),
    responses((status = 200, body = Page<Product>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ProductQuery>,
) -> Result<Json<Page<Product>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref()).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let q = query.q;
    Ok(Json(state.db.read(move |tx| catalog::list_products(tx, q.as_deref(), page)).await?))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", params(("id" = i64, Path)),
    responses((status = 200, body = Product, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "product")?;
    let product = state.db.read(move |tx| catalog::get_product(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &product, product.version))
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", request_body = ProductPatch,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "ETag from a GET; 412 if the product changed since")),
    responses((status = 200, body = Product, headers(("ETag" = String))), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ProductPatch>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    let id = path_id(&id, "product")?;
    let expected = if_match(&headers)?;
    let patch = body.value;
    let product = state.db.write(move |tx| catalog::update_product(tx, &ctx, id, expected, &patch)).await?;
    Ok(with_etag(StatusCode::OK, &product, product.version))
}

#[utoipa::path(post, path = "/api/v1/price-lists", tag = "catalog", request_body = NewPriceList,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PriceList), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_price_list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewPriceList>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    let key = idempotency_key(&headers, &caller, "price-lists", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        catalog::create_price_list(tx, &work_ctx, &input).map(|l| (StatusCode::CREATED, l))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/settings/tax-rules", tag = "catalog",
    responses((status = 200, body = TaxRules, description = "Rates by product category and destination")),
    security(("bearer" = [])))]
pub async fn get_tax_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<TaxRules>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(catalog::tax_rules).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/tax-rules", tag = "catalog", request_body = TaxRulesInput,
    responses((status = 200, body = TaxRules), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_tax_rules(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<TaxRulesInput>,
) -> Result<Json<TaxRules>, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "set tax rates")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| catalog::set_tax_rules(tx, &ctx, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/price-lists", tag = "catalog",
    responses((status = 200, body = Vec<PriceList>)), security(("bearer" = [])))]
pub async fn list_price_lists(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<PriceList>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(catalog::list_price_lists).await?))
}

#[utoipa::path(put, path = "/api/v1/price-lists/{code}/items/{sku}", tag = "catalog", request_body = SetPrice,
    params(("code" = String, Path), ("sku" = String, Path)),
    responses((status = 200, body = PriceList), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_list_price(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, sku)): Path<(String, String)>,
    body: JsonBody<SetPrice>,
) -> Result<Json<PriceList>, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| catalog::set_list_price(tx, &ctx, &code, &sku, &input)).await?))
}
