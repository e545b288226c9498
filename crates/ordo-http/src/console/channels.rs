//! Sales channels in the console: register a channel, switch it off and on, and make its
//! partner keys. The same use cases as `/api/v1/channels`.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, SecretPage, failed, render, show};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::channels::{self, ChannelChange, NewChannel, NewPartnerKey, SalesChannel};
use ordo_domain::auth::Permission;
use ordo_domain::orders::ChannelKind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels", get(list).post(create))
        .route("/channels/{id}/active", post(switch))
        .route("/channels/{id}/keys", post(make_key))
        .route("/channels/{id}", get(detail).post(save))
        .route("/channels/{id}/callbacks/{delivery_id}/replay", post(replay))
}

#[derive(Template)]
#[template(path = "channel.html")]
struct ChannelPage {
    page: Frame,
    channel: SalesChannel,
    /// The inbound mapping as JSON to edit (as typed, when it was refused).
    mapping: String,
    callbacks: Vec<ordo_app::integrations::Delivery>,
    error: Option<String>,
}

async fn channel_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    typed: Option<String>,
    error: Option<String>,
) -> Result<ChannelPage, ApiError> {
    let channel = state.db.read(move |tx| channels::get_channel(tx, id)).await?;
    let query = ordo_app::integrations::DeliveryQuery { limit: Some(50), ..Default::default() };
    let callbacks = state.db.read(move |tx| ordo_app::integrations::channel_callbacks(tx, id, &query)).await?.items;
    let mapping = typed.unwrap_or_else(|| {
        channel.inbound_mapping.as_ref().and_then(|m| serde_json::to_string_pretty(m).ok()).unwrap_or_default()
    });
    Ok(ChannelPage { page: Frame::new(staff, "channels"), channel, mapping, callbacks, error })
}

/// A channel's settings, its inbound mapping to edit, and the status callbacks sent to its
/// partner with a replay button for each.
async fn detail(State(state): State<AppState>, staff: Staff, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    if let Err(page) = staff.require(Permission::SettingsManage) {
        return page;
    }
    match channel_page(&state, &staff, id, None, None).await {
        Ok(view) => show(&view, &staff, &headers),
        Err(error) => failed(&staff, error),
    }
}

/// The channel's page again with what was typed and why it was refused, as a 422.
async fn channel_refused(state: &AppState, staff: &Staff, id: i64, typed: String, message: String) -> Response {
    match channel_page(state, staff, id, Some(typed), Some(message)).await {
        Ok(view) => (StatusCode::UNPROCESSABLE_ENTITY, render(&view)).into_response(),
        Err(error) => failed(staff, error),
    }
}

#[derive(serde::Deserialize)]
struct SettingsForm {
    name: String,
    #[serde(default)]
    callback_url: String,
    #[serde(default)]
    inbound_mapping: String,
}

async fn save(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<SettingsForm>,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let typed = form.inbound_mapping.trim().to_string();
    // An empty box leaves the mapping as it is; what is typed must be a mapping object.
    let mapping = match typed.as_str() {
        "" => None,
        text => match serde_json::from_str::<channels::InboundMapping>(text) {
            Ok(mapping) => Some(mapping),
            Err(e) => {
                let message = staff.i18n.tf("channels.mapping_unreadable", &[("error", &e.to_string())]);
                return channel_refused(&state, &staff, id, typed, message).await;
            }
        },
    };
    let change = ChannelChange {
        name: Some(form.name.clone()),
        callback_url: Some(form.callback_url.clone()),
        inbound_mapping: mapping,
        ..Default::default()
    };
    match state.db.write(move |tx| channels::update_channel(tx, &ctx, id, None, &change)).await {
        Ok(channel) => match channel.callback_secret {
            Some(secret) => render(&SecretPage {
                page: Frame::new(&staff, "channels"),
                title: staff.i18n.t("channels.saved").to_string(),
                explanation: staff.i18n.tf("channels.secret_once", &[("code", &channel.code)]),
                secret,
                back: format!("/channels/{id}"),
            }),
            None => redirect_with_flash(&format!("/channels/{id}"), staff.i18n.t("channels.saved"), &headers),
        },
        Err(channels::ChannelError::Invalid(invalid)) => {
            channel_refused(&state, &staff, id, typed, invalid.to_string()).await
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn replay(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path((id, delivery_id)): Path<(i64, i64)>,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    match state.db.write(move |tx| ordo_app::integrations::replay_callback(tx, &ctx, id, delivery_id)).await {
        Ok(_) => redirect_with_flash(&format!("/channels/{id}"), staff.i18n.t("channels.replayed"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    page: Frame,
    channels: Vec<SalesChannel>,
    kinds: Vec<&'static str>,
    /// id, code, name of the accounts a channel's orders may be placed for.
    customers: Vec<(i64, String, String)>,
    may_make_keys: bool,
    error: Option<String>,
}

impl ChannelsPage {
    /// The customer account's code, for the table.
    fn account(&self, channel: &SalesChannel) -> String {
        let Some(id) = channel.customer_id else { return String::new() };
        self.customers.iter().find(|c| c.0 == id).map(|c| c.1.clone()).unwrap_or_else(|| format!("#{id}"))
    }
}

async fn page(state: &AppState, staff: &Staff, error: Option<String>) -> Result<ChannelsPage, ApiError> {
    Ok(ChannelsPage {
        page: Frame::new(staff, "channels"),
        channels: state.db.read(channels::list_channels).await?,
        kinds: ChannelKind::ALL.iter().map(|k| k.as_str()).collect(),
        customers: state
            .db
            .read(|tx| {
                ordo_app::customers::list_customers(tx, None, ordo_app::PageRequest { limit: 200, before_id: None })
            })
            .await?
            .items
            .into_iter()
            .map(|c| (c.id, c.code, c.name))
            .collect(),
        may_make_keys: staff.may(Permission::UsersManage),
        error,
    })
}

/// The page again with what was wrong, as a 422.
async fn refused(state: &AppState, staff: &Staff, invalid: ordo_domain::Invalid) -> Response {
    match page(state, staff, Some(invalid.to_string())).await {
        Ok(view) => (StatusCode::UNPROCESSABLE_ENTITY, render(&view)).into_response(),
        Err(error) => failed(staff, error),
    }
}

async fn list(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::SettingsManage) {
        return page;
    }
    match page(&state, &staff, None).await {
        Ok(view) => show(&view, &staff, &headers),
        Err(error) => failed(&staff, error),
    }
}

#[derive(serde::Deserialize)]
struct ChannelForm {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    callback_url: String,
}

async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<ChannelForm>,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let created = state
        .db
        .write(move |tx| {
            let customer = form.customer.trim();
            let customer_id =
                if customer.is_empty() { None } else { ordo_app::customers::store::id_by_code(tx, customer)? };
            let input = NewChannel {
                code: Some(form.code.clone()),
                name: Some(form.name.clone()),
                kind: Some(form.kind.clone()),
                customer_id,
                callback_url: Some(form.callback_url.clone()),
                inbound_mapping: None,
            };
            channels::create_channel(tx, &ctx, &input)
        })
        .await;
    match created {
        Ok(channel) => match channel.callback_secret {
            Some(secret) => render(&SecretPage {
                page: Frame::new(&staff, "channels"),
                title: staff.i18n.t("channels.created").to_string(),
                explanation: staff.i18n.tf("channels.secret_once", &[("code", &channel.code)]),
                secret,
                back: "/channels".into(),
            }),
            None => redirect_with_flash("/channels", staff.i18n.t("channels.created"), &headers),
        },
        Err(channels::ChannelError::Invalid(invalid)) => refused(&state, &staff, invalid).await,
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(serde::Deserialize)]
struct SwitchForm {
    active: String,
}

async fn switch(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<SwitchForm>,
) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let change = ChannelChange { active: Some(form.active == "true"), ..Default::default() };
    match state.db.write(move |tx| channels::update_channel(tx, &ctx, id, None, &change)).await {
        Ok(channel) => {
            let key = if channel.active { "channels.switched_on" } else { "channels.switched_off" };
            redirect_with_flash("/channels", &staff.i18n.tf(key, &[("code", &channel.code)]), &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(serde::Deserialize)]
struct KeyForm {
    name: String,
}

async fn make_key(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<KeyForm>,
) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let input = NewPartnerKey { name: Some(form.name) };
    match state.db.write(move |tx| channels::create_partner_key(tx, &ctx, id, &input)).await {
        Ok(key) => render(&SecretPage {
            page: Frame::new(&staff, "channels"),
            title: staff.i18n.t("channels.key_created").to_string(),
            explanation: staff.i18n.tf("channels.key_once", &[("name", &key.name), ("code", &key.channel)]),
            secret: key.key,
            back: "/channels".into(),
        }),
        Err(channels::ChannelError::Invalid(invalid)) => refused(&state, &staff, invalid).await,
        Err(error) => failed(&staff, error.into()),
    }
}
