use super::model::{Order, OrderAmounts, OrderEvent, OrderLine};
use crate::catalog::store::{contains_pattern, currency};
use crate::common::{from_json_text, to_json_text};

use crate::db::{DbError, Filter, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::checks::{HoldCode, HoldReason};
use ordo_domain::money::{from_e4, from_e4_in, to_e4};
use ordo_domain::orders::{FulfillmentStatus, OrderStatus, PaymentStatus};
use ordo_domain::payments::OrderMoney;

const HEADER_COLUMNS: &str = "o.id, o.number, o.customer_id, c.name, o.channel, o.external_ref, o.currency, o.status, \
    o.payment_status, o.fulfillment_status, o.subtotal_e4, o.tax_total_e4, o.total_e4, o.payment_terms, o.shipping_address, \
    o.billing_address, o.notes, o.requested_delivery_date, o.created_by, o.version, o.created_at, o.updated_at, \
    o.tags, o.department, o.split_from, o.merged_into, o.stock_reserved, o.priority, \
    o.paid_e4, o.on_account_e4, o.authorized_e4, o.refunded_e4, o.credited_e4, o.invoiced_e4, o.payment_method, \
    o.shipping_service, o.split_reason, o.delivered_at, o.coupon_code";
const HEADER_FROM: &str = "orders o JOIN customers c ON c.id = o.customer_id";

fn decode<T>(value: Option<T>, what: &str) -> Result<T, DbError> {
    value.ok_or_else(|| DbError::Decode(format!("unknown {what} stored")))
}

fn header(row: &Row) -> Result<Order, DbError> {
    let currency = currency(&row.text(6)?)?;
    let status = decode(OrderStatus::parse(&row.text(7)?), "order status")?;
    Ok(Order {
        id: row.int(0)?,
        number: row.text(1)?,
        customer_id: row.int(2)?,
        customer_name: row.text(3)?,
        channel: row.text(4)?,
        external_ref: row.opt_text(5)?,
        currency,
        status,
        allowed_actions: status.allowed_actions(),
        payment_status: decode(PaymentStatus::parse(&row.text(8)?), "payment status")?,
        fulfillment_status: decode(FulfillmentStatus::parse(&row.text(9)?), "fulfillment status")?,
        subtotal: from_e4_in(row.int(10)?, currency),
        tax_total: from_e4_in(row.int(11)?, currency),
        total: from_e4_in(row.int(12)?, currency),
        payment_terms: row.text(13)?,
        shipping_address: from_json_text(row.opt_text(14)?),
        billing_address: from_json_text(row.opt_text(15)?),
        notes: row.opt_text(16)?,
        requested_delivery_date: row.opt_text(17)?,
        created_by: row.text(18)?,
        version: row.int(19)?,
        created_at: Timestamp(row.int(20)?),
        updated_at: Timestamp(row.int(21)?),
        tags: row.opt_text(22)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        department: row.opt_text(23)?,
        split_from: row.opt_int(24)?,
        merged_into: row.opt_int(25)?,
        stock_reserved: row.int(26)? != 0,
        priority: row.int(27)?,
        amounts: amounts(row, currency)?,
        payment_method: row.opt_text(34)?,
        shipping_service: row.opt_text(35)?,
        split_reason: row.opt_text(36)?,
        delivered_at: row.opt_int(37)?.map(Timestamp),
        coupon_code: row.opt_text(38)?,
        hold_reasons: Vec::new(),
        approvals: Vec::new(),
        lines: Vec::new(),
    })
}

fn amounts(row: &Row, currency: ordo_domain::Currency) -> Result<OrderAmounts, DbError> {
    let at = |i: usize| row.int(i).map(|v| from_e4_in(v, currency));
    let money = OrderMoney {
        total: at(12)?,
        paid: at(28)?,
        on_account: at(29)?,
        authorized: at(30)?,
        refunded: at(31)?,
        credited: at(32)?,
    };
    Ok(OrderAmounts {
        paid: money.paid,
        due: currency.round(money.due()),
        on_account: money.on_account,
        authorized: money.authorized,
        refunded: money.refunded,
        credited: money.credited,
        invoiced: at(33)?,
    })
}

/// Takes the next number of a yearly sequence. The counter row stays locked until the
/// transaction ends, so numbers are gap-free: a rolled-back order gives its number back.
/// One statement on SQLite and PostgreSQL (`UPDATE … RETURNING`); a MySQL engine, which
/// lacks it, would follow the UPDATE with a SELECT in the same transaction.
pub fn next_order_sequence(tx: &mut dyn Tx, year: i32) -> Result<i64, DbError> {
    next_sequence(tx, &format!("order_number:{year}"))
}

/// Takes the next number of a named gap-free sequence (orders, transfers…).
pub fn next_sequence(tx: &mut dyn Tx, name: &str) -> Result<i64, DbError> {
    let bumped = tx.query("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", params![name])?;
    if let Some(row) = bumped.first() {
        return row.int(0);
    }
    tx.execute("INSERT INTO counters (name, value) VALUES (?, 1)", params![name])?;
    Ok(1)
}

/// Gives an order inserted under a provisional number its real one.
pub fn set_number(tx: &mut dyn Tx, id: i64, number: &str) -> Result<(), DbError> {
    tx.execute("UPDATE orders SET number = ? WHERE id = ?", params![number, id])?;
    Ok(())
}

pub fn id_by_external_ref(tx: &mut dyn Tx, channel: &str, external_ref: &str) -> Result<Option<i64>, DbError> {
    tx.query_opt("SELECT id FROM orders WHERE channel = ? AND external_ref = ?", params![channel, external_ref])?
        .map(|r| r.int(0))
        .transpose()
}

/// The order header as stored, for insert.
pub struct OrderRow<'a> {
    pub number: &'a str,
    pub order: &'a Order,
    pub fingerprint: &'a str,
}

fn tags_text(tags: &[String]) -> Option<String> {
    (!tags.is_empty()).then(|| serde_json::to_string(tags).unwrap_or_default())
}

pub fn insert_order(tx: &mut dyn Tx, row: &OrderRow) -> Result<i64, DbError> {
    let o = row.order;
    tx.insert(
        "INSERT INTO orders (number, customer_id, channel, external_ref, currency, status, payment_status, fulfillment_status, \
         subtotal_e4, tax_total_e4, total_e4, payment_terms, shipping_address, billing_address, notes, requested_delivery_date, \
         created_by, version, created_at, updated_at, tags, department, fingerprint, split_from, priority, payment_method, \
         shipping_service, split_reason, confirmed_at, coupon_code) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            row.number, o.customer_id, o.channel.as_str(), o.external_ref.clone(), o.currency.code(), o.status.as_str(),
            o.payment_status.as_str(), o.fulfillment_status.as_str(), to_e4(o.subtotal), to_e4(o.tax_total), to_e4(o.total),
            o.payment_terms.as_str(), to_json_text(&o.shipping_address), to_json_text(&o.billing_address), o.notes.clone(),
            o.requested_delivery_date.clone(), o.created_by.as_str(), o.created_at.micros(), o.updated_at.micros(),
            tags_text(&o.tags), o.department.clone(), row.fingerprint, o.split_from, o.priority, o.payment_method.clone(),
            o.shipping_service.clone(), o.split_reason.clone(),
            (o.status == OrderStatus::Confirmed).then_some(o.created_at.micros()), o.coupon_code.clone()
        ],
    )
}

/// A priced, reserved line ready to store.
pub struct LineRow<'a> {
    pub line: &'a OrderLine,
    pub product_id: i64,
    pub warehouse_id: i64,
}

/// All lines in one multi-row INSERT.
pub fn insert_lines(tx: &mut dyn Tx, order_id: i64, lines: &[LineRow]) -> Result<(), DbError> {
    let mut sql = String::from(
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price_e4, discount_percent_e4, \
         tax_rate_e4, line_total_e4, tax_e4, warehouse_id, backordered, promise_date, pricing, pack_unit, pack_size, \
         tax_included, unit_cost_e4) VALUES ",
    );
    let mut params: Vec<Value> = Vec::with_capacity(lines.len() * 19);
    for (i, row) in lines.iter().enumerate() {
        sql.push_str(if i == 0 {
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT cost_e4 FROM products WHERE id = ?))"
        } else {
            ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT cost_e4 FROM products WHERE id = ?))"
        });
        let l = row.line;
        params.extend([
            order_id.into(),
            l.line_no.into(),
            row.product_id.into(),
            l.sku.as_str().into(),
            l.name.as_str().into(),
            l.quantity.into(),
            to_e4(l.unit_price).into(),
            to_e4(l.discount_percent).into(),
            to_e4(l.tax_rate).into(),
            to_e4(l.line_total).into(),
            to_e4(l.tax).into(),
            row.warehouse_id.into(),
            l.backordered_quantity.into(),
            l.promise_date.clone().into(),
            to_json_text(&l.pricing).into(),
            l.pack.as_ref().map(|p| p.unit.clone()).into(),
            l.pack.as_ref().map(|p| p.size).into(),
            i64::from(l.tax_included).into(),
            row.product_id.into(),
        ]);
    }
    tx.execute(&sql, &params)?;
    Ok(())
}

/// Locks the order row (see `inventory::store::lock_level`) and returns its header.
pub fn lock_header(tx: &mut dyn Tx, id: i64) -> Result<Option<Order>, DbError> {
    if tx.execute("UPDATE orders SET version = version WHERE id = ?", params![id])? == 0 {
        return Ok(None);
    }
    header_by_id(tx, id)
}

pub fn header_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Order>, DbError> {
    let sql = format!("SELECT {HEADER_COLUMNS} FROM {HEADER_FROM} WHERE o.id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(header).transpose()
}

pub fn set_status(tx: &mut dyn Tx, id: i64, status: OrderStatus, now: Timestamp) -> Result<(), DbError> {
    if status == OrderStatus::Cancelled {
        crate::reports::summaries::uncount_order(tx, id)?;
    }
    tx.execute(
        "UPDATE orders SET status = ?, version = version + 1, updated_at = ?, \
         confirmed_at = CASE WHEN confirmed_at IS NULL AND ? = 'confirmed' THEN ? ELSE confirmed_at END \
         WHERE id = ?",
        params![status.as_str(), now.micros(), status.as_str(), now.micros(), id],
    )?;
    Ok(())
}

pub fn set_stock_reserved(tx: &mut dyn Tx, id: i64, reserved: bool) -> Result<(), DbError> {
    tx.execute("UPDATE orders SET stock_reserved = ? WHERE id = ?", params![reserved, id])?;
    Ok(())
}

pub fn set_line_warehouse(tx: &mut dyn Tx, order_id: i64, line_no: i64, warehouse_id: i64) -> Result<(), DbError> {
    tx.execute(
        "UPDATE order_lines SET warehouse_id = ? WHERE order_id = ? AND line_no = ?",
        params![warehouse_id, order_id, line_no],
    )?;
    Ok(())
}

/// Orders waiting on hold for stock, oldest first.
pub fn waiting_for_stock(tx: &mut dyn Tx, limit: i64) -> Result<Vec<i64>, DbError> {
    tx.query(
        &format!(
            "SELECT DISTINCT h.order_id FROM order_holds h JOIN orders o ON o.id = h.order_id \
             WHERE h.code = 'stock' AND h.released_at IS NULL AND o.status = 'on_hold' ORDER BY h.order_id LIMIT {limit}"
        ),
        &[],
    )?
    .iter()
    .map(|r| r.int(0))
    .collect()
}

/// (product_id, warehouse_id, quantity) of each line: what a cancellation releases.
pub fn reservations(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<(i64, i64, i64)>, DbError> {
    tx.query(
        "SELECT product_id, warehouse_id, quantity - backordered - shipped FROM order_lines \
         WHERE order_id = ? AND quantity > backordered + shipped ORDER BY product_id, line_no",
        params![order_id],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)))
    .collect()
}

/// Fills in the lines of the given orders with one query.
pub fn attach_lines(tx: &mut dyn Tx, orders: &mut [Order]) -> Result<(), DbError> {
    if orders.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; orders.len()].join(", ");
    let sql = format!(
        "SELECT l.order_id, l.line_no, l.sku, l.name, l.quantity, l.unit_price_e4, l.discount_percent_e4, l.tax_rate_e4, \
         l.line_total_e4, l.tax_e4, w.code, l.backordered, l.promise_date, l.picked, l.shipped, l.pricing, l.pack_unit, \
         l.pack_size, l.tax_included FROM order_lines l \
         JOIN warehouses w ON w.id = l.warehouse_id \
         WHERE l.order_id IN ({marks}) ORDER BY l.order_id, l.line_no"
    );
    let ids: Vec<Value> = orders.iter().map(|o| o.id.into()).collect();
    for row in tx.query(&sql, &ids)? {
        let order_id = row.int(0)?;
        let Some(order) = orders.iter_mut().find(|o| o.id == order_id) else {
            continue;
        };
        let currency = order.currency;
        order.lines.push(OrderLine {
            line_no: row.int(1)?,
            sku: row.text(2)?,
            name: row.text(3)?,
            quantity: row.int(4)?,
            unit_price: from_e4_in(row.int(5)?, currency),
            discount_percent: from_e4(row.int(6)?),
            tax_rate: from_e4(row.int(7)?),
            line_total: from_e4_in(row.int(8)?, currency),
            tax: from_e4_in(row.int(9)?, currency),
            warehouse: row.text(10)?,
            backordered_quantity: row.int(11)?,
            promise_date: row.opt_text(12)?,
            picked_quantity: row.int(13)?,
            shipped_quantity: row.int(14)?,
            pricing: from_json_text(row.opt_text(15)?),
            pack: match (row.opt_text(16)?, row.opt_int(17)?) {
                (Some(unit), Some(size)) => Some(ordo_domain::catalog::Pack { unit, size }),
                _ => None,
            },
            tax_included: row.int(18)? != 0,
        });
    }
    Ok(())
}

/// Parsed list filters.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub fulfillment_status: Option<FulfillmentStatus>,
    pub customer_id: Option<i64>,
    pub channel: Option<String>,
    pub q: Option<String>,
    pub created_from: Option<Timestamp>,
    /// Exclusive upper bound.
    pub created_before: Option<Timestamp>,
    pub sort: OrderSort,
    pub department: Option<String>,
    pub customer_group: Option<String>,
    pub region: Option<String>,
    pub salesperson: Option<String>,
}

/// The order of a list. Pages continue after the last order shown: its id is the cursor and
/// its sort key is looked up, so equal dates or totals page without skips or repeats.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum OrderSort {
    #[default]
    NewestFirst,
    OldestFirst,
    TotalHighFirst,
    TotalLowFirst,
}

impl OrderSort {
    pub fn parse(text: &str) -> Option<OrderSort> {
        match text {
            "newest" => Some(OrderSort::NewestFirst),
            "oldest" => Some(OrderSort::OldestFirst),
            "total_desc" => Some(OrderSort::TotalHighFirst),
            "total_asc" => Some(OrderSort::TotalLowFirst),
            _ => None,
        }
    }

    /// Rows after the cursor order, as a row-value comparison the index can seek to.
    fn after(self) -> &'static str {
        match self {
            OrderSort::NewestFirst => "(o.created_at, o.id) < ((SELECT created_at FROM orders WHERE id = ?), ?)",
            OrderSort::OldestFirst => "(o.created_at, o.id) > ((SELECT created_at FROM orders WHERE id = ?), ?)",
            OrderSort::TotalHighFirst => "(o.total_e4, o.id) < ((SELECT total_e4 FROM orders WHERE id = ?), ?)",
            OrderSort::TotalLowFirst => "(o.total_e4, o.id) > ((SELECT total_e4 FROM orders WHERE id = ?), ?)",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            OrderSort::NewestFirst => "o.created_at DESC, o.id DESC",
            OrderSort::OldestFirst => "o.created_at ASC, o.id ASC",
            OrderSort::TotalHighFirst => "o.total_e4 DESC, o.id DESC",
            OrderSort::TotalLowFirst => "o.total_e4 ASC, o.id ASC",
        }
    }
}

pub fn list_headers(
    tx: &mut dyn Tx,
    f: &ListFilter,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Order>, DbError> {
    let mut filter = Filter::new();
    filter.when(f.sort.after(), before_id.map(|id| vec![id; 2]));
    filter.when("o.status = ?", f.status.map(|s| vec![s.as_str()]));
    filter.when("o.payment_status = ?", f.payment_status.map(|s| vec![s.as_str()]));
    filter.when("o.fulfillment_status = ?", f.fulfillment_status.map(|s| vec![s.as_str()]));
    filter.when("o.customer_id = ?", f.customer_id.map(|id| vec![id]));
    filter.when("o.channel = ?", f.channel.clone().map(|c| vec![c]));
    filter.when("o.department = ?", f.department.clone().map(|d| vec![d]));
    filter.when("c.customer_group = ?", f.customer_group.clone().map(|g| vec![g]));
    filter.when("c.region = ?", f.region.clone().map(|r| vec![r]));
    filter.when("c.salesperson = ?", f.salesperson.clone().map(|s| vec![s.to_lowercase()]));
    filter.when("o.created_at >= ?", f.created_from.map(|t| vec![t.micros()]));
    filter.when("o.created_at < ?", f.created_before.map(|t| vec![t.micros()]));
    filter.when(
        "(LOWER(o.number) LIKE ? ESCAPE '!' OR LOWER(o.external_ref) LIKE ? ESCAPE '!' \
         OR LOWER(c.code) LIKE ? ESCAPE '!' OR LOWER(c.name) LIKE ? ESCAPE '!' \
         OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND LOWER(l.sku) LIKE ? ESCAPE '!'))",
        f.q.as_deref().map(contains_pattern).map(|p| vec![p.clone(), p.clone(), p.clone(), p.clone(), p]),
    );
    let sql = format!(
        "SELECT {HEADER_COLUMNS} FROM {HEADER_FROM}{} ORDER BY {} LIMIT {limit}",
        filter.sql(),
        f.sort.order_by()
    );
    tx.query(&sql, &filter.params)?.iter().map(header).collect()
}

pub fn append_event(
    tx: &mut dyn Tx,
    order_id: i64,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO order_events (order_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?)",
        params![order_id, at.micros(), actor, action, details.to_string()],
    )?;
    // The timeline is where every status change passes: the domain events go out from here.
    let kinds = ordo_domain::events::order_events(action, details.get("to").and_then(|t| t.as_str()));
    if !kinds.is_empty() {
        crate::events::announce_order(tx, order_id, &kinds, actor, details, at)?;
    }
    Ok(())
}

pub fn events(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<OrderEvent>, DbError> {
    tx.query(
        "SELECT id, at, actor, action, details FROM order_events WHERE order_id = ? ORDER BY id",
        params![order_id],
    )?
    .iter()
    .map(|r| {
        Ok(OrderEvent {
            id: r.int(0)?,
            at: Timestamp(r.int(1)?),
            actor: r.text(2)?,
            action: r.text(3)?,
            details: serde_json::from_str(&r.text(4)?).unwrap_or(serde_json::Value::Null),
        })
    })
    .collect()
}

/// Status, tags and queue after a review; bumps the version.
pub fn set_review(tx: &mut dyn Tx, order: &Order, now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE orders SET status = ?, tags = ?, department = ?, priority = ?, version = version + 1, updated_at = ?, \
         confirmed_at = CASE WHEN confirmed_at IS NULL AND ? = 'confirmed' THEN ? ELSE confirmed_at END WHERE id = ?",
        params![
            order.status.as_str(),
            tags_text(&order.tags),
            order.department.clone(),
            order.priority,
            now.micros(),
            order.status.as_str(),
            now.micros(),
            order.id
        ],
    )?;
    Ok(())
}

/// Totals, address, date and notes after an edit, split or merge; bumps the version.
pub fn update_contents(tx: &mut dyn Tx, o: &Order, fingerprint: &str, now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE orders SET subtotal_e4 = ?, tax_total_e4 = ?, total_e4 = ?, shipping_address = ?, notes = ?, \
         requested_delivery_date = ?, fingerprint = ?, priority = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![
            to_e4(o.subtotal),
            to_e4(o.tax_total),
            to_e4(o.total),
            to_json_text(&o.shipping_address),
            o.notes.clone(),
            o.requested_delivery_date.clone(),
            fingerprint,
            o.priority,
            now.micros(),
            o.id
        ],
    )?;
    Ok(())
}

pub fn replace_lines(tx: &mut dyn Tx, order_id: i64, lines: &[LineRow]) -> Result<(), DbError> {
    crate::reports::summaries::uncount_order(tx, order_id)?;
    tx.execute("DELETE FROM order_lines WHERE order_id = ?", params![order_id])?;
    if !lines.is_empty() {
        insert_lines(tx, order_id, lines)?;
    }
    crate::reports::summaries::count_order(tx, order_id)
}

/// (line_no, product_id, warehouse_id) of each line.
pub fn line_sources(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<(i64, i64, i64)>, DbError> {
    tx.query(
        "SELECT line_no, product_id, warehouse_id FROM order_lines WHERE order_id = ? ORDER BY line_no",
        params![order_id],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)))
    .collect()
}

pub fn set_merged_into(tx: &mut dyn Tx, id: i64, target: i64, now: Timestamp) -> Result<(), DbError> {
    crate::reports::summaries::uncount_order(tx, id)?;
    tx.execute(
        "UPDATE orders SET status = 'cancelled', merged_into = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![target, now.micros(), id],
    )?;
    Ok(())
}

/// What the customer owes or will owe in this currency (×10^4): open receivables and open
/// orders not yet paid, other than `except`.
pub fn exposure(tx: &mut dyn Tx, customer_id: i64, currency: &str, except: i64) -> Result<i64, DbError> {
    tx.query_one(
        "SELECT CAST(COALESCE(SUM(total_e4 - credited_e4 - paid_e4), 0) AS BIGINT) FROM orders \
         WHERE customer_id = ? AND currency = ? AND id <> ? AND status <> 'cancelled' AND total_e4 > credited_e4 + paid_e4",
        params![customer_id, currency, except],
    )?
    .int(0)
}

/// What placement needs besides the order, read in one round trip.
pub struct PlacementContext {
    /// The stored order policy (JSON), if one was saved.
    pub policy: Option<String>,
    /// The stored payment methods (JSON), if configured.
    pub payment_methods: Option<String>,
    /// The stored fulfillment settings (JSON): the sourcing strategy.
    pub fulfillment: Option<String>,
    /// (id, name, condition, actions JSON, priority) of each enabled rule.
    pub rules: Vec<(i64, String, String, String, i64)>,
    /// The newest live order with the same customer and lines: (number, placed at).
    pub newest_same_lines: Option<(String, Timestamp)>,
}

pub fn placement_context(tx: &mut dyn Tx, customer_id: i64, fingerprint: &str) -> Result<PlacementContext, DbError> {
    let rows = tx.query(
        "SELECT 'rule', id, name, condition_text, actions, priority FROM rules WHERE deleted_at IS NULL AND enabled = 1 \
         UNION ALL SELECT name, CAST(NULL AS BIGINT), value, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT) \
         FROM settings WHERE name IN ('order_policy', 'payment_methods', 'fulfillment') \
         UNION ALL SELECT 'same_lines', created_at, number, CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT) \
         FROM (SELECT created_at, number FROM orders WHERE customer_id = ? AND fingerprint = ? AND status <> 'cancelled' \
         ORDER BY created_at DESC LIMIT 1) d",
        params![customer_id, fingerprint],
    )?;
    let mut context = PlacementContext {
        policy: None,
        payment_methods: None,
        fulfillment: None,
        rules: Vec::new(),
        newest_same_lines: None,
    };
    for row in rows {
        match row.text(0)?.as_str() {
            "rule" => context.rules.push((row.int(1)?, row.text(2)?, row.text(3)?, row.text(4)?, row.int(5)?)),
            "order_policy" => context.policy = Some(row.text(2)?),
            "payment_methods" => context.payment_methods = Some(row.text(2)?),
            "fulfillment" => context.fulfillment = Some(row.text(2)?),
            _ => context.newest_same_lines = Some((row.text(2)?, Timestamp(row.int(1)?))),
        }
    }
    context.rules.sort_by_key(|(id, _, _, _, priority)| (-priority, *id));
    Ok(context)
}

/// The number of an earlier live order with the same customer and lines placed since `since`.
pub fn duplicate_of(
    tx: &mut dyn Tx,
    customer_id: i64,
    fingerprint: &str,
    since: Timestamp,
    before_id: i64,
) -> Result<Option<String>, DbError> {
    tx.query_opt(
        "SELECT number FROM orders WHERE customer_id = ? AND fingerprint = ? AND created_at >= ? AND id < ? \
         AND status <> 'cancelled' ORDER BY id LIMIT 1",
        params![customer_id, fingerprint, since.micros(), before_id],
    )?
    .map(|r| r.text(0))
    .transpose()
}

pub fn insert_holds(
    tx: &mut dyn Tx,
    order_id: i64,
    reasons: &[HoldReason],
    actor: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    for reason in reasons {
        tx.execute(
            "INSERT INTO order_holds (order_id, code, message, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            params![order_id, reason.code.as_str(), reason.message.as_str(), actor, now.micros()],
        )?;
    }
    Ok(())
}

/// Releases open holds: all of them, or only those the checks put (which re-run).
pub fn close_holds(
    tx: &mut dyn Tx,
    order_id: i64,
    only_automatic: bool,
    by: &str,
    reason: &str,
    now: Timestamp,
) -> Result<u64, DbError> {
    let manual = if only_automatic { " AND code <> 'manual'" } else { "" };
    tx.execute(
        &format!(
            "UPDATE order_holds SET released_at = ?, released_by = ?, release_reason = ? \
             WHERE order_id = ? AND released_at IS NULL{manual}"
        ),
        params![now.micros(), by, reason, order_id],
    )
}

/// Releases the open holds of one kind.
pub fn close_holds_of(
    tx: &mut dyn Tx,
    order_id: i64,
    code: HoldCode,
    by: &str,
    reason: &str,
    now: Timestamp,
) -> Result<u64, DbError> {
    tx.execute(
        "UPDATE order_holds SET released_at = ?, released_by = ?, release_reason = ? \
         WHERE order_id = ? AND code = ? AND released_at IS NULL",
        params![now.micros(), by, reason, order_id, code.as_str()],
    )
}

pub fn open_hold_count(tx: &mut dyn Tx, order_id: i64) -> Result<i64, DbError> {
    tx.query_one("SELECT COUNT(*) FROM order_holds WHERE order_id = ? AND released_at IS NULL", params![order_id])?
        .int(0)
}

/// Fills in hold reasons and current approval steps; one query each, only where needed.
pub fn attach_processing(tx: &mut dyn Tx, orders: &mut [Order]) -> Result<(), DbError> {
    let held: Vec<Value> = orders.iter().filter(|o| o.status == OrderStatus::OnHold).map(|o| o.id.into()).collect();
    if !held.is_empty() {
        let marks = vec!["?"; held.len()].join(", ");
        let sql = format!(
            "SELECT order_id, code, message FROM order_holds WHERE order_id IN ({marks}) AND released_at IS NULL ORDER BY id"
        );
        for row in tx.query(&sql, &held)? {
            let order_id = row.int(0)?;
            if let Some(order) = orders.iter_mut().find(|o| o.id == order_id) {
                let code = decode(HoldCode::parse(&row.text(1)?), "hold code")?;
                order.hold_reasons.push(HoldReason::new(code, row.text(2)?));
            }
        }
    }
    let waiting: Vec<i64> = orders
        .iter()
        .filter(|o| matches!(o.status, OrderStatus::PendingApproval | OrderStatus::OnHold | OrderStatus::Draft))
        .map(|o| o.id)
        .collect();
    for step in crate::approvals::store::current_steps(tx, &waiting)? {
        if let Some(order) = orders.iter_mut().find(|o| o.id == step.order_id) {
            order.approvals.push(step);
        }
    }
    Ok(())
}

/// An order line waiting for supply.
#[derive(Debug, Clone)]
pub struct Backorder {
    pub order_id: i64,
    pub number: String,
    pub line_no: i64,
    /// Where the line is planned (and its reserved part, if any, held).
    pub warehouse_id: i64,
    pub quantity: i64,
    pub backordered: i64,
}

/// Open backordered lines of a product, oldest order first.
pub fn backorders(tx: &mut dyn Tx, product_id: i64) -> Result<Vec<Backorder>, DbError> {
    tx.query(
        "SELECT o.id, o.number, l.line_no, l.warehouse_id, l.quantity, l.backordered FROM order_lines l \
         JOIN orders o ON o.id = l.order_id WHERE l.product_id = ? AND l.backordered > 0 \
         AND o.status IN ('pending_approval', 'on_hold', 'confirmed', 'draft', 'partially_shipped') \
         ORDER BY o.priority DESC, o.created_at, o.id, l.line_no",
        params![product_id],
    )?
    .iter()
    .map(|r| {
        Ok(Backorder {
            order_id: r.int(0)?,
            number: r.text(1)?,
            line_no: r.int(2)?,
            warehouse_id: r.int(3)?,
            quantity: r.int(4)?,
            backordered: r.int(5)?,
        })
    })
    .collect()
}

pub fn set_backorder(
    tx: &mut dyn Tx,
    order_id: i64,
    line_no: i64,
    warehouse_id: i64,
    backordered: i64,
    promise_date: Option<&str>,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE order_lines SET warehouse_id = ?, backordered = ?, promise_date = ? WHERE order_id = ? AND line_no = ?",
        params![warehouse_id, backordered, promise_date, order_id, line_no],
    )?;
    Ok(())
}
