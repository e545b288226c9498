//! Settlement (日结 / 月结): per day or per month, what was sold, invoiced, received (by
//! method) and refunded, what went out to suppliers and for costs, and the differences a
//! bookkeeper chases: sold but not invoiced, invoiced but not collected.

use super::model::ReportError;
use super::sales::{main_currency, period};
use super::summaries::{day_start, utc_offset};
use super::table::{Cell, Table, Tabular};
use crate::db::Tx;
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SettlementQuery {
    /// `YYYY-MM-DD`; default 30 days before `to` (by day) or the start of `to`'s year (by month).
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
    /// `day` (default) or `month`.
    pub by: Option<String>,
    pub currency: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SettlementParams {
    pub from: Date,
    pub to: Date,
    pub by_month: bool,
    pub currency: Option<Currency>,
}

impl SettlementQuery {
    pub fn check(&self, today: Date) -> Result<SettlementParams, Invalid> {
        let mut v = Violations::new();
        let by_month = match self.by.as_deref().map(str::trim) {
            None | Some("") | Some("day") => false,
            Some("month") => true,
            Some(_) => {
                v.add("by", "must be day or month");
                false
            }
        };
        let default_days = if by_month { i64::from(today.month) * 31 } else { 30 };
        let (mut from, to) = period(&mut v, self.from.as_deref(), self.to.as_deref(), today, default_days);
        if by_month && self.from.is_none() {
            from = Date { year: to.year, month: 1, day: 1 };
        }
        if !by_month && to.days_since_epoch() - from.days_since_epoch() > 366 {
            v.add("from", "a daily settlement covers at most 366 days; ask for it by month");
        }
        let currency = v.check(Currency::field("currency", self.currency.as_deref())).flatten();
        v.into_result()?;
        Ok(SettlementParams { from, to, by_month, currency })
    }
}

/// One day or month of settlement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettlementRow {
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub period: String,
    /// Orders placed (not cancelled).
    pub orders: i64,
    /// Their value with tax.
    #[schema(value_type = String)]
    pub order_value: Decimal,
    #[schema(value_type = String)]
    pub invoiced: Decimal,
    #[schema(value_type = String)]
    pub credit_notes: Decimal,
    /// Payments received (captured), all methods.
    #[schema(value_type = String)]
    pub received: Decimal,
    #[schema(value_type = String)]
    pub refunds: Decimal,
    /// Received less refunds.
    #[schema(value_type = String)]
    pub net_received: Decimal,
    #[schema(value_type = String)]
    pub supplier_payments: Decimal,
    /// Freight, packaging, payment fees and other costs recorded.
    #[schema(value_type = String)]
    pub costs: Decimal,
    /// Difference: order value not invoiced in the period.
    #[schema(value_type = String)]
    pub not_invoiced: Decimal,
    /// Difference: invoiced less credit notes less net received (negative: paid in advance).
    #[schema(value_type = String)]
    pub not_collected: Decimal,
}

/// Received per payment method in one period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MethodReceipts {
    pub period: String,
    pub method: String,
    pub payments: i64,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettlementReport {
    pub from: String,
    pub to: String,
    /// day or month.
    pub by: String,
    pub currency: Currency,
    pub rows: Vec<SettlementRow>,
    pub totals: SettlementRow,
    pub by_method: Vec<MethodReceipts>,
}

impl SettlementRow {
    fn empty(period: String, currency: Currency) -> SettlementRow {
        let zero = currency.round(Decimal::ZERO);
        SettlementRow {
            period,
            orders: 0,
            order_value: zero,
            invoiced: zero,
            credit_notes: zero,
            received: zero,
            refunds: zero,
            net_received: zero,
            supplier_payments: zero,
            costs: zero,
            not_invoiced: zero,
            not_collected: zero,
        }
    }

    fn add(&mut self, other: &SettlementRow) {
        self.orders += other.orders;
        self.order_value += other.order_value;
        self.invoiced += other.invoiced;
        self.credit_notes += other.credit_notes;
        self.received += other.received;
        self.refunds += other.refunds;
        self.supplier_payments += other.supplier_payments;
        self.costs += other.costs;
    }

    fn settle(&mut self) {
        self.net_received = self.received - self.refunds;
        self.not_invoiced = self.order_value - self.invoiced;
        self.not_collected = self.invoiced - self.credit_notes - self.net_received;
    }
}

pub fn settlement(tx: &mut dyn Tx, params: &SettlementParams) -> Result<SettlementReport, ReportError> {
    let currency = match params.currency {
        Some(currency) => currency,
        None => main_currency(tx)?,
    };
    let code = currency.code();
    let offset = utc_offset(tx)?;
    let (start, end) = (day_start(params.from, offset), day_start(params.to.plus_days(1), offset));
    // The local day of a UTC timestamp column, as days since the epoch.
    let day = |column: &str| format!("({column} + {offset}) / 86400000000");
    let label = |days: i64| {
        let date = Date::from_days(days);
        if params.by_month { format!("{:04}-{:02}", date.year, date.month) } else { date.to_string() }
    };
    let money = |e4: i64| from_e4_in(e4, currency);
    let mut periods: BTreeMap<String, SettlementRow> = BTreeMap::new();
    let mut first = params.from.days_since_epoch();
    while first <= params.to.days_since_epoch() {
        periods.entry(label(first)).or_insert_with(|| SettlementRow::empty(label(first), currency));
        first += 1;
    }
    let mut fold =
        |tx: &mut dyn Tx, sql: String, args: &[crate::db::Value], apply: fn(&mut SettlementRow, i64, Decimal)| {
            for r in tx.query(&sql, args)? {
                let (days, count) = (r.int(0)?, r.int(1)?);
                if let Some(row) = periods.get_mut(&label(days)) {
                    apply(row, count, money(r.int(2)?));
                }
            }
            Ok::<_, ReportError>(())
        };
    fold(
        tx,
        format!(
            "SELECT {} AS d, COUNT(*), CAST(SUM(total_e4) AS BIGINT) FROM orders \
             WHERE currency = ? AND status <> 'cancelled' AND created_at >= ? AND created_at < ? GROUP BY 1",
            day("created_at")
        ),
        params![code, start, end],
        |row, count, amount| {
            row.orders += count;
            row.order_value += amount;
        },
    )?;
    for (kind, apply) in [
        ("invoice", (|row, _, amount| row.invoiced += amount) as fn(&mut SettlementRow, i64, Decimal)),
        ("credit_note", |row, _, amount| row.credit_notes += amount),
    ] {
        fold(
            tx,
            format!(
                "SELECT {} AS d, COUNT(*), CAST(SUM(total_e4) AS BIGINT) FROM invoices \
                 WHERE currency = ? AND kind = ? AND issued_at >= ? AND issued_at < ? GROUP BY 1",
                day("issued_at")
            ),
            params![code, kind, start, end],
            apply,
        )?;
    }
    fold(
        tx,
        format!(
            "SELECT {} AS d, COUNT(*), CAST(SUM(amount_e4) AS BIGINT) FROM payments \
             WHERE currency = ? AND status = 'captured' AND created_at >= ? AND created_at < ? GROUP BY 1",
            day("created_at")
        ),
        params![code, start, end],
        |row, _, amount| row.received += amount,
    )?;
    let decided = "COALESCE(r.decided_at, r.requested_at)";
    fold(
        tx,
        format!(
            "SELECT {} AS d, COUNT(*), CAST(SUM(r.amount_e4) AS BIGINT) FROM refunds r JOIN payments p ON p.id = r.payment_id \
             WHERE p.currency = ? AND r.status = 'completed' AND {decided} >= ? AND {decided} < ? GROUP BY 1",
            day(decided)
        ),
        params![code, start, end],
        |row, _, amount| row.refunds += amount,
    )?;
    fold(
        tx,
        format!(
            "SELECT {} AS d, COUNT(*), CAST(SUM(amount_e4) AS BIGINT) FROM supplier_payments \
             WHERE currency = ? AND paid_at >= ? AND paid_at < ? GROUP BY 1",
            day("paid_at")
        ),
        params![code, start, end],
        |row, _, amount| row.supplier_payments += amount,
    )?;
    // Costs count on the day they were incurred, as the business dated them.
    for r in tx.query(
        "SELECT incurred_on, COUNT(*), CAST(SUM(amount_e4) AS BIGINT) FROM costs \
         WHERE currency = ? AND incurred_on >= ? AND incurred_on <= ? GROUP BY incurred_on",
        params![code, params.from.to_string(), params.to.to_string()],
    )? {
        if let Some(row) = Date::parse(&r.text(0)?).and_then(|d| periods.get_mut(&label(d.days_since_epoch()))) {
            row.costs += money(r.int(2)?);
        }
    }
    let mut by_method = Vec::new();
    for r in tx.query(
        &format!(
            "SELECT {} AS d, method, COUNT(*), CAST(SUM(amount_e4) AS BIGINT) FROM payments \
             WHERE currency = ? AND status = 'captured' AND created_at >= ? AND created_at < ? GROUP BY 1, method ORDER BY 1, method",
            day("created_at")
        ),
        params![code, start, end],
    )? {
        let (period, method) = (label(r.int(0)?), r.text(1)?);
        let (payments, amount) = (r.int(2)?, money(r.int(3)?));
        match by_method.iter_mut().find(|m: &&mut MethodReceipts| m.period == period && m.method == method) {
            Some(m) => {
                m.payments += payments;
                m.amount += amount;
            }
            None => by_method.push(MethodReceipts { period, method, payments, amount }),
        }
    }
    let mut totals = SettlementRow::empty("total".into(), currency);
    let mut rows: Vec<SettlementRow> = periods.into_values().collect();
    for row in &mut rows {
        row.settle();
        totals.add(row);
    }
    totals.settle();
    Ok(SettlementReport {
        from: params.from.to_string(),
        to: params.to.to_string(),
        by: if params.by_month { "month" } else { "day" }.into(),
        currency,
        rows,
        totals,
        by_method,
    })
}

fn cells(row: &SettlementRow) -> Vec<Cell> {
    vec![
        row.period.clone().into(),
        row.orders.into(),
        row.order_value.into(),
        row.invoiced.into(),
        row.credit_notes.into(),
        row.received.into(),
        row.refunds.into(),
        row.net_received.into(),
        row.supplier_payments.into(),
        row.costs.into(),
        row.not_invoiced.into(),
        row.not_collected.into(),
    ]
}

impl Tabular for SettlementReport {
    fn table(&self) -> Table {
        let mut rows: Vec<Vec<Cell>> = self.rows.iter().map(cells).collect();
        rows.push(cells(&self.totals));
        Table {
            name: format!("settlement-{}-{}", self.from, self.to),
            columns: vec![
                "period",
                "orders",
                "order_value",
                "invoiced",
                "credit_notes",
                "received",
                "refunds",
                "net_received",
                "supplier_payments",
                "costs",
                "not_invoiced",
                "not_collected",
            ],
            rows,
        }
    }

    fn sections(&self) -> Vec<Table> {
        vec![Table {
            name: "by_method".into(),
            columns: vec!["period", "method", "payments", "amount"],
            rows: self
                .by_method
                .iter()
                .map(|m| vec![m.period.clone().into(), m.method.clone().into(), m.payments.into(), m.amount.into()])
                .collect(),
        }]
    }
}
