use super::model::{Rule, RuleRevision};
use crate::db::{DbError, Row, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::rules::RuleAction;

const COLUMNS: &str =
    "id, name, condition_text, actions, priority, enabled, version, created_by, created_at, updated_by, updated_at";

fn actions(text: &str) -> Result<Vec<RuleAction>, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Decode(format!("rule actions: {e}")))
}

fn rule(row: &Row) -> Result<Rule, DbError> {
    Ok(Rule {
        id: row.int(0)?,
        name: row.text(1)?,
        condition: row.text(2)?,
        actions: actions(&row.text(3)?)?,
        priority: row.int(4)?,
        enabled: row.int(5)? != 0,
        version: row.int(6)?,
        created_by: row.text(7)?,
        created_at: Timestamp(row.int(8)?),
        updated_by: row.text(9)?,
        updated_at: Timestamp(row.int(10)?),
    })
}

pub fn insert(tx: &mut dyn Tx, r: &Rule) -> Result<i64, DbError> {
    let actions = serde_json::to_string(&r.actions).map_err(|e| DbError::Other(e.to_string()))?;
    tx.insert(
        "INSERT INTO rules (name, condition_text, actions, priority, enabled, version, created_by, created_at, updated_by, updated_at) \
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
        params![
            r.name.as_str(), r.condition.as_str(), actions, r.priority, r.enabled, r.created_by.as_str(), r.created_at.micros(),
            r.updated_by.as_str(), r.updated_at.micros()
        ],
    )
}

pub fn update(tx: &mut dyn Tx, r: &Rule) -> Result<(), DbError> {
    let actions = serde_json::to_string(&r.actions).map_err(|e| DbError::Other(e.to_string()))?;
    tx.execute(
        "UPDATE rules SET name = ?, condition_text = ?, actions = ?, priority = ?, enabled = ?, version = ?, updated_by = ?, \
         updated_at = ? WHERE id = ?",
        params![
            r.name.as_str(), r.condition.as_str(), actions, r.priority, r.enabled, r.version, r.updated_by.as_str(),
            r.updated_at.micros(), r.id
        ],
    )?;
    Ok(())
}

pub fn mark_deleted(tx: &mut dyn Tx, id: i64, at: Timestamp) -> Result<(), DbError> {
    tx.execute("UPDATE rules SET deleted_at = ?, enabled = 0 WHERE id = ?", params![at.micros(), id])?;
    Ok(())
}

pub fn record_revision(tx: &mut dyn Tx, r: &Rule, change: &str, by: &str, at: Timestamp) -> Result<(), DbError> {
    let actions = serde_json::to_string(&r.actions).map_err(|e| DbError::Other(e.to_string()))?;
    tx.execute(
        "INSERT INTO rule_revisions (rule_id, version, change_kind, name, condition_text, actions, priority, enabled, changed_by, changed_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![r.id, r.version, change, r.name.as_str(), r.condition.as_str(), actions, r.priority, r.enabled, by, at.micros()],
    )?;
    Ok(())
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Rule>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM rules WHERE id = ? AND deleted_at IS NULL");
    tx.query_opt(&sql, params![id])?.as_ref().map(rule).transpose()
}

/// Every rule not deleted, highest priority first (the order they run in).
pub fn list(tx: &mut dyn Tx, only_enabled: bool) -> Result<Vec<Rule>, DbError> {
    let filter = if only_enabled { " AND enabled = 1" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM rules WHERE deleted_at IS NULL{filter} ORDER BY priority DESC, id");
    tx.query(&sql, &[])?.iter().map(rule).collect()
}

pub fn revisions(tx: &mut dyn Tx, rule_id: i64) -> Result<Vec<RuleRevision>, DbError> {
    tx.query(
        "SELECT version, change_kind, name, condition_text, actions, priority, enabled, changed_by, changed_at \
         FROM rule_revisions WHERE rule_id = ? ORDER BY id",
        params![rule_id],
    )?
    .iter()
    .map(|row| {
        Ok(RuleRevision {
            version: row.int(0)?,
            change: row.text(1)?,
            name: row.text(2)?,
            condition: row.text(3)?,
            actions: actions(&row.text(4)?)?,
            priority: row.int(5)?,
            enabled: row.int(6)? != 0,
            changed_by: row.text(7)?,
            changed_at: Timestamp(row.int(8)?),
        })
    })
    .collect()
}
