//! Exchange rates by date and the base currency the ledger values every entry in. Orders,
//! documents and payments stay in their own currency; the ledger also keeps each line's
//! value in base, so finance reads one set of books, and settling a foreign balance at a
//! new rate posts the realised exchange difference (7900).

use super::model::PaymentError;
use crate::common::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Currency;
use ordo_domain::Timestamp;
use ordo_domain::fx::{parse_rate, rate_from_e8, rate_to_e8};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const BASE_CURRENCY: &str = "base_currency";

/// The currency the books are valued in: CNY unless set.
pub fn base_currency(tx: &mut dyn Tx) -> Result<Currency, DbError> {
    Ok(crate::settings::document(tx, BASE_CURRENCY)?.and_then(|code| Currency::parse(&code)).unwrap_or(Currency::CNY))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeRate {
    #[schema(example = "USD")]
    pub currency: String,
    /// The day the rate applies from (`YYYY-MM-DD`), until the next one entered.
    #[schema(example = "2026-11-25")]
    pub date: String,
    /// Units of the base currency for one unit of `currency`.
    #[schema(value_type = String, example = "7.1234")]
    pub rate: Decimal,
    pub entered_by: String,
    pub entered_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExchangeRates {
    #[schema(example = "CNY")]
    pub base_currency: String,
    /// Newest first.
    pub rates: Vec<ExchangeRate>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RateInput {
    #[schema(example = "USD")]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub date: Option<String>,
    #[schema(example = "7.1234")]
    pub rate: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RatesInput {
    pub rates: Vec<RateInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BaseCurrencyInput {
    #[schema(example = "CNY")]
    pub currency: Option<String>,
}

/// The rates entered, newest first, of one currency or all.
pub fn rates(tx: &mut dyn Tx, currency: Option<Currency>) -> Result<ExchangeRates, PaymentError> {
    let rows = match currency {
        Some(currency) => tx.query(
            "SELECT currency, rate_date, rate_e8, entered_by, entered_at FROM exchange_rates \
             WHERE currency = ? ORDER BY rate_date DESC LIMIT 500",
            params![currency.code()],
        )?,
        None => tx.query(
            "SELECT currency, rate_date, rate_e8, entered_by, entered_at FROM exchange_rates \
             ORDER BY rate_date DESC, currency LIMIT 500",
            &[],
        )?,
    };
    let rates = rows
        .iter()
        .map(|r| {
            Ok(ExchangeRate {
                currency: r.text(0)?,
                date: r.text(1)?,
                rate: rate_from_e8(r.int(2)?),
                entered_by: r.text(3)?,
                entered_at: Timestamp(r.int(4)?),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(ExchangeRates { base_currency: base_currency(tx)?.code().to_string(), rates })
}

/// Enters rates, each replacing the one of its currency and day; all or none.
pub fn enter_rates(tx: &mut dyn Tx, ctx: &Ctx, input: &RatesInput) -> Result<ExchangeRates, PaymentError> {
    let base = base_currency(tx)?;
    let today = Date::of(ctx.now);
    let mut v = Violations::new();
    if input.rates.is_empty() {
        v.add("rates", "give at least one rate");
    }
    let mut valid = Vec::new();
    for (i, rate) in input.rates.iter().enumerate() {
        let field = |name: &str| format!("rates[{i}].{name}");
        let currency = match Currency::field(&field("currency"), rate.currency.as_deref()) {
            Ok(Some(c)) if c == base => {
                v.add(field("currency"), format!("{base} is the base currency; its rate is always 1"));
                None
            }
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                v.add(field("currency"), "required, an ISO 4217 code such as USD");
                None
            }
            Err(e) => {
                v.add(e.field, e.message);
                None
            }
        };
        let date = match Date::field(&field("date"), rate.date.as_deref()) {
            Ok(date) => Some(date.unwrap_or(today)),
            Err(e) => {
                v.add(e.field, e.message);
                None
            }
        };
        let value = match rate.rate.as_deref() {
            Some(raw) => v.check(parse_rate(&field("rate"), raw)),
            None => {
                v.add(field("rate"), "required: units of the base currency for one unit");
                None
            }
        };
        if let (Some(currency), Some(date), Some(value)) = (currency, date, value) {
            if valid.iter().any(|(c, d, _)| *c == currency && *d == date) {
                v.add(field("date"), format!("{currency} on {date} is given twice"));
            }
            valid.push((currency, date, value));
        }
    }
    v.into_result()?;
    for (currency, date, rate) in &valid {
        let date = date.to_string();
        tx.execute(
            "DELETE FROM exchange_rates WHERE currency = ? AND rate_date = ?",
            params![currency.code(), date.as_str()],
        )?;
        tx.execute(
            "INSERT INTO exchange_rates (currency, rate_date, rate_e8, entered_by, entered_at) VALUES (?, ?, ?, ?, ?)",
            params![currency.code(), date.as_str(), rate_to_e8(*rate), ctx.actor.as_str(), ctx.now.micros()],
        )?;
    }
    let summary: Vec<String> = valid.iter().map(|(c, d, r)| format!("{c} {d} {r}")).collect();
    crate::audit::record(tx, ctx, "payments", "exchange_rates.enter", "exchange_rates", &summary.join("; "))?;
    rates(tx, None)
}

/// Rates typed or pasted as lines, `2026-11-25 USD 7.1234` or `USD,7.1234` (today), commas,
/// tabs or spaces between; a header line naming the columns is skipped.
pub fn parse_rate_lines(text: &str) -> RatesInput {
    let rates = text
        .lines()
        .map(|line| line.split([',', '\t', ' ', ';']).map(str::trim).filter(|f| !f.is_empty()).collect::<Vec<_>>())
        .filter(|fields| !fields.is_empty() && !fields.iter().any(|f| f.eq_ignore_ascii_case("currency")))
        .map(|fields| {
            // A date is written 2026-11-25; a negative rate is a rate (and refused as one).
            let is_date = |f: &&str| f.len() == 10 && f.as_bytes()[4] == b'-';
            let date = fields.iter().find(|f| is_date(f)).map(|f| f.to_string());
            let rest: Vec<&&str> = fields.iter().filter(|f| !is_date(f)).collect();
            RateInput {
                currency: rest.first().map(|f| f.to_uppercase()),
                date,
                rate: rest.get(1).map(|f| f.to_string()),
            }
        })
        .collect();
    RatesInput { rates }
}

/// Sets the base currency. Only while every ledger line is in it already (a new business,
/// or one that has sold in one currency), so no value in base has to be guessed.
pub fn set_base_currency(tx: &mut dyn Tx, ctx: &Ctx, input: &BaseCurrencyInput) -> Result<ExchangeRates, PaymentError> {
    let currency = match Currency::field("currency", input.currency.as_deref()) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Err(ordo_domain::Invalid::field("currency", "required, an ISO 4217 code such as CNY").into());
        }
        Err(e) => return Err(ordo_domain::Invalid(vec![e]).into()),
    };
    let others = tx.query(
        "SELECT DISTINCT currency FROM ledger_lines WHERE currency <> ? ORDER BY currency",
        params![currency.code()],
    )?;
    if !others.is_empty() {
        let codes = others.iter().map(|r| r.text(0)).collect::<Result<Vec<_>, _>>()?;
        return Err(PaymentError::Conflict(format!(
            "the ledger already holds entries in {}; the base currency can only change while every entry is in {currency}",
            codes.join(", ")
        )));
    }
    tx.execute("UPDATE ledger_lines SET base_debit_e4 = debit_e4, base_credit_e4 = credit_e4", &[])?;
    crate::settings::store_document(tx, ctx, BASE_CURRENCY, currency.code())?;
    rates(tx, None)
}

/// The rate of `currency` on `date`: the latest entered on or before it; 1 for the base.
pub fn rate_on(tx: &mut dyn Tx, currency: Currency, base: Currency, date: Date) -> Result<Option<Decimal>, DbError> {
    if currency == base {
        return Ok(Some(Decimal::ONE));
    }
    let row = tx.query_opt(
        "SELECT rate_e8 FROM exchange_rates WHERE currency = ? AND rate_date <= ? ORDER BY rate_date DESC LIMIT 1",
        params![currency.code(), date.to_string()],
    )?;
    row.map(|r| r.int(0).map(rate_from_e8)).transpose()
}

/// The business's date now, which picks the day's rate.
pub fn today(tx: &mut dyn Tx, now: Timestamp) -> Result<Date, DbError> {
    let offset = crate::reports::summaries::utc_offset(tx)?;
    Ok(crate::reports::summaries::local_date(now, offset))
}

/// The rate of a currency against `base` today, or a conflict naming what to enter.
pub fn rate_today(
    tx: &mut dyn Tx,
    currency: Currency,
    base: Currency,
    now: Timestamp,
) -> Result<Decimal, PaymentError> {
    let date = today(tx, now)?;
    match rate_on(tx, currency, base, date)? {
        Some(rate) => Ok(rate),
        None => Err(PaymentError::Conflict(format!(
            "no exchange rate for {currency} on or before {date}: enter one (PUT /api/v1/exchange-rates) before \
             booking money in {currency}"
        ))),
    }
}

/// Today's rates, each read once: what converts the catalog prices of one order or one shop
/// page, however many products share a currency.
pub struct DayRates {
    now: Timestamp,
    day: Option<(Currency, Date)>,
    known: Vec<(Currency, Option<Decimal>)>,
}

impl DayRates {
    pub fn new(now: Timestamp) -> DayRates {
        DayRates { now, day: None, known: Vec::new() }
    }

    fn rate(&mut self, tx: &mut dyn Tx, currency: Currency) -> Result<Option<Decimal>, DbError> {
        let (base, date) = match self.day {
            Some(day) => day,
            None => *self.day.insert((base_currency(tx)?, today(tx, self.now)?)),
        };
        if let Some((_, rate)) = self.known.iter().find(|(c, _)| *c == currency) {
            return Ok(*rate);
        }
        let rate = rate_on(tx, currency, base, date)?;
        self.known.push((currency, rate));
        Ok(rate)
    }

    /// A price in `from` priced in `to`, and the rate used, if both currencies have a rate.
    pub fn price_in(
        &mut self,
        tx: &mut dyn Tx,
        price: Decimal,
        from: Currency,
        to: Currency,
    ) -> Result<Option<(Decimal, Decimal)>, DbError> {
        let (Some(from_rate), Some(to_rate)) = (self.rate(tx, from)?, self.rate(tx, to)?) else {
            return Ok(None);
        };
        let rate = (from_rate / to_rate).round_dp(8).normalize();
        Ok(Some((ordo_domain::fx::cross(price, from_rate, to_rate, to), rate)))
    }
}
