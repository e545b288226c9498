//! Products and inventory: ABC analysis by revenue, stock value, days of cover, turnover,
//! and the products out of stock now with an estimate of the sales they are losing.

use super::model::{AbcReport, AbcRow, AbcTotals, ReportError, StockOutRow};
use super::sales::{main_currency, period};
use crate::db::{Tx, Value};
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::reports::abc_classes;
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AbcQuery {
    /// First day of the sales period (default: 89 days before `to`).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Stock figures of one warehouse (sales count everywhere).
    pub warehouse_id: Option<i64>,
    pub currency: Option<String>,
    /// Only class A, B or C.
    pub class: Option<String>,
    pub format: Option<String>,
}

pub struct AbcParams {
    pub from: Date,
    pub to: Date,
    pub warehouse_id: Option<i64>,
    pub currency: Option<Currency>,
    pub class: Option<String>,
    /// Stock-outs are measured up to this moment (the stock levels are those of now).
    pub now: Timestamp,
}

impl AbcQuery {
    pub fn check(&self, today: Date) -> Result<AbcParams, Invalid> {
        let mut violations = Violations::new();
        let (from, to) = period(&mut violations, self.from.as_deref(), self.to.as_deref(), today, 90);
        let currency = violations.check(Currency::field("currency", self.currency.as_deref())).flatten();
        let class = self.class.as_deref().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
        if class.as_deref().is_some_and(|c| !["A", "B", "C"].contains(&c)) {
            violations.add("class", "must be A, B or C");
        }
        violations.into_result()?;
        Ok(AbcParams { from, to, warehouse_id: self.warehouse_id, currency, class, now: Timestamp::now() })
    }
}

struct Item {
    id: i64,
    sku: String,
    name: String,
    units: i64,
    revenue_e4: i64,
    cost_sold_e4: i64,
    on_hand: i64,
    available: i64,
    stock_value_e4: i64,
}

pub fn abc(tx: &mut dyn Tx, params: &AbcParams) -> Result<AbcReport, ReportError> {
    let currency = match params.currency {
        Some(currency) => currency,
        None => main_currency(tx)?,
    };
    let (from, to) = (params.from.days_since_epoch(), params.to.days_since_epoch());
    let days = Decimal::from(to - from + 1);
    let offset = super::summaries::utc_offset(tx)?;
    let window = Window {
        days,
        start: super::summaries::day_start(params.from, offset),
        end: super::summaries::day_start(params.to.plus_days(1), offset),
    };
    let mut sold: HashMap<i64, (i64, i64, i64)> = HashMap::new();
    for row in tx.query(
        "SELECT product_id, CAST(SUM(units) AS BIGINT), CAST(SUM(revenue_e4) AS BIGINT), CAST(SUM(cost_e4) AS BIGINT) \
         FROM sales_product_days WHERE currency = ? AND day >= ? AND day <= ? GROUP BY product_id",
        &[currency.code().into(), from.into(), to.into()],
    )? {
        sold.insert(row.int(0)?, (row.int(1)?, row.int(2)?, row.int(3)?));
    }
    let mut values: Vec<Value> = Vec::new();
    let stock_filter = match params.warehouse_id {
        Some(id) => {
            values.push(id.into());
            " AND s.warehouse_id = ?"
        }
        None => "",
    };
    values.push(currency.code().into());
    // Active products in the currency, and any that sold in it.
    let sql = format!(
        "SELECT p.id, p.sku, p.name, p.active, COALESCE(p.cost_e4, 0), \
         CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT), CAST(COALESCE(SUM(s.on_hand - s.reserved), 0) AS BIGINT) \
         FROM products p LEFT JOIN stock_levels s ON s.product_id = p.id{stock_filter} \
         WHERE p.currency = ? GROUP BY p.id, p.sku, p.name, p.active, p.cost_e4"
    );
    let mut items = Vec::new();
    for row in tx.query(&sql, &values)? {
        let id = row.int(0)?;
        let (units, revenue_e4, cost_sold_e4) = sold.remove(&id).unwrap_or_default();
        if row.int(3)? == 0 && units == 0 {
            continue;
        }
        let on_hand = row.int(5)?;
        items.push(Item {
            id,
            sku: row.text(1)?,
            name: row.text(2)?,
            units,
            revenue_e4,
            cost_sold_e4,
            on_hand,
            available: row.int(6)?,
            stock_value_e4: on_hand.saturating_mul(row.int(4)?),
        });
    }
    items.sort_by(|a, b| b.revenue_e4.cmp(&a.revenue_e4).then_with(|| a.sku.cmp(&b.sku)));
    let classes = abc_classes(&items.iter().map(|i| i.revenue_e4).collect::<Vec<_>>());
    let total_e4: i64 = items.iter().map(|i| i.revenue_e4).sum();
    let mut totals = AbcTotals {
        products: 0,
        a: 0,
        b: 0,
        c: 0,
        out_of_stock: 0,
        revenue: from_e4_in(0, currency),
        stock_value: from_e4_in(0, currency),
        lost_revenue: from_e4_in(0, currency),
    };
    let percent = |part: i64| {
        if total_e4 == 0 {
            Decimal::new(0, 2)
        } else {
            super::fixed(Decimal::from(part) * Decimal::from(100) / Decimal::from(total_e4), 2)
        }
    };
    let mut running = 0;
    let mut rows = Vec::new();
    let mut stock_outs = Vec::new();
    for (item, class) in items.into_iter().zip(classes) {
        running += item.revenue_e4;
        // A product that did not sell is C whatever the arithmetic says.
        let class = if item.revenue_e4 == 0 { 'C' } else { class };
        totals.products += 1;
        match class {
            'A' => totals.a += 1,
            'B' => totals.b += 1,
            _ => totals.c += 1,
        }
        totals.out_of_stock += i64::from(item.available <= 0);
        totals.revenue += from_e4_in(item.revenue_e4, currency);
        totals.stock_value += from_e4_in(item.stock_value_e4, currency);
        let per_day = Decimal::from(item.units) / days;
        if item.available <= 0 && (item.units > 0 || item.on_hand > 0 || item.available < 0) {
            let out = stock_out(tx, params, currency, &item, &window)?;
            totals.lost_revenue += out.lost_revenue;
            stock_outs.push(out);
        }
        rows.push(AbcRow {
            key: item.id,
            label: format!("{} {}", item.sku, item.name),
            sku: item.sku,
            units: item.units,
            revenue: from_e4_in(item.revenue_e4, currency),
            share: percent(item.revenue_e4),
            cumulative_share: percent(running),
            class: class.to_string(),
            on_hand: item.on_hand,
            available: item.available,
            stock_value: from_e4_in(item.stock_value_e4, currency),
            days_of_cover: (!per_day.is_zero())
                .then(|| super::fixed(Decimal::from(item.available.max(0)) / per_day, 1)),
            turnover: (item.stock_value_e4 > 0)
                .then(|| super::fixed(Decimal::from(item.cost_sold_e4) / Decimal::from(item.stock_value_e4), 2)),
        });
    }
    if let Some(class) = &params.class {
        rows.retain(|row| &row.class == class);
    }
    stock_outs.sort_by(|a, b| a.out_since.cmp(&b.out_since).then_with(|| a.sku.cmp(&b.sku)));
    Ok(AbcReport {
        from: params.from.to_string(),
        to: params.to.to_string(),
        currency: currency.code().to_string(),
        warehouse_id: params.warehouse_id,
        rows,
        totals,
        stock_outs,
    })
}

const DAY_MICROS: i64 = super::summaries::DAY_MICROS;

/// The report's period: its length in days, and where it starts and ends (local midnights,
/// in UTC microseconds), worked out once for every stock-out.
struct Window {
    days: Decimal,
    start: i64,
    end: i64,
}
/// How far back a stock-out's start is looked for, in movements.
const WALK_BACK: i64 = 5000;

/// When a product out of stock ran out, and what it has lost since: its rate of sale in the
/// report's period (per day it had stock) times the days it has been out, at the period's
/// average price. Found by walking its movements back from today's level to the last one
/// that took the available stock from above zero to zero or below.
fn stock_out(
    tx: &mut dyn Tx,
    params: &AbcParams,
    currency: Currency,
    item: &Item,
    window: &Window,
) -> Result<StockOutRow, ReportError> {
    let (product_id, available, units) = (item.id, item.available, item.units);
    let movements = match params.warehouse_id {
        Some(warehouse) => tx.query(
            "SELECT on_hand_delta - reserved_delta, at FROM stock_movements WHERE product_id = ? AND warehouse_id = ? \
             ORDER BY id DESC LIMIT ?",
            params![product_id, warehouse, WALK_BACK],
        )?,
        None => tx.query(
            "SELECT on_hand_delta - reserved_delta, at FROM stock_movements WHERE product_id = ? ORDER BY id DESC LIMIT ?",
            params![product_id, WALK_BACK],
        )?,
    };
    let mut level = available;
    let mut out_since = None;
    for movement in &movements {
        let before = level - movement.int(0)?;
        out_since = Some(movement.int(1)?);
        if before > 0 {
            break;
        }
        level = before;
    }
    let now = params.now.micros();
    let days_out = out_since.map(|since| Decimal::from(now.saturating_sub(since).max(0)) / Decimal::from(DAY_MICROS));
    // Days of the period it had stock to sell from (at least one, so a rate exists).
    let out_in_period = out_since.map_or(Decimal::ZERO, |since| {
        let start = since.max(window.start);
        Decimal::from(window.end.saturating_sub(start).max(0)) / Decimal::from(DAY_MICROS)
    });
    let selling_days = (window.days - out_in_period).max(Decimal::ONE);
    let daily_units = Decimal::from(units) / selling_days;
    let lost_units = days_out.map_or(Decimal::ZERO, |days| daily_units * days);
    let unit_price =
        if units > 0 { from_e4_in(item.revenue_e4, currency) / Decimal::from(units) } else { Decimal::ZERO };
    Ok(StockOutRow {
        key: product_id,
        label: format!("{} {}", item.sku, item.name),
        sku: item.sku.clone(),
        available,
        out_since: out_since.map(Timestamp),
        days_out: days_out.map(|d| super::fixed(d, 1)),
        daily_units: super::fixed(daily_units, 2),
        lost_units: super::fixed(lost_units, 1),
        lost_revenue: currency.round(lost_units * unit_price),
    })
}
