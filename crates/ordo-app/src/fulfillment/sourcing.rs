//! Sourcing: which warehouse(s) reserve an order's lines. Placement plans with it, and
//! `POST /orders/{id}/allocate` runs it again (or moves everything to a named warehouse).

use super::invalid;
use super::model::{AllocateOrder, AllocatedLine, Allocation, FulfillmentError, WarehouseAllocation};
use crate::common::Ctx;
use crate::db::{DbError, Tx, Value};
use crate::inventory::store::{self as stock, NewMovement};
use crate::orders::{self, Order, OrderError, Want};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::fulfillment::{self as domain, Consignment, Need, Parcel, Source, SourcingStrategy};
use ordo_domain::inventory::MovementKind;
use ordo_domain::money::from_e4;
use ordo_domain::orders::OrderStatus;
use ordo_domain::time::Date;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;

/// Warehouses as sourcing sees them.
pub fn sources(tx: &mut dyn Tx) -> Result<Vec<Source>, DbError> {
    tx.query("SELECT id, code, region, priority, handling_fee_e4 FROM warehouses ORDER BY id", &[])?
        .iter()
        .map(|r| {
            Ok(Source {
                id: r.int(0)?,
                code: r.text(1)?,
                region: r.opt_text(2)?,
                priority: r.int(3)?,
                handling_fee: from_e4(r.int(4)?),
                shipping_estimate: None,
            })
        })
        .collect()
}

/// Plans where each line is reserved: one query for what is free of these products
/// everywhere, then the pure plan. Under `lowest_cost` each warehouse's cheapest
/// shipping of the whole order's weight is priced first.
pub fn plan(
    tx: &mut dyn Tx,
    needs: &[Need],
    destination: Option<&str>,
    strategy: SourcingStrategy,
    weight_kg: Decimal,
    now: Timestamp,
) -> Result<domain::Allocation, DbError> {
    let mut products: Vec<i64> = needs.iter().map(|n| n.product_id).collect();
    products.sort_unstable();
    products.dedup();
    let marks = vec!["?"; products.len()].join(", ");
    let ids: Vec<Value> = products.iter().map(|&p| p.into()).collect();
    let available: Vec<(i64, i64, i64)> = tx
        .query(
            &format!(
                "SELECT product_id, warehouse_id, on_hand - reserved FROM stock_levels \
                 WHERE product_id IN ({marks}) AND on_hand > reserved"
            ),
            &ids,
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, r.int(1)?, r.int(2)?)))
        .collect::<Result<_, DbError>>()?;
    let mut warehouses = sources(tx)?;
    if strategy == SourcingStrategy::LowestCost {
        let terms = super::carriers::load_terms_to(tx, destination)?;
        for w in &mut warehouses {
            let consignment = Consignment {
                parcels: vec![Parcel { weight_kg, volume_cm3: None }],
                tags: Vec::new(),
                from_region: w.region.clone(),
                to_region: destination.map(str::to_string),
                ship_date: Date::of(now),
                promised: None,
            };
            w.shipping_estimate = domain::rate_shop(&terms.services, &terms.bands, &consignment)
                .into_iter()
                .filter_map(|q| q.price)
                .min();
        }
    }
    Ok(domain::allocate(needs, &available, &warehouses, destination, strategy))
}

/// The order's allocation as the API shows it.
pub fn allocation_of(order: &Order) -> Allocation {
    let mut warehouses: Vec<WarehouseAllocation> = Vec::new();
    for line in &order.lines {
        let entry = match warehouses.iter_mut().position(|w| w.warehouse == line.warehouse) {
            Some(i) => &mut warehouses[i],
            None => {
                warehouses.push(WarehouseAllocation { warehouse: line.warehouse.clone(), lines: Vec::new() });
                warehouses.last_mut().expect("just pushed")
            }
        };
        entry.lines.push(AllocatedLine {
            line_no: line.line_no,
            sku: line.sku.clone(),
            quantity: line.quantity - line.shipped_quantity,
            backordered: line.backordered_quantity,
        });
    }
    Allocation {
        order_id: order.id,
        order_number: order.number.clone(),
        split: warehouses.len() > 1,
        split_reason: if warehouses.len() > 1 { order.split_reason.clone() } else { None },
        warehouses,
    }
}

/// Re-sources an order that has not started picking: its reservations are released and
/// taken again where the strategy (or the named warehouse) says.
pub fn allocate_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    input: &AllocateOrder,
) -> Result<Allocation, FulfillmentError> {
    let strategy = match input.strategy.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => SourcingStrategy::parse(raw)
            .ok_or_else(|| invalid("strategy", format!("must be one of {}", SourcingStrategy::choices())))?,
        None => super::fulfillment_settings(tx)?.sourcing_strategy,
    };
    let forced = match input.warehouse.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => {
            Some(stock::warehouse_by_code(tx, code)?.ok_or_else(|| FulfillmentError::WarehouseNotFound(code.into()))?)
        }
        None => None,
    };
    orders::lock_order(tx, id, None).map_err(|e| match e {
        OrderError::NotFound(id) => FulfillmentError::OrderNotFound(id),
        other => other.into(),
    })?;
    let order = orders::get_order(tx, id)?;
    if !matches!(order.status, OrderStatus::Confirmed | OrderStatus::OnHold | OrderStatus::PendingApproval) {
        return Err(FulfillmentError::Conflict(format!(
            "only open orders that have not shipped can be allocated; {} is {}",
            order.number, order.status
        )));
    }
    if !order.stock_reserved {
        return Err(FulfillmentError::Conflict(format!("{} holds no stock while it waits for approval", order.number)));
    }
    if let Some(list) = super::picking::open_pick_list_of(tx, id)? {
        return Err(FulfillmentError::Conflict(format!(
            "{} is being picked on {list}; confirm the pick list first",
            order.number
        )));
    }
    if order.lines.iter().any(|l| l.picked_quantity > 0) {
        return Err(FulfillmentError::Conflict(format!("{} has picked units; ship them first", order.number)));
    }
    let sources_now = orders::store::line_sources(tx, id)?;
    let product_of = |line_no: i64| sources_now.iter().find(|(no, _, _)| *no == line_no).map(|&(_, p, w)| (p, w));
    let mut net: HashMap<(i64, i64), i64> = HashMap::new();
    for line in &order.lines {
        let Some((product_id, warehouse_id)) = product_of(line.line_no) else { continue };
        if line.reserved_quantity() > 0 {
            stock::release(tx, product_id, warehouse_id, line.reserved_quantity(), ctx.now)?;
            *net.entry((product_id, warehouse_id)).or_default() -= line.reserved_quantity();
        }
    }
    let needs: Vec<Need> = order
        .lines
        .iter()
        .filter_map(|l| {
            let (product_id, _) = product_of(l.line_no)?;
            Some(Need { product_id, sku: l.sku.clone(), quantity: l.quantity - l.shipped_quantity })
        })
        .collect();
    let destination = order.shipping_address.as_ref().and_then(|a| a.region.clone());
    let (placed, split_reason): (Vec<(i64, i64)>, Option<String>) = match &forced {
        Some(w) => {
            let mut placed = Vec::new();
            let mut short = Vec::new();
            for need in &needs {
                if stock::reserve_in(tx, need.product_id, w.id, need.quantity, ctx.now)? {
                    placed.push((w.id, 0));
                } else {
                    let free = stock::lock_level(tx, need.product_id, w.id, ctx.now)?;
                    short.push(format!("{} (needs {}, {} free)", need.sku, need.quantity, (free.0 - free.1).max(0)));
                }
            }
            if !short.is_empty() {
                return Err(FulfillmentError::Conflict(format!("{} cannot fill {}", w.code, short.join(", "))));
            }
            (placed, None)
        }
        None => {
            let weight = order_weight(tx, &order)?;
            let plan = plan(tx, &needs, destination.as_deref(), strategy, weight, ctx.now)?;
            let wants: Vec<Want> = needs
                .iter()
                .zip(&order.lines)
                .enumerate()
                .map(|(i, (need, line))| Want {
                    product_id: need.product_id,
                    quantity: need.quantity,
                    sku: &need.sku,
                    prefer: plan.warehouses[i],
                    backorderable: line.backordered_quantity > 0,
                })
                .collect();
            (orders::reserve_or_backorder(tx, &wants, ctx.now)?, plan.split_reason)
        }
    };
    let mut moves = Vec::new();
    for ((line, need), &(warehouse_id, backordered)) in order.lines.iter().zip(&needs).zip(&placed) {
        tx.execute(
            "UPDATE order_lines SET warehouse_id = ?, backordered = ? WHERE order_id = ? AND line_no = ?",
            params![warehouse_id, backordered, id, line.line_no],
        )?;
        *net.entry((need.product_id, warehouse_id)).or_default() += need.quantity - backordered;
        moves.push(json!({"sku": line.sku, "from": line.warehouse, "to": warehouse_id, "backordered": backordered}));
    }
    let mut used: Vec<i64> = placed.iter().map(|(w, _)| *w).collect();
    used.sort_unstable();
    used.dedup();
    let split_reason = if used.len() > 1 { split_reason } else { None };
    tx.execute(
        "UPDATE orders SET split_reason = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![split_reason.clone(), ctx.now.micros(), id],
    )?;
    let movements: Vec<NewMovement> = net
        .iter()
        .filter(|(_, delta)| **delta != 0)
        .map(|(&(product_id, warehouse_id), &delta)| NewMovement {
            product_id,
            warehouse_id,
            kind: if delta > 0 { MovementKind::Reservation } else { MovementKind::Release },
            on_hand_delta: 0,
            reserved_delta: delta,
            reason: Some("allocated"),
            reference: Some(&order.number),
        })
        .collect();
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    let how = match &forced {
        Some(w) => json!({"warehouse": w.code}),
        None => json!({"strategy": strategy}),
    };
    let details = json!({"how": how, "lines": moves, "split_reason": split_reason});
    orders::store::append_event(tx, id, &ctx.actor, "allocated", &details, ctx.now)?;
    Ok(allocation_of(&orders::get_order(tx, id)?))
}

/// The order's weight from its products (units not yet shipped).
pub fn order_weight(tx: &mut dyn Tx, order: &Order) -> Result<Decimal, DbError> {
    let products = order_products(tx, order.id)?;
    Ok(order
        .lines
        .iter()
        .map(|l| {
            products.get(&l.sku).map_or(Decimal::ZERO, |p| p.weight_kg) * Decimal::from(l.quantity - l.shipped_quantity)
        })
        .sum())
}

/// What shipping needs of a product on an order.
pub struct OrderProduct {
    pub weight_kg: Decimal,
    pub tags: Vec<String>,
}

/// Each SKU of an order with its unit weight and tags.
pub fn order_products(tx: &mut dyn Tx, order_id: i64) -> Result<HashMap<String, OrderProduct>, DbError> {
    let mut out = HashMap::new();
    for r in tx.query(
        "SELECT p.sku, p.weight_g, p.tags FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id = ?",
        params![order_id],
    )? {
        let tags: Vec<String> = r.opt_text(2)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        let weight_kg = Decimal::from(r.opt_int(1)?.unwrap_or(0)) / Decimal::from(1000);
        out.insert(r.text(0)?, OrderProduct { weight_kg, tags });
    }
    Ok(out)
}
