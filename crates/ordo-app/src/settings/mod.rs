//! The business's order-processing settings: exception checks, approvals and automation.
//! Stored as one JSON document per name, read inside the transaction that uses them.

use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::auth::Role;
use ordo_domain::checks::CheckPolicy;
use ordo_domain::orders::ChannelKind;
use ordo_domain::validation::{FieldError, Violations};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const ORDER_POLICY: &str = "order_policy";

/// How orders are checked, approved and tidied up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OrderPolicy {
    /// A line priced further than this from the price list (percent) holds the order.
    #[schema(value_type = String, example = "10")]
    pub price_tolerance_percent: Decimal,
    /// Hold orders that take the customer past their credit limit.
    pub credit_check: bool,
    /// An order with the same customer and lines as one placed this many minutes before is
    /// held as a suspected duplicate; 0 turns the check off.
    pub duplicate_window_minutes: i64,
    /// A pending approval step older than this is escalated; 0 never escalates.
    pub escalate_after_minutes: i64,
    /// Who else may decide an escalated step.
    pub escalate_to: Role,
    /// Keep stock reserved while an order waits for approval (default). When off, the
    /// stock is released while it waits and reserved again on approval; if it is gone
    /// by then the order goes on hold until stock arrives.
    pub reserve_while_waiting: bool,
    /// Cancel unpaid orders (and release their stock) after a time, per channel.
    pub auto_cancel: Vec<AutoCancel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AutoCancel {
    /// ChannelKind the rule applies to; absent means every channel.
    #[serde(default)]
    pub channel: Option<ChannelKind>,
    /// Minutes after placement an unpaid order is cancelled.
    pub after_minutes: i64,
}

impl Default for OrderPolicy {
    fn default() -> Self {
        OrderPolicy {
            price_tolerance_percent: Decimal::from(10),
            credit_check: true,
            duplicate_window_minutes: 10,
            escalate_after_minutes: 24 * 60,
            escalate_to: Role::Admin,
            reserve_while_waiting: true,
            auto_cancel: Vec::new(),
        }
    }
}

impl OrderPolicy {
    pub fn checks(&self) -> CheckPolicy {
        CheckPolicy { price_tolerance_percent: self.price_tolerance_percent, credit_check: self.credit_check }
    }

    /// The minutes after which an unpaid order of this channel is cancelled, if ever.
    pub fn auto_cancel_after(&self, channel: ChannelKind) -> Option<i64> {
        self.auto_cancel
            .iter()
            .find(|rule| rule.channel == Some(channel))
            .or_else(|| self.auto_cancel.iter().find(|rule| rule.channel.is_none()))
            .map(|rule| rule.after_minutes)
    }
}

/// The settings as sent: every field optional, amounts as strings.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OrderPolicyInput {
    pub price_tolerance_percent: Option<AmountInput>,
    pub credit_check: Option<bool>,
    pub duplicate_window_minutes: Option<i64>,
    pub escalate_after_minutes: Option<i64>,
    /// A role name.
    pub escalate_to: Option<String>,
    pub reserve_while_waiting: Option<bool>,
    pub auto_cancel: Option<Vec<AutoCancelInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AutoCancelInput {
    pub channel: Option<String>,
    pub after_minutes: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(SettingsError);

pub fn order_policy(tx: &mut dyn Tx) -> Result<OrderPolicy, DbError> {
    let row = tx.query_opt("SELECT value FROM settings WHERE name = ?", params![ORDER_POLICY])?;
    row.map(|r| r.text(0)).transpose().map(|value| parse_policy(value.as_deref()))
}

/// The policy as stored; fields added since it was saved take their defaults.
pub fn parse_policy(stored: Option<&str>) -> OrderPolicy {
    stored.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
}

const MAX_MINUTES: i64 = 366 * 24 * 60;

fn minutes(v: &mut Violations, field: &str, value: Option<i64>, current: i64) -> i64 {
    match value {
        None => current,
        Some(m) if (0..=MAX_MINUTES).contains(&m) => m,
        Some(_) => {
            v.add(field, format!("must be between 0 and {MAX_MINUTES} minutes"));
            current
        }
    }
}

/// Changes the given fields; the rest keep their values.
pub fn update_order_policy(tx: &mut dyn Tx, ctx: &Ctx, input: &OrderPolicyInput) -> Result<OrderPolicy, SettingsError> {
    let mut policy = order_policy(tx)?;
    let mut v = Violations::new();
    if let Some(raw) = &input.price_tolerance_percent {
        match raw.parse("price_tolerance_percent", false) {
            Ok(p) if p <= Decimal::from(1000) => policy.price_tolerance_percent = p,
            Ok(_) => v.add("price_tolerance_percent", "must be between 0 and 1000"),
            Err(e) => v.push(e),
        }
    }
    if let Some(check) = input.credit_check {
        policy.credit_check = check;
    }
    if let Some(reserve) = input.reserve_while_waiting {
        policy.reserve_while_waiting = reserve;
    }
    policy.duplicate_window_minutes =
        minutes(&mut v, "duplicate_window_minutes", input.duplicate_window_minutes, policy.duplicate_window_minutes);
    policy.escalate_after_minutes =
        minutes(&mut v, "escalate_after_minutes", input.escalate_after_minutes, policy.escalate_after_minutes);
    if let Some(role) = &input.escalate_to {
        match Role::parse(role) {
            Some(role) => policy.escalate_to = role,
            None => v.add("escalate_to", format!("must be one of {}", Role::choices())),
        }
    }
    if let Some(rules) = &input.auto_cancel {
        let mut parsed = Vec::new();
        for (i, rule) in rules.iter().enumerate().take(20) {
            let channel = match rule.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => None,
                Some(text) => match ChannelKind::parse(text) {
                    Some(c) => Some(c),
                    None => {
                        v.push(FieldError::new(
                            format!("auto_cancel[{i}].channel"),
                            format!("must be one of {}", ChannelKind::choices()),
                        ));
                        None
                    }
                },
            };
            let after = match rule.after_minutes {
                Some(m) if (0..=MAX_MINUTES).contains(&m) => m,
                _ => {
                    v.add(format!("auto_cancel[{i}].after_minutes"), format!("is required, 0–{MAX_MINUTES}"));
                    0
                }
            };
            parsed.push(AutoCancel { channel, after_minutes: after });
        }
        policy.auto_cancel = parsed;
    }
    v.into_result()?;
    let value = serde_json::to_string(&policy).map_err(|e| DbError::Other(e.to_string()))?;
    store_document(tx, ctx, ORDER_POLICY, &value)?;
    Ok(policy)
}

/// Saves one settings document and records who changed it.
pub fn store_document(tx: &mut dyn Tx, ctx: &Ctx, name: &str, value: &str) -> Result<(), DbError> {
    if tx.execute(
        "UPDATE settings SET value = ?, updated_by = ?, updated_at = ? WHERE name = ?",
        params![value, ctx.actor.as_str(), ctx.now.micros(), name],
    )? == 0
    {
        tx.execute(
            "INSERT INTO settings (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?)",
            params![name, value, ctx.actor.as_str(), ctx.now.micros()],
        )?;
    }
    crate::audit::record(tx, ctx, "settings", &format!("settings.{name}"), name, value)?;
    Ok(())
}

/// One settings document as stored, if it was ever saved.
pub fn document(tx: &mut dyn Tx, name: &str) -> Result<Option<String>, DbError> {
    tx.query_opt("SELECT value FROM settings WHERE name = ?", params![name])?.map(|r| r.text(0)).transpose()
}
