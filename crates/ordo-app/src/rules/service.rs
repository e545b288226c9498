//! Rule use cases: write (validated on save), list, history, and a test run on an order.

use super::model::*;
use super::store;
use crate::common::Ctx;
use crate::db::{DbError, Tx};
use ordo_domain::rules::{self as domain, Condition};
use ordo_domain::validation::{Violations, required_text};

struct ValidRule {
    name: String,
    condition: String,
    actions: Vec<ordo_domain::rules::RuleAction>,
    priority: i64,
    enabled: bool,
}

fn validate(input: &RuleInput) -> Result<ValidRule, ordo_domain::Invalid> {
    let mut v = Violations::new();
    let name = v.check(required_text("name", input.name.as_deref(), 100));
    let condition = v.check(Condition::compile(input.condition.as_deref().unwrap_or("")));
    let actions = match &input.actions {
        None => {
            v.add("actions", "is required, e.g. [{\"kind\": \"require_approval\", \"role\": \"approver\"}]");
            Vec::new()
        }
        Some(actions) => {
            for error in domain::validate_actions(actions) {
                v.push(error);
            }
            actions.clone()
        }
    };
    let priority = input.priority.unwrap_or(100);
    if !(-1_000_000..=1_000_000).contains(&priority) {
        v.add("priority", "must be between -1000000 and 1000000");
    }
    v.into_result()?;
    match (name, condition) {
        (Some(name), Some(condition)) => Ok(ValidRule {
            name,
            condition: condition.source().to_string(),
            actions,
            priority,
            enabled: input.enabled.unwrap_or(true),
        }),
        _ => unreachable!("checked above"),
    }
}

pub fn create_rule(tx: &mut dyn Tx, ctx: &Ctx, input: &RuleInput) -> Result<Rule, RuleError> {
    let valid = validate(input)?;
    let mut rule = Rule {
        id: 0,
        name: valid.name,
        condition: valid.condition,
        actions: valid.actions,
        priority: valid.priority,
        enabled: valid.enabled,
        version: 1,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
        updated_by: ctx.actor.clone(),
        updated_at: ctx.now,
    };
    rule.id = store::insert(tx, &rule)?;
    store::record_revision(tx, &rule, "created", &ctx.actor, ctx.now)?;
    crate::audit::record(tx, ctx, "rules", "rule.created", &format!("rule {}", rule.id), &rule.condition)?;
    Ok(rule)
}

/// Replaces a rule; fields left out keep their values.
pub fn update_rule(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &RuleInput,
) -> Result<Rule, RuleError> {
    let mut rule = store::by_id(tx, id)?.ok_or(RuleError::NotFound(id))?;
    if expected_version.is_some_and(|v| v != rule.version) {
        return Err(RuleError::VersionMismatch { current: rule.version });
    }
    let merged = RuleInput {
        name: input.name.clone().or(Some(rule.name.clone())),
        condition: input.condition.clone().or(Some(rule.condition.clone())),
        actions: input.actions.clone().or(Some(rule.actions.clone())),
        priority: input.priority.or(Some(rule.priority)),
        enabled: input.enabled.or(Some(rule.enabled)),
    };
    let valid = validate(&merged)?;
    rule.name = valid.name;
    rule.condition = valid.condition;
    rule.actions = valid.actions;
    rule.priority = valid.priority;
    rule.enabled = valid.enabled;
    rule.version += 1;
    rule.updated_by = ctx.actor.clone();
    rule.updated_at = ctx.now;
    store::update(tx, &rule)?;
    store::record_revision(tx, &rule, "updated", &ctx.actor, ctx.now)?;
    crate::audit::record(tx, ctx, "rules", "rule.updated", &format!("rule {id}"), &rule.condition)?;
    Ok(rule)
}

pub fn delete_rule(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<(), RuleError> {
    let mut rule = store::by_id(tx, id)?.ok_or(RuleError::NotFound(id))?;
    store::mark_deleted(tx, id, ctx.now)?;
    rule.version += 1;
    rule.enabled = false;
    store::record_revision(tx, &rule, "deleted", &ctx.actor, ctx.now)?;
    crate::audit::record(tx, ctx, "rules", "rule.deleted", &format!("rule {id}"), &rule.name)?;
    Ok(())
}

pub fn get_rule(tx: &mut dyn Tx, id: i64) -> Result<Rule, RuleError> {
    store::by_id(tx, id)?.ok_or(RuleError::NotFound(id))
}

pub fn list_rules(tx: &mut dyn Tx) -> Result<RuleList, RuleError> {
    Ok(RuleList { items: store::list(tx, false)? })
}

pub fn rule_history(tx: &mut dyn Tx, id: i64) -> Result<RuleHistory, RuleError> {
    // Deleted rules keep their history.
    let items = store::revisions(tx, id)?;
    if items.is_empty() {
        return Err(RuleError::NotFound(id));
    }
    Ok(RuleHistory { items })
}

/// Would this rule fire on this order now, and why. Changes nothing.
pub fn test_rule(
    tx: &mut dyn Tx,
    id: i64,
    input: &RuleTest,
    now: ordo_domain::Timestamp,
) -> Result<RuleTestResult, RuleError> {
    let rule = store::by_id(tx, id)?.ok_or(RuleError::NotFound(id))?;
    let order_id = input.order_id.ok_or_else(|| ordo_domain::Invalid::field("order_id", "is required"))?;
    let facts = crate::orders::facts_of_order(tx, order_id, now)?;
    let condition = Condition::compile(&rule.condition).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    Ok(RuleTestResult { fired: condition.holds(&facts) == Ok(true), explanation: condition.explain(&facts) })
}

/// The enabled rules, compiled, in the order they run.
pub fn enabled_rules(tx: &mut dyn Tx) -> Result<Vec<domain::Rule>, DbError> {
    let rows = store::list(tx, true)?.into_iter().map(|r| (r.id, r.name, r.condition, r.actions)).collect();
    Ok(compile_rules(rows))
}

/// Rules as stored, compiled (conditions are cached by text), in the order given.
pub fn compile_rules(rows: Vec<(i64, String, String, Vec<domain::RuleAction>)>) -> Vec<domain::Rule> {
    let mut rules = Vec::with_capacity(rows.len());
    for (id, name, condition, actions) in rows {
        match Condition::compile(&condition) {
            Ok(condition) => rules.push(domain::Rule { id, name, condition, actions }),
            // Saved conditions were valid when saved; one that no longer parses is skipped, loudly.
            Err(e) => tracing::warn!(rule = id, error = %e.message, "rule skipped: its condition no longer compiles"),
        }
    }
    rules
}
