//! Supply planning over the stored data: available-to-promise per SKU (and warehouse),
//! replenishment settings per SKU and warehouse, and purchase suggestions from a demand
//! forecast; one action turns chosen suggestions into purchase orders per supplier.

use super::model::InventoryError;
use super::store as stock;
use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Tx, Value};
use crate::params;
use crate::purchasing::{self, NewPurchaseLine, NewPurchaseOrder, PurchaseOrder};
use ordo_domain::Timestamp;
use ordo_domain::inventory::MAX_ON_HAND;
use ordo_domain::money::from_e4;
use ordo_domain::supply::{self, Method};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const DAY: i64 = 86_400;
/// Days of sales history a forecast looks at.
const HISTORY_DAYS: i64 = 56;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Atp {
    pub sku: String,
    /// The warehouse asked about; absent for all warehouses together.
    pub warehouse: Option<String>,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Units on order lines waiting for supply (backorders), served first from what comes in.
    pub backordered: i64,
    /// Open purchase orders by expected date, and transfers in transit (expected tomorrow).
    pub incoming: Vec<DatedQuantity>,
    /// From each date on, how many units can be promised (cumulative).
    pub promise: Vec<DatedQuantity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DatedQuantity {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub quantity: i64,
}

fn date_of(now: Timestamp, days: i64) -> String {
    now.plus_seconds(days * DAY).to_rfc3339().chars().take(10).collect()
}

fn day_of(now: Timestamp, date: &str) -> i64 {
    let today = now.micros().div_euclid(1_000_000 * DAY);
    Date::parse(date).map(|d| d.days_since_epoch() - today).unwrap_or(0)
}

struct Supply {
    on_hand: i64,
    reserved: i64,
    backordered: i64,
    /// (days from today, quantity)
    incoming: Vec<(i64, i64)>,
}

fn supply_of(tx: &mut dyn Tx, product_id: i64, warehouse_id: Option<i64>, now: Timestamp) -> Result<Supply, DbError> {
    let mut scope = String::new();
    let mut args: Vec<Value> = vec![product_id.into()];
    if let Some(w) = warehouse_id {
        scope.push_str(" AND warehouse_id = ?");
        args.push(w.into());
    }
    let level = tx.query_one(
        &format!(
            "SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT), CAST(COALESCE(SUM(reserved), 0) AS BIGINT) \
             FROM stock_levels WHERE product_id = ?{scope}"
        ),
        &args,
    )?;
    let backordered = tx
        .query_one(
            &format!(
                "SELECT CAST(COALESCE(SUM(l.backordered), 0) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id \
                 WHERE l.product_id = ? AND l.backordered > 0 AND o.status <> 'cancelled'{}",
                scope.replace("warehouse_id", "l.warehouse_id")
            ),
            &args,
        )?
        .int(0)?;
    let mut incoming: Vec<(i64, i64)> = Vec::new();
    let pos = tx.query(
        &format!(
            "SELECT o.expected_date, CAST(SUM(l.quantity - l.received) AS BIGINT) FROM purchase_order_lines l \
             JOIN purchase_orders o ON o.id = l.purchase_order_id \
             WHERE l.product_id = ? AND o.status IN ('sent', 'partially_received'){} GROUP BY o.expected_date",
            scope.replace("warehouse_id", "o.warehouse_id")
        ),
        &args,
    )?;
    for row in pos {
        incoming.push((day_of(now, &row.text(0)?).max(0), row.int(1)?));
    }
    if let Some(w) = warehouse_id {
        // Between a company's own warehouses a transfer only moves stock; for one
        // warehouse what is in transit to it counts as arriving tomorrow.
        let in_transit = tx
            .query_one(
                "SELECT CAST(COALESCE(SUM(l.quantity - l.received - l.lost), 0) AS BIGINT) FROM transfer_lines l \
                 JOIN transfers t ON t.id = l.transfer_id WHERE l.product_id = ? AND t.to_warehouse_id = ? \
                 AND t.status IN ('shipped', 'partially_received')",
                params![product_id, w],
            )?
            .int(0)?;
        if in_transit > 0 {
            incoming.push((1, in_transit));
        }
    }
    incoming.sort();
    Ok(Supply { on_hand: level.int(0)?, reserved: level.int(1)?, backordered, incoming })
}

/// Available-to-promise for a SKU, in one warehouse or all of them.
pub fn atp(tx: &mut dyn Tx, sku: &str, warehouse: Option<&str>, now: Timestamp) -> Result<Atp, InventoryError> {
    let product = crate::catalog::store::products_by_skus(tx, &[sku])?
        .pop()
        .ok_or_else(|| InventoryError::ProductNotFound(sku.to_string()))?;
    let warehouse_id = match warehouse.map(str::trim).filter(|w| !w.is_empty()) {
        None => None,
        Some(code) => Some(
            stock::warehouse_by_code(tx, code)?.ok_or_else(|| InventoryError::WarehouseNotFound(code.to_string()))?.id,
        ),
    };
    let s = supply_of(tx, product.id, warehouse_id, now)?;
    let available = s.on_hand - s.reserved;
    let promises = supply::available_to_promise(available, &s.incoming, s.backordered);
    Ok(Atp {
        sku: product.sku,
        warehouse: warehouse.map(str::to_string).filter(|w| !w.is_empty()),
        on_hand: s.on_hand,
        reserved: s.reserved,
        available,
        backordered: s.backordered,
        incoming: s
            .incoming
            .iter()
            .map(|&(day, quantity)| DatedQuantity { date: date_of(now, day), quantity })
            .collect(),
        promise: promises.iter().map(|p| DatedQuantity { date: date_of(now, p.day), quantity: p.quantity }).collect(),
    })
}

/// When `quantity` more units of a product can be promised, as a date (None: no supply
/// planned for them yet).
pub fn promise_date(
    tx: &mut dyn Tx,
    product_id: i64,
    quantity: i64,
    now: Timestamp,
) -> Result<Option<String>, DbError> {
    let s = supply_of(tx, product_id, None, now)?;
    let promises = supply::available_to_promise(s.on_hand - s.reserved, &s.incoming, s.backordered);
    Ok(supply::earliest_day(&promises, quantity).map(|day| date_of(now, day.max(1))))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReplenishmentInput {
    /// Below this available quantity the SKU is low on stock.
    pub reorder_point: Option<i64>,
    pub safety_stock: Option<i64>,
    /// Default: the supplier's lead time, else 7.
    pub lead_time_days: Option<i64>,
    pub min_order_quantity: Option<i64>,
    /// Who to buy from.
    pub supplier_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub sku: String,
    pub warehouse: String,
    pub available: i64,
    pub incoming: i64,
    pub reorder_point: i64,
    pub safety_stock: i64,
    pub lead_time_days: i64,
    pub below_reorder_point: bool,
    /// Units expected to sell over the lead time.
    pub forecast: i64,
    /// moving_average, exponential_smoothing or seasonal_smoothing.
    pub method: String,
    pub suggested_quantity: i64,
    pub supplier_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

pub fn set_replenishment(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    warehouse: &str,
    sku: &str,
    input: &ReplenishmentInput,
) -> Result<Suggestion, InventoryError> {
    let warehouse_row =
        stock::warehouse_by_code(tx, warehouse)?.ok_or_else(|| InventoryError::WarehouseNotFound(warehouse.into()))?;
    let product = crate::catalog::store::products_by_skus(tx, &[sku])?
        .pop()
        .ok_or_else(|| InventoryError::ProductNotFound(sku.into()))?;
    let mut v = Violations::new();
    let mut units = |field: &str, value: Option<i64>, default: i64| match value {
        None => default,
        Some(n) if (0..=MAX_ON_HAND).contains(&n) => n,
        Some(_) => {
            v.add(field, format!("must be between 0 and {MAX_ON_HAND}"));
            default
        }
    };
    let reorder_point = units("reorder_point", input.reorder_point, 0);
    let safety_stock = units("safety_stock", input.safety_stock, 0);
    let min_order = units("min_order_quantity", input.min_order_quantity, 1);
    let supplier = match input.supplier_id {
        None => None,
        Some(id) => {
            let found = purchasing::store::supplier_by_id(tx, id)?;
            if found.is_none() {
                v.add("supplier_id", format!("no supplier has id {id}"));
            }
            found
        }
    };
    let lead_time = match input.lead_time_days {
        None => supplier.as_ref().map_or(7, |s| s.lead_time_days),
        Some(d) if (0..=365).contains(&d) => d,
        Some(_) => {
            v.add("lead_time_days", "must be between 0 and 365");
            7
        }
    };
    v.into_result()?;
    let supplier_id = supplier.map(|s| s.id);
    let values = params![
        reorder_point,
        safety_stock,
        lead_time,
        min_order,
        supplier_id,
        ctx.now.micros(),
        product.id,
        warehouse_row.id
    ];
    if tx.execute(
        "UPDATE replenishment SET reorder_point = ?, safety_stock = ?, lead_time_days = ?, min_order_quantity = ?, \
         supplier_id = ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
        values,
    )? == 0
    {
        tx.execute(
            "INSERT INTO replenishment (reorder_point, safety_stock, lead_time_days, min_order_quantity, supplier_id, \
             updated_at, product_id, warehouse_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )?;
    }
    let summary = format!("reorder at {reorder_point}, safety {safety_stock}, lead {lead_time} d, min {min_order}");
    crate::audit::record(tx, ctx, "inventory", "replenishment.set", &format!("{warehouse}/{sku}"), &summary)?;
    let mut all = suggestions_for(tx, Some(warehouse_row.id), Some(product.id), ctx.now, true)?;
    all.pop().ok_or(InventoryError::ProductNotFound(sku.into()))
}

/// Units sold per day over the history window, oldest first.
fn daily_sales(tx: &mut dyn Tx, product_id: i64, warehouse_id: i64, now: Timestamp) -> Result<Vec<f64>, DbError> {
    let since = now.minus_days(HISTORY_DAYS);
    let today = now.micros().div_euclid(1_000_000 * DAY);
    let mut days = vec![0.0; HISTORY_DAYS as usize];
    for row in tx.query(
        // Recent orders first, then their lines (CROSS JOIN keeps SQLite from scanning every
        // line ever sold; PostgreSQL plans it the same either way).
        "SELECT o.created_at, l.quantity FROM orders o CROSS JOIN order_lines l \
         WHERE l.order_id = o.id AND o.created_at >= ? AND o.status <> 'cancelled' AND l.product_id = ? AND l.warehouse_id = ?",
        params![since.micros(), product_id, warehouse_id],
    )? {
        let day = row.int(0)?.div_euclid(1_000_000 * DAY);
        let index = HISTORY_DAYS - (today - day) - 1;
        if (0..HISTORY_DAYS).contains(&index) {
            days[index as usize] += row.int(1)? as f64;
        }
    }
    // A product sold only recently has a shorter history, not weeks of zero demand.
    let first = days.iter().position(|d| *d > 0.0).unwrap_or(days.len());
    Ok(days.split_off(first.min(days.len())))
}

fn suggestions_for(
    tx: &mut dyn Tx,
    warehouse_id: Option<i64>,
    product_id: Option<i64>,
    now: Timestamp,
    include_all: bool,
) -> Result<Vec<Suggestion>, InventoryError> {
    let mut filter = crate::db::Filter::new();
    filter.when("r.warehouse_id = ?", warehouse_id.map(|w| vec![w]));
    filter.when("r.product_id = ?", product_id.map(|p| vec![p]));
    let rules = tx.query(
        &format!(
            "SELECT r.product_id, r.warehouse_id, p.sku, w.code, r.reorder_point, r.safety_stock, r.lead_time_days, \
             r.min_order_quantity, r.supplier_id FROM replenishment r JOIN products p ON p.id = r.product_id \
             JOIN warehouses w ON w.id = r.warehouse_id{} ORDER BY p.sku, w.code",
            filter.sql()
        ),
        &filter.params,
    )?;
    let mut items = Vec::new();
    for rule in rules {
        let (product, warehouse) = (rule.int(0)?, rule.int(1)?);
        let (reorder_point, safety_stock, lead_time, min_order) =
            (rule.int(4)?, rule.int(5)?, rule.int(6)?, rule.int(7)?);
        let s = supply_of(tx, product, Some(warehouse), now)?;
        let available = s.on_hand - s.reserved - s.backordered;
        let incoming: i64 = s.incoming.iter().map(|(_, q)| q).sum();
        let history = daily_sales(tx, product, warehouse, now)?;
        let (forecast, method) = if history.is_empty() {
            (0.0, Method::MovingAverage)
        } else {
            supply::forecast(&history, lead_time as usize)
        };
        let suggested =
            supply::suggested_quantity(forecast, safety_stock, reorder_point, available, incoming, min_order);
        let below = available < reorder_point;
        if include_all || suggested > 0 || below {
            items.push(Suggestion {
                sku: rule.text(2)?,
                warehouse: rule.text(3)?,
                available,
                incoming,
                reorder_point,
                safety_stock,
                lead_time_days: lead_time,
                below_reorder_point: below,
                forecast: forecast.ceil() as i64,
                method: method.as_str().to_string(),
                suggested_quantity: suggested,
                supplier_id: rule.opt_int(8)?,
            });
        }
    }
    Ok(items)
}

/// What to buy now: SKUs below their reorder point or short over their lead time.
pub fn replenishment_suggestions(
    tx: &mut dyn Tx,
    warehouse: Option<&str>,
    now: Timestamp,
) -> Result<Suggestions, InventoryError> {
    let warehouse_id = match warehouse.map(str::trim).filter(|w| !w.is_empty()) {
        None => None,
        Some(code) => Some(
            stock::warehouse_by_code(tx, code)?.ok_or_else(|| InventoryError::WarehouseNotFound(code.to_string()))?.id,
        ),
    };
    Ok(Suggestions { items: suggestions_for(tx, warehouse_id, None, now, false)? })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OrderSuggestions {
    /// The suggestions to buy, by SKU and warehouse code.
    pub items: Option<Vec<SuggestionRef>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SuggestionRef {
    pub sku: Option<String>,
    pub warehouse: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrders {
    pub items: Vec<PurchaseOrder>,
}

/// Turns the chosen suggestions into draft purchase orders, one per supplier and
/// warehouse, priced at each product's last purchase cost.
pub fn order_suggestions(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &OrderSuggestions,
) -> Result<PurchaseOrders, InventoryError> {
    let all = suggestions_for(tx, None, None, ctx.now, false)?;
    let mut v = Violations::new();
    let chosen = input.items.as_deref().unwrap_or_default();
    if chosen.is_empty() {
        v.add("items", "choose at least one suggestion");
    }
    let mut groups: Vec<((i64, String), Vec<NewPurchaseLine>)> = Vec::new();
    for (i, item) in chosen.iter().enumerate() {
        let (sku, warehouse) = (item.sku.as_deref().unwrap_or(""), item.warehouse.as_deref().unwrap_or(""));
        let Some(s) = all.iter().find(|s| s.sku == sku && s.warehouse == warehouse) else {
            v.add(format!("items[{i}]"), format!("no suggestion to buy {sku:?} for {warehouse:?}"));
            continue;
        };
        let Some(supplier) = s.supplier_id else {
            v.add(format!("items[{i}]"), format!("{sku} in {warehouse} has no supplier in its replenishment settings"));
            continue;
        };
        let cost = tx
            .query_opt(
                "SELECT l.unit_cost_e4 FROM purchase_order_lines l JOIN products p ON p.id = l.product_id \
                 WHERE p.sku = ? ORDER BY l.purchase_order_id DESC LIMIT 1",
                params![sku],
            )?
            .map(|r| r.int(0))
            .transpose()?
            .or(tx.query_one("SELECT cost_e4 FROM products WHERE sku = ?", params![sku])?.opt_int(0)?);
        let Some(cost) = cost else {
            v.add(format!("items[{i}]"), format!("no purchase cost known for {sku}: order it by hand once"));
            continue;
        };
        let line = NewPurchaseLine {
            sku: Some(sku.to_string()),
            quantity: Some(s.suggested_quantity.max(1)),
            unit_cost: Some(AmountInput(from_e4(cost).normalize().to_string())),
        };
        let key = (supplier, warehouse.to_string());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((key, vec![line])),
        }
    }
    v.into_result()?;
    let mut items = Vec::new();
    for ((supplier, warehouse), lines) in groups {
        let input = NewPurchaseOrder {
            supplier_id: Some(supplier),
            warehouse: Some(warehouse),
            expected_date: None,
            lines: Some(lines),
        };
        items.push(purchasing::create_purchase_order(tx, ctx, &input).map_err(|e| match e {
            purchasing::PurchasingError::Invalid(i) => InventoryError::Invalid(i),
            purchasing::PurchasingError::Db(d) => InventoryError::Db(d),
            other => InventoryError::Conflict(other.to_string()),
        })?);
    }
    Ok(PurchaseOrders { items })
}

/// Gives stock that arrived in a warehouse to the order lines waiting for it, oldest order
/// first: each line planned there (or holding nothing yet) reserves what it can. Orders
/// that let their stock go while waiting for approval are skipped; approval reserves.
pub(crate) fn fill_backorders(tx: &mut dyn Tx, ctx: &Ctx, product_id: i64, warehouse_id: i64) -> Result<i64, DbError> {
    let mut filled = 0;
    for line in crate::orders::store::backorders(tx, product_id)? {
        let (order_id, line_no, backordered) = (line.order_id, line.line_no, line.backordered);
        if line.warehouse_id != warehouse_id && backordered < line.quantity {
            continue; // part of the line is reserved elsewhere; it stays planned there
        }
        let waiting_without_stock =
            tx.query_one("SELECT stock_reserved FROM orders WHERE id = ?", params![order_id])?.int(0)? == 0;
        if waiting_without_stock {
            continue;
        }
        let (on_hand, reserved) = stock::lock_level(tx, product_id, warehouse_id, ctx.now)?;
        let give = backordered.min(on_hand - reserved);
        if give <= 0 {
            break;
        }
        if !stock::reserve_in(tx, product_id, warehouse_id, give, ctx.now)? {
            break;
        }
        let left = backordered - give;
        crate::orders::store::set_backorder(tx, order_id, line_no, warehouse_id, left, None)?;
        let movement = stock::NewMovement {
            product_id,
            warehouse_id,
            kind: ordo_domain::inventory::MovementKind::Reservation,
            on_hand_delta: 0,
            reserved_delta: give,
            reason: Some("backorder filled"),
            reference: Some(&line.number),
        };
        stock::record_movements(tx, &[movement], &ctx.actor, ctx.now)?;
        let details = serde_json::json!({"line_no": line_no, "reserved": give, "still_backordered": left});
        crate::orders::store::append_event(tx, order_id, &ctx.actor, "backorder_filled", &details, ctx.now)?;
        filled += give;
    }
    refresh_promises(tx, product_id, ctx.now)?;
    Ok(filled)
}

/// Dates every open backorder of a product again from the supply now planned, oldest order
/// first (the first in line is promised the first units to come).
pub(crate) fn refresh_promises(tx: &mut dyn Tx, product_id: i64, now: Timestamp) -> Result<(), DbError> {
    let waiting = crate::orders::store::backorders(tx, product_id)?;
    if waiting.is_empty() {
        return Ok(());
    }
    let s = supply_of(tx, product_id, None, now)?;
    let promises = supply::available_to_promise(s.on_hand - s.reserved, &s.incoming, 0);
    let mut demand = 0;
    for line in waiting {
        demand += line.backordered;
        let date = supply::earliest_day(&promises, demand).map(|day| date_of(now, day.max(1)));
        crate::orders::store::set_backorder(
            tx,
            line.order_id,
            line.line_no,
            line.warehouse_id,
            line.backordered,
            date.as_deref(),
        )?;
    }
    Ok(())
}
