//! After-sales: returns and exchanges by the business's policy, carrier claims with their
//! remedy, order feedback, service tickets with SLAs, the service desk and its analytics.

pub mod claims;
pub mod desk;
pub mod model;
pub mod returns;
pub mod tickets;

pub use claims::*;
pub use desk::*;
pub use model::*;
pub use returns::{
    approve_return, get_return, list_returns, receive_return, refund_return, reject_return, request_exchange,
    request_return,
};
pub use tickets::{create_ticket, get_feedback, get_ticket, leave_feedback, list_tickets, reply, update_ticket};

use crate::common::Ctx;
use crate::db::{DbError, Tx};
use ordo_domain::validation::Violations;

const SETTINGS: &str = "service";

pub fn service_settings(tx: &mut dyn Tx) -> Result<ServiceSettings, DbError> {
    Ok(crate::settings::document(tx, SETTINGS)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

/// Replaces the after-sales settings after checking each policy and SLA.
pub fn update_service_settings(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &ServiceSettings,
) -> Result<ServiceSettings, AfterSalesError> {
    let mut v = Violations::new();
    if input.return_policies.len() > 200 {
        v.add("return_policies", "at most 200 policies");
    }
    for (i, policy) in input.return_policies.iter().enumerate() {
        returns::check_policy(i, policy, &mut v);
    }
    let sla = &input.sla_hours;
    for (field, hours) in [("urgent", sla.urgent), ("high", sla.high), ("normal", sla.normal), ("low", sla.low)] {
        if !(0..=24 * 365).contains(&hours) {
            v.add(format!("sla_hours.{field}"), "must be between 0 and 8760 hours");
        }
    }
    if !(0..=5).contains(&input.low_rating_threshold) {
        v.add("low_rating_threshold", "must be between 0 (never) and 5");
    }
    v.into_result()?;
    let value = serde_json::to_string(input).map_err(|e| DbError::Other(e.to_string()))?;
    crate::settings::store_document(tx, ctx, SETTINGS, &value)?;
    Ok(input.clone())
}
