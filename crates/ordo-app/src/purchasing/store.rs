use super::model::{PurchaseLine, PurchaseOrder, Supplier};
use crate::catalog::store::currency;
use crate::db::{DbError, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::money::{from_e4, from_e4_in, to_e4};

const SUPPLIER_COLUMNS: &str = "id, code, name, contact_name, email, phone, lead_time_days, currency, version, created_at, payment_terms, \
     price_tolerance_e4";

fn supplier(row: &Row) -> Result<Supplier, DbError> {
    Ok(Supplier {
        id: row.int(0)?,
        code: row.text(1)?,
        name: row.text(2)?,
        contact_name: row.opt_text(3)?,
        email: row.opt_text(4)?,
        phone: row.opt_text(5)?,
        lead_time_days: row.int(6)?,
        currency: currency(&row.text(7)?)?,
        version: row.int(8)?,
        created_at: Timestamp(row.int(9)?),
        payment_terms: row.text(10)?,
        price_tolerance_percent: from_e4(row.int(11)?).normalize(),
    })
}

pub fn insert_supplier(tx: &mut dyn Tx, s: &Supplier) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO suppliers (code, name, contact_name, email, phone, lead_time_days, currency, version, created_at, \
         payment_terms, price_tolerance_e4) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
        params![
            s.code.as_str(),
            s.name.as_str(),
            s.contact_name.clone(),
            s.email.clone(),
            s.phone.clone(),
            s.lead_time_days,
            s.currency.code(),
            s.created_at.micros(),
            s.payment_terms.as_str(),
            to_e4(s.price_tolerance_percent)
        ],
    )
}

pub fn supplier_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Supplier>, DbError> {
    let sql = format!("SELECT {SUPPLIER_COLUMNS} FROM suppliers WHERE id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(supplier).transpose()
}

pub fn supplier_code_taken(tx: &mut dyn Tx, code: &str) -> Result<bool, DbError> {
    Ok(tx.query_opt("SELECT 1 FROM suppliers WHERE code = ?", params![code])?.is_some())
}

pub fn suppliers(tx: &mut dyn Tx) -> Result<Vec<Supplier>, DbError> {
    let sql = format!("SELECT {SUPPLIER_COLUMNS} FROM suppliers ORDER BY code LIMIT 1000");
    tx.query(&sql, &[])?.iter().map(supplier).collect()
}

const PO_COLUMNS: &str = "o.id, o.number, o.supplier_id, s.name, w.code, o.status, o.currency, o.expected_date, o.total_e4, \
    o.version, o.created_by, o.created_at, o.sent_at, o.received_at";
const PO_FROM: &str =
    "purchase_orders o JOIN suppliers s ON s.id = o.supplier_id JOIN warehouses w ON w.id = o.warehouse_id";

fn purchase_order(row: &Row) -> Result<PurchaseOrder, DbError> {
    let currency = currency(&row.text(6)?)?;
    Ok(PurchaseOrder {
        id: row.int(0)?,
        number: row.text(1)?,
        supplier_id: row.int(2)?,
        supplier_name: row.text(3)?,
        warehouse: row.text(4)?,
        status: row.text(5)?,
        currency,
        expected_date: row.text(7)?,
        total: from_e4_in(row.int(8)?, currency),
        version: row.int(9)?,
        created_by: row.text(10)?,
        created_at: Timestamp(row.int(11)?),
        sent_at: row.opt_int(12)?.map(Timestamp),
        received_at: row.opt_int(13)?.map(Timestamp),
        lines: Vec::new(),
    })
}

/// One purchase order line as stored.
#[derive(Debug, Clone)]
pub struct StoredLine {
    pub line_no: i64,
    pub product_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub received: i64,
    pub billed: i64,
    pub unit_cost_e4: i64,
}

pub fn line_rows(tx: &mut dyn Tx, id: i64) -> Result<Vec<StoredLine>, DbError> {
    tx.query(
        "SELECT l.line_no, l.product_id, p.sku, l.quantity, l.received, l.unit_cost_e4, l.billed FROM purchase_order_lines l \
         JOIN products p ON p.id = l.product_id WHERE l.purchase_order_id = ? ORDER BY l.line_no",
        params![id],
    )?
    .iter()
    .map(|r| {
        Ok(StoredLine {
            line_no: r.int(0)?,
            product_id: r.int(1)?,
            sku: r.text(2)?,
            quantity: r.int(3)?,
            received: r.int(4)?,
            unit_cost_e4: r.int(5)?,
            billed: r.int(6)?,
        })
    })
    .collect()
}

pub fn purchase_order_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<PurchaseOrder>, DbError> {
    let sql = format!("SELECT {PO_COLUMNS} FROM {PO_FROM} WHERE o.id = ?");
    let Some(mut po) = tx.query_opt(&sql, params![id])?.as_ref().map(purchase_order).transpose()? else {
        return Ok(None);
    };
    let rows = tx.query(
        "SELECT p.sku, p.name, l.quantity, l.received, l.unit_cost_e4, l.billed FROM purchase_order_lines l \
         JOIN products p ON p.id = l.product_id WHERE l.purchase_order_id = ? ORDER BY l.line_no",
        params![id],
    )?;
    for r in rows {
        let quantity = r.int(2)?;
        let unit_cost = from_e4_in(r.int(4)?, po.currency);
        po.lines.push(PurchaseLine {
            sku: r.text(0)?,
            name: r.text(1)?,
            quantity,
            received: r.int(3)?,
            billed: r.int(5)?,
            unit_cost,
            line_total: po.currency.round(unit_cost * rust_decimal::Decimal::from(quantity)),
        });
    }
    Ok(Some(po))
}

pub fn purchase_order_ids(
    tx: &mut dyn Tx,
    status: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    let mut filter = crate::db::Filter::new();
    filter.when("o.status = ?", status.map(|s| vec![s.to_string()]));
    filter.when("o.id < ?", before_id.map(|id| vec![id]));
    let sql = format!("SELECT o.id FROM purchase_orders o{} ORDER BY o.id DESC LIMIT {limit}", filter.sql());
    let params: Vec<Value> = filter.params;
    tx.query(&sql, &params)?.iter().map(|r| r.int(0)).collect()
}

/// Locks the purchase order row (see `inventory::store::lock_level`).
pub fn lock(tx: &mut dyn Tx, id: i64) -> Result<bool, DbError> {
    Ok(tx.execute("UPDATE purchase_orders SET version = version WHERE id = ?", params![id])? == 1)
}

/// The product's moving-average cost (×10^4) and its on-hand across all warehouses.
pub fn cost_and_on_hand(tx: &mut dyn Tx, product_id: i64) -> Result<(Option<i64>, i64, String), DbError> {
    let row = tx.query_one(
        "SELECT p.cost_e4, CAST(COALESCE((SELECT SUM(on_hand) FROM stock_levels WHERE product_id = p.id), 0) AS BIGINT), \
         p.currency FROM products p WHERE p.id = ?",
        params![product_id],
    )?;
    Ok((row.opt_int(0)?, row.int(1)?, row.text(2)?))
}

pub fn set_cost(tx: &mut dyn Tx, product_id: i64, cost_e4: i64) -> Result<(), DbError> {
    tx.execute("UPDATE products SET cost_e4 = ? WHERE id = ?", params![cost_e4, product_id])?;
    Ok(())
}
