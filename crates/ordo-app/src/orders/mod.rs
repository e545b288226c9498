//! Orders: placement (price, reserve all lines or none, number, record), cancellation,
//! search and the timeline of events.

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
