//! Catalog: products (unique SKU, list price, tax rate) and price lists per customer group.

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
