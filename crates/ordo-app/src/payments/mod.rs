//! Payments, invoicing and settlement: methods and providers, payments and refunds on
//! orders, the double-entry ledger, invoices and credit notes, receivables and bank
//! reconciliation.

pub mod documents;
pub mod fx;
pub mod invoices;
pub mod ledger;
pub mod methods;
pub mod model;
pub mod provider;
pub mod receivables;
pub mod service;
pub mod store;

pub use invoices::*;
pub use methods::{PaymentSettingsInput, order_methods, payment_settings, update_payment_settings};
pub use model::*;
pub use receivables::*;
pub use service::*;
