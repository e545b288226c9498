use crate::common::AmountInput;
use ordo_domain::payments::{MethodConfig, MethodKind, PaymentState, RefundState};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPayment {
    /// A payment method code: `bank_transfer`, `cash`, `cod`, `credit` (net terms),
    /// `store_credit`, `sandbox` (online)…
    pub method: Option<String>,
    #[schema(value_type = Option<String>, example = "50.00")]
    pub amount: Option<AmountInput>,
    /// The bank's or the customer's reference.
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payment {
    pub id: i64,
    pub order_id: i64,
    pub order_number: String,
    pub customer_id: i64,
    pub method: String,
    pub kind: MethodKind,
    pub status: PaymentState,
    pub currency: Currency,
    #[schema(value_type = String, example = "50.00")]
    pub amount: Decimal,
    /// The part that settled the order; the rest went to the customer's credit.
    #[schema(value_type = String)]
    pub applied: Decimal,
    #[schema(value_type = String)]
    pub refunded: Decimal,
    pub reference: Option<String>,
    pub provider: Option<String>,
    pub provider_ref: Option<String>,
    /// Online payments waiting for the customer: where to send them.
    pub redirect_url: Option<String>,
    /// Why the provider declined it.
    pub failure_reason: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<Payment>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewRefund {
    #[schema(value_type = Option<String>, example = "20.00")]
    pub amount: Option<AmountInput>,
    pub reason: Option<String>,
    /// Credit the customer's account instead of paying back by the original method.
    pub to_store_credit: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refund {
    pub id: i64,
    pub payment_id: i64,
    pub order_id: i64,
    pub status: RefundState,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: Currency,
    pub reason: String,
    pub to_store_credit: bool,
    /// The credit note issued with it, when the order was invoiced.
    pub credit_note_id: Option<i64>,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefundList {
    pub items: Vec<Refund>,
}

/// The business's payment settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PaymentSettings {
    pub methods: Vec<MethodConfig>,
    /// Refunds above this amount wait for a finance approval; absent: never.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub refund_approval_above: Option<Decimal>,
}

/// What a customer may pay an order with, and the default.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MethodChoice {
    pub code: String,
    pub name: String,
    pub kind: MethodKind,
    pub available: bool,
    /// Why it is not offered.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderMethods {
    pub default: Option<String>,
    pub methods: Vec<MethodChoice>,
}

/// A provider callback's outcome after verification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallbackResult {
    /// processed, duplicate (seen before: nothing changed).
    pub result: String,
    pub payment_id: Option<i64>,
    pub status: Option<PaymentState>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewInvoice {
    /// Which quantities to invoice; default everything not invoiced yet.
    pub lines: Option<Vec<InvoiceLineInput>>,
    /// Invoice what this shipment of the order carried (instead of `lines`).
    pub shipment_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct InvoiceLineInput {
    pub sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WriteOff {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Party {
    pub name: String,
    pub code: String,
    pub address: Option<String>,
    pub tax_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invoice {
    pub id: i64,
    #[schema(example = "INV-2026-000001")]
    pub number: String,
    /// invoice, credit_note, write_off.
    pub kind: String,
    pub order_id: i64,
    pub order_number: String,
    pub customer_id: i64,
    pub currency: Currency,
    pub issued_at: Timestamp,
    /// `YYYY-MM-DD`, from the order's payment terms.
    pub due_date: String,
    /// The invoice a credit note or write-off corrects.
    pub corrects: Option<String>,
    pub reason: Option<String>,
    /// The shipment an invoice was issued for, when it was.
    pub shipment_number: Option<String>,
    pub bill_to: Party,
    pub lines: Vec<InvoiceLine>,
    /// Tax per rate.
    pub tax_lines: Vec<TaxLine>,
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax_total: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Invoices only: what is still to be paid after credit notes and payments.
    #[schema(value_type = Option<String>)]
    pub open: Option<Decimal>,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceLine {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub discount_percent: Decimal,
    #[schema(value_type = String)]
    pub tax_rate: Decimal,
    #[schema(value_type = String)]
    pub line_total: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaxLine {
    #[schema(value_type = String, example = "0.13")]
    pub rate: Decimal,
    #[schema(value_type = String)]
    pub taxable: Decimal,
    #[schema(value_type = String)]
    pub tax: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvoiceList {
    pub items: Vec<Invoice>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrialBalance {
    pub currency: Currency,
    pub accounts: Vec<AccountBalance>,
    #[schema(value_type = String)]
    pub total_debit: Decimal,
    #[schema(value_type = String)]
    pub total_credit: Decimal,
    pub balanced: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountBalance {
    #[schema(example = "1100")]
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub debit: Decimal,
    #[schema(value_type = String)]
    pub credit: Decimal,
    /// On the account's normal side: debit − credit for assets and expenses, credit − debit
    /// for liabilities and revenue.
    #[schema(value_type = String)]
    pub balance: Decimal,
}

/// Proof that the ledger agrees with itself and with the documents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LedgerCheck {
    pub ok: bool,
    /// Journal entries whose debits and credits differ, in their currency or in base.
    pub unbalanced_entries: Vec<i64>,
    /// Orders whose receivable in the ledger differs from invoiced − credited − paid.
    pub receivable_mismatches: Vec<String>,
    /// Suppliers whose payable in the ledger differs from their open bills.
    pub payable_mismatches: Vec<String>,
    pub entries: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingReport {
    pub currency: Currency,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub customers: Vec<AgingRow>,
    pub totals: AgingAmounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingRow {
    pub customer_id: i64,
    pub customer_code: String,
    pub customer_name: String,
    #[serde(flatten)]
    pub amounts: AgingAmounts,
}

/// What is open, by days past the due date (receivables and payables alike).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgingAmounts {
    #[schema(value_type = String)]
    pub current: Decimal,
    #[serde(rename = "1_30")]
    #[schema(value_type = String)]
    pub days_1_30: Decimal,
    #[serde(rename = "31_60")]
    #[schema(value_type = String)]
    pub days_31_60: Decimal,
    #[serde(rename = "61_90")]
    #[schema(value_type = String)]
    pub days_61_90: Decimal,
    #[serde(rename = "90_plus")]
    #[schema(value_type = String)]
    pub over_90: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

impl AgingAmounts {
    pub fn zero(currency: Currency) -> AgingAmounts {
        let zero = currency.round(Decimal::ZERO);
        AgingAmounts { current: zero, days_1_30: zero, days_31_60: zero, days_61_90: zero, over_90: zero, total: zero }
    }

    pub fn add(&mut self, bucket: ordo_domain::payments::AgingBucket, amount: Decimal) {
        use ordo_domain::payments::AgingBucket;
        match bucket {
            AgingBucket::Current => self.current += amount,
            AgingBucket::Days1To30 => self.days_1_30 += amount,
            AgingBucket::Days31To60 => self.days_31_60 += amount,
            AgingBucket::Days61To90 => self.days_61_90 += amount,
            AgingBucket::Over90 => self.over_90 += amount,
        }
        self.total += amount;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    pub customer_id: i64,
    pub customer_code: String,
    pub customer_name: String,
    pub currency: Currency,
    pub from: String,
    pub to: String,
    #[schema(value_type = String)]
    pub opening_balance: Decimal,
    pub lines: Vec<StatementLine>,
    #[schema(value_type = String)]
    pub closing_balance: Decimal,
    /// Store credit the customer holds (not part of the balance).
    #[schema(value_type = String)]
    pub store_credit: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    pub date: String,
    /// invoice, payment, refund, credit_note, write_off.
    pub kind: String,
    pub document: String,
    pub description: String,
    #[schema(value_type = String)]
    pub debit: Decimal,
    #[schema(value_type = String)]
    pub credit: Decimal,
    /// Running: what the customer owes after this line.
    #[schema(value_type = String)]
    pub balance: Decimal,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewBankStatement {
    pub name: Option<String>,
    /// ISO 4217; default CNY.
    pub currency: Option<String>,
    /// The bank's CSV export, header row first.
    pub csv: Option<String>,
    /// Which header names hold what; defaults: date, amount, reference, counterparty.
    pub mapping: Option<ColumnMapping>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ColumnMapping {
    pub date: Option<String>,
    pub amount: Option<String>,
    pub reference: Option<String>,
    pub counterparty: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankStatement {
    pub id: i64,
    pub name: String,
    pub currency: Currency,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
    pub lines: Vec<BankLine>,
    pub matched: i64,
    pub unmatched: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankLine {
    pub line_no: i64,
    pub date: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub reference: String,
    pub counterparty: String,
    /// matched, unmatched, ignored (not a receipt), duplicate (an earlier statement holds the
    /// same line; never matched again).
    pub status: String,
    pub invoice_id: Option<i64>,
    pub invoice_number: Option<String>,
    pub payment_id: Option<i64>,
    /// How it was matched, or why not.
    pub note: Option<String>,
    /// Invoices that could be meant, for matching by hand.
    pub candidates: Vec<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ManualMatch {
    pub line_no: Option<i64>,
    pub invoice_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BankStatementList {
    pub items: Vec<BankStatement>,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no order with id {0}")]
    OrderNotFound(i64),
    #[error("no payment with id {0}")]
    NotFound(i64),
    #[error("no refund with id {0}")]
    RefundNotFound(i64),
    #[error("no invoice with id {0}")]
    InvoiceNotFound(i64),
    #[error("no customer with id {0}")]
    CustomerNotFound(i64),
    #[error("no bank statement with id {0}")]
    StatementNotFound(i64),
    #[error("no payment provider {0:?}")]
    ProviderNotFound(String),
    /// The callback's signature or timestamp does not check out.
    #[error("callback refused: {0}")]
    BadSignature(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    #[error(transparent)]
    Unbalanced(#[from] ordo_domain::payments::Unbalanced),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(PaymentError);
