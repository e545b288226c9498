//! The double-entry ledger under payments and invoices. Every money event posts one
//! balanced entry in the transaction of the change that caused it; the check proves debits
//! equal credits and every order's receivable equals its documents.

use super::model::*;
use crate::common::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Currency;
use ordo_domain::fx::{Carried, ForeignPosting};
use ordo_domain::money::{from_e4, from_e4_in, to_e4};
use ordo_domain::payments::{Account, Journal, Posting};
use rust_decimal::Decimal;

/// What an entry is about.
pub struct EntryOf<'a> {
    /// invoice, payment, refund, credit_note, write_off, store_credit.
    pub kind: &'a str,
    /// The document: `payment:12`, `INV-2026-000001`…
    pub source: &'a str,
    pub memo: &'a str,
    pub currency: Currency,
    pub customer_id: Option<i64>,
    pub supplier_id: Option<i64>,
    pub order_id: Option<i64>,
}

/// Posts a journal entry if it balances; an unbalanced one fails the whole transaction.
/// Each line is also valued in the base currency: at 1 for an entry in base, else at the
/// day's rate, with a foreign balance settled at the value it was booked at and the
/// realised exchange difference posted to 7900.
pub fn post(tx: &mut dyn Tx, ctx: &Ctx, of: &EntryOf, journal: Journal) -> Result<(), PaymentError> {
    let postings = journal.balanced()?;
    if postings.is_empty() {
        return Ok(());
    }
    let (valued, difference) = value_in_base(tx, ctx, of, &postings)?;
    let entry = tx.insert(
        "INSERT INTO ledger_entries (at, kind, source, memo, currency, customer_id, supplier_id, order_id, actor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            ctx.now.micros(),
            of.kind,
            of.source,
            of.memo,
            of.currency.code(),
            of.customer_id,
            of.supplier_id,
            of.order_id,
            ctx.actor.as_str()
        ],
    )?;
    let exchange = (!difference.is_zero()).then(|| {
        let (debit, credit) =
            if difference > Decimal::ZERO { (difference, Decimal::ZERO) } else { (Decimal::ZERO, -difference) };
        (Account::ExchangeDifference, Decimal::ZERO, Decimal::ZERO, debit, credit)
    });
    let lines = postings
        .iter()
        .zip(valued)
        .map(|(p, (base_debit, base_credit))| (p.account, p.debit, p.credit, base_debit, base_credit))
        .chain(exchange);
    for (account, debit, credit, base_debit, base_credit) in lines {
        tx.execute(
            "INSERT INTO ledger_lines (entry_id, account, currency, customer_id, supplier_id, order_id, debit_e4, \
             credit_e4, base_debit_e4, base_credit_e4, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                entry,
                account.as_str(),
                of.currency.code(),
                of.customer_id,
                of.supplier_id,
                of.order_id,
                to_e4(debit),
                to_e4(credit),
                to_e4(base_debit),
                to_e4(base_credit),
                ctx.now.micros()
            ],
        )?;
    }
    Ok(())
}

/// Base values per posting, and the exchange difference (a loss when positive).
fn value_in_base(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    of: &EntryOf,
    postings: &[Posting],
) -> Result<(Vec<(Decimal, Decimal)>, Decimal), PaymentError> {
    let base = super::fx::base_currency(tx)?;
    if of.currency == base {
        return Ok((postings.iter().map(|p| (p.debit, p.credit)).collect(), Decimal::ZERO));
    }
    let rate = super::fx::rate_today(tx, of.currency, base, ctx.now)?;
    // Balances a posting may settle: an order's receivable, a customer's credit, a
    // supplier's payable, each as it stands in this currency before the entry.
    let mut keys: Vec<Account> = Vec::new();
    let mut carried = Vec::new();
    let mut foreign = Vec::with_capacity(postings.len());
    for p in postings {
        let held = match p.account {
            Account::Receivables => {
                of.order_id.map(|id| ("order_id", id)).or(of.customer_id.map(|id| ("customer_id", id)))
            }
            Account::CustomerCredit => of.customer_id.map(|id| ("customer_id", id)),
            Account::Payables => of.supplier_id.map(|id| ("supplier_id", id)),
            _ => None,
        };
        let index = match held {
            Some(_) if keys.contains(&p.account) => keys.iter().position(|a| *a == p.account),
            Some((column, id)) => {
                let row = tx.query_one(
                    &format!(
                        "SELECT CAST(COALESCE(SUM(debit_e4 - credit_e4), 0) AS BIGINT), \
                         CAST(COALESCE(SUM(base_debit_e4 - base_credit_e4), 0) AS BIGINT) FROM ledger_lines \
                         WHERE {column} = ? AND account = ? AND currency = ?"
                    ),
                    params![id, p.account.as_str(), of.currency.code()],
                )?;
                keys.push(p.account);
                carried.push(Carried { balance: from_e4(row.int(0)?), base: from_e4(row.int(1)?) });
                Some(carried.len() - 1)
            }
            None => None,
        };
        foreign.push(ForeignPosting { debit: p.debit, credit: p.credit, carried: index });
    }
    let valued = ordo_domain::fx::value(&foreign, &mut carried, rate, base);
    Ok((valued.lines, valued.difference))
}

/// The customer's store credit in a currency: the credit balance of their account 2100.
pub fn store_credit(tx: &mut dyn Tx, customer_id: i64, currency: Currency) -> Result<Decimal, DbError> {
    let row = tx.query_one(
        "SELECT CAST(COALESCE(SUM(credit_e4 - debit_e4), 0) AS BIGINT) FROM ledger_lines \
         WHERE customer_id = ? AND account = ? AND currency = ?",
        params![customer_id, Account::CustomerCredit.as_str(), currency.code()],
    )?;
    Ok(from_e4_in(row.int(0)?, currency))
}

/// The trial balance of one currency's entries, or with `currency` None, of every entry
/// valued in the base currency (where the exchange differences show).
pub fn trial_balance(tx: &mut dyn Tx, currency: Option<Currency>, until: Option<i64>) -> Result<TrialBalance, DbError> {
    let until = until.unwrap_or(i64::MAX);
    let (currency, rows) = match currency {
        Some(currency) => (
            currency,
            tx.query(
                "SELECT account, CAST(SUM(debit_e4) AS BIGINT), CAST(SUM(credit_e4) AS BIGINT) FROM ledger_lines \
                 WHERE currency = ? AND at <= ? GROUP BY account ORDER BY account",
                params![currency.code(), until],
            )?,
        ),
        None => (
            super::fx::base_currency(tx)?,
            tx.query(
                "SELECT account, CAST(SUM(base_debit_e4) AS BIGINT), CAST(SUM(base_credit_e4) AS BIGINT) \
                 FROM ledger_lines WHERE at <= ? GROUP BY account ORDER BY account",
                params![until],
            )?,
        ),
    };
    let mut accounts = Vec::new();
    let (mut total_debit, mut total_credit) = (Decimal::ZERO, Decimal::ZERO);
    for row in rows {
        let code = row.text(0)?;
        let account = Account::parse(&code).ok_or_else(|| DbError::Decode(format!("unknown account {code}")))?;
        let (debit, credit) = (from_e4_in(row.int(1)?, currency), from_e4_in(row.int(2)?, currency));
        // Exchange differences move only the base value: nothing to show in the currency.
        if account == Account::ExchangeDifference && debit.is_zero() && credit.is_zero() {
            continue;
        }
        total_debit += debit;
        total_credit += credit;
        let balance = if account.debit_normal() { debit - credit } else { credit - debit };
        accounts.push(AccountBalance { code, name: account.name().into(), debit, credit, balance });
    }
    Ok(TrialBalance { currency, accounts, total_debit, total_credit, balanced: total_debit == total_credit })
}

/// Every entry balances, and each order's receivable (its AR lines) equals invoiced −
/// credited − paid as kept on the order.
pub fn check(tx: &mut dyn Tx) -> Result<LedgerCheck, DbError> {
    let unbalanced_entries = tx
        .query(
            "SELECT entry_id FROM ledger_lines GROUP BY entry_id \
             HAVING SUM(debit_e4) <> SUM(credit_e4) OR SUM(base_debit_e4) <> SUM(base_credit_e4) ORDER BY entry_id",
            &[],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<Vec<_>, _>>()?;
    let mismatches = tx.query(
        "SELECT o.number, o.invoiced_e4 - o.credited_e4 - o.paid_e4, COALESCE(l.balance, 0) FROM orders o \
         LEFT JOIN (SELECT order_id, CAST(SUM(debit_e4 - credit_e4) AS BIGINT) AS balance FROM ledger_lines WHERE account = ? \
         GROUP BY order_id) l ON l.order_id = o.id \
         WHERE o.invoiced_e4 - o.credited_e4 - o.paid_e4 <> COALESCE(l.balance, 0) ORDER BY o.id LIMIT 100",
        params![Account::Receivables.as_str()],
    )?;
    let receivable_mismatches = mismatches
        .iter()
        .map(|r| Ok(format!("{}: documents say {}, ledger says {} (×10⁻⁴)", r.text(0)?, r.int(1)?, r.int(2)?)))
        .collect::<Result<Vec<_>, DbError>>()?;
    // Each supplier's payable in the ledger equals what their bills still leave open.
    let payables = tx.query(
        "SELECT s.code, COALESCE(b.open, 0), COALESCE(l.balance, 0) FROM suppliers s \
         LEFT JOIN (SELECT supplier_id, CAST(SUM(total_e4 - paid_e4) AS BIGINT) AS open FROM supplier_bills \
         WHERE status <> 'voided' GROUP BY supplier_id) b ON b.supplier_id = s.id \
         LEFT JOIN (SELECT supplier_id, CAST(SUM(credit_e4 - debit_e4) AS BIGINT) AS balance FROM ledger_lines \
         WHERE account = ? GROUP BY supplier_id) l ON l.supplier_id = s.id \
         WHERE COALESCE(b.open, 0) <> COALESCE(l.balance, 0) ORDER BY s.id LIMIT 100",
        params![Account::Payables.as_str()],
    )?;
    let payable_mismatches = payables
        .iter()
        .map(|r| Ok(format!("{}: bills say {}, ledger says {} (×10⁻⁴)", r.text(0)?, r.int(1)?, r.int(2)?)))
        .collect::<Result<Vec<_>, DbError>>()?;
    let entries = tx.query_one("SELECT COUNT(*) FROM ledger_entries", &[])?.int(0)?;
    Ok(LedgerCheck {
        ok: unbalanced_entries.is_empty() && receivable_mismatches.is_empty() && payable_mismatches.is_empty(),
        unbalanced_entries,
        receivable_mismatches,
        payable_mismatches,
        entries,
    })
}
