//! Payables and cost allocation (应付账款, 费用分配): supplier bills matched three ways
//! against their purchase order and the goods received, payments to suppliers, payables
//! aging, and the costs of serving orders (freight, packaging, payment fees) shared out to
//! the order lines they served, so each order's margin counts them.

pub mod costs;
pub mod model;
pub mod service;
pub mod store;

pub use costs::*;
pub use model::*;
pub use service::*;
