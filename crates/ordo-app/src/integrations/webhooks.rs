//! Webhook subscriptions, their delivery log and manual replay.

use super::{IntegrationError, check_patterns};
use crate::common::Ctx;
use crate::db::{DbError, Row, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::validation::{Violations, optional_text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: `https://…` (or `http://` for a local receiver).
    pub url: Option<String>,
    /// Event types: names, `order.*` for a family, or `*`.
    pub events: Option<Vec<String>>,
    /// The HMAC key; made for you (and shown once) when absent.
    pub secret: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Switch a webhook off, or on again after it was disabled for failing.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    /// Failed attempts in a row; reset by a success.
    pub consecutive_failures: i64,
    /// Why it was switched off automatically, if it was.
    pub disabled_reason: Option<String>,
    /// Only in the answer to the create call: keep it to verify `Ordo-Signature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    /// pending, delivered, failed (gave up after the maximum attempts).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Every attempt with its response code, newest last.
    pub log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: Timestamp,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    /// pending, delivered or failed.
    pub status: Option<String>,
    /// Only deliveries with a smaller id (the next page).
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    /// Pass as `before` for older deliveries.
    pub next_before: Option<i64>,
}

/// A receiver URL: `https://…`, or `http://` for a receiver on the business's own network.
pub(crate) fn check_url(field: &str, url: Option<&str>, v: &mut Violations) -> Option<String> {
    let url = url.map(str::trim).unwrap_or("");
    if url.is_empty() {
        v.add(field, "is required");
        return None;
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        _ if url.len() > 500 => v.add(field, "must be at most 500 characters"),
        None => v.add(field, "must start with https:// (or http:// for a receiver on your network)"),
        Some(host) if host.is_empty() || host.starts_with('/') || url.chars().any(char::is_whitespace) => {
            v.add(field, "must name a host, without spaces")
        }
        Some(_) => return Some(url.to_string()),
    }
    None
}

fn check_events(events: Option<&[String]>, v: &mut Violations) -> Option<Vec<String>> {
    match events {
        None | Some([]) => {
            v.add("events", "name at least one event type, a family like `order.*`, or `*`");
            None
        }
        Some(events) => {
            check_patterns("events", events, v);
            Some(events.iter().map(|e| e.trim().to_string()).collect())
        }
    }
}

pub fn create_webhook(tx: &mut dyn Tx, ctx: &Ctx, input: &NewWebhook) -> Result<Webhook, IntegrationError> {
    let mut v = Violations::new();
    let url = check_url("url", input.url.as_deref(), &mut v);
    let events = check_events(input.events.as_deref(), &mut v);
    let description = v.check(optional_text("description", input.description.as_deref(), 200)).flatten();
    let secret = match input.secret.as_deref().map(str::trim) {
        Some(s) if !(16..=200).contains(&s.len()) => {
            v.add("secret", "must be 16 to 200 characters (or leave it out to have one made)");
            None
        }
        Some(s) => Some(s.to_string()),
        None => None,
    };
    v.into_result()?;
    let (Some(url), Some(events)) = (url, events) else { return Err(DbError::Other("checked above".into()).into()) };
    let secret = match secret {
        Some(s) => s,
        None => format!("whsec_{}", crate::payments::provider::random_hex(24).map_err(DbError::Other)?),
    };
    let events_text = serde_json::to_string(&events).map_err(|e| DbError::Other(e.to_string()))?;
    let id = tx.insert(
        "INSERT INTO webhooks (url, events, secret, description, active, consecutive_failures, version, created_by, \
         created_at, updated_at) VALUES (?, ?, ?, ?, 1, 0, 1, ?, ?, ?)",
        params![
            url.as_str(),
            events_text,
            secret.as_str(),
            description,
            ctx.actor.as_str(),
            ctx.now.micros(),
            ctx.now.micros()
        ],
    )?;
    crate::audit::record(tx, ctx, "integrations", "webhook.created", &format!("webhook {id}"), &url)?;
    let mut webhook = get_webhook(tx, id)?;
    webhook.secret = Some(secret);
    Ok(webhook)
}

pub fn update_webhook(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &WebhookChange,
) -> Result<Webhook, IntegrationError> {
    let current = get_webhook(tx, id)?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(IntegrationError::VersionMismatch { current: current.version });
    }
    let mut v = Violations::new();
    let url =
        if input.url.is_some() { check_url("url", input.url.as_deref(), &mut v) } else { Some(current.url.clone()) };
    let events = if input.events.is_some() {
        check_events(input.events.as_deref(), &mut v)
    } else {
        Some(current.events.clone())
    };
    let description = match &input.description {
        Some(d) => v.check(optional_text("description", Some(d), 200)).flatten(),
        None => current.description.clone(),
    };
    v.into_result()?;
    let (Some(url), Some(events)) = (url, events) else { return Err(DbError::Other("checked above".into()).into()) };
    let active = input.active.unwrap_or(current.active);
    // Switching on again starts a fresh count and forgets why it was switched off.
    let (failures, reason) = if active && !current.active {
        (0, None)
    } else {
        (current.consecutive_failures, current.disabled_reason.clone())
    };
    let events_text = serde_json::to_string(&events).map_err(|e| DbError::Other(e.to_string()))?;
    let changed = tx.execute(
        "UPDATE webhooks SET url = ?, events = ?, description = ?, active = ?, consecutive_failures = ?, \
         disabled_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
        params![
            url.as_str(),
            events_text,
            description,
            active,
            failures,
            reason,
            ctx.now.micros(),
            id,
            current.version
        ],
    )?;
    if changed == 0 {
        return Err(IntegrationError::VersionMismatch { current: get_webhook(tx, id)?.version });
    }
    crate::audit::record(tx, ctx, "integrations", "webhook.updated", &format!("webhook {id}"), &url)?;
    get_webhook(tx, id)
}

/// Removes a subscription and its delivery log.
pub fn delete_webhook(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<(), IntegrationError> {
    let webhook = get_webhook(tx, id)?;
    tx.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN \
         (SELECT id FROM deliveries WHERE channel = 'webhook' AND target_id = ?)",
        params![id],
    )?;
    tx.execute("DELETE FROM deliveries WHERE channel = 'webhook' AND target_id = ?", params![id])?;
    tx.execute("DELETE FROM webhooks WHERE id = ?", params![id])?;
    crate::audit::record(tx, ctx, "integrations", "webhook.deleted", &format!("webhook {id}"), &webhook.url)?;
    Ok(())
}

const COLUMNS: &str = "id, url, events, description, active, consecutive_failures, disabled_reason, version, \
    created_by, created_at, updated_at";

fn webhook_from(r: &Row) -> Result<Webhook, DbError> {
    Ok(Webhook {
        id: r.int(0)?,
        url: r.text(1)?,
        events: serde_json::from_str(&r.text(2)?).unwrap_or_default(),
        description: r.opt_text(3)?,
        active: r.int(4)? == 1,
        consecutive_failures: r.int(5)?,
        disabled_reason: r.opt_text(6)?,
        secret: None,
        version: r.int(7)?,
        created_by: r.text(8)?,
        created_at: Timestamp(r.int(9)?),
        updated_at: Timestamp(r.int(10)?),
    })
}

pub fn get_webhook(tx: &mut dyn Tx, id: i64) -> Result<Webhook, IntegrationError> {
    let row = tx
        .query_opt(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?"), params![id])?
        .ok_or(IntegrationError::WebhookNotFound(id))?;
    Ok(webhook_from(&row)?)
}

pub fn list_webhooks(tx: &mut dyn Tx) -> Result<Vec<Webhook>, IntegrationError> {
    Ok(tx
        .query(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"), &[])?
        .iter()
        .map(webhook_from)
        .collect::<Result<_, _>>()?)
}

const DELIVERY_COLUMNS: &str = "id, event_id, event_type, status, attempts, next_attempt_at, last_status, last_error, \
    delivered_at, created_at";

fn delivery_from(tx: &mut dyn Tx, r: &Row) -> Result<Delivery, DbError> {
    let id = r.int(0)?;
    let status = r.text(3)?;
    let log = tx
        .query(
            "SELECT attempt, at, status_code, error, duration_ms FROM delivery_attempts WHERE delivery_id = ? ORDER BY id",
            params![id],
        )?
        .iter()
        .map(|a| {
            Ok(DeliveryAttempt {
                attempt: a.int(0)?,
                at: Timestamp(a.int(1)?),
                status_code: a.opt_int(2)?,
                error: a.opt_text(3)?,
                duration_ms: a.int(4)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(Delivery {
        id,
        event_id: r.int(1)?,
        event_type: r.text(2)?,
        next_attempt_at: (status == "pending").then(|| r.int(5).map(Timestamp)).transpose()?,
        status,
        attempts: r.int(4)?,
        last_status: r.opt_int(6)?,
        last_error: r.opt_text(7)?,
        delivered_at: r.opt_int(8)?.map(Timestamp),
        created_at: Timestamp(r.int(9)?),
        log,
    })
}

pub fn webhook_deliveries(
    tx: &mut dyn Tx,
    webhook_id: i64,
    query: &DeliveryQuery,
) -> Result<DeliveryPage, IntegrationError> {
    get_webhook(tx, webhook_id)?;
    deliveries_to(tx, "webhook", webhook_id, query)
}

fn channel_exists(tx: &mut dyn Tx, channel_id: i64) -> Result<(), IntegrationError> {
    match tx.query_opt("SELECT 1 FROM channels WHERE id = ?", params![channel_id])? {
        Some(_) => Ok(()),
        None => Err(IntegrationError::ChannelNotFound(channel_id)),
    }
}

/// The status callbacks sent (or owed) to a sales channel's partner, newest first.
pub fn channel_callbacks(
    tx: &mut dyn Tx,
    channel_id: i64,
    query: &DeliveryQuery,
) -> Result<DeliveryPage, IntegrationError> {
    channel_exists(tx, channel_id)?;
    deliveries_to(tx, super::outbox::CALLBACK, channel_id, query)
}

/// Sends a channel's status callback again, like `replay_delivery` for a webhook.
pub fn replay_callback(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    channel_id: i64,
    delivery_id: i64,
) -> Result<Delivery, IntegrationError> {
    channel_exists(tx, channel_id)?;
    replay_to(tx, ctx, super::outbox::CALLBACK, channel_id, delivery_id)
}

/// The deliveries to one webhook (`kind` webhook) or channel (`kind` callback).
fn deliveries_to(
    tx: &mut dyn Tx,
    kind: &str,
    target_id: i64,
    query: &DeliveryQuery,
) -> Result<DeliveryPage, IntegrationError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let mut filter = crate::db::Filter::new();
    filter.when("channel = ?", Some(vec![kind.to_string()]));
    filter.when("target_id = ?", Some(vec![target_id]));
    filter.when("id < ?", query.before.map(|b| vec![b]));
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        if !["pending", "delivered", "failed"].contains(&status) {
            return Err(ordo_domain::Invalid::field("status", "must be pending, delivered or failed").into());
        }
        filter.when("status = ?", Some(vec![status.to_string()]));
    }
    let rows = tx.query(
        &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries{} ORDER BY id DESC LIMIT {limit}", filter.sql()),
        &filter.params.clone(),
    )?;
    let items = rows.iter().map(|r| delivery_from(tx, r)).collect::<Result<Vec<_>, _>>()?;
    let next_before = if items.len() as i64 == limit { items.last().map(|d| d.id) } else { None };
    Ok(DeliveryPage { items, next_before })
}

/// Sends a delivery again: it goes back to the queue with a fresh count of attempts, its
/// log kept. Works for failed and delivered ones alike.
pub fn replay_delivery(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    webhook_id: i64,
    delivery_id: i64,
) -> Result<Delivery, IntegrationError> {
    get_webhook(tx, webhook_id)?;
    replay_to(tx, ctx, "webhook", webhook_id, delivery_id)
}

fn replay_to(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    kind: &str,
    target_id: i64,
    delivery_id: i64,
) -> Result<Delivery, IntegrationError> {
    let changed = tx.execute(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL, \
         claimed_until = NULL WHERE id = ? AND channel = ? AND target_id = ?",
        params![ctx.now.micros(), delivery_id, kind, target_id],
    )?;
    if changed == 0 {
        return Err(IntegrationError::DeliveryNotFound(delivery_id));
    }
    let (action, target) = match kind {
        "webhook" => ("webhook.replayed", format!("webhook {target_id}")),
        _ => ("channel.callback_replayed", format!("channel {target_id}")),
    };
    crate::audit::record(tx, ctx, "integrations", action, &target, &format!("delivery {delivery_id}"))?;
    let row = tx.query_one(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?"), params![delivery_id])?;
    Ok(delivery_from(tx, &row)?)
}
