//! Inventory: warehouses, stock levels per (SKU, warehouse) and the movement ledger.

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
