//! Multi-level approval: the steps rules ask for, each approver's inbox, decisions and
//! escalation of steps left waiting.

pub mod service;
pub mod store;

pub use service::*;
