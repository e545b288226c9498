//! In-app notifications: the console's notification centre per user, filled from the
//! same events as webhooks and e-mail, for the roles subscribed to each event.

use super::IntegrationError;
use super::outbox::OutboxEvent;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user who may be told about events.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub locale: String,
}

impl StaffMember {
    /// The language messages to this person are written in: their console locale.
    pub fn language(&self) -> &str {
        if super::mail::LANGUAGES.contains(&self.locale.as_str()) { self.locale.as_str() } else { "en" }
    }
}

/// Active users with their roles.
pub(crate) fn staff(tx: &mut dyn Tx) -> Result<Vec<StaffMember>, DbError> {
    tx.query(
        "SELECT id, email, name, roles, locale FROM users WHERE disabled = 0 AND customer_id IS NULL ORDER BY id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(StaffMember {
            id: r.int(0)?,
            email: r.text(1)?,
            name: r.text(2)?,
            roles: r.text(3)?.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            locale: r.text(4)?,
        })
    })
    .collect()
}

/// Where the console shows what an event is about.
fn link(event: &OutboxEvent) -> Option<String> {
    let id = |key: &str| event.data.get(key).and_then(|v| v.as_i64());
    if let Some(order) = id("order_id") {
        return Some(format!("/orders/{order}"));
    }
    match event.aggregate.as_str() {
        "ticket" => Some(format!("/tickets/{}", event.aggregate_id)),
        "stock_level" => Some("/stock".into()),
        "webhook" => Some("/integrations".into()),
        _ => None,
    }
}

pub(crate) fn notify(tx: &mut dyn Tx, event: &OutboxEvent, told: &[&StaffMember]) -> Result<usize, DbError> {
    let link = link(event);
    for member in told {
        let title = super::mail::title(tx, event, member.language())?;
        tx.execute(
            "INSERT INTO notifications (user_id, event_id, event_type, title, link, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            params![member.id, event.id, event.kind.as_str(), title, link.clone(), event.created_at.micros()],
        )?;
    }
    Ok(told.len())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub event_id: i64,
    pub event_type: String,
    pub title: String,
    /// The console page the notification is about.
    pub link: Option<String>,
    pub read: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub unread: i64,
    /// Pass as `before` for older ones.
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

pub fn unread_count(tx: &mut dyn Tx, user_id: i64) -> Result<i64, DbError> {
    tx.query_one("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL", params![user_id])?.int(0)
}

pub fn list_notifications(
    tx: &mut dyn Tx,
    user_id: i64,
    query: &NotificationQuery,
) -> Result<NotificationPage, IntegrationError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let mut filter = crate::db::Filter::new();
    filter.when("user_id = ?", Some(vec![user_id]));
    filter.when("id < ?", query.before.map(|b| vec![b]));
    if query.unread == Some(true) {
        filter.when::<i64>("read_at IS NULL", Some(vec![]));
    }
    let items = tx
        .query(
            &format!(
                "SELECT id, event_id, event_type, title, link, read_at, created_at FROM notifications{} \
                 ORDER BY id DESC LIMIT {limit}",
                filter.sql()
            ),
            &filter.params.clone(),
        )?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.int(0)?,
                event_id: r.int(1)?,
                event_type: r.text(2)?,
                title: r.text(3)?,
                link: r.opt_text(4)?,
                read: r.opt_int(5)?.is_some(),
                created_at: Timestamp(r.int(6)?),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    let next_before = if items.len() as i64 == limit { items.last().map(|n| n.id) } else { None };
    Ok(NotificationPage { items, unread: unread_count(tx, user_id)?, next_before })
}

/// Marks one notification read, or all of the user's when `id` is None.
pub fn mark_read(tx: &mut dyn Tx, user_id: i64, id: Option<i64>, now: Timestamp) -> Result<i64, IntegrationError> {
    match id {
        Some(id) => {
            let changed = tx.execute(
                "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?",
                params![now.micros(), id, user_id],
            )?;
            if changed == 0 {
                return Err(IntegrationError::NotificationNotFound(id));
            }
        }
        None => {
            tx.execute(
                "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
                params![now.micros(), user_id],
            )?;
        }
    }
    Ok(unread_count(tx, user_id)?)
}
