//! Finance: the month an accountant closes — sales, cost of goods and gross margin, tax
//! by rate, invoices and credit notes, cash received, refunds, open receivables, and the
//! net movement of each ledger account.

use super::model::{FinanceRow, FinanceSummary, FinanceTotals, ReportError};
use super::sales::main_currency;
use super::summaries::day_start;
use crate::db::Tx;
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::payments::Account;
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FinanceQuery {
    /// YYYY-MM (default: this month), from local midnight to local midnight.
    pub month: Option<String>,
    pub currency: Option<String>,
    pub format: Option<String>,
}

pub struct FinanceParams {
    /// First and last day of the month.
    pub first: Date,
    pub last: Date,
    pub currency: Option<Currency>,
}

impl FinanceQuery {
    pub fn check(&self, today: Date) -> Result<FinanceParams, Invalid> {
        let mut violations = Violations::new();
        let first = match self.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            None => Date { day: 1, ..today },
            Some(text) => Date::parse(&format!("{text}-01")).filter(|_| text.len() == 7).unwrap_or_else(|| {
                violations.add("month", "must be a month such as 2026-11");
                Date { day: 1, ..today }
            }),
        };
        let currency = violations.check(Currency::field("currency", self.currency.as_deref())).flatten();
        violations.into_result()?;
        let next = if first.month == 12 {
            Date { year: first.year + 1, month: 1, day: 1 }
        } else {
            Date { month: first.month + 1, ..first }
        };
        Ok(FinanceParams { first, last: next.plus_days(-1), currency })
    }
}

pub fn finance_summary(tx: &mut dyn Tx, params: &FinanceParams) -> Result<FinanceSummary, ReportError> {
    let currency = match params.currency {
        Some(currency) => currency,
        None => main_currency(tx)?,
    };
    let code = currency.code();
    let (first_day, last_day) = (params.first.days_since_epoch(), params.last.days_since_epoch());
    // Local midnights: the month as the business counts it.
    let offset = super::summaries::utc_offset(tx)?;
    let (start, end) = (day_start(params.first, offset), day_start(params.last.plus_days(1), offset));
    let money = |e4: i64| from_e4_in(e4, currency);
    let mut rows = Vec::new();
    let mut row = |key: &str, label: &str, amount: Decimal, count: Option<i64>| {
        rows.push(FinanceRow { key: key.into(), label: label.into(), amount, count })
    };

    let sales = tx.query_one(
        "SELECT CAST(COALESCE(SUM(orders), 0) AS BIGINT), CAST(COALESCE(SUM(revenue_e4), 0) AS BIGINT), \
         CAST(COALESCE(SUM(tax_e4), 0) AS BIGINT) FROM sales_customer_days WHERE currency = ? AND day >= ? AND day <= ?",
        params![code, first_day, last_day],
    )?;
    let (orders, revenue, tax) = (sales.int(0)?, money(sales.int(1)?), money(sales.int(2)?));
    let cost = money(
        tx.query_one(
            "SELECT CAST(COALESCE(SUM(cost_e4), 0) AS BIGINT) FROM sales_product_days \
             WHERE currency = ? AND day >= ? AND day <= ?",
            params![code, first_day, last_day],
        )?
        .int(0)?,
    );
    let net = revenue - tax;
    let margin = net - cost;
    row("orders_revenue", "Order revenue (with tax)", revenue, Some(orders));
    row("net_revenue", "Net revenue", net, None);
    row("tax", "Tax on orders", tax, None);
    row("cost_of_goods", "Cost of goods (moving-average cost)", cost, None);
    row("gross_margin", "Gross margin", margin, None);

    for r in tx.query(
        "SELECT l.tax_rate_e4, CAST(SUM(l.line_total_e4) AS BIGINT), CAST(SUM(l.tax_e4) AS BIGINT), COUNT(*) \
         FROM orders o JOIN order_lines l ON l.order_id = o.id \
         WHERE o.currency = ? AND o.created_at >= ? AND o.created_at < ? AND o.status <> 'cancelled' \
         GROUP BY l.tax_rate_e4 ORDER BY l.tax_rate_e4",
        params![code, start, end],
    )? {
        let rate = Decimal::new(r.int(0)?, 2).normalize();
        row(
            &format!("tax_{rate}"),
            &format!("Tax at {rate}% on {} net", money(r.int(1)?)),
            money(r.int(2)?),
            Some(r.int(3)?),
        );
    }
    for r in tx.query(
        "SELECT kind, COUNT(*), CAST(SUM(total_e4) AS BIGINT) FROM invoices \
         WHERE currency = ? AND issued_at >= ? AND issued_at < ? GROUP BY kind ORDER BY kind",
        params![code, start, end],
    )? {
        let kind = r.text(0)?;
        let label = match kind.as_str() {
            "invoice" => "Invoiced",
            "credit_note" => "Credit notes",
            "write_off" => "Written off",
            _ => "Other documents",
        };
        let key = match kind.as_str() {
            "invoice" => "invoiced".to_string(),
            "credit_note" => "credit_notes".to_string(),
            "write_off" => "write_offs".to_string(),
            other => other.to_string(),
        };
        row(&key, label, money(r.int(2)?), Some(r.int(1)?));
    }
    let paid = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_e4), 0) AS BIGINT) FROM payments \
         WHERE currency = ? AND status = 'captured' AND created_at >= ? AND created_at < ?",
        params![code, start, end],
    )?;
    let cash_received = money(paid.int(1)?);
    row("cash_received", "Payments received", cash_received, Some(paid.int(0)?));
    let refunded = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(r.amount_e4), 0) AS BIGINT) FROM refunds r JOIN payments p ON p.id = r.payment_id \
         WHERE p.currency = ? AND r.status = 'completed' AND COALESCE(r.decided_at, r.requested_at) >= ? \
         AND COALESCE(r.decided_at, r.requested_at) < ?",
        params![code, start, end],
    )?;
    let refunds = money(refunded.int(1)?);
    row("refunds", "Refunds paid", refunds, Some(refunded.int(0)?));
    let aging = crate::payments::aging(tx, currency, params.last).map_err(|e| match e {
        crate::payments::PaymentError::Db(db) => ReportError::Db(db),
        other => ReportError::Db(crate::db::DbError::Other(other.to_string())),
    })?;
    let receivables_open = aging.totals.total;
    row("receivables_open", "Receivables open at month end", receivables_open, Some(aging.customers.len() as i64));
    // Aged by due date at month end: what an accountant chases first.
    let t = &aging.totals;
    for (key, label, amount) in [
        ("receivables_current", "  of which not yet due", t.current),
        ("receivables_1_30", "  of which 1–30 days overdue", t.days_1_30),
        ("receivables_31_60", "  of which 31–60 days overdue", t.days_31_60),
        ("receivables_61_90", "  of which 61–90 days overdue", t.days_61_90),
        ("receivables_90_plus", "  of which over 90 days overdue", t.over_90),
    ] {
        row(key, label, amount, None);
    }
    for r in tx.query(
        "SELECT account, CAST(SUM(debit_e4) AS BIGINT), CAST(SUM(credit_e4) AS BIGINT) FROM ledger_lines \
         WHERE currency = ? AND at >= ? AND at < ? GROUP BY account ORDER BY account",
        params![code, start, end],
    )? {
        let account = r.text(0)?;
        let name = Account::parse(&account).map_or_else(|| account.clone(), |a| a.name().to_string());
        row(
            &format!("account_{account}"),
            &format!("{account} {name} (debit − credit)"),
            money(r.int(1)? - r.int(2)?),
            None,
        );
    }
    Ok(FinanceSummary {
        month: format!("{:04}-{:02}", params.first.year, params.first.month),
        currency: code.to_string(),
        rows,
        totals: FinanceTotals {
            revenue,
            net_revenue: net,
            tax,
            cost_of_goods: cost,
            gross_margin: margin,
            gross_margin_percent: (!net.is_zero()).then(|| super::fixed(margin * Decimal::from(100) / net, 2)),
            cash_received,
            refunds,
            receivables_open,
        },
    })
}
