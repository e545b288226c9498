//! The payment methods a business offers and where: stored as one settings document.

use super::model::*;
use crate::common::{AmountInput, Ctx};
use crate::customers::Customer;
use crate::db::{DbError, Tx};
use crate::orders::Order;
use crate::params;
use ordo_domain::customers::Address;
use ordo_domain::payments::{MethodConfig, MethodFacts, MethodKind, default_method, starter_methods};
use ordo_domain::validation::{FieldError, Violations};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

const PAYMENT_METHODS: &str = "payment_methods";

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings { methods: starter_methods(), refund_approval_above: Some(Decimal::from(10_000)) }
    }
}

/// The settings as stored; a business that never saved any has the starter methods.
pub fn parse_settings(stored: Option<&str>) -> PaymentSettings {
    stored.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
}

pub fn payment_settings(tx: &mut dyn Tx) -> Result<PaymentSettings, DbError> {
    let row = tx.query_opt("SELECT value FROM settings WHERE name = ?", params![PAYMENT_METHODS])?;
    Ok(parse_settings(row.map(|r| r.text(0)).transpose()?.as_deref()))
}

/// The settings as sent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PaymentSettingsInput {
    pub methods: Option<Vec<MethodInput>>,
    /// Empty or absent: never ask for approval.
    pub refund_approval_above: Option<AmountInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MethodInput {
    pub code: Option<String>,
    pub name: Option<String>,
    /// online, bank_transfer, cod, cash, terms, store_credit.
    pub kind: Option<String>,
    pub enabled: Option<bool>,
    pub provider: Option<String>,
    pub manual_capture: Option<bool>,
    pub channels: Option<Vec<String>>,
    pub customer_groups: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub min_amount: Option<AmountInput>,
    pub max_amount: Option<AmountInput>,
    pub auto_cancel_minutes: Option<i64>,
}

pub fn update_payment_settings(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &PaymentSettingsInput,
) -> Result<PaymentSettings, PaymentError> {
    let mut settings = payment_settings(tx)?;
    let mut v = Violations::new();
    if let Some(raw) = &input.refund_approval_above {
        settings.refund_approval_above =
            if raw.0.trim().is_empty() { None } else { v.check(raw.parse("refund_approval_above", false)) };
    }
    if let Some(methods) = &input.methods {
        let mut parsed: Vec<MethodConfig> = Vec::new();
        if methods.is_empty() || methods.len() > 30 {
            v.add("methods", "give between 1 and 30 methods");
        }
        for (i, m) in methods.iter().enumerate().take(30) {
            let f = |name: &str| format!("methods[{i}].{name}");
            let code = v.check(ordo_domain::validation::code(&f("code"), m.code.as_deref(), 32));
            let name = v.check(ordo_domain::validation::required_text(&f("name"), m.name.as_deref(), 100));
            let kind = match m.kind.as_deref().and_then(MethodKind::parse) {
                Some(kind) => Some(kind),
                None => v.check(Err(FieldError::new(f("kind"), format!("must be one of {}", MethodKind::choices())))),
            };
            let provider = m.provider.clone().filter(|p| !p.trim().is_empty());
            if kind == Some(MethodKind::Online) && !provider.as_deref().is_some_and(super::provider::known) {
                v.add(f("provider"), "an online method needs a provider: sandbox");
            }
            let amount = |v: &mut Violations, name: &str, raw: &Option<AmountInput>| {
                raw.as_ref().filter(|a| !a.0.trim().is_empty()).and_then(|a| v.check(a.parse(&f(name), false)))
            };
            let min_amount = amount(&mut v, "min_amount", &m.min_amount);
            let max_amount = amount(&mut v, "max_amount", &m.max_amount);
            if let (Some(min), Some(max)) = (min_amount, max_amount)
                && min > max
            {
                v.add(f("max_amount"), "must not be below min_amount");
            }
            if m.auto_cancel_minutes.is_some_and(|n| !(1..=527_040).contains(&n)) {
                v.add(f("auto_cancel_minutes"), "must be between 1 and 527040 minutes");
            }
            if let (Some(code), Some(name), Some(kind)) = (code, name, kind) {
                if parsed.iter().any(|p| p.code == code) {
                    v.add(f("code"), format!("{code} is listed twice"));
                }
                let list = |l: &Option<Vec<String>>| {
                    l.clone()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                };
                parsed.push(MethodConfig {
                    code,
                    name,
                    kind,
                    enabled: m.enabled.unwrap_or(true),
                    provider,
                    manual_capture: m.manual_capture.unwrap_or(false),
                    channels: list(&m.channels),
                    customer_groups: list(&m.customer_groups),
                    regions: list(&m.regions),
                    min_amount,
                    max_amount,
                    auto_cancel_minutes: m.auto_cancel_minutes,
                });
            }
        }
        settings.methods = parsed;
    }
    v.into_result()?;
    let value = serde_json::to_string(&settings).map_err(|e| DbError::Other(e.to_string()))?;
    crate::settings::store_document(tx, ctx, PAYMENT_METHODS, &value)?;
    Ok(settings)
}

/// What availability depends on, for an order.
pub fn facts_for<'a>(order: &'a Order, customer: &'a Customer, store_credit: Decimal) -> MethodFacts<'a> {
    facts(&order.channel, order.shipping_address.as_ref(), order.total, customer, store_credit)
}

/// What availability depends on, for an order not placed yet (a cart at checkout).
pub fn facts<'a>(
    channel: &'a str,
    ship_to: Option<&'a Address>,
    amount: Decimal,
    customer: &'a Customer,
    store_credit: Decimal,
) -> MethodFacts<'a> {
    let mut regions: Vec<&str> = Vec::new();
    regions.extend(customer.region.as_deref());
    if let Some(address) = ship_to {
        regions.push(&address.country);
        regions.extend(address.region.as_deref());
    }
    MethodFacts {
        channel,
        customer_group: &customer.group,
        regions,
        amount,
        has_terms: customer.payment_terms != "prepaid",
        store_credit,
    }
}

/// Each configured method with whether it may be used on these facts and why not.
pub fn offer(methods: &[MethodConfig], facts: &MethodFacts) -> OrderMethods {
    let choices = methods
        .iter()
        .map(|m| {
            let reason = m.unavailable_because(facts);
            MethodChoice {
                code: m.code.clone(),
                name: m.name.clone(),
                kind: m.kind,
                available: reason.is_none(),
                reason,
            }
        })
        .collect();
    OrderMethods { default: default_method(methods, facts).map(|m| m.code.clone()), methods: choices }
}

/// The method an order is placed with: the one asked for, if it may be offered, or the
/// default from the rules and the customer's terms.
pub fn choose(
    methods: &[MethodConfig],
    requested: Option<&str>,
    facts: &MethodFacts,
) -> Result<Option<String>, FieldError> {
    match requested.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(default_method(methods, facts).map(|m| m.code.clone())),
        Some(code) => {
            let method = methods.iter().find(|m| m.code == code).ok_or_else(|| {
                let codes: Vec<&str> = methods.iter().map(|m| m.code.as_str()).collect();
                FieldError::new("payment_method", format!("must be one of {}", codes.join(", ")))
            })?;
            match method.unavailable_because(facts) {
                None => Ok(Some(method.code.clone())),
                Some(why) => Err(FieldError::new("payment_method", format!("{} is not available: {why}", method.name))),
            }
        }
    }
}

/// The methods for one order: each with whether it may be used and why not.
pub fn order_methods(tx: &mut dyn Tx, order_id: i64) -> Result<OrderMethods, PaymentError> {
    let order = crate::orders::get_order(tx, order_id).map_err(|_| PaymentError::OrderNotFound(order_id))?;
    methods_for(tx, &order)
}

/// `order_methods` of an order already read.
pub fn methods_for(tx: &mut dyn Tx, order: &Order) -> Result<OrderMethods, PaymentError> {
    let customer = crate::customers::store::by_id(tx, order.customer_id)?
        .ok_or(PaymentError::CustomerNotFound(order.customer_id))?
        .customer;
    let credit = super::ledger::store_credit(tx, customer.id, order.currency)?;
    let settings = payment_settings(tx)?;
    Ok(offer(&settings.methods, &facts_for(order, &customer, credit)))
}
