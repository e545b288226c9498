//! The books in the base currency: every account's movement over a period and its balance
//! at the end, with entries in all currencies valued in base (the exchange differences
//! realised on foreign payments show on 7900), what each currency moved, and the rates in
//! force at the end of the period.

use super::model::ReportError;
use super::sales::period;
use super::summaries::{day_start, utc_offset};
use super::table::{Cell, Table, Tabular};
use crate::db::Tx;
use crate::params;
use crate::payments::AccountBalance;
use ordo_domain::money::from_e4_in;
use ordo_domain::payments::Account;
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BooksQuery {
    /// `YYYY-MM-DD`; default the first of `to`'s month.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BooksParams {
    pub from: Date,
    pub to: Date,
}

impl BooksQuery {
    pub fn check(&self, today: Date) -> Result<BooksParams, Invalid> {
        let mut v = Violations::new();
        let (mut from, to) = period(&mut v, self.from.as_deref(), self.to.as_deref(), today, 1);
        if self.from.is_none() {
            from = Date { day: 1, ..to };
        }
        v.into_result()?;
        Ok(BooksParams { from, to })
    }
}

/// What the entries of one currency moved in the period, as booked and in base.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BooksCurrency {
    pub currency: Currency,
    /// Debits of the period in the currency itself (each entry's credits are as much).
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = String)]
    pub base_amount: Decimal,
    /// The rate in force at the end of the period, if one was entered.
    #[schema(value_type = Option<String>)]
    pub rate: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BooksReport {
    pub base_currency: Currency,
    pub from: String,
    pub to: String,
    /// Each account's movement in the period, and its balance at the end (normal side).
    pub accounts: Vec<AccountBalance>,
    #[schema(value_type = String)]
    pub total_debit: Decimal,
    #[schema(value_type = String)]
    pub total_credit: Decimal,
    /// Realised exchange gains less losses in the period (7900, credit − debit).
    #[schema(value_type = String)]
    pub exchange_result: Decimal,
    pub currencies: Vec<BooksCurrency>,
}

pub fn books(tx: &mut dyn Tx, params: &BooksParams) -> Result<BooksReport, ReportError> {
    let base = crate::payments::fx::base_currency(tx)?;
    let money = |e4: i64| from_e4_in(e4, base);
    let offset = utc_offset(tx)?;
    let (start, end) = (day_start(params.from, offset), day_start(params.to.plus_days(1), offset));
    let rows = tx.query(
        "SELECT account, \
         CAST(SUM(CASE WHEN at >= ? THEN base_debit_e4 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN at >= ? THEN base_credit_e4 ELSE 0 END) AS BIGINT), \
         CAST(SUM(base_debit_e4 - base_credit_e4) AS BIGINT) \
         FROM ledger_lines WHERE at < ? GROUP BY account ORDER BY account",
        params![start, start, end],
    )?;
    let mut accounts = Vec::with_capacity(rows.len());
    let (mut total_debit, mut total_credit, mut exchange_result) = (money(0), money(0), money(0));
    for row in rows {
        let code = row.text(0)?;
        let account = Account::parse(&code);
        let (debit, credit, net) = (money(row.int(1)?), money(row.int(2)?), money(row.int(3)?));
        total_debit += debit;
        total_credit += credit;
        if account == Some(Account::ExchangeDifference) {
            exchange_result = credit - debit;
        }
        let balance = if account.is_none_or(|a| a.debit_normal()) { net } else { -net };
        let name = account.map_or_else(|| code.clone(), |a| a.name().to_string());
        accounts.push(AccountBalance { code, name, debit, credit, balance });
    }
    let mut currencies = Vec::new();
    let last = params.to;
    for row in tx.query(
        "SELECT currency, CAST(SUM(debit_e4) AS BIGINT), CAST(SUM(base_debit_e4) AS BIGINT) FROM ledger_lines \
         WHERE at >= ? AND at < ? GROUP BY currency ORDER BY currency",
        params![start, end],
    )? {
        let code = row.text(0)?;
        let Some(currency) = Currency::parse(&code) else { continue };
        currencies.push(BooksCurrency {
            currency,
            amount: from_e4_in(row.int(1)?, currency),
            base_amount: money(row.int(2)?),
            rate: crate::payments::fx::rate_on(tx, currency, base, last)?,
        });
    }
    Ok(BooksReport {
        base_currency: base,
        from: params.from.to_string(),
        to: params.to.to_string(),
        accounts,
        total_debit,
        total_credit,
        exchange_result,
        currencies,
    })
}

impl Tabular for BooksReport {
    fn table(&self) -> Table {
        let mut rows: Vec<Vec<Cell>> = self
            .accounts
            .iter()
            .map(|a| {
                vec![a.code.clone().into(), a.name.clone().into(), a.debit.into(), a.credit.into(), a.balance.into()]
            })
            .collect();
        rows.push(vec!["total".into(), Cell::Empty, self.total_debit.into(), self.total_credit.into(), Cell::Empty]);
        Table {
            name: format!("books-{}-{}-{}", self.base_currency, self.from, self.to),
            columns: vec!["account", "account_name", "debit", "credit", "balance"],
            rows,
        }
    }

    fn sections(&self) -> Vec<Table> {
        vec![Table {
            name: "currencies".into(),
            columns: vec!["currency", "amount", "base_amount", "rate"],
            rows: self
                .currencies
                .iter()
                .map(|c| {
                    vec![
                        c.currency.code().to_string().into(),
                        c.amount.into(),
                        c.base_amount.into(),
                        c.rate.map_or(Cell::Empty, |r| r.to_string().into()),
                    ]
                })
                .collect(),
        }]
    }
}
