//! Operations: how long orders take from placement to confirmation, shipment and delivery
//! (percentiles), on-time delivery, approval turnaround, cancellations and returns.

use super::model::{CycleReport, CycleRow, CycleTotals, ReportError};
use super::sales::period;
use super::summaries::DAY_MICROS;
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
    /// Orders placed from this day (default: 29 days before `to`), UTC.
    pub from: Option<String>,
    pub to: Option<String>,
    pub channel: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CycleParams {
    pub from: Date,
    pub to: Date,
    pub channel: Option<String>,
}

impl CycleQuery {
    pub fn check(&self, today: Date) -> Result<CycleParams, Invalid> {
        let mut violations = Violations::new();
        let (from, to) = period(&mut violations, self.from.as_deref(), self.to.as_deref(), today, 30);
        violations.into_result()?;
        let channel = self.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(String::from);
        Ok(CycleParams { from, to, channel })
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

fn filter(params: &CycleParams, from: Date, to: Date) -> (&'static str, Vec<crate::db::Value>) {
    let start = from.days_since_epoch() * DAY_MICROS;
    let end = (to.days_since_epoch() + 1) * DAY_MICROS;
    let mut values: Vec<crate::db::Value> = vec![start.into(), end.into()];
    if let Some(channel) = &params.channel {
        values.push(channel.as_str().into());
    }
    (if params.channel.is_some() { " AND channel = ?" } else { "" }, values)
}

pub fn cycle_slice(tx: &mut dyn Tx, params: &CycleParams, from: Date, to: Date) -> Result<CycleSlice, ReportError> {
    let (channel_filter, values) = filter(params, from, to);
    let mut slice = CycleSlice::default();
    // Integers per order (the requested date only for delivered orders that have one):
    // reading the rows is what a year of orders costs.
    let rows = tx.query(
        &format!(
            "SELECT created_at, confirmed_at, shipped_at, delivered_at, approval_round, \
             CASE WHEN delivered_at IS NOT NULL THEN requested_delivery_date END \
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
        if let Some(wait) = waits[0]
            && row.int(4)? > 0
        {
            slice.approval_waits.push(wait);
        }
        if let (Some(delivered), Ok(requested)) = (delivered, row.text(5))
            && let Some(requested) = Date::parse(&requested)
        {
            slice.with_requested_date += 1;
            slice.on_time += i64::from(Date::of(ordo_domain::Timestamp(delivered)) <= requested);
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
    let (channel_filter, values) = filter(params, params.from, params.to);
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
    }
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
    Ok(CycleReport { from: params.from.to_string(), to: params.to.to_string(), rows, totals })
}
