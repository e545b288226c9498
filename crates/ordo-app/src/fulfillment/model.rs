use crate::common::AmountInput;
use ordo_domain::Timestamp;
use ordo_domain::fulfillment::{CarrierPolicy, ClaimKind, SourcingStrategy, Surcharge, TrackingStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the business fulfils: sourcing strategy, carrier policy, completion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FulfillmentSettings {
    pub sourcing_strategy: SourcingStrategy,
    pub carrier_policy: CarrierPolicy,
    /// Delivered orders complete after this many days without an open claim.
    pub complete_after_days: i64,
    /// Prepaid orders ship only when paid (cash on delivery and net terms always may).
    pub require_payment_before_shipping: bool,
}

impl Default for FulfillmentSettings {
    fn default() -> Self {
        FulfillmentSettings {
            sourcing_strategy: SourcingStrategy::SameRegion,
            carrier_policy: CarrierPolicy::Cheapest,
            complete_after_days: 7,
            require_payment_before_shipping: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct FulfillmentSettingsInput {
    /// same_region, fewest_shipments, lowest_cost, priority.
    pub sourcing_strategy: Option<String>,
    /// cheapest, fastest, cheapest_on_time.
    pub carrier_policy: Option<String>,
    pub complete_after_days: Option<i64>,
    pub require_payment_before_shipping: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewCarrierService {
    #[schema(example = "express")]
    pub code: Option<String>,
    pub name: Option<String>,
    /// Typical days from shipment to delivery.
    pub transit_days: Option<i64>,
}

/// A carrier and its services; `PUT /carriers/{id}` takes the same body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewCarrier {
    #[schema(example = "SF")]
    pub code: Option<String>,
    #[schema(example = "顺丰速运 SF Express")]
    pub name: Option<String>,
    /// `{tracking}` is replaced by the tracking number.
    #[schema(example = "https://www.sf-express.com/track?no={tracking}")]
    pub tracking_url_template: Option<String>,
    pub services: Option<Vec<NewCarrierService>>,
    /// Heaviest package taken (chargeable weight).
    pub max_weight_kg: Option<AmountInput>,
    /// Destination regions served; empty or absent: wherever a rate exists.
    pub regions: Option<Vec<String>>,
    /// Product tags refused, e.g. `["fragile", "cold_chain"]`.
    pub refuses_tags: Option<Vec<String>>,
    /// cm³ per kg for volumetric weight, e.g. 6000.
    pub volumetric_divisor: Option<i64>,
    pub surcharges: Option<Vec<Surcharge>>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarrierService {
    pub code: String,
    pub name: String,
    pub transit_days: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Carrier {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub tracking_url_template: Option<String>,
    pub services: Vec<CarrierService>,
    #[schema(value_type = Option<String>)]
    pub max_weight_kg: Option<Decimal>,
    pub regions: Vec<String>,
    pub refuses_tags: Vec<String>,
    pub volumetric_divisor: Option<i64>,
    pub surcharges: Vec<Surcharge>,
    pub active: bool,
    /// Bands in the rate table.
    pub rate_count: i64,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarrierList {
    pub items: Vec<Carrier>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewRate {
    pub service: Option<String>,
    /// Destination region (as in addresses).
    pub region: Option<String>,
    /// Only from warehouses in this region; absent: from anywhere.
    pub from_region: Option<String>,
    pub max_weight_kg: Option<AmountInput>,
    pub price: Option<AmountInput>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RateTableInput {
    /// Replaces the whole table.
    pub rates: Option<Vec<NewRate>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rate {
    pub service: String,
    pub region: String,
    pub from_region: Option<String>,
    #[schema(value_type = String, example = "5")]
    pub max_weight_kg: Decimal,
    #[schema(value_type = String, example = "18.00")]
    pub price: Decimal,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateTable {
    pub carrier: String,
    pub rates: Vec<Rate>,
}

/// One carrier service's price and delivery date for the order's next shipment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShippingOption {
    pub carrier: String,
    pub carrier_name: String,
    pub service: String,
    pub service_name: String,
    #[schema(value_type = Option<String>, example = "18.00")]
    pub price: Option<Decimal>,
    pub currency: Option<String>,
    /// `YYYY-MM-DD`, shipping today.
    pub estimated_delivery: String,
    pub eligible: bool,
    /// Why the service cannot take this shipment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Arrives by the order's requested delivery date (true when none was asked).
    pub on_time: bool,
    /// The one the business's policy (or the order, or a rule) picks.
    pub recommended: bool,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ShippingOptionsQuery {
    /// Warehouse code to ship from; default: where most of the unshipped lines are reserved.
    pub warehouse: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AllocateOrder {
    /// same_region, fewest_shipments, lowest_cost, priority; default from the settings.
    pub strategy: Option<String>,
    /// Reserve everything in this warehouse (manual reallocation).
    pub warehouse: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AllocatedLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    /// Units waiting for supply.
    pub backordered: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarehouseAllocation {
    pub warehouse: String,
    pub lines: Vec<AllocatedLine>,
}

/// Where an order's stock is reserved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Allocation {
    pub order_id: i64,
    pub order_number: String,
    pub split: bool,
    /// Why one warehouse would not do (absent when the order is not split).
    pub split_reason: Option<String>,
    pub warehouses: Vec<WarehouseAllocation>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPickList {
    /// Warehouse code.
    pub warehouse: Option<String>,
    /// Only these orders; default: every order with something to pick there (oldest and
    /// highest priority first, up to `limit`).
    pub order_ids: Option<Vec<i64>>,
    /// Most orders in the wave, 1–500, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PickLine {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub bin: Option<String>,
    pub quantity: i64,
    /// Confirmed picked units (absent until the list is confirmed).
    pub picked: Option<i64>,
    /// How a short pick was handled: backorder or reallocate.
    pub handling: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PickList {
    pub id: i64,
    #[schema(example = "PL-000001")]
    pub number: String,
    pub warehouse: String,
    /// open, confirmed.
    pub status: String,
    /// Sorted by bin location, then SKU: the walk through the warehouse.
    pub lines: Vec<PickLine>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PickListList {
    pub items: Vec<PickList>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PickedLine {
    /// The pick line id.
    pub id: Option<i64>,
    pub picked: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ConfirmPicks {
    /// Picked quantities typed in; lines not listed were picked in full.
    pub lines: Option<Vec<PickedLine>>,
    /// Barcodes (SKUs) scanned, one entry per unit; when given, lines not scanned count
    /// as not picked.
    pub scans: Option<Vec<String>>,
    /// What short units become: `backorder` (default: wait for supply) or `reallocate`
    /// (reserve the line in another warehouse that can fill it, else backorder).
    pub short_handling: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PackageLineInput {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PackageInput {
    /// Default: the products' weights.
    pub weight_kg: Option<AmountInput>,
    pub length_cm: Option<i64>,
    pub width_cm: Option<i64>,
    pub height_cm: Option<i64>,
    pub lines: Option<Vec<PackageLineInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewShipment {
    /// Warehouse code shipped from.
    pub warehouse: Option<String>,
    /// Carrier code, or `pickup` for self-pickup; default: chosen by rate shopping.
    pub carrier: Option<String>,
    /// Service code of the carrier; default: its best eligible service.
    pub service: Option<String>,
    pub tracking_number: Option<String>,
    pub packages: Option<Vec<PackageInput>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PackageLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Package {
    pub package_no: i64,
    #[schema(value_type = String)]
    pub weight_kg: Decimal,
    pub length_cm: Option<i64>,
    pub width_cm: Option<i64>,
    pub height_cm: Option<i64>,
    pub lines: Vec<PackageLine>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingEvent {
    pub status: TrackingStatus,
    /// The carrier's own word.
    pub raw_status: String,
    pub at: Timestamp,
    pub location: Option<String>,
    pub detail: Option<String>,
    /// webhook, import, manual, system.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Claim {
    pub id: i64,
    #[schema(example = "CL-000001")]
    pub number: String,
    pub shipment_id: i64,
    pub shipment_number: String,
    pub order_id: i64,
    pub order_number: String,
    pub carrier: String,
    pub kind: ClaimKind,
    /// open, filed (with the carrier), settled, rejected.
    pub status: String,
    pub detail: Option<String>,
    pub resolution: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimList {
    pub items: Vec<Claim>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ClaimUpdate {
    /// filed, settled, rejected.
    pub status: Option<String>,
    /// What was done: reshipped, refunded, carrier paid…
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ClaimQuery {
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shipment {
    pub id: i64,
    #[schema(example = "SH-000001")]
    pub number: String,
    pub order_id: i64,
    pub order_number: String,
    pub customer_name: String,
    pub warehouse: String,
    pub carrier: String,
    pub carrier_name: String,
    pub service: String,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub status: TrackingStatus,
    #[schema(value_type = String, example = "18.00")]
    pub cost: Decimal,
    pub currency: String,
    #[schema(value_type = String)]
    pub weight_kg: Decimal,
    /// The code the customer shows to collect (self-pickup only).
    pub pickup_code: Option<String>,
    pub estimated_delivery: Option<String>,
    /// The order's requested delivery date.
    pub promised_date: Option<String>,
    pub shipped_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub packages: Vec<Package>,
    /// Oldest first.
    pub tracking: Vec<TrackingEvent>,
    pub claims: Vec<Claim>,
    pub created_by: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentList {
    pub items: Vec<Shipment>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ShipmentQuery {
    /// label_created, ready_for_pickup, in_transit, out_for_delivery, delivered, exception, returned.
    pub status: Option<String>,
    pub order_id: Option<i64>,
    pub limit: Option<i64>,
}

/// A tracking update: from the carrier's webhook (with `tracking_number`), or typed in.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TrackingUpdate {
    pub tracking_number: Option<String>,
    /// The carrier's status word; normalised (e.g. `in transit`, `已签收`, `lost`).
    pub status: Option<String>,
    /// RFC 3339; default now.
    pub at: Option<String>,
    pub location: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DeliveredInput {
    /// RFC 3339; default now.
    pub at: Option<String>,
    /// For self-pickup: the code the customer showed.
    pub pickup_code: Option<String>,
}

/// What one tracking update did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingResult {
    /// recorded, duplicate, or (imports) error.
    pub outcome: String,
    pub shipment_id: Option<i64>,
    pub status: Option<TrackingStatus>,
    /// For imports: the line of the file; and what was wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackingImport {
    pub recorded: usize,
    pub duplicates: usize,
    pub errors: usize,
    pub rows: Vec<TrackingResult>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueOrder {
    pub order_id: i64,
    pub number: String,
    pub customer_name: String,
    pub warehouse: String,
    pub units: i64,
    pub priority: i64,
    pub created_at: Timestamp,
}

/// The warehouse's work, stage by stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkQueue {
    /// Confirmed orders with units waiting for stock (backordered or short-picked).
    pub to_allocate: Vec<QueueOrder>,
    /// Reserved units not yet on a pick list.
    pub to_pick: Vec<QueueOrder>,
    pub open_pick_lists: Vec<PickList>,
    /// Picked units not yet shipped.
    pub to_ship: Vec<QueueOrder>,
    /// Shipments on their way.
    pub in_transit: i64,
    /// Shipments in exception.
    pub exceptions: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarrierKpi {
    pub carrier: String,
    pub shipments: i64,
    pub delivered: i64,
    /// Delivered by the estimated (or promised) date.
    pub on_time: i64,
    /// on_time ÷ delivered, as a percentage with one decimal.
    #[schema(value_type = Option<String>)]
    pub on_time_rate: Option<Decimal>,
    #[schema(value_type = String)]
    pub cost: Decimal,
    #[schema(value_type = String)]
    pub weight_kg: Decimal,
    #[schema(value_type = Option<String>)]
    pub cost_per_order: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub cost_per_kg: Option<Decimal>,
    pub exceptions: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogisticsReport {
    pub from: String,
    pub to: String,
    pub by_carrier: Vec<CarrierKpi>,
    pub total: CarrierKpi,
}

#[derive(Debug, thiserror::Error)]
pub enum FulfillmentError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no order with id {0}")]
    OrderNotFound(i64),
    #[error("no shipment with id {0}")]
    ShipmentNotFound(i64),
    #[error("no shipment with tracking number {0:?}")]
    TrackingNotFound(String),
    #[error("no pick list with id {0}")]
    PickListNotFound(i64),
    #[error("no carrier {0:?}")]
    CarrierNotFound(String),
    #[error("no claim with id {0}")]
    ClaimNotFound(i64),
    #[error("no warehouse {0:?}")]
    WarehouseNotFound(String),
    #[error("carrier code {0:?} is taken")]
    CarrierCodeTaken(String),
    /// The tracking callback's signature or timestamp does not check out.
    #[error("tracking callback refused: {0}")]
    BadSignature(String),
    #[error("the carrier changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(FulfillmentError);

impl From<ordo_domain::orders::IllegalTransition> for FulfillmentError {
    fn from(e: ordo_domain::orders::IllegalTransition) -> Self {
        FulfillmentError::Order(crate::orders::OrderError::IllegalTransition(e))
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TrackingImportInput {
    /// CSV text: `tracking_number,status,at,location,detail` (header row optional).
    pub csv: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CompleteOrder {
    /// e.g. "customer confirmed receipt".
    pub reason: Option<String>,
}
