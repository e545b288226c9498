//! Customers: RFM segmentation, lifetime value, customers at risk, new customers.

use super::model::{ReportError, RfmReport, RfmRow, RfmTotals, SegmentCount};
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
    /// The day the report looks back from (default today, UTC).
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
    for row in &rows {
        raw.push(Raw {
            id: row.int(0)?,
            label: format!("{} {}", row.text(1)?, row.text(2)?),
            first: row.int(3)?,
            last: row.int(4)?,
            orders: row.int(5)?,
            revenue_e4: row.int(6)?,
        });
    }
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
    })
}
