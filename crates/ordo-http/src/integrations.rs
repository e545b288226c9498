//! Integrations: the event catalogue, webhooks and their delivery log, delivery and mail
//! settings, mail templates, the outbox's state, and upserts keyed by external ids.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams, command, if_match, path_id, with_etag};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ordo_app::catalog::{NewProduct, Product};
use ordo_app::customers::{Customer, NewCustomer};
use ordo_app::integrations::{
    self, BulkResult, BulkSync, Delivery, DeliveryPage, DeliveryQuery, IntegrationSettings, MailSettings, MailTemplate,
    NewWebhook, OutboxStatus, TemplateInput, Webhook, WebhookChange,
};
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;
use ordo_domain::events::{CATALOGUE, EventSpec};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events/catalogue", get(catalogue))
        .route("/webhooks", get(list_webhooks).post(create_webhook))
        .route("/webhooks/{id}", get(get_webhook).patch(update_webhook).delete(delete_webhook))
        .route("/webhooks/{id}/deliveries", get(deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/replay", post(replay))
        .route("/settings/integrations", get(get_settings).put(put_settings))
        .route("/settings/mail", get(get_mail).put(put_mail))
        .route("/mail/templates", get(list_templates))
        .route("/mail/templates/{event_type}/{language}", get(get_template).put(put_template))
        .route("/outbox", get(outbox))
        .route("/customers/by-external-id/{external_id}", put(upsert_customer))
        .route("/products/by-external-id/{external_id}", put(upsert_product))
        .route("/sync/bulk", post(bulk))
}

#[utoipa::path(get, path = "/api/v1/events/catalogue", tag = "integrations",
    responses((status = 200, body = Vec<EventSpec>, description = "Every event type with its version, aggregate and an example of `data`")),
    security(("bearer" = [])))]
pub async fn catalogue(caller: Caller) -> Result<Json<&'static [EventSpec]>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(CATALOGUE))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "integrations",
    responses((status = 200, body = Vec<Webhook>)), security(("bearer" = [])))]
pub async fn list_webhooks(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Webhook>>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    Ok(Json(state.db.read(integrations::list_webhooks).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "integrations", request_body = NewWebhook,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Webhook, description = "The subscription, with its secret (shown this once)")),
    security(("bearer" = [])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewWebhook>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage integrations")?;
    let input = body.value;
    command(&state, &caller, &headers, "webhooks".into(), &body.hash, ctx, StatusCode::CREATED, move |tx, ctx| {
        integrations::create_webhook(tx, ctx, &input)
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 200, body = Webhook, headers(("ETag" = String)))), security(("bearer" = [])))]
pub async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    let id = path_id(&id, "webhook")?;
    let webhook = state.db.read(move |tx| integrations::get_webhook(tx, id)).await?;
    Ok(with_etag(StatusCode::OK, &webhook, webhook.version))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "integrations", request_body = WebhookChange,
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = Webhook), (status = 412, body = Problem)), security(("bearer" = [])))]
pub async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<WebhookChange>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage integrations")?;
    let id = path_id(&id, "webhook")?;
    let expected = if_match(&headers)?;
    let input = body.value;
    let webhook = state.db.write(move |tx| integrations::update_webhook(tx, &ctx, id, expected, &input)).await?;
    Ok(with_etag(StatusCode::OK, &webhook, webhook.version))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "integrations", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted with its delivery log")), security(("bearer" = [])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage integrations")?;
    let id = path_id(&id, "webhook")?;
    state.db.write(move |tx| integrations::delete_webhook(tx, &ctx, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "integrations",
    params(("id" = i64, Path), DeliveryQuery),
    responses((status = 200, body = DeliveryPage, description = "Newest first, each with its attempts and response codes")),
    security(("bearer" = [])))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<DeliveryQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    let id = path_id(&id, "webhook")?;
    Ok(Json(state.db.read(move |tx| integrations::webhook_deliveries(tx, id, &query)).await?))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "integrations",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 200, body = Delivery, description = "Queued to be sent again")), security(("bearer" = [])))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Json<Delivery>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "manage integrations")?;
    let id = path_id(&id, "webhook")?;
    let delivery_id = path_id(&delivery_id, "delivery")?;
    Ok(Json(state.db.write(move |tx| integrations::replay_delivery(tx, &ctx, id, delivery_id)).await?))
}

#[utoipa::path(get, path = "/api/v1/settings/integrations", tag = "integrations",
    responses((status = 200, body = IntegrationSettings)), security(("bearer" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<IntegrationSettings>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    Ok(Json(
        state.db.read(|tx| Ok::<_, integrations::IntegrationError>(integrations::integration_settings(tx)?)).await?,
    ))
}

#[utoipa::path(put, path = "/api/v1/settings/integrations", tag = "integrations", request_body = IntegrationSettings,
    responses((status = 200, body = IntegrationSettings, description = "Retries, automatic switch-off, the bus, who is told what")),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<IntegrationSettings>,
) -> Result<Json<IntegrationSettings>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| integrations::update_integration_settings(tx, &ctx, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/settings/mail", tag = "integrations",
    responses((status = 200, body = MailSettings, description = "SMTP settings; the password is never shown")),
    security(("bearer" = [])))]
pub async fn get_mail(State(state): State<AppState>, caller: Caller) -> Result<Json<MailSettings>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    Ok(Json(state.db.read(|tx| Ok::<_, integrations::IntegrationError>(integrations::mail_settings(tx)?)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/mail", tag = "integrations", request_body = MailSettings,
    responses((status = 200, body = MailSettings)), security(("bearer" = [])))]
pub async fn put_mail(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<MailSettings>,
) -> Result<Json<MailSettings>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| integrations::update_mail_settings(tx, &ctx, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/mail/templates", tag = "integrations",
    responses((status = 200, body = Vec<MailTemplate>, description = "Every mailed event in English, 简体中文 and 繁體中文")),
    security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<MailTemplate>>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    Ok(Json(state.db.read(integrations::list_templates).await?))
}

#[utoipa::path(get, path = "/api/v1/mail/templates/{event_type}/{language}", tag = "integrations",
    params(("event_type" = String, Path), ("language" = String, Path, description = "en, zh-CN or zh-TW")),
    responses((status = 200, body = MailTemplate)), security(("bearer" = [])))]
pub async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((event, language)): Path<(String, String)>,
) -> Result<Json<MailTemplate>, ApiError> {
    caller.require(Permission::SettingsManage, "manage integrations")?;
    Ok(Json(state.db.read(move |tx| integrations::get_template(tx, &event, &language)).await?))
}

#[utoipa::path(put, path = "/api/v1/mail/templates/{event_type}/{language}", tag = "integrations",
    request_body = TemplateInput,
    params(("event_type" = String, Path), ("language" = String, Path, description = "en, zh-CN or zh-TW")),
    responses((status = 200, body = MailTemplate, description = "Empty subject and body restore the built-in text")),
    security(("bearer" = [])))]
pub async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((event, language)): Path<(String, String)>,
    body: JsonBody<TemplateInput>,
) -> Result<Json<MailTemplate>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| integrations::put_template(tx, &ctx, &event, &language, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/outbox", tag = "integrations",
    responses((status = 200, body = OutboxStatus, description = "How far behind delivery is")), security(("bearer" = [])))]
pub async fn outbox(State(state): State<AppState>, caller: Caller) -> Result<Json<OutboxStatus>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(
        state
            .db
            .read(|tx| Ok::<_, integrations::IntegrationError>(integrations::outbox_status(tx, Timestamp::now())?))
            .await?,
    ))
}

fn upserted<T: serde::Serialize>(outcome: &str, record: &T) -> Response {
    let status = if outcome == "created" { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(record)).into_response()
}

#[utoipa::path(put, path = "/api/v1/customers/by-external-id/{external_id}", tag = "integrations",
    request_body = NewCustomer, params(("external_id" = String, Path)),
    responses((status = 200, body = Customer, description = "Updated"), (status = 201, body = Customer, description = "Created")),
    security(("bearer" = [])))]
pub async fn upsert_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
    body: JsonBody<NewCustomer>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CustomersManage, "manage customers")?;
    let input = body.value;
    let done = state.db.write(move |tx| integrations::upsert_customer(tx, &ctx, &external_id, &input)).await?;
    Ok(upserted(done.outcome, &done.record))
}

#[utoipa::path(put, path = "/api/v1/products/by-external-id/{external_id}", tag = "integrations",
    request_body = NewProduct, params(("external_id" = String, Path)),
    responses((status = 200, body = Product, description = "Updated"), (status = 201, body = Product, description = "Created")),
    security(("bearer" = [])))]
pub async fn upsert_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(external_id): Path<String>,
    body: JsonBody<NewProduct>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    let input = body.value;
    let done = state.db.write(move |tx| integrations::upsert_product(tx, &ctx, &external_id, &input)).await?;
    Ok(upserted(done.outcome, &done.record))
}

#[utoipa::path(post, path = "/api/v1/sync/bulk", tag = "integrations", request_body = BulkSync,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = BulkResult, description = "Per record: created, updated or rejected with the reasons")),
    security(("bearer" = [])))]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<BulkSync>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::CatalogManage, "manage the catalog")?;
    caller.require(Permission::CustomersManage, "manage customers")?;
    let input = body.value;
    command(&state, &caller, &headers, "sync/bulk".into(), &body.hash, ctx, StatusCode::OK, move |tx, ctx| {
        integrations::bulk_sync(tx, ctx, &input)
    })
    .await
}
