//! What reports answer: rows with a key, a label and figures, and the totals under them.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(ReportError);

/// A row's identity: the record id for customers and products, text for everything else
/// (a date bucket, a channel, a region).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReportKey {
    Id(i64),
    Text(String),
}

impl std::fmt::Display for ReportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportKey::Id(id) => write!(f, "{id}"),
            ReportKey::Text(text) => f.write_str(text),
        }
    }
}

/// Sales figures of a group or of the whole period, in the report's currency.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct SalesFigures {
    /// Orders placed and not cancelled.
    pub orders: i64,
    pub units: i64,
    /// Order totals with tax.
    #[schema(value_type = String, example = "1130.00")]
    pub revenue: Decimal,
    /// Revenue without tax.
    #[schema(value_type = String, example = "1000.00")]
    pub net_revenue: Decimal,
    #[schema(value_type = String, example = "130.00")]
    pub tax: Decimal,
    /// Revenue per order.
    #[schema(value_type = String, example = "565.00")]
    pub average_order_value: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesRow {
    pub key: ReportKey,
    pub label: String,
    pub orders: i64,
    pub units: i64,
    #[schema(value_type = String, example = "1130.00")]
    pub revenue: Decimal,
    #[schema(value_type = String, example = "1000.00")]
    pub net_revenue: Decimal,
    #[schema(value_type = String, example = "130.00")]
    pub tax: Decimal,
    #[schema(value_type = String, example = "565.00")]
    pub average_order_value: Decimal,
    /// Percent of the period's revenue.
    #[schema(value_type = String, example = "42.50")]
    pub share: Decimal,
    /// The same group in the compared period (the bucket at the same position for dates).
    pub compared: Option<SalesFigures>,
    /// Revenue change against the compared period, in percent; null when it had none.
    #[schema(value_type = Option<String>, example = "12.50")]
    pub revenue_change: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesTotals {
    pub orders: i64,
    pub units: i64,
    #[schema(value_type = String, example = "1130.00")]
    pub revenue: Decimal,
    #[schema(value_type = String, example = "1000.00")]
    pub net_revenue: Decimal,
    #[schema(value_type = String, example = "130.00")]
    pub tax: Decimal,
    #[schema(value_type = String, example = "565.00")]
    pub average_order_value: Decimal,
    pub compared: Option<SalesFigures>,
    #[schema(value_type = Option<String>, example = "12.50")]
    pub revenue_change: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesReport {
    /// First and last day (inclusive, in the business's time zone).
    #[schema(example = "2026-11-01")]
    pub from: String,
    #[schema(example = "2026-11-30")]
    pub to: String,
    pub group_by: ordo_domain::reports::SalesGrouping,
    pub compare: Option<ordo_domain::reports::Comparison>,
    pub compared_from: Option<String>,
    pub compared_to: Option<String>,
    /// Every figure is in this currency; orders in others are in their own report.
    #[schema(example = "CNY")]
    pub currency: String,
    /// Currencies with sales in the period.
    pub currencies: Vec<String>,
    pub rows: Vec<SalesRow>,
    pub totals: SalesTotals,
}

/// One customer's recency, frequency and monetary value.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfmRow {
    /// The customer id.
    pub key: i64,
    pub label: String,
    #[schema(example = "2026-01-31")]
    pub first_order: String,
    #[schema(example = "2026-11-20")]
    pub last_order: String,
    /// Days from the last order to `as_of`.
    pub recency_days: i64,
    /// Orders, not cancelled.
    pub frequency: i64,
    /// Revenue of those orders (lifetime value to date).
    #[schema(value_type = String, example = "12000.00")]
    pub monetary: Decimal,
    /// Scores 1–5 by quintile among the customers in the report (5 is best).
    pub r: u8,
    pub f: u8,
    pub m: u8,
    /// champions, loyal, promising, new, needs_attention, cannot_lose, at_risk, lost.
    pub segment: String,
    /// Average days between orders; null with a single order.
    #[schema(value_type = Option<String>, example = "14.5")]
    pub usual_interval_days: Option<Decimal>,
    /// No order for longer than their usual interval.
    pub at_risk: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentCount {
    pub segment: String,
    pub customers: i64,
    #[schema(value_type = String)]
    pub revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfmTotals {
    pub customers: i64,
    pub at_risk: i64,
    /// Customers whose first order is in the last 30 days before `as_of`.
    pub new_customers: i64,
    #[schema(value_type = String)]
    pub revenue: Decimal,
}

/// One month's ordering customers: first-timers and those who came back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewReturningRow {
    #[schema(example = "2026-11")]
    pub month: String,
    /// Customers whose first order ever was this month.
    pub new_customers: i64,
    /// Customers who ordered this month and had ordered before.
    pub returning_customers: i64,
    #[schema(value_type = String)]
    pub new_revenue: Decimal,
    #[schema(value_type = String)]
    pub returning_revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfmReport {
    pub as_of: String,
    pub currency: String,
    pub rows: Vec<RfmRow>,
    pub segments: Vec<SegmentCount>,
    pub totals: RfmTotals,
    /// The twelve months up to `as_of`, oldest first.
    pub new_vs_returning: Vec<NewReturningRow>,
}

/// One product's place in the ABC analysis, with its stock.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbcRow {
    /// The product id.
    pub key: i64,
    pub label: String,
    pub sku: String,
    pub units: i64,
    #[schema(value_type = String)]
    pub revenue: Decimal,
    /// Percent of the period's revenue, and the running total down to this row.
    #[schema(value_type = String)]
    pub share: Decimal,
    #[schema(value_type = String)]
    pub cumulative_share: Decimal,
    /// A (first 80% of revenue), B (next 15%), C (the rest, and products that did not sell).
    pub class: String,
    pub on_hand: i64,
    pub available: i64,
    /// On hand at moving-average cost.
    #[schema(value_type = String)]
    pub stock_value: Decimal,
    /// Days the available stock lasts at the period's rate of sale; null when nothing sold.
    #[schema(value_type = Option<String>)]
    pub days_of_cover: Option<Decimal>,
    /// Cost of goods sold in the period over the stock value now; null without stock.
    #[schema(value_type = Option<String>)]
    pub turnover: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbcTotals {
    pub products: i64,
    pub a: i64,
    pub b: i64,
    pub c: i64,
    /// Products with no stock available.
    pub out_of_stock: i64,
    #[schema(value_type = String)]
    pub revenue: Decimal,
    #[schema(value_type = String)]
    pub stock_value: Decimal,
    /// Estimated sales lost to the products out of stock now.
    #[schema(value_type = String)]
    pub lost_revenue: Decimal,
}

/// A product with no stock available now, and what it is estimated to be losing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockOutRow {
    /// The product id.
    pub key: i64,
    pub label: String,
    pub sku: String,
    /// Zero, or below zero when orders wait for it.
    pub available: i64,
    /// When the last unit available went; null when it never had stock.
    pub out_since: Option<ordo_domain::Timestamp>,
    #[schema(value_type = Option<String>, example = "3.5")]
    pub days_out: Option<Decimal>,
    /// Units sold per day while it had stock, in the report's period.
    #[schema(value_type = String, example = "4.00")]
    pub daily_units: Decimal,
    /// Estimate: `daily_units` × `days_out`.
    #[schema(value_type = String, example = "14.0")]
    pub lost_units: Decimal,
    /// Estimate: `lost_units` at the period's average price per unit.
    #[schema(value_type = String, example = "1582.00")]
    pub lost_revenue: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbcReport {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub warehouse_id: Option<i64>,
    pub rows: Vec<AbcRow>,
    pub totals: AbcTotals,
    /// Products out of stock now (in the warehouse, if one is chosen), longest out first.
    pub stock_outs: Vec<StockOutRow>,
}

/// Percentiles of one stage of the order cycle, in hours.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleRow {
    /// placed_to_confirmed, confirmed_to_shipped, shipped_to_delivered, placed_to_delivered.
    pub key: String,
    pub label: String,
    /// Orders that went through the stage.
    pub orders: i64,
    #[schema(value_type = Option<String>, example = "2.50")]
    pub p50_hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub p90_hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub p95_hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub average_hours: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleTotals {
    /// Orders placed in the period and not cancelled.
    pub orders: i64,
    pub shipped: i64,
    pub delivered: i64,
    /// Delivered orders with a requested date, and how many arrived by it (percent).
    pub with_requested_date: i64,
    #[schema(value_type = Option<String>)]
    pub on_time_delivery_rate: Option<Decimal>,
    /// Orders that needed an approval; the median wait for it.
    pub approved: i64,
    #[schema(value_type = Option<String>)]
    pub approval_p50_hours: Option<Decimal>,
    /// Orders placed in the period that were cancelled (percent of all placed).
    pub cancelled: i64,
    #[schema(value_type = Option<String>)]
    pub cancellation_rate: Option<Decimal>,
    /// Shipped orders with a return (percent).
    pub returned: i64,
    #[schema(value_type = Option<String>)]
    pub return_rate: Option<Decimal>,
    /// The shipping target in hours after confirmation, and the shipped orders that met it.
    pub ship_within_hours: i64,
    pub shipped_on_time: i64,
    #[schema(value_type = Option<String>)]
    pub on_time_shipment_rate: Option<Decimal>,
    /// Shipped orders whose first shipment carried every unit ordered (percent: fill rate).
    pub shipped_complete: i64,
    #[schema(value_type = Option<String>)]
    pub fill_rate: Option<Decimal>,
    /// Orders with an exception (a hold or a carrier claim), percent of orders placed.
    pub exception_orders: i64,
    #[schema(value_type = Option<String>)]
    pub exception_rate: Option<Decimal>,
}

/// Orders with one reason for an exception.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionCount {
    /// `hold_<code>` (credit_limit, duplicate, address, payment_failed, stock, rule, manual,
    /// price_deviation…) or `claim_<kind>` (lost, damaged, delayed, other).
    #[schema(example = "hold_credit_limit")]
    pub reason: String,
    pub orders: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleReport {
    pub from: String,
    pub to: String,
    pub rows: Vec<CycleRow>,
    pub totals: CycleTotals,
    /// Most frequent first.
    pub exceptions: Vec<ExceptionCount>,
}

/// A line of the month's summary: a figure with its amount.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinanceRow {
    /// orders_revenue, net_revenue, tax, cost_of_goods, gross_margin, invoiced, credit_notes,
    /// write_offs, cash_received, refunds, receivables_open (then receivables_current,
    /// receivables_1_30, _31_60, _61_90, _90_plus by days overdue); `tax_<rate>` per tax rate;
    /// `account_<code>` per ledger account (net movement).
    pub key: String,
    pub label: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// How many documents or orders made it, where that means something.
    pub count: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinanceTotals {
    #[schema(value_type = String)]
    pub revenue: Decimal,
    #[schema(value_type = String)]
    pub net_revenue: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
    #[schema(value_type = String)]
    pub cost_of_goods: Decimal,
    #[schema(value_type = String)]
    pub gross_margin: Decimal,
    /// Gross margin over net revenue, percent.
    #[schema(value_type = Option<String>)]
    pub gross_margin_percent: Option<Decimal>,
    #[schema(value_type = String)]
    pub cash_received: Decimal,
    #[schema(value_type = String)]
    pub refunds: Decimal,
    #[schema(value_type = String)]
    pub receivables_open: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FinanceSummary {
    #[schema(example = "2026-11")]
    pub month: String,
    pub currency: String,
    pub rows: Vec<FinanceRow>,
    pub totals: FinanceTotals,
}
