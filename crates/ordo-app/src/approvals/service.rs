//! Approval use cases: each approver's inbox, approve, reject, and escalation of steps
//! that waited too long. A decision is one step of the order's current round; the last
//! approval confirms the order, a rejection returns it for editing or cancels it.

use super::store;
use crate::common::Ctx;
use crate::db::Tx;
use crate::orders::{
    self, ApprovalInbox, ApprovalStepView, Decision, Order, OrderError, cancel_after_rejection, get_order, lock_order,
};
use crate::settings::OrderPolicy;
use ordo_domain::auth::Role;
use ordo_domain::orders::{OrderAction, OrderStatus};
use ordo_domain::validation::optional_text;
use serde_json::json;

/// The steps waiting for someone with these roles now.
pub fn approval_inbox(tx: &mut dyn Tx, roles: &[Role]) -> Result<ApprovalInbox, OrderError> {
    Ok(ApprovalInbox { items: store::inbox(tx, roles, 200)? })
}

/// The step of the current round these roles may decide now: the earliest pending step
/// number, a step of the caller's role (or escalated to it); admins may decide any.
fn step_for(tx: &mut dyn Tx, order: &Order, roles: &[Role]) -> Result<ApprovalStepView, OrderError> {
    let pending: Vec<ApprovalStepView> =
        store::current_steps(tx, &[order.id])?.into_iter().filter(|s| s.status == "pending").collect();
    let Some(first) = pending.iter().map(|s| s.step).min() else {
        return Err(OrderError::Conflict(format!("{} has no approval step waiting", order.number)));
    };
    let active: Vec<&ApprovalStepView> = pending.iter().filter(|s| s.step == first).collect();
    active
        .iter()
        .find(|s| roles.contains(&s.role) || s.escalated_to.is_some_and(|r| roles.contains(&r)))
        .or_else(|| active.iter().find(|_| roles.contains(&Role::Admin)))
        .map(|s| (*s).clone())
        .ok_or_else(|| OrderError::NotYourStep { waiting_for: active.iter().map(|s| s.role).collect() })
}

fn comment(decision: &Decision, required: bool) -> Result<Option<String>, OrderError> {
    let comment =
        optional_text("comment", decision.comment.as_deref(), 2000).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    if required && comment.is_none() {
        return Err(ordo_domain::Invalid::field("comment", "say why the order is rejected").into());
    }
    Ok(comment)
}

/// Locks the order, checks the action is allowed now, and records the caller's decision
/// on the step that is theirs to decide.
fn decide_step(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    roles: &[Role],
    (id, expected_version): (i64, Option<i64>),
    action: OrderAction,
    comment: Option<&str>,
) -> Result<(Order, ApprovalStepView), OrderError> {
    let order = lock_order(tx, id, expected_version)?;
    order.status.check(action)?;
    let step = step_for(tx, &order, roles)?;
    let outcome = if action == OrderAction::Approve { "approved" } else { "rejected" };
    store::decide(tx, step.id, outcome, &ctx.actor, comment, ctx.now)?;
    Ok((order, step))
}

pub fn approve_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    roles: &[Role],
    id: i64,
    expected_version: Option<i64>,
    decision: &Decision,
) -> Result<Order, OrderError> {
    let comment = comment(decision, false)?;
    let (order, step) = decide_step(tx, ctx, roles, (id, expected_version), OrderAction::Approve, comment.as_deref())?;
    let waiting = store::current_steps(tx, &[id])?.iter().any(|s| s.status == "pending");
    let next = order.status.to(OrderAction::Approve, OrderStatus::after_review(false, waiting))?;
    orders::store::set_status(tx, id, next, ctx.now)?;
    let mut approved = Order { status: next, ..order.clone() };
    let policy = crate::settings::order_policy(tx)?;
    orders::settle_stock(tx, ctx, &mut approved, &policy)?;
    let details = json!({"step": step.step, "role": step.role, "comment": comment, "to": next});
    orders::store::append_event(tx, id, &ctx.actor, "approved", &details, ctx.now)?;
    let summary =
        format!("step {} ({}) approved{}", step.step, step.role.as_str(), if waiting { "" } else { "; confirmed" });
    crate::audit::record(tx, ctx, "orders", "order.approved", &order.number, &summary)?;
    get_order(tx, id)
}

/// Rejects with a comment: the order goes back to draft for editing and resubmission, or
/// is cancelled (its stock released) when `cancel` is set.
pub fn reject_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    roles: &[Role],
    id: i64,
    expected_version: Option<i64>,
    decision: &Decision,
) -> Result<Order, OrderError> {
    let comment = comment(decision, true)?.unwrap_or_default();
    let (order, step) = decide_step(tx, ctx, roles, (id, expected_version), OrderAction::Reject, Some(&comment))?;
    store::supersede_pending(tx, id, ctx.now)?;
    let cancel = decision.cancel.unwrap_or(false);
    let details = json!({"step": step.step, "role": step.role, "comment": comment, "cancel": cancel});
    orders::store::append_event(tx, id, &ctx.actor, "rejected", &details, ctx.now)?;
    if cancel {
        cancel_after_rejection(tx, ctx, &order, &comment)?;
    } else {
        let next = order.status.to(OrderAction::Reject, OrderStatus::Draft)?;
        orders::store::set_status(tx, id, next, ctx.now)?;
        crate::audit::record(tx, ctx, "orders", "order.rejected", &order.number, &comment)?;
    }
    get_order(tx, id)
}

/// Escalates steps pending longer than the policy allows; each escalation is claimed by
/// a conditional update, so two servers never escalate one step twice.
pub fn escalate_stale_steps(tx: &mut dyn Tx, ctx: &Ctx, policy: &OrderPolicy) -> Result<usize, OrderError> {
    if policy.escalate_after_minutes == 0 {
        return Ok(0);
    }
    let cutoff = ctx.now.plus_seconds(-60 * policy.escalate_after_minutes);
    let mut escalated = 0;
    for (step_id, order_id) in store::stale(tx, cutoff, 100)? {
        if store::escalate(tx, step_id, policy.escalate_to, ctx.now)? {
            let details =
                json!({"step_id": step_id, "to": policy.escalate_to, "after_minutes": policy.escalate_after_minutes});
            orders::store::append_event(tx, order_id, &ctx.actor, "escalated", &details, ctx.now)?;
            escalated += 1;
        }
    }
    Ok(escalated)
}

/// Every approval step of an order, all rounds.
pub fn approval_history(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<ApprovalStepView>, OrderError> {
    orders::store::header_by_id(tx, order_id)?.ok_or(OrderError::NotFound(order_id))?;
    Ok(store::all_steps(tx, order_id)?)
}
