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

/// Records order events with the order's standing facts (number, customer, status, total)
/// and the timeline entry's reason, read in the same transaction.
pub fn announce_order(
    tx: &mut dyn Tx,
    order_id: i64,
    kinds: &[&str],
    actor: &str,
    details: &serde_json::Value,
    at: Timestamp,
) -> Result<(), DbError> {
    let row = tx.query_one(
        "SELECT number, customer_id, status, total_e4, currency FROM orders WHERE id = ?",
        params![order_id],
    )?;
    let currency = row.text(4)?;
    let total_e4 = row.int(3)?;
    let total = ordo_domain::Currency::parse(&currency)
        .map(|c| ordo_domain::money::from_e4_in(total_e4, c).to_string())
        .unwrap_or_default();
    let facts = OrderFacts {
        id: order_id,
        number: &row.text(0)?,
        customer_id: row.int(1)?,
        status: &row.text(2)?,
        total: &total,
        currency: &currency,
    };
    let mut data = facts.data(actor);
    if let (Some(map), Some(reason)) = (data.as_object_mut(), details.get("reason")) {
        map.insert("reason".into(), reason.clone());
    }
    for kind in kinds {
        record(tx, kind, ("order", order_id), &data, at)?;
    }
    Ok(())
}

/// What every order event carries.
pub struct OrderFacts<'a> {
    pub id: i64,
    pub number: &'a str,
    pub customer_id: i64,
    pub status: &'a str,
    pub total: &'a str,
    pub currency: &'a str,
}

impl OrderFacts<'_> {
    pub fn data(&self, actor: &str) -> serde_json::Value {
        serde_json::json!({"order_id": self.id, "order": self.number, "customer_id": self.customer_id,
            "status": self.status, "total": self.total, "currency": self.currency, "actor": actor})
    }
}
