//! Payments and refunds: one function per command, each in the caller's transaction, each
//! posting its ledger entry there too.

use super::ledger::{self, EntryOf};
use super::methods::payment_settings;
use super::model::*;
use super::provider::{self, Outcome, SessionRequest};
use super::store::{self, MoneyDelta};
use crate::common::{AmountInput, Ctx};
use crate::db::Tx;
use crate::orders::{self, Order};
use ordo_domain::checks::{HoldCode, HoldReason};
use ordo_domain::money::{MAX_AMOUNT, to_e4};
use ordo_domain::orders::OrderStatus;
use ordo_domain::payments::{Account, Journal, MethodConfig, MethodKind, PaymentState, RefundState};
use ordo_domain::validation::{FieldError, Violations, optional_text};
use ordo_domain::{Currency, Invalid};
use rust_decimal::Decimal;
use serde_json::json;

fn order_of(tx: &mut dyn Tx, id: i64) -> Result<Order, PaymentError> {
    orders::store::lock_header(tx, id)?.ok_or(PaymentError::OrderNotFound(id))
}

/// A positive amount in the order's currency, no finer than its minor unit.
pub fn amount_field(field: &str, raw: Option<&AmountInput>, currency: Currency) -> Result<Decimal, FieldError> {
    let amount = AmountInput::required(field, raw, false)?;
    if amount <= Decimal::ZERO {
        return Err(FieldError::new(field, "must be more than 0"));
    }
    if currency.round(amount) != amount {
        return Err(FieldError::new(
            field,
            format!("{} has {} decimal places", currency.code(), currency.minor_units()),
        ));
    }
    if amount > Decimal::from(MAX_AMOUNT) {
        return Err(FieldError::new(field, "is too large"));
    }
    Ok(amount)
}

/// Records a payment on an order. Cash, bank transfers and COD are captured at once;
/// `credit` settles the order on net terms; store credit draws on the customer's balance;
/// an online method opens a session at its provider and waits for the signed callback.
pub fn record_payment(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, input: &NewPayment) -> Result<Payment, PaymentError> {
    let order = order_of(tx, order_id)?;
    let settings = payment_settings(tx)?;
    let mut v = Violations::new();
    let method: Option<MethodConfig> = match input.method.as_deref().map(str::trim) {
        None | Some("") => v.check(Err(FieldError::new("method", "is required"))),
        Some(code) => match settings.methods.iter().find(|m| m.code == code) {
            Some(m) if m.enabled => Some(m.clone()),
            Some(m) => v.check(Err(FieldError::new("method", format!("{} is switched off", m.name)))),
            None => {
                let codes: Vec<&str> = settings.methods.iter().map(|m| m.code.as_str()).collect();
                v.check(Err(FieldError::new("method", format!("must be one of {}", codes.join(", ")))))
            }
        },
    };
    let amount = v.check(amount_field("amount", input.amount.as_ref(), order.currency));
    let reference = v.check(optional_text("reference", input.reference.as_deref(), 200)).flatten();
    v.into_result()?;
    let (Some(method), Some(amount)) = (method, amount) else { unreachable!("checked above") };
    if order.status == OrderStatus::Cancelled {
        return Err(PaymentError::Conflict(format!("{} is cancelled: it takes no payments", order.number)));
    }
    let money = order.money();
    let mut payment = Payment {
        id: 0,
        order_id,
        order_number: order.number.clone(),
        customer_id: order.customer_id,
        method: method.code.clone(),
        kind: method.kind,
        status: PaymentState::Pending,
        currency: order.currency,
        amount,
        applied: Decimal::ZERO,
        refunded: Decimal::ZERO,
        reference,
        provider: None,
        provider_ref: None,
        redirect_url: None,
        failure_reason: None,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    match method.kind {
        MethodKind::Terms => {
            let customer = crate::customers::store::by_id(tx, order.customer_id)?
                .ok_or(PaymentError::CustomerNotFound(order.customer_id))?;
            if customer.customer.payment_terms == "prepaid" {
                return Err(Invalid::field("method", "the customer has no net terms: they prepay").into());
            }
            let open = money.due() - money.on_account;
            if amount > open {
                return Err(Invalid::field("amount", format!("at most {open} is left to settle on account")).into());
            }
            payment.status = PaymentState::OnAccount;
            payment.id = store::insert_payment(tx, &payment)?;
            store::change_order_money(
                tx,
                order_id,
                MoneyDelta { on_account: to_e4(amount), ..Default::default() },
                ctx.now,
            )?;
            received(tx, ctx, &order, &payment, "settled on account")?;
        }
        MethodKind::StoreCredit => {
            let balance = ledger::store_credit(tx, order.customer_id, order.currency)?;
            if amount > balance {
                return Err(Invalid::field("amount", format!("the customer has {balance} of store credit")).into());
            }
            if amount > money.due() {
                return Err(Invalid::field("amount", format!("only {} is due", money.due())).into());
            }
            payment.id = store::insert_payment(tx, &payment)?;
            capture(tx, ctx, &order, &mut payment)?;
        }
        MethodKind::Online => {
            let code = method.provider.clone().unwrap_or_default();
            let adapter = provider::provider(tx, &code)?.ok_or(PaymentError::ProviderNotFound(code.clone()))?;
            let session = adapter
                .create_session(&SessionRequest {
                    payment_id: 0,
                    order_number: &order.number,
                    amount,
                    currency: order.currency,
                    manual_capture: method.manual_capture,
                })
                .map_err(PaymentError::Conflict)?;
            payment.provider = Some(code);
            payment.redirect_url = Some(session.redirect_url);
            payment.provider_ref = Some(session.provider_ref);
            payment.id = store::insert_payment(tx, &payment)?;
            orders::store::append_event(
                tx,
                order_id,
                &ctx.actor,
                "payment_requested",
                &json!({"payment_id": payment.id, "method": payment.method, "amount": amount}),
                ctx.now,
            )?;
        }
        MethodKind::BankTransfer | MethodKind::Cod | MethodKind::Cash => {
            payment.id = store::insert_payment(tx, &payment)?;
            capture(tx, ctx, &order, &mut payment)?;
        }
    }
    get_payment(tx, payment.id)
}

/// Money came in: settle what the order owes, put any excess on the customer's credit,
/// post it, and lift a payment-failed hold.
fn capture(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, payment: &mut Payment) -> Result<(), PaymentError> {
    let order = order_of(tx, order.id)?;
    let (applied, excess) = order.money().apply(payment.amount);
    let journal = Journal::new()
        .debit(Account::for_method(payment.kind), payment.amount)
        .credit(Account::Receivables, applied)
        .credit(Account::CustomerCredit, excess);
    let source = format!("payment:{}", payment.id);
    let memo = format!("{} {} for {}", payment.method, payment.amount, order.number);
    let of = EntryOf {
        kind: "payment",
        source: &source,
        memo: &memo,
        currency: order.currency,
        customer_id: Some(order.customer_id),
        supplier_id: None,
        order_id: Some(order.id),
    };
    ledger::post(tx, ctx, &of, journal)?;
    let authorized = if payment.status == PaymentState::Authorized { -to_e4(payment.amount) } else { 0 };
    let delta = MoneyDelta { paid: to_e4(applied), authorized, ..Default::default() };
    store::change_order_money(tx, order.id, delta, ctx.now)?;
    store::set_payment(tx, payment.id, PaymentState::Captured, applied, None, ctx.now)?;
    payment.status = PaymentState::Captured;
    payment.applied = applied;
    let note =
        if excess > Decimal::ZERO { format!("{excess} more than due: kept as store credit") } else { String::new() };
    received(tx, ctx, &order, payment, &note)?;
    orders::lift_hold(tx, ctx, order.id, HoldCode::PaymentFailed, "payment received")?;
    Ok(())
}

fn received(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, payment: &Payment, note: &str) -> Result<(), PaymentError> {
    let details = json!({
        "payment_id": payment.id, "method": payment.method, "amount": payment.amount, "status": payment.status,
        "note": (!note.is_empty()).then_some(note),
    });
    orders::store::append_event(tx, order.id, &ctx.actor, "payment_received", &details, ctx.now)?;
    let data = json!({
        "payment_id": payment.id, "order_id": order.id, "order_number": order.number, "method": payment.method,
        "amount": order.currency.show(payment.amount), "currency": order.currency.code(), "status": payment.status,
    });
    crate::events::record(tx, "payment.received", ("order", order.id), &data, ctx.now)?;
    Ok(())
}

pub fn get_payment(tx: &mut dyn Tx, id: i64) -> Result<Payment, PaymentError> {
    store::payment_by_id(tx, id)?.ok_or(PaymentError::NotFound(id))
}

pub fn order_payments(tx: &mut dyn Tx, order_id: i64) -> Result<PaymentList, PaymentError> {
    orders::store::header_by_id(tx, order_id)?.ok_or(PaymentError::OrderNotFound(order_id))?;
    Ok(PaymentList { items: store::order_payments(tx, order_id)? })
}

fn locked_payment(tx: &mut dyn Tx, id: i64) -> Result<Payment, PaymentError> {
    store::lock_payment(tx, id)?.ok_or(PaymentError::NotFound(id))
}

/// Captures an authorised online payment (e.g. when the goods ship).
pub fn capture_payment(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Payment, PaymentError> {
    let mut payment = locked_payment(tx, id)?;
    if payment.status != PaymentState::Authorized {
        return Err(PaymentError::Conflict(format!(
            "payment {id} is {}: only an authorised one is captured",
            payment.status
        )));
    }
    if let (Some(code), Some(reference)) = (payment.provider.clone(), payment.provider_ref.clone()) {
        let adapter = provider::provider(tx, &code)?.ok_or(PaymentError::ProviderNotFound(code))?;
        adapter.capture(&reference, payment.amount).map_err(PaymentError::Conflict)?;
    }
    let order = order_of(tx, payment.order_id)?;
    capture(tx, ctx, &order, &mut payment)?;
    get_payment(tx, id)
}

/// Lets an authorisation or an unfinished session go; no money moved, nothing is posted.
pub fn void_payment(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Payment, PaymentError> {
    let payment = locked_payment(tx, id)?;
    if !matches!(payment.status, PaymentState::Authorized | PaymentState::Pending) {
        return Err(PaymentError::Conflict(format!(
            "payment {id} is {}: only a pending or authorised one is voided",
            payment.status
        )));
    }
    if let (Some(code), Some(reference)) = (payment.provider.clone(), payment.provider_ref.clone()) {
        let adapter = provider::provider(tx, &code)?.ok_or(PaymentError::ProviderNotFound(code))?;
        adapter.void(&reference).map_err(PaymentError::Conflict)?;
    }
    if payment.status == PaymentState::Authorized {
        let delta = MoneyDelta { authorized: -to_e4(payment.amount), ..Default::default() };
        store::change_order_money(tx, payment.order_id, delta, ctx.now)?;
    }
    store::set_payment(tx, id, PaymentState::Voided, Decimal::ZERO, None, ctx.now)?;
    let details = json!({"payment_id": id, "amount": payment.amount});
    orders::store::append_event(tx, payment.order_id, &ctx.actor, "payment_voided", &details, ctx.now)?;
    get_payment(tx, id)
}

/// A provider's callback: verified (signature and age), applied once. A replayed event
/// is answered as a duplicate and changes nothing; so is news about a payment that has
/// already moved on.
pub fn handle_callback(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    provider_code: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<CallbackResult, PaymentError> {
    let adapter =
        provider::provider(tx, provider_code)?.ok_or_else(|| PaymentError::ProviderNotFound(provider_code.into()))?;
    let callback = adapter.verify_callback(signature, body, ctx.now).map_err(PaymentError::BadSignature)?;
    let duplicate = CallbackResult { result: "duplicate".into(), payment_id: None, status: None };
    if !store::first_sight_of_event(tx, provider_code, &callback.event_id, ctx.now)? {
        return Ok(duplicate);
    }
    let id = store::payment_by_provider_ref(tx, provider_code, &callback.provider_ref)?
        .ok_or_else(|| PaymentError::Conflict(format!("no payment has reference {}", callback.provider_ref)))?;
    let mut payment = locked_payment(tx, id)?;
    let moved_on = |payment: &Payment| CallbackResult {
        result: "duplicate".into(),
        payment_id: Some(payment.id),
        status: Some(payment.status),
    };
    let order = order_of(tx, payment.order_id)?;
    match (&callback.outcome, payment.status) {
        (Outcome::Captured, PaymentState::Pending | PaymentState::Authorized) => {
            capture(tx, ctx, &order, &mut payment)?;
        }
        (Outcome::Authorized, PaymentState::Pending) => {
            let delta = MoneyDelta { authorized: to_e4(payment.amount), ..Default::default() };
            store::change_order_money(tx, order.id, delta, ctx.now)?;
            store::set_payment(tx, id, PaymentState::Authorized, Decimal::ZERO, None, ctx.now)?;
            payment.status = PaymentState::Authorized;
            received(tx, ctx, &order, &payment, "authorised; captured later")?;
        }
        (Outcome::Failed { reason }, PaymentState::Pending) => {
            store::set_payment(tx, id, PaymentState::Failed, Decimal::ZERO, Some(reason), ctx.now)?;
            payment.status = PaymentState::Failed;
            let details = json!({"payment_id": id, "amount": payment.amount, "reason": reason});
            orders::store::append_event(tx, order.id, &ctx.actor, "payment_failed", &details, ctx.now)?;
            let data = json!({"payment_id": id, "order_id": order.id, "order_number": order.number, "reason": reason});
            crate::events::record(tx, "payment.failed", ("order", order.id), &data, ctx.now)?;
            // Only an order nobody has paid yet goes to the exception queue; the customer may retry.
            if order.money().paid.is_zero() {
                let hold = HoldReason::new(HoldCode::PaymentFailed, format!("payment {id} failed: {reason}"));
                orders::hold_with(tx, ctx, &order, hold)?;
            }
        }
        _ => return Ok(moved_on(&payment)),
    }
    Ok(CallbackResult { result: "processed".into(), payment_id: Some(id), status: Some(payment.status) })
}

/// Refunds part or all of a captured payment, to the original method or as store credit.
/// Above the configured amount the refund waits for finance; otherwise it is paid now.
pub fn refund_payment(tx: &mut dyn Tx, ctx: &Ctx, payment_id: i64, input: &NewRefund) -> Result<Refund, PaymentError> {
    let payment = locked_payment(tx, payment_id)?;
    let mut v = Violations::new();
    let amount = v.check(amount_field("amount", input.amount.as_ref(), payment.currency));
    let reason = v.check(ordo_domain::validation::required_text("reason", input.reason.as_deref(), 500));
    v.into_result()?;
    let (Some(amount), Some(reason)) = (amount, reason) else { unreachable!("checked above") };
    if payment.status != PaymentState::Captured {
        return Err(PaymentError::Conflict(format!(
            "payment {payment_id} is {}: only captured money is refunded",
            payment.status
        )));
    }
    let pending: Decimal = store::refunds(tx, Some(RefundState::PendingApproval), Some(payment.order_id))?
        .iter()
        .filter(|r| r.payment_id == payment_id)
        .map(|r| r.amount)
        .sum();
    let refundable = payment.amount - payment.refunded - pending;
    if amount > refundable {
        return Err(Invalid::field("amount", format!("at most {refundable} of this payment can be refunded")).into());
    }
    let settings = payment_settings(tx)?;
    let needs_approval = settings.refund_approval_above.is_some_and(|limit| amount > limit);
    let mut refund = Refund {
        id: 0,
        payment_id,
        order_id: payment.order_id,
        status: if needs_approval { RefundState::PendingApproval } else { RefundState::Completed },
        amount,
        currency: payment.currency,
        reason,
        to_store_credit: input.to_store_credit.unwrap_or(payment.kind == MethodKind::StoreCredit),
        credit_note_id: None,
        requested_by: ctx.actor.clone(),
        requested_at: ctx.now,
        decided_by: None,
        decided_at: None,
    };
    if !needs_approval {
        refund.credit_note_id = pay_back(tx, ctx, &payment, &refund)?;
        refund.decided_by = Some(ctx.actor.clone());
        refund.decided_at = Some(ctx.now);
    }
    refund.id = store::insert_refund(tx, &refund)?;
    let details = json!({"refund_id": refund.id, "payment_id": payment_id, "amount": amount, "status": refund.status,
        "reason": refund.reason, "to_store_credit": refund.to_store_credit});
    orders::store::append_event(tx, payment.order_id, &ctx.actor, "refund_requested", &details, ctx.now)?;
    Ok(refund)
}

/// Moves the money of a refund: first from what the payment left as store credit, then
/// from what it settled on the order (with a credit note when the order was invoiced).
fn pay_back(tx: &mut dyn Tx, ctx: &Ctx, payment: &Payment, refund: &Refund) -> Result<Option<i64>, PaymentError> {
    let order = order_of(tx, payment.order_id)?;
    let left_as_credit = (payment.amount - payment.applied - payment.refunded).max(Decimal::ZERO);
    let from_credit = refund.amount.min(left_as_credit);
    let from_order = refund.amount - from_credit;
    if from_credit > Decimal::ZERO && !refund.to_store_credit {
        let balance = ledger::store_credit(tx, order.customer_id, order.currency)?;
        if balance < from_credit {
            return Err(PaymentError::Conflict(format!(
                "{from_credit} of this payment was store credit, but the customer has only {balance} left"
            )));
        }
    }
    if refund.to_store_credit && payment.kind != MethodKind::StoreCredit {
        // Only the part that settled the order becomes new credit; the rest is credit already.
        let journal =
            Journal::new().debit(Account::Receivables, from_order).credit(Account::CustomerCredit, from_order);
        post_refund(tx, ctx, &order, payment, journal)?;
    } else if let Some(adapter_code) = payment.provider.clone() {
        let adapter = provider::provider(tx, &adapter_code)?.ok_or(PaymentError::ProviderNotFound(adapter_code))?;
        adapter.refund(payment.provider_ref.as_deref().unwrap_or(""), refund.amount).map_err(PaymentError::Conflict)?;
        post_refund(tx, ctx, &order, payment, refund_journal(payment, from_order, from_credit, refund.amount))?;
    } else {
        post_refund(tx, ctx, &order, payment, refund_journal(payment, from_order, from_credit, refund.amount))?;
    }
    store::add_refunded(tx, payment.id, refund.amount, ctx.now)?;
    let delta = MoneyDelta { paid: -to_e4(from_order), refunded: to_e4(refund.amount), ..Default::default() };
    store::change_order_money(tx, order.id, delta, ctx.now)?;
    let credit_note = super::invoices::credit_for_refund(tx, ctx, &order, from_order, &refund.reason)?;
    let data = json!({"payment_id": payment.id, "order_id": order.id, "order_number": order.number,
        "amount": order.currency.show(refund.amount), "currency": order.currency.code(), "to_store_credit": refund.to_store_credit});
    crate::events::record(tx, "refund.issued", ("order", order.id), &data, ctx.now)?;
    Ok(credit_note)
}

fn refund_journal(payment: &Payment, from_order: Decimal, from_credit: Decimal, amount: Decimal) -> Journal {
    Journal::new()
        .debit(Account::Receivables, from_order)
        .debit(Account::CustomerCredit, from_credit)
        .credit(Account::for_method(payment.kind), amount)
}

fn post_refund(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    payment: &Payment,
    journal: Journal,
) -> Result<(), PaymentError> {
    let source = format!("refund:payment:{}", payment.id);
    let memo = format!("refund of {} payment on {}", payment.method, order.number);
    let of = EntryOf {
        kind: "refund",
        source: &source,
        memo: &memo,
        currency: order.currency,
        customer_id: Some(order.customer_id),
        supplier_id: None,
        order_id: Some(order.id),
    };
    ledger::post(tx, ctx, &of, journal)
}

/// Finance approves a refund that waited: the money moves now.
pub fn approve_refund(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Refund, PaymentError> {
    let refund = store::refund_by_id(tx, id)?.ok_or(PaymentError::RefundNotFound(id))?;
    if refund.status != RefundState::PendingApproval {
        return Err(PaymentError::Conflict(format!("refund {id} is {} already", refund.status)));
    }
    let payment = locked_payment(tx, refund.payment_id)?;
    if refund.amount > payment.amount - payment.refunded {
        return Err(PaymentError::Conflict(format!("refund {id} is more than is left of payment {}", payment.id)));
    }
    let credit_note = pay_back(tx, ctx, &payment, &refund)?;
    if !store::decide_refund(tx, id, RefundState::Completed, credit_note, &ctx.actor, ctx.now)? {
        return Err(PaymentError::Conflict(format!("refund {id} was decided meanwhile")));
    }
    let details = json!({"refund_id": id, "amount": refund.amount, "status": "completed"});
    orders::store::append_event(tx, refund.order_id, &ctx.actor, "refund_approved", &details, ctx.now)?;
    store::refund_by_id(tx, id)?.ok_or(PaymentError::RefundNotFound(id))
}

pub fn reject_refund(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Refund, PaymentError> {
    let refund = store::refund_by_id(tx, id)?.ok_or(PaymentError::RefundNotFound(id))?;
    if !store::decide_refund(tx, id, RefundState::Rejected, None, &ctx.actor, ctx.now)? {
        return Err(PaymentError::Conflict(format!("refund {id} is {} already", refund.status)));
    }
    let details = json!({"refund_id": id, "amount": refund.amount, "status": "rejected"});
    orders::store::append_event(tx, refund.order_id, &ctx.actor, "refund_rejected", &details, ctx.now)?;
    store::refund_by_id(tx, id)?.ok_or(PaymentError::RefundNotFound(id))
}

pub fn list_refunds(tx: &mut dyn Tx, status: Option<&str>) -> Result<RefundList, PaymentError> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            RefundState::parse(text)
                .ok_or_else(|| Invalid::field("status", format!("must be one of {}", RefundState::choices())))?,
        ),
    };
    Ok(RefundList { items: store::refunds(tx, status, None)? })
}
