//! Fulfillment and logistics: sourcing (which warehouse), pick lists, shipments with
//! packages, carriers and their rate tables, rate shopping, tracking, claims, delivery
//! and completion.

pub mod carriers;
pub mod model;
pub mod picking;
pub mod queue;
pub mod shipments;
pub mod sourcing;
pub mod tracking;

pub use carriers::*;
pub use model::*;
pub use picking::*;
pub use queue::*;
pub use shipments::*;
pub use sourcing::allocate_order;
pub use tracking::*;

use crate::common::Ctx;
use crate::db::{DbError, Tx};
use ordo_domain::fulfillment::{CarrierPolicy, SourcingStrategy};
use ordo_domain::validation::{FieldError, Violations};

const SETTINGS: &str = "fulfillment";

/// The stored settings, or the defaults for what was never set.
pub fn parse_settings(stored: Option<&str>) -> FulfillmentSettings {
    stored.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
}

pub fn fulfillment_settings(tx: &mut dyn Tx) -> Result<FulfillmentSettings, DbError> {
    Ok(parse_settings(crate::settings::document(tx, SETTINGS)?.as_deref()))
}

pub fn update_fulfillment_settings(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &FulfillmentSettingsInput,
) -> Result<FulfillmentSettings, FulfillmentError> {
    let mut settings = fulfillment_settings(tx)?;
    let mut v = Violations::new();
    if let Some(raw) = &input.sourcing_strategy {
        match SourcingStrategy::parse(raw) {
            Some(s) => settings.sourcing_strategy = s,
            None => v.add("sourcing_strategy", format!("must be one of {}", SourcingStrategy::choices())),
        }
    }
    if let Some(raw) = &input.carrier_policy {
        match CarrierPolicy::parse(raw) {
            Some(p) => settings.carrier_policy = p,
            None => v.add("carrier_policy", format!("must be one of {}", CarrierPolicy::choices())),
        }
    }
    match input.complete_after_days {
        Some(days) if !(0..=365).contains(&days) => v.add("complete_after_days", "must be between 0 and 365"),
        Some(days) => settings.complete_after_days = days,
        None => {}
    }
    if let Some(require) = input.require_payment_before_shipping {
        settings.require_payment_before_shipping = require;
    }
    v.into_result()?;
    let value = serde_json::to_string(&settings).map_err(|e| DbError::Other(e.to_string()))?;
    crate::settings::store_document(tx, ctx, SETTINGS, &value)?;
    Ok(settings)
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> FulfillmentError {
    FulfillmentError::Invalid(ordo_domain::Invalid(vec![FieldError::new(field, message)]))
}
