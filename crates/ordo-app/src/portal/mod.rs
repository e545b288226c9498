//! The customer portal: a customer's own people sign in at `/portal` to buy at their
//! prices, place and follow orders, fetch invoices and statements, ask for returns and
//! rate deliveries. Every use case here takes the signed-in user's customer and reads only
//! its records: another customer's order or invoice is "not found", exactly like one that
//! does not exist, so ids cannot be probed.

pub mod access;
pub mod account;
pub mod lists;
pub mod shop;

pub use access::*;
pub use account::*;
pub use lists::*;
pub use shop::*;

use crate::aftersales::AfterSalesError;
use crate::catalog::CatalogError;
use crate::db::DbError;
use crate::orders::OrderError;
use crate::payments::PaymentError;
use crate::users::UserError;
use ordo_domain::Invalid;

/// The channel portal orders come in on (registered by migration 19; a business may
/// switch it off, which closes the portal's checkout).
pub const CHANNEL: &str = "portal";

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    NotFound(String),
    #[error("this invitation link is not valid any more (used, replaced or expired): ask for a new one")]
    InvitationInvalid,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    AfterSales(#[from] AfterSalesError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Fulfillment(#[from] crate::fulfillment::FulfillmentError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl crate::db::StoreError for PortalError {
    fn db_error(&self) -> Option<&DbError> {
        match self {
            Self::Db(error)
            | Self::User(UserError::Db(error))
            | Self::Order(OrderError::Db(error))
            | Self::Payment(PaymentError::Db(error))
            | Self::AfterSales(AfterSalesError::Db(error))
            | Self::Catalog(CatalogError::Db(error))
            | Self::Fulfillment(crate::fulfillment::FulfillmentError::Db(error)) => Some(error),
            _ => None,
        }
    }
}

/// Who is signed in to the portal, for whom: every portal use case is scoped by it.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub user_id: i64,
    pub customer_id: i64,
    pub email: String,
    pub name: String,
}

impl Buyer {
    /// The signed-in user of a portal session, if they are a portal user.
    pub fn of(user: &crate::users::User) -> Option<Buyer> {
        Some(Buyer {
            user_id: user.id,
            customer_id: user.customer_id?,
            email: user.email.clone(),
            name: user.name.clone(),
        })
    }

    /// The context of this buyer's actions: the audit trail says `portal:<email>`.
    pub fn ctx(&self, ip: Option<String>) -> crate::Ctx {
        crate::Ctx::new(format!("portal:{}", self.email), "portal").from_ip(ip)
    }
}
