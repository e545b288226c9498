//! `/api/v1/customers`.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, idempotency_key, if_match, path_id, post_once, with_etag};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use ordo_app::customers::{self, Customer, CustomerPatch, NewCustomer};
use ordo_app::orders::{self, Order};
use ordo_app::{Page, PageRequest};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/{id}", get(get_customer).patch(update_customer))
        .route("/customers/{id}/orders", get(customer_orders))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CustomerQuery {
    /// Matches code, name or e-mail, case-insensitively.
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub(crate) fn page_of(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    PageRequest::parse(limit, cursor).map_err(|e| ApiError::Invalid(ordo_domain::Invalid(vec![e])))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = NewCustomer,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Customer), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewCustomer>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CustomersManage, "manage customers")?;
    let key = idempotency_key(&headers, &caller, "customers", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        customers::create_customer(tx, &work_ctx, &input).map(|c| (StatusCode::CREATED, c))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, body = Page<Customer>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<CustomerQuery>,
) -> Result<Json<Page<Customer>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    let q = query.q;
    Ok(Json(state.db.read(move |tx| customers::list_customers(tx, q.as_deref(), page)).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = Customer, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "customer")?;
    let customer = state.db.read(move |tx| customers::get_customer(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &customer, customer.version))
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", request_body = NewCustomer,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "ETag from a GET; 412 if the customer changed since")),
    responses((status = 200, body = Customer, headers(("ETag" = String))), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<CustomerPatch>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CustomersManage, "manage customers")?;
    let id = path_id(&id, "customer")?;
    let expected = if_match(&headers)?;
    let patch = body.value;
    let customer = state.db.write(move |tx| customers::update_customer(tx, &ctx, id, expected, &patch)).await?;
    Ok(with_etag(StatusCode::OK, &customer, customer.version))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/orders", tag = "customers", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<Order>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn customer_orders(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<Page<Order>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "customer")?;
    let page = page_of(query.limit, query.cursor.as_deref())?;
    Ok(Json(state.db.read(move |tx| orders::customer_orders(tx, id, page)).await?))
}
