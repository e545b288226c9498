//! `/api/v1/promotions` and `/api/v1/member-tiers`: what comes off an order's price.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, command, if_match, path_id, with_etag};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use ordo_app::promotions::{self, MemberTier, NewMemberTier, NewPromotion, Promotion, PromotionChange};
use ordo_domain::auth::Permission;
use serde::Deserialize;
use utoipa::IntoParams;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/promotions", get(list_promotions).post(create_promotion))
        .route("/promotions/{id}", get(get_promotion).patch(update_promotion))
        .route("/member-tiers", get(list_member_tiers).post(create_member_tier))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PromotionQuery {
    /// true: only those switched on; false: only those switched off.
    pub active: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/promotions", tag = "promotions", params(PromotionQuery),
    responses((status = 200, body = Vec<Promotion>)), security(("bearer" = [])))]
pub async fn list_promotions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PromotionQuery>,
) -> Result<Json<Vec<Promotion>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| promotions::list_promotions(tx, query.active)).await?))
}

#[utoipa::path(post, path = "/api/v1/promotions", tag = "promotions", request_body = NewPromotion,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Promotion), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_promotion(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewPromotion>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage promotions")?;
    let input = body.value;
    command(&state, &caller, &headers, "promotions".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        promotions::create_promotion(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "promotions", params(("id" = i64, Path)),
    responses((status = 200, body = Promotion, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_promotion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "promotion")?;
    let promotion = state.db.read(move |tx| promotions::get_promotion(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &promotion, promotion.version))
}

#[utoipa::path(patch, path = "/api/v1/promotions/{id}", tag = "promotions", request_body = PromotionChange,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Promotion), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_promotion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<PromotionChange>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage promotions")?;
    let id = path_id(&id, "promotion")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let promotion = state.db.write(move |tx| promotions::update_promotion(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &promotion, promotion.version))
}

#[utoipa::path(get, path = "/api/v1/member-tiers", tag = "promotions",
    responses((status = 200, body = Vec<MemberTier>)), security(("bearer" = [])))]
pub async fn list_member_tiers(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<MemberTier>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(promotions::list_member_tiers).await?))
}

#[utoipa::path(post, path = "/api/v1/member-tiers", tag = "promotions", request_body = NewMemberTier,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = MemberTier), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_member_tier(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewMemberTier>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage member tiers")?;
    let input = body.value;
    command(&state, &caller, &headers, "member-tiers".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        promotions::create_member_tier(tx, ctx, &input)
    })
    .await
}
