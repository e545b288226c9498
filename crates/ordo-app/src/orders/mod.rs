//! Orders: placement (price, reserve all lines or none, number, record), cancellation,
//! search and the timeline of events.

pub mod model;
pub mod processing;
pub mod review;
pub mod service;
pub mod store;
pub mod templates;

pub use model::*;
pub use processing::*;
pub use review::facts_of_order;
pub use service::*;
pub use templates::{
    FromTemplate, NewOrderTemplate, OrderTemplate, OrderTemplates, TemplateItem, TemplateLine, UseTemplate,
    create_template, delete_template, get_template, list_templates, order_from_template, reorder,
};
