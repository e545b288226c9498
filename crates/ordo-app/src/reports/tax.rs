//! The tax report (增值税申报表的底稿): output tax by rate from the invoices and credit
//! notes issued in a period, input tax from the supplier bills entered for it, and what is
//! payable.

use super::model::ReportError;
use super::sales::{main_currency, period};
use super::summaries::{day_start, utc_offset};
use super::table::{Cell, Table, Tabular};
use crate::db::Tx;
use crate::params;
use ordo_domain::money::{from_e4, from_e4_in};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaxQuery {
    /// `YYYY-MM-DD`; default the first of `to`'s month.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
    pub currency: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TaxParams {
    pub from: Date,
    pub to: Date,
    pub currency: Option<Currency>,
}

impl TaxQuery {
    pub fn check(&self, today: Date) -> Result<TaxParams, Invalid> {
        let mut v = Violations::new();
        let (mut from, to) = period(&mut v, self.from.as_deref(), self.to.as_deref(), today, 1);
        if self.from.is_none() {
            from = Date { day: 1, ..to };
        }
        let currency = v.check(Currency::field("currency", self.currency.as_deref())).flatten();
        v.into_result()?;
        Ok(TaxParams { from, to, currency })
    }
}

/// Output tax at one rate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxRateRow {
    /// Fraction, e.g. `0.13`.
    #[schema(value_type = String)]
    pub rate: Decimal,
    #[schema(value_type = String)]
    pub invoiced_net: Decimal,
    #[schema(value_type = String)]
    pub invoiced_tax: Decimal,
    #[schema(value_type = String)]
    pub credited_net: Decimal,
    #[schema(value_type = String)]
    pub credited_tax: Decimal,
    /// Invoiced less credited.
    #[schema(value_type = String)]
    pub taxable: Decimal,
    #[schema(value_type = String)]
    pub output_tax: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxReport {
    pub from: String,
    pub to: String,
    pub currency: Currency,
    pub rates: Vec<TaxRateRow>,
    #[schema(value_type = String)]
    pub output_tax: Decimal,
    /// Supplier bills dated in the period (voided ones left out).
    pub supplier_bills: i64,
    #[schema(value_type = String)]
    pub input_tax: Decimal,
    /// Output less input tax; negative is a credit to carry forward.
    #[schema(value_type = String)]
    pub tax_payable: Decimal,
}

pub fn tax_report(tx: &mut dyn Tx, params: &TaxParams) -> Result<TaxReport, ReportError> {
    let currency = match params.currency {
        Some(currency) => currency,
        None => main_currency(tx)?,
    };
    let money = |e4: i64| from_e4_in(e4, currency);
    let offset = utc_offset(tx)?;
    let (start, end) = (day_start(params.from, offset), day_start(params.to.plus_days(1), offset));
    let mut rates: Vec<TaxRateRow> = Vec::new();
    for r in tx.query(
        "SELECT l.tax_rate_e4, i.kind, CAST(SUM(l.line_total_e4) AS BIGINT), CAST(SUM(l.tax_e4) AS BIGINT) \
         FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id \
         WHERE i.currency = ? AND i.kind IN ('invoice', 'credit_note') AND i.issued_at >= ? AND i.issued_at < ? \
         GROUP BY l.tax_rate_e4, i.kind ORDER BY l.tax_rate_e4 DESC",
        params![currency.code(), start, end],
    )? {
        let rate = from_e4(r.int(0)?).normalize();
        let (net, tax) = (money(r.int(2)?), money(r.int(3)?));
        let index = match rates.iter().position(|row| row.rate == rate) {
            Some(i) => i,
            None => {
                let zero = money(0);
                rates.push(TaxRateRow {
                    rate,
                    invoiced_net: zero,
                    invoiced_tax: zero,
                    credited_net: zero,
                    credited_tax: zero,
                    taxable: zero,
                    output_tax: zero,
                });
                rates.len() - 1
            }
        };
        let row = &mut rates[index];
        if r.text(1)? == "invoice" {
            row.invoiced_net += net;
            row.invoiced_tax += tax;
        } else {
            row.credited_net += net;
            row.credited_tax += tax;
        }
        row.taxable = row.invoiced_net - row.credited_net;
        row.output_tax = row.invoiced_tax - row.credited_tax;
    }
    let input = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(tax_e4), 0) AS BIGINT) FROM supplier_bills \
         WHERE currency = ? AND status <> 'voided' AND bill_date >= ? AND bill_date <= ?",
        params![currency.code(), params.from.to_string(), params.to.to_string()],
    )?;
    let output_tax = rates.iter().map(|r| r.output_tax).fold(money(0), |total, tax| total + tax);
    let input_tax = money(input.int(1)?);
    Ok(TaxReport {
        from: params.from.to_string(),
        to: params.to.to_string(),
        currency,
        rates,
        output_tax,
        supplier_bills: input.int(0)?,
        input_tax,
        tax_payable: output_tax - input_tax,
    })
}

impl Tabular for TaxReport {
    fn table(&self) -> Table {
        let mut rows: Vec<Vec<Cell>> = self
            .rates
            .iter()
            .map(|r| {
                vec![
                    format!("{}%", (r.rate * Decimal::ONE_HUNDRED).normalize()).into(),
                    r.invoiced_net.into(),
                    r.invoiced_tax.into(),
                    r.credited_net.into(),
                    r.credited_tax.into(),
                    r.taxable.into(),
                    r.output_tax.into(),
                ]
            })
            .collect();
        let zero = self.currency.round(Decimal::ZERO);
        let sum = |f: fn(&TaxRateRow) -> Decimal| self.rates.iter().map(f).fold(zero, |total, amount| total + amount);
        rows.push(vec![
            "total".into(),
            sum(|r| r.invoiced_net).into(),
            sum(|r| r.invoiced_tax).into(),
            sum(|r| r.credited_net).into(),
            sum(|r| r.credited_tax).into(),
            sum(|r| r.taxable).into(),
            self.output_tax.into(),
        ]);
        Table {
            name: format!("tax-{}-{}", self.from, self.to),
            columns: vec![
                "rate",
                "invoiced_net",
                "invoiced_tax",
                "credited_net",
                "credited_tax",
                "taxable",
                "output_tax",
            ],
            rows,
        }
    }

    fn sections(&self) -> Vec<Table> {
        vec![Table {
            name: "tax_payable".into(),
            columns: vec!["key", "amount"],
            rows: vec![
                vec!["output_tax".into(), self.output_tax.into()],
                vec!["input_tax".into(), self.input_tax.into()],
                vec!["tax_payable".into(), self.tax_payable.into()],
            ],
        }]
    }
}
