use crate::common::AmountInput;
use ordo_domain::customers::{Address, AddressInput};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewCustomer {
    #[schema(example = "C-SH-001")]
    pub code: Option<String>,
    #[schema(example = "上海华联贸易有限公司")]
    pub name: Option<String>,
    /// retail (default), wholesale, vip… — selects the group's price list.
    pub group: Option<String>,
    pub region: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_name: Option<String>,
    pub shipping_address: Option<AddressInput>,
    pub billing_address: Option<AddressInput>,
    /// prepaid (default), cod, net30…
    pub payment_terms: Option<String>,
    pub credit_limit: Option<AmountInput>,
    /// Default currency of the customer's orders.
    pub currency: Option<String>,
    /// Code of the customer's own price list, ahead of the group's.
    pub price_list: Option<String>,
    /// Code of the customer's member tier (see `/member-tiers`; empty to clear).
    pub tier: Option<String>,
    /// Whether this customer takes partial deliveries with backorders; default true.
    pub accepts_backorders: Option<bool>,
    /// en, zh-CN or zh-TW: the language of the customer's e-mails (empty to clear).
    pub language: Option<String>,
    /// E-mail of the staff member who looks after the account (empty to clear); sales
    /// reports group by it.
    #[schema(example = "li.wei@example.com")]
    pub salesperson: Option<String>,
}

pub type CustomerPatch = NewCustomer;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Customer {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub group: String,
    pub region: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_name: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_terms: String,
    #[schema(value_type = Option<String>, example = "50000.00")]
    pub credit_limit: Option<Decimal>,
    pub currency: Option<Currency>,
    pub price_list: Option<String>,
    /// Member tier code: its discount comes off every line after line promotions.
    pub tier: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub accepts_backorders: bool,
    /// The language of the customer's e-mails; the mail settings' default when absent.
    pub language: Option<String>,
    /// E-mail of the staff member who looks after the account.
    pub salesperson: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no customer with id {0}")]
    NotFound(i64),
    #[error("a customer with code {0:?} already exists")]
    CodeTaken(String),
    #[error("the customer changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(CustomerError);
