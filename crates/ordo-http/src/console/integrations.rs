//! Notifications and integrations in the console: each user's notification centre; the
//! integrations page (webhooks with their delivery log and replay, outbox state, mail
//! settings) and the mail template editor. Same use cases as the API.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordo_app::integrations::{
    self, DeliveryPage, DeliveryQuery, IntegrationError, MailSettings, MailTemplate, NewWebhook, NotificationPage,
    NotificationQuery, OutboxStatus, TemplateInput, Webhook, WebhookChange,
};
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(notifications_page).post(mark_read))
        .route("/integrations", get(integrations_page))
        .route("/integrations/webhooks", post(create_webhook))
        .route("/integrations/webhooks/{id}", get(webhook_page).post(webhook_action))
        .route("/integrations/mail", post(save_mail))
        .route("/integrations/templates/{event}/{language}", get(template_page).post(save_template))
}

use super::form_fields as fields;

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    super::form_field(fields, name).map(str::to_string)
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    page: Frame,
    list: NotificationPage,
}

async fn notifications_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let user = staff.user.id;
    let query = NotificationQuery { limit: Some(100), ..NotificationQuery::default() };
    match state.db.read(move |tx| integrations::list_notifications(tx, user, &query)).await {
        Ok(list) => show(&NotificationsPage { page: Frame::new(&staff, "notifications"), list }, &staff, &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Marks one notification read (and follows its link), or all of them.
async fn mark_read(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let f = fields(&body);
    let id = field(&f, "id").and_then(|v| v.parse::<i64>().ok());
    let to =
        field(&f, "link").filter(|l| l.starts_with('/') && !l.starts_with("//")).unwrap_or("/notifications".into());
    let user = staff.user.id;
    match state.db.write(move |tx| integrations::mark_read(tx, user, id, Timestamp::now())).await {
        Ok(_) if id.is_some() => axum::response::Redirect::to(&to).into_response(),
        Ok(_) => redirect_with_flash("/notifications", staff.i18n.t("notifications.all_read"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    page: Frame,
    webhooks: Vec<Webhook>,
    outbox: OutboxStatus,
    mail: MailSettings,
    templates: Vec<MailTemplate>,
    /// The secret of a webhook just created, shown once.
    new_secret: Option<String>,
}

async fn integrations_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::SettingsManage) {
        return page;
    }
    let loaded = state
        .db
        .read(|tx| {
            Ok::<_, IntegrationError>((
                integrations::list_webhooks(tx)?,
                integrations::outbox_status(tx, Timestamp::now())?,
                integrations::mail_settings(tx)?,
                integrations::list_templates(tx)?,
            ))
        })
        .await;
    match loaded {
        Ok((webhooks, outbox, mail, templates)) => {
            let new_secret = staff.flash.as_deref().and_then(|f| f.strip_prefix("secret:")).map(String::from);
            let page = IntegrationsPage {
                page: Frame::new(&staff, "integrations"),
                webhooks,
                outbox,
                mail,
                templates,
                new_secret,
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

fn events_field(f: &[(String, String)]) -> Option<Vec<String>> {
    field(f, "events")
        .map(|e| e.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
}

async fn create_webhook(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let input = NewWebhook {
        url: field(&f, "url"),
        events: events_field(&f),
        secret: field(&f, "secret"),
        description: field(&f, "description"),
    };
    match state.db.write(move |tx| integrations::create_webhook(tx, &ctx, &input)).await {
        // The flash carries the secret to the next page, which shows it once.
        Ok(webhook) => {
            redirect_with_flash("/integrations", &format!("secret:{}", webhook.secret.unwrap_or_default()), &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    page: Frame,
    webhook: Webhook,
    deliveries: DeliveryPage,
}

async fn webhook_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(page) = staff.require(Permission::SettingsManage) {
        return page;
    }
    let loaded = state
        .db
        .read(move |tx| {
            let webhook = integrations::get_webhook(tx, id)?;
            let deliveries = integrations::webhook_deliveries(tx, id, &DeliveryQuery::default())?;
            Ok::<_, IntegrationError>((webhook, deliveries))
        })
        .await;
    match loaded {
        Ok((webhook, deliveries)) => {
            show(&WebhookPage { page: Frame::new(&staff, "integrations"), webhook, deliveries }, &staff, &headers)
        }
        Err(IntegrationError::WebhookNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Replay a delivery, switch the webhook on or off, or delete it.
async fn webhook_action(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let action = field(&f, "action").unwrap_or_default();
    let delivery = field(&f, "delivery").and_then(|v| v.parse::<i64>().ok());
    let here = format!("/integrations/webhooks/{id}");
    let done = state
        .db
        .write(move |tx| match action.as_str() {
            "replay" => {
                integrations::replay_delivery(tx, &ctx, id, delivery.unwrap_or(0))?;
                Ok("webhooks.replayed")
            }
            "enable" | "disable" => {
                let change = WebhookChange { active: Some(action == "enable"), ..WebhookChange::default() };
                integrations::update_webhook(tx, &ctx, id, None, &change)?;
                Ok("webhooks.saved")
            }
            "delete" => {
                integrations::delete_webhook(tx, &ctx, id)?;
                Ok("webhooks.deleted")
            }
            _ => Err(IntegrationError::Invalid(ordo_domain::Invalid::field("action", "is not one of the buttons"))),
        })
        .await;
    match done {
        Ok("webhooks.deleted") => redirect_with_flash("/integrations", staff.i18n.t("webhooks.deleted"), &headers),
        Ok(key) => redirect_with_flash(&here, staff.i18n.t(key), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn save_mail(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let done = state
        .db
        .write(move |tx| {
            let current = integrations::mail_settings(tx)?;
            let input = MailSettings {
                enabled: field(&f, "enabled").is_some(),
                host: field(&f, "host").unwrap_or_default(),
                port: field(&f, "port").and_then(|p| p.parse().ok()).unwrap_or(0),
                security: field(&f, "security").unwrap_or_else(|| "none".into()),
                username: field(&f, "username"),
                // A blank password field keeps the stored one.
                password: field(&f, "password"),
                password_set: current.password_set,
                from_address: field(&f, "from_address").unwrap_or_default(),
                from_name: field(&f, "from_name").unwrap_or_default(),
                default_language: field(&f, "default_language").unwrap_or_else(|| "en".into()),
                customer_events: current.customer_events,
                staff_events: current.staff_events,
            };
            integrations::update_mail_settings(tx, &ctx, &input)
        })
        .await;
    match done {
        Ok(_) => redirect_with_flash("/integrations#mail", staff.i18n.t("mail.saved"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "mail_template.html")]
struct TemplatePage {
    page: Frame,
    template: MailTemplate,
}

async fn template_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path((event, language)): Path<(String, String)>,
) -> Response {
    if let Err(page) = staff.require(Permission::SettingsManage) {
        return page;
    }
    match state.db.read(move |tx| integrations::get_template(tx, &event, &language)).await {
        Ok(template) => show(&TemplatePage { page: Frame::new(&staff, "integrations"), template }, &staff, &headers),
        Err(IntegrationError::Invalid(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn save_template(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path((event, language)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let reset = field(&f, "action").as_deref() == Some("reset");
    let input = if reset {
        TemplateInput::default()
    } else {
        // The body keeps its line breaks and leading spaces.
        let body = f.iter().find(|(k, _)| k == "body").map(|(_, v)| v.replace("\r\n", "\n"));
        TemplateInput { subject: field(&f, "subject"), body }
    };
    let here = format!("/integrations/templates/{event}/{language}");
    match state.db.write(move |tx| integrations::put_template(tx, &ctx, &event, &language, &input)).await {
        Ok(_) => redirect_with_flash(&here, staff.i18n.t("mail.template_saved"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}
