//! The double-entry ledger under payments and invoices. Every money event posts one
//! balanced entry in the transaction of the change that caused it; the check proves debits
//! equal credits and every order's receivable equals its documents.

use super::model::*;
use crate::common::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Currency;
use ordo_domain::money::{from_e4_in, to_e4};
use ordo_domain::payments::{Account, Journal};
use rust_decimal::Decimal;

/// What an entry is about.
pub struct EntryOf<'a> {
    /// invoice, payment, refund, credit_note, write_off, store_credit.
    pub kind: &'a str,
    /// The document: `payment:12`, `INV-2026-000001`…
    pub source: &'a str,
    pub memo: &'a str,
    pub currency: Currency,
    pub customer_id: i64,
    pub order_id: Option<i64>,
}

/// Posts a journal entry if it balances; an unbalanced one fails the whole transaction.
pub fn post(tx: &mut dyn Tx, ctx: &Ctx, of: &EntryOf, journal: Journal) -> Result<(), PaymentError> {
    let postings = journal.balanced()?;
    if postings.is_empty() {
        return Ok(());
    }
    let entry = tx.insert(
        "INSERT INTO ledger_entries (at, kind, source, memo, currency, customer_id, order_id, actor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            ctx.now.micros(),
            of.kind,
            of.source,
            of.memo,
            of.currency.code(),
            of.customer_id,
            of.order_id,
            ctx.actor.as_str()
        ],
    )?;
    for p in postings {
        tx.execute(
            "INSERT INTO ledger_lines (entry_id, account, currency, customer_id, order_id, debit_e4, credit_e4, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                entry,
                p.account.as_str(),
                of.currency.code(),
                of.customer_id,
                of.order_id,
                to_e4(p.debit),
                to_e4(p.credit),
                ctx.now.micros()
            ],
        )?;
    }
    Ok(())
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

pub fn trial_balance(tx: &mut dyn Tx, currency: Currency, until: Option<i64>) -> Result<TrialBalance, DbError> {
    let rows = tx.query(
        "SELECT account, CAST(SUM(debit_e4) AS BIGINT), CAST(SUM(credit_e4) AS BIGINT) FROM ledger_lines \
         WHERE currency = ? AND at <= ? GROUP BY account ORDER BY account",
        params![currency.code(), until.unwrap_or(i64::MAX)],
    )?;
    let mut accounts = Vec::new();
    let (mut total_debit, mut total_credit) = (Decimal::ZERO, Decimal::ZERO);
    for row in rows {
        let code = row.text(0)?;
        let account = Account::parse(&code).ok_or_else(|| DbError::Decode(format!("unknown account {code}")))?;
        let (debit, credit) = (from_e4_in(row.int(1)?, currency), from_e4_in(row.int(2)?, currency));
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
            "SELECT entry_id FROM ledger_lines GROUP BY entry_id HAVING SUM(debit_e4) <> SUM(credit_e4) ORDER BY entry_id",
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
    let entries = tx.query_one("SELECT COUNT(*) FROM ledger_entries", &[])?.int(0)?;
    Ok(LedgerCheck {
        ok: unbalanced_entries.is_empty() && receivable_mismatches.is_empty(),
        unbalanced_entries,
        receivable_mismatches,
        entries,
    })
}
