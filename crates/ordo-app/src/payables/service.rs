//! Supplier bills and payments: enter a bill against a purchase order (matched three ways),
//! approve a held one, pay, void; payables aging.

use super::model::*;
use super::store;
use crate::common::{AmountInput, Ctx, Page, PageRequest};
use crate::db::Tx;
use crate::payments::ledger::{self, EntryOf};
use crate::payments::{AgingAmounts, amount_field};
use crate::purchasing::store as purchasing;
use ordo_domain::money::{MAX_LINE_QUANTITY, from_e4, to_e4};
use ordo_domain::payables::{BillStatus, Mismatch, OrderedLine, match_line};
use ordo_domain::payments::{Account, AgingBucket, Journal, terms_days};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations, optional_text, required_text};
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;

/// Enters a supplier's bill against a purchase order. Each line is matched against the
/// order (unit cost within the supplier's tolerance, 2 % unless set) and the receipts (only goods that arrived and were not billed
/// before); a bill that does not match is entered but held until someone approves it. The
/// payable is booked at once: purchases and input tax against accounts payable.
pub fn enter_bill(tx: &mut dyn Tx, ctx: &Ctx, purchase_order_id: i64, input: &NewBill) -> Result<Bill, PayablesError> {
    if !purchasing::lock(tx, purchase_order_id)? {
        return Err(PayablesError::PurchaseOrderNotFound(purchase_order_id));
    }
    let po = purchasing::purchase_order_by_id(tx, purchase_order_id)?
        .ok_or(PayablesError::PurchaseOrderNotFound(purchase_order_id))?;
    if matches!(po.status.as_str(), "draft" | "cancelled") {
        return Err(PayablesError::State(format!("{} is {}: there is nothing to bill", po.number, po.status)));
    }
    let supplier = purchasing::supplier_by_id(tx, po.supplier_id)?
        .ok_or(PayablesError::Db(crate::db::DbError::Other(format!("supplier {} is gone", po.supplier_id))))?;
    let currency = po.currency;
    let today = crate::reports::sales::today(tx, ctx.now)?;
    let mut v = Violations::new();
    let supplier_ref = v.check(required_text("supplier_ref", input.supplier_ref.as_deref(), 64));
    let bill_date = v.check(Date::field("bill_date", input.bill_date.as_deref())).flatten().unwrap_or(today);
    let due_date = v
        .check(Date::field("due_date", input.due_date.as_deref()))
        .flatten()
        .unwrap_or_else(|| bill_date.plus_days(terms_days(&supplier.payment_terms)));
    if due_date < bill_date {
        v.add("due_date", format!("must not be before the bill date {bill_date}"));
    }
    let tax = match &input.tax {
        None => Decimal::ZERO,
        Some(raw) => v.check(non_negative("tax", raw, currency)).unwrap_or_default(),
    };
    let rows = purchasing::line_rows(tx, purchase_order_id)?;
    // (purchase order line, quantity, unit cost)
    let mut lines: Vec<(usize, i64, Decimal)> = Vec::new();
    match input.lines.as_deref() {
        None | Some([]) => v.add("lines", "name what the bill charges for: [{sku, quantity, unit_cost}]"),
        Some(given) if given.len() > 500 => v.add("lines", "at most 500 lines"),
        Some(given) => {
            for (i, line) in given.iter().enumerate() {
                let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
                let row = rows.iter().position(|r| r.sku == sku);
                match row {
                    None => v.add(format!("lines[{i}].sku"), format!("{sku:?} is not on {}", po.number)),
                    Some(n) if lines.iter().any(|(m, _, _)| *m == n) => {
                        v.add(format!("lines[{i}].sku"), format!("{sku} is on the bill twice"))
                    }
                    Some(_) => {}
                }
                let quantity = match line.quantity {
                    Some(q) if (1..=MAX_LINE_QUANTITY).contains(&q) => Some(q),
                    _ => v.check(Err(FieldError::new(
                        format!("lines[{i}].quantity"),
                        format!("must be between 1 and {MAX_LINE_QUANTITY}"),
                    ))),
                };
                let cost =
                    v.check(AmountInput::required(&format!("lines[{i}].unit_cost"), line.unit_cost.as_ref(), false));
                if let (Some(n), Some(quantity), Some(cost)) = (row, quantity, cost) {
                    lines.push((n, quantity, cost));
                }
            }
        }
    }
    v.into_result()?;
    let Some(supplier_ref) = supplier_ref else { unreachable!("checked above") };
    if let Some(number) = store::entered_as(tx, supplier.id, &supplier_ref)? {
        return Err(PayablesError::DuplicateBill { supplier_ref, number });
    }
    let matched: Vec<Vec<Mismatch>> = lines
        .iter()
        .map(|&(n, quantity, cost)| {
            let row = &rows[n];
            let ordered = OrderedLine {
                ordered: row.quantity,
                received: row.received,
                billed: row.billed,
                unit_cost: from_e4(row.unit_cost_e4),
            };
            match_line(&ordered, quantity, cost, supplier.price_tolerance_percent / Decimal::ONE_HUNDRED)
        })
        .collect();
    let status = if matched.iter().all(Vec::is_empty) { BillStatus::Open } else { BillStatus::OnHold };
    let subtotal: Decimal = lines.iter().map(|(_, q, c)| currency.round(*c * Decimal::from(*q))).sum();
    let total = subtotal + tax;
    let number = format!("BILL-{:06}", crate::orders::store::next_sequence(tx, "supplier_bill_number")?);
    let id = tx.insert(
        "INSERT INTO supplier_bills (number, supplier_id, purchase_order_id, supplier_ref, currency, subtotal_e4, tax_e4, \
         total_e4, paid_e4, status, bill_date, due_date, version, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?)",
        crate::params![
            number.as_str(),
            supplier.id,
            po.id,
            supplier_ref.as_str(),
            currency.code(),
            to_e4(subtotal),
            to_e4(tax),
            to_e4(total),
            status.as_str(),
            bill_date.to_string(),
            due_date.to_string(),
            ctx.actor.as_str(),
            ctx.now.micros()
        ],
    )?;
    for (k, (&(n, quantity, cost), mismatches)) in lines.iter().zip(&matched).enumerate() {
        let row = &rows[n];
        let mismatches = serde_json::to_string(mismatches).map_err(|e| crate::db::DbError::Other(e.to_string()))?;
        tx.execute(
            "INSERT INTO supplier_bill_lines (bill_id, line_no, order_line_no, product_id, quantity, unit_cost_e4, \
             order_unit_cost_e4, mismatches) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            crate::params![
                id,
                k as i64 + 1,
                row.line_no,
                row.product_id,
                quantity,
                to_e4(cost),
                row.unit_cost_e4,
                mismatches
            ],
        )?;
        tx.execute(
            "UPDATE purchase_order_lines SET billed = billed + ? WHERE purchase_order_id = ? AND line_no = ?",
            crate::params![quantity, po.id, row.line_no],
        )?;
    }
    let memo = format!("bill {supplier_ref} from {} for {}", supplier.name, po.number);
    let journal = Journal::new()
        .debit(Account::Purchases, subtotal)
        .debit(Account::InputTax, tax)
        .credit(Account::Payables, total);
    ledger::post(tx, ctx, &entry("supplier_bill", &number, &memo, currency, supplier.id), journal)?;
    let summary = format!("{supplier_ref}, {total} {currency}, {status}");
    crate::audit::record(tx, ctx, "payables", "bill.entered", &number, &summary)?;
    get_bill(tx, id)
}

fn entry<'a>(kind: &'a str, source: &'a str, memo: &'a str, currency: Currency, supplier_id: i64) -> EntryOf<'a> {
    EntryOf { kind, source, memo, currency, customer_id: None, supplier_id: Some(supplier_id), order_id: None }
}

/// Zero or more, no finer than the currency's minor unit.
fn non_negative(field: &str, raw: &AmountInput, currency: Currency) -> Result<Decimal, FieldError> {
    let amount = raw.parse(field, false)?;
    if amount.is_zero() { Ok(currency.round(amount)) } else { amount_field(field, Some(raw), currency) }
}

fn locked(tx: &mut dyn Tx, id: i64) -> Result<Bill, PayablesError> {
    if !store::lock_bill(tx, id)? {
        return Err(PayablesError::BillNotFound(id));
    }
    get_bill(tx, id)
}

/// Releases a held bill for payment, with the reason its mismatch is accepted.
pub fn approve_bill(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &BillApproval) -> Result<Bill, PayablesError> {
    let bill = locked(tx, id)?;
    let note = required_text("note", input.note.as_deref(), 500).map_err(|e| Invalid(vec![e]))?;
    if bill.status != BillStatus::OnHold {
        return Err(PayablesError::State(format!(
            "{} is {}, not on hold: nothing to approve",
            bill.number, bill.status
        )));
    }
    tx.execute(
        "UPDATE supplier_bills SET status = 'open', approved_by = ?, approved_at = ?, approval_note = ?, \
         version = version + 1 WHERE id = ?",
        crate::params![ctx.actor.as_str(), ctx.now.micros(), note.as_str(), id],
    )?;
    crate::audit::record(tx, ctx, "payables", "bill.approved", &bill.number, &note)?;
    get_bill(tx, id)
}

/// Pays a bill in full or in part, from the bank or the till.
pub fn pay_bill(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    input: &NewSupplierPayment,
) -> Result<SupplierPayment, PayablesError> {
    let bill = locked(tx, id)?;
    match bill.status {
        BillStatus::Open | BillStatus::PartiallyPaid => {}
        BillStatus::OnHold => {
            return Err(PayablesError::State(format!(
                "{} is on hold (it does not match {}): approve it before paying",
                bill.number, bill.purchase_order_number
            )));
        }
        other => return Err(PayablesError::State(format!("{} is {other}: nothing to pay", bill.number))),
    }
    let mut v = Violations::new();
    let amount = v.check(amount_field("amount", input.amount.as_ref(), bill.currency));
    if let Some(amount) = amount
        && amount > bill.open
    {
        v.add("amount", format!("only {} {} is open on {}", bill.open, bill.currency, bill.number));
    }
    let (method, account) = match input.method.as_deref().map(str::trim) {
        None | Some("") | Some("bank_transfer") => ("bank_transfer", Account::Bank),
        Some("cash") => ("cash", Account::Cash),
        Some(_) => {
            v.add("method", "must be bank_transfer or cash");
            ("", Account::Bank)
        }
    };
    let reference = v.check(optional_text("reference", input.reference.as_deref(), 100)).flatten();
    v.into_result()?;
    let Some(amount) = amount else { unreachable!("checked above") };
    let payment_id = tx.insert(
        "INSERT INTO supplier_payments (bill_id, supplier_id, amount_e4, currency, method, reference, paid_at, actor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        crate::params![
            id,
            bill.supplier_id,
            to_e4(amount),
            bill.currency.code(),
            method,
            reference.clone(),
            ctx.now.micros(),
            ctx.actor.as_str()
        ],
    )?;
    let paid = bill.paid + amount;
    let status = BillStatus::after_payment(paid, bill.total);
    tx.execute(
        "UPDATE supplier_bills SET paid_e4 = ?, status = ?, version = version + 1 WHERE id = ?",
        crate::params![to_e4(paid), status.as_str(), id],
    )?;
    let source = format!("supplier_payment:{payment_id}");
    let memo = format!("{} to {} for {}", method.replace('_', " "), bill.supplier_name, bill.number);
    let journal = Journal::new().debit(Account::Payables, amount).credit(account, amount);
    ledger::post(tx, ctx, &entry("supplier_payment", &source, &memo, bill.currency, bill.supplier_id), journal)?;
    let summary = format!("{amount} {} by {method}, {status}", bill.currency);
    crate::audit::record(tx, ctx, "payables", "bill.paid", &bill.number, &summary)?;
    Ok(SupplierPayment {
        id: payment_id,
        bill_id: id,
        amount,
        currency: bill.currency,
        method: method.into(),
        reference,
        paid_at: ctx.now,
        actor: ctx.actor.clone(),
    })
}

/// Cancels a bill entered by mistake, before anything was paid on it: the payable is
/// reversed and its quantities can be billed again.
pub fn void_bill(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Bill, PayablesError> {
    let bill = locked(tx, id)?;
    // Bills entered against the order meanwhile wait: they match against what is billed.
    purchasing::lock(tx, bill.purchase_order_id)?;
    if !matches!(bill.status, BillStatus::OnHold | BillStatus::Open) {
        return Err(PayablesError::State(format!(
            "{} is {}: only a bill with nothing paid on it can be voided",
            bill.number, bill.status
        )));
    }
    for (order_line, quantity) in store::bill_line_rows(tx, id)? {
        tx.execute(
            "UPDATE purchase_order_lines SET billed = billed - ? WHERE purchase_order_id = ? AND line_no = ?",
            crate::params![quantity, bill.purchase_order_id, order_line],
        )?;
    }
    tx.execute("UPDATE supplier_bills SET status = 'voided', version = version + 1 WHERE id = ?", crate::params![id])?;
    let memo = format!("void of {} ({})", bill.number, bill.supplier_ref);
    let journal = Journal::new()
        .debit(Account::Payables, bill.total)
        .credit(Account::Purchases, bill.subtotal)
        .credit(Account::InputTax, bill.tax);
    ledger::post(tx, ctx, &entry("supplier_bill_void", &bill.number, &memo, bill.currency, bill.supplier_id), journal)?;
    crate::audit::record(tx, ctx, "payables", "bill.voided", &bill.number, &bill.supplier_ref)?;
    get_bill(tx, id)
}

pub fn get_bill(tx: &mut dyn Tx, id: i64) -> Result<Bill, PayablesError> {
    store::bill_by_id(tx, id)?.ok_or(PayablesError::BillNotFound(id))
}

pub fn list_bills(
    tx: &mut dyn Tx,
    status: Option<&str>,
    supplier_id: Option<i64>,
    page: PageRequest,
) -> Result<Page<Bill>, PayablesError> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            BillStatus::parse(text)
                .ok_or_else(|| Invalid::field("status", format!("must be one of {}", BillStatus::choices())))?,
        ),
    };
    let ids = store::bill_ids(tx, status, supplier_id, page.before_id, page.fetch_limit())?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get_bill(tx, id)?);
    }
    Ok(page.page(items, |b| b.id))
}

/// What the business owes its suppliers, by supplier and days past due, as of a day. Held
/// bills count: the goods or the charge are disputed, not the debt's existence.
pub fn payables_aging(tx: &mut dyn Tx, currency: Currency, as_of: Date) -> Result<PayablesAgingReport, PayablesError> {
    let mut suppliers: Vec<PayablesAgingRow> = Vec::new();
    let mut totals = AgingAmounts::zero(currency);
    for bill in store::open_bills(tx, currency)? {
        let open = ordo_domain::money::from_e4_in(bill.open_e4, currency);
        let bucket = Date::parse(&bill.due_date).map_or(AgingBucket::Current, |due| AgingBucket::of(due, as_of));
        let index = match suppliers.iter().position(|s| s.supplier_id == bill.supplier_id) {
            Some(i) => i,
            None => {
                suppliers.push(PayablesAgingRow {
                    supplier_id: bill.supplier_id,
                    supplier_code: bill.supplier_code,
                    supplier_name: bill.supplier_name,
                    amounts: AgingAmounts::zero(currency),
                });
                suppliers.len() - 1
            }
        };
        suppliers[index].amounts.add(bucket, open);
        totals.add(bucket, open);
    }
    suppliers.sort_by_key(|s| std::cmp::Reverse(s.amounts.total));
    Ok(PayablesAgingReport { currency, as_of: as_of.to_string(), suppliers, totals })
}
