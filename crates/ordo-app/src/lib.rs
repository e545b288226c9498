//! Ordo's use cases and storage. Every business area has its model (inputs and views),
//! service (one function per command, run inside one transaction) and store (SQL).

pub mod aftersales;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod channels;
pub mod common;
pub mod customers;
pub mod db;
pub mod events;
pub mod exchange;
pub mod fulfillment;
pub mod idempotency;
pub mod integrations;
pub mod inventory;
pub mod jobs;
pub mod orders;
pub mod payables;
pub mod payments;
pub mod portal;
pub mod promotions;
pub mod purchasing;
pub mod reports;
pub mod rules;
pub mod settings;
pub mod signing;
pub mod users;

pub use common::{Ctx, Page, PageRequest};
pub use db::{Database, DbConfig, DbError};
