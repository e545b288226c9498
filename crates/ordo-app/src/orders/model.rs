use crate::common::AmountInput;
use ordo_domain::auth::Role;
use ordo_domain::checks::HoldReason;
use ordo_domain::customers::{Address, AddressInput};
use ordo_domain::orders::{FulfillmentStatus, IllegalTransition, OrderAction, OrderStatus, PaymentStatus};
use ordo_domain::payments::OrderMoney;
use ordo_domain::pricing::LineNote;
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most lines one order may have.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewOrder {
    pub customer_id: Option<i64>,
    /// A channel code (see `/channels`): web, phone, email, store, marketplace, distributor,
    /// api (default), import, or one the business registered.
    pub channel: Option<String>,
    /// The channel's own reference (e.g. marketplace order id). A second order with the same
    /// reference on the same channel returns the first one instead of creating another.
    pub external_ref: Option<String>,
    /// Defaults to the customer's currency.
    pub currency: Option<String>,
    pub lines: Option<Vec<NewOrderLine>>,
    /// Defaults to the customer's shipping address.
    pub shipping_address: Option<AddressInput>,
    pub notes: Option<String>,
    /// `YYYY-MM-DD`.
    pub requested_delivery_date: Option<String>,
    /// A payment method code (see `/payment-methods`); default from the customer's terms
    /// and the method rules.
    pub payment_method: Option<String>,
    /// `CARRIER` or `CARRIER/SERVICE` to ship by (when it can take the parcel), or
    /// `pickup` for self-pickup (自提); default: the carrier policy chooses.
    pub shipping_service: Option<String>,
    /// A promotion's coupon code (any case); a coupon that cannot be used is a 422 saying why.
    pub coupon_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewOrderLine {
    pub sku: Option<String>,
    /// How many of `unit`.
    pub quantity: Option<i64>,
    /// The product's own unit (default) or one of its packs: 3 `box` of 12 make a line of
    /// 36. The line's `unit_price` is always for one of the product's own unit.
    #[schema(example = "box")]
    pub unit: Option<String>,
    /// Overrides the price from the customer's price list.
    pub unit_price: Option<AmountInput>,
    /// Percentage off the line, 0–100.
    pub discount_percent: Option<AmountInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CancelOrder {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Order {
    pub id: i64,
    #[schema(example = "SO-2026-000001")]
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    /// What can be done to the order now, from the state machine.
    pub allowed_actions: Vec<OrderAction>,
    pub customer_id: i64,
    pub customer_name: String,
    /// The channel's code: a kind (web, phone, marketplace…) or a registered channel such
    /// as `tmall` (see `/channels`).
    pub channel: String,
    pub external_ref: Option<String>,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    #[schema(value_type = String, example = "100.00")]
    pub subtotal: Decimal,
    #[schema(value_type = String, example = "13.00")]
    pub tax_total: Decimal,
    #[schema(value_type = String, example = "113.00")]
    pub total: Decimal,
    pub payment_terms: String,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub notes: Option<String>,
    pub requested_delivery_date: Option<String>,
    /// Why the order is on hold (empty unless `status` is `on_hold`).
    pub hold_reasons: Vec<HoldReason>,
    /// The approval steps of the current round (empty when none were asked for).
    pub approvals: Vec<ApprovalStepView>,
    /// Added by rules.
    pub tags: Vec<String>,
    /// The department queue a rule routed the order to.
    pub department: Option<String>,
    /// Higher is served first when stock is short (backorders); 0 is normal.
    pub priority: i64,
    /// The order this one was split from.
    pub split_from: Option<i64>,
    /// The order this one was merged into (it is then cancelled, its stock moved there).
    pub merged_into: Option<i64>,
    /// Whether the lines' stock is reserved now. False only while an order waits for
    /// approval and the settings say not to hold stock for waiting orders.
    pub stock_reserved: bool,
    /// The payment method chosen at placement (or by default from the customer's terms and
    /// the method rules).
    pub payment_method: Option<String>,
    /// `CARRIER` or `CARRIER/SERVICE` the order (or a rule) asked for, or `pickup` to
    /// collect at a pickup point (自提).
    pub shipping_service: Option<String>,
    /// Why the order ships from more than one warehouse.
    pub split_reason: Option<String>,
    pub delivered_at: Option<Timestamp>,
    /// The coupon the order was placed with.
    pub coupon_code: Option<String>,
    /// Paid, owed, refunded, credited and invoiced; `payment_status` follows from them.
    pub amounts: OrderAmounts,
    pub created_by: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The money on an order, in its currency.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct OrderAmounts {
    /// Captured and applied to the order, net of refunds.
    #[schema(value_type = String, example = "113.00")]
    pub paid: Decimal,
    /// Still owed: total less credit notes, write-offs and payments.
    #[schema(value_type = String, example = "0.00")]
    pub due: Decimal,
    /// Settled on net terms and still to be collected.
    #[schema(value_type = String)]
    pub on_account: Decimal,
    /// Authorised at a provider, not yet captured.
    #[schema(value_type = String)]
    pub authorized: Decimal,
    #[schema(value_type = String)]
    pub refunded: Decimal,
    /// Credit notes and write-offs.
    #[schema(value_type = String)]
    pub credited: Decimal,
    #[schema(value_type = String)]
    pub invoiced: Decimal,
}

impl Order {
    pub fn money(&self) -> OrderMoney {
        let a = &self.amounts;
        OrderMoney {
            total: self.total,
            credited: a.credited,
            paid: a.paid,
            on_account: a.on_account,
            authorized: a.authorized,
            refunded: a.refunded,
        }
    }
}

/// One approval an order waits for, or got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalStepView {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    /// Each submission or edit that needs approval starts a new round.
    pub round: i64,
    /// Steps run in ascending order; steps with the same number in parallel.
    pub step: i64,
    pub role: Role,
    /// pending, approved, rejected, superseded.
    pub status: String,
    pub requested_at: Timestamp,
    /// Set when the step waited too long: this role may now decide it too.
    pub escalated_to: Option<Role>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalInbox {
    pub items: Vec<ApprovalStepView>,
}

/// Changes to an order after placement; absent fields stay as they are. `lines`, when
/// given, replaces all lines: a SKU already on the order keeps its price unless one is given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct OrderPatch {
    pub lines: Option<Vec<NewOrderLine>>,
    pub shipping_address: Option<AddressInput>,
    /// `YYYY-MM-DD`.
    pub requested_delivery_date: Option<String>,
    pub notes: Option<String>,
    /// −100 to 100; higher is served first when stock is short.
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SplitOrder {
    /// What moves to the new order.
    pub lines: Option<Vec<SplitLine>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SplitLine {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct MergeOrders {
    /// Open orders of one customer with one shipping address; the oldest keeps its number.
    pub order_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct Decision {
    /// Required when rejecting.
    pub comment: Option<String>,
    /// Reject only: cancel the order instead of returning it for editing.
    pub cancel: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReasonInput {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderLine {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    #[schema(value_type = String, example = "12.50")]
    pub unit_price: Decimal,
    #[schema(value_type = String, example = "0")]
    pub discount_percent: Decimal,
    #[schema(value_type = String, example = "0.13")]
    pub tax_rate: Decimal,
    /// quantity × unit price less the discount and the `pricing` adjustments, rounded to the
    /// currency's minor unit; tax excluded.
    #[schema(value_type = String, example = "25.00")]
    pub line_total: Decimal,
    #[schema(value_type = String, example = "3.25")]
    pub tax: Decimal,
    /// Code of the warehouse holding the reservation.
    pub warehouse: String,
    /// Units waiting for supply (not reserved): backorderable products, or short picks.
    pub backordered_quantity: i64,
    /// Units taken from the shelf (by pick lists or at shipment), shipped ones included.
    pub picked_quantity: i64,
    /// Units that left the warehouse.
    pub shipped_quantity: i64,
    /// When the backordered units are promised (`YYYY-MM-DD`); absent when no supply is
    /// planned for them yet. Moves as purchase orders come and go.
    pub promise_date: Option<String>,
    /// Where the unit price came from and what promotions, tier and coupon took off, in
    /// the order they were taken (absent on lines priced before promotions existed).
    pub pricing: Option<LineNote>,
    /// The pack the line was ordered in (`quantity` is in the product's own unit).
    pub pack: Option<ordo_domain::catalog::Pack>,
    /// `unit_price` includes tax (a tax-inclusive price list priced the line): the line
    /// costs exactly quantity × price, of which `tax` is the tax and `line_total` the rest.
    pub tax_included: bool,
}

impl OrderLine {
    /// The quantity in the pack it was ordered in (`3 箱 × 12`), if it was.
    pub fn in_packs(&self) -> Option<String> {
        self.pack.as_ref().map(|p| p.count(self.quantity))
    }

    /// What promotions, tier and coupon took off this line.
    pub fn off(&self) -> Decimal {
        self.pricing.as_ref().map_or(Decimal::ZERO, LineNote::off)
    }

    /// Units reserved for this line now.
    pub fn reserved_quantity(&self) -> i64 {
        self.quantity - self.backordered_quantity - self.shipped_quantity
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    /// placed, cancelled…
    pub action: String,
    /// What changed, specific to the action.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderEvents {
    pub items: Vec<OrderEvent>,
}

/// Filters of the order list, as given in the query string.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub payment_status: Option<String>,
    pub fulfillment_status: Option<String>,
    pub customer_id: Option<i64>,
    pub channel: Option<String>,
    /// Matches the order number, external reference, customer code or name, or a SKU.
    pub q: Option<String>,
    /// Date (`2026-01-31`) or RFC 3339 time; inclusive.
    pub created_from: Option<String>,
    /// Date (whole day included) or RFC 3339 time; inclusive.
    pub created_to: Option<String>,
    /// newest (default), oldest, total_desc, total_asc.
    pub sort: Option<String>,
    /// The department queue a rule routed orders to.
    pub department: Option<String>,
    /// Orders of customers in this group, region or with this account salesperson (e-mail)
    /// as they are now: the drill-down behind a sales report row.
    pub customer_group: Option<String>,
    pub region: Option<String>,
    pub salesperson: Option<String>,
}

/// A draft order priced for its customer, and what each line could reserve now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Quote {
    /// The customer's defaults the order will take.
    pub customer_name: String,
    pub payment_terms: String,
    pub shipping_address: Option<Address>,
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax_total: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// A product's price for one customer, as a shop shows it.
#[derive(Debug, Clone)]
pub struct ShelfPrice {
    pub product_id: i64,
    pub currency: Currency,
    /// None when the product has no price in the customer's currency.
    pub price: Option<Decimal>,
    /// Where the price comes from (own price, a price list, the catalog).
    pub note: LineNote,
    /// The catalog price, when it is in the same currency (to show a saving).
    pub catalog_price: Option<Decimal>,
    /// (from quantity, unit price) steps above one unit.
    pub breaks: Vec<(i64, Decimal)>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub line_total: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
    /// (warehouse code, available units), most first.
    pub available_by_warehouse: Vec<(String, i64)>,
    /// Whether one warehouse can fill the line now.
    pub can_reserve: bool,
    /// When the line could not be filled now but the product takes backorders: the units
    /// that would wait, and when they are promised (absent: no supply planned yet).
    pub backordered_quantity: i64,
    pub promise_date: Option<String>,
    /// Where the price came from and what promotions take off it.
    pub pricing: LineNote,
}

/// A SKU the order could not reserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShortLine {
    pub sku: String,
    pub requested: i64,
    /// The most any one warehouse can still reserve for this SKU.
    pub available: i64,
}

/// Placing is idempotent on (channel, external_ref): `Existing` is the earlier order.
#[derive(Debug, Clone)]
pub enum Placed {
    Created(Order),
    Existing(Order),
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no order with id {0}")]
    NotFound(i64),
    #[error("no customer with id {0}")]
    CustomerNotFound(i64),
    #[error("no order template with id {0}")]
    TemplateNotFound(i64),
    #[error("not enough stock for {}", .0.iter().map(|s| format!("{} (requested {}, available {})", s.sku, s.requested, s.available)).collect::<Vec<_>>().join(", "))]
    ShortStock(Vec<ShortLine>),
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("the order changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error("this approval step waits for {}", .waiting_for.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or "))]
    NotYourStep { waiting_for: Vec<Role> },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(OrderError);
