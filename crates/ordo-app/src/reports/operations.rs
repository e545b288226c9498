//! Operations: how long orders take from placement to confirmation, shipment and delivery
//! (percentiles), on-time shipment and delivery, fill rate, exceptions and their reasons,
//! approval turnaround, cancellations and returns.

use super::model::{CycleReport, CycleRow, CycleTotals, ExceptionCount, ReportError};
use super::sales::period;
use super::summaries::{day_start, local_date, utc_offset};
use crate::db::Tx;
use ordo_domain::Invalid;
use ordo_domain::reports::percentile;
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CycleQuery {
    /// Orders placed from this day (default: 29 days before `to`), in the business's time zone.
    pub from: Option<String>,
    pub to: Option<String>,
    pub channel: Option<String>,
    /// The shipping target: an order ships on time when it leaves within this many hours of
    /// its confirmation (default 48).
    pub ship_within_hours: Option<i64>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CycleParams {
    pub from: Date,
    pub to: Date,
    pub channel: Option<String>,
    pub ship_within_hours: i64,
}

impl CycleQuery {
    pub fn check(&self, today: Date) -> Result<CycleParams, Invalid> {
        let mut violations = Violations::new();
        let (from, to) = period(&mut violations, self.from.as_deref(), self.to.as_deref(), today, 30);
        let ship_within_hours = self.ship_within_hours.unwrap_or(48);
        if !(1..=24 * 90).contains(&ship_within_hours) {
            violations.add("ship_within_hours", "must be between 1 and 2160 (90 days)");
        }
        violations.into_result()?;
        let channel = self.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(String::from);
        Ok(CycleParams { from, to, channel, ship_within_hours })
    }
}

const HOUR_MICROS: i64 = 3_600_000_000;

fn hours(micros: Option<i64>) -> Option<Decimal> {
    micros.map(|m| super::fixed(Decimal::from(m) / Decimal::from(HOUR_MICROS), 2))
}

fn rate(part: i64, whole: i64) -> Option<Decimal> {
    (whole > 0).then(|| super::fixed(Decimal::from(part) * Decimal::from(100) / Decimal::from(whole), 2))
}

/// The durations of orders placed in one slice of the period: a long period is read in
/// slices on several connections at once (reading the rows is what a year costs).
#[derive(Debug, Default)]
pub struct CycleSlice {
    stages: [Vec<i64>; 4],
    approval_waits: Vec<i64>,
    on_time: i64,
    with_requested_date: i64,
    shipped_in_time: i64,
    shipped_complete: i64,
}

/// The period cut into up to `parts` slices of whole days.
pub fn cycle_slices(params: &CycleParams, parts: i64) -> Vec<(Date, Date)> {
    let (first, last) = (params.from.days_since_epoch(), params.to.days_since_epoch());
    let days = last - first + 1;
    let parts = if days > 62 { parts.clamp(1, days) } else { 1 };
    (0..parts)
        .map(|i| (Date::from_days(first + days * i / parts), Date::from_days(first + days * (i + 1) / parts - 1)))
        .collect()
}

fn filter(params: &CycleParams, from: Date, to: Date, offset: i64) -> (&'static str, Vec<crate::db::Value>) {
    let start = day_start(from, offset);
    let end = day_start(to.plus_days(1), offset);
    let mut values: Vec<crate::db::Value> = vec![start.into(), end.into()];
    if let Some(channel) = &params.channel {
        values.push(channel.as_str().into());
    }
    (if params.channel.is_some() { " AND channel = ?" } else { "" }, values)
}

pub fn cycle_slice(tx: &mut dyn Tx, params: &CycleParams, from: Date, to: Date) -> Result<CycleSlice, ReportError> {
    let offset = utc_offset(tx)?;
    let (channel_filter, values) = filter(params, from, to, offset);
    let mut slice = CycleSlice::default();
    // Integers per order (the requested date only for delivered orders that have one):
    // reading the rows is what a year of orders costs.
    let rows = tx.query(
        &format!(
            "SELECT created_at, confirmed_at, shipped_at, delivered_at, approval_round, \
             CASE WHEN delivered_at IS NOT NULL THEN requested_delivery_date END, shipped_complete \
             FROM orders WHERE created_at >= ? AND created_at < ?{channel_filter} \
             AND status <> 'cancelled' AND (confirmed_at IS NOT NULL OR delivered_at IS NOT NULL)"
        ),
        &values,
    )?;
    for row in &rows {
        let placed = row.int(0)?;
        let (confirmed, shipped, delivered) = (row.int(1).ok(), row.int(2).ok(), row.int(3).ok());
        let waits = [
            confirmed.map(|c| c - placed),
            shipped.zip(confirmed).map(|(s, c)| s - c),
            delivered.zip(shipped).map(|(d, s)| d - s),
            delivered.map(|d| d - placed),
        ];
        for (stage, wait) in slice.stages.iter_mut().zip(waits) {
            stage.extend(wait);
        }
        if let Some(shipped) = shipped {
            let since = confirmed.unwrap_or(placed);
            slice.shipped_in_time += i64::from(shipped - since <= params.ship_within_hours * HOUR_MICROS);
            slice.shipped_complete += i64::from(row.opt_int(6)? == Some(1));
        }
        if let Some(wait) = waits[0]
            && row.int(4)? > 0
        {
            slice.approval_waits.push(wait);
        }
        if let (Some(delivered), Ok(requested)) = (delivered, row.text(5))
            && let Some(requested) = Date::parse(&requested)
        {
            slice.with_requested_date += 1;
            slice.on_time += i64::from(local_date(ordo_domain::Timestamp(delivered), offset) <= requested);
        }
    }
    Ok(slice)
}

pub fn cycle_times(tx: &mut dyn Tx, params: &CycleParams) -> Result<CycleReport, ReportError> {
    let slice = cycle_slice(tx, params, params.from, params.to)?;
    cycle_report(tx, params, &[slice])
}

/// The report from its slices, with the counts the database makes itself.
pub fn cycle_report(tx: &mut dyn Tx, params: &CycleParams, slices: &[CycleSlice]) -> Result<CycleReport, ReportError> {
    let (channel_filter, values) = filter(params, params.from, params.to, utc_offset(tx)?);
    // Counts by the database; only the durations come back, as integers, for the percentiles.
    let counts = tx.query_one(
        &format!(
            "SELECT COUNT(*), \
             CAST(COALESCE(SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status <> 'cancelled' AND shipped_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN status <> 'cancelled' AND delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM orders WHERE created_at >= ? AND created_at < ?{channel_filter}"
        ),
        &values,
    )?;
    let mut totals = CycleTotals {
        orders: counts.int(0)? - counts.int(1)?,
        shipped: counts.int(2)?,
        delivered: counts.int(3)?,
        with_requested_date: 0,
        on_time_delivery_rate: None,
        approved: 0,
        approval_p50_hours: None,
        cancelled: counts.int(1)?,
        cancellation_rate: None,
        returned: 0,
        return_rate: None,
        ship_within_hours: params.ship_within_hours,
        shipped_on_time: 0,
        on_time_shipment_rate: None,
        shipped_complete: 0,
        fill_rate: None,
        exception_orders: 0,
        exception_rate: None,
    };
    let mut stages: [Vec<i64>; 4] = Default::default();
    let mut approval_waits = Vec::new();
    let mut on_time = 0;
    for slice in slices {
        for (all, part) in stages.iter_mut().zip(&slice.stages) {
            all.extend_from_slice(part);
        }
        approval_waits.extend_from_slice(&slice.approval_waits);
        on_time += slice.on_time;
        totals.with_requested_date += slice.with_requested_date;
        totals.shipped_on_time += slice.shipped_in_time;
        totals.shipped_complete += slice.shipped_complete;
    }
    totals.on_time_shipment_rate = rate(totals.shipped_on_time, totals.shipped);
    totals.fill_rate = rate(totals.shipped_complete, totals.shipped);
    let (exceptions, exception_orders) = exceptions(tx, channel_filter, &values)?;
    totals.exception_orders = exception_orders;
    totals.exception_rate = rate(exception_orders, totals.orders + totals.cancelled);
    totals.approved = approval_waits.len() as i64;
    totals.on_time_delivery_rate = rate(on_time, totals.with_requested_date);
    approval_waits.sort_unstable();
    totals.approval_p50_hours = hours(percentile(&approval_waits, 50));
    totals.cancellation_rate = rate(totals.cancelled, totals.orders + totals.cancelled);
    totals.returned = tx
        .query_one(
            &format!(
                "SELECT COUNT(DISTINCT r.order_id) FROM returns r JOIN orders o ON o.id = r.order_id \
                 WHERE o.created_at >= ? AND o.created_at < ? AND o.shipped_at IS NOT NULL{}",
                channel_filter.replace("channel", "o.channel")
            ),
            &values,
        )?
        .int(0)?;
    totals.return_rate = rate(totals.returned, totals.shipped);
    let labels = [
        ("placed_to_confirmed", "Placed → confirmed"),
        ("confirmed_to_shipped", "Confirmed → shipped"),
        ("shipped_to_delivered", "Shipped → delivered"),
        ("placed_to_delivered", "Placed → delivered"),
    ];
    let rows = stages
        .iter_mut()
        .zip(labels)
        .map(|(waits, (key, label))| {
            waits.sort_unstable();
            let average = (!waits.is_empty()).then(|| waits.iter().sum::<i64>() / waits.len() as i64);
            CycleRow {
                key: key.into(),
                label: label.into(),
                orders: waits.len() as i64,
                p50_hours: hours(percentile(waits, 50)),
                p90_hours: hours(percentile(waits, 90)),
                p95_hours: hours(percentile(waits, 95)),
                average_hours: hours(average),
            }
        })
        .collect();
    Ok(CycleReport { from: params.from.to_string(), to: params.to.to_string(), rows, totals, exceptions })
}

/// Orders placed in the period that needed a person: held (by the hold's reason) or with a
/// carrier claim (by its kind). An order with several counts once in the rate, once per
/// reason in the list. Exceptions are few, so they are found by when they were raised (an
/// order's exception comes after the order) and joined to the orders.
fn exceptions(
    tx: &mut dyn Tx,
    channel_filter: &str,
    values: &[crate::db::Value],
) -> Result<(Vec<ExceptionCount>, i64), ReportError> {
    let channel_filter = channel_filter.replace("channel", "o.channel");
    // values: period start, period end, channel?; the exception's own lower bound is the start.
    let mut with_start = vec![values[0].clone()];
    with_start.extend_from_slice(values);
    let mut counts: Vec<ExceptionCount> = Vec::new();
    let mut orders = std::collections::HashSet::new();
    let sources = [
        (
            "hold",
            "SELECT h.code, h.order_id FROM order_holds h JOIN orders o ON o.id = h.order_id WHERE h.created_at >= ? AND h.code <> 'awaiting_return'",
        ),
        ("claim", "SELECT c.kind, c.order_id FROM claims c JOIN orders o ON o.id = c.order_id WHERE c.created_at >= ?"),
    ];
    for (source, select) in sources {
        let rows =
            tx.query(&format!("{select} AND o.created_at >= ? AND o.created_at < ?{channel_filter}"), &with_start)?;
        let mut seen = std::collections::HashSet::new();
        for row in &rows {
            let (reason, order) = (format!("{source}_{}", row.text(0)?), row.int(1)?);
            orders.insert(order);
            // An order held twice for the same reason counts once for it.
            if !seen.insert((reason.clone(), order)) {
                continue;
            }
            match counts.iter_mut().find(|c| c.reason == reason) {
                Some(count) => count.orders += 1,
                None => counts.push(ExceptionCount { reason, orders: 1 }),
            }
        }
    }
    counts.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.reason.cmp(&b.reason)));
    Ok((counts, orders.len() as i64))
}
