//! Customers: RFM segmentation, lifetime value, customers at risk, new vs returning customers
//! month by month.

use super::model::{NewReturningRow, ReportError, RfmReport, RfmRow, RfmTotals, SegmentCount};
use super::sales::{MAX_ROWS, main_currency};
use crate::db::Tx;
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::reports::{quintile_scores, rfm_segment};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RfmQuery {
    /// The day the report looks back from (default today, in the business's time zone).
    pub as_of: Option<String>,
    pub currency: Option<String>,
    /// Rows returned, best customers first (default 100, at most 1000); scores use everyone.
    pub limit: Option<i64>,
    /// Only this segment's customers.
    pub segment: Option<String>,
    pub format: Option<String>,
}

pub struct RfmParams {
    pub as_of: Date,
    pub currency: Option<Currency>,
    pub limit: usize,
    pub segment: Option<String>,
}

impl RfmQuery {
    pub fn check(&self, today: Date) -> Result<RfmParams, Invalid> {
        let mut violations = Violations::new();
        let as_of = violations.check(Date::field("as_of", self.as_of.as_deref())).flatten().unwrap_or(today);
        let currency = violations.check(Currency::field("currency", self.currency.as_deref())).flatten();
        let limit = match self.limit {
            None => 100,
            Some(n) if n >= 1 && n as usize <= MAX_ROWS => n as usize,
            Some(_) => {
                violations.add("limit", format!("must be between 1 and {MAX_ROWS}"));
                100
            }
        };
        violations.into_result()?;
        let segment = self.segment.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        Ok(RfmParams { as_of, currency, limit, segment })
    }
}

pub fn rfm(tx: &mut dyn Tx, params: &RfmParams) -> Result<RfmReport, ReportError> {
    let currency = match params.currency {
        Some(currency) => currency,
        None => main_currency(tx)?,
    };
    let as_of = params.as_of.days_since_epoch();
    let rows = tx.query(
        "SELECT s.customer_id, MIN(c.code), MIN(c.name), MIN(s.day), MAX(s.day), CAST(SUM(s.orders) AS BIGINT), \
         CAST(SUM(s.revenue_e4) AS BIGINT) FROM sales_customer_days s JOIN customers c ON c.id = s.customer_id \
         WHERE s.currency = ? AND s.day <= ? AND s.orders > 0 GROUP BY s.customer_id",
        params![currency.code(), as_of],
    )?;
    struct Raw {
        id: i64,
        label: String,
        first: i64,
        last: i64,
        orders: i64,
        revenue_e4: i64,
    }
    let mut raw = Vec::with_capacity(rows.len());
    let mut first_days = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        raw.push(Raw {
            id: row.int(0)?,
            label: format!("{} {}", row.text(1)?, row.text(2)?),
            first: row.int(3)?,
            last: row.int(4)?,
            orders: row.int(5)?,
            revenue_e4: row.int(6)?,
        });
        first_days.insert(row.int(0)?, row.int(3)?);
    }
    let new_vs_returning = new_vs_returning(tx, currency, params.as_of, &first_days)?;
    let recency: Vec<i64> = raw.iter().map(|c| as_of - c.last).collect();
    let frequency: Vec<i64> = raw.iter().map(|c| c.orders).collect();
    let monetary: Vec<i64> = raw.iter().map(|c| c.revenue_e4).collect();
    let (r, f, m) =
        (quintile_scores(&recency, false), quintile_scores(&frequency, true), quintile_scores(&monetary, true));
    let mut out = Vec::with_capacity(raw.len());
    let mut totals = RfmTotals { customers: 0, at_risk: 0, new_customers: 0, revenue: from_e4_in(0, currency) };
    let mut segments: Vec<SegmentCount> = Vec::new();
    for (i, c) in raw.into_iter().enumerate() {
        // Orders on the same day count as one visit for the interval.
        let interval = (c.orders > 1 && c.last > c.first)
            .then(|| super::fixed(Decimal::from(c.last - c.first) / Decimal::from(c.orders - 1), 1));
        let at_risk = interval.is_some_and(|days| Decimal::from(recency[i]) > days);
        let segment = rfm_segment(r[i], f[i], m[i]).to_string();
        let monetary = from_e4_in(c.revenue_e4, currency);
        totals.customers += 1;
        totals.at_risk += i64::from(at_risk);
        totals.new_customers += i64::from(as_of - c.first < 30);
        totals.revenue += monetary;
        match segments.iter_mut().find(|s| s.segment == segment) {
            Some(count) => {
                count.customers += 1;
                count.revenue += monetary;
            }
            None => segments.push(SegmentCount { segment: segment.clone(), customers: 1, revenue: monetary }),
        }
        out.push(RfmRow {
            key: c.id,
            label: c.label,
            first_order: Date::from_days(c.first).to_string(),
            last_order: Date::from_days(c.last).to_string(),
            recency_days: recency[i],
            frequency: c.orders,
            monetary,
            r: r[i],
            f: f[i],
            m: m[i],
            segment,
            usual_interval_days: interval,
            at_risk,
        });
    }
    segments.sort_by(|a, b| b.revenue.cmp(&a.revenue).then_with(|| a.segment.cmp(&b.segment)));
    if let Some(segment) = &params.segment {
        out.retain(|row| &row.segment == segment);
    }
    out.sort_by(|a, b| b.monetary.cmp(&a.monetary).then_with(|| a.key.cmp(&b.key)));
    out.truncate(params.limit);
    Ok(RfmReport {
        as_of: params.as_of.to_string(),
        currency: currency.code().to_string(),
        rows: out,
        segments,
        totals,
        new_vs_returning,
    })
}

/// The twelve months up to `as_of`: customers who ordered in each, split into those whose
/// first order ever (in this currency) fell in that month and those who came back.
fn new_vs_returning(
    tx: &mut dyn Tx,
    currency: Currency,
    as_of: Date,
    first_days: &std::collections::HashMap<i64, i64>,
) -> Result<Vec<NewReturningRow>, ReportError> {
    let mut starts = Vec::with_capacity(13);
    let mut month = Date { day: 1, ..as_of };
    for _ in 0..12 {
        starts.push(month);
        month = if month.month == 1 {
            Date { year: month.year - 1, month: 12, day: 1 }
        } else {
            Date { month: month.month - 1, ..month }
        };
    }
    starts.reverse();
    // The database sums per customer and month (a CASE on the day number), so a year reads
    // one row per active customer-month, not one per order day.
    let mut case = String::from("CASE");
    for (i, start) in starts.iter().enumerate().skip(1) {
        case.push_str(&format!(" WHEN s.day < {} THEN {}", start.days_since_epoch(), i - 1));
    }
    case.push_str(&format!(" ELSE {} END", starts.len() - 1));
    let rows = tx.query(
        &format!(
            "SELECT s.customer_id, {case}, CAST(SUM(s.revenue_e4) AS BIGINT) FROM sales_customer_days s \
             WHERE s.currency = ? AND s.day >= ? AND s.day <= ? AND s.orders > 0 GROUP BY s.customer_id, {case}"
        ),
        params![currency.code(), starts[0].days_since_epoch(), as_of.days_since_epoch()],
    )?;
    let mut out: Vec<NewReturningRow> = starts
        .iter()
        .map(|start| NewReturningRow {
            month: format!("{:04}-{:02}", start.year, start.month),
            new_customers: 0,
            returning_customers: 0,
            new_revenue: from_e4_in(0, currency),
            returning_revenue: from_e4_in(0, currency),
        })
        .collect();
    for row in &rows {
        let index = usize::try_from(row.int(1)?).unwrap_or(0).min(out.len() - 1);
        let first = first_days.get(&row.int(0)?).copied().unwrap_or(i64::MIN);
        let revenue = from_e4_in(row.int(2)?, currency);
        let month_start = starts[index].days_since_epoch();
        let month_end = starts.get(index + 1).map_or(i64::MAX, |next| next.days_since_epoch());
        let slot = &mut out[index];
        if (month_start..month_end).contains(&first) {
            slot.new_customers += 1;
            slot.new_revenue += revenue;
        } else {
            slot.returning_customers += 1;
            slot.returning_revenue += revenue;
        }
    }
    Ok(out)
}
