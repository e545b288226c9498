use super::model::*;
use crate::catalog::store::currency;
use crate::db::{DbError, Filter, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::money::from_e4_in;
use ordo_domain::payables::{BillStatus, Mismatch};

const BILL_COLUMNS: &str = "b.id, b.number, b.supplier_ref, b.supplier_id, s.name, b.purchase_order_id, o.number, \
    b.status, b.currency, b.bill_date, b.due_date, b.subtotal_e4, b.tax_e4, b.total_e4, b.paid_e4, b.approved_by, \
    b.approved_at, b.approval_note, b.version, b.created_by, b.created_at";
const BILL_FROM: &str = "supplier_bills b JOIN suppliers s ON s.id = b.supplier_id \
    JOIN purchase_orders o ON o.id = b.purchase_order_id";

fn bill(row: &Row) -> Result<Bill, DbError> {
    let currency = currency(&row.text(8)?)?;
    let money = |i: usize| -> Result<rust_decimal::Decimal, DbError> { Ok(from_e4_in(row.int(i)?, currency)) };
    let status_text = row.text(7)?;
    let status =
        BillStatus::parse(&status_text).ok_or_else(|| DbError::Decode(format!("bill status {status_text}")))?;
    let (total, paid) = (money(13)?, money(14)?);
    Ok(Bill {
        id: row.int(0)?,
        number: row.text(1)?,
        supplier_ref: row.text(2)?,
        supplier_id: row.int(3)?,
        supplier_name: row.text(4)?,
        purchase_order_id: row.int(5)?,
        purchase_order_number: row.text(6)?,
        status,
        currency,
        bill_date: row.text(9)?,
        due_date: row.text(10)?,
        subtotal: money(11)?,
        tax: money(12)?,
        total,
        paid,
        open: if status == BillStatus::Voided { currency.round(rust_decimal::Decimal::ZERO) } else { total - paid },
        approved_by: row.opt_text(15)?,
        approved_at: row.opt_int(16)?.map(Timestamp),
        approval_note: row.opt_text(17)?,
        version: row.int(18)?,
        created_by: row.text(19)?,
        created_at: Timestamp(row.int(20)?),
        matched: true,
        lines: Vec::new(),
        payments: Vec::new(),
    })
}

pub fn bill_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Bill>, DbError> {
    let sql = format!("SELECT {BILL_COLUMNS} FROM {BILL_FROM} WHERE b.id = ?");
    let Some(mut bill) = tx.query_opt(&sql, params![id])?.as_ref().map(bill).transpose()? else {
        return Ok(None);
    };
    let lines = tx.query(
        "SELECT p.sku, p.name, l.quantity, l.unit_cost_e4, l.order_unit_cost_e4, l.mismatches FROM supplier_bill_lines l \
         JOIN products p ON p.id = l.product_id WHERE l.bill_id = ? ORDER BY l.line_no",
        params![id],
    )?;
    for r in lines {
        let (quantity, unit_cost) = (r.int(2)?, from_e4_in(r.int(3)?, bill.currency));
        let mismatches: Vec<Mismatch> =
            serde_json::from_str(&r.text(5)?).map_err(|e| DbError::Decode(e.to_string()))?;
        bill.matched &= mismatches.is_empty();
        bill.lines.push(BillLine {
            sku: r.text(0)?,
            name: r.text(1)?,
            quantity,
            unit_cost,
            order_unit_cost: from_e4_in(r.int(4)?, bill.currency),
            line_total: bill.currency.round(unit_cost * rust_decimal::Decimal::from(quantity)),
            mismatches,
        });
    }
    let payments = tx.query(
        "SELECT id, bill_id, amount_e4, currency, method, reference, paid_at, actor FROM supplier_payments \
         WHERE bill_id = ? ORDER BY id",
        params![id],
    )?;
    for r in payments {
        let currency = currency(&r.text(3)?)?;
        bill.payments.push(SupplierPayment {
            id: r.int(0)?,
            bill_id: r.int(1)?,
            amount: from_e4_in(r.int(2)?, currency),
            currency,
            method: r.text(4)?,
            reference: r.opt_text(5)?,
            paid_at: Timestamp(r.int(6)?),
            actor: r.text(7)?,
        });
    }
    Ok(Some(bill))
}

pub fn bill_ids(
    tx: &mut dyn Tx,
    status: Option<BillStatus>,
    supplier_id: Option<i64>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    let mut filter = Filter::new();
    filter.when("b.status = ?", status.map(|s| vec![s.as_str().to_string()]));
    filter.when("b.supplier_id = ?", supplier_id.map(|id| vec![id]));
    filter.when("b.id < ?", before_id.map(|id| vec![id]));
    let sql = format!("SELECT b.id FROM supplier_bills b{} ORDER BY b.id DESC LIMIT {limit}", filter.sql());
    let params: Vec<Value> = filter.params;
    tx.query(&sql, &params)?.iter().map(|r| r.int(0)).collect()
}

/// The number under which this supplier's invoice was already entered, if it was.
pub fn entered_as(tx: &mut dyn Tx, supplier_id: i64, supplier_ref: &str) -> Result<Option<String>, DbError> {
    tx.query_opt(
        "SELECT number FROM supplier_bills WHERE supplier_id = ? AND supplier_ref = ?",
        params![supplier_id, supplier_ref],
    )?
    .map(|r| r.text(0))
    .transpose()
}

/// Locks the bill row (see `inventory::store::lock_level`).
pub fn lock_bill(tx: &mut dyn Tx, id: i64) -> Result<bool, DbError> {
    Ok(tx.execute("UPDATE supplier_bills SET version = version WHERE id = ?", params![id])? == 1)
}

/// The lines of a bill as stored: purchase order line and quantity.
pub fn bill_line_rows(tx: &mut dyn Tx, bill_id: i64) -> Result<Vec<(i64, i64)>, DbError> {
    tx.query(
        "SELECT order_line_no, quantity FROM supplier_bill_lines WHERE bill_id = ? ORDER BY line_no",
        params![bill_id],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.int(1)?)))
    .collect()
}

/// A bill still owed, for the aging.
pub struct OpenBill {
    pub supplier_id: i64,
    pub supplier_code: String,
    pub supplier_name: String,
    pub due_date: String,
    pub open_e4: i64,
}

/// Bills still owed in a currency, held ones included.
pub fn open_bills(tx: &mut dyn Tx, currency: ordo_domain::Currency) -> Result<Vec<OpenBill>, DbError> {
    tx.query(
        "SELECT s.id, s.code, s.name, b.due_date, b.total_e4 - b.paid_e4 FROM supplier_bills b \
         JOIN suppliers s ON s.id = b.supplier_id \
         WHERE b.currency = ? AND b.status IN ('on_hold', 'open', 'partially_paid') ORDER BY b.due_date, b.id",
        params![currency.code()],
    )?
    .iter()
    .map(|r| {
        Ok(OpenBill {
            supplier_id: r.int(0)?,
            supplier_code: r.text(1)?,
            supplier_name: r.text(2)?,
            due_date: r.text(3)?,
            open_e4: r.int(4)?,
        })
    })
    .collect()
}
