//! Inventory: warehouses, stock levels per (SKU, warehouse) and the movement ledger.

pub mod counts;
pub mod model;
pub mod report;
pub mod service;
pub mod store;
pub mod supply;
pub mod transfers;

pub use model::*;
pub use service::*;
pub use transfers::{NewTransfer, ReceiveTransfer, Transfer, TransferLine, TransferLineInput};
