//! `/api/v1/channels`: the sales channel registry, partner keys, and orders sent in a
//! channel's own JSON.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::QueryParams;
use crate::extract::{Caller, JsonBody, command, idempotency_key, if_match, path_id, post_once, with_etag};
use crate::orders::placed_response;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use ordo_app::auth::TokenView;
use ordo_app::channels::{self, ChannelChange, NewChannel, NewPartnerKey, PartnerKey, SalesChannel};
use ordo_app::integrations::{self, Delivery, DeliveryPage, DeliveryQuery};
use ordo_app::orders::Order;
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels", get(list_channels).post(create_channel))
        .route("/channels/{id}", get(get_channel).patch(update_channel))
        .route("/channels/{id}/keys", get(list_keys).post(create_key))
        .route("/channels/{id}/keys/{key_id}", delete(revoke_key))
        .route("/channels/{id}/orders", post(inbound_order))
        .route("/channels/{id}/callbacks", get(callbacks))
        .route("/channels/{id}/callbacks/{delivery_id}/replay", post(replay_callback))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/callbacks", tag = "channels",
    params(("id" = i64, Path), DeliveryQuery),
    responses((status = 200, body = DeliveryPage, description = "The status callbacks to the channel's partner, newest first, each with its attempts"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn callbacks(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    caller.require(Permission::SettingsManage, "manage channels")?;
    let id = path_id(&id, "channel")?;
    Ok(Json(state.db.read(move |tx| integrations::channel_callbacks(tx, id, &query)).await?))
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/callbacks/{delivery_id}/replay", tag = "channels",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 200, body = Delivery, description = "Queued to be sent again"), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn replay_callback(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Json<Delivery>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage channels")?;
    let id = path_id(&id, "channel")?;
    let delivery_id = path_id(&delivery_id, "delivery")?;
    Ok(Json(state.db.write(move |tx| integrations::replay_callback(tx, &ctx, id, delivery_id)).await?))
}

#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<SalesChannel>)), security(("bearer" = [])))]
pub async fn list_channels(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<SalesChannel>>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(channels::list_channels).await?))
}

#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = NewChannel,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = SalesChannel, description = "Registered; `callback_secret` is shown this once"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewChannel>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage channels")?;
    let input = body.value;
    command(&state, &caller, &headers, "channels".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        channels::create_channel(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = SalesChannel, headers(("ETag" = String))), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "channel")?;
    let channel = state.db.read(move |tx| channels::get_channel(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &channel, channel.version))
}

#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", request_body = ChannelChange,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = SalesChannel), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ChannelChange>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage channels")?;
    let id = path_id(&id, "channel")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let channel = state.db.write(move |tx| channels::update_channel(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &channel, channel.version))
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/keys", tag = "channels", request_body = NewPartnerKey,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = PartnerKey, description = "The key, shown this once"), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "The channel has no customer account, or is switched off")),
    security(("bearer" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewPartnerKey>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::UsersManage, "make partner keys")?;
    let id = path_id(&id, "channel")?;
    let input = body.value;
    let scope = format!("channels/{id}/keys");
    command(&state, &caller, &headers, scope, &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        channels::create_partner_key(tx, ctx, id, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/channels/{id}/keys", tag = "channels", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TokenView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    caller.require(Permission::UsersManage, "see partner keys")?;
    let id = path_id(&id, "channel")?;
    Ok(Json(state.db.read(move |tx| channels::list_partner_keys(tx, id)).await?))
}

#[utoipa::path(delete, path = "/api/v1/channels/{id}/keys/{key_id}", tag = "channels",
    params(("id" = i64, Path), ("key_id" = i64, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let ctx = caller.require(Permission::UsersManage, "revoke partner keys")?;
    let (id, key_id) = (path_id(&id, "channel")?, path_id(&key_id, "key")?);
    state.db.write(move |tx| channels::revoke_partner_key(tx, &ctx, id, key_id)).await?;
    // This server forgets the key at once; others within their 30 s token cache.
    if let Ok(mut cache) = state.tokens.lock() {
        cache.retain(|_, (principal, _)| principal.token_id != key_id);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/channels/{id}/orders", tag = "channels",
    request_body(content = Object, description = "The order in the channel's own JSON, read through its `inbound_mapping`"),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Order, description = "Placed"),
        (status = 200, body = Order, description = "The channel sent this reference before: the order placed then"),
        (status = 404, body = Problem, description = "No such channel (or not the key's own)"),
        (status = 409, body = Problem, description = "Insufficient stock"),
        (status = 422, body = Problem, description = "A mapped field is missing or invalid: `errors` names it and where it was looked for")),
    security(("bearer" = [])))]
pub async fn inbound_order(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let (ctx, partner) = caller.staff_or_partner(Permission::OrdersCreate, "create orders")?;
    let id = path_id(&id, "channel")?;
    if partner.is_some_and(|p| p.channel_id != id) {
        return Err(ApiError::NotFound(format!("no channel with id {id}")));
    }
    let key = idempotency_key(&headers, &caller, &format!("channels/{id}/orders"), &body.hash)?;
    let (document, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        channels::place_inbound_order(tx, &work_ctx, id, &document).map(placed_response)
    })
    .await
}
