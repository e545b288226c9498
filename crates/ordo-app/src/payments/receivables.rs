//! Receivables: aging, customer statements (对账单) and bank reconciliation (核销).

use super::invoices::open_amounts;
use super::model::*;
use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::money::{from_e4_in, to_e4};
use ordo_domain::payments::{Account, AgingBucket, MatchOutcome, OpenInvoice, Receipt, match_receipt};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations, optional_text};
use ordo_domain::{Currency, Invalid, Timestamp};
use rust_decimal::Decimal;

/// Every invoice with something open in a currency: (invoice, due date, customer id).
fn open_invoices(tx: &mut dyn Tx, currency: Currency) -> Result<Vec<(OpenInvoice, String, i64)>, PaymentError> {
    let order_ids: Vec<i64> = tx
        .query(
            "SELECT id FROM orders WHERE currency = ? AND invoiced_e4 > credited_e4 + paid_e4 ORDER BY id",
            params![currency.code()],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for order_id in order_ids {
        let Some(order) = crate::orders::store::header_by_id(tx, order_id)? else { continue };
        let open = open_amounts(tx, &order)?;
        for (invoice_id, amount) in open.into_iter().filter(|(_, a)| *a > Decimal::ZERO) {
            let row = tx.query_one(
                "SELECT i.number, i.due_date, c.code, c.name FROM invoices i JOIN customers c ON c.id = i.customer_id \
                 WHERE i.id = ?",
                params![invoice_id],
            )?;
            let invoice = OpenInvoice {
                id: invoice_id,
                number: row.text(0)?,
                order_number: order.number.clone(),
                customer_code: row.text(2)?,
                customer_name: row.text(3)?,
                open: amount,
            };
            out.push((invoice, row.text(1)?, order.customer_id));
        }
    }
    Ok(out)
}

/// The invoices a bank line could be matched to by hand, as `(id, "INV-… · customer ·
/// open amount")`, the line's candidates first.
pub fn match_choices(
    tx: &mut dyn Tx,
    currency: Currency,
    candidates: &[i64],
) -> Result<Vec<(i64, String)>, PaymentError> {
    let mut open: Vec<(i64, String)> = open_invoices(tx, currency)?
        .into_iter()
        .map(|(i, due, _)| (i.id, format!("{} · {} · {} {currency} · due {due}", i.number, i.customer_name, i.open)))
        .collect();
    open.sort_by_key(|(id, _)| (!candidates.contains(id), *id));
    Ok(open)
}

/// Open invoices by customer and by days past due, as of a day.
pub fn aging(tx: &mut dyn Tx, currency: Currency, as_of: Date) -> Result<AgingReport, PaymentError> {
    let mut customers: Vec<AgingRow> = Vec::new();
    let mut totals = AgingAmounts::zero(currency);
    for (invoice, due, customer_id) in open_invoices(tx, currency)? {
        let bucket = Date::parse(&due).map_or(AgingBucket::Current, |due| AgingBucket::of(due, as_of));
        let index = match customers.iter().position(|c| c.customer_id == customer_id) {
            Some(i) => i,
            None => {
                customers.push(AgingRow {
                    customer_id,
                    customer_code: invoice.customer_code.clone(),
                    customer_name: invoice.customer_name.clone(),
                    amounts: AgingAmounts::zero(currency),
                });
                customers.len() - 1
            }
        };
        customers[index].amounts.add(bucket, invoice.open);
        totals.add(bucket, invoice.open);
    }
    customers.sort_by_key(|c| std::cmp::Reverse(c.amounts.total));
    Ok(AgingReport { currency, as_of: as_of.to_string(), customers, totals })
}

/// A customer's account for a period: opening balance, every receivable movement with a
/// running balance, closing balance.
pub fn statement(
    tx: &mut dyn Tx,
    customer_id: i64,
    currency: Currency,
    from: Date,
    to: Date,
) -> Result<Statement, PaymentError> {
    let customer =
        crate::customers::store::by_id(tx, customer_id)?.ok_or(PaymentError::CustomerNotFound(customer_id))?.customer;
    let (start, end) = (from.start().micros(), to.plus_days(1).start().micros());
    let ar = Account::Receivables.as_str();
    let opening = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(debit_e4 - credit_e4), 0) AS BIGINT) FROM ledger_lines \
             WHERE customer_id = ? AND account = ? AND currency = ? AND at < ?",
            params![customer_id, ar, currency.code(), start],
        )?
        .int(0)?;
    let rows = tx.query(
        "SELECT l.at, e.kind, e.source, e.memo, l.debit_e4, l.credit_e4 FROM ledger_lines l \
         JOIN ledger_entries e ON e.id = l.entry_id \
         WHERE l.customer_id = ? AND l.account = ? AND l.currency = ? AND l.at >= ? AND l.at < ? ORDER BY l.at, l.id",
        params![customer_id, ar, currency.code(), start, end],
    )?;
    let mut balance = from_e4_in(opening, currency);
    let opening_balance = balance;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let (debit, credit) = (from_e4_in(row.int(4)?, currency), from_e4_in(row.int(5)?, currency));
        balance += debit - credit;
        lines.push(StatementLine {
            date: Date::of(Timestamp(row.int(0)?)).to_string(),
            kind: row.text(1)?,
            document: row.text(2)?,
            description: row.text(3)?,
            debit,
            credit,
            balance,
        });
    }
    Ok(Statement {
        customer_id,
        customer_code: customer.code,
        customer_name: customer.name,
        currency,
        from: from.to_string(),
        to: to.to_string(),
        opening_balance,
        lines,
        closing_balance: balance,
        store_credit: super::ledger::store_credit(tx, customer_id, currency)?,
    })
}

fn column(header: &[String], wanted: &str) -> Option<usize> {
    header.iter().position(|h| h.trim().eq_ignore_ascii_case(wanted.trim()))
}

/// Reads a bank's CSV export, then pays every open invoice a receipt names unambiguously;
/// the rest wait for a person, with the candidates.
pub fn import_statement(tx: &mut dyn Tx, ctx: &Ctx, input: &NewBankStatement) -> Result<BankStatement, PaymentError> {
    let mut v = Violations::new();
    let name = v.check(optional_text("name", input.name.as_deref(), 200)).flatten();
    let currency = v.check(Currency::field("currency", input.currency.as_deref())).flatten().unwrap_or(Currency::CNY);
    let rows = match input.csv.as_deref().map(str::trim) {
        None | Some("") => {
            v.add("csv", "is required: the bank's CSV export with a header row");
            Vec::new()
        }
        Some(text) => ordo_domain::csv::parse(text),
    };
    let mut v = v.into_result().map(|_| Violations::new())?;
    let mapping = input.mapping.clone().unwrap_or_default();
    let header = rows.first().cloned().unwrap_or_default();
    let find = |given: &Option<String>, default: &str, v: &mut Violations| {
        let wanted = given.clone().unwrap_or_else(|| default.to_string());
        let found = column(&header, &wanted);
        if found.is_none() {
            v.add(format!("mapping.{default}"), format!("no column {wanted:?} in the header ({})", header.join(", ")));
        }
        found
    };
    let date_col = find(&mapping.date, "date", &mut v);
    let amount_col = find(&mapping.amount, "amount", &mut v);
    let reference_col = mapping.reference.as_ref().map_or(column(&header, "reference"), |r| column(&header, r));
    let payer_col = mapping.counterparty.as_ref().map_or(column(&header, "counterparty"), |r| column(&header, r));
    let mut v = v.into_result().map(|_| Violations::new())?;
    let (Some(date_col), Some(amount_col)) = (date_col, amount_col) else { unreachable!("checked above") };
    let mut parsed = Vec::new();
    for (n, row) in rows.iter().enumerate().skip(1) {
        let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or("");
        let line = n + 1;
        let date = Date::parse(cell(date_col));
        if date.is_none() {
            v.push(FieldError::new(
                format!("csv.line[{line}].{}", header[date_col]),
                "must be a date such as 2026-11-02",
            ));
        }
        let raw_amount = cell(amount_col).replace([',', ' '], "");
        let amount = AmountInput(raw_amount).parse(&format!("csv.line[{line}].{}", header[amount_col]), true);
        let amount = v.check(amount.and_then(|a| {
            if currency.round(a) == a {
                Ok(a)
            } else {
                Err(FieldError::new(format!("csv.line[{line}]"), "too many decimals"))
            }
        }));
        let reference = reference_col.map(cell).unwrap_or("").chars().take(500).collect::<String>();
        let payer = payer_col.map(cell).unwrap_or("").chars().take(200).collect::<String>();
        if let (Some(date), Some(amount)) = (date, amount) {
            parsed.push((date, amount, reference, payer));
        }
        if n > 5000 {
            v.add("csv", "at most 5000 lines per statement");
            break;
        }
    }
    if parsed.is_empty() {
        v.add("csv", "has no lines under the header");
    }
    v.into_result()?;
    // A line an earlier statement already holds (same day, amount, reference and payer) is
    // the same money: it is kept as a duplicate and never matched again. A file with
    // nothing new was imported before.
    let mut earlier: Vec<Option<String>> = Vec::with_capacity(parsed.len());
    for (date, amount, reference, payer) in &parsed {
        let found = tx.query_opt(
            "SELECT s.name, l.line_no FROM bank_statement_lines l JOIN bank_statements s ON s.id = l.statement_id \
             WHERE l.booked_on = ? AND l.amount_e4 = ? AND l.reference = ? AND l.counterparty = ? AND s.currency = ? \
             ORDER BY s.id LIMIT 1",
            params![date.to_string(), to_e4(*amount), reference.as_str(), payer.as_str(), currency.code()],
        )?;
        earlier.push(
            found.map(|r| Ok::<_, DbError>(format!("already in {:?} line {}", r.text(0)?, r.int(1)?))).transpose()?,
        );
    }
    if let Some(Some(first)) = earlier.first()
        && earlier.iter().all(Option::is_some)
    {
        return Err(PaymentError::Conflict(format!(
            "every line of this statement was imported before ({first}): nothing new to book"
        )));
    }
    let name = name.unwrap_or_else(|| format!("Statement {}", Date::of(ctx.now)));
    let id = tx.insert(
        "INSERT INTO bank_statements (name, currency, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?)",
        params![name.as_str(), currency.code(), ctx.actor.as_str(), ctx.now.micros()],
    )?;
    let mut open: Vec<OpenInvoice> = open_invoices(tx, currency)?.into_iter().map(|(i, _, _)| i).collect();
    for (n, (date, amount, reference, payer)) in parsed.iter().enumerate() {
        let line_no = n as i64 + 1;
        let receipt = Receipt { amount: *amount, reference, counterparty: payer };
        let (status, invoice_id, note, candidates) = match match_receipt(&receipt, &open) {
            _ if earlier[n].is_some() => ("duplicate", None, earlier[n].clone(), Vec::new()),
            _ if *amount <= Decimal::ZERO => ("ignored", None, Some("not a receipt".to_string()), Vec::new()),
            MatchOutcome::Matched { invoice_id, by } => {
                ("matched", Some(invoice_id), Some(format!("by {by}")), Vec::new())
            }
            MatchOutcome::Unmatched { candidates, why } => ("unmatched", None, Some(why), candidates),
        };
        tx.execute(
            "INSERT INTO bank_statement_lines (statement_id, line_no, booked_on, amount_e4, reference, counterparty, status, \
             note, candidates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                id, line_no, date.to_string(), to_e4(*amount), reference.as_str(), payer.as_str(), "unmatched", note.clone(),
                serde_json::to_string(&candidates).unwrap_or_default()
            ],
        )?;
        if let (Some(invoice_id), "matched") = (invoice_id, status) {
            settle_line(tx, ctx, id, line_no, invoice_id, note.as_deref().unwrap_or(""))?;
            if let Some(inv) = open.iter_mut().find(|i| i.id == invoice_id) {
                inv.open -= *amount;
            }
            open.retain(|i| i.open > Decimal::ZERO);
        } else if status == "ignored" || status == "duplicate" {
            tx.execute(
                "UPDATE bank_statement_lines SET status = ? WHERE statement_id = ? AND line_no = ?",
                params![status, id, line_no],
            )?;
        }
    }
    crate::audit::record(tx, ctx, "payments", "bank_statement.imported", &name, &format!("{} lines", parsed.len()))?;
    get_statement(tx, id)
}

/// Books a statement line as a bank transfer paying an invoice's order.
fn settle_line(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    statement_id: i64,
    line_no: i64,
    invoice_id: i64,
    note: &str,
) -> Result<(), PaymentError> {
    let line = tx
        .query_opt(
            "SELECT amount_e4, reference, status FROM bank_statement_lines WHERE statement_id = ? AND line_no = ?",
            params![statement_id, line_no],
        )?
        .ok_or_else(|| Invalid::field("line_no", format!("the statement has no line {line_no}")))?;
    if line.text(2)? != "unmatched" {
        return Err(PaymentError::Conflict(format!("line {line_no} is {} already", line.text(2)?)));
    }
    let invoice = super::invoices::get_invoice(tx, invoice_id)?;
    let amount = from_e4_in(line.int(0)?, invoice.currency);
    let reference = format!("bank: {}", line.text(1)?).chars().take(200).collect::<String>();
    let input = NewPayment {
        method: Some(bank_method(tx)?),
        amount: Some(AmountInput(amount.to_string())),
        reference: Some(reference),
    };
    let payment = super::service::record_payment(tx, ctx, invoice.order_id, &input)?;
    tx.execute(
        "UPDATE bank_statement_lines SET status = 'matched', invoice_id = ?, payment_id = ?, note = ? \
         WHERE statement_id = ? AND line_no = ? AND status = 'unmatched'",
        params![invoice_id, payment.id, note, statement_id, line_no],
    )?;
    Ok(())
}

/// The configured bank-transfer method's code.
fn bank_method(tx: &mut dyn Tx) -> Result<String, DbError> {
    let settings = super::methods::payment_settings(tx)?;
    Ok(settings
        .methods
        .iter()
        .find(|m| m.kind == ordo_domain::payments::MethodKind::BankTransfer && m.enabled)
        .map_or_else(|| "bank_transfer".to_string(), |m| m.code.clone()))
}

/// Matches a line by hand to an invoice (核销).
pub fn match_line(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    statement_id: i64,
    input: &ManualMatch,
) -> Result<BankStatement, PaymentError> {
    let mut v = Violations::new();
    if input.line_no.is_none() {
        v.add("line_no", "is required");
    }
    if input.invoice_id.is_none() {
        v.add("invoice_id", "is required");
    }
    v.into_result()?;
    let (Some(line_no), Some(invoice_id)) = (input.line_no, input.invoice_id) else { unreachable!("checked above") };
    tx.query_opt("SELECT 1 FROM bank_statements WHERE id = ?", params![statement_id])?
        .ok_or(PaymentError::StatementNotFound(statement_id))?;
    let invoice = super::invoices::get_invoice(tx, invoice_id)?;
    if invoice.kind != "invoice" {
        return Err(Invalid::field("invoice_id", format!("{} is not an invoice", invoice.number)).into());
    }
    settle_line(tx, ctx, statement_id, line_no, invoice_id, &format!("matched by {}", ctx.actor))?;
    get_statement(tx, statement_id)
}

pub fn get_statement(tx: &mut dyn Tx, id: i64) -> Result<BankStatement, PaymentError> {
    let head = tx
        .query_opt("SELECT name, currency, uploaded_by, uploaded_at FROM bank_statements WHERE id = ?", params![id])?
        .ok_or(PaymentError::StatementNotFound(id))?;
    let currency = crate::catalog::store::currency(&head.text(1)?)?;
    let rows = tx.query(
        "SELECT l.line_no, l.booked_on, l.amount_e4, l.reference, l.counterparty, l.status, l.invoice_id, i.number, \
         l.payment_id, l.note, l.candidates FROM bank_statement_lines l LEFT JOIN invoices i ON i.id = l.invoice_id \
         WHERE l.statement_id = ? ORDER BY l.line_no",
        params![id],
    )?;
    let mut lines = Vec::with_capacity(rows.len());
    for r in rows {
        lines.push(BankLine {
            line_no: r.int(0)?,
            date: r.text(1)?,
            amount: from_e4_in(r.int(2)?, currency),
            reference: r.text(3)?,
            counterparty: r.text(4)?,
            status: r.text(5)?,
            invoice_id: r.opt_int(6)?,
            invoice_number: r.opt_text(7)?,
            payment_id: r.opt_int(8)?,
            note: r.opt_text(9)?,
            candidates: r.opt_text(10)?.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
        });
    }
    let matched = lines.iter().filter(|l| l.status == "matched").count() as i64;
    let unmatched = lines.iter().filter(|l| l.status == "unmatched").count() as i64;
    Ok(BankStatement {
        id,
        name: head.text(0)?,
        currency,
        uploaded_by: head.text(2)?,
        uploaded_at: Timestamp(head.int(3)?),
        lines,
        matched,
        unmatched,
    })
}

pub fn list_statements(tx: &mut dyn Tx) -> Result<BankStatementList, PaymentError> {
    let ids: Vec<i64> = tx
        .query("SELECT id FROM bank_statements ORDER BY id DESC LIMIT 50", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    Ok(BankStatementList { items: ids.into_iter().map(|id| get_statement(tx, id)).collect::<Result<_, _>>()? })
}
