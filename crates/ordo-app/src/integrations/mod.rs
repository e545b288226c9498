//! Integrations: the outbox that fans domain events out to webhooks, e-mail, the message
//! bus and in-app notifications; webhook subscriptions and their delivery log; mail
//! settings and templates; upserts keyed by an ERP's or CRM's external ids.
//!
//! Everything here is database work. Sending (HTTP, SMTP, NATS) is done by the
//! `ordo-connect` workers, which claim due deliveries here and report back.

pub mod mail;
pub mod notifications;
pub mod outbox;
pub mod sync;
pub mod webhooks;

pub use mail::*;
pub use notifications::*;
pub use outbox::*;
pub use sync::*;
pub use webhooks::*;

use crate::common::Ctx;
use crate::db::{DbError, Tx};
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no webhook with id {0}")]
    WebhookNotFound(i64),
    #[error("no delivery with id {0} for this webhook or channel")]
    DeliveryNotFound(i64),
    #[error("no channel with id {0}")]
    ChannelNotFound(i64),
    #[error("no notification with id {0}")]
    NotificationNotFound(i64),
    #[error("the webhook changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    Customer(#[from] crate::customers::CustomerError),
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(IntegrationError);

/// How deliveries are retried and who is told what. Stored as the `integrations` document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct IntegrationSettings {
    /// The first retry waits this long; each further one twice as long (capped at 6 h), with jitter.
    pub retry_base_seconds: i64,
    /// After this many failed attempts a delivery is given up (it can still be replayed).
    pub max_attempts: i64,
    /// A webhook is switched off after this many failed attempts in a row, and admins are told.
    pub disable_after_failures: i64,
    /// How long a receiver may take to answer.
    pub timeout_seconds: i64,
    /// Publish events to the message bus (turned on by `ordo serve --nats-url`).
    pub bus_enabled: bool,
    /// Which events go to the bus: names, `family.*` or `*`.
    pub bus_events: Vec<String>,
    /// Per role, the events its users are told about in the console (and by e-mail when
    /// `mail.staff_events` lists them).
    pub role_subscriptions: BTreeMap<String, Vec<String>>,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        let roles: &[(&str, &[&str])] = &[
            ("admin", &["webhook.disabled", "shipment.exception"]),
            ("finance", &["payment.received", "payment.failed", "refund.issued"]),
            ("sales", &["order.approval_requested", "order.on_hold", "order.notify"]),
            ("warehouse", &["stock.low", "shipment.exception"]),
            ("service", &["return.requested", "ticket.opened", "shipment.exception"]),
        ];
        IntegrationSettings {
            retry_base_seconds: 30,
            max_attempts: 12,
            disable_after_failures: 20,
            timeout_seconds: 10,
            bus_enabled: false,
            bus_events: vec!["*".into()],
            role_subscriptions: roles
                .iter()
                .map(|(role, events)| (role.to_string(), events.iter().map(|e| e.to_string()).collect()))
                .collect(),
        }
    }
}

const SETTINGS: &str = "integrations";

pub fn integration_settings(tx: &mut dyn Tx) -> Result<IntegrationSettings, DbError> {
    Ok(crate::settings::document(tx, SETTINGS)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

pub fn update_integration_settings(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &IntegrationSettings,
) -> Result<IntegrationSettings, IntegrationError> {
    let mut v = Violations::new();
    if !(0..=86_400).contains(&input.retry_base_seconds) {
        v.add("retry_base_seconds", "must be between 0 and 86400");
    }
    if !(1..=100).contains(&input.max_attempts) {
        v.add("max_attempts", "must be between 1 and 100");
    }
    if !(1..=10_000).contains(&input.disable_after_failures) {
        v.add("disable_after_failures", "must be between 1 and 10000");
    }
    if !(1..=120).contains(&input.timeout_seconds) {
        v.add("timeout_seconds", "must be between 1 and 120");
    }
    check_patterns("bus_events", &input.bus_events, &mut v);
    for (role, events) in &input.role_subscriptions {
        if ordo_domain::auth::Role::parse(role).is_none() {
            v.add(
                format!("role_subscriptions.{role}"),
                format!("is not a role: {}", ordo_domain::auth::Role::choices()),
            );
        }
        check_patterns(&format!("role_subscriptions.{role}"), events, &mut v);
    }
    v.into_result()?;
    let value = serde_json::to_string(input).map_err(|e| DbError::Other(e.to_string()))?;
    crate::settings::store_document(tx, ctx, SETTINGS, &value)?;
    Ok(input.clone())
}

/// Turns publishing to the bus on (a server started with a bus URL does this).
pub fn enable_bus(tx: &mut dyn Tx, ctx: &Ctx) -> Result<(), IntegrationError> {
    let mut settings = integration_settings(tx)?;
    if !settings.bus_enabled {
        settings.bus_enabled = true;
        update_integration_settings(tx, ctx, &settings)?;
    }
    Ok(())
}

/// Each entry is a catalogued event, a family (`order.*`) with at least one event, or `*`.
pub(crate) fn check_patterns(field: &str, patterns: &[String], v: &mut Violations) {
    if patterns.len() > 100 {
        v.add(field, "at most 100 entries");
    }
    for (i, pattern) in patterns.iter().enumerate() {
        let known = pattern == "*"
            || ordo_domain::events::spec(pattern).is_some()
            || pattern.strip_suffix(".*").is_some_and(|family| {
                ordo_domain::events::CATALOGUE.iter().any(|s| s.name.split('.').next() == Some(family))
            });
        if !known {
            v.add(
                format!("{field}[{i}]"),
                format!("`{pattern}` is not an event type (see GET /api/v1/events/catalogue)"),
            );
        }
    }
}
