//! Payments, the ledger and receivables as pure rules: which methods a customer may use,
//! what an order's payment status is, which accounts a money event moves, how old a debt is,
//! and which open invoice a bank receipt pays.

use crate::Currency;
use crate::time::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// How money reaches the business.
    MethodKind {
        Online = "online",
        BankTransfer = "bank_transfer",
        Cod = "cod",
        Cash = "cash",
        Terms = "terms",
        StoreCredit = "store_credit",
    }
);

crate::text_enum!(
    /// Where one payment stands: `pending` waits for the customer at the provider's page,
    /// `authorized` is reserved on a card or wallet (money moves on capture), `on_account`
    /// settles the order on net terms (the invoice collects later).
    PaymentState {
        Pending = "pending",
        Authorized = "authorized",
        Captured = "captured",
        OnAccount = "on_account",
        Failed = "failed",
        Voided = "voided",
    }
);

crate::text_enum!(
    RefundState { PendingApproval = "pending_approval", Completed = "completed", Rejected = "rejected" }
);

/// A payment method as the business configures it, with where it may be offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MethodConfig {
    /// What clients send as `method`, e.g. `bank_transfer`, `cod`, `sandbox`.
    pub code: String,
    pub name: String,
    pub kind: MethodKind,
    pub enabled: bool,
    /// The provider adapter of an online method (`sandbox`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Online only: authorise first and capture later (e.g. at shipment).
    #[serde(default)]
    pub manual_capture: bool,
    /// Offered only on these channels; empty means every channel.
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub customer_groups: Vec<String>,
    /// Matched against the customer's region or the destination's country/region.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub min_amount: Option<Decimal>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub max_amount: Option<Decimal>,
    /// Minutes after which an unpaid order using this method is cancelled; overrides the
    /// channel's setting.
    #[serde(default)]
    pub auto_cancel_minutes: Option<i64>,
}

/// What availability depends on.
#[derive(Debug, Clone, Default)]
pub struct MethodFacts<'a> {
    pub channel: &'a str,
    pub customer_group: &'a str,
    /// Customer region and destination country/region, any of which may match.
    pub regions: Vec<&'a str>,
    pub amount: Decimal,
    /// The customer buys on net terms.
    pub has_terms: bool,
    pub store_credit: Decimal,
}

impl MethodConfig {
    /// Why this method cannot be offered, or `None` when it can.
    pub fn unavailable_because(&self, facts: &MethodFacts) -> Option<String> {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value));
        if !self.enabled {
            return Some("switched off".into());
        }
        if !listed(&self.channels, facts.channel) {
            return Some(format!("not offered on the {} channel", facts.channel));
        }
        if !listed(&self.customer_groups, facts.customer_group) {
            return Some(format!("not offered to the {} group", facts.customer_group));
        }
        if !self.regions.is_empty() && !facts.regions.iter().any(|r| listed(&self.regions, r)) {
            return Some(format!("only for {}", self.regions.join(", ")));
        }
        if let Some(min) = self.min_amount.filter(|m| facts.amount < *m) {
            return Some(format!("only from {min}"));
        }
        if let Some(max) = self.max_amount.filter(|m| facts.amount > *m) {
            return Some(format!("only up to {max}"));
        }
        match self.kind {
            MethodKind::Terms if !facts.has_terms => Some("the customer has no net terms".into()),
            MethodKind::StoreCredit if facts.store_credit <= Decimal::ZERO => Some("no store credit".into()),
            _ => None,
        }
    }
}

/// The method an order gets when none is chosen: net terms for a customer who has them,
/// otherwise the first available method in the business's order.
pub fn default_method<'m>(methods: &'m [MethodConfig], facts: &MethodFacts) -> Option<&'m MethodConfig> {
    let available = |m: &&MethodConfig| m.unavailable_because(facts).is_none();
    let terms = methods.iter().filter(available).find(|m| m.kind == MethodKind::Terms);
    terms.filter(|_| facts.has_terms).or_else(|| {
        methods.iter().filter(available).find(|m| !matches!(m.kind, MethodKind::Terms | MethodKind::StoreCredit))
    })
}

/// The methods a new business starts with.
pub fn starter_methods() -> Vec<MethodConfig> {
    let method = |code: &str, name: &str, kind: MethodKind| MethodConfig {
        code: code.into(),
        name: name.into(),
        kind,
        enabled: true,
        provider: None,
        manual_capture: false,
        channels: Vec::new(),
        customer_groups: Vec::new(),
        regions: Vec::new(),
        min_amount: None,
        max_amount: None,
        auto_cancel_minutes: None,
    };
    vec![
        MethodConfig {
            provider: Some("sandbox".into()),
            ..method("sandbox", "Card / wallet (sandbox)", MethodKind::Online)
        },
        method("bank_transfer", "Bank transfer", MethodKind::BankTransfer),
        MethodConfig { max_amount: Some(Decimal::from(5000)), ..method("cod", "Cash on delivery", MethodKind::Cod) },
        method("cash", "Cash", MethodKind::Cash),
        method("credit", "On account (net terms)", MethodKind::Terms),
        method("store_credit", "Store credit", MethodKind::StoreCredit),
    ]
}

/// Money on an order, in its currency: what it costs and what has come in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderMoney {
    pub total: Decimal,
    /// Credit notes issued against the order.
    pub credited: Decimal,
    /// Captured and applied to the order, net of refunds.
    pub paid: Decimal,
    /// Settled on net terms, still to be collected.
    pub on_account: Decimal,
    /// Authorised, not yet captured.
    pub authorized: Decimal,
    pub refunded: Decimal,
}

impl OrderMoney {
    /// What the customer still owes on the order (never below zero).
    pub fn due(&self) -> Decimal {
        (self.total - self.credited - self.paid).max(Decimal::ZERO)
    }

    /// The payment status shown beside the order status, derived from the money only.
    pub fn status(&self) -> crate::orders::PaymentStatus {
        use crate::orders::PaymentStatus as S;
        let owed = self.total - self.credited;
        let covered = self.paid + self.on_account;
        if self.refunded > Decimal::ZERO {
            return if self.paid <= Decimal::ZERO { S::Refunded } else { S::PartiallyRefunded };
        }
        if covered >= owed && owed > Decimal::ZERO {
            S::Paid
        } else if covered > Decimal::ZERO {
            S::PartiallyPaid
        } else if self.authorized > Decimal::ZERO {
            S::Authorized
        } else {
            S::Unpaid
        }
    }

    /// Splits a captured amount into what settles the order and what is left over for the
    /// customer's credit (an overpayment).
    pub fn apply(&self, amount: Decimal) -> (Decimal, Decimal) {
        let applied = amount.min(self.due());
        (applied, amount - applied)
    }
}

crate::text_enum!(
    /// The chart of accounts the ledger posts to.
    Account {
        Cash = "1000",
        Bank = "1010",
        ProviderClearing = "1020",
        CodClearing = "1030",
        Receivables = "1100",
        InputTax = "1300",
        Payables = "2000",
        CustomerCredit = "2100",
        TaxPayable = "2200",
        Revenue = "4000",
        SalesReturns = "4100",
        Purchases = "5000",
        BadDebt = "6100",
        Freight = "6200",
        Packaging = "6210",
        PaymentFees = "6220",
        OtherCosts = "6290",
        ExchangeDifference = "7900",
    }
);

impl Account {
    pub fn name(self) -> &'static str {
        match self {
            Account::Cash => "Cash",
            Account::Bank => "Bank",
            Account::ProviderClearing => "Payment provider clearing",
            Account::CodClearing => "Cash on delivery clearing",
            Account::Receivables => "Accounts receivable",
            Account::CustomerCredit => "Customer credit",
            Account::TaxPayable => "Tax payable",
            Account::Revenue => "Sales revenue",
            Account::SalesReturns => "Sales returns and refunds",
            Account::BadDebt => "Bad debt",
            Account::InputTax => "Input tax recoverable",
            Account::Payables => "Accounts payable",
            Account::Purchases => "Purchases",
            Account::Freight => "Freight out",
            Account::Packaging => "Packaging",
            Account::PaymentFees => "Payment fees",
            Account::OtherCosts => "Other costs of sale",
            Account::ExchangeDifference => "Exchange gains and losses",
        }
    }

    /// Assets and expenses grow on the debit side, the rest on the credit side.
    pub fn debit_normal(self) -> bool {
        matches!(
            self,
            Account::Cash
                | Account::Bank
                | Account::ProviderClearing
                | Account::CodClearing
                | Account::Receivables
                | Account::SalesReturns
                | Account::BadDebt
                | Account::InputTax
                | Account::Purchases
                | Account::Freight
                | Account::Packaging
                | Account::PaymentFees
                | Account::OtherCosts
        )
    }

    /// The expense account a cost of serving orders posts to.
    pub fn for_cost(kind: crate::payables::CostKind) -> Account {
        use crate::payables::CostKind;
        match kind {
            CostKind::Freight => Account::Freight,
            CostKind::Packaging => Account::Packaging,
            CostKind::PaymentFee => Account::PaymentFees,
            CostKind::Other => Account::OtherCosts,
        }
    }

    /// Where the money of a method lands.
    pub fn for_method(kind: MethodKind) -> Account {
        match kind {
            MethodKind::Online => Account::ProviderClearing,
            MethodKind::BankTransfer | MethodKind::Terms => Account::Bank,
            MethodKind::Cod => Account::CodClearing,
            MethodKind::Cash => Account::Cash,
            MethodKind::StoreCredit => Account::CustomerCredit,
        }
    }
}

/// One side of a journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub debit: Decimal,
    pub credit: Decimal,
}

/// A journal entry under construction; only a balanced one can be taken out.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    postings: Vec<Posting>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal entry does not balance: debits {debit}, credits {credit}")]
pub struct Unbalanced {
    pub debit: Decimal,
    pub credit: Decimal,
}

impl Journal {
    pub fn new() -> Journal {
        Journal::default()
    }

    pub fn debit(mut self, account: Account, amount: Decimal) -> Journal {
        if !amount.is_zero() {
            self.postings.push(Posting { account, debit: amount, credit: Decimal::ZERO });
        }
        self
    }

    pub fn credit(mut self, account: Account, amount: Decimal) -> Journal {
        if !amount.is_zero() {
            self.postings.push(Posting { account, debit: Decimal::ZERO, credit: amount });
        }
        self
    }

    /// The postings, if debits equal credits and none is negative.
    pub fn balanced(self) -> Result<Vec<Posting>, Unbalanced> {
        let debit: Decimal = self.postings.iter().map(|p| p.debit).sum();
        let credit: Decimal = self.postings.iter().map(|p| p.credit).sum();
        let negative = self.postings.iter().any(|p| p.debit < Decimal::ZERO || p.credit < Decimal::ZERO);
        if debit != credit || negative {
            return Err(Unbalanced { debit, credit });
        }
        Ok(self.postings)
    }
}

/// Splits a gross amount into net and tax at the order's overall tax ratio, so a credit
/// note for part of an order carries its share of tax (rounded to the currency).
pub fn split_tax(gross: Decimal, order_total: Decimal, order_tax: Decimal, currency: Currency) -> (Decimal, Decimal) {
    if order_total.is_zero() {
        return (gross, Decimal::ZERO);
    }
    let tax = currency.round(gross * order_tax / order_total);
    (gross - tax, tax)
}

/// Days until an invoice is due under the customer's payment terms (`prepaid` is due at once).
pub fn terms_days(terms: &str) -> i64 {
    terms.strip_prefix("net").and_then(|d| d.parse().ok()).unwrap_or(0)
}

crate::text_enum!(
    /// Receivables aging buckets, by days past the due date.
    AgingBucket { Current = "current", Days1To30 = "1_30", Days31To60 = "31_60", Days61To90 = "61_90", Over90 = "90_plus" }
);

impl AgingBucket {
    pub fn of(due: Date, today: Date) -> AgingBucket {
        match today.days_since_epoch() - due.days_since_epoch() {
            d if d <= 0 => AgingBucket::Current,
            1..=30 => AgingBucket::Days1To30,
            31..=60 => AgingBucket::Days31To60,
            61..=90 => AgingBucket::Days61To90,
            _ => AgingBucket::Over90,
        }
    }
}

/// An open invoice a receipt might pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: i64,
    pub number: String,
    pub order_number: String,
    pub customer_code: String,
    pub customer_name: String,
    pub open: Decimal,
}

/// A receipt on a bank statement.
#[derive(Debug, Clone, Default)]
pub struct Receipt<'a> {
    pub amount: Decimal,
    pub reference: &'a str,
    pub counterparty: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome {
    /// One invoice, and why.
    Matched { invoice_id: i64, by: &'static str },
    /// Left for a person: the candidates (possibly none) and why.
    Unmatched { candidates: Vec<i64>, why: String },
}

/// Matches a receipt to an open invoice only when that is unambiguous: the invoice (or its
/// order) number in the reference with an amount it can take; else the payer named as a
/// customer with exactly one invoice open for exactly that amount.
pub fn match_receipt(receipt: &Receipt, open: &[OpenInvoice]) -> MatchOutcome {
    if receipt.amount <= Decimal::ZERO {
        return MatchOutcome::Unmatched { candidates: Vec::new(), why: "not a receipt".into() };
    }
    let reference = receipt.reference.to_uppercase();
    let named: Vec<&OpenInvoice> = open
        .iter()
        .filter(|i| reference.contains(&i.number.to_uppercase()) || reference.contains(&i.order_number.to_uppercase()))
        .collect();
    if !named.is_empty() {
        let fits: Vec<&&OpenInvoice> = named.iter().filter(|i| receipt.amount <= i.open).collect();
        return match fits.as_slice() {
            [one] => MatchOutcome::Matched { invoice_id: one.id, by: "reference" },
            _ => MatchOutcome::Unmatched {
                candidates: named.iter().map(|i| i.id).collect(),
                why: if fits.is_empty() {
                    format!("the amount is more than {} is open for", named[0].number)
                } else {
                    "the reference names several invoices".into()
                },
            },
        };
    }
    let payer = receipt.counterparty.trim().to_lowercase();
    let from_customer: Vec<&OpenInvoice> = open
        .iter()
        .filter(|i| {
            !payer.is_empty()
                && (payer.contains(&i.customer_code.to_lowercase()) || payer.contains(&i.customer_name.to_lowercase()))
        })
        .collect();
    let exact: Vec<&&OpenInvoice> = from_customer.iter().filter(|i| i.open == receipt.amount).collect();
    match exact.as_slice() {
        [one] => MatchOutcome::Matched { invoice_id: one.id, by: "customer and amount" },
        [] => {
            let same_amount: Vec<i64> = open.iter().filter(|i| i.open == receipt.amount).map(|i| i.id).collect();
            let why = if from_customer.is_empty() {
                "no invoice number in the reference and the payer is not a known customer".into()
            } else {
                "no open invoice of this customer for exactly this amount".into()
            };
            let candidates =
                if from_customer.is_empty() { same_amount } else { from_customer.iter().map(|i| i.id).collect() };
            MatchOutcome::Unmatched { candidates, why }
        }
        several => MatchOutcome::Unmatched {
            candidates: several.iter().map(|i| i.id).collect(),
            why: "several open invoices of this customer have this amount".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::PaymentStatus;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn payment_status_follows_the_money() {
        let mut money = OrderMoney { total: d("100.00"), ..OrderMoney::default() };
        assert_eq!(money.status(), PaymentStatus::Unpaid);
        money.authorized = d("100.00");
        assert_eq!(money.status(), PaymentStatus::Authorized);
        money.paid = d("40.00");
        assert_eq!(money.status(), PaymentStatus::PartiallyPaid);
        money.paid = d("100.00");
        assert_eq!(money.status(), PaymentStatus::Paid);
        money.paid = d("70.00");
        money.refunded = d("30.00");
        assert_eq!(money.status(), PaymentStatus::PartiallyRefunded);
        money.paid = Decimal::ZERO;
        money.refunded = d("100.00");
        assert_eq!(money.status(), PaymentStatus::Refunded);
        let on_terms = OrderMoney { total: d("10"), on_account: d("10"), ..OrderMoney::default() };
        assert_eq!(on_terms.status(), PaymentStatus::Paid);
        assert_eq!(on_terms.due(), d("10"), "on account is still owed");
    }

    #[test]
    fn an_overpayment_is_split_off() {
        let money = OrderMoney { total: d("100.00"), paid: d("60.00"), ..OrderMoney::default() };
        assert_eq!(money.apply(d("50.00")), (d("40.00"), d("10.00")));
        assert_eq!(money.apply(d("10.00")), (d("10.00"), d("0")));
    }

    #[test]
    fn only_balanced_entries_come_out() {
        let ok = Journal::new()
            .debit(Account::Receivables, d("113.00"))
            .credit(Account::Revenue, d("100.00"))
            .credit(Account::TaxPayable, d("13.00"))
            .balanced()
            .unwrap();
        assert_eq!(ok.len(), 3);
        let bad = Journal::new().debit(Account::Cash, d("1")).credit(Account::Receivables, d("0.99")).balanced();
        assert_eq!(bad, Err(Unbalanced { debit: d("1"), credit: d("0.99") }));
    }

    #[test]
    fn cod_is_offered_below_its_limit_and_in_its_regions() {
        let cod =
            MethodConfig { max_amount: Some(d("2000")), regions: vec!["CN".into()], ..starter_methods().remove(2) };
        let mut facts = MethodFacts {
            channel: "web",
            customer_group: "retail",
            regions: vec!["CN", "Zhejiang"],
            amount: d("1999.99"),
            ..MethodFacts::default()
        };
        assert_eq!(cod.unavailable_because(&facts), None);
        facts.amount = d("2000.01");
        assert_eq!(cod.unavailable_because(&facts).as_deref(), Some("only up to 2000"));
        facts.amount = d("10");
        facts.regions = vec!["HK"];
        assert_eq!(cod.unavailable_because(&facts).as_deref(), Some("only for CN"));
    }

    #[test]
    fn terms_customers_default_to_their_account() {
        let methods = starter_methods();
        let mut facts =
            MethodFacts { channel: "web", customer_group: "wholesale", amount: d("100"), ..Default::default() };
        assert_eq!(default_method(&methods, &facts).map(|m| m.code.as_str()), Some("sandbox"));
        facts.has_terms = true;
        assert_eq!(default_method(&methods, &facts).map(|m| m.code.as_str()), Some("credit"));
    }

    #[test]
    fn aging_counts_days_past_due() {
        let due = Date::parse("2026-01-31").unwrap();
        assert_eq!(AgingBucket::of(due, due), AgingBucket::Current);
        assert_eq!(AgingBucket::of(due, due.plus_days(1)), AgingBucket::Days1To30);
        assert_eq!(AgingBucket::of(due, due.plus_days(31)), AgingBucket::Days31To60);
        assert_eq!(AgingBucket::of(due, due.plus_days(90)), AgingBucket::Days61To90);
        assert_eq!(AgingBucket::of(due, due.plus_days(91)), AgingBucket::Over90);
    }

    #[test]
    fn tax_share_of_a_partial_credit() {
        assert_eq!(split_tax(d("56.50"), d("113.00"), d("13.00"), Currency::CNY), (d("50.00"), d("6.50")));
    }

    fn invoice(id: i64, number: &str, customer: &str, open: &str) -> OpenInvoice {
        OpenInvoice {
            id,
            number: number.into(),
            order_number: format!("SO-2026-00000{id}"),
            customer_code: customer.into(),
            customer_name: format!("{customer} Trading"),
            open: d(open),
        }
    }

    #[test]
    fn receipts_match_only_when_unambiguous() {
        let open = vec![
            invoice(1, "INV-2026-000001", "ACME", "113.00"),
            invoice(2, "INV-2026-000002", "ACME", "113.00"),
            invoice(3, "INV-2026-000003", "BETA", "50.00"),
        ];
        let by_ref = Receipt { amount: d("113.00"), reference: "payment inv-2026-000002", counterparty: "" };
        assert_eq!(match_receipt(&by_ref, &open), MatchOutcome::Matched { invoice_id: 2, by: "reference" });
        let by_payer = Receipt { amount: d("50.00"), reference: "thanks", counterparty: "BETA Trading Ltd" };
        assert_eq!(match_receipt(&by_payer, &open), MatchOutcome::Matched { invoice_id: 3, by: "customer and amount" });
        let twins = Receipt { amount: d("113.00"), reference: "", counterparty: "acme trading" };
        assert!(
            matches!(match_receipt(&twins, &open), MatchOutcome::Unmatched { candidates, .. } if candidates == [1, 2])
        );
        let too_much = Receipt { amount: d("60.00"), reference: "INV-2026-000003", counterparty: "" };
        assert!(matches!(match_receipt(&too_much, &open), MatchOutcome::Unmatched { .. }));
    }
}
