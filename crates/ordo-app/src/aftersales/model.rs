//! What after-sales commands take and return.

use crate::common::AmountInput;
use ordo_domain::aftersales::{
    Disposition, ReturnPolicy, ReturnReason, ReturnStatus, ShippingPayer, SlaHours, TicketCategory, TicketPriority,
    TicketStatus,
};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The business's after-sales settings (one document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ServiceSettings {
    /// The most specific policy for a line's product category and customer group applies;
    /// with none, 30 days and every reason accepted.
    pub return_policies: Vec<ReturnPolicy>,
    pub sla_hours: SlaHours,
    /// A rating at or below this (1–5) opens a complaint ticket.
    pub low_rating_threshold: i64,
    /// Open a ticket when a parcel has a delivery exception (lost, damaged, delayed).
    pub ticket_on_delivery_exception: bool,
    /// Open a ticket when a return is refused, so someone calls the customer.
    pub ticket_on_rejected_return: bool,
}

impl Default for ServiceSettings {
    fn default() -> ServiceSettings {
        ServiceSettings {
            return_policies: Vec::new(),
            sla_hours: SlaHours::default(),
            low_rating_threshold: 2,
            ticket_on_delivery_exception: true,
            ticket_on_rejected_return: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReturnLineInput {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
    /// changed_mind, defective, wrong_item, damaged_in_transit, not_as_described, other.
    pub reason: Option<String>,
    /// The customer opened the packaging (some policies refuse opened goods).
    pub opened: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewReturn {
    pub lines: Option<Vec<ReturnLineInput>>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReplacementLineInput {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewExchange {
    pub return_lines: Option<Vec<ReturnLineInput>>,
    /// What the customer gets instead: the same SKU (at the price paid) or another one
    /// (at today's price).
    pub replacement_lines: Option<Vec<ReplacementLineInput>>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReturnDecision {
    /// Required to reject; shown to the customer.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReceiveLineInput {
    pub sku: Option<String>,
    /// Units that arrived (at most those authorised; fewer is fine).
    pub quantity: Option<i64>,
    /// restock, damaged, scrap, return_to_supplier.
    pub disposition: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ReceiveReturn {
    pub lines: Option<Vec<ReceiveLineInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RefundReturn {
    /// Credit the customer's account instead of paying back by the original method.
    pub to_store_credit: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnLine {
    /// The order line this comes from.
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub reason: ReturnReason,
    pub opened: bool,
    /// The policy that judged the line.
    pub policy: String,
    /// What the authorised units were paid, tax included.
    #[schema(value_type = String, example = "113.00")]
    pub value: Decimal,
    #[schema(value_type = String, example = "10")]
    pub restocking_fee_percent: Decimal,
    pub received_quantity: i64,
    pub disposition: Option<Disposition>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Return {
    pub id: i64,
    /// The return authorisation number (RMA) to write on the parcel.
    #[schema(example = "RMA-2026-000001")]
    pub number: String,
    /// `return`, or `exchange` when a replacement order goes out.
    pub kind: String,
    pub status: ReturnStatus,
    /// Why the policy (or a person) decided as it did.
    pub decision_reason: Option<String>,
    pub order_id: i64,
    pub order_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub lines: Vec<ReturnLine>,
    pub notes: Option<String>,
    /// What the customer does next: where to send it, who pays the postage.
    pub instructions: Option<String>,
    pub return_shipping: ShippingPayer,
    pub currency: Currency,
    /// What the authorised units were paid, tax included.
    #[schema(value_type = String, example = "113.00")]
    pub value: Decimal,
    /// Known once received: the fee kept for the units that came back.
    #[schema(value_type = String, example = "11.30")]
    pub restocking_fee: Decimal,
    /// Known once received: the value of what came back less the fee.
    #[schema(value_type = String, example = "101.70")]
    pub refund_amount: Decimal,
    /// Paid back so far (refunds, store credit, or credit towards the replacement).
    #[schema(value_type = String, example = "101.70")]
    pub refunded: Decimal,
    /// The refunds issued for it (each may wait for finance above the approval limit).
    pub refund_ids: Vec<i64>,
    pub replacement_order_id: Option<i64>,
    pub replacement_order_number: Option<String>,
    /// For an exchange: settled against the replacement order.
    pub settled: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub received_at: Option<Timestamp>,
    pub refunded_at: Option<Timestamp>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnList {
    pub items: Vec<Return>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ReturnQuery {
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewFeedback {
    /// 1 (bad) to 5 (excellent).
    pub rating: Option<i64>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feedback {
    pub order_id: i64,
    pub customer_id: i64,
    pub rating: i64,
    pub comment: Option<String>,
    /// The complaint ticket a low rating opened.
    pub ticket_id: Option<i64>,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewTicket {
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub subject: Option<String>,
    /// complaint, question, delivery, return, billing, product, other.
    pub category: Option<String>,
    /// low, normal (default), high, urgent: sets the due time from the SLA hours.
    pub priority: Option<String>,
    pub assignee: Option<String>,
    /// The customer's words.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TicketUpdate {
    pub status: Option<String>,
    pub priority: Option<String>,
    /// A user's e-mail or name; empty to unassign.
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewReply {
    pub body: Option<String>,
    /// An internal note, never shown to the customer (default false: a reply).
    pub internal: Option<bool>,
    /// The customer wrote this (a portal message or a call taken down), not staff.
    pub from_customer: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketMessage {
    pub id: i64,
    /// `reply` (the customer sees it), `note` (internal) or `customer` (from them).
    pub kind: String,
    pub body: String,
    pub author: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ticket {
    pub id: i64,
    #[schema(example = "TK-000001")]
    pub number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub return_id: Option<i64>,
    pub subject: String,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub status: TicketStatus,
    /// `staff`, `low_rating`, `delivery_exception`, `return_rejected`.
    pub source: String,
    pub assignee: Option<String>,
    /// When it must be resolved, from the SLA hours of its priority.
    pub due_at: Timestamp,
    /// Open and past its due time.
    pub overdue: bool,
    pub first_reply_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Oldest first; empty in lists.
    pub messages: Vec<TicketMessage>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketList {
    pub items: Vec<Ticket>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct TicketQuery {
    /// A status, or `open` for every unresolved one, or `overdue`.
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub order_id: Option<i64>,
    pub assignee: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewClaimInput {
    /// lost, damaged, delayed, other.
    pub kind: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ClaimRemedy {
    /// `reship` (a free replacement order for the shipment's goods) or `refund` (their value).
    pub remedy: Option<String>,
    /// Asked of the carrier; default the value of the shipment's goods.
    #[schema(value_type = Option<String>, example = "113.00")]
    pub claimed_amount: Option<AmountInput>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimResolution {
    pub claim_id: i64,
    pub remedy: String,
    pub replacement_order_id: Option<i64>,
    pub refund_ids: Vec<i64>,
    #[schema(value_type = String)]
    pub claimed_amount: Decimal,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewNote {
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerNote {
    pub id: i64,
    pub body: String,
    pub author: String,
    pub at: Timestamp,
}

/// Everything service staff need about one customer, on one screen.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Customer360 {
    pub customer: crate::customers::Customer,
    pub orders: Vec<crate::orders::Order>,
    pub returns: Vec<Return>,
    pub tickets: Vec<Ticket>,
    pub notes: Vec<CustomerNote>,
    /// Owed on open invoices and unpaid orders, per currency.
    pub balances: Vec<Balance>,
    /// Store credit the customer can spend, per currency.
    pub store_credit: Vec<Balance>,
    /// Average rating given (1–5) and how many ratings.
    pub average_rating: Option<String>,
    pub ratings: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Balance {
    pub currency: Currency,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// The service team's work: what is open, most urgent first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceQueue {
    pub returns: Vec<Return>,
    pub tickets: Vec<Ticket>,
    pub claims: Vec<crate::fulfillment::Claim>,
    pub overdue_tickets: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AnalyticsQuery {
    /// `YYYY-MM-DD`, inclusive; default 90 days ago.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive; default today.
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateRow {
    /// The SKU, category or customer code.
    pub key: String,
    pub name: String,
    pub sold: i64,
    pub returned: i64,
    /// returned ÷ sold, as a percentage with one decimal.
    pub return_rate: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountRow {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceAnalytics {
    pub from: String,
    pub to: String,
    pub by_product: Vec<RateRow>,
    pub by_category: Vec<RateRow>,
    pub by_customer: Vec<RateRow>,
    /// Units returned per reason.
    pub reasons: Vec<CountRow>,
    pub returns: i64,
    pub refunded_returns: i64,
    /// From request to refund, in hours (one decimal); absent with no refunded return.
    pub average_hours_to_refund: Option<String>,
    pub tickets_opened: i64,
    pub tickets_by_category: Vec<CountRow>,
    pub tickets_resolved: i64,
    /// Resolved by their due time.
    pub tickets_resolved_on_time: i64,
    /// On-time share of resolved tickets, percent with one decimal.
    pub sla_compliance: Option<String>,
    pub average_rating: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AfterSalesError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no order with id {0}")]
    OrderNotFound(i64),
    #[error("no return with id {0}")]
    ReturnNotFound(i64),
    #[error("no ticket with id {0}")]
    TicketNotFound(i64),
    #[error("no customer with id {0}")]
    CustomerNotFound(i64),
    #[error("no shipment with id {0}")]
    ShipmentNotFound(i64),
    #[error("no claim with id {0}")]
    ClaimNotFound(i64),
    #[error("the ticket changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    #[error(transparent)]
    Payment(#[from] crate::payments::PaymentError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(AfterSalesError);
