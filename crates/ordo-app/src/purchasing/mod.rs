//! Purchasing: suppliers, purchase orders, and receiving into a warehouse (which raises
//! on-hand and keeps each product's moving-average cost).

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
