//! Transfers between warehouses: draft, ship (stock leaves the source and is in transit),
//! receive fully or in parts; what never arrives is recorded as lost when the transfer is
//! closed. Every change of stock is a movement referencing the transfer number.

use super::model::InventoryError;
use super::store::{self as stock, NewMovement};
use crate::common::{Ctx, Page, PageRequest};
use crate::db::{DbError, Row, Tx};
use crate::orders::ShortLine;
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::inventory::MovementKind;
use ordo_domain::money::MAX_LINE_QUANTITY;
use ordo_domain::transfers::{TransferStatus, after_receipt};
use ordo_domain::validation::{FieldError, Violations, optional_text};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewTransfer {
    /// Warehouse code the stock leaves.
    pub from_warehouse: Option<String>,
    /// Warehouse code the stock goes to.
    pub to_warehouse: Option<String>,
    pub lines: Option<Vec<TransferLineInput>>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TransferLineInput {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

/// What arrived. Lines not named arrived with nothing; `close` ends the transfer and records
/// whatever is still outstanding as lost in transit.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReceiveTransfer {
    pub lines: Option<Vec<TransferLineInput>>,
    pub close: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Transfer {
    pub id: i64,
    #[schema(example = "TR-000001")]
    pub number: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    pub status: TransferStatus,
    pub lines: Vec<TransferLine>,
    pub note: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub shipped_at: Option<Timestamp>,
    pub received_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferLine {
    pub sku: String,
    pub quantity: i64,
    pub received: i64,
    /// Units written off as lost in transit when the transfer was closed short.
    pub lost: i64,
    /// Shipped and not yet received or written off.
    pub in_transit: i64,
}

struct Line {
    line_no: i64,
    product_id: i64,
    sku: String,
    quantity: i64,
    received: i64,
    lost: i64,
}

fn line_inputs(lines: Option<&[TransferLineInput]>, required: bool, v: &mut Violations) -> Vec<(usize, String, i64)> {
    let mut out = Vec::new();
    match lines {
        None | Some([]) if required => v.add("lines", "a transfer needs at least one line"),
        None | Some([]) => {}
        Some(lines) if lines.len() > 200 => v.add("lines", "at most 200 lines"),
        Some(lines) => {
            for (i, line) in lines.iter().enumerate() {
                let sku = v.check(ordo_domain::catalog::parse_sku(&format!("lines[{i}].sku"), line.sku.as_deref()));
                let quantity = match line.quantity {
                    Some(q) if (1..=MAX_LINE_QUANTITY).contains(&q) => Some(q),
                    _ => v.check(Err(FieldError::new(
                        format!("lines[{i}].quantity"),
                        format!("must be between 1 and {MAX_LINE_QUANTITY}"),
                    ))),
                };
                if let (Some(sku), Some(quantity)) = (sku, quantity) {
                    out.push((i, sku, quantity));
                }
            }
        }
    }
    out
}

fn warehouse_id(tx: &mut dyn Tx, field: &str, code: Option<&str>, v: &mut Violations) -> Result<Option<i64>, DbError> {
    Ok(stock::warehouse_field(tx, field, code, v)?.map(|w| w.id))
}

pub fn create_transfer(tx: &mut dyn Tx, ctx: &Ctx, input: &NewTransfer) -> Result<Transfer, InventoryError> {
    let mut v = Violations::new();
    let from = warehouse_id(tx, "from_warehouse", input.from_warehouse.as_deref(), &mut v)?;
    let to = warehouse_id(tx, "to_warehouse", input.to_warehouse.as_deref(), &mut v)?;
    if from.is_some() && from == to {
        v.add("to_warehouse", "must differ from from_warehouse");
    }
    let note = v.check(optional_text("note", input.note.as_deref(), 2000)).flatten();
    let wanted = line_inputs(input.lines.as_deref(), true, &mut v);
    let skus: Vec<&str> = wanted.iter().map(|(_, sku, _)| sku.as_str()).collect();
    let products = crate::catalog::store::products_by_skus(tx, &skus)?;
    let mut lines: Vec<(i64, i64)> = Vec::new();
    for (i, sku, quantity) in &wanted {
        match products.iter().find(|p| &p.sku == sku) {
            None => v.add(format!("lines[{i}].sku"), format!("no product has SKU {sku:?}")),
            Some(p) => match lines.iter_mut().find(|(id, _)| *id == p.id) {
                Some(line) => line.1 += quantity,
                None => lines.push((p.id, *quantity)),
            },
        }
    }
    v.into_result()?;
    let (Some(from), Some(to)) = (from, to) else { unreachable!("checked above") };
    let sequence = crate::orders::store::next_sequence(tx, "transfer_number")?;
    let number = format!("TR-{sequence:06}");
    let id = tx.insert(
        "INSERT INTO transfers (number, from_warehouse_id, to_warehouse_id, status, note, version, created_by, created_at) \
         VALUES (?, ?, ?, 'draft', ?, 1, ?, ?)",
        params![number.as_str(), from, to, note, ctx.actor.as_str(), ctx.now.micros()],
    )?;
    for (n, (product_id, quantity)) in lines.iter().enumerate() {
        tx.execute(
            "INSERT INTO transfer_lines (transfer_id, line_no, product_id, quantity, received, lost) VALUES (?, ?, ?, ?, 0, 0)",
            params![id, n as i64 + 1, *product_id, *quantity],
        )?;
    }
    crate::audit::record(tx, ctx, "inventory", "transfer.created", &number, &format!("{} lines", lines.len()))?;
    get_transfer(tx, id)
}

/// Locks the transfer row for this transaction and returns it.
fn lock(tx: &mut dyn Tx, id: i64) -> Result<Transfer, InventoryError> {
    if tx.execute("UPDATE transfers SET version = version WHERE id = ?", params![id])? == 0 {
        return Err(InventoryError::TransferNotFound(id));
    }
    get_transfer(tx, id)
}

fn lines_of(tx: &mut dyn Tx, id: i64) -> Result<Vec<Line>, DbError> {
    tx.query(
        "SELECT l.line_no, l.product_id, p.sku, l.quantity, l.received, l.lost FROM transfer_lines l \
         JOIN products p ON p.id = l.product_id WHERE l.transfer_id = ? ORDER BY l.line_no",
        params![id],
    )?
    .iter()
    .map(|r| {
        Ok(Line {
            line_no: r.int(0)?,
            product_id: r.int(1)?,
            sku: r.text(2)?,
            quantity: r.int(3)?,
            received: r.int(4)?,
            lost: r.int(5)?,
        })
    })
    .collect()
}

fn refused(transfer: &Transfer, action: &str) -> InventoryError {
    InventoryError::Conflict(format!("cannot {action} transfer {}: it is {}", transfer.number, transfer.status))
}

fn ids(tx: &mut dyn Tx, transfer: &Transfer) -> Result<(i64, i64), InventoryError> {
    let from = stock::warehouse_by_code(tx, &transfer.from_warehouse)?.map(|w| w.id).unwrap_or_default();
    let to = stock::warehouse_by_code(tx, &transfer.to_warehouse)?.map(|w| w.id).unwrap_or_default();
    Ok((from, to))
}

/// Takes the stock out of the source warehouse (what is available there, never what open
/// orders have reserved); all lines or none.
pub fn ship_transfer(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<Transfer, InventoryError> {
    let transfer = lock(tx, id)?;
    if !transfer.status.may_ship() {
        return Err(refused(&transfer, "ship"));
    }
    let (from, _) = ids(tx, &transfer)?;
    let lines = lines_of(tx, id)?;
    let mut short = Vec::new();
    for line in &lines {
        let taken = tx.execute(
            "UPDATE stock_levels SET on_hand = on_hand - ?, updated_at = ? \
             WHERE product_id = ? AND warehouse_id = ? AND on_hand - reserved >= ?",
            params![line.quantity, ctx.now.micros(), line.product_id, from, line.quantity],
        )?;
        if taken == 0 {
            let available = tx
                .query_opt(
                    "SELECT on_hand - reserved FROM stock_levels WHERE product_id = ? AND warehouse_id = ?",
                    params![line.product_id, from],
                )?
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0);
            short.push(ShortLine { sku: line.sku.clone(), requested: line.quantity, available: available.max(0) });
        }
    }
    if !short.is_empty() {
        return Err(InventoryError::ShortStock(short));
    }
    let movements: Vec<NewMovement> = lines
        .iter()
        .map(|l| NewMovement {
            product_id: l.product_id,
            warehouse_id: from,
            kind: MovementKind::TransferOut,
            on_hand_delta: -l.quantity,
            reserved_delta: 0,
            reason: Some("transfer shipped"),
            reference: Some(&transfer.number),
        })
        .collect();
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    tx.execute(
        "UPDATE transfers SET status = 'shipped', shipped_at = ?, version = version + 1 WHERE id = ?",
        params![ctx.now.micros(), id],
    )?;
    crate::audit::record(
        tx,
        ctx,
        "inventory",
        "transfer.shipped",
        &transfer.number,
        &format!("from {}", transfer.from_warehouse),
    )?;
    get_transfer(tx, id)
}

/// Books what arrived into the destination; closing records the rest as lost in transit.
pub fn receive_transfer(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    input: &ReceiveTransfer,
) -> Result<Transfer, InventoryError> {
    let transfer = lock(tx, id)?;
    if !transfer.status.may_receive() {
        return Err(refused(&transfer, "receive"));
    }
    let close = input.close.unwrap_or(false);
    let mut v = Violations::new();
    let arrived = line_inputs(input.lines.as_deref(), !close, &mut v);
    let mut lines = lines_of(tx, id)?;
    let mut received: Vec<(usize, i64)> = Vec::new();
    for (i, sku, quantity) in &arrived {
        let Some(n) = lines.iter().position(|l| &l.sku == sku) else {
            v.add(format!("lines[{i}].sku"), format!("{sku} is not on this transfer"));
            continue;
        };
        let line = &lines[n];
        let taken = received.iter().filter(|(k, _)| *k == n).map(|(_, q)| q).sum::<i64>();
        let open = line.quantity - line.received - line.lost - taken;
        if *quantity > open {
            v.add(format!("lines[{i}].quantity"), format!("only {open} of {sku} are still in transit"));
            continue;
        }
        received.push((n, *quantity));
    }
    v.into_result()?;

    let (_, to) = ids(tx, &transfer)?;
    let mut movements = Vec::new();
    for &(n, quantity) in &received {
        let line = &mut lines[n];
        stock::lock_level(tx, line.product_id, to, ctx.now)?;
        tx.execute(
            "UPDATE stock_levels SET on_hand = on_hand + ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
            params![quantity, ctx.now.micros(), line.product_id, to],
        )?;
        line.received += quantity;
        movements.push(NewMovement {
            product_id: line.product_id,
            warehouse_id: to,
            kind: MovementKind::TransferIn,
            on_hand_delta: quantity,
            reserved_delta: 0,
            reason: Some("transfer received"),
            reference: Some(&transfer.number),
        });
    }
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    let mut discrepancies = Vec::new();
    for line in &mut lines {
        let outstanding = line.quantity - line.received - line.lost;
        if close && outstanding > 0 {
            line.lost += outstanding;
            discrepancies.push(
                json!({"sku": line.sku, "shipped": line.quantity, "received": line.received, "lost": outstanding}),
            );
        }
        tx.execute(
            "UPDATE transfer_lines SET received = ?, lost = ? WHERE transfer_id = ? AND line_no = ?",
            params![line.received, line.lost, id, line.line_no],
        )?;
    }
    let outstanding: i64 = lines.iter().map(|l| l.quantity - l.received - l.lost).sum();
    let status = after_receipt(outstanding, close);
    let received_at = (status == TransferStatus::Received).then_some(ctx.now.micros());
    tx.execute(
        "UPDATE transfers SET status = ?, received_at = ?, version = version + 1 WHERE id = ?",
        params![status.as_str(), received_at, id],
    )?;
    let summary = if discrepancies.is_empty() {
        format!("{} received", received.iter().map(|(_, q)| q).sum::<i64>())
    } else {
        format!("closed short: {}", serde_json::Value::Array(discrepancies))
    };
    crate::audit::record(tx, ctx, "inventory", "transfer.received", &transfer.number, &summary)?;
    get_transfer(tx, id)
}

const COLUMNS: &str = "t.id, t.number, f.code, d.code, t.status, t.note, t.version, t.created_by, t.created_at, \
    t.shipped_at, t.received_at";
const FROM: &str =
    "transfers t JOIN warehouses f ON f.id = t.from_warehouse_id JOIN warehouses d ON d.id = t.to_warehouse_id";

fn header(row: &Row) -> Result<Transfer, DbError> {
    Ok(Transfer {
        id: row.int(0)?,
        number: row.text(1)?,
        from_warehouse: row.text(2)?,
        to_warehouse: row.text(3)?,
        status: TransferStatus::parse(&row.text(4)?)
            .ok_or_else(|| DbError::Decode("unknown transfer status".into()))?,
        note: row.opt_text(5)?,
        version: row.int(6)?,
        created_by: row.text(7)?,
        created_at: Timestamp(row.int(8)?),
        shipped_at: row.opt_int(9)?.map(Timestamp),
        received_at: row.opt_int(10)?.map(Timestamp),
        lines: Vec::new(),
    })
}

fn with_lines(tx: &mut dyn Tx, mut transfer: Transfer) -> Result<Transfer, DbError> {
    let shipped = !matches!(transfer.status, TransferStatus::Draft | TransferStatus::Cancelled);
    transfer.lines = lines_of(tx, transfer.id)?
        .into_iter()
        .map(|l| TransferLine {
            in_transit: if shipped { l.quantity - l.received - l.lost } else { 0 },
            sku: l.sku,
            quantity: l.quantity,
            received: l.received,
            lost: l.lost,
        })
        .collect();
    Ok(transfer)
}

pub fn get_transfer(tx: &mut dyn Tx, id: i64) -> Result<Transfer, InventoryError> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE t.id = ?");
    let transfer = tx
        .query_opt(&sql, params![id])?
        .as_ref()
        .map(header)
        .transpose()?
        .ok_or(InventoryError::TransferNotFound(id))?;
    Ok(with_lines(tx, transfer)?)
}

/// Transfers, newest first; `status` filters.
pub fn list_transfers(
    tx: &mut dyn Tx,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<Transfer>, InventoryError> {
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(TransferStatus::parse(s).ok_or_else(|| {
            ordo_domain::Invalid::field("status", format!("must be one of {}", TransferStatus::choices()))
        })?),
    };
    let mut filter = crate::db::Filter::new();
    filter.when("t.status = ?", status.map(|s| vec![s.as_str()]));
    filter.when("t.id < ?", page.before_id.map(|id| vec![id]));
    let sql = format!("SELECT {COLUMNS} FROM {FROM}{} ORDER BY t.id DESC LIMIT {}", filter.sql(), page.fetch_limit());
    let headers: Vec<Transfer> = tx.query(&sql, &filter.params)?.iter().map(header).collect::<Result<_, _>>()?;
    let mut items = Vec::with_capacity(headers.len());
    for transfer in headers {
        items.push(with_lines(tx, transfer)?);
    }
    Ok(page.page(items, |t| t.id))
}
