//! Sales by period, product, category, customer, customer group, channel, region and
//! salesperson (the customer's account salesperson, like group and region as they are now), with
//! a comparison period. Reads the daily summaries (see `summaries`), so a year of a large
//! history is a few hundred thousand summary rows, not millions of order lines.

use super::model::{ReportError, ReportKey, SalesFigures, SalesReport, SalesRow, SalesTotals};
use super::summaries::day_start;
use crate::db::{DbError, Tx, Value};
use ordo_domain::money::{from_e4, from_e4_in, to_e4};
use ordo_domain::reports::{self as calc, Comparison, SalesGrouping};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// The most rows a report returns (top or bottom N).
pub const MAX_ROWS: usize = 1000;
/// The longest period one report covers.
const MAX_DAYS: i64 = 366 * 10;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalesQuery {
    /// First day, in the business's time zone (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
    /// day, week, month, quarter, year, product, category, customer, customer_group, channel, region,
    /// salesperson (the customer's account salesperson; default day).
    pub group_by: Option<String>,
    /// previous (the same number of days before) or last_year.
    pub compare: Option<String>,
    pub channel: Option<String>,
    pub customer_group: Option<String>,
    pub region: Option<String>,
    /// E-mail of the account salesperson.
    pub salesperson: Option<String>,
    /// Default: the currency with the most revenue in the period. `base`: every currency's
    /// sales converted into the base currency at the rate in force on `to` (the compared
    /// period too, so a change is the business's and not the exchange rate's).
    pub currency: Option<String>,
    /// Top (or bottom) N rows; calendar groupings return every period.
    pub limit: Option<i64>,
    /// top (default) or bottom, by revenue.
    pub order: Option<String>,
    /// csv or xlsx to download the report instead of JSON.
    pub format: Option<String>,
}

/// A checked sales query.
#[derive(Debug, Clone)]
pub struct SalesParams {
    pub from: Date,
    pub to: Date,
    pub grouping: SalesGrouping,
    pub comparison: Option<Comparison>,
    pub channel: Option<String>,
    pub customer_group: Option<String>,
    pub region: Option<String>,
    pub salesperson: Option<String>,
    pub currency: Option<Currency>,
    /// All currencies converted into the base currency.
    pub in_base: bool,
    pub limit: Option<usize>,
    pub bottom: bool,
}

/// The period of a report: `to` defaults to today, `from` to `default_days - 1` days before.
pub fn period(
    violations: &mut Violations,
    from: Option<&str>,
    to: Option<&str>,
    today: Date,
    default_days: i64,
) -> (Date, Date) {
    let to = violations.check(Date::field("to", to)).flatten().unwrap_or(today);
    let from = violations.check(Date::field("from", from)).flatten().unwrap_or(to.plus_days(1 - default_days));
    if from > to {
        violations.add("from", "must not be after `to`");
    } else if to.days_since_epoch() - from.days_since_epoch() >= MAX_DAYS {
        violations.add("from", "a report covers at most ten years");
    }
    (from, to)
}

impl SalesQuery {
    pub fn check(&self, today: Date) -> Result<SalesParams, Invalid> {
        let mut violations = Violations::new();
        let (from, to) = period(&mut violations, self.from.as_deref(), self.to.as_deref(), today, 30);
        let grouping = match self.group_by.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            None => SalesGrouping::Day,
            Some(text) => SalesGrouping::parse(text).unwrap_or_else(|| {
                violations.add("group_by", format!("must be one of {}", SalesGrouping::choices()));
                SalesGrouping::Day
            }),
        };
        let comparison = match self.compare.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => Comparison::parse(text).or_else(|| {
                violations.add("compare", format!("must be one of {}", Comparison::choices()));
                None
            }),
        };
        let in_base = self.currency.as_deref().map(str::trim) == Some("base");
        let currency = match in_base {
            true => None,
            false => violations.check(Currency::field("currency", self.currency.as_deref())).flatten(),
        };
        let limit = match self.limit {
            None => None,
            Some(n) if n >= 1 && n as usize <= MAX_ROWS => Some(n as usize),
            Some(_) => {
                violations.add("limit", format!("must be between 1 and {MAX_ROWS}"));
                None
            }
        };
        let bottom = match self.order.as_deref().map(str::trim) {
            None | Some("") | Some("top") => false,
            Some("bottom") => true,
            Some(_) => {
                violations.add("order", "must be top or bottom");
                false
            }
        };
        let text = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
        violations.into_result()?;
        Ok(SalesParams {
            from,
            to,
            grouping,
            comparison,
            channel: text(&self.channel),
            customer_group: text(&self.customer_group),
            region: text(&self.region),
            salesperson: text(&self.salesperson).map(|s| s.to_lowercase()),
            currency,
            in_base,
            limit,
            bottom,
        })
    }
}

/// A row of a grouped report: its key, its label, its sums.
type Grouped = (ReportKey, String, Sums);

/// Summed figures in storage units.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    orders: i64,
    units: i64,
    revenue_e4: i64,
    tax_e4: i64,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        self.orders += other.orders;
        self.units += other.units;
        self.revenue_e4 += other.revenue_e4;
        self.tax_e4 += other.tax_e4;
    }

    /// The sums of one currency in base at `rate`.
    fn converted(self, rate: Decimal, base: Currency) -> Sums {
        let convert = |e4: i64| to_e4(base.round(from_e4(e4) * rate));
        Sums { revenue_e4: convert(self.revenue_e4), tax_e4: convert(self.tax_e4), ..self }
    }

    fn figures(self, currency: Currency) -> SalesFigures {
        let revenue = from_e4_in(self.revenue_e4, currency);
        let tax = from_e4_in(self.tax_e4, currency);
        SalesFigures {
            orders: self.orders,
            units: self.units,
            revenue,
            net_revenue: revenue - tax,
            tax,
            average_order_value: if self.orders > 0 {
                currency.round(revenue / Decimal::from(self.orders))
            } else {
                currency.round(Decimal::ZERO)
            },
        }
    }
}

pub fn sales(tx: &mut dyn Tx, params: &SalesParams) -> Result<SalesReport, ReportError> {
    let currencies = currencies_between(tx, params.from, params.to)?;
    let compared_period = params.comparison.map(|c| calc::compared_period(params.from, params.to, c));
    let converted = match params.in_base {
        true => {
            let mut all = currencies.clone();
            if let Some((from, to)) = compared_period {
                all.extend(currencies_between(tx, from, to)?);
            }
            Some(base_rates(tx, all, params.to)?)
        }
        false => None,
    };
    let currency = match (&converted, params.currency) {
        (Some((base, _)), _) => *base,
        (None, Some(currency)) => currency,
        (None, None) => match currencies.first() {
            Some(code) => crate::catalog::store::currency(code)?,
            None => main_currency(tx)?,
        },
    };
    let each = |tx: &mut dyn Tx, from: Date, to: Date| -> Result<(Vec<Grouped>, Sums), DbError> {
        let Some((base, rates)) = &converted else {
            return Ok((grouped(tx, params, currency, from, to)?, total_between(tx, params, currency, from, to)?));
        };
        let (mut rows, mut total) = (Vec::<Grouped>::new(), Sums::default());
        let mut at: HashMap<ReportKey, usize> = HashMap::new();
        for (c, rate) in rates {
            for (key, label, sums) in grouped(tx, params, *c, from, to)? {
                let sums = sums.converted(*rate, *base);
                match at.get(&key) {
                    Some(&i) => rows[i].2.add(sums),
                    None => {
                        at.insert(key.clone(), rows.len());
                        rows.push((key, label, sums));
                    }
                }
            }
            total.add(total_between(tx, params, *c, from, to)?.converted(*rate, *base));
        }
        Ok((rows, total))
    };
    let (rows, total) = each(tx, params.from, params.to)?;
    let (compared_rows, compared_total) = match compared_period {
        Some((from, to)) => {
            let (rows, total) = each(tx, from, to)?;
            (Some(rows), Some(total))
        }
        None => (None, None),
    };

    let mut out: Vec<SalesRow> = Vec::new();
    let total_revenue = from_e4_in(total.revenue_e4, currency);
    let row_of = |key: ReportKey, label: String, sums: Sums, compared: Option<Sums>| {
        let figures = sums.figures(currency);
        let compared = compared.map(|c| c.figures(currency));
        SalesRow {
            key,
            label,
            orders: figures.orders,
            units: figures.units,
            share: share(figures.revenue, total_revenue),
            revenue_change: compared.as_ref().and_then(|c| change(figures.revenue, c.revenue)),
            revenue: figures.revenue,
            net_revenue: figures.net_revenue,
            tax: figures.tax,
            average_order_value: figures.average_order_value,
            compared,
        }
    };
    if params.grouping.is_calendar() {
        // Every bucket of the period in order, zeros included; the compared period's buckets
        // are matched by position (week 3 against week 3).
        let keys = calc::buckets(params.from, params.to, params.grouping);
        let by_bucket = bucketed(&rows, params.grouping);
        let compared_buckets = compared_period.map(|(from, to)| calc::buckets(from, to, params.grouping));
        let compared_by_bucket = compared_rows.as_ref().map(|rows| bucketed(rows, params.grouping));
        for (i, key) in keys.iter().enumerate() {
            let sums = by_bucket.get(key).copied().unwrap_or_default();
            let compared = match (&compared_buckets, &compared_by_bucket) {
                (Some(keys), Some(map)) => Some(keys.get(i).and_then(|k| map.get(k)).copied().unwrap_or_default()),
                _ => None,
            };
            out.push(row_of(ReportKey::Text(key.clone()), key.clone(), sums, compared));
        }
    } else {
        let compared_by_key: Option<HashMap<ReportKey, Sums>> =
            compared_rows.map(|rows| rows.into_iter().map(|(key, _, sums)| (key, sums)).collect());
        for (key, label, sums) in rows {
            let compared = compared_by_key.as_ref().map(|map| map.get(&key).copied().unwrap_or_default());
            out.push(row_of(key, label, sums, compared));
        }
        // Best first (or worst first), ties by key so the order is stable.
        out.sort_by(|a, b| {
            let by_revenue = if params.bottom { a.revenue.cmp(&b.revenue) } else { b.revenue.cmp(&a.revenue) };
            by_revenue.then_with(|| a.key.cmp(&b.key))
        });
        if let Some(limit) = params.limit {
            out.truncate(limit);
        }
    }
    let figures = total.figures(currency);
    let compared_total = compared_total.map(|c| c.figures(currency));
    Ok(SalesReport {
        from: params.from.to_string(),
        to: params.to.to_string(),
        group_by: params.grouping,
        compare: params.comparison,
        compared_from: compared_period.map(|(from, _)| from.to_string()),
        compared_to: compared_period.map(|(_, to)| to.to_string()),
        currency: currency.code().to_string(),
        currencies,
        rows: out,
        totals: SalesTotals {
            orders: figures.orders,
            units: figures.units,
            revenue_change: compared_total.as_ref().and_then(|c| change(figures.revenue, c.revenue)),
            revenue: figures.revenue,
            net_revenue: figures.net_revenue,
            tax: figures.tax,
            average_order_value: figures.average_order_value,
            compared: compared_total,
        },
    })
}

fn share(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() { Decimal::new(0, 2) } else { super::fixed(part * Decimal::from(100) / whole, 2) }
}

fn change(now: Decimal, before: Decimal) -> Option<Decimal> {
    (!before.is_zero()).then(|| super::fixed((now - before) * Decimal::from(100) / before, 2))
}

fn bucketed(rows: &[(ReportKey, String, Sums)], grouping: SalesGrouping) -> HashMap<String, Sums> {
    let mut map: HashMap<String, Sums> = HashMap::new();
    for (key, _, sums) in rows {
        if let ReportKey::Id(day) = key {
            map.entry(calc::bucket(Date::from_days(*day), grouping).1).or_default().add(*sums);
        }
    }
    map
}

/// Currencies with revenue between the two days, most revenue first.
/// The base currency and the rate of each of `currencies` in force on `on`; a currency
/// without one is named, since its sales cannot be added up.
fn base_rates(
    tx: &mut dyn Tx,
    mut currencies: Vec<String>,
    on: Date,
) -> Result<(Currency, Vec<(Currency, Decimal)>), ReportError> {
    currencies.sort_unstable();
    currencies.dedup();
    let base = crate::payments::fx::base_currency(tx)?;
    let mut v = Violations::new();
    let mut rates = Vec::with_capacity(currencies.len());
    for code in currencies {
        let currency = crate::catalog::store::currency(&code)?;
        match crate::payments::fx::rate_on(tx, currency, base, on)? {
            Some(rate) => rates.push((currency, rate)),
            None => v.add(
                "currency",
                format!("no exchange rate for {currency} on or before {on}: enter one to see sales in {base}"),
            ),
        }
    }
    v.into_result()?;
    Ok((base, rates))
}

fn currencies_between(tx: &mut dyn Tx, from: Date, to: Date) -> Result<Vec<String>, DbError> {
    let rows = tx.query(
        "SELECT currency, CAST(SUM(revenue_e4) AS BIGINT) FROM sales_customer_days WHERE day >= ? AND day <= ? \
         GROUP BY currency ORDER BY 2 DESC, 1",
        &[from.days_since_epoch().into(), to.days_since_epoch().into()],
    )?;
    rows.iter().map(|row| row.text(0)).collect()
}

/// The currency most sales are in, for a period without any.
pub fn main_currency(tx: &mut dyn Tx) -> Result<Currency, DbError> {
    let row = tx.query_opt(
        "SELECT currency FROM sales_customer_days GROUP BY currency ORDER BY SUM(revenue_e4) DESC, currency LIMIT 1",
        &[],
    )?;
    match row {
        Some(row) => crate::catalog::store::currency(&row.text(0)?),
        None => Ok(Currency::CNY),
    }
}

/// Filters every sales query shares, on the summary alias `s` and the customer alias `c`.
fn filters(params: &SalesParams, sql: &mut String, values: &mut Vec<Value>) {
    if let Some(channel) = &params.channel {
        sql.push_str(" AND s.channel = ?");
        values.push(channel.as_str().into());
    }
    if let Some(group) = &params.customer_group {
        sql.push_str(" AND c.customer_group = ?");
        values.push(group.as_str().into());
    }
    if let Some(region) = &params.region {
        sql.push_str(" AND c.region = ?");
        values.push(region.as_str().into());
    }
    if let Some(salesperson) = &params.salesperson {
        sql.push_str(" AND c.salesperson = ?");
        values.push(salesperson.as_str().into());
    }
}

fn needs_customers(params: &SalesParams) -> bool {
    params.customer_group.is_some() || params.region.is_some() || params.salesperson.is_some()
}

fn sums_from(row: &crate::db::Row, first: usize) -> Result<Sums, DbError> {
    Ok(Sums {
        orders: row.int(first)?,
        units: row.int(first + 1)?,
        revenue_e4: row.int(first + 2)?,
        tax_e4: row.int(first + 3)?,
    })
}

const SUMS: &str = "CAST(SUM(s.orders) AS BIGINT), CAST(SUM(s.units) AS BIGINT), \
    CAST(SUM(s.revenue_e4) AS BIGINT), CAST(SUM(s.tax_e4) AS BIGINT)";

/// Rows of the grouping: (key, label, sums). Calendar groupings come back per day (the key
/// is the day number) and are bucketed by the caller.
fn grouped(
    tx: &mut dyn Tx,
    params: &SalesParams,
    currency: Currency,
    from: Date,
    to: Date,
) -> Result<Vec<(ReportKey, String, Sums)>, DbError> {
    let mut values: Vec<Value> =
        vec![currency.code().into(), from.days_since_epoch().into(), to.days_since_epoch().into()];
    let by_product = matches!(params.grouping, SalesGrouping::Product | SalesGrouping::Category);
    if by_product && (needs_customers(params) || params.grouping == SalesGrouping::Category) {
        return from_lines(tx, params, currency, from, to);
    }
    let (select, group, join) = match params.grouping {
        SalesGrouping::Product => {
            ("s.product_id, MIN(p.sku), MIN(p.name)", "s.product_id", " JOIN products p ON p.id = s.product_id")
        }
        SalesGrouping::Customer => {
            ("s.customer_id, MIN(c.code), MIN(c.name)", "s.customer_id", " JOIN customers c ON c.id = s.customer_id")
        }
        SalesGrouping::CustomerGroup => {
            ("c.customer_group, '', ''", "c.customer_group", " JOIN customers c ON c.id = s.customer_id")
        }
        SalesGrouping::Region => {
            ("COALESCE(c.region, ''), '', ''", "COALESCE(c.region, '')", " JOIN customers c ON c.id = s.customer_id")
        }
        SalesGrouping::Salesperson => (
            "COALESCE(c.salesperson, ''), MIN(u.name), ''",
            "COALESCE(c.salesperson, '')",
            " JOIN customers c ON c.id = s.customer_id LEFT JOIN users u ON u.email = c.salesperson",
        ),
        SalesGrouping::Channel => ("s.channel, '', ''", "s.channel", ""),
        _ => ("s.day, '', ''", "s.day", ""),
    };
    let table = if by_product { "sales_product_days" } else { "sales_customer_days" };
    let join =
        if join.is_empty() && needs_customers(params) { " JOIN customers c ON c.id = s.customer_id" } else { join };
    let mut sql =
        format!("SELECT {select}, {SUMS} FROM {table} s{join} WHERE s.currency = ? AND s.day >= ? AND s.day <= ?");
    filters(params, &mut sql, &mut values);
    sql.push_str(&format!(" GROUP BY {group}"));
    let mut out = Vec::new();
    for row in tx.query(&sql, &values)? {
        let sums = sums_from(&row, 3)?;
        if sums.orders == 0 && sums.revenue_e4 == 0 && sums.units == 0 {
            continue;
        }
        let (key, label) = match params.grouping {
            SalesGrouping::Product | SalesGrouping::Customer => {
                let id = row.int(0)?;
                (ReportKey::Id(id), format!("{} {}", row.text(1)?, row.text(2)?))
            }
            SalesGrouping::CustomerGroup | SalesGrouping::Region | SalesGrouping::Channel => {
                let text = row.text(0)?;
                (ReportKey::Text(text.clone()), text)
            }
            // The salesperson's name beside the e-mail the key holds.
            SalesGrouping::Salesperson => {
                let email = row.text(0)?;
                let label = match row.opt_text(1)? {
                    Some(name) if !email.is_empty() => format!("{name} <{email}>"),
                    _ => email.clone(),
                };
                (ReportKey::Text(email), label)
            }
            _ => (ReportKey::Id(row.int(0)?), String::new()),
        };
        out.push((key, label, sums));
    }
    Ok(out)
}

/// Product and category rows straight from the order lines: used when the filter needs the
/// customer (not in the product summary) or the grouping counts orders across products.
fn from_lines(
    tx: &mut dyn Tx,
    params: &SalesParams,
    currency: Currency,
    from: Date,
    to: Date,
) -> Result<Vec<(ReportKey, String, Sums)>, DbError> {
    let (select, group) = if params.grouping == SalesGrouping::Category {
        ("COALESCE(p.category, ''), '', ''", "COALESCE(p.category, '')")
    } else {
        ("l.product_id, MIN(p.sku), MIN(p.name)", "l.product_id")
    };
    let mut sql = format!(
        "SELECT {select}, COUNT(DISTINCT o.id), CAST(SUM(l.quantity) AS BIGINT), \
         CAST(SUM(l.line_total_e4 + l.tax_e4) AS BIGINT), CAST(SUM(l.tax_e4) AS BIGINT) \
         FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id \
         JOIN customers c ON c.id = o.customer_id \
         WHERE o.currency = ? AND o.created_at >= ? AND o.created_at < ? AND o.status <> 'cancelled'"
    );
    let offset = super::summaries::utc_offset(tx)?;
    let mut values: Vec<Value> =
        vec![currency.code().into(), day_start(from, offset).into(), day_start(to.plus_days(1), offset).into()];
    // The shared filters name the summary alias `s`; here the order carries the channel.
    let mut extra = String::new();
    filters(params, &mut extra, &mut values);
    sql.push_str(&extra.replace("s.channel", "o.channel"));
    sql.push_str(&format!(" GROUP BY {group}"));
    let mut out = Vec::new();
    for row in tx.query(&sql, &values)? {
        let sums = sums_from(&row, 3)?;
        let (key, label) = if params.grouping == SalesGrouping::Category {
            let text = row.text(0)?;
            (ReportKey::Text(text.clone()), text)
        } else {
            (ReportKey::Id(row.int(0)?), format!("{} {}", row.text(1)?, row.text(2)?))
        };
        out.push((key, label, sums));
    }
    Ok(out)
}

/// The period's figures with the report's filters, always from the order-level summary so
/// an order with several products counts once.
fn total_between(
    tx: &mut dyn Tx,
    params: &SalesParams,
    currency: Currency,
    from: Date,
    to: Date,
) -> Result<Sums, DbError> {
    let join = if needs_customers(params) { " JOIN customers c ON c.id = s.customer_id" } else { "" };
    let mut sql = format!(
        "SELECT 0, 0, 0, {SUMS} FROM sales_customer_days s{join} WHERE s.currency = ? AND s.day >= ? AND s.day <= ?"
    );
    let mut values: Vec<Value> =
        vec![currency.code().into(), from.days_since_epoch().into(), to.days_since_epoch().into()];
    filters(params, &mut sql, &mut values);
    let row = tx.query_one(&sql, &values)?;
    // SUM over no rows is NULL.
    Ok(sums_from(&row, 3).unwrap_or_default())
}

/// Today in the business's time zone.
pub fn today(tx: &mut dyn Tx, now: Timestamp) -> Result<Date, DbError> {
    Ok(super::summaries::local_date(now, super::summaries::utc_offset(tx)?))
}
