//! Customers: who buys, at which prices, terms and addresses. An order is filled from
//! these defaults unless the order says otherwise.

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
