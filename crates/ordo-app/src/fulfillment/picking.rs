//! Pick lists: a wave of orders' lines in one warehouse, walked in bin order, confirmed
//! by typed quantities or scans. Short picks write the missing units off the shelf and
//! are backordered or reserved elsewhere.

use super::invalid;
use super::model::*;
use crate::common::Ctx;
use crate::db::{DbError, Filter, Row, Tx, Value};
use crate::inventory::store::{self as stock, NewMovement};
use crate::orders;
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::inventory::MovementKind;
use ordo_domain::orders::OrderStatus;
use serde_json::json;
use std::collections::BTreeMap;

const MAX_WAVE: i64 = 500;

/// The number of an open pick list holding lines of this order, if any.
pub fn open_pick_list_of(tx: &mut dyn Tx, order_id: i64) -> Result<Option<String>, DbError> {
    tx.query_opt(
        "SELECT p.number FROM pick_list_lines l JOIN pick_lists p ON p.id = l.pick_list_id \
         WHERE l.order_id = ? AND l.picked IS NULL AND p.status = 'open' ORDER BY p.id LIMIT 1",
        params![order_id],
    )?
    .map(|r| r.text(0))
    .transpose()
}

struct Candidate {
    order_id: i64,
    line_no: i64,
    product_id: i64,
    sku: String,
    bin: Option<String>,
    todo: i64,
}

/// Lines with units reserved in a warehouse and not yet picked or on an open list,
/// highest priority and oldest orders first.
fn to_pick(tx: &mut dyn Tx, warehouse_id: i64, order_ids: Option<&[i64]>) -> Result<Vec<Candidate>, DbError> {
    let mut filter = Filter::new();
    filter.when("l.warehouse_id = ?", Some(vec![warehouse_id]));
    let mut sql = String::from(
        "SELECT l.order_id, o.number, l.line_no, l.product_id, l.sku, s.bin, \
         l.quantity - l.backordered - l.picked - CAST(COALESCE((SELECT SUM(pl.quantity) FROM pick_list_lines pl \
           WHERE pl.order_id = l.order_id AND pl.line_no = l.line_no AND pl.picked IS NULL), 0) AS BIGINT) \
         FROM order_lines l JOIN orders o ON o.id = l.order_id \
         LEFT JOIN stock_levels s ON s.product_id = l.product_id AND s.warehouse_id = l.warehouse_id",
    );
    sql.push_str(&filter.sql());
    sql.push_str(" AND o.status IN ('confirmed', 'partially_shipped') AND l.quantity > l.backordered + l.picked");
    let mut values: Vec<Value> = filter.params.clone();
    if let Some(ids) = order_ids {
        sql.push_str(&format!(" AND o.id IN ({})", vec!["?"; ids.len()].join(", ")));
        values.extend(ids.iter().map(|&id| Value::from(id)));
    }
    sql.push_str(" ORDER BY o.priority DESC, o.created_at, o.id, l.line_no");
    tx.query(&sql, &values)?
        .iter()
        .map(|r| {
            Ok(Candidate {
                order_id: r.int(0)?,
                line_no: r.int(2)?,
                product_id: r.int(3)?,
                sku: r.text(4)?,
                bin: r.opt_text(5)?,
                todo: r.int(6)?,
            })
        })
        .filter(|c: &Result<Candidate, DbError>| c.as_ref().map_or(true, |c| c.todo > 0))
        .collect()
}

pub fn create_pick_list(tx: &mut dyn Tx, ctx: &Ctx, input: &NewPickList) -> Result<PickList, FulfillmentError> {
    let code = input
        .warehouse
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| invalid("warehouse", "is required"))?;
    let limit = match input.limit {
        None => 50,
        Some(n) if (1..=MAX_WAVE).contains(&n) => n,
        Some(_) => return Err(invalid("limit", format!("must be between 1 and {MAX_WAVE}"))),
    };
    if input.order_ids.as_ref().is_some_and(|ids| ids.is_empty() || ids.len() as i64 > MAX_WAVE) {
        return Err(invalid("order_ids", format!("give 1 to {MAX_WAVE} orders, or leave it out")));
    }
    let warehouse =
        stock::warehouse_by_code(tx, code)?.ok_or_else(|| FulfillmentError::WarehouseNotFound(code.into()))?;
    let candidates = to_pick(tx, warehouse.id, input.order_ids.as_deref())?;
    let mut orders_in_wave: Vec<i64> = Vec::new();
    let mut lines: Vec<Candidate> = Vec::new();
    for c in candidates {
        if !orders_in_wave.contains(&c.order_id) {
            if orders_in_wave.len() as i64 >= limit {
                continue;
            }
            orders_in_wave.push(c.order_id);
        }
        lines.push(c);
    }
    if lines.is_empty() {
        return Err(FulfillmentError::Conflict(format!("nothing to pick in {}", warehouse.code)));
    }
    // The walk: by bin (unbinned last), then SKU, so one product is picked for all orders at once.
    lines.sort_by(|a, b| {
        (a.bin.is_none(), &a.bin, &a.sku, a.order_id, a.line_no).cmp(&(
            b.bin.is_none(),
            &b.bin,
            &b.sku,
            b.order_id,
            b.line_no,
        ))
    });
    let number = format!("PL-{:06}", orders::store::next_sequence(tx, "pick_list")?);
    let id = tx.insert(
        "INSERT INTO pick_lists (number, warehouse_id, status, created_by, created_at) VALUES (?, ?, 'open', ?, ?)",
        params![number.as_str(), warehouse.id, ctx.actor.as_str(), ctx.now.micros()],
    )?;
    for c in &lines {
        tx.execute(
            "INSERT INTO pick_list_lines (pick_list_id, order_id, line_no, product_id, sku, bin, quantity) VALUES (?, ?, ?, ?, ?, ?, ?)",
            params![id, c.order_id, c.line_no, c.product_id, c.sku.as_str(), c.bin.clone(), c.todo],
        )?;
    }
    for &order_id in &orders_in_wave {
        orders::store::append_event(
            tx,
            order_id,
            &ctx.actor,
            "pick_list",
            &json!({"pick_list": number, "warehouse": warehouse.code}),
            ctx.now,
        )?;
    }
    get_pick_list(tx, id)
}

fn pick_line(row: &Row) -> Result<(i64, PickLine), DbError> {
    Ok((
        row.int(0)?,
        PickLine {
            id: row.int(1)?,
            order_id: row.int(2)?,
            order_number: row.text(3)?,
            line_no: row.int(4)?,
            sku: row.text(5)?,
            name: row.text(6)?,
            bin: row.opt_text(7)?,
            quantity: row.int(8)?,
            picked: row.opt_int(9)?,
            handling: row.opt_text(10)?,
        },
    ))
}

fn lists(tx: &mut dyn Tx, filter: &Filter, limit: i64) -> Result<Vec<PickList>, DbError> {
    let mut items: Vec<PickList> = tx
        .query(
            &format!(
                "SELECT p.id, p.number, w.code, p.status, p.created_by, p.created_at, p.confirmed_by, p.confirmed_at \
                 FROM pick_lists p JOIN warehouses w ON w.id = p.warehouse_id{} ORDER BY p.id DESC LIMIT {limit}",
                filter.sql()
            ),
            &filter.params,
        )?
        .iter()
        .map(|r| {
            Ok(PickList {
                id: r.int(0)?,
                number: r.text(1)?,
                warehouse: r.text(2)?,
                status: r.text(3)?,
                lines: Vec::new(),
                created_by: r.text(4)?,
                created_at: Timestamp(r.int(5)?),
                confirmed_by: r.opt_text(6)?,
                confirmed_at: r.opt_int(7)?.map(Timestamp),
            })
        })
        .collect::<Result<_, DbError>>()?;
    if items.is_empty() {
        return Ok(items);
    }
    let ids: Vec<Value> = items.iter().map(|p| p.id.into()).collect();
    let sql = format!(
        "SELECT l.pick_list_id, l.id, l.order_id, o.number, l.line_no, l.sku, ol.name, l.bin, l.quantity, l.picked, l.handling \
         FROM pick_list_lines l JOIN orders o ON o.id = l.order_id \
         JOIN order_lines ol ON ol.order_id = l.order_id AND ol.line_no = l.line_no \
         WHERE l.pick_list_id IN ({}) ORDER BY l.id",
        vec!["?"; ids.len()].join(", ")
    );
    for row in tx.query(&sql, &ids)? {
        let (list_id, line) = pick_line(&row)?;
        if let Some(list) = items.iter_mut().find(|p| p.id == list_id) {
            list.lines.push(line);
        }
    }
    Ok(items)
}

pub fn get_pick_list(tx: &mut dyn Tx, id: i64) -> Result<PickList, FulfillmentError> {
    let mut filter = Filter::new();
    filter.when("p.id = ?", Some(vec![id]));
    lists(tx, &filter, 1)?.pop().ok_or(FulfillmentError::PickListNotFound(id))
}

pub fn list_pick_lists(
    tx: &mut dyn Tx,
    status: Option<&str>,
    warehouse: Option<&str>,
) -> Result<PickListList, FulfillmentError> {
    let mut filter = Filter::new();
    filter.when("p.status = ?", status.filter(|s| !s.is_empty()).map(|s| vec![s.to_string()]));
    filter.when("w.code = ?", warehouse.filter(|s| !s.is_empty()).map(|s| vec![s.to_string()]));
    Ok(PickListList { items: lists(tx, &filter, 100)? })
}

/// Confirms what was picked. Each line's units go to its order line; short units are
/// written off the shelf (it did not hold them) and then backordered or reserved in
/// another warehouse that can fill the whole line.
pub fn confirm_pick_list(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    input: &ConfirmPicks,
) -> Result<PickList, FulfillmentError> {
    let reallocate = match input.short_handling.as_deref().unwrap_or("backorder") {
        "backorder" => false,
        "reallocate" => true,
        _ => return Err(invalid("short_handling", "must be backorder or reallocate")),
    };
    // Claim the list: a second confirmation finds it confirmed and stops.
    let claimed = tx.execute(
        "UPDATE pick_lists SET status = 'confirmed', confirmed_by = ?, confirmed_at = ? WHERE id = ? AND status = 'open'",
        params![ctx.actor.as_str(), ctx.now.micros(), id],
    )?;
    let list = get_pick_list(tx, id)?;
    if claimed == 0 {
        return Err(FulfillmentError::Conflict(format!("{} is already confirmed", list.number)));
    }
    let mut picked: Vec<i64> = list.lines.iter().map(|l| l.quantity).collect();
    if let Some(scans) = &input.scans {
        picked.iter_mut().for_each(|p| *p = 0);
        for (i, scan) in scans.iter().enumerate() {
            let code = scan.trim();
            let wanted = list
                .lines
                .iter()
                .enumerate()
                .find(|(k, l)| l.sku.eq_ignore_ascii_case(code) && picked[*k] < l.quantity);
            match wanted {
                Some((k, _)) => picked[k] += 1,
                None if list.lines.iter().any(|l| l.sku.eq_ignore_ascii_case(code)) => {
                    return Err(invalid(&format!("scans[{i}]"), format!("more {code} scanned than the list asks for")));
                }
                None => return Err(invalid(&format!("scans[{i}]"), format!("{code} is not on {}", list.number))),
            }
        }
    }
    for (i, given) in input.lines.iter().flatten().enumerate() {
        let Some(k) = given.id.and_then(|id| list.lines.iter().position(|l| l.id == id)) else {
            return Err(invalid(&format!("lines[{i}].id"), format!("is not a line of {}", list.number)));
        };
        match given.picked {
            Some(n) if (0..=list.lines[k].quantity).contains(&n) => picked[k] = n,
            _ => {
                return Err(invalid(
                    &format!("lines[{i}].picked"),
                    format!("must be between 0 and {}", list.lines[k].quantity),
                ));
            }
        }
    }
    let warehouse = stock::warehouse_by_code(tx, &list.warehouse)?
        .ok_or_else(|| FulfillmentError::WarehouseNotFound(list.warehouse.clone()))?;
    let mut by_order: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (k, line) in list.lines.iter().enumerate() {
        by_order.entry(line.order_id).or_default().push(k);
    }
    let why = format!("short pick on {}", list.number);
    for (order_id, ks) in by_order {
        let order = orders::lock_order(tx, order_id, None)?;
        let mut notes = Vec::new();
        for k in ks {
            let line = &list.lines[k];
            let order_line = tx.query_one(
                "SELECT product_id, warehouse_id, quantity, backordered, picked, shipped FROM order_lines WHERE order_id = ? AND line_no = ?",
                params![order_id, line.line_no],
            )?;
            let (product_id, line_warehouse) = (order_line.int(0)?, order_line.int(1)?);
            let open_units = order_line.int(2)? - order_line.int(3)? - order_line.int(4)?;
            if order.status == OrderStatus::Cancelled || line_warehouse != warehouse.id || open_units <= 0 {
                // The order was cancelled or re-sourced since the list was printed: nothing to take.
                tx.execute("UPDATE pick_list_lines SET picked = 0, handling = 'void' WHERE id = ?", params![line.id])?;
                continue;
            }
            let took = picked[k].min(open_units);
            let short = line.quantity.min(open_units) - took;
            tx.execute(
                "UPDATE order_lines SET picked = picked + ? WHERE order_id = ? AND line_no = ?",
                params![took, order_id, line.line_no],
            )?;
            let mut handling = None;
            if short > 0 {
                let written_off = tx.execute(
                    "UPDATE stock_levels SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? \
                     WHERE product_id = ? AND warehouse_id = ? AND reserved >= ?",
                    params![short, short, ctx.now.micros(), product_id, warehouse.id, short],
                )?;
                if written_off != 1 {
                    return Err(DbError::Other(format!(
                        "reservation of {short} × {} in {} is missing",
                        line.sku, warehouse.code
                    ))
                    .into());
                }
                let mut movements = vec![NewMovement {
                    product_id,
                    warehouse_id: warehouse.id,
                    kind: MovementKind::Adjustment,
                    on_hand_delta: -short,
                    reserved_delta: -short,
                    reason: Some(&why),
                    reference: Some(&order.number),
                }];
                let untouched = order_line.int(4)? + took == 0;
                let elsewhere =
                    if reallocate && untouched { stock::reserve(tx, product_id, short, ctx.now)?.ok() } else { None };
                match elsewhere {
                    Some(other) => {
                        orders::store::set_line_warehouse(tx, order_id, line.line_no, other)?;
                        movements.push(NewMovement {
                            product_id,
                            warehouse_id: other,
                            kind: MovementKind::Reservation,
                            on_hand_delta: 0,
                            reserved_delta: short,
                            reason: Some(&why),
                            reference: Some(&order.number),
                        });
                        handling = Some("reallocate");
                    }
                    None => {
                        tx.execute(
                            "UPDATE order_lines SET backordered = backordered + ? WHERE order_id = ? AND line_no = ?",
                            params![short, order_id, line.line_no],
                        )?;
                        handling = Some("backorder");
                    }
                }
                stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
            }
            tx.execute(
                "UPDATE pick_list_lines SET picked = ?, handling = ? WHERE id = ?",
                params![took, handling, line.id],
            )?;
            notes.push(json!({"sku": line.sku, "picked": took, "short": short, "handling": handling}));
        }
        if !notes.is_empty() {
            let details = json!({"pick_list": list.number, "lines": notes});
            orders::store::append_event(tx, order_id, &ctx.actor, "picked", &details, ctx.now)?;
            tx.execute(
                "UPDATE orders SET version = version + 1, updated_at = ? WHERE id = ?",
                params![ctx.now.micros(), order_id],
            )?;
        }
    }
    get_pick_list(tx, id)
}
