//! Domain events: named, versioned facts (`stock.low`, `order.notify`…) appended in the same
//! transaction as the change that caused them, readable as a feed by polling consumers.

use crate::db::{DbError, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    /// Increasing: consumers remember the last one they saw and ask for those `after` it.
    pub id: i64,
    /// e.g. `stock.low`, `order.notify`.
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: Timestamp,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventFeed {
    pub items: Vec<Event>,
    /// Pass as `after` for the next page; absent when there was nothing new.
    pub last_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct EventQuery {
    /// Only events after this id.
    pub after: Option<i64>,
    /// Only this type, e.g. `stock.low`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

/// Appends one event in the caller's transaction.
pub fn record(
    tx: &mut dyn Tx,
    kind: &str,
    aggregate: (&str, i64),
    data: &serde_json::Value,
    at: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO events (type, aggregate, aggregate_id, data, created_at) VALUES (?, ?, ?, ?, ?)",
        params![kind, aggregate.0, aggregate.1, data.to_string(), at.micros()],
    )?;
    Ok(())
}

pub fn feed(tx: &mut dyn Tx, query: &EventQuery) -> Result<EventFeed, DbError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let mut filter = crate::db::Filter::new();
    filter.when("id > ?", query.after.map(|a| vec![a]));
    filter.when("type = ?", query.kind.clone().filter(|k| !k.is_empty()).map(|k| vec![k]));
    let params: Vec<Value> = filter.params.clone();
    let items: Vec<Event> = tx
        .query(
            &format!("SELECT id, type, created_at, data FROM events{} ORDER BY id LIMIT {limit}", filter.sql()),
            &params,
        )?
        .iter()
        .map(|r| {
            Ok(Event {
                id: r.int(0)?,
                kind: r.text(1)?,
                created_at: Timestamp(r.int(2)?),
                data: serde_json::from_str(&r.text(3)?).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<Result<_, DbError>>()?;
    let last_id = items.last().map(|e| e.id);
    Ok(EventFeed { items, last_id })
}
