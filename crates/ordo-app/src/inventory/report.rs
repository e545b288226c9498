//! The inventory report: stock by warehouse with its value, what sold in the period, days
//! of cover, slow movers, and how often each level ran out.

use super::model::InventoryError;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Movements read to find stock-outs, at most; older ones in a busy period are not seen.
const MAX_MOVEMENTS: i64 = 200_000;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InventoryReport {
    pub days: i64,
    pub rows: Vec<ReportRow>,
    /// Stock value per currency.
    #[schema(value_type = Vec<Object>)]
    pub totals: Vec<(Currency, Decimal)>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    pub sku: String,
    pub name: String,
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Moving-average cost, or the list price where no cost is known yet.
    #[schema(value_type = String)]
    pub unit_value: Decimal,
    #[schema(value_type = String)]
    pub stock_value: Decimal,
    pub currency: Currency,
    /// Units sold from this warehouse in the period.
    pub sold: i64,
    /// Available units over the period's daily sales; absent when nothing sold.
    #[schema(value_type = Option<String>)]
    pub days_of_cover: Option<Decimal>,
    /// Stock on hand and nothing sold in the period.
    pub slow_mover: bool,
    /// Times available stock ran out during the period.
    pub stock_outs: i64,
}

pub fn inventory_report(
    tx: &mut dyn Tx,
    warehouse: Option<&str>,
    days: i64,
    now: Timestamp,
) -> Result<InventoryReport, InventoryError> {
    let since = now.minus_days(days);
    let mut filter = crate::db::Filter::new();
    filter.when("w.code = ?", warehouse.map(|w| vec![w.to_string()]));
    let levels = tx.query(
        &format!(
            "SELECT s.product_id, s.warehouse_id, p.sku, p.name, w.code, s.on_hand, s.reserved, COALESCE(p.cost_e4, p.price_e4), \
             p.currency FROM stock_levels s JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id{} \
             ORDER BY p.sku, w.code LIMIT 20000",
            filter.sql()
        ),
        &filter.params,
    )?;
    let sold: HashMap<(i64, i64), i64> = tx
        .query(
            "SELECT l.product_id, l.warehouse_id, CAST(SUM(l.quantity - l.backordered) AS BIGINT) FROM order_lines l \
             JOIN orders o ON o.id = l.order_id WHERE o.created_at >= ? AND o.status <> 'cancelled' \
             GROUP BY l.product_id, l.warehouse_id",
            params![since.micros()],
        )?
        .iter()
        .map(|r| Ok(((r.int(0)?, r.int(1)?), r.int(2)?)))
        .collect::<Result<_, DbError>>()?;
    let outs = stock_outs(tx, since)?;
    let mut rows = Vec::with_capacity(levels.len());
    let mut totals: Vec<(Currency, Decimal)> = Vec::new();
    for level in levels {
        let key = (level.int(0)?, level.int(1)?);
        let currency = crate::catalog::store::currency(&level.text(8)?)?;
        let (on_hand, reserved) = (level.int(5)?, level.int(6)?);
        let unit_value = from_e4_in(level.int(7)?, currency);
        let stock_value = currency.round(unit_value * Decimal::from(on_hand));
        match totals.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, total)) => *total += stock_value,
            None => totals.push((currency, stock_value)),
        }
        let units_sold = sold.get(&key).copied().unwrap_or(0);
        let per_day = Decimal::from(units_sold) / Decimal::from(days.max(1));
        rows.push(ReportRow {
            sku: level.text(2)?,
            name: level.text(3)?,
            warehouse: level.text(4)?,
            on_hand,
            reserved,
            available: on_hand - reserved,
            unit_value,
            stock_value,
            currency,
            sold: units_sold,
            days_of_cover: (units_sold > 0).then(|| (Decimal::from(on_hand - reserved) / per_day).round_dp(1)),
            slow_mover: on_hand > 0 && units_sold == 0,
            stock_outs: outs.get(&key).copied().unwrap_or(0),
        });
    }
    Ok(InventoryReport { days, rows, totals })
}

/// How many times each level's available stock fell to zero or below since `since`,
/// replayed from the ledger: the level then was today's less everything after.
fn stock_outs(tx: &mut dyn Tx, since: Timestamp) -> Result<HashMap<(i64, i64), i64>, DbError> {
    let moves = tx.query(
        &format!(
            "SELECT product_id, warehouse_id, on_hand_delta, reserved_delta FROM stock_movements WHERE at >= ? \
             ORDER BY id LIMIT {MAX_MOVEMENTS}"
        ),
        params![since.micros()],
    )?;
    let mut deltas: HashMap<(i64, i64), Vec<i64>> = HashMap::new();
    for m in &moves {
        deltas.entry((m.int(0)?, m.int(1)?)).or_default().push(m.int(2)? - m.int(3)?);
    }
    let mut outs = HashMap::new();
    for (key, changes) in deltas {
        let now_available = tx
            .query_opt(
                "SELECT on_hand - reserved FROM stock_levels WHERE product_id = ? AND warehouse_id = ?",
                params![key.0, key.1],
            )?
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        let mut available = now_available - changes.iter().sum::<i64>();
        let mut count = 0;
        for change in changes {
            let before = available;
            available += change;
            if before > 0 && available <= 0 {
                count += 1;
            }
        }
        outs.insert(key, count);
    }
    Ok(outs)
}
