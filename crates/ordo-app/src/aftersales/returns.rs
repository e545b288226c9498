//! Returns (RMA) and exchanges: judged by the policy, received and inspected line by line,
//! paid back through the payments module, every step on the order's timeline.

use super::model::*;
use super::{service_settings, tickets};
use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Row, Tx, Value};
use crate::inventory::store::{self as stock, NewMovement};
use crate::orders::{self, NewOrder, NewOrderLine, Order, Placed};
use crate::params;
use crate::payments::{self, NewPayment, NewRefund};
use ordo_domain::aftersales::{
    Disposition, LineFacts, ReturnPolicy, ReturnReason, ReturnStatus, ShippingPayer, TicketCategory, TicketPriority,
    Verdict, combine, judge, policy_for, restocking_fee, returned_value,
};
use ordo_domain::checks::{HoldCode, HoldReason};
use ordo_domain::inventory::MovementKind;
use ordo_domain::money::{from_e4_in, to_e4};
use ordo_domain::payments::MethodKind;
use ordo_domain::payments::{PaymentState, RefundState};
use ordo_domain::validation::{Violations, optional_text};
use ordo_domain::{Invalid, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;

const MAX_LINES: usize = 200;

/// A return requested by staff (or, later, the customer portal).
pub fn request_return(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, input: &NewReturn) -> Result<Return, AfterSalesError> {
    let order = locked_order(tx, order_id)?;
    let mut v = Violations::new();
    let lines = read_lines(tx, &order, "lines", input.lines.as_deref(), &mut v)?;
    let notes = v.check(optional_text("notes", input.notes.as_deref(), 1000)).flatten();
    v.into_result()?;
    let ret = open_return(tx, ctx, &order, lines, notes, "return")?;
    get_return(tx, ret)
}

/// An exchange: a return plus a replacement order. Same SKU goes out at the price paid,
/// another SKU at today's price; the difference is charged on the replacement or paid back.
pub fn request_exchange(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    input: &NewExchange,
) -> Result<Return, AfterSalesError> {
    let order = locked_order(tx, order_id)?;
    let mut v = Violations::new();
    let lines = read_lines(tx, &order, "return_lines", input.return_lines.as_deref(), &mut v)?;
    let notes = v.check(optional_text("notes", input.notes.as_deref(), 1000)).flatten();
    let replacement = read_replacement(input.replacement_lines.as_deref(), &mut v);
    v.into_result()?;
    let id = open_return(tx, ctx, &order, lines, notes, "exchange")?;
    tx.execute(
        "UPDATE returns SET replacement_json = ? WHERE id = ?",
        params![serde_json::to_string(&replacement).unwrap_or_default(), id],
    )?;
    let ret = get_return(tx, id)?;
    if ret.status == ReturnStatus::Approved {
        send_replacement(tx, ctx, &ret)?;
    }
    get_return(tx, id)
}

/// A person approves a return the policy could not decide.
pub fn approve_return(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &ReturnDecision) -> Result<Return, AfterSalesError> {
    let ret = locked_return(tx, id)?;
    if ret.status != ReturnStatus::PendingReview {
        return Err(AfterSalesError::Conflict(format!(
            "{} is {}: only one waiting for review is approved",
            ret.number, ret.status
        )));
    }
    let reason = optional_text("reason", input.reason.as_deref(), 500).map_err(|e| Invalid(vec![e]))?;
    let instructions = instructions_for(tx, &ret)?;
    tx.execute(
        "UPDATE returns SET status = 'approved', decision_reason = COALESCE(?, decision_reason), instructions = ?, \
         decided_by = ?, decided_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        params![reason.clone(), instructions, ctx.actor.as_str(), ctx.now.micros(), ctx.now.micros(), id],
    )?;
    timeline(tx, ctx, &ret, "return_approved", json!({"by": ctx.actor, "reason": reason}))?;
    let ret = get_return(tx, id)?;
    if ret.kind == "exchange" {
        send_replacement(tx, ctx, &ret)?;
    }
    get_return(tx, id)
}

/// Refuses a return (with the reason the customer is told); a ticket follows so someone
/// calls them, when the settings say so.
pub fn reject_return(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &ReturnDecision) -> Result<Return, AfterSalesError> {
    let ret = locked_return(tx, id)?;
    if !matches!(ret.status, ReturnStatus::PendingReview | ReturnStatus::Approved) || ret.settled {
        return Err(AfterSalesError::Conflict(format!(
            "{} is {}: it can no longer be rejected",
            ret.number, ret.status
        )));
    }
    let reason =
        ordo_domain::validation::required_text("reason", input.reason.as_deref(), 500).map_err(|e| Invalid(vec![e]))?;
    tx.execute(
        "UPDATE returns SET status = 'rejected', decision_reason = ?, decided_by = ?, decided_at = ?, updated_at = ?, \
         version = version + 1 WHERE id = ?",
        params![reason.as_str(), ctx.actor.as_str(), ctx.now.micros(), ctx.now.micros(), id],
    )?;
    if let Some(replacement) = ret.replacement_order_id {
        let why = orders::CancelOrder { reason: Some(format!("{} was rejected", ret.number)) };
        orders::cancel_order(tx, ctx, replacement, None, &why)?;
    }
    timeline(tx, ctx, &ret, "return_rejected", json!({"by": ctx.actor, "reason": reason}))?;
    after_rejection(tx, ctx, &ret, &reason)?;
    get_return(tx, id)
}

/// The parcel arrived: each line's units are inspected and go where their disposition
/// says. Restocked units are sellable at once; damaged ones are kept apart.
pub fn receive_return(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &ReceiveReturn) -> Result<Return, AfterSalesError> {
    let ret = locked_return(tx, id)?;
    if ret.status != ReturnStatus::Approved {
        return Err(AfterSalesError::Conflict(format!(
            "{} is {}: only an approved return is received",
            ret.number, ret.status
        )));
    }
    let mut v = Violations::new();
    let mut received: HashMap<i64, (i64, Disposition, Option<String>)> = HashMap::new();
    let inputs = input.lines.as_deref().unwrap_or_default();
    if inputs.is_empty() {
        v.add("lines", "list what arrived: sku, quantity and disposition");
    }
    for (i, line) in inputs.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
        let Some(authorised) = ret.lines.iter().find(|l| l.sku == sku) else {
            v.add(field("sku"), format!("{sku:?} is not on {}", ret.number));
            continue;
        };
        let quantity = line.quantity.unwrap_or(authorised.quantity);
        if !(0..=authorised.quantity).contains(&quantity) {
            v.add(field("quantity"), format!("must be between 0 and the {} authorised", authorised.quantity));
        }
        let disposition = match line.disposition.as_deref().map(str::trim) {
            Some(text) => Disposition::parse(text),
            None => None,
        };
        if disposition.is_none() {
            v.add(field("disposition"), format!("must be one of {}", Disposition::choices()));
        }
        let note = v.check(optional_text(&field("note"), line.note.as_deref(), 500)).flatten();
        if received.contains_key(&authorised.line_no) {
            v.add(field("sku"), "is listed twice");
        }
        if let Some(disposition) = disposition {
            received.insert(authorised.line_no, (quantity, disposition, note));
        }
    }
    if v.is_empty() && received.values().all(|(q, _, _)| *q == 0) {
        v.add("lines", "nothing arrived: receive at least one unit, or reject the return");
    }
    v.into_result()?;
    let order = orders::get_order(tx, ret.order_id)?;
    let (mut value, mut fee) = (Decimal::ZERO, Decimal::ZERO);
    for line in &ret.lines {
        let Some((quantity, disposition, note)) = received.get(&line.line_no) else { continue };
        let order_line = order_line(&order, line.line_no)?;
        put_away(tx, ctx, &ret, order_line, *quantity, *disposition)?;
        let line_value =
            returned_value(order_line.line_total, order_line.tax, order_line.quantity, *quantity, order.currency);
        value += line_value;
        fee += restocking_fee(line_value, line.restocking_fee_percent, line.reason, order.currency);
        tx.execute(
            "UPDATE return_lines SET received = ?, disposition = ?, note = ? WHERE return_id = ? AND line_no = ?",
            params![*quantity, disposition.as_str(), note.clone(), id, line.line_no],
        )?;
    }
    tx.execute(
        "UPDATE returns SET status = 'received', received_at = ?, fee_e4 = ?, refund_e4 = ?, updated_at = ?, \
         version = version + 1 WHERE id = ?",
        params![ctx.now.micros(), to_e4(fee), to_e4(value - fee), ctx.now.micros(), id],
    )?;
    let lines: Vec<_> = ret
        .lines
        .iter()
        .filter_map(|l| {
            received.get(&l.line_no).map(|(q, d, _)| json!({"sku": l.sku, "quantity": q, "disposition": d}))
        })
        .collect();
    let details = json!({"lines": lines, "value": value, "restocking_fee": fee, "refund_amount": value - fee});
    timeline(tx, ctx, &ret, "return_received", details)?;
    if ret.kind == "exchange" {
        let ret = get_return(tx, id)?;
        if !ret.settled {
            settle_exchange(tx, ctx, &ret, value - fee)?;
        }
        if let Some(replacement) = ret.replacement_order_id {
            orders::lift_hold(tx, ctx, replacement, HoldCode::AwaitingReturn, &format!("{} arrived", ret.number))?;
        }
        mark_refunded(tx, ctx, id)?;
    }
    get_return(tx, id)
}

/// Pays back what the inspection accepted: the returned value less the restocking fee,
/// through the order's payments (newest first), or as a credit note where it was not paid.
pub fn refund_return(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &RefundReturn) -> Result<Return, AfterSalesError> {
    let ret = locked_return(tx, id)?;
    if ret.kind == "exchange" {
        return Err(AfterSalesError::Conflict(format!(
            "{} is an exchange: it settles against its replacement",
            ret.number
        )));
    }
    if ret.status != ReturnStatus::Received {
        return Err(AfterSalesError::Conflict(format!(
            "{} is {}: it is refunded once received",
            ret.number, ret.status
        )));
    }
    let reason = format!("return {}", ret.number);
    let goods = received_goods(&ret);
    let to_store_credit = input.to_store_credit.unwrap_or(false);
    let given = give_back(tx, ctx, ret.order_id, ret.refund_amount, &goods, &reason, to_store_credit)?;
    record_refunds(tx, id, &given.refund_ids, ret.refund_amount)?;
    mark_refunded(tx, ctx, id)?;
    timeline(tx, ctx, &ret, "return_refunded", json!({"amount": ret.refund_amount, "refunds": given.refund_ids}))?;
    get_return(tx, id)
}

pub fn get_return(tx: &mut dyn Tx, id: i64) -> Result<Return, AfterSalesError> {
    returns_where(tx, "r.id = ?", params![id])?.pop().ok_or(AfterSalesError::ReturnNotFound(id))
}

pub fn list_returns(tx: &mut dyn Tx, query: &ReturnQuery) -> Result<ReturnList, AfterSalesError> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut values: Vec<Value> = Vec::new();
    match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some("open") => conditions.push("r.status IN ('pending_review', 'approved', 'received')".into()),
        Some(text) => {
            let status = ReturnStatus::parse(text).ok_or_else(|| {
                Invalid::field("status", format!("must be open or one of {}", ReturnStatus::choices()))
            })?;
            conditions.push("r.status = ?".into());
            values.push(status.as_str().into());
        }
        None => {}
    }
    if let Some(customer) = query.customer_id {
        conditions.push("r.customer_id = ?".into());
        values.push(customer.into());
    }
    if let Some(order) = query.order_id {
        conditions.push("r.order_id = ?".into());
        values.push(order.into());
    }
    Ok(ReturnList { items: returns_where(tx, &conditions.join(" AND "), &values)? })
}

/// What was given back: the refunds made and how much of it became store credit.
pub(crate) struct GivenBack {
    pub refund_ids: Vec<i64>,
    pub to_store_credit: Decimal,
}

/// Pays `amount` of an order back for `goods` (sku, units) that came back or never
/// arrived: refunds its captured payments, newest first; what no payment covers (goods on
/// terms, not paid yet) is a credit note against its invoices. Goods not invoiced yet are
/// invoiced first, so the refund lowers what the order owes (through a credit note)
/// instead of leaving the returned value due.
pub(crate) fn give_back(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    amount: Decimal,
    goods: &[(String, i64)],
    reason: &str,
    to_store_credit: bool,
) -> Result<GivenBack, AfterSalesError> {
    invoice_goods(tx, ctx, order_id, goods)?;
    let mut given = GivenBack { refund_ids: Vec::new(), to_store_credit: Decimal::ZERO };
    let mut left = amount;
    let pending = payments::store::refunds(tx, Some(RefundState::PendingApproval), Some(order_id))?;
    let mut captured: Vec<_> = payments::store::order_payments(tx, order_id)?
        .into_iter()
        .filter(|p| p.status == PaymentState::Captured)
        .collect();
    captured.sort_by_key(|p| std::cmp::Reverse(p.id));
    for payment in captured {
        if left <= Decimal::ZERO {
            break;
        }
        let waiting: Decimal = pending.iter().filter(|r| r.payment_id == payment.id).map(|r| r.amount).sum();
        let take = left.min(payment.amount - payment.refunded - waiting);
        if take <= Decimal::ZERO {
            continue;
        }
        let request = NewRefund {
            amount: Some(AmountInput(take.to_string())),
            reason: Some(reason.to_string()),
            to_store_credit: Some(to_store_credit),
        };
        let refund = payments::refund_payment(tx, ctx, payment.id, &request)?;
        if refund.status == RefundState::Completed && refund.to_store_credit {
            given.to_store_credit += take;
        }
        given.refund_ids.push(refund.id);
        left -= take;
    }
    if left > Decimal::ZERO {
        let order = orders::get_order(tx, order_id)?;
        if payments::invoices::credit_for_refund(tx, ctx, &order, left, reason)?.is_none() {
            return Err(AfterSalesError::Conflict(format!(
                "{left} of {} is neither paid nor invoiced: issue its invoice first, then refund",
                order.number
            )));
        }
    }
    Ok(given)
}

/// Invoices the units of `goods` that are not invoiced yet (up to what each line has left).
fn invoice_goods(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, goods: &[(String, i64)]) -> Result<(), AfterSalesError> {
    let order = orders::get_order(tx, order_id)?;
    let invoiced: HashMap<i64, i64> = tx
        .query("SELECT line_no, invoiced FROM order_lines WHERE order_id = ?", params![order_id])?
        .iter()
        .map(|r| Ok((r.int(0)?, r.int(1)?)))
        .collect::<Result<_, DbError>>()?;
    let mut left: HashMap<&str, i64> = HashMap::new();
    for line in &order.lines {
        *left.entry(line.sku.as_str()).or_default() +=
            line.quantity - invoiced.get(&line.line_no).copied().unwrap_or(0);
    }
    let mut wanted: HashMap<&str, i64> = HashMap::new();
    for (sku, quantity) in goods {
        let open = left.get(sku.as_str()).copied().unwrap_or(0) - wanted.get(sku.as_str()).copied().unwrap_or(0);
        let take = (*quantity).min(open);
        if take > 0 {
            *wanted.entry(sku.as_str()).or_default() += take;
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<_> = wanted
        .into_iter()
        .map(|(sku, quantity)| payments::InvoiceLineInput { sku: Some(sku.to_string()), quantity: Some(quantity) })
        .collect();
    lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    payments::invoices::issue_invoice(
        tx,
        ctx,
        order_id,
        &payments::NewInvoice { lines: Some(lines), shipment_id: None },
    )?;
    Ok(())
}

fn locked_order(tx: &mut dyn Tx, order_id: i64) -> Result<Order, AfterSalesError> {
    match orders::lock_order(tx, order_id, None) {
        Err(orders::OrderError::NotFound(id)) => return Err(AfterSalesError::OrderNotFound(id)),
        other => other?,
    };
    Ok(orders::get_order(tx, order_id)?)
}

/// Locks the return's row for the rest of the transaction (an UPDATE is the portable lock).
fn locked_return(tx: &mut dyn Tx, id: i64) -> Result<Return, AfterSalesError> {
    if tx.execute("UPDATE returns SET version = version WHERE id = ?", params![id])? == 0 {
        return Err(AfterSalesError::ReturnNotFound(id));
    }
    get_return(tx, id)
}

fn order_line(order: &Order, line_no: i64) -> Result<&orders::OrderLine, AfterSalesError> {
    order
        .lines
        .iter()
        .find(|l| l.line_no == line_no)
        .ok_or_else(|| AfterSalesError::Conflict(format!("line {line_no} is no longer on {}", order.number)))
}

struct Wanted {
    line_no: i64,
    quantity: i64,
    reason: ReturnReason,
    opened: bool,
}

/// Checks the lines asked for against what the order shipped and what earlier returns took.
fn read_lines(
    tx: &mut dyn Tx,
    order: &Order,
    field: &str,
    input: Option<&[ReturnLineInput]>,
    v: &mut Violations,
) -> Result<Vec<Wanted>, AfterSalesError> {
    if order.lines.iter().all(|l| l.shipped_quantity == 0) {
        return Err(AfterSalesError::Conflict(format!(
            "nothing on {} was shipped: cancel or edit the order instead",
            order.number
        )));
    }
    let taken = already_returned(tx, order.id)?;
    let input = input.unwrap_or_default();
    if input.is_empty() || input.len() > MAX_LINES {
        v.add(field, format!("list 1 to {MAX_LINES} lines: sku, quantity, reason"));
    }
    let mut wanted: Vec<Wanted> = Vec::new();
    for (i, line) in input.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
        let Some(order_line) = order.lines.iter().find(|l| l.sku == sku) else {
            v.add(at("sku"), format!("{sku:?} is not on {}", order.number));
            continue;
        };
        if wanted.iter().any(|w| w.line_no == order_line.line_no) {
            v.add(at("sku"), "is listed twice");
            continue;
        }
        let returnable = order_line.shipped_quantity - taken.get(&order_line.line_no).copied().unwrap_or(0);
        let quantity = line.quantity.unwrap_or(0);
        if returnable <= 0 {
            v.add(at("quantity"), format!("no shipped unit of {sku} is left to return"));
        } else if !(1..=returnable).contains(&quantity) {
            v.add(at("quantity"), format!("must be between 1 and {returnable} (shipped and not yet returned)"));
        }
        let reason = match line.reason.as_deref().map(str::trim) {
            Some(text) => ReturnReason::parse(text),
            None => None,
        };
        if reason.is_none() {
            v.add(at("reason"), format!("must be one of {}", ReturnReason::choices()));
        }
        if let Some(reason) = reason {
            wanted.push(Wanted { line_no: order_line.line_no, quantity, reason, opened: line.opened.unwrap_or(false) });
        }
    }
    Ok(wanted)
}

fn read_replacement(input: Option<&[ReplacementLineInput]>, v: &mut Violations) -> Vec<(String, i64)> {
    let input = input.unwrap_or_default();
    if input.is_empty() || input.len() > MAX_LINES {
        v.add("replacement_lines", format!("list 1 to {MAX_LINES} lines: sku, quantity"));
    }
    let mut out = Vec::new();
    for (i, line) in input.iter().enumerate() {
        let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
        if sku.is_empty() {
            v.add(format!("replacement_lines[{i}].sku"), "is required");
        }
        let quantity = line.quantity.unwrap_or(0);
        if !(1..=ordo_domain::money::MAX_LINE_QUANTITY).contains(&quantity) {
            v.add(format!("replacement_lines[{i}].quantity"), "must be at least 1");
        }
        out.push((sku.to_string(), quantity));
    }
    out
}

/// Units of each order line in returns still standing (not rejected or cancelled).
fn already_returned(tx: &mut dyn Tx, order_id: i64) -> Result<HashMap<i64, i64>, DbError> {
    let rows = tx.query(
        "SELECT l.line_no, CAST(SUM(l.quantity) AS BIGINT) FROM return_lines l JOIN returns r ON r.id = l.return_id \
         WHERE r.order_id = ? AND r.status NOT IN ('rejected', 'cancelled') GROUP BY l.line_no",
        params![order_id],
    )?;
    rows.iter().map(|r| Ok((r.int(0)?, r.int(1)?))).collect()
}

/// Judges, numbers and stores a return; refused returns may open a ticket.
fn open_return(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    wanted: Vec<Wanted>,
    notes: Option<String>,
    kind: &str,
) -> Result<i64, AfterSalesError> {
    let settings = service_settings(tx)?;
    let group = crate::customers::store::by_id(tx, order.customer_id)?
        .map(|c| c.customer.group)
        .ok_or(AfterSalesError::CustomerNotFound(order.customer_id))?;
    let products = product_facts(tx, order.id)?;
    let days = order.delivered_at.map(|at| (ctx.now.micros() - at.micros()).max(0) / 86_400_000_000);
    let mut verdicts = Vec::new();
    let mut rows = Vec::new();
    let mut payer = ShippingPayer::Customer;
    let mut value = Decimal::ZERO;
    for want in &wanted {
        let line = order_line(order, want.line_no)?;
        let (category, tags) = products.get(&line.sku).cloned().unwrap_or_default();
        let policy = policy_for(&settings.return_policies, category.as_deref(), &group);
        let facts = LineFacts {
            sku: &line.sku,
            tags: &tags,
            reason: want.reason,
            opened: want.opened,
            days_since_delivery: days,
        };
        verdicts.push(judge(&policy, &facts));
        if policy.shipping_payer(want.reason) == ShippingPayer::Business {
            payer = ShippingPayer::Business;
        }
        let line_value = returned_value(line.line_total, line.tax, line.quantity, want.quantity, order.currency);
        value += line_value;
        rows.push((line, want, policy, line_value));
    }
    let (status, decision) = match combine(&verdicts) {
        Verdict::Approve => (ReturnStatus::Approved, Some("the return policy is met".to_string())),
        Verdict::Review(why) => (ReturnStatus::PendingReview, Some(why)),
        Verdict::Reject(why) => (ReturnStatus::Rejected, Some(why)),
    };
    let decided = status != ReturnStatus::PendingReview;
    let number = format!(
        "RMA-{}-{:06}",
        ctx.now.year(),
        orders::store::next_sequence(tx, &format!("return_number:{}", ctx.now.year()))?
    );
    let advance = rows.iter().all(|(_, _, p, _)| p.advance_replacement);
    let id = tx.insert(
        "INSERT INTO returns (number, order_id, customer_id, kind, status, decision_reason, notes, return_shipping, \
         currency, value_e4, fee_e4, refund_e4, refunded_e4, advance_replacement, settled, created_by, created_at, \
         decided_by, decided_at, updated_at, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, 0, ?, ?, ?, ?, ?, 1)",
        params![
            number.as_str(),
            order.id,
            order.customer_id,
            kind,
            status.as_str(),
            decision.clone(),
            notes.clone(),
            payer.as_str(),
            order.currency.code(),
            to_e4(value),
            advance,
            ctx.actor.as_str(),
            ctx.now.micros(),
            decided.then(|| "policy".to_string()),
            decided.then(|| ctx.now.micros()),
            ctx.now.micros()
        ],
    )?;
    for (line, want, policy, line_value) in &rows {
        tx.execute(
            "INSERT INTO return_lines (return_id, line_no, sku, name, quantity, reason, opened, policy, value_e4, \
             fee_percent_e4, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            params![
                id,
                line.line_no,
                line.sku.as_str(),
                line.name.as_str(),
                want.quantity,
                want.reason.as_str(),
                want.opened,
                policy.name.as_str(),
                to_e4(*line_value),
                to_e4(policy.restocking_fee_percent)
            ],
        )?;
    }
    let ret = get_return(tx, id)?;
    if status == ReturnStatus::Approved {
        let instructions = instructions_for(tx, &ret)?;
        tx.execute("UPDATE returns SET instructions = ? WHERE id = ?", params![instructions, id])?;
    }
    let lines: Vec<_> =
        ret.lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity, "reason": l.reason})).collect();
    timeline(tx, ctx, &ret, "return_requested", json!({"kind": kind, "lines": lines, "notes": notes}))?;
    let event = match status {
        ReturnStatus::Approved => Some("return_approved"),
        ReturnStatus::Rejected => Some("return_rejected"),
        _ => None,
    };
    if let Some(event) = event {
        timeline(tx, ctx, &ret, event, json!({"by": "policy", "reason": decision}))?;
    }
    let data = json!({"return_id": id, "number": number, "order_id": order.id, "order_number": order.number,
        "kind": kind, "status": status, "value": value, "currency": order.currency.code(), "lines": lines});
    crate::events::record(tx, "return.requested", ("order", order.id), &data, ctx.now)?;
    if status == ReturnStatus::Rejected {
        after_rejection(tx, ctx, &ret, decision.as_deref().unwrap_or_default())?;
    }
    Ok(id)
}

fn after_rejection(tx: &mut dyn Tx, ctx: &Ctx, ret: &Return, reason: &str) -> Result<(), AfterSalesError> {
    if !service_settings(tx)?.ticket_on_rejected_return {
        return Ok(());
    }
    let opened = tickets::Auto {
        customer_id: ret.customer_id,
        order_id: Some(ret.order_id),
        return_id: Some(ret.id),
        category: TicketCategory::Return,
        priority: TicketPriority::Normal,
        subject: format!("Return {} rejected", ret.number),
        source: "return_rejected",
        message: Some(reason.to_string()),
    };
    tickets::open_auto(tx, ctx, &opened)?;
    Ok(())
}

/// A product's category and tags: what return policies look at.
type ProductFacts = (Option<String>, Vec<String>);

/// The facts of each product on the order, by SKU.
fn product_facts(tx: &mut dyn Tx, order_id: i64) -> Result<HashMap<String, ProductFacts>, DbError> {
    let mut out = HashMap::new();
    for r in tx.query(
        "SELECT p.sku, p.category, p.tags FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id = ?",
        params![order_id],
    )? {
        let tags: Vec<String> = r.opt_text(2)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        out.insert(r.text(0)?, (r.opt_text(1)?, tags));
    }
    Ok(out)
}

/// Where to send the parcel and who pays for it.
fn instructions_for(tx: &mut dyn Tx, ret: &Return) -> Result<String, AfterSalesError> {
    let order = orders::get_order(tx, ret.order_id)?;
    let warehouse = ret
        .lines
        .first()
        .and_then(|l| order.lines.iter().find(|o| o.line_no == l.line_no))
        .map(|l| l.warehouse.clone())
        .unwrap_or_default();
    let name = stock::warehouse_by_code(tx, &warehouse)?.map(|w| w.name).unwrap_or_else(|| warehouse.clone());
    let postage = match ret.return_shipping {
        ShippingPayer::Business => "we pay the postage: ask us for a prepaid label",
        ShippingPayer::Customer => "the postage is yours to pay",
    };
    Ok(format!(
        "Write {} on the parcel and send it to {name} ({warehouse}); {postage}. The refund follows the inspection.",
        ret.number
    ))
}

/// Puts received units where the inspection says; every unit that re-enters stock is a
/// movement, so the stock ledger still adds up.
fn put_away(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    ret: &Return,
    line: &orders::OrderLine,
    quantity: i64,
    disposition: Disposition,
) -> Result<(), AfterSalesError> {
    if quantity == 0 || matches!(disposition, Disposition::Scrap | Disposition::ReturnToSupplier) {
        return Ok(());
    }
    let product_id = tx.query_one("SELECT id FROM products WHERE sku = ?", params![line.sku.as_str()])?.int(0)?;
    let warehouse = stock::warehouse_by_code(tx, &line.warehouse)?
        .ok_or_else(|| AfterSalesError::Conflict(format!("warehouse {} is gone", line.warehouse)))?;
    stock::lock_level(tx, product_id, warehouse.id, ctx.now)?;
    let reason = format!("{} {}", ret.number, disposition);
    match disposition {
        Disposition::Restock => {
            tx.execute(
                "UPDATE stock_levels SET on_hand = on_hand + ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
                params![quantity, ctx.now.micros(), product_id, warehouse.id],
            )?;
            let movement = NewMovement {
                product_id,
                warehouse_id: warehouse.id,
                kind: MovementKind::Return,
                on_hand_delta: quantity,
                reserved_delta: 0,
                reason: Some(&reason),
                reference: Some(&ret.number),
            };
            stock::record_movements(tx, &[movement], &ctx.actor, ctx.now)?;
            crate::inventory::supply::fill_backorders(tx, ctx, product_id, warehouse.id)?;
        }
        _ => stock::add_damaged(tx, product_id, warehouse.id, quantity, &reason, &ret.number, &ctx.actor, ctx.now)?,
    }
    Ok(())
}

/// Creates the exchange's replacement order; it waits for the returned goods unless the
/// policy lets it go first, in which case the money is settled now.
fn send_replacement(tx: &mut dyn Tx, ctx: &Ctx, ret: &Return) -> Result<(), AfterSalesError> {
    if ret.replacement_order_id.is_some() {
        return Ok(());
    }
    let wanted: Vec<(String, i64)> = tx
        .query_one("SELECT replacement_json FROM returns WHERE id = ?", params![ret.id])?
        .opt_text(0)?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let original = orders::get_order(tx, ret.order_id)?;
    let lines = wanted
        .iter()
        .map(|(sku, quantity)| {
            // Like for like keeps the price paid; another product sells at today's price.
            let same =
                original.lines.iter().find(|l| &l.sku == sku && ret.lines.iter().any(|r| r.line_no == l.line_no));
            NewOrderLine {
                sku: Some(sku.clone()),
                quantity: Some(*quantity),
                unit_price: same.map(|l| AmountInput(l.unit_price.to_string())),
                discount_percent: same.map(|l| AmountInput(l.discount_percent.to_string())),
                unit: None,
            }
        })
        .collect();
    let input = NewOrder {
        customer_id: Some(original.customer_id),
        channel: Some(original.channel.as_str().to_string()),
        currency: Some(original.currency.code().to_string()),
        lines: Some(lines),
        notes: Some(format!("Replacement for {} ({})", ret.number, original.number)),
        payment_method: original.payment_method.clone(),
        shipping_service: original.shipping_service.clone().filter(|s| s != "pickup"),
        ..NewOrder::default()
    };
    let replacement = match orders::place_order(tx, ctx, &input).map_err(replacement_error)? {
        Placed::Created(order) | Placed::Existing(order) => order,
    };
    tx.execute(
        "UPDATE returns SET replacement_order_id = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        params![replacement.id, ctx.now.micros(), ret.id],
    )?;
    timeline(tx, ctx, ret, "replacement_created", json!({"order": replacement.number, "total": replacement.total}))?;
    let ret = get_return(tx, ret.id)?;
    let advance: bool =
        tx.query_one("SELECT advance_replacement FROM returns WHERE id = ?", params![ret.id])?.int(0)? != 0;
    if advance {
        let value: Decimal = ret
            .lines
            .iter()
            .map(|l| l.value - restocking_fee(l.value, l.restocking_fee_percent, l.reason, ret.currency))
            .sum();
        settle_exchange(tx, ctx, &ret, value)?;
    } else {
        let hold = HoldReason::new(HoldCode::AwaitingReturn, format!("ships once {} arrives", ret.number));
        orders::hold_with(tx, ctx, &replacement, hold)?;
    }
    Ok(())
}

fn replacement_error(error: orders::OrderError) -> AfterSalesError {
    match error {
        // The replacement's fields are the exchange's replacement lines.
        orders::OrderError::Invalid(invalid) => AfterSalesError::Invalid(Invalid(
            invalid
                .0
                .into_iter()
                .map(|mut e| {
                    e.field = e.field.replacen("lines", "replacement_lines", 1);
                    e
                })
                .collect(),
        )),
        other => AfterSalesError::Order(other),
    }
}

fn received_goods(ret: &Return) -> Vec<(String, i64)> {
    ret.lines.iter().filter(|l| l.received_quantity > 0).map(|l| (l.sku.clone(), l.received_quantity)).collect()
}

/// The returned value (less any fee) pays for the replacement as store credit; what the
/// replacement does not use goes back by the original method; what it costs beyond is
/// left due on it.
fn settle_exchange(tx: &mut dyn Tx, ctx: &Ctx, ret: &Return, value: Decimal) -> Result<(), AfterSalesError> {
    let Some(replacement_id) = ret.replacement_order_id else { return Ok(()) };
    let replacement = orders::get_order(tx, replacement_id)?;
    let reason = format!("exchange {}", ret.number);
    let goods = received_goods(ret);
    let towards_replacement = value.min(replacement.total);
    let back = value - towards_replacement;
    let mut refund_ids = Vec::new();
    if towards_replacement > Decimal::ZERO {
        let given = give_back(tx, ctx, ret.order_id, towards_replacement, &goods, &reason, true)?;
        refund_ids.extend(given.refund_ids);
        let method = payments::payment_settings(tx)?
            .methods
            .into_iter()
            .find(|m| m.kind == MethodKind::StoreCredit && m.enabled)
            .map(|m| m.code);
        if let (true, Some(method)) = (given.to_store_credit > Decimal::ZERO, method) {
            let payment = NewPayment {
                method: Some(method),
                amount: Some(AmountInput(given.to_store_credit.to_string())),
                reference: Some(ret.number.clone()),
            };
            payments::record_payment(tx, ctx, replacement_id, &payment)?;
        }
    }
    if back > Decimal::ZERO {
        refund_ids.extend(give_back(tx, ctx, ret.order_id, back, &goods, &reason, false)?.refund_ids);
    }
    record_refunds(tx, ret.id, &refund_ids, value)?;
    tx.execute("UPDATE returns SET settled = 1 WHERE id = ?", params![ret.id])?;
    let details = json!({"value": value, "towards_replacement": towards_replacement, "paid_back": back,
        "replacement": replacement.number, "still_due_on_replacement": (replacement.total - towards_replacement).max(Decimal::ZERO)});
    timeline(tx, ctx, ret, "exchange_settled", details)?;
    Ok(())
}

fn record_refunds(tx: &mut dyn Tx, id: i64, refund_ids: &[i64], amount: Decimal) -> Result<(), DbError> {
    let stored: Vec<i64> = tx
        .query_one("SELECT refund_ids FROM returns WHERE id = ?", params![id])?
        .opt_text(0)?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let all: Vec<i64> = stored.into_iter().chain(refund_ids.iter().copied()).collect();
    tx.execute(
        "UPDATE returns SET refund_ids = ?, refunded_e4 = refunded_e4 + ? WHERE id = ?",
        params![serde_json::to_string(&all).unwrap_or_default(), to_e4(amount), id],
    )?;
    Ok(())
}

fn mark_refunded(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<(), DbError> {
    tx.execute(
        "UPDATE returns SET status = 'refunded', refunded_at = ?, updated_at = ?, version = version + 1 WHERE id = ?",
        params![ctx.now.micros(), ctx.now.micros(), id],
    )?;
    Ok(())
}

fn timeline(tx: &mut dyn Tx, ctx: &Ctx, ret: &Return, kind: &str, details: serde_json::Value) -> Result<(), DbError> {
    let mut details = details;
    if let Some(map) = details.as_object_mut() {
        map.insert("return".into(), json!(ret.number));
    }
    orders::store::append_event(tx, ret.order_id, &ctx.actor, kind, &details, ctx.now)?;
    // Approved, rejected, received and refunded returns are told to the customer and to
    // subscribers; a request has its own event with the lines.
    let event = match kind {
        "return_approved" => "return.approved",
        "return_rejected" => "return.rejected",
        "return_received" => "return.received",
        "return_refunded" => "return.refunded",
        _ => return Ok(()),
    };
    let mut data = json!({"return_id": ret.id, "number": ret.number, "order_id": ret.order_id,
        "order_number": ret.order_number, "customer_id": ret.customer_id});
    if let (Some(map), Some(extra)) = (data.as_object_mut(), details.as_object()) {
        for key in ["reason", "amount"] {
            if let Some(value) = extra.get(key) {
                map.insert(key.into(), value.clone());
            }
        }
    }
    crate::events::record(tx, event, ("order", ret.order_id), &data, ctx.now)
}

const RETURN_COLUMNS: &str = "r.id, r.number, r.kind, r.status, r.decision_reason, r.order_id, o.number, r.customer_id, \
    c.name, r.notes, r.instructions, r.return_shipping, r.currency, r.value_e4, r.fee_e4, r.refund_e4, r.refunded_e4, \
    r.refund_ids, r.replacement_order_id, ro.number, r.settled, r.created_by, r.created_at, r.decided_by, r.decided_at, \
    r.received_at, r.refunded_at, r.version";

pub(crate) fn returns_where(
    tx: &mut dyn Tx,
    condition: &str,
    values: &[Value],
) -> Result<Vec<Return>, AfterSalesError> {
    let rows = tx.query(
        &format!(
            "SELECT {RETURN_COLUMNS} FROM returns r JOIN orders o ON o.id = r.order_id \
             JOIN customers c ON c.id = r.customer_id LEFT JOIN orders ro ON ro.id = r.replacement_order_id \
             WHERE {condition} ORDER BY r.id DESC LIMIT 200"
        ),
        values,
    )?;
    let mut out: Vec<Return> = rows.iter().map(return_row).collect::<Result<_, _>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<Value> = out.iter().map(|r| r.id.into()).collect();
    let marks = vec!["?"; ids.len()].join(", ");
    let lines = tx.query(
        &format!(
            "SELECT return_id, line_no, sku, name, quantity, reason, opened, policy, value_e4, fee_percent_e4, received, \
             disposition, note FROM return_lines WHERE return_id IN ({marks}) ORDER BY return_id, line_no"
        ),
        &ids,
    )?;
    for r in &lines {
        let return_id = r.int(0)?;
        if let Some(ret) = out.iter_mut().find(|x| x.id == return_id) {
            ret.lines.push(ReturnLine {
                line_no: r.int(1)?,
                sku: r.text(2)?,
                name: r.text(3)?,
                quantity: r.int(4)?,
                reason: ReturnReason::parse(&r.text(5)?).unwrap_or(ReturnReason::Other),
                opened: r.int(6)? != 0,
                policy: r.text(7)?,
                value: from_e4_in(r.int(8)?, ret.currency),
                restocking_fee_percent: ordo_domain::money::from_e4(r.int(9)?).normalize(),
                received_quantity: r.int(10)?,
                disposition: r.opt_text(11)?.as_deref().and_then(Disposition::parse),
                note: r.opt_text(12)?,
            });
        }
    }
    Ok(out)
}

fn return_row(r: &Row) -> Result<Return, DbError> {
    let currency = crate::catalog::store::currency(&r.text(12)?)?;
    let ts = |v: Option<i64>| v.map(Timestamp);
    Ok(Return {
        id: r.int(0)?,
        number: r.text(1)?,
        kind: r.text(2)?,
        status: ReturnStatus::parse(&r.text(3)?).unwrap_or(ReturnStatus::Cancelled),
        decision_reason: r.opt_text(4)?,
        order_id: r.int(5)?,
        order_number: r.text(6)?,
        customer_id: r.int(7)?,
        customer_name: r.text(8)?,
        lines: Vec::new(),
        notes: r.opt_text(9)?,
        instructions: r.opt_text(10)?,
        return_shipping: ShippingPayer::parse(&r.text(11)?).unwrap_or(ShippingPayer::Customer),
        currency,
        value: from_e4_in(r.int(13)?, currency),
        restocking_fee: from_e4_in(r.int(14)?, currency),
        refund_amount: from_e4_in(r.int(15)?, currency),
        refunded: from_e4_in(r.int(16)?, currency),
        refund_ids: r.opt_text(17)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        replacement_order_id: r.opt_int(18)?,
        replacement_order_number: r.opt_text(19)?,
        settled: r.int(20)? != 0,
        created_by: r.text(21)?,
        created_at: Timestamp(r.int(22)?),
        decided_by: r.opt_text(23)?,
        decided_at: ts(r.opt_int(24)?),
        received_at: ts(r.opt_int(25)?),
        refunded_at: ts(r.opt_int(26)?),
        version: r.int(27)?,
    })
}

/// Kept for the policy settings' validation: a policy must make sense on its own.
pub(crate) fn check_policy(i: usize, policy: &ReturnPolicy, v: &mut Violations) {
    let at = |name: &str| format!("return_policies[{i}].{name}");
    if policy.name.trim().is_empty() || policy.name.len() > 100 {
        v.add(at("name"), "is required (at most 100 characters)");
    }
    if !(0..=3650).contains(&policy.window_days) {
        v.add(at("window_days"), "must be between 0 and 3650");
    }
    if policy.restocking_fee_percent < Decimal::ZERO || policy.restocking_fee_percent > Decimal::from(100) {
        v.add(at("restocking_fee_percent"), "must be between 0 and 100");
    }
}
