use super::model::*;
use crate::catalog::store::currency;
use crate::db::{DbError, Row, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::money::{from_e4_in, to_e4};
use ordo_domain::payments::{MethodKind, PaymentState, RefundState};
use rust_decimal::Decimal;

const PAYMENT_COLUMNS: &str = "p.id, p.order_id, o.number, p.customer_id, p.method, p.kind, p.status, p.currency, \
    p.amount_e4, p.applied_e4, p.refunded_e4, p.reference, p.provider, p.provider_ref, p.failure_reason, p.created_by, \
    p.created_at, p.updated_at";

fn payment(row: &Row) -> Result<Payment, DbError> {
    let currency = currency(&row.text(7)?)?;
    let status = PaymentState::parse(&row.text(6)?).ok_or_else(|| DbError::Decode("payment status".into()))?;
    let provider_ref = row.opt_text(13)?;
    Ok(Payment {
        id: row.int(0)?,
        order_id: row.int(1)?,
        order_number: row.text(2)?,
        customer_id: row.int(3)?,
        method: row.text(4)?,
        kind: MethodKind::parse(&row.text(5)?).ok_or_else(|| DbError::Decode("payment kind".into()))?,
        status,
        currency,
        amount: from_e4_in(row.int(8)?, currency),
        applied: from_e4_in(row.int(9)?, currency),
        refunded: from_e4_in(row.int(10)?, currency),
        reference: row.opt_text(11)?,
        provider: row.opt_text(12)?,
        redirect_url: provider_ref
            .as_ref()
            .filter(|_| status == PaymentState::Pending)
            .map(|r| format!("/sandbox/pay/{r}")),
        provider_ref,
        failure_reason: row.opt_text(14)?,
        created_by: row.text(15)?,
        created_at: Timestamp(row.int(16)?),
        updated_at: Timestamp(row.int(17)?),
    })
}

pub fn insert_payment(tx: &mut dyn Tx, p: &Payment) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO payments (order_id, customer_id, method, kind, currency, amount_e4, applied_e4, refunded_e4, status, \
         reference, provider, provider_ref, failure_reason, created_by, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            p.order_id, p.customer_id, p.method.as_str(), p.kind.as_str(), p.currency.code(), to_e4(p.amount),
            to_e4(p.applied), to_e4(p.refunded), p.status.as_str(), p.reference.clone(), p.provider.clone(),
            p.provider_ref.clone(), p.failure_reason.clone(), p.created_by.as_str(), p.created_at.micros(),
            p.updated_at.micros()
        ],
    )
}

pub fn payment_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Payment>, DbError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(payment).transpose()
}

/// Locks the payment row for this transaction.
pub fn lock_payment(tx: &mut dyn Tx, id: i64) -> Result<Option<Payment>, DbError> {
    if tx.execute("UPDATE payments SET updated_at = updated_at WHERE id = ?", params![id])? == 0 {
        return Ok(None);
    }
    payment_by_id(tx, id)
}

pub fn payment_by_provider_ref(tx: &mut dyn Tx, provider: &str, provider_ref: &str) -> Result<Option<i64>, DbError> {
    tx.query_opt("SELECT id FROM payments WHERE provider = ? AND provider_ref = ?", params![provider, provider_ref])?
        .map(|r| r.int(0))
        .transpose()
}

pub fn order_payments(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<Payment>, DbError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.order_id = ? ORDER BY p.id"
    );
    tx.query(&sql, params![order_id])?.iter().map(payment).collect()
}

pub fn set_payment(
    tx: &mut dyn Tx,
    id: i64,
    status: PaymentState,
    applied: Decimal,
    failure_reason: Option<&str>,
    now: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE payments SET status = ?, applied_e4 = ?, failure_reason = ?, updated_at = ? WHERE id = ?",
        params![status.as_str(), to_e4(applied), failure_reason, now.micros(), id],
    )?;
    Ok(())
}

pub fn add_refunded(tx: &mut dyn Tx, id: i64, amount: Decimal, now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE payments SET refunded_e4 = refunded_e4 + ?, updated_at = ? WHERE id = ?",
        params![to_e4(amount), now.micros(), id],
    )?;
    Ok(())
}

/// Remembers a provider event; false when it was seen before (a replay or a retry).
pub fn first_sight_of_event(tx: &mut dyn Tx, provider: &str, event_id: &str, now: Timestamp) -> Result<bool, DbError> {
    if tx
        .query_opt("SELECT 1 FROM provider_events WHERE provider = ? AND event_id = ?", params![provider, event_id])?
        .is_some()
    {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO provider_events (provider, event_id, received_at) VALUES (?, ?, ?)",
        params![provider, event_id, now.micros()],
    )?;
    Ok(true)
}

/// Changes to an order's money, ×10^4.
#[derive(Debug, Default, Clone, Copy)]
pub struct MoneyDelta {
    pub paid: i64,
    pub on_account: i64,
    pub authorized: i64,
    pub refunded: i64,
    pub credited: i64,
    pub invoiced: i64,
}

/// Moves an order's money and re-derives its payment status from it.
pub fn change_order_money(tx: &mut dyn Tx, order_id: i64, d: MoneyDelta, now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE orders SET paid_e4 = paid_e4 + ?, on_account_e4 = on_account_e4 + ?, authorized_e4 = authorized_e4 + ?, \
         refunded_e4 = refunded_e4 + ?, credited_e4 = credited_e4 + ?, invoiced_e4 = invoiced_e4 + ?, \
         version = version + 1, updated_at = ? WHERE id = ?",
        params![d.paid, d.on_account, d.authorized, d.refunded, d.credited, d.invoiced, now.micros(), order_id],
    )?;
    let order =
        crate::orders::store::header_by_id(tx, order_id)?.ok_or_else(|| DbError::Decode("order vanished".into()))?;
    let status = order.money().status();
    if status != order.payment_status {
        tx.execute("UPDATE orders SET payment_status = ? WHERE id = ?", params![status.as_str(), order_id])?;
    }
    Ok(())
}

const REFUND_COLUMNS: &str = "r.id, r.payment_id, r.order_id, r.status, r.amount_e4, p.currency, r.reason, r.to_store_credit, \
    r.credit_note_id, r.requested_by, r.requested_at, r.decided_by, r.decided_at";

fn refund(row: &Row) -> Result<Refund, DbError> {
    let currency = currency(&row.text(5)?)?;
    Ok(Refund {
        id: row.int(0)?,
        payment_id: row.int(1)?,
        order_id: row.int(2)?,
        status: RefundState::parse(&row.text(3)?).ok_or_else(|| DbError::Decode("refund status".into()))?,
        amount: from_e4_in(row.int(4)?, currency),
        currency,
        reason: row.text(6)?,
        to_store_credit: row.bool(7)?,
        credit_note_id: row.opt_int(8)?,
        requested_by: row.text(9)?,
        requested_at: Timestamp(row.int(10)?),
        decided_by: row.opt_text(11)?,
        decided_at: row.opt_int(12)?.map(Timestamp),
    })
}

pub fn insert_refund(tx: &mut dyn Tx, r: &Refund) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO refunds (payment_id, order_id, amount_e4, reason, to_store_credit, status, credit_note_id, \
         requested_by, requested_at, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            r.payment_id,
            r.order_id,
            to_e4(r.amount),
            r.reason.as_str(),
            r.to_store_credit,
            r.status.as_str(),
            r.credit_note_id,
            r.requested_by.as_str(),
            r.requested_at.micros(),
            r.decided_by.clone(),
            r.decided_at.map(|t| t.micros())
        ],
    )
}

pub fn refund_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Refund>, DbError> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(refund).transpose()
}

pub fn refunds(tx: &mut dyn Tx, status: Option<RefundState>, order_id: Option<i64>) -> Result<Vec<Refund>, DbError> {
    let mut filter = crate::db::Filter::new();
    filter.when("r.status = ?", status.map(|s| vec![s.as_str()]));
    filter.when("r.order_id = ?", order_id.map(|id| vec![id]));
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds r JOIN payments p ON p.id = r.payment_id{} ORDER BY r.id DESC LIMIT 200",
        filter.sql()
    );
    tx.query(&sql, &filter.params)?.iter().map(refund).collect()
}

/// Decides a pending refund; false if someone else decided it first.
pub fn decide_refund(
    tx: &mut dyn Tx,
    id: i64,
    status: RefundState,
    credit_note_id: Option<i64>,
    actor: &str,
    now: Timestamp,
) -> Result<bool, DbError> {
    Ok(tx.execute(
        "UPDATE refunds SET status = ?, credit_note_id = ?, decided_by = ?, decided_at = ? \
         WHERE id = ? AND status = 'pending_approval'",
        params![status.as_str(), credit_note_id, actor, now.micros(), id],
    )? == 1)
}
