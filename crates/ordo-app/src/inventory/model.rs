use ordo_domain::Timestamp;
use ordo_domain::customers::{Address, AddressInput};
use ordo_domain::inventory::MovementKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewWarehouse {
    #[schema(example = "SH-01")]
    pub code: Option<String>,
    #[schema(example = "上海一号仓 Shanghai DC")]
    pub name: Option<String>,
    pub region: Option<String>,
    pub address: Option<AddressInput>,
    /// Higher is preferred by the `priority` sourcing strategy (and breaks ties otherwise).
    pub priority: Option<i64>,
    /// Cost of handling one shipment here (`lowest_cost` sourcing adds it to shipping).
    pub handling_fee: Option<crate::common::AmountInput>,
    /// Customers may collect orders here (self-pickup, 自提).
    pub pickup: Option<bool>,
}

/// Changes to a warehouse; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WarehousePatch {
    pub name: Option<String>,
    pub region: Option<String>,
    pub priority: Option<i64>,
    pub handling_fee: Option<crate::common::AmountInput>,
    pub pickup: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Warehouse {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region: Option<String>,
    pub address: Option<Address>,
    pub priority: i64,
    #[schema(value_type = String, example = "3.00")]
    pub handling_fee: rust_decimal::Decimal,
    pub pickup: bool,
    pub created_at: Timestamp,
}

/// Sets the counted quantity on hand; the difference is recorded as an adjustment.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SetStock {
    /// Required unless only `bin` is set.
    pub on_hand: Option<i64>,
    /// Where the product sits in this warehouse (pick lists walk by it), e.g. `A-03-2`.
    pub bin: Option<String>,
    /// Why the level changed (stock count, damage, initial load…).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevel {
    pub sku: String,
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// on_hand − reserved: what new orders can still reserve.
    pub available: i64,
    /// Shipped to this warehouse by transfers and not yet received.
    pub in_transit: i64,
    pub bin: Option<String>,
    /// Returned units kept apart as damaged: not on hand, never sold.
    pub damaged: i64,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockMovement {
    pub id: i64,
    pub sku: String,
    pub warehouse: String,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub reason: Option<String>,
    /// What caused it, e.g. the order number.
    pub reference: Option<String>,
    pub actor: String,
    pub at: Timestamp,
}

/// Filters of the movement ledger, as given in the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MovementQuery {
    pub sku: Option<String>,
    /// Warehouse code.
    pub warehouse: Option<String>,
    /// adjustment, reservation, release, receipt, shipment, transfer_out, transfer_in,
    /// count_variance, return.
    pub kind: Option<String>,
    /// Date or RFC 3339 time, inclusive.
    pub from: Option<String>,
    /// Date (whole day included) or RFC 3339 time, inclusive.
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLevels {
    pub items: Vec<StockLevel>,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no warehouse with code {0:?}")]
    WarehouseNotFound(String),
    #[error("no product with SKU {0:?}")]
    ProductNotFound(String),
    #[error("a warehouse with code {0:?} already exists")]
    WarehouseCodeTaken(String),
    #[error("on hand cannot go below the {reserved} units reserved for open orders (asked for {on_hand})")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("no transfer with id {0}")]
    TransferNotFound(i64),
    #[error("no stock count with id {0}")]
    CountNotFound(i64),
    #[error("{0}")]
    Conflict(String),
    #[error("not enough stock available for {}", .0.iter().map(|s| format!("{} (requested {}, available {})", s.sku, s.requested, s.available)).collect::<Vec<_>>().join(", "))]
    ShortStock(Vec<crate::orders::ShortLine>),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(InventoryError);
