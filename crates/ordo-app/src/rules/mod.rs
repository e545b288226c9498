//! Rules that operators write: a CEL condition and actions, with priority, an on/off switch
//! and a history of every edit. Placement, edits and merges run the enabled ones.

pub mod model;
pub mod service;
pub mod store;

pub use model::*;
pub use service::*;
