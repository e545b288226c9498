//! Orders: placement (price, reserve all lines or none, number, record), cancellation,
//! search and the timeline of events.

pub mod model;
pub mod processing;
pub mod review;
pub mod service;
pub mod store;

pub use model::*;
pub use processing::*;
pub use review::facts_of_order;
pub use service::*;
