//! Reports. For now the dashboard's figures; sums are done by the database in integer
//! minor units (scaled by 10^4), so they are exact.

pub mod books;
pub mod customers;
pub mod finance;
pub mod inventory;
pub mod mailing;
pub mod model;
pub mod operations;
pub mod sales;
pub mod settlement;
pub mod summaries;
pub mod table;
pub mod tax;

pub use books::{BooksParams, BooksQuery, BooksReport, books};
pub use customers::{RfmParams, RfmQuery, rfm};
pub use finance::{FinanceParams, FinanceQuery, finance_summary};
pub use inventory::{AbcParams, AbcQuery, abc};
pub use mailing::{
    ReportSchedule, ReportSchedules, due_mailings, record_mailings, report_schedules, update_report_schedules,
};
pub use model::*;
pub use operations::{CycleParams, CycleQuery, CycleSlice, cycle_report, cycle_slice, cycle_slices, cycle_times};
pub use sales::{SalesParams, SalesQuery, sales};
pub use settlement::{SettlementParams, SettlementQuery, SettlementReport, settlement};
pub use table::{Cell, Table, Tabular};
pub use tax::{TaxParams, TaxQuery, TaxReport, tax_report};

use crate::db::{DbError, Tx};

/// Rounds half away from zero to `dp` decimals and always shows them (`80` → `80.00`).
pub(crate) fn fixed(value: rust_decimal::Decimal, dp: u32) -> rust_decimal::Decimal {
    let mut rounded = value.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(dp);
    rounded
}
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;

const DAY_MICROS: i64 = 86_400_000_000;

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub orders_today: i64,
    pub orders_month: i64,
    /// Revenue (order totals, cancelled orders excluded) per currency.
    pub revenue_today: Vec<(Currency, Decimal)>,
    pub revenue_month: Vec<(Currency, Decimal)>,
    pub by_status: Vec<(String, i64)>,
    /// Stock levels with fewer than `LOW_STOCK` units available.
    pub low_stock: i64,
    /// Confirmed orders not yet fulfilled.
    pub waiting: i64,
    /// Last 30 days, oldest first: (day start, orders, revenue in the main currency).
    pub days: Vec<(Timestamp, i64, Decimal)>,
    pub main_currency: Option<Currency>,
    /// The business's offset from UTC (microseconds) the days are counted in.
    pub utc_offset: i64,
}

pub const LOW_STOCK: i64 = 10;

/// Figures for the day and month containing `now`, in the business's time zone (the
/// reports' days).
pub fn dashboard(tx: &mut dyn Tx, now: Timestamp) -> Result<Dashboard, DbError> {
    let offset = summaries::utc_offset(tx)?;
    let local_day = (now.0 + offset).div_euclid(DAY_MICROS);
    let today = Timestamp(local_day * DAY_MICROS - offset);
    let local = Timestamp(now.0 + offset).to_rfc3339();
    let month_start_local = Timestamp::parse(&format!("{}-01", &local[..7])).unwrap_or(today);
    let month = Timestamp(month_start_local.0 - offset);
    let thirty = Timestamp(today.0 - 29 * DAY_MICROS);
    let since = month.min(thirty);

    let mut dashboard = Dashboard {
        orders_today: 0,
        orders_month: 0,
        revenue_today: Vec::new(),
        revenue_month: Vec::new(),
        by_status: Vec::new(),
        low_stock: 0,
        waiting: 0,
        days: (0..30).map(|d| (Timestamp(thirty.0 + d * DAY_MICROS), 0, Decimal::ZERO)).collect(),
        main_currency: None,
        utc_offset: offset,
    };
    // One grouped query: per local day, currency and status.
    // The day arithmetic uses integer literals (ours, not input) so the grouped expression
    // is the selected one on every engine.
    let sql = format!(
        "SELECT (created_at + {offset}) / {DAY_MICROS}, currency, status, COUNT(*), CAST(SUM(total_e4) AS BIGINT) \
         FROM orders WHERE created_at >= ? GROUP BY 1, 2, 3"
    );
    let rows = tx.query(&sql, params![since.micros()])?;
    let mut currency_totals: Vec<(Currency, i64)> = Vec::new();
    let mut grouped = Vec::new();
    for row in &rows {
        let day = row.int(0)?;
        let currency = crate::catalog::store::currency(&row.text(1)?)?;
        let status = row.text(2)?;
        let (count, total_e4) = (row.int(3)?, row.int(4)?);
        grouped.push((day, currency, status.clone(), count, total_e4));
        if status != "cancelled" {
            match currency_totals.iter_mut().find(|(c, _)| *c == currency) {
                Some((_, sum)) => *sum += total_e4,
                None => currency_totals.push((currency, total_e4)),
            }
        }
    }
    currency_totals.sort_by_key(|(_, sum)| std::cmp::Reverse(*sum));
    dashboard.main_currency = currency_totals.first().map(|(c, _)| *c);
    let add = |list: &mut Vec<(Currency, i64)>, currency: Currency, amount: i64| match list
        .iter_mut()
        .find(|(c, _)| *c == currency)
    {
        Some((_, sum)) => *sum += amount,
        None => list.push((currency, amount)),
    };
    let (mut revenue_today, mut revenue_month) = (Vec::new(), Vec::new());
    let month_day = (month.0 + offset).div_euclid(DAY_MICROS);
    let first_chart_day = (thirty.0 + offset).div_euclid(DAY_MICROS);
    for (day, currency, status, count, total_e4) in grouped {
        let counts = status != "cancelled";
        if day == local_day {
            dashboard.orders_today += count;
            if counts {
                add(&mut revenue_today, currency, total_e4);
            }
        }
        if day >= month_day {
            dashboard.orders_month += count;
            if counts {
                add(&mut revenue_month, currency, total_e4);
            }
        }
        if let Some(slot) = usize::try_from(day - first_chart_day).ok().and_then(|i| dashboard.days.get_mut(i)) {
            slot.1 += count;
            if counts && Some(currency) == dashboard.main_currency {
                slot.2 += from_e4_in(total_e4, currency);
            }
        }
    }
    dashboard.revenue_today = revenue_today.into_iter().map(|(c, e4)| (c, from_e4_in(e4, c))).collect();
    dashboard.revenue_month = revenue_month.into_iter().map(|(c, e4)| (c, from_e4_in(e4, c))).collect();
    for row in tx.query("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status", &[])? {
        dashboard.by_status.push((row.text(0)?, row.int(1)?));
    }
    dashboard.low_stock =
        tx.query_one("SELECT COUNT(*) FROM stock_levels WHERE on_hand - reserved < ?", params![LOW_STOCK])?.int(0)?;
    dashboard.waiting = tx
        .query_one(
            "SELECT COUNT(*) FROM orders WHERE status = 'confirmed' AND fulfillment_status = 'unfulfilled'",
            &[],
        )?
        .int(0)?;
    Ok(dashboard)
}
