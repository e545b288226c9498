use super::model::{StockLevel, StockMovement, Warehouse};
use crate::common::{from_json_text, to_json_text};
use crate::db::{DbError, Filter, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::customers::Address;
use ordo_domain::inventory::MovementKind;

const WAREHOUSE_COLUMNS: &str = "id, code, name, region, address, created_at, priority, handling_fee_e4, pickup";

fn warehouse(row: &Row) -> Result<Warehouse, DbError> {
    Ok(Warehouse {
        id: row.int(0)?,
        code: row.text(1)?,
        name: row.text(2)?,
        region: row.opt_text(3)?,
        address: from_json_text(row.opt_text(4)?),
        created_at: Timestamp(row.int(5)?),
        priority: row.int(6)?,
        handling_fee: ordo_domain::money::from_e4(row.int(7)?),
        pickup: row.int(8)? != 0,
    })
}

/// Sets what sourcing weighs: priority, handling fee, and whether customers collect there.
pub fn set_warehouse_terms(tx: &mut dyn Tx, w: &Warehouse) -> Result<(), DbError> {
    tx.execute(
        "UPDATE warehouses SET name = ?, region = ?, priority = ?, handling_fee_e4 = ?, pickup = ? WHERE id = ?",
        params![
            w.name.as_str(),
            w.region.clone(),
            w.priority,
            ordo_domain::money::to_e4(w.handling_fee),
            w.pickup,
            w.id
        ],
    )?;
    Ok(())
}

pub fn set_bin(tx: &mut dyn Tx, product_id: i64, warehouse_id: i64, bin: Option<&str>) -> Result<(), DbError> {
    tx.execute(
        "UPDATE stock_levels SET bin = ? WHERE product_id = ? AND warehouse_id = ?",
        params![bin, product_id, warehouse_id],
    )?;
    Ok(())
}

pub fn insert_warehouse(
    tx: &mut dyn Tx,
    code: &str,
    name: &str,
    region: Option<&str>,
    address: &Option<Address>,
    now: Timestamp,
) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO warehouses (code, name, region, address, created_at) VALUES (?, ?, ?, ?, ?)",
        params![code, name, region, to_json_text(address), now.micros()],
    )
}

pub fn warehouse_by_code(tx: &mut dyn Tx, code: &str) -> Result<Option<Warehouse>, DbError> {
    tx.query_opt(&format!("SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE code = ?"), params![code])?
        .as_ref()
        .map(warehouse)
        .transpose()
}

/// The warehouse a request names in `field`: a violation when it is missing or unknown.
pub fn warehouse_field(
    tx: &mut dyn Tx,
    field: &str,
    code: Option<&str>,
    v: &mut ordo_domain::validation::Violations,
) -> Result<Option<Warehouse>, DbError> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            v.add(field, "is required");
            Ok(None)
        }
        Some(code) => {
            let found = warehouse_by_code(tx, code)?;
            if found.is_none() {
                v.add(field, format!("no warehouse has code {code:?}"));
            }
            Ok(found)
        }
    }
}

pub fn warehouse_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Warehouse>, DbError> {
    tx.query_opt(&format!("SELECT {WAREHOUSE_COLUMNS} FROM warehouses WHERE id = ?"), params![id])?
        .as_ref()
        .map(warehouse)
        .transpose()
}

pub fn list_warehouses(tx: &mut dyn Tx) -> Result<Vec<Warehouse>, DbError> {
    tx.query(&format!("SELECT {WAREHOUSE_COLUMNS} FROM warehouses ORDER BY code"), &[])?.iter().map(warehouse).collect()
}

/// Locks the level row (creating it empty if missing) and returns (on_hand, reserved).
/// Updating a row is the portable way to lock it: SQLite has no `SELECT … FOR UPDATE`.
pub fn lock_level(tx: &mut dyn Tx, product_id: i64, warehouse_id: i64, now: Timestamp) -> Result<(i64, i64), DbError> {
    let touched = tx.execute(
        "UPDATE stock_levels SET on_hand = on_hand WHERE product_id = ? AND warehouse_id = ?",
        params![product_id, warehouse_id],
    )?;
    if touched == 0 {
        tx.execute(
            "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved, updated_at) VALUES (?, ?, 0, 0, ?)",
            params![product_id, warehouse_id, now.micros()],
        )?;
    }
    let row = tx.query_one(
        "SELECT on_hand, reserved FROM stock_levels WHERE product_id = ? AND warehouse_id = ?",
        params![product_id, warehouse_id],
    )?;
    Ok((row.int(0)?, row.int(1)?))
}

pub fn set_on_hand(
    tx: &mut dyn Tx,
    product_id: i64,
    warehouse_id: i64,
    on_hand: i64,
    now: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE stock_levels SET on_hand = ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
        params![on_hand, now.micros(), product_id, warehouse_id],
    )?;
    Ok(())
}

/// Reserves `quantity` in one warehouse that can fill it (the one with most available).
/// The UPDATE re-checks availability itself, so two orders racing for the last units
/// cannot both win: the loser's UPDATE matches no row and it tries the next warehouse.
/// Returns the warehouse id, or the most any single warehouse has available.
pub fn reserve(tx: &mut dyn Tx, product_id: i64, quantity: i64, now: Timestamp) -> Result<Result<i64, i64>, DbError> {
    let candidates = tx.query(
        "SELECT warehouse_id FROM stock_levels WHERE product_id = ? AND on_hand - reserved >= ? \
         ORDER BY on_hand - reserved DESC, warehouse_id LIMIT 4",
        params![product_id, quantity],
    )?;
    for candidate in candidates {
        let warehouse_id = candidate.int(0)?;
        let reserved = tx.execute(
            "UPDATE stock_levels SET reserved = reserved + ?, updated_at = ? \
             WHERE product_id = ? AND warehouse_id = ? AND on_hand - reserved >= ?",
            params![quantity, now.micros(), product_id, warehouse_id, quantity],
        )?;
        if reserved == 1 {
            return Ok(Ok(warehouse_id));
        }
    }
    let best = tx.query_one(
        "SELECT COALESCE(MAX(on_hand - reserved), 0) FROM stock_levels WHERE product_id = ?",
        params![product_id],
    )?;
    Ok(Err(best.int(0)?.max(0)))
}

/// Reserves `quantity` in this warehouse if it can fill it now.
pub fn reserve_in(
    tx: &mut dyn Tx,
    product_id: i64,
    warehouse_id: i64,
    quantity: i64,
    now: Timestamp,
) -> Result<bool, DbError> {
    Ok(tx.execute(
        "UPDATE stock_levels SET reserved = reserved + ?, updated_at = ? \
         WHERE product_id = ? AND warehouse_id = ? AND on_hand - reserved >= ?",
        params![quantity, now.micros(), product_id, warehouse_id, quantity],
    )? == 1)
}

pub fn release(
    tx: &mut dyn Tx,
    product_id: i64,
    warehouse_id: i64,
    quantity: i64,
    now: Timestamp,
) -> Result<(), DbError> {
    let released = tx.execute(
        "UPDATE stock_levels SET reserved = reserved - ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ? AND reserved >= ?",
        params![quantity, now.micros(), product_id, warehouse_id, quantity],
    )?;
    if released == 1 {
        Ok(())
    } else {
        Err(DbError::Other(format!(
            "reservation of {quantity} for product {product_id} in warehouse {warehouse_id} is missing"
        )))
    }
}

/// One line of the stock ledger.
pub struct NewMovement<'a> {
    pub product_id: i64,
    pub warehouse_id: i64,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// Appends movements in one multi-row INSERT (one round trip, whatever the count).
pub fn record_movements(
    tx: &mut dyn Tx,
    movements: &[NewMovement],
    actor: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    if movements.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, reserved_delta, reason, reference, actor, at) VALUES ",
    );
    let mut params: Vec<Value> = Vec::with_capacity(movements.len() * 9);
    for (i, m) in movements.iter().enumerate() {
        sql.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" });
        params.extend([
            m.product_id.into(),
            m.warehouse_id.into(),
            m.kind.as_str().into(),
            m.on_hand_delta.into(),
            m.reserved_delta.into(),
            m.reason.into(),
            m.reference.into(),
            actor.into(),
            now.micros().into(),
        ]);
    }
    tx.execute(&sql, &params)?;
    Ok(())
}

pub fn levels(tx: &mut dyn Tx, sku: Option<&str>, warehouse: Option<&str>) -> Result<Vec<StockLevel>, DbError> {
    let mut filter = Filter::new();
    filter.when("p.sku = ?", sku.map(|s| vec![s]));
    filter.when("w.code = ?", warehouse.map(|w| vec![w]));
    let sql = format!(
        "SELECT p.sku, w.code, s.on_hand, s.reserved, s.updated_at, CAST(COALESCE(( \
             SELECT SUM(l.quantity - l.received - l.lost) FROM transfer_lines l JOIN transfers t ON t.id = l.transfer_id \
             WHERE l.product_id = s.product_id AND t.to_warehouse_id = s.warehouse_id \
             AND t.status IN ('shipped', 'partially_received')), 0) AS BIGINT), s.bin, s.damaged \
         FROM stock_levels s \
         JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id{} ORDER BY p.sku, w.code LIMIT 5000",
        filter.sql()
    );
    tx.query(&sql, &filter.params)?
        .iter()
        .map(|r| {
            let (on_hand, reserved) = (r.int(2)?, r.int(3)?);
            Ok(StockLevel {
                sku: r.text(0)?,
                warehouse: r.text(1)?,
                on_hand,
                reserved,
                available: on_hand - reserved,
                in_transit: r.int(5)?,
                bin: r.opt_text(6)?,
                damaged: r.int(7)?,
                updated_at: Timestamp(r.int(4)?),
            })
        })
        .collect()
}

/// Which movements to list.
#[derive(Debug, Default, Clone)]
pub struct MovementFilter {
    pub sku: Option<String>,
    pub warehouse: Option<String>,
    pub kind: Option<MovementKind>,
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub before: Option<Timestamp>,
}

pub fn movements(
    tx: &mut dyn Tx,
    f: &MovementFilter,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<StockMovement>, DbError> {
    let mut filter = Filter::new();
    filter.when("p.sku = ?", f.sku.clone().map(|s| vec![s]));
    filter.when("w.code = ?", f.warehouse.clone().map(|w| vec![w]));
    filter.when("m.kind = ?", f.kind.map(|k| vec![k.as_str()]));
    filter.when("m.at >= ?", f.from.map(|t| vec![t.micros()]));
    filter.when("m.at < ?", f.before.map(|t| vec![t.micros()]));
    filter.when("m.id < ?", before_id.map(|id| vec![id]));
    let sql = format!(
        "SELECT m.id, p.sku, w.code, m.kind, m.on_hand_delta, m.reserved_delta, m.reason, m.reference, m.actor, m.at FROM stock_movements m \
         JOIN products p ON p.id = m.product_id JOIN warehouses w ON w.id = m.warehouse_id{} ORDER BY m.id DESC LIMIT {limit}",
        filter.sql()
    );
    tx.query(&sql, &filter.params)?
        .iter()
        .map(|r| {
            Ok(StockMovement {
                id: r.int(0)?,
                sku: r.text(1)?,
                warehouse: r.text(2)?,
                kind: MovementKind::parse(&r.text(3)?)
                    .ok_or_else(|| DbError::Decode("unknown movement kind".into()))?,
                on_hand_delta: r.int(4)?,
                reserved_delta: r.int(5)?,
                reason: r.opt_text(6)?,
                reference: r.opt_text(7)?,
                actor: r.text(8)?,
                at: Timestamp(r.int(9)?),
            })
        })
        .collect()
}

/// A stock level that differs from the sum of its movements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerMismatch {
    pub sku: String,
    pub warehouse: String,
    /// (on_hand, reserved) as stored.
    pub stored: (i64, i64),
    /// (on_hand, reserved) as the movements add up.
    pub from_movements: (i64, i64),
}

/// Levels that differ from the sum of their movements, and movements of a level that
/// does not exist. Empty when the ledger and the levels agree, which they always should.
/// One pass over each table, so it runs on millions of movements.
pub fn ledger_mismatches(tx: &mut dyn Tx) -> Result<Vec<LedgerMismatch>, DbError> {
    let rows = tx.query(
        "SELECT p.sku, w.code, COALESCE(s.on_hand, 0), COALESCE(s.reserved, 0), \
                CAST(COALESCE(m.on_hand, 0) AS BIGINT), CAST(COALESCE(m.reserved, 0) AS BIGINT), \
                COALESCE(s.damaged, 0), CAST(COALESCE(m.damaged, 0) AS BIGINT) \
         FROM (SELECT product_id, warehouse_id FROM stock_levels UNION SELECT product_id, warehouse_id FROM stock_movements) k \
         JOIN products p ON p.id = k.product_id JOIN warehouses w ON w.id = k.warehouse_id \
         LEFT JOIN stock_levels s ON s.product_id = k.product_id AND s.warehouse_id = k.warehouse_id \
         LEFT JOIN (SELECT product_id, warehouse_id, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved, \
                           SUM(damaged_delta) AS damaged FROM stock_movements GROUP BY product_id, warehouse_id) m \
                ON m.product_id = k.product_id AND m.warehouse_id = k.warehouse_id \
         WHERE COALESCE(s.on_hand, 0) <> COALESCE(m.on_hand, 0) OR COALESCE(s.reserved, 0) <> COALESCE(m.reserved, 0) \
            OR COALESCE(s.damaged, 0) <> COALESCE(m.damaged, 0) \
         ORDER BY p.sku, w.code",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(LedgerMismatch {
                sku: r.text(0)?,
                warehouse: r.text(1)?,
                stored: (r.int(2)?, r.int(3)?),
                from_movements: (r.int(4)?, r.int(5)?),
            })
        })
        .collect()
}

/// Units free to sell of each product, over all warehouses (a warehouse short of stock
/// counts as none, not less).
pub fn available_totals(tx: &mut dyn Tx, product_ids: &[i64]) -> Result<Vec<(i64, i64)>, DbError> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; product_ids.len()].join(", ");
    let ids: Vec<crate::db::Value> = product_ids.iter().map(|id| crate::db::Value::from(*id)).collect();
    tx.query(
        &format!(
            "SELECT product_id, CAST(SUM(CASE WHEN on_hand > reserved THEN on_hand - reserved ELSE 0 END) AS BIGINT) \
             FROM stock_levels WHERE product_id IN ({marks}) GROUP BY product_id"
        ),
        &ids,
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.int(1)?)))
    .collect()
}

/// (warehouse code, available) for a product, most available first.
pub fn availability(tx: &mut dyn Tx, product_id: i64) -> Result<Vec<(String, i64)>, DbError> {
    tx.query(
        "SELECT w.code, s.on_hand - s.reserved FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE s.product_id = ? ORDER BY s.on_hand - s.reserved DESC, w.code",
        params![product_id],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.int(1)?)))
    .collect()
}

/// Puts units into the warehouse's damaged stock: counted, never sold. One movement with
/// only its damaged delta, so the ledger check covers damaged stock as well.
#[allow(clippy::too_many_arguments)]
pub fn add_damaged(
    tx: &mut dyn Tx,
    product_id: i64,
    warehouse_id: i64,
    quantity: i64,
    reason: &str,
    reference: &str,
    actor: &str,
    now: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE stock_levels SET damaged = damaged + ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
        params![quantity, now.micros(), product_id, warehouse_id],
    )?;
    tx.execute(
        "INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, reserved_delta, damaged_delta, \
         reason, reference, actor, at) VALUES (?, ?, 'return', 0, 0, ?, ?, ?, ?, ?)",
        params![product_id, warehouse_id, quantity, reason, reference, actor, now.micros()],
    )?;
    Ok(())
}
