//! Invoices, credit notes and write-offs: gap-free numbers per series and year, tax per
//! rate, and each posted to the ledger with the change that made it.

use super::ledger::{self, EntryOf};
use super::model::*;
use super::store::{self as money_store, MoneyDelta};
use crate::catalog::store::currency;
use crate::common::Ctx;
use crate::db::{DbError, Row, Tx};
use crate::orders::{self, Order};
use crate::params;
use ordo_domain::Invalid;
use ordo_domain::Timestamp;
use ordo_domain::money::{MAX_LINE_QUANTITY, from_e4, from_e4_in, to_e4};
use ordo_domain::orders::{LinePricing, OrderStatus, price_lines};
use ordo_domain::payments::{Account, Journal, split_tax, terms_days};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations};
use rust_decimal::Decimal;
use serde_json::json;

/// The next number of a series (`INV`, `CN`, `WO`) in the year of `now`. The counter row
/// stays locked until commit, so a rolled-back document gives its number back.
fn next_number(tx: &mut dyn Tx, prefix: &str, now: Timestamp) -> Result<String, DbError> {
    let year = now.year();
    let sequence = orders::store::next_sequence(tx, &format!("invoice:{prefix}:{year}"))?;
    Ok(format!("{prefix}-{year}-{sequence:06}"))
}

fn bill_to(tx: &mut dyn Tx, order: &Order) -> Result<Party, PaymentError> {
    let record = crate::customers::store::by_id(tx, order.customer_id)?
        .ok_or(PaymentError::CustomerNotFound(order.customer_id))?;
    let customer = record.customer;
    let address = customer.billing_address.as_ref().or(order.shipping_address.as_ref()).map(|a| {
        [
            Some(a.line1.as_str()),
            a.line2.as_deref(),
            Some(a.city.as_str()),
            a.region.as_deref(),
            a.postal_code.as_deref(),
            Some(a.country.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    });
    Ok(Party { name: customer.name, code: customer.code, address, tax_id: None })
}

struct NewDocument<'a> {
    kind: &'a str,
    prefix: &'a str,
    order: &'a Order,
    lines: Vec<InvoiceLine>,
    corrects: Option<i64>,
    reason: Option<String>,
    shipment: Option<i64>,
}

fn insert_document(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    doc: NewDocument,
) -> Result<(i64, String, Decimal, Decimal), PaymentError> {
    let order = doc.order;
    let subtotal: Decimal = doc.lines.iter().map(|l| l.line_total).sum();
    let tax: Decimal = doc.lines.iter().map(|l| l.tax).sum();
    let number = next_number(tx, doc.prefix, ctx.now)?;
    let due = Date::of(ctx.now).plus_days(terms_days(&order.payment_terms));
    let party = bill_to(tx, order)?;
    let id = tx.insert(
        "INSERT INTO invoices (number, kind, order_id, customer_id, currency, subtotal_e4, tax_e4, total_e4, issued_at, \
         due_date, corrects_id, reason, bill_to, created_by, shipment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            number.as_str(), doc.kind, order.id, order.customer_id, order.currency.code(), to_e4(subtotal), to_e4(tax),
            to_e4(subtotal + tax), ctx.now.micros(), due.to_string(), doc.corrects, doc.reason.clone(),
            serde_json::to_string(&party).unwrap_or_default(), ctx.actor.as_str(), doc.shipment
        ],
    )?;
    for line in &doc.lines {
        tx.execute(
            "INSERT INTO invoice_lines (invoice_id, line_no, sku, name, quantity, unit_price_e4, discount_percent_e4, \
             tax_rate_e4, line_total_e4, tax_e4) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                id,
                line.line_no,
                line.sku.as_str(),
                line.name.as_str(),
                line.quantity,
                to_e4(line.unit_price),
                to_e4(line.discount_percent),
                to_e4(line.tax_rate),
                to_e4(line.line_total),
                to_e4(line.tax)
            ],
        )?;
    }
    Ok((id, number, subtotal, tax))
}

/// Invoices an order: the quantities asked for, or everything not invoiced yet.
pub fn issue_invoice(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, input: &NewInvoice) -> Result<Invoice, PaymentError> {
    let order = orders::lock_order(tx, order_id, None).map_err(|_| PaymentError::OrderNotFound(order_id))?;
    let invoiceable = matches!(
        order.status,
        OrderStatus::Confirmed
            | OrderStatus::PartiallyShipped
            | OrderStatus::Shipped
            | OrderStatus::Delivered
            | OrderStatus::Completed
    );
    if !invoiceable {
        return Err(PaymentError::Conflict(format!(
            "{} is {}: only a confirmed (or shipped) order is invoiced",
            order.number, order.status
        )));
    }
    let order = orders::get_order(tx, order_id)?;
    let invoiced = invoiced_quantities(tx, order_id)?;
    let mut wanted: Vec<(usize, i64)> = Vec::new();
    let mut v = Violations::new();
    match (&input.lines, input.shipment_id) {
        (Some(_), Some(_)) => v.add("shipment_id", "name the lines or a shipment, not both"),
        (None, Some(shipment_id)) => {
            let carried = tx.query(
                "SELECT sl.line_no, CAST(SUM(sl.quantity) AS BIGINT), s.number FROM shipment_lines sl \
                 JOIN shipments s ON s.id = sl.shipment_id WHERE s.id = ? AND s.order_id = ? \
                 GROUP BY sl.line_no, s.number ORDER BY sl.line_no",
                params![shipment_id, order_id],
            )?;
            let Some(first) = carried.first() else {
                let why = format!("{} has no shipment with id {shipment_id}", order.number);
                return Err(ordo_domain::Invalid::field("shipment_id", why).into());
            };
            let shipment = first.text(2)?;
            if let Some((_, number)) = shipment_invoice(tx, shipment_id)? {
                return Err(PaymentError::Conflict(format!("{shipment} is invoiced already, on {number}")));
            }
            for row in &carried {
                let (line_no, quantity) = (row.int(0)?, row.int(1)?);
                let Some(i) = order.lines.iter().position(|l| l.line_no == line_no) else { continue };
                let left = order.lines[i].quantity - invoiced.get(i).copied().unwrap_or(0);
                if left.min(quantity) > 0 {
                    wanted.push((i, left.min(quantity)));
                }
            }
        }
        (None, None) => {
            for (i, line) in order.lines.iter().enumerate() {
                let left = line.quantity - invoiced.get(i).copied().unwrap_or(0);
                if left > 0 {
                    wanted.push((i, left));
                }
            }
        }
        (Some(lines), None) => {
            for (n, asked) in lines.iter().enumerate() {
                let Some(i) = order.lines.iter().position(|l| Some(l.sku.as_str()) == asked.sku.as_deref()) else {
                    v.add(format!("lines[{n}].sku"), "is not on the order");
                    continue;
                };
                let left = order.lines[i].quantity - invoiced.get(i).copied().unwrap_or(0);
                match asked.quantity {
                    Some(q) if (1..=MAX_LINE_QUANTITY).contains(&q) && q <= left => wanted.push((i, q)),
                    _ => v.push(FieldError::new(
                        format!("lines[{n}].quantity"),
                        format!("must be between 1 and {left} (not yet invoiced)"),
                    )),
                }
            }
        }
    }
    v.into_result()?;
    if wanted.is_empty() {
        return Err(PaymentError::Conflict(format!("{} is invoiced in full already", order.number)));
    }
    let pricing: Vec<LinePricing> = wanted
        .iter()
        .map(|&(i, quantity)| {
            let line = &order.lines[i];
            LinePricing {
                quantity,
                unit_price: line.unit_price,
                discount_percent: line.discount_percent,
                tax_rate: line.tax_rate,
                // The line's promotions in proportion to the units invoiced.
                off: order.currency.round(line.off() * Decimal::from(quantity) / Decimal::from(line.quantity.max(1))),
                tax_included: line.tax_included,
            }
        })
        .collect();
    let (priced, _) = price_lines(order.currency, &pricing);
    let lines: Vec<InvoiceLine> = wanted
        .iter()
        .zip(&priced)
        .enumerate()
        .map(|(n, (&(i, quantity), p))| {
            let line = &order.lines[i];
            InvoiceLine {
                line_no: n as i64 + 1,
                sku: line.sku.clone(),
                name: line.name.clone(),
                quantity,
                // An invoice states prices before tax (不含税单价), whatever the shelf said.
                unit_price: if line.tax_included {
                    order.currency.show((line.unit_price / (Decimal::ONE + line.tax_rate)).round_dp(4))
                } else {
                    line.unit_price
                },
                discount_percent: line.discount_percent,
                tax_rate: line.tax_rate,
                line_total: p.line_total,
                tax: p.tax,
            }
        })
        .collect();
    for &(i, quantity) in &wanted {
        tx.execute(
            "UPDATE order_lines SET invoiced = invoiced + ? WHERE order_id = ? AND line_no = ?",
            params![quantity, order_id, order.lines[i].line_no],
        )?;
    }
    let doc = NewDocument {
        kind: "invoice",
        prefix: "INV",
        order: &order,
        lines,
        corrects: None,
        reason: None,
        shipment: input.shipment_id,
    };
    let (id, number, subtotal, tax) = insert_document(tx, ctx, doc)?;
    let total = subtotal + tax;
    let journal = Journal::new()
        .debit(Account::Receivables, total)
        .credit(Account::Revenue, subtotal)
        .credit(Account::TaxPayable, tax);
    post(tx, ctx, &order, "invoice", &number, journal)?;
    money_store::change_order_money(
        tx,
        order_id,
        MoneyDelta { invoiced: to_e4(total), ..Default::default() },
        ctx.now,
    )?;
    orders::store::append_event(
        tx,
        order_id,
        &ctx.actor,
        "invoiced",
        &json!({"invoice": number, "total": total}),
        ctx.now,
    )?;
    let data = json!({"invoice_id": id, "number": number, "order_id": order_id, "order_number": order.number,
        "total": total, "currency": order.currency.code()});
    crate::events::record(tx, "invoice.issued", ("order", order_id), &data, ctx.now)?;
    get_invoice(tx, id)
}

fn post(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    kind: &str,
    number: &str,
    journal: Journal,
) -> Result<(), PaymentError> {
    let memo = format!("{kind} {number} for {}", order.number);
    let of = EntryOf {
        kind,
        source: number,
        memo: &memo,
        currency: order.currency,
        customer_id: Some(order.customer_id),
        supplier_id: None,
        order_id: Some(order.id),
    };
    ledger::post(tx, ctx, &of, journal)
}

fn invoiced_quantities(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<i64>, DbError> {
    tx.query("SELECT invoiced FROM order_lines WHERE order_id = ? ORDER BY line_no", params![order_id])?
        .iter()
        .map(|r| r.int(0))
        .collect()
}

/// Invoices of an order with what each has left after credit notes and write-offs.
fn remaining_by_invoice(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<(i64, Decimal)>, DbError> {
    tx.query(
        "SELECT i.id, i.total_e4 - CAST(COALESCE((SELECT SUM(c.total_e4) FROM invoices c WHERE c.corrects_id = i.id), 0) AS BIGINT) \
         FROM invoices i WHERE i.order_id = ? AND i.kind = 'invoice' ORDER BY i.id",
        params![order_id],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, from_e4(r.int(1)?))))
    .collect()
}

/// The credit note that goes with a refund of money that settled an invoiced order: up to
/// what the order's invoices still carry, against the newest one first.
pub(crate) fn credit_for_refund(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    amount: Decimal,
    reason: &str,
) -> Result<Option<i64>, PaymentError> {
    let mut left = amount;
    let mut first = None;
    for (invoice_id, remaining) in remaining_by_invoice(tx, order.id)?.into_iter().rev() {
        if left <= Decimal::ZERO {
            break;
        }
        let credit = left.min(remaining);
        if credit <= Decimal::ZERO {
            continue;
        }
        let id = credit_note(tx, ctx, order, invoice_id, credit, reason)?;
        first = first.or(Some(id));
        left -= credit;
    }
    Ok(first)
}

fn credit_note(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    invoice_id: i64,
    gross: Decimal,
    reason: &str,
) -> Result<i64, PaymentError> {
    let (net, tax) = split_tax(gross, order.total, order.tax_total, order.currency);
    // One rate on the order is the credit's rate (the tax report groups by it); a mixed
    // order's credit carries the blended rate its tax was split at.
    let rates = tx.query("SELECT DISTINCT tax_rate_e4 FROM order_lines WHERE order_id = ?", params![order.id])?;
    let rate = match rates.as_slice() {
        [only] => from_e4(only.int(0)?).normalize(),
        _ if net.is_zero() => Decimal::ZERO,
        _ => (tax / net).round_dp(4),
    };
    let line = InvoiceLine {
        line_no: 1,
        sku: "CREDIT".into(),
        name: format!("Credit: {reason}"),
        quantity: 1,
        unit_price: net,
        discount_percent: Decimal::ZERO,
        tax_rate: rate,
        line_total: net,
        tax,
    };
    let doc = NewDocument {
        kind: "credit_note",
        prefix: "CN",
        order,
        lines: vec![line],
        corrects: Some(invoice_id),
        reason: Some(reason.to_string()),
        shipment: None,
    };
    let (id, number, net, tax) = insert_document(tx, ctx, doc)?;
    let journal = Journal::new()
        .debit(Account::SalesReturns, net)
        .debit(Account::TaxPayable, tax)
        .credit(Account::Receivables, net + tax);
    post(tx, ctx, order, "credit_note", &number, journal)?;
    money_store::change_order_money(
        tx,
        order.id,
        MoneyDelta { credited: to_e4(net + tax), ..Default::default() },
        ctx.now,
    )?;
    orders::store::append_event(
        tx,
        order.id,
        &ctx.actor,
        "credited",
        &json!({"credit_note": number, "total": net + tax}),
        ctx.now,
    )?;
    Ok(id)
}

/// Writes off what is still open on an invoice as bad debt.
pub fn write_off(tx: &mut dyn Tx, ctx: &Ctx, invoice_id: i64, input: &WriteOff) -> Result<Invoice, PaymentError> {
    let reason =
        ordo_domain::validation::required_text("reason", input.reason.as_deref(), 500).map_err(|e| Invalid(vec![e]))?;
    let invoice = get_invoice(tx, invoice_id)?;
    let order = orders::lock_order(tx, invoice.order_id, None)?;
    let invoice = get_invoice(tx, invoice_id)?;
    let open = invoice.open.unwrap_or_default();
    if invoice.kind != "invoice" || open <= Decimal::ZERO {
        return Err(PaymentError::Conflict(format!("{} has nothing open to write off", invoice.number)));
    }
    let line = InvoiceLine {
        line_no: 1,
        sku: "WRITE-OFF".into(),
        name: format!("Written off: {reason}"),
        quantity: 1,
        unit_price: open,
        discount_percent: Decimal::ZERO,
        tax_rate: Decimal::ZERO,
        line_total: open,
        tax: Decimal::ZERO,
    };
    let doc = NewDocument {
        kind: "write_off",
        prefix: "WO",
        order: &order,
        lines: vec![line],
        corrects: Some(invoice_id),
        reason: Some(reason),
        shipment: None,
    };
    let (id, number, total, _) = insert_document(tx, ctx, doc)?;
    post(
        tx,
        ctx,
        &order,
        "write_off",
        &number,
        Journal::new().debit(Account::BadDebt, total).credit(Account::Receivables, total),
    )?;
    money_store::change_order_money(
        tx,
        order.id,
        MoneyDelta { credited: to_e4(total), ..Default::default() },
        ctx.now,
    )?;
    orders::store::append_event(
        tx,
        order.id,
        &ctx.actor,
        "written_off",
        &json!({"document": number, "total": total}),
        ctx.now,
    )?;
    get_invoice(tx, id)
}

const INVOICE_COLUMNS: &str = "i.id, i.number, i.kind, i.order_id, o.number, i.customer_id, i.currency, i.issued_at, \
    i.due_date, (SELECT c.number FROM invoices c WHERE c.id = i.corrects_id), i.reason, i.bill_to, i.subtotal_e4, i.tax_e4, \
    i.total_e4, i.created_by, (SELECT s.number FROM shipments s WHERE s.id = i.shipment_id)";

fn invoice_row(row: &Row) -> Result<Invoice, DbError> {
    let currency = currency(&row.text(6)?)?;
    Ok(Invoice {
        id: row.int(0)?,
        number: row.text(1)?,
        kind: row.text(2)?,
        order_id: row.int(3)?,
        order_number: row.text(4)?,
        customer_id: row.int(5)?,
        currency,
        issued_at: Timestamp(row.int(7)?),
        due_date: row.text(8)?,
        corrects: row.opt_text(9)?,
        reason: row.opt_text(10)?,
        bill_to: serde_json::from_str(&row.text(11)?).map_err(|e| DbError::Decode(e.to_string()))?,
        subtotal: from_e4_in(row.int(12)?, currency),
        tax_total: from_e4_in(row.int(13)?, currency),
        total: from_e4_in(row.int(14)?, currency),
        created_by: row.text(15)?,
        shipment_number: row.opt_text(16)?,
        lines: Vec::new(),
        tax_lines: Vec::new(),
        open: None,
    })
}

/// The invoice issued for a shipment, if one was: (id, number).
pub fn shipment_invoice(tx: &mut dyn Tx, shipment_id: i64) -> Result<Option<(i64, String)>, PaymentError> {
    let row = tx.query_opt(
        "SELECT id, number FROM invoices WHERE shipment_id = ? AND kind = 'invoice'",
        params![shipment_id],
    )?;
    Ok(row.map(|r| Ok::<_, DbError>((r.int(0)?, r.text(1)?))).transpose()?)
}

pub fn get_invoice(tx: &mut dyn Tx, id: i64) -> Result<Invoice, PaymentError> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices i JOIN orders o ON o.id = i.order_id WHERE i.id = ?");
    let mut invoice = tx
        .query_opt(&sql, params![id])?
        .as_ref()
        .map(invoice_row)
        .transpose()?
        .ok_or(PaymentError::InvoiceNotFound(id))?;
    let currency = invoice.currency;
    invoice.lines = tx
        .query(
            "SELECT line_no, sku, name, quantity, unit_price_e4, discount_percent_e4, tax_rate_e4, line_total_e4, tax_e4 \
             FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no",
            params![id],
        )?
        .iter()
        .map(|r| {
            Ok(InvoiceLine {
                line_no: r.int(0)?,
                sku: r.text(1)?,
                name: r.text(2)?,
                quantity: r.int(3)?,
                unit_price: currency.show(from_e4(r.int(4)?)),
                discount_percent: from_e4(r.int(5)?).normalize(),
                tax_rate: from_e4(r.int(6)?).normalize(),
                line_total: from_e4_in(r.int(7)?, currency),
                tax: from_e4_in(r.int(8)?, currency),
            })
        })
        .collect::<Result<_, DbError>>()?;
    invoice.tax_lines = tax_lines(&invoice.lines);
    if invoice.kind == "invoice" {
        let order =
            orders::store::header_by_id(tx, invoice.order_id)?.ok_or(PaymentError::OrderNotFound(invoice.order_id))?;
        let open = open_amounts(tx, &order)?;
        invoice.open = Some(open.iter().find(|(i, _)| *i == id).map(|(_, o)| *o).unwrap_or_default());
    }
    Ok(invoice)
}

fn tax_lines(lines: &[InvoiceLine]) -> Vec<TaxLine> {
    let mut out: Vec<TaxLine> = Vec::new();
    for line in lines {
        match out.iter_mut().find(|t| t.rate == line.tax_rate) {
            Some(t) => {
                t.taxable += line.line_total;
                t.tax += line.tax;
            }
            None => out.push(TaxLine { rate: line.tax_rate, taxable: line.line_total, tax: line.tax }),
        }
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.rate));
    out
}

/// What each invoice of an order still has open: its total less its corrections, paid
/// oldest first from what the order has been paid.
pub(crate) fn open_amounts(tx: &mut dyn Tx, order: &Order) -> Result<Vec<(i64, Decimal)>, DbError> {
    let mut paid = order.amounts.paid;
    Ok(remaining_by_invoice(tx, order.id)?
        .into_iter()
        .map(|(id, remaining)| {
            let settled = paid.min(remaining).max(Decimal::ZERO);
            paid -= settled;
            (id, order.currency.round(remaining - settled))
        })
        .collect())
}

pub fn order_invoices(tx: &mut dyn Tx, order_id: i64) -> Result<InvoiceList, PaymentError> {
    let ids: Vec<i64> = tx
        .query("SELECT id FROM invoices WHERE order_id = ? ORDER BY id", params![order_id])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    let items = ids.into_iter().map(|id| get_invoice(tx, id)).collect::<Result<_, _>>()?;
    Ok(InvoiceList { items })
}

/// Recent invoices and credit notes, newest first.
pub fn list_invoices(tx: &mut dyn Tx, customer_id: Option<i64>, limit: i64) -> Result<Vec<Invoice>, PaymentError> {
    let mut filter = crate::db::Filter::new();
    filter.when("i.customer_id = ?", customer_id.map(|c| vec![c]));
    let sql = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices i JOIN orders o ON o.id = i.order_id{} ORDER BY i.id DESC LIMIT {}",
        filter.sql(),
        limit.clamp(1, 500)
    );
    Ok(tx.query(&sql, &filter.params)?.iter().map(invoice_row).collect::<Result<_, _>>()?)
}
