//! The background scheduler: cancels unpaid orders after the configured time (releasing
//! their stock), escalates approval steps left waiting, and re-checks orders held for
//! stock. Safe with several `ordo serve`
//! processes on one database: each run claims a lease row, and every change is made by a
//! use case that locks the order and re-checks it, so a second worker finds nothing to do.

use crate::common::Ctx;
use crate::db::{Database, DbError, Tx};
use crate::fulfillment::{self, FulfillmentError};
use crate::orders::{self, OrderError};
use crate::params;
use crate::settings::{self, OrderPolicy};
use ordo_domain::Timestamp;
use ordo_domain::checks::HoldCode;
use ordo_domain::orders::{ChannelKind, OrderAction, OrderStatus, PaymentStatus};
use ordo_domain::payments::MethodConfig;
use std::time::Duration;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    pub cancelled: usize,
    pub escalated: usize,
    /// Orders held for stock that could be reserved at last.
    pub restocked: usize,
    /// `stock.low` events sent.
    pub low_stock: usize,
    /// Shipments found late and put in exception.
    pub delayed: usize,
    /// Delivered orders completed after the window without a dispute.
    pub completed: usize,
}

/// Takes the named lease until `now + seconds` unless another holder has it. The update
/// is conditional, so two processes cannot both take a live lease.
pub fn claim(tx: &mut dyn Tx, name: &str, holder: &str, now: Timestamp, seconds: i64) -> Result<bool, DbError> {
    let until = now.plus_seconds(seconds).micros();
    let taken = tx.execute(
        "UPDATE job_leases SET holder = ?, expires_at = ? WHERE name = ? AND (expires_at < ? OR holder = ?)",
        params![holder, until, name, now.micros(), holder],
    )?;
    if taken == 1 {
        return Ok(true);
    }
    if tx.query_opt("SELECT 1 FROM job_leases WHERE name = ?", params![name])?.is_some() {
        return Ok(false);
    }
    tx.execute("INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)", params![name, holder, until])?;
    Ok(true)
}

/// Gives a lease back early, so the next process need not wait for it to expire.
pub fn release(tx: &mut dyn Tx, name: &str, holder: &str, now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE job_leases SET expires_at = ? WHERE name = ? AND holder = ?",
        params![now.micros() - 1, name, holder],
    )?;
    Ok(())
}

/// Minutes after which an unpaid order is cancelled: its payment method's limit, else its
/// channel's.
fn unpaid_limit(
    methods: &[MethodConfig],
    policy: &OrderPolicy,
    order: &orders::Order,
    channel: ChannelKind,
) -> Option<i64> {
    let by_method = order
        .payment_method
        .as_deref()
        .and_then(|code| methods.iter().find(|m| m.code == code))
        .and_then(|m| m.auto_cancel_minutes);
    by_method.or_else(|| policy.auto_cancel_after(channel))
}

/// Unpaid open orders older than their payment method's or channel's limit, oldest first.
pub fn unpaid_due(tx: &mut dyn Tx, policy: &OrderPolicy, now: Timestamp) -> Result<Vec<i64>, DbError> {
    let mut due = Vec::new();
    for method in crate::payments::payment_settings(tx)?.methods {
        let Some(minutes) = method.auto_cancel_minutes else { continue };
        let cutoff = now.plus_seconds(-60 * minutes);
        for row in tx.query(
            "SELECT id FROM orders WHERE payment_method = ? AND payment_status = 'unpaid' AND created_at <= ? \
             AND status IN ('draft', 'pending_approval', 'on_hold', 'confirmed') ORDER BY created_at LIMIT 200",
            params![method.code.as_str(), cutoff.micros()],
        )? {
            due.push(row.int(0)?);
        }
    }
    // By kind: a registered marketplace follows the marketplace rule.
    for kind in ChannelKind::ALL {
        let Some(minutes) = policy.auto_cancel_after(*kind) else { continue };
        let cutoff = now.plus_seconds(-60 * minutes);
        for row in tx.query(
            "SELECT id FROM orders WHERE channel IN (SELECT code FROM channels WHERE kind = ?) AND payment_status = 'unpaid' AND created_at <= ? \
             AND status IN ('draft', 'pending_approval', 'on_hold', 'confirmed') ORDER BY created_at LIMIT 200",
            params![kind.as_str(), cutoff.micros()],
        )? {
            due.push(row.int(0)?);
        }
    }
    let mut seen = std::collections::HashSet::new();
    due.retain(|id| seen.insert(*id));
    Ok(due)
}

/// Cancels one order if it is still open, unpaid and past its limit; false otherwise
/// (another worker got there first, or it was paid meanwhile).
pub fn cancel_if_unpaid(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<bool, OrderError> {
    let policy = settings::order_policy(tx)?;
    let methods = crate::payments::payment_settings(tx)?.methods;
    let order = orders::lock_order(tx, id, None)?;
    let kind = crate::channels::kind_of(tx, &order.channel)?;
    let Some(minutes) = unpaid_limit(&methods, &policy, &order, kind) else { return Ok(false) };
    let due = order.created_at <= ctx.now.plus_seconds(-60 * minutes);
    if !due || order.payment_status != PaymentStatus::Unpaid || order.status == OrderStatus::Cancelled {
        return Ok(false);
    }
    let reason = format!("unpaid {minutes} minutes after placement");
    orders::cancel_locked(tx, ctx, &order, Some(&reason), OrderAction::Cancel)?;
    Ok(true)
}

/// Tries again to reserve stock for an order held because its stock was gone; when it
/// can, the stock hold is lifted and, with no other hold left, the order goes on.
pub fn recheck_stock_hold(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<bool, OrderError> {
    let mut order = orders::lock_order(tx, id, None)?;
    if order.status != OrderStatus::OnHold || order.stock_reserved {
        return Ok(false);
    }
    if orders::reserve_again(tx, ctx, &mut order)?.is_err() {
        return Ok(false);
    }
    orders::lift_hold(tx, ctx, id, HoldCode::Stock, "stock arrived")?;
    Ok(true)
}

/// Sends `stock.low` once when a level falls below its reorder point, and re-arms when it
/// is back above. The conditional update claims each crossing, so two servers running
/// this job never send one twice.
pub fn low_stock_alerts(tx: &mut dyn Tx, now: Timestamp) -> Result<usize, DbError> {
    let rows = tx.query(
        "SELECT r.product_id, r.warehouse_id, p.sku, w.code, r.reorder_point, \
         COALESCE(s.on_hand - s.reserved, 0), r.low_since FROM replenishment r \
         JOIN products p ON p.id = r.product_id JOIN warehouses w ON w.id = r.warehouse_id \
         LEFT JOIN stock_levels s ON s.product_id = r.product_id AND s.warehouse_id = r.warehouse_id",
        &[],
    )?;
    let mut sent = 0;
    for row in rows {
        let (product, warehouse, reorder_point, available) = (row.int(0)?, row.int(1)?, row.int(4)?, row.int(5)?);
        let low = available < reorder_point;
        match (low, row.opt_int(6)?) {
            (true, None) => {
                let claimed = tx.execute(
                    "UPDATE replenishment SET low_since = ? WHERE product_id = ? AND warehouse_id = ? AND low_since IS NULL",
                    params![now.micros(), product, warehouse],
                )?;
                if claimed == 1 {
                    let data = serde_json::json!({"sku": row.text(2)?, "warehouse": row.text(3)?, "available": available,
                        "reorder_point": reorder_point});
                    crate::events::record(tx, "stock.low", ("stock_level", product), &data, now)?;
                    sent += 1;
                }
            }
            (false, Some(_)) => {
                tx.execute(
                    "UPDATE replenishment SET low_since = NULL WHERE product_id = ? AND warehouse_id = ?",
                    params![product, warehouse],
                )?;
            }
            _ => {}
        }
    }
    Ok(sent)
}

/// The scheduler reports in the orders' error type; a fulfillment error that is not a
/// database one is a conflict there (the next run looks again).
fn job_error(e: FulfillmentError) -> OrderError {
    match e {
        FulfillmentError::Db(e) => OrderError::Db(e),
        FulfillmentError::Order(e) => e,
        other => OrderError::Conflict(other.to_string()),
    }
}

/// One pass of every job, each order in its own transaction.
pub async fn run_once(db: &Database, holder: &str) -> Result<JobReport, OrderError> {
    let mut report = JobReport::default();
    let (name, who) = ("scheduler", holder.to_string());
    let claimed = db.write(move |tx| claim(tx, name, &who, Timestamp::now(), 30).map_err(OrderError::from)).await?;
    if !claimed {
        return Ok(report);
    }
    let due = db
        .read(|tx| {
            let policy = settings::order_policy(tx)?;
            unpaid_due(tx, &policy, Timestamp::now()).map_err(OrderError::from)
        })
        .await?;
    for id in due {
        let ctx = Ctx::new("system:auto-cancel", "scheduler");
        if db.write(move |tx| cancel_if_unpaid(tx, &ctx, id)).await? {
            report.cancelled += 1;
        }
    }
    for id in db.read(|tx| orders::store::waiting_for_stock(tx, 200).map_err(OrderError::from)).await? {
        let ctx = Ctx::new("system:stock-recheck", "scheduler");
        if db.write(move |tx| recheck_stock_hold(tx, &ctx, id)).await? {
            report.restocked += 1;
        }
    }
    report.low_stock = db.write(|tx| low_stock_alerts(tx, Timestamp::now()).map_err(OrderError::from)).await?;
    for id in db.read(|tx| fulfillment::overdue_shipments(tx, Timestamp::now()).map_err(OrderError::from)).await? {
        let ctx = Ctx::new("system:tracking", "scheduler");
        if db.write(move |tx| fulfillment::flag_if_delayed(tx, &ctx, id).map_err(job_error)).await? {
            report.delayed += 1;
        }
    }
    let due = db
        .read(|tx| {
            let days = fulfillment::fulfillment_settings(tx)?.complete_after_days;
            fulfillment::due_for_completion(tx, days, Timestamp::now()).map_err(OrderError::from)
        })
        .await?;
    for id in due {
        let ctx = Ctx::new("system:auto-complete", "scheduler");
        if db.write(move |tx| fulfillment::complete_if_due(tx, &ctx, id).map_err(job_error)).await? {
            report.completed += 1;
        }
    }
    let ctx = Ctx::new("system:escalation", "scheduler");
    report.escalated = db
        .write(move |tx| {
            let policy = settings::order_policy(tx)?;
            crate::approvals::escalate_stale_steps(tx, &ctx, &policy)
        })
        .await?;
    Ok(report)
}

/// Runs the jobs every `interval` until the task is dropped.
pub async fn run_forever(db: Database, interval: Duration) {
    let mut holder_bytes = [0u8; 8];
    let _ = getrandom::fill(&mut holder_bytes);
    let holder = format!("{}-{}", std::process::id(), u64::from_le_bytes(holder_bytes));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let outcome = run_once(&db, &holder).await;
        metrics::counter!("scheduler_runs_total", "result" => if outcome.is_ok() { "ok" } else { "error" })
            .increment(1);
        if let Ok(report) = &outcome {
            metrics::counter!("orders_auto_cancelled_total").increment(report.cancelled as u64);
            metrics::counter!("approvals_escalated_total").increment(report.escalated as u64);
            metrics::counter!("held_orders_restocked_total").increment(report.restocked as u64);
            metrics::counter!("stock_low_events_total").increment(report.low_stock as u64);
            metrics::counter!("shipments_delayed_total").increment(report.delayed as u64);
            metrics::counter!("orders_auto_completed_total").increment(report.completed as u64);
        }
        match outcome {
            Ok(report) if report != JobReport::default() => {
                tracing::info!(
                    cancelled = report.cancelled,
                    escalated = report.escalated,
                    restocked = report.restocked,
                    low_stock = report.low_stock,
                    delayed = report.delayed,
                    completed = report.completed,
                    "scheduled jobs ran"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "scheduled jobs failed; will retry"),
        }
    }
}
