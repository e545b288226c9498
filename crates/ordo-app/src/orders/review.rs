//! Review: the exception checks and the operators' rules, run when an order is placed,
//! submitted, edited or merged, and what their outcome does to the order.

use super::model::*;
use super::store;
use crate::catalog;
use crate::common::Ctx;
use crate::customers::{self, Customer};
use crate::db::Tx;
use crate::settings::OrderPolicy;
use ordo_domain::Timestamp;
use ordo_domain::checks::{self, HoldCode, HoldReason};
use ordo_domain::money::from_e4_in;
use ordo_domain::orders::{OrderAction, OrderStatus};
use ordo_domain::rules::{self, Facts, LineFacts, Outcome};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The lines as sorted "sku×quantity", hashed: equal for orders with the same lines.
pub(crate) fn fingerprint(lines: &[OrderLine]) -> String {
    let mut parts: Vec<String> = lines.iter().map(|l| format!("{}×{}", l.sku, l.quantity)).collect();
    parts.sort();
    Sha256::digest(parts.join("\n").as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn clock(now: Timestamp) -> (i64, i64, String) {
    let seconds = now.micros().div_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let hour = seconds.rem_euclid(86_400) / 3_600;
    // 1970-01-01 was a Thursday (ISO weekday 4).
    let weekday = (days + 3).rem_euclid(7) + 1;
    (hour, weekday, now.to_rfc3339().chars().take(10).collect())
}

/// What the catalog says about one line's product: its price-list price and its tags.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineCatalog {
    pub list_price: Option<Decimal>,
    pub tags: Vec<String>,
}

pub(crate) fn build_facts(
    order: &Order,
    customer: &Customer,
    catalog: &[LineCatalog],
    exposure: Decimal,
    now: Timestamp,
) -> Facts {
    let (hour, weekday, date) = clock(now);
    Facts {
        total: order.total,
        subtotal: order.subtotal,
        tax_total: order.tax_total,
        currency: order.currency.code().to_string(),
        channel: order.channel.as_str().to_string(),
        lines: order
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineFacts {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                list_price: catalog.get(i).and_then(|c| c.list_price),
                discount_percent: l.discount_percent,
                line_total: l.line_total,
                tags: catalog.get(i).map(|c| c.tags.clone()).unwrap_or_default(),
            })
            .collect(),
        tags: order.tags.clone(),
        destination: order.shipping_address.clone(),
        customer_code: customer.code.clone(),
        customer_group: customer.group.clone(),
        customer_region: customer.region.clone().unwrap_or_default(),
        credit_limit: customer.credit_limit,
        exposure,
        payment_terms: customer.payment_terms.clone(),
        hour,
        weekday,
        date,
    }
}

/// The price list's price (where there is one) and the tags of each line's product.
pub(crate) fn line_catalog(
    tx: &mut dyn Tx,
    record: &customers::store::CustomerRecord,
    order: &Order,
) -> Result<Vec<LineCatalog>, OrderError> {
    let mut skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    let products = catalog::store::products_by_skus(tx, &skus)?;
    let ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let offers = catalog::store::list_offers(
        tx,
        record.price_list_id,
        &record.customer.group,
        &order.channel,
        order.currency,
        &ids,
    )?;
    Ok(order
        .lines
        .iter()
        .map(|line| {
            let Some(product) = products.iter().find(|p| p.sku == line.sku) else { return LineCatalog::default() };
            let list_price = catalog::store::best_offer(&offers, product.id, line.quantity)
                .map(|o| o.price)
                .or((product.currency == order.currency).then_some(product.price));
            LineCatalog { list_price, tags: product.tags.clone() }
        })
        .collect())
}

/// Exposure is only summed when something reads it: it scans the customer's open orders.
pub(crate) fn exposure_if_needed(
    tx: &mut dyn Tx,
    customer: &Customer,
    order: &Order,
    policy: &OrderPolicy,
    rules: &[rules::Rule],
) -> Result<Decimal, OrderError> {
    let needed = (policy.credit_check && customer.credit_limit.is_some())
        || rules.iter().any(|r| r.condition.source().contains("exposure"));
    if !needed {
        return Ok(Decimal::ZERO);
    }
    let e4 = store::exposure(tx, customer.id, order.currency.code(), order.id)?;
    Ok(from_e4_in(e4, order.currency))
}

/// The facts a rule sees for a stored order, as of `now`.
pub fn facts_of_order(tx: &mut dyn Tx, order_id: i64, now: Timestamp) -> Result<Facts, OrderError> {
    let order = super::get_order(tx, order_id)?;
    let record =
        customers::store::by_id(tx, order.customer_id)?.ok_or(OrderError::CustomerNotFound(order.customer_id))?;
    let prices = line_catalog(tx, &record, &order)?;
    let exposure = from_e4_in(store::exposure(tx, order.customer_id, order.currency.code(), order.id)?, order.currency);
    Ok(build_facts(&order, &record.customer, &prices, exposure, now))
}

/// What the checks and the rules found.
pub(crate) struct Review {
    pub holds: Vec<HoldReason>,
    pub outcome: Outcome,
}

/// An earlier live order with the same customer and lines inside the policy's window.
pub(crate) fn duplicate_of(
    tx: &mut dyn Tx,
    policy: &OrderPolicy,
    order: &Order,
    fingerprint: &str,
    now: Timestamp,
) -> Result<Option<String>, OrderError> {
    if policy.duplicate_window_minutes == 0 {
        return Ok(None);
    }
    let since = now.plus_seconds(-60 * policy.duplicate_window_minutes);
    // A new order (id 0) may duplicate any earlier one; a stored one only those before it.
    let before = if order.id == 0 { i64::MAX } else { order.id };
    Ok(store::duplicate_of(tx, order.customer_id, fingerprint, since, before)?)
}

/// Runs the checks and the rules; `duplicate` is what [`duplicate_of`] found.
pub(crate) fn review(
    policy: &OrderPolicy,
    rules: &[rules::Rule],
    order: &Order,
    facts: &Facts,
    duplicate: Option<&str>,
) -> Review {
    let mut holds = checks::check_order(facts, order.currency, &policy.checks(), duplicate);
    let outcome = rules::decide(rules, facts);
    for failed in &outcome.failed {
        tracing::warn!(rule = failed.0, error = %failed.1, "rule could not run on an order; treated as not firing");
    }
    holds.extend(outcome.holds.iter().map(|reason| HoldReason::new(HoldCode::Rule, reason.clone())));
    Review { holds, outcome }
}

impl Review {
    pub fn is_quiet(&self) -> bool {
        self.holds.is_empty() && self.outcome.fired.is_empty()
    }
}

/// Records what a review found on a stored order (holds, approval steps, tags, queue,
/// timeline) and moves it by `action` to where the review sends it. `ask_approval` is
/// false when the edit did not change what was approved.
pub(crate) fn apply_review(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &mut Order,
    review: &Review,
    action: OrderAction,
    ask_approval: bool,
    policy: &OrderPolicy,
) -> Result<(), OrderError> {
    store::insert_holds(tx, order.id, &review.holds, &ctx.actor, ctx.now)?;
    if ask_approval {
        if review.outcome.approvals.is_empty() {
            crate::approvals::store::supersede_pending(tx, order.id, ctx.now)?;
        } else {
            crate::approvals::store::request(tx, order.id, &review.outcome.approvals, ctx.now)?;
        }
    }
    let open_holds = store::open_hold_count(tx, order.id)?;
    let pending = crate::approvals::store::current_steps(tx, &[order.id])?.iter().any(|s| s.status == "pending");
    let target = OrderStatus::after_review(open_holds > 0, pending);
    let from = order.status;
    order.status = from.to(action, target)?;
    for tag in &review.outcome.tags {
        if !order.tags.contains(tag) {
            order.tags.push(tag.clone());
        }
    }
    if review.outcome.department.is_some() {
        order.department = review.outcome.department.clone();
    }
    if let Some(priority) = review.outcome.priority {
        order.priority = order.priority.max(priority);
    }
    store::set_review(tx, order, ctx.now)?;
    record_review_events(tx, ctx, order.id, review)?;
    if from != order.status {
        store::append_event(
            tx,
            order.id,
            &ctx.actor,
            order.status.as_str(),
            &json!({"from": from, "by": action}),
            ctx.now,
        )?;
    }
    super::service::settle_stock(tx, ctx, order, policy)
}

/// The timeline entries of a review: which rules fired, which checks failed, who is told.
pub(crate) fn record_review_events(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    review: &Review,
) -> Result<(), OrderError> {
    if review.is_quiet() {
        return Ok(());
    }
    let o = &review.outcome;
    let details = json!({
        "rules_fired": o.fired.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "holds": review.holds,
        "approvals": o.approvals.iter().map(|a| json!({"step": a.step, "role": a.role})).collect::<Vec<_>>(),
        "tags": o.tags,
        "warehouse": o.warehouse,
        "department": o.department,
    });
    store::append_event(tx, order_id, &ctx.actor, "reviewed", &details, ctx.now)?;
    for role in &o.notify {
        store::append_event(tx, order_id, "rules", "notified", &json!({"role": role}), ctx.now)?;
        let rules: Vec<&str> = o.fired.iter().map(|(_, name)| name.as_str()).collect();
        let data = json!({"order_id": order_id, "role": role, "rules": rules});
        crate::events::record(tx, "order.notify", ("order", order_id), &data, ctx.now)?;
    }
    Ok(())
}
