use crate::db::{DbError, Row, Tx, Value};
use crate::orders::ApprovalStepView;
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::auth::Role;
use ordo_domain::rules::ApprovalStep;

const COLUMNS: &str = "s.id, s.order_id, o.number, s.round, s.step, s.role, s.status, s.requested_at, s.escalated_to, \
    s.decided_by, s.decided_at, s.comment";

fn step(row: &Row) -> Result<ApprovalStepView, DbError> {
    Ok(ApprovalStepView {
        id: row.int(0)?,
        order_id: row.int(1)?,
        order_number: row.text(2)?,
        round: row.int(3)?,
        step: row.int(4)?,
        role: Role::parse(&row.text(5)?).ok_or_else(|| DbError::Decode("unknown role stored".into()))?,
        status: row.text(6)?,
        requested_at: Timestamp(row.int(7)?),
        escalated_to: row.opt_text(8)?.and_then(|r| Role::parse(&r)),
        decided_by: row.opt_text(9)?,
        decided_at: row.opt_int(10)?.map(Timestamp),
        comment: row.opt_text(11)?,
    })
}

/// Starts a new approval round for the order and asks for these steps.
pub fn request(tx: &mut dyn Tx, order_id: i64, steps: &[ApprovalStep], now: Timestamp) -> Result<i64, DbError> {
    supersede_pending(tx, order_id, now)?;
    tx.execute("UPDATE orders SET approval_round = approval_round + 1 WHERE id = ?", params![order_id])?;
    let round = tx.query_one("SELECT approval_round FROM orders WHERE id = ?", params![order_id])?.int(0)?;
    for s in steps {
        tx.execute(
            "INSERT INTO approval_steps (order_id, round, step, role, status, rule_id, requested_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            params![order_id, round, i64::from(s.step), s.role.as_str(), s.rule_id, now.micros()],
        )?;
    }
    Ok(round)
}

/// Pending steps of earlier rounds no longer count.
pub fn supersede_pending(tx: &mut dyn Tx, order_id: i64, now: Timestamp) -> Result<u64, DbError> {
    tx.execute(
        "UPDATE approval_steps SET status = 'superseded', decided_at = ? WHERE order_id = ? AND status = 'pending'",
        params![now.micros(), order_id],
    )
}

/// The steps of each order's current round.
pub fn current_steps(tx: &mut dyn Tx, order_ids: &[i64]) -> Result<Vec<ApprovalStepView>, DbError> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; order_ids.len()].join(", ");
    let sql = format!(
        "SELECT {COLUMNS} FROM approval_steps s JOIN orders o ON o.id = s.order_id \
         WHERE s.order_id IN ({marks}) AND s.round = o.approval_round ORDER BY s.order_id, s.step, s.id"
    );
    let ids: Vec<Value> = order_ids.iter().map(|&id| id.into()).collect();
    tx.query(&sql, &ids)?.iter().map(step).collect()
}

/// Every step of an order, all rounds: its approval history.
pub fn all_steps(tx: &mut dyn Tx, order_id: i64) -> Result<Vec<ApprovalStepView>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM approval_steps s JOIN orders o ON o.id = s.order_id WHERE s.order_id = ? ORDER BY s.id"
    );
    tx.query(&sql, params![order_id])?.iter().map(step).collect()
}

/// The pending steps whose turn it is (no earlier step of the round still pending), for
/// these roles, oldest first. Admins see every one.
pub fn inbox(tx: &mut dyn Tx, roles: &[Role], limit: i64) -> Result<Vec<ApprovalStepView>, DbError> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM approval_steps s JOIN orders o ON o.id = s.order_id \
         WHERE s.status = 'pending' AND o.status = 'pending_approval' AND s.round = o.approval_round \
         AND NOT EXISTS (SELECT 1 FROM approval_steps p WHERE p.order_id = s.order_id AND p.round = s.round \
         AND p.status = 'pending' AND p.step < s.step)"
    );
    let mut params: Vec<Value> = Vec::new();
    if !roles.contains(&Role::Admin) {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; roles.len()].join(", ");
        sql.push_str(&format!(" AND (s.role IN ({marks}) OR s.escalated_to IN ({marks}))"));
        for _ in 0..2 {
            params.extend(roles.iter().map(|r| Value::from(r.as_str())));
        }
    }
    sql.push_str(&format!(" ORDER BY s.requested_at, s.id LIMIT {limit}"));
    tx.query(&sql, &params)?.iter().map(step).collect()
}

/// How many steps wait for these roles now.
pub fn inbox_count(tx: &mut dyn Tx, roles: &[Role]) -> Result<usize, DbError> {
    Ok(inbox(tx, roles, 1000)?.len())
}

pub fn decide(
    tx: &mut dyn Tx,
    step_id: i64,
    status: &str,
    by: &str,
    comment: Option<&str>,
    now: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE approval_steps SET status = ?, decided_by = ?, decided_at = ?, comment = ? WHERE id = ? AND status = 'pending'",
        params![status, by, now.micros(), comment, step_id],
    )?;
    Ok(())
}

/// Steps pending since before `cutoff` and not yet escalated: (step id, order id).
pub fn stale(tx: &mut dyn Tx, cutoff: Timestamp, limit: i64) -> Result<Vec<(i64, i64)>, DbError> {
    tx.query(
        &format!(
            "SELECT id, order_id FROM approval_steps WHERE status = 'pending' AND requested_at < ? AND escalated_at IS NULL \
             ORDER BY requested_at LIMIT {limit}"
        ),
        params![cutoff.micros()],
    )?
    .iter()
    .map(|r| Ok((r.int(0)?, r.int(1)?)))
    .collect()
}

/// Marks one step escalated; false when another process did it first.
pub fn escalate(tx: &mut dyn Tx, step_id: i64, to: Role, now: Timestamp) -> Result<bool, DbError> {
    Ok(tx.execute(
        "UPDATE approval_steps SET escalated_at = ?, escalated_to = ? WHERE id = ? AND status = 'pending' AND escalated_at IS NULL",
        params![now.micros(), to.as_str(), step_id],
    )? == 1)
}
