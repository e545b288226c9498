//! `/api/v1/rules` and `/api/v1/settings/orders`: what operators configure.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, idempotency_key, if_match, path_id, post_once, with_etag};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::rules::{self, Rule, RuleHistory, RuleInput, RuleList, RuleTest, RuleTestResult};
use ordo_app::settings::{self, OrderPolicy, OrderPolicyInput};
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list_rules).post(create_rule))
        .route("/rules/{id}", get(get_rule).put(update_rule).delete(delete_rule))
        .route("/rules/{id}/history", get(rule_history))
        .route("/rules/{id}/test", post(test_rule))
        .route("/settings/orders", get(order_policy).put(update_order_policy))
}

#[utoipa::path(post, path = "/api/v1/rules", tag = "rules", request_body = RuleInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Rule), (status = 403, body = Problem),
        (status = 422, body = Problem, description = "`errors` names the field; a bad condition says the line and column")),
    security(("bearer" = [])))]
pub async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<RuleInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::RulesManage, "manage rules")?;
    let key = idempotency_key(&headers, &caller, "rules", &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| rules::create_rule(tx, &work_ctx, &input).map(|r| (StatusCode::CREATED, r)))
        .await
}

#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = RuleList, description = "Every rule, in the order they run")), security(("bearer" = [])))]
pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Json<RuleList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(rules::list_rules).await?))
}

#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    responses((status = 200, body = Rule, headers(("ETag" = String))), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "rule")?;
    let rule = state.db.read(move |tx| rules::get_rule(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &rule, rule.version))
}

#[utoipa::path(put, path = "/api/v1/rules/{id}", tag = "rules", request_body = RuleInput,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Rule, headers(("ETag" = String))), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<RuleInput>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::RulesManage, "manage rules")?;
    let id = path_id(&id, "rule")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let rule = state.db.write(move |tx| rules::update_rule(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &rule, rule.version))
}

#[utoipa::path(delete, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted; its history stays"), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = caller.require(Permission::RulesManage, "manage rules")?;
    let id = path_id(&id, "rule")?;
    state.db.write(move |tx| rules::delete_rule(tx, &ctx, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/rules/{id}/history", tag = "rules", params(("id" = i64, Path)),
    responses((status = 200, body = RuleHistory), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn rule_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RuleHistory>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "rule")?;
    Ok(Json(state.db.read(move |tx| rules::rule_history(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/rules/{id}/test", tag = "rules", request_body = RuleTest,
    params(("id" = i64, Path)),
    responses((status = 200, body = RuleTestResult, description = "Would the rule fire on the order now, and the values it read"),
        (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn test_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody<RuleTest>,
) -> Result<Json<RuleTestResult>, ApiError> {
    let ctx = caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "rule")?;
    let input = body.value;
    Ok(Json(state.db.read(move |tx| rules::test_rule(tx, id, &input, ctx.now)).await?))
}

#[utoipa::path(get, path = "/api/v1/settings/orders", tag = "rules",
    responses((status = 200, body = OrderPolicy)), security(("bearer" = [])))]
pub async fn order_policy(State(state): State<AppState>, caller: Caller) -> Result<Json<OrderPolicy>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| settings::order_policy(tx).map_err(settings::SettingsError::from)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/orders", tag = "rules", request_body = OrderPolicyInput,
    responses((status = 200, body = OrderPolicy), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_order_policy(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<OrderPolicyInput>,
) -> Result<Json<OrderPolicy>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| settings::update_order_policy(tx, &ctx, &input)).await?))
}
