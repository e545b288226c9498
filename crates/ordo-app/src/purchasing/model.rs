use crate::common::AmountInput;
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewSupplier {
    #[schema(example = "SUP-HZ-01")]
    pub code: Option<String>,
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Days from order to delivery; default 7.
    pub lead_time_days: Option<i64>,
    /// ISO 4217; default CNY.
    pub currency: Option<String>,
    /// When its bills fall due: `prepaid`, `cod` or `netN`; default net30.
    pub payment_terms: Option<String>,
    /// How far (percent) a bill's unit cost may differ from the purchase order's and still
    /// match; default 2.
    pub price_tolerance_percent: Option<AmountInput>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Supplier {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: i64,
    pub currency: Currency,
    pub payment_terms: String,
    #[schema(value_type = String, example = "2")]
    pub price_tolerance_percent: Decimal,
    pub version: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierList {
    pub items: Vec<Supplier>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPurchaseOrder {
    pub supplier_id: Option<i64>,
    /// Warehouse code the goods are delivered to.
    pub warehouse: Option<String>,
    /// `YYYY-MM-DD`; default today + the supplier's lead time.
    pub expected_date: Option<String>,
    pub lines: Option<Vec<NewPurchaseLine>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPurchaseLine {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    /// In the supplier's currency, per unit.
    pub unit_cost: Option<AmountInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReceivePurchase {
    pub lines: Option<Vec<ReceivedLine>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReceivedLine {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseOrder {
    pub id: i64,
    #[schema(example = "PO-000001")]
    pub number: String,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub warehouse: String,
    /// draft, sent, partially_received, received, cancelled.
    pub status: String,
    pub currency: Currency,
    pub expected_date: String,
    pub lines: Vec<PurchaseLine>,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub version: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub received_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub received: i64,
    /// Already on supplier bills.
    pub billed: i64,
    #[schema(value_type = String)]
    pub unit_cost: Decimal,
    #[schema(value_type = String)]
    pub line_total: Decimal,
}

#[derive(Debug, thiserror::Error)]
pub enum PurchasingError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no supplier with id {0}")]
    SupplierNotFound(i64),
    #[error("a supplier with code {0:?} already exists")]
    SupplierCodeTaken(String),
    #[error("no purchase order with id {0}")]
    NotFound(i64),
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(PurchasingError);
