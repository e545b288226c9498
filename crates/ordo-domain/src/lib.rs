//! Ordo's pure business core. Nothing in here touches a database, a clock or the network:
//! every function takes what it needs and returns a value, so the rules can be tested alone.

pub mod catalog;
pub mod customers;
pub mod money;
pub mod orders;
pub mod time;
pub mod validation;

pub use money::{Currency, Quantity};
pub use time::Timestamp;
pub use validation::{FieldError, Invalid};
