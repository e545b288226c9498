//! After placement: submit, hold and release, edit, split and merge. Each is one use case
//! in one transaction, moves the order only along the state machine's edges, and leaves
//! its trace on the timeline and in the audit log.

use super::model::*;
use super::review;
use super::service::{Want, cancel_locked, get_order, lock_order, reserve_or_backorder, settle_stock, warehouse_codes};
use super::store::{self, LineRow};
use crate::common::Ctx;
use crate::customers;
use crate::db::Tx;
use crate::inventory::store::{self as stock, NewMovement};
use ordo_domain::Timestamp;
use ordo_domain::checks::{HoldCode, HoldReason};
use ordo_domain::inventory::MovementKind;
use ordo_domain::orders::{self as domain, LinePricing, OrderAction, OrderStatus};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations, optional_text, required_text};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Loads the lines of a locked header.
fn with_lines(tx: &mut dyn Tx, order: Order) -> Result<Order, OrderError> {
    let mut orders = vec![order];
    store::attach_lines(tx, &mut orders)?;
    Ok(orders.remove(0))
}

/// Runs the checks and rules again on a stored order and moves it by `action`.
fn review_again(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &mut Order,
    action: OrderAction,
    ask_approval: bool,
) -> Result<(), OrderError> {
    store::close_holds(tx, order.id, true, &ctx.actor, "checked again", ctx.now)?;
    let record =
        customers::store::by_id(tx, order.customer_id)?.ok_or(OrderError::CustomerNotFound(order.customer_id))?;
    let policy = crate::settings::order_policy(tx)?;
    let enabled = crate::rules::enabled_rules(tx)?;
    let prices = review::line_catalog(tx, &record, order)?;
    let exposure = review::exposure_if_needed(tx, &record.customer, order, &policy, &enabled)?;
    let facts = review::build_facts(order, &record.customer, &prices, exposure, ctx.now);
    let fingerprint = review::fingerprint(&order.lines);
    let duplicate = review::duplicate_of(tx, &policy, order, &fingerprint, ctx.now)?;
    let found = review::review(&policy, &enabled, order, &facts, duplicate.as_deref());
    review::apply_review(tx, ctx, order, &found, action, ask_approval, &policy)
}

fn reason_required(field: &str, text: Option<&str>) -> Result<String, OrderError> {
    required_text(field, text, 500).map_err(|e| OrderError::Invalid(ordo_domain::Invalid(vec![e])))
}

/// Sends a draft (new, or returned by a rejection) through the checks and rules again.
pub fn submit_order(tx: &mut dyn Tx, ctx: &Ctx, id: i64, expected_version: Option<i64>) -> Result<Order, OrderError> {
    let order = lock_order(tx, id, expected_version)?;
    order.status.check(OrderAction::Submit)?;
    let mut order = with_lines(tx, order)?;
    review_again(tx, ctx, &mut order, OrderAction::Submit, true)?;
    crate::audit::record(tx, ctx, "orders", "order.submitted", &order.number, order.status.as_str())?;
    get_order(tx, id)
}

/// Puts an order on hold by hand, with a reason; only a release lifts it.
pub fn hold_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &ReasonInput,
) -> Result<Order, OrderError> {
    let reason = reason_required("reason", input.reason.as_deref())?;
    let order = lock_order(tx, id, expected_version)?;
    let next = order.status.to(OrderAction::Hold, OrderStatus::OnHold)?;
    store::insert_holds(tx, id, &[HoldReason::new(HoldCode::Manual, reason.clone())], &ctx.actor, ctx.now)?;
    store::set_status(tx, id, next, ctx.now)?;
    store::append_event(tx, id, &ctx.actor, "held", &json!({"from": order.status, "reason": reason}), ctx.now)?;
    crate::audit::record(tx, ctx, "orders", "order.held", &order.number, &reason)?;
    get_order(tx, id)
}

/// Puts a locked order on hold for a reason found by the system (a failed payment…), or
/// adds the reason if it is already on hold. Orders that cannot be held are left alone.
pub fn hold_with(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, hold: HoldReason) -> Result<bool, OrderError> {
    if order.status.check(OrderAction::Hold).is_err() {
        return Ok(false);
    }
    let next = order.status.to(OrderAction::Hold, OrderStatus::OnHold)?;
    store::insert_holds(tx, order.id, std::slice::from_ref(&hold), &ctx.actor, ctx.now)?;
    store::set_status(tx, order.id, next, ctx.now)?;
    store::append_event(tx, order.id, &ctx.actor, "on_hold", &json!({"holds": [hold]}), ctx.now)?;
    Ok(true)
}

/// Closes the holds of one kind once their cause is gone (stock arrived, payment came in);
/// with no other hold left the order goes on: to approval if a step is pending, else
/// confirmed. True if the order was released.
pub fn lift_hold(tx: &mut dyn Tx, ctx: &Ctx, id: i64, code: HoldCode, why: &str) -> Result<bool, OrderError> {
    if store::close_holds_of(tx, id, code, &ctx.actor, why, ctx.now)? == 0 || store::open_hold_count(tx, id)? > 0 {
        return Ok(false);
    }
    let order = lock_order(tx, id, None)?;
    if order.status != OrderStatus::OnHold {
        return Ok(false);
    }
    let pending = crate::approvals::store::current_steps(tx, &[id])?.iter().any(|s| s.status == "pending");
    let next = order.status.to(OrderAction::Release, OrderStatus::after_review(false, pending))?;
    store::set_status(tx, id, next, ctx.now)?;
    store::append_event(tx, id, &ctx.actor, "released", &json!({"reason": why, "to": next}), ctx.now)?;
    Ok(true)
}

/// Lifts every hold (fixing the cause, or overriding it), with the reason recorded. The
/// order then waits for any approval still pending, or is confirmed.
pub fn release_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &ReasonInput,
) -> Result<Order, OrderError> {
    let reason = reason_required("reason", input.reason.as_deref())?;
    let order = lock_order(tx, id, expected_version)?;
    order.status.check(OrderAction::Release)?;
    let mut held = vec![order.clone()];
    store::attach_processing(tx, &mut held)?;
    let released: Vec<HoldReason> = held.remove(0).hold_reasons;
    store::close_holds(tx, id, false, &ctx.actor, &reason, ctx.now)?;
    let pending = crate::approvals::store::current_steps(tx, &[id])?.iter().any(|s| s.status == "pending");
    let next = order.status.to(OrderAction::Release, OrderStatus::after_review(false, pending))?;
    store::set_status(tx, id, next, ctx.now)?;
    let mut released_order = Order { status: next, ..order.clone() };
    let policy = crate::settings::order_policy(tx)?;
    settle_stock(tx, ctx, &mut released_order, &policy)?;
    let details = json!({"reason": reason, "released": released, "to": next});
    store::append_event(tx, id, &ctx.actor, "released", &details, ctx.now)?;
    let codes: Vec<&str> = released.iter().map(|h| h.code.as_str()).collect();
    crate::audit::record(
        tx,
        ctx,
        "orders",
        "order.released",
        &order.number,
        &format!("{} — {reason}", codes.join(", ")),
    )?;
    get_order(tx, id)
}

/// A line with where it is reserved.
#[derive(Clone)]
struct Sourced {
    line: OrderLine,
    product_id: i64,
    warehouse_id: i64,
}

fn sourced_lines(tx: &mut dyn Tx, order: &Order) -> Result<Vec<Sourced>, OrderError> {
    let sources = store::line_sources(tx, order.id)?;
    Ok(order
        .lines
        .iter()
        .filter_map(|line| {
            let &(_, product_id, warehouse_id) = sources.iter().find(|(no, _, _)| *no == line.line_no)?;
            Some(Sourced { line: line.clone(), product_id, warehouse_id })
        })
        .collect())
}

/// Numbers and prices lines again (each line rounded once) and sets the order's totals.
fn reprice(order: &mut Order, lines: &mut [Sourced]) {
    let pricing: Vec<LinePricing> = lines
        .iter()
        .map(|s| LinePricing {
            quantity: s.line.quantity,
            unit_price: s.line.unit_price,
            discount_percent: s.line.discount_percent,
            tax_rate: s.line.tax_rate,
            off: s.line.off(),
            tax_included: s.line.tax_included,
        })
        .collect();
    let (priced, totals) = domain::price_lines(order.currency, &pricing);
    for (i, (s, p)) in lines.iter_mut().zip(priced).enumerate() {
        s.line.line_no = i as i64 + 1;
        s.line.line_total = p.line_total;
        s.line.tax = p.tax;
    }
    order.lines = lines.iter().map(|s| s.line.clone()).collect();
    order.subtotal = totals.subtotal;
    order.tax_total = totals.tax_total;
    order.total = totals.total;
}

fn line_rows(lines: &[Sourced]) -> Vec<LineRow<'_>> {
    lines.iter().map(|s| LineRow { line: &s.line, product_id: s.product_id, warehouse_id: s.warehouse_id }).collect()
}

/// Moves reserved units from one order to another: the stock level is unchanged, the
/// ledger shows a release on one reference and a reservation on the other.
fn move_reservations(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    moved: &[(i64, i64, i64)],
    from: &str,
    to: &str,
    why: &str,
) -> Result<(), OrderError> {
    let mut movements = Vec::with_capacity(moved.len() * 2);
    for &(product_id, warehouse_id, quantity) in moved.iter().filter(|(_, _, q)| *q > 0) {
        for (kind, delta, reference) in
            [(MovementKind::Release, -quantity, from), (MovementKind::Reservation, quantity, to)]
        {
            movements.push(NewMovement {
                product_id,
                warehouse_id,
                kind,
                on_hand_delta: 0,
                reserved_delta: delta,
                reason: Some(why),
                reference: Some(reference),
            });
        }
    }
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    Ok(())
}

/// Changes lines, address, requested date or notes while the state allows it. New lines
/// are priced and reserved as one atomic change (all or nothing); the checks and rules run
/// again, and a change of lines may need approval again. The timeline records the diff.
pub fn edit_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    patch: &OrderPatch,
) -> Result<Order, OrderError> {
    let locked = lock_order(tx, id, expected_version)?;
    locked.status.check(OrderAction::Edit)?;
    let mut order = with_lines(tx, locked)?;
    let before = order.clone();

    let mut v = Violations::new();
    let address = patch.shipping_address.as_ref().map(|a| a.parse("shipping_address", &mut v));
    let notes = patch.notes.as_ref().map(|n| v.check(optional_text("notes", Some(n), 2000)));
    let priority = patch.priority.map(|p| {
        if (-100..=100).contains(&p) {
            Some(p)
        } else {
            v.add("priority", "must be between -100 and 100");
            None
        }
    });
    let date = patch
        .requested_delivery_date
        .as_ref()
        .map(|d| v.check(Date::field("requested_delivery_date", Some(d))).map(|d| d.map(|d| d.to_string())));
    v.into_result()?;

    let lines_changed = match &patch.lines {
        None => false,
        Some(new_lines) => {
            replace_lines(tx, ctx, &mut order, new_lines)?;
            true
        }
    };
    if let Some(Some(address)) = address {
        order.shipping_address = Some(address);
    }
    if let Some(Some(notes)) = notes {
        order.notes = notes;
    }
    if let Some(Some(date)) = date {
        order.requested_delivery_date = date;
    }
    if let Some(Some(priority)) = priority {
        order.priority = priority;
    }
    store::update_contents(tx, &order, &review::fingerprint(&order.lines), ctx.now)?;
    let diff = edit_diff(&before, &order);
    store::append_event(tx, id, &ctx.actor, "edited", &diff, ctx.now)?;
    if order.status != OrderStatus::Draft {
        review_again(tx, ctx, &mut order, OrderAction::Edit, lines_changed)?;
    }
    crate::audit::record(tx, ctx, "orders", "order.edited", &order.number, &diff.to_string())?;
    get_order(tx, id)
}

fn edit_diff(before: &Order, after: &Order) -> serde_json::Value {
    let mut quantities: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for l in &before.lines {
        quantities.entry(&l.sku).or_default().0 += l.quantity;
    }
    for l in &after.lines {
        quantities.entry(&l.sku).or_default().1 += l.quantity;
    }
    let lines: Vec<serde_json::Value> = quantities
        .iter()
        .filter(|(_, (from, to))| from != to)
        .map(|(sku, (from, to))| json!({"sku": sku, "from": from, "to": to}))
        .collect();
    let mut diff = json!({"lines": lines});
    if before.total != after.total {
        diff["total"] = json!({"from": before.total.to_string(), "to": after.total.to_string()});
    }
    if before.shipping_address != after.shipping_address {
        diff["shipping_address"] = json!({"from": before.shipping_address, "to": after.shipping_address});
    }
    if before.requested_delivery_date != after.requested_delivery_date {
        diff["requested_delivery_date"] =
            json!({"from": before.requested_delivery_date, "to": after.requested_delivery_date});
    }
    if before.priority != after.priority {
        diff["priority"] = json!({"from": before.priority, "to": after.priority});
    }
    if before.notes != after.notes {
        diff["notes"] = json!({"from": before.notes, "to": after.notes});
    }
    diff
}

/// Prices the new lines for the order's customer and moves its reservation to them: every
/// old reservation is released and every new line reserved, preferring the warehouse the
/// product was reserved in, inside the one transaction. The ledger records the net change.
fn replace_lines(tx: &mut dyn Tx, ctx: &Ctx, order: &mut Order, new_lines: &[NewOrderLine]) -> Result<(), OrderError> {
    // A SKU already on the order keeps its price and discount unless new ones are given.
    let lines: Vec<NewOrderLine> = new_lines
        .iter()
        .map(|line| {
            let old = order.lines.iter().find(|l| Some(&l.sku) == line.sku.as_ref());
            NewOrderLine {
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit: line.unit.clone(),
                unit_price: line
                    .unit_price
                    .clone()
                    .or(old.map(|l| crate::common::AmountInput(l.unit_price.to_string()))),
                discount_percent: line
                    .discount_percent
                    .clone()
                    .or(old.map(|l| crate::common::AmountInput(l.discount_percent.to_string()))),
            }
        })
        .collect();
    let input = NewOrder {
        customer_id: Some(order.customer_id),
        currency: Some(order.currency.code().to_string()),
        lines: Some(lines),
        channel: Some(order.channel.clone()),
        coupon_code: order.coupon_code.clone(),
        ..Default::default()
    };
    let priced = super::service::price_for_edit(tx, &input, order.created_at)?;

    // Lines of an order that let its stock go while waiting hold nothing to release.
    let planned = sourced_lines(tx, order)?;
    let old: Vec<Sourced> = if order.stock_reserved { planned.clone() } else { Vec::new() };
    for s in old.iter().filter(|s| s.line.reserved_quantity() > 0) {
        stock::release(tx, s.product_id, s.warehouse_id, s.line.reserved_quantity(), ctx.now)?;
    }
    let wants: Vec<Want> = priced
        .iter()
        .map(|(line, product_id, backorderable)| Want {
            product_id: *product_id,
            quantity: line.quantity,
            sku: &line.sku,
            prefer: planned.iter().find(|s| s.product_id == *product_id).map(|s| s.warehouse_id),
            backorderable: *backorderable,
        })
        .collect();
    let reserved = reserve_or_backorder(tx, &wants, ctx.now)?;
    let warehouses: Vec<i64> = reserved.iter().map(|(w, _)| *w).collect();
    let codes = warehouse_codes(tx, &warehouses)?;
    let mut sourced: Vec<Sourced> = Vec::with_capacity(priced.len());
    for ((line, product_id, _), &(warehouse_id, backordered)) in priced.iter().zip(&reserved) {
        let mut line = line.clone();
        line.warehouse = codes.iter().find(|(id, _)| *id == warehouse_id).map(|(_, c)| c.clone()).unwrap_or_default();
        line.backordered_quantity = backordered;
        if backordered > 0 {
            line.promise_date = crate::inventory::supply::promise_date(tx, *product_id, backordered, ctx.now)?;
        }
        sourced.push(Sourced { line, product_id: *product_id, warehouse_id });
    }
    reprice(order, &mut sourced);
    store::replace_lines(tx, order.id, &line_rows(&sourced))?;

    let mut net: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for s in &old {
        *net.entry((s.product_id, s.warehouse_id)).or_default() -= s.line.reserved_quantity();
    }
    for s in &sourced {
        *net.entry((s.product_id, s.warehouse_id)).or_default() += s.line.reserved_quantity();
    }
    let movements: Vec<NewMovement> = net
        .iter()
        .filter(|(_, delta)| **delta != 0)
        .map(|(&(product_id, warehouse_id), &delta)| NewMovement {
            product_id,
            warehouse_id,
            kind: if delta > 0 { MovementKind::Reservation } else { MovementKind::Release },
            on_hand_delta: 0,
            reserved_delta: delta,
            reason: Some("order edited"),
            reference: Some(&order.number),
        })
        .collect();
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    if !order.stock_reserved {
        store::set_stock_reserved(tx, order.id, true)?;
        order.stock_reserved = true;
    }
    Ok(())
}

/// The order a split left behind and the new one it made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SplitResult {
    pub original: Order,
    pub split: Order,
}

/// Moves the given quantities to a new order of the same customer (e.g. what can ship now
/// and the rest later). Reservations move with the units; each order is priced on its own.
pub fn split_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &SplitOrder,
) -> Result<SplitResult, OrderError> {
    let locked = lock_order(tx, id, expected_version)?;
    let status = locked.status.apply(OrderAction::Split)?;
    let mut order = with_lines(tx, locked)?;
    let mut v = Violations::new();
    let mut wanted: BTreeMap<String, i64> = BTreeMap::new();
    match input.lines.as_deref() {
        None | Some([]) => v.add("lines", "name at least one SKU and quantity to move"),
        Some(lines) => {
            for (i, line) in lines.iter().enumerate() {
                let sku = v.check(required_text(&format!("lines[{i}].sku"), line.sku.as_deref(), 64));
                let quantity = match line.quantity {
                    Some(q) if q >= 1 => Some(q),
                    _ => v.check(Err(FieldError::new(format!("lines[{i}].quantity"), "must be at least 1"))),
                };
                if let (Some(sku), Some(quantity)) = (sku, quantity) {
                    let on_order: i64 = order.lines.iter().filter(|l| l.sku == sku).map(|l| l.quantity).sum();
                    let total = wanted.get(&sku).copied().unwrap_or(0) + quantity;
                    if on_order == 0 {
                        v.add(format!("lines[{i}].sku"), format!("{sku} is not on this order"));
                    } else if total > on_order {
                        v.add(format!("lines[{i}].quantity"), format!("the order has only {on_order} of {sku}"));
                    }
                    wanted.insert(sku, total);
                }
            }
        }
    }
    v.into_result()?;

    let mut kept = Vec::new();
    let mut moved = Vec::new();
    for s in sourced_lines(tx, &order)? {
        let take = wanted.get_mut(&s.line.sku).map(|left| {
            let take = (*left).min(s.line.quantity);
            *left -= take;
            take
        });
        match take.unwrap_or(0) {
            0 => kept.push(s),
            take if take == s.line.quantity => moved.push(s),
            take => {
                // What cannot ship now is what splits off first: backordered units move
                // before reserved ones.
                let moved_backordered = take.min(s.line.backordered_quantity);
                let mut rest = s;
                let mut part = rest.clone();
                part.line.quantity = take;
                part.line.backordered_quantity = moved_backordered;
                // The promotions go with the units, in proportion.
                part.line.pricing =
                    rest.line.pricing.as_mut().map(|note| note.split_off(order.currency, take, rest.line.quantity));
                moved.push(part);
                rest.line.quantity -= take;
                rest.line.backordered_quantity -= moved_backordered;
                if rest.line.backordered_quantity == 0 {
                    rest.line.promise_date = None;
                }
                kept.push(rest);
            }
        }
    }
    if kept.is_empty() {
        return Err(ordo_domain::Invalid::field(
            "lines",
            "this would move every unit; leave at least one on the order",
        )
        .into());
    }

    let mut split = order.clone();
    split.id = 0;
    split.external_ref = None;
    split.split_from = Some(order.id);
    split.status = status;
    split.created_by = ctx.actor.clone();
    split.created_at = ctx.now;
    split.updated_at = ctx.now;
    reprice(&mut split, &mut moved);
    reprice(&mut order, &mut kept);
    store::replace_lines(tx, order.id, &line_rows(&kept))?;
    store::update_contents(tx, &order, &review::fingerprint(&order.lines), ctx.now)?;
    split.number = new_number(tx, ctx.now)?;
    split.id = store::insert_order(
        tx,
        &store::OrderRow { number: &split.number, order: &split, fingerprint: &review::fingerprint(&split.lines) },
    )?;
    store::insert_lines(tx, split.id, &line_rows(&moved))?;
    crate::reports::summaries::count_order(tx, split.id)?;
    let moved_units: Vec<(i64, i64, i64)> =
        moved.iter().map(|s| (s.product_id, s.warehouse_id, s.line.reserved_quantity())).collect();
    move_reservations(tx, ctx, &moved_units, &order.number, &split.number, "order split")?;
    let lines_moved: Vec<serde_json::Value> =
        moved.iter().map(|s| json!({"sku": s.line.sku, "quantity": s.line.quantity})).collect();
    store::append_event(
        tx,
        order.id,
        &ctx.actor,
        "split",
        &json!({"into": split.number, "lines": lines_moved}),
        ctx.now,
    )?;
    store::append_event(
        tx,
        split.id,
        &ctx.actor,
        "split_from",
        &json!({"from": order.number, "lines": lines_moved}),
        ctx.now,
    )?;
    crate::audit::record(tx, ctx, "orders", "order.split", &order.number, &format!("into {}", split.number))?;
    Ok(SplitResult { original: get_order(tx, order.id)?, split: get_order(tx, split.id)? })
}

fn new_number(tx: &mut dyn Tx, now: Timestamp) -> Result<String, OrderError> {
    let sequence = store::next_order_sequence(tx, now.year())?;
    Ok(domain::order_number(now.year(), sequence))
}

/// Merges open orders of one customer, in one currency, to one shipping address into the
/// oldest. The others are cancelled with `merged_into` set; their reservations move over.
/// The merged order goes through the checks and rules again.
pub fn merge_orders(tx: &mut dyn Tx, ctx: &Ctx, input: &MergeOrders) -> Result<Order, OrderError> {
    let mut ids = input.order_ids.clone().unwrap_or_default();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() < 2 || ids.len() > 20 {
        return Err(ordo_domain::Invalid::field("order_ids", "give 2 to 20 different order ids").into());
    }
    let mut orders = Vec::with_capacity(ids.len());
    for &id in &ids {
        let order = store::lock_header(tx, id)?
            .ok_or_else(|| ordo_domain::Invalid::field("order_ids", format!("no order has id {id}")))?;
        order.status.check(OrderAction::Merge)?;
        orders.push(with_lines(tx, order)?);
    }
    let first = &orders[0];
    for other in &orders[1..] {
        let why = if other.customer_id != first.customer_id {
            Some("the orders belong to different customers")
        } else if other.currency != first.currency {
            Some("the orders are in different currencies")
        } else if other.shipping_address != first.shipping_address {
            Some("the orders ship to different addresses")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(OrderError::Conflict(format!("cannot merge {} into {}: {why}", other.number, first.number)));
        }
    }
    let mut target = orders.remove(0);
    let mut lines = sourced_lines(tx, &target)?;
    let mut merged_numbers = Vec::new();
    for source in &orders {
        let source_lines = sourced_lines(tx, source)?;
        let units: Vec<(i64, i64, i64)> =
            source_lines.iter().map(|s| (s.product_id, s.warehouse_id, s.line.reserved_quantity())).collect();
        move_reservations(tx, ctx, &units, &source.number, &target.number, "orders merged")?;
        lines.extend(source_lines);
        store::close_holds(tx, source.id, false, &ctx.actor, "merged", ctx.now)?;
        crate::approvals::store::supersede_pending(tx, source.id, ctx.now)?;
        store::set_merged_into(tx, source.id, target.id, ctx.now)?;
        store::append_event(tx, source.id, &ctx.actor, "merged_into", &json!({"into": target.number}), ctx.now)?;
        merged_numbers.push(source.number.clone());
    }
    reprice(&mut target, &mut lines);
    store::replace_lines(tx, target.id, &line_rows(&lines))?;
    store::update_contents(tx, &target, &review::fingerprint(&target.lines), ctx.now)?;
    store::append_event(tx, target.id, &ctx.actor, "merged", &json!({"from": merged_numbers}), ctx.now)?;
    review_again(tx, ctx, &mut target, OrderAction::Merge, true)?;
    crate::audit::record(tx, ctx, "orders", "order.merged", &target.number, &merged_numbers.join(", "))?;
    get_order(tx, target.id)
}

/// Used by rejections that cancel (see `approvals`).
pub(crate) fn cancel_after_rejection(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    comment: &str,
) -> Result<(), OrderError> {
    cancel_locked(tx, ctx, order, Some(comment), OrderAction::Reject)
}

/// How much work waits in each queue, for the console's navigation. Counts stop at 1,000.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct QueueCounts {
    /// Approval steps waiting for the caller's roles.
    pub approvals: usize,
    /// Orders on hold (the exception queue).
    pub exceptions: usize,
    /// Confirmed orders the warehouse has yet to pick.
    pub to_pick: usize,
    /// Confirmed prepaid orders finance is waiting to see paid.
    pub awaiting_payment: usize,
}

pub fn queue_counts(tx: &mut dyn Tx, roles: &[ordo_domain::auth::Role]) -> Result<QueueCounts, OrderError> {
    let mut count = |filter: &str| -> Result<usize, OrderError> {
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE {filter} LIMIT 1000) q");
        Ok(tx.query_one(&sql, &[])?.int(0)? as usize)
    };
    let exceptions = count("status = 'on_hold'")?;
    let to_pick = count("status = 'confirmed' AND fulfillment_status = 'unfulfilled'")?;
    let awaiting_payment = count("status = 'confirmed' AND payment_status = 'unpaid' AND payment_terms = 'prepaid'")?;
    Ok(QueueCounts {
        approvals: crate::approvals::store::inbox_count(tx, roles)?,
        exceptions,
        to_pick,
        awaiting_payment,
    })
}
