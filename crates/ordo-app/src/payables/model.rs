use crate::common::AmountInput;
use crate::payments::AgingAmounts;
use ordo_domain::payables::{AllocationBasis, BillStatus, CostKind, Mismatch};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewBill {
    /// The supplier's own invoice number (发票号); unique per supplier.
    #[schema(example = "HZ-2026-0457")]
    pub supplier_ref: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub bill_date: Option<String>,
    /// `YYYY-MM-DD`; default the bill date plus the supplier's payment terms.
    pub due_date: Option<String>,
    pub lines: Option<Vec<NewBillLine>>,
    /// The tax on the supplier's invoice (input tax, 进项税); default 0.
    pub tax: Option<AmountInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewBillLine {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    /// Per unit, before tax, in the purchase order's currency.
    pub unit_cost: Option<AmountInput>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bill {
    pub id: i64,
    #[schema(example = "BILL-000001")]
    pub number: String,
    pub supplier_ref: String,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub purchase_order_id: i64,
    pub purchase_order_number: String,
    pub status: BillStatus,
    pub currency: Currency,
    pub bill_date: String,
    pub due_date: String,
    pub lines: Vec<BillLine>,
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
    #[schema(value_type = String)]
    pub open: Decimal,
    /// True when every line matched the order and the receipts.
    pub matched: bool,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub approval_note: Option<String>,
    pub payments: Vec<SupplierPayment>,
    pub version: i64,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BillLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    #[schema(value_type = String)]
    pub unit_cost: Decimal,
    /// The purchase order's unit cost for the line.
    #[schema(value_type = String)]
    pub order_unit_cost: Decimal,
    #[schema(value_type = String)]
    pub line_total: Decimal,
    /// Why the line did not match; empty when it did.
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BillApproval {
    /// Why the mismatch is accepted (a surcharge agreed by phone…); required.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewSupplierPayment {
    pub amount: Option<AmountInput>,
    /// `bank_transfer` (default) or `cash`.
    pub method: Option<String>,
    /// The bank's transaction reference.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierPayment {
    pub id: i64,
    pub bill_id: i64,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    pub method: String,
    pub reference: Option<String>,
    pub paid_at: Timestamp,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayablesAgingReport {
    pub currency: Currency,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub suppliers: Vec<PayablesAgingRow>,
    pub totals: AgingAmounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayablesAgingRow {
    pub supplier_id: i64,
    pub supplier_code: String,
    pub supplier_name: String,
    #[serde(flatten)]
    pub amounts: AgingAmounts,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewCost {
    /// freight, packaging, payment_fee, other.
    pub kind: Option<String>,
    pub amount: Option<AmountInput>,
    /// ISO 4217; default the orders' currency.
    pub currency: Option<String>,
    /// Where the money went out: `bank` (default), `cash`, or `provider` (a fee the payment
    /// provider kept back from what it settles).
    pub paid_from: Option<String>,
    /// The orders the cost served (ids).
    #[serde(default)]
    pub orders: Vec<i64>,
    /// The shipments it served (ids): shared over the lines each shipment carried.
    #[serde(default)]
    pub shipments: Vec<i64>,
    /// value (default), quantity or weight.
    pub basis: Option<String>,
    /// The carrier's or supplier's invoice number.
    pub reference: Option<String>,
    pub memo: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub incurred_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cost {
    pub id: i64,
    #[schema(example = "COST-000001")]
    pub number: String,
    pub kind: CostKind,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    pub paid_from: String,
    pub basis: AllocationBasis,
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub incurred_on: String,
    pub allocations: Vec<CostAllocation>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// The share of a cost one order line carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostAllocation {
    pub order_id: i64,
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// What an order earned: net revenue less the goods' cost and the costs shared to it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderMargin {
    pub order_id: i64,
    pub order_number: String,
    pub currency: Currency,
    /// Net of tax, less `credited`.
    #[schema(value_type = String)]
    pub revenue: Decimal,
    /// Credit notes issued on the order (refunds, returns, price corrections), net of tax.
    #[schema(value_type = String)]
    pub credited: Decimal,
    #[schema(value_type = String)]
    pub cost_of_goods: Decimal,
    /// Per kind (freight, packaging, payment_fee, other), only kinds with a cost.
    pub costs: Vec<CostShare>,
    #[schema(value_type = String)]
    pub gross_margin: Decimal,
    /// After the shared costs.
    #[schema(value_type = String)]
    pub margin: Decimal,
    /// Margin over revenue, percent; absent when there is no revenue.
    #[schema(value_type = Option<String>)]
    pub margin_percent: Option<Decimal>,
    /// Lines whose goods have no known cost (never received through a purchase order), or,
    /// for an order in another currency than the base, no exchange rate on its day.
    pub lines_without_cost: Vec<String>,
    /// Per line, before credit notes (they are not per line).
    pub lines: Vec<LineMargin>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CostShare {
    pub kind: CostKind,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineMargin {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
    /// Units that came back on a return and went back on the shelf: their cost is not a
    /// cost of this sale.
    pub restocked: i64,
    #[schema(value_type = String)]
    pub revenue: Decimal,
    #[schema(value_type = Option<String>)]
    pub cost_of_goods: Option<Decimal>,
    #[schema(value_type = String)]
    pub costs: Decimal,
    #[schema(value_type = String)]
    pub margin: Decimal,
}

#[derive(Debug, thiserror::Error)]
pub enum PayablesError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no purchase order with id {0}")]
    PurchaseOrderNotFound(i64),
    #[error("no supplier bill with id {0}")]
    BillNotFound(i64),
    #[error("no cost with id {0}")]
    CostNotFound(i64),
    #[error("no order with id {0}")]
    OrderNotFound(i64),
    #[error("bill {supplier_ref:?} of this supplier is already entered as {number}")]
    DuplicateBill { supplier_ref: String, number: String },
    /// The bill's state does not allow the action (paying a held bill, voiding a paid one).
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Ledger(#[from] crate::payments::PaymentError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(PayablesError);
