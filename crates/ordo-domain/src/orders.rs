//! Orders: channels, the three statuses, the order state machine and pricing.

use crate::money::{Currency, Quantity};
use rust_decimal::Decimal;

crate::text_enum!(
    /// What kind of channel an order came through. Each kind is also a channel of its own
    /// (code = kind) that always exists; a business registers more, e.g. `tmall` of kind
    /// marketplace, each with its own partner keys and external references.
    ChannelKind {
        Web = "web",
        Phone = "phone",
        Email = "email",
        Store = "store",
        Marketplace = "marketplace",
        Distributor = "distributor",
        Api = "api",
        Import = "import",
    }
);

/// A channel code: 2–16 lower-case letters, digits, `-` or `_`, starting with a letter
/// (it is stored on every order and used in URLs and reports).
pub fn check_channel_code(field: &str, code: Option<&str>) -> Result<String, crate::FieldError> {
    let code = code.map(str::trim).unwrap_or("");
    if code.is_empty() {
        return Err(crate::FieldError::new(field, "is required"));
    }
    let well_formed = (2..=16).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if well_formed {
        Ok(code.to_string())
    } else {
        Err(crate::FieldError::new(
            field,
            "must be 2–16 lower-case letters, digits, - or _, starting with a letter (e.g. tmall, jd-shop)",
        ))
    }
}

crate::text_enum!(
    /// Where the order stands as a whole.
    OrderStatus {
        Draft = "draft",
        PendingApproval = "pending_approval",
        OnHold = "on_hold",
        Confirmed = "confirmed",
        PartiallyShipped = "partially_shipped",
        Shipped = "shipped",
        Delivered = "delivered",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

crate::text_enum!(
    /// Derived from the order's payments (see `payments::OrderMoney::status`).
    PaymentStatus {
        Unpaid = "unpaid",
        Authorized = "authorized",
        PartiallyPaid = "partially_paid",
        Paid = "paid",
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
    }
);

crate::text_enum!(
    /// How much of the order has left the warehouse.
    FulfillmentStatus { Unfulfilled = "unfulfilled", PartiallyFulfilled = "partially_fulfilled", Fulfilled = "fulfilled" }
);

crate::text_enum!(
    /// What a person or a system can do to an order.
    OrderAction {
        Submit = "submit",
        Approve = "approve",
        Reject = "reject",
        Hold = "hold",
        Release = "release",
        Edit = "edit",
        Split = "split",
        Merge = "merge",
        Cancel = "cancel",
        Ship = "ship",
        Deliver = "deliver",
        Complete = "complete",
    }
);

/// The order state machine: the one table every write path consults (and the README's
/// diagram shows). Where an action has several targets, the order's rules and checks pick
/// one: submitting goes on hold if a check fails, waits for approval if a rule asks for
/// it, and is confirmed otherwise.
const TRANSITIONS: &[(OrderStatus, OrderAction, OrderStatus)] = {
    use OrderAction::*;
    use OrderStatus::*;
    &[
        (Draft, Submit, OnHold),
        (Draft, Submit, PendingApproval),
        (Draft, Submit, Confirmed),
        (Draft, Edit, Draft),
        (Draft, Cancel, Cancelled),
        (PendingApproval, Approve, PendingApproval),
        (PendingApproval, Approve, Confirmed),
        (PendingApproval, Reject, Draft),
        (PendingApproval, Reject, Cancelled),
        (PendingApproval, Hold, OnHold),
        (PendingApproval, Edit, OnHold),
        (PendingApproval, Edit, PendingApproval),
        (PendingApproval, Edit, Confirmed),
        (PendingApproval, Cancel, Cancelled),
        (OnHold, Release, PendingApproval),
        (OnHold, Release, Confirmed),
        (OnHold, Hold, OnHold),
        (OnHold, Edit, OnHold),
        (OnHold, Edit, PendingApproval),
        (OnHold, Edit, Confirmed),
        (OnHold, Cancel, Cancelled),
        (Confirmed, Hold, OnHold),
        (Confirmed, Edit, OnHold),
        (Confirmed, Edit, PendingApproval),
        (Confirmed, Edit, Confirmed),
        (Confirmed, Split, Confirmed),
        (Confirmed, Merge, OnHold),
        (Confirmed, Merge, PendingApproval),
        (Confirmed, Merge, Confirmed),
        (Confirmed, Cancel, Cancelled),
        (Confirmed, Ship, PartiallyShipped),
        (Confirmed, Ship, Shipped),
        (PartiallyShipped, Ship, PartiallyShipped),
        (PartiallyShipped, Ship, Shipped),
        (Shipped, Deliver, Delivered),
        (Delivered, Complete, Completed),
    ]
};

/// Every (from, action, to) edge, for documentation and the console's diagram.
pub fn transitions() -> &'static [(OrderStatus, OrderAction, OrderStatus)] {
    TRANSITIONS
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an order that is {from}; allowed actions: {}", allowed_list(.allowed))]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub action: OrderAction,
    pub allowed: Vec<OrderAction>,
}

fn allowed_list(allowed: &[OrderAction]) -> String {
    if allowed.is_empty() { "none".into() } else { allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ") }
}

impl OrderStatus {
    pub fn allowed_actions(self) -> Vec<OrderAction> {
        let mut actions: Vec<OrderAction> = Vec::new();
        for (from, action, _) in TRANSITIONS {
            if *from == self && !actions.contains(action) {
                actions.push(*action);
            }
        }
        actions
    }

    /// Checks that `action` is allowed now; the target is chosen with [`OrderStatus::to`].
    pub fn check(self, action: OrderAction) -> Result<(), IllegalTransition> {
        if TRANSITIONS.iter().any(|(from, a, _)| *from == self && *a == action) {
            Ok(())
        } else {
            Err(IllegalTransition { from: self, action, allowed: self.allowed_actions() })
        }
    }

    /// The one target of an action with a single outcome (cancel, hold, split).
    pub fn apply(self, action: OrderAction) -> Result<OrderStatus, IllegalTransition> {
        self.check(action)?;
        let targets: Vec<OrderStatus> =
            TRANSITIONS.iter().filter(|(f, a, _)| *f == self && *a == action).map(|(_, _, to)| *to).collect();
        Ok(targets[0])
    }

    /// Moves by `action` to `target`, which must be one of the table's edges.
    pub fn to(self, action: OrderAction, target: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        self.check(action)?;
        if TRANSITIONS.contains(&(self, action, target)) {
            Ok(target)
        } else {
            Err(IllegalTransition { from: self, action, allowed: self.allowed_actions() })
        }
    }

    /// Whether the order still holds a stock reservation.
    pub fn holds_reservation(self) -> bool {
        !matches!(self, OrderStatus::Cancelled)
    }

    /// Where a submitted (or edited, released, merged) order goes: held if anything holds
    /// it, waiting if anyone must approve it, confirmed otherwise.
    pub fn after_review(held: bool, needs_approval: bool) -> OrderStatus {
        if held {
            OrderStatus::OnHold
        } else if needs_approval {
            OrderStatus::PendingApproval
        } else {
            OrderStatus::Confirmed
        }
    }
}

/// A Mermaid state diagram of [`TRANSITIONS`], as shown in the README.
pub fn state_diagram() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> draft: create\n");
    let mut edges: Vec<(OrderStatus, OrderStatus, Vec<&str>)> = Vec::new();
    for (from, action, to) in TRANSITIONS {
        match edges.iter_mut().find(|(f, t, _)| f == from && t == to) {
            Some((_, _, actions)) => {
                if !actions.contains(&action.as_str()) {
                    actions.push(action.as_str())
                }
            }
            None => edges.push((*from, *to, vec![action.as_str()])),
        }
    }
    for (from, to, actions) in edges {
        out.push_str(&format!("    {from} --> {to}: {}\n", actions.join(", ")));
    }
    out.push_str("    cancelled --> [*]\n    completed --> [*]\n");
    out
}

/// `SO-2026-000001`: prefix, UTC year, and a gap-free sequence within that year.
pub fn order_number(year: i32, sequence: i64) -> String {
    format!("SO-{year}-{sequence:06}")
}

/// One line as priced: what the customer pays before tax, and the tax on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinePricing {
    pub quantity: Quantity,
    pub unit_price: Decimal,
    /// Percentage off the line, 0–100.
    pub discount_percent: Decimal,
    /// Fraction, e.g. 0.13 for 13 % VAT.
    pub tax_rate: Decimal,
    /// Taken off by promotions and tiers (see `pricing`), already rounded; 0 for none.
    pub off: Decimal,
    /// The unit price includes tax (含税价, from a tax-inclusive price list): the line's
    /// amount is what the customer pays, and the tax is taken out of it.
    pub tax_included: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    pub line_total: Decimal,
    pub tax: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub total: Decimal,
}

/// Quantity × unit price less the manual discount, rounded: what promotions start from.
pub fn line_amount(currency: Currency, line: &LinePricing) -> Decimal {
    let gross = Decimal::from(line.quantity) * line.unit_price;
    currency.round(gross * (Decimal::ONE_HUNDRED - line.discount_percent) / Decimal::ONE_HUNDRED)
}

/// Prices lines: each line total (net of tax) and each line's tax is rounded once to the
/// currency's minor unit, and the order totals are plain sums of those rounded values, so
/// an invoice's lines always add up to its total. A tax-inclusive line keeps its amount
/// whole (the customer pays exactly the shelf price) and the tax is split out of it.
pub fn price_lines(currency: Currency, lines: &[LinePricing]) -> (Vec<PricedLine>, Totals) {
    let priced: Vec<PricedLine> = lines
        .iter()
        .map(|line| {
            let amount = currency.round((line_amount(currency, line) - line.off).max(Decimal::ZERO));
            if line.tax_included {
                let tax = currency.round(amount * line.tax_rate / (Decimal::ONE + line.tax_rate));
                PricedLine { line_total: amount - tax, tax }
            } else {
                PricedLine { line_total: amount, tax: currency.round(amount * line.tax_rate) }
            }
        })
        .collect();
    let zero = currency.round(Decimal::ZERO);
    let subtotal = priced.iter().fold(zero, |sum, line| sum + line.line_total);
    let tax_total = priced.iter().fold(zero, |sum, line| sum + line.tax);
    (priced, Totals { subtotal, tax_total, total: subtotal + tax_total })
}

#[cfg(test)]
mod tests {

    #[test]
    fn channel_codes_are_short_lower_case_words() {
        assert_eq!(check_channel_code("code", Some(" tmall ")).unwrap(), "tmall");
        assert!(check_channel_code("code", Some("jd-shop_2")).is_ok());
        for bad in ["", "t", "Tmall", "2shop", "天猫", "a-very-long-channel-code", "web shop"] {
            assert!(check_channel_code("code", Some(bad)).is_err(), "{bad} accepted");
        }
    }
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_confirmed_order_can_be_cancelled_once() {
        let cancelled = OrderStatus::Confirmed.apply(OrderAction::Cancel).unwrap();
        assert_eq!(cancelled, OrderStatus::Cancelled);
        let refused = cancelled.apply(OrderAction::Cancel).unwrap_err();
        assert_eq!(refused.from, OrderStatus::Cancelled);
        assert!(refused.allowed.is_empty());
        assert_eq!(refused.to_string(), "cannot cancel an order that is cancelled; allowed actions: none");
    }

    #[test]
    fn review_outcomes_are_edges_of_the_table() {
        for from in [OrderStatus::Draft] {
            for (held, approval) in [(true, false), (false, true), (false, false), (true, true)] {
                let target = OrderStatus::after_review(held, approval);
                assert!(from.to(OrderAction::Submit, target).is_ok(), "{from} submit → {target}");
            }
        }
        assert!(OrderStatus::OnHold.to(OrderAction::Release, OrderStatus::Confirmed).is_ok());
        assert!(OrderStatus::OnHold.to(OrderAction::Release, OrderStatus::Draft).is_err());
        assert!(OrderStatus::PendingApproval.to(OrderAction::Reject, OrderStatus::Draft).is_ok());
        assert!(OrderStatus::Cancelled.check(OrderAction::Edit).is_err());
    }

    #[test]
    fn a_confirmed_order_lists_its_actions_once_each() {
        let actions = OrderStatus::Confirmed.allowed_actions();
        assert_eq!(
            actions,
            [
                OrderAction::Hold,
                OrderAction::Edit,
                OrderAction::Split,
                OrderAction::Merge,
                OrderAction::Cancel,
                OrderAction::Ship
            ]
        );
    }

    #[test]
    fn the_readme_shows_the_table_as_it_is() {
        let readme = include_str!("../../../README.md");
        let diagram = state_diagram();
        assert!(readme.contains(&diagram), "update the README's diagram to:\n{diagram}");
    }

    #[test]
    fn the_diagram_names_every_status() {
        let diagram = state_diagram();
        for status in OrderStatus::ALL {
            assert!(diagram.contains(status.as_str()), "{status} missing");
        }
        assert!(diagram.contains("pending_approval --> confirmed: approve"));
    }

    #[test]
    fn order_numbers_are_zero_padded_per_year() {
        assert_eq!(order_number(2026, 1), "SO-2026-000001");
        assert_eq!(order_number(2026, 1_234_567), "SO-2026-1234567");
    }

    #[test]
    fn a_discounted_taxed_line_rounds_half_up_once() {
        let line = LinePricing {
            quantity: 3,
            unit_price: d("3.335"),
            discount_percent: d("10"),
            tax_rate: d("0.13"),
            off: Decimal::ZERO,
            tax_included: false,
        };
        let (priced, totals) = price_lines(Currency::CNY, &[line]);
        // 3 × 3.335 = 10.005, less 10 % = 9.0045 → 9.00; tax 1.17
        assert_eq!(priced[0].line_total.to_string(), "9.00");
        assert_eq!(priced[0].tax.to_string(), "1.17");
        assert_eq!(totals.total.to_string(), "10.17");
    }

    #[test]
    fn a_tax_inclusive_line_costs_exactly_its_shelf_price() {
        let line = LinePricing {
            quantity: 3,
            unit_price: d("11.30"),
            discount_percent: Decimal::ZERO,
            tax_rate: d("0.13"),
            off: Decimal::ZERO,
            tax_included: true,
        };
        let (priced, totals) = price_lines(Currency::CNY, &[line]);
        // 33.90 with 13 % in it: 3.90 tax, 30.00 net.
        assert_eq!((priced[0].line_total.to_string(), priced[0].tax.to_string()), ("30.00".into(), "3.90".into()));
        assert_eq!(totals.total.to_string(), "33.90");
        let odd = LinePricing { unit_price: d("9.99"), quantity: 7, ..line };
        let (priced, totals) = price_lines(Currency::CNY, &[odd]);
        assert_eq!(totals.total, d("69.93"), "7 × 9.99 whatever the rounding of the tax");
        assert_eq!(priced[0].tax, d("8.05"));
    }

    #[test]
    fn an_order_without_lines_totals_zero_in_minor_units() {
        let (_, totals) = price_lines(Currency::CNY, &[]);
        assert_eq!(totals.total.to_string(), "0.00");
    }

    fn arb_line() -> impl Strategy<Value = LinePricing> {
        (1i64..100_000, 0i64..100_000_000, 0u32..=100, 0u32..=30, prop::option::weighted(0.2, 0i64..10_000_000))
            .prop_map(|(quantity, price_e4, discount, tax, off)| LinePricing {
                quantity,
                unit_price: Decimal::new(price_e4, 4),
                discount_percent: Decimal::from(discount),
                tax_rate: Decimal::new(i64::from(tax), 2),
                off: Decimal::new(off.unwrap_or(0), 2),
                tax_included: false,
            })
    }

    proptest! {
        #[test]
        fn line_totals_always_sum_to_the_subtotal(lines in prop::collection::vec(arb_line(), 0..40)) {
            let (priced, totals) = price_lines(Currency::CNY, &lines);
            let sum: Decimal = priced.iter().map(|l| l.line_total).sum();
            let tax: Decimal = priced.iter().map(|l| l.tax).sum();
            prop_assert_eq!(sum, totals.subtotal);
            prop_assert_eq!(tax, totals.tax_total);
            prop_assert_eq!(totals.subtotal + totals.tax_total, totals.total);
        }

        #[test]
        fn every_amount_is_in_whole_minor_units_and_never_negative(lines in prop::collection::vec(arb_line(), 1..20)) {
            let (priced, totals) = price_lines(Currency::CNY, &lines);
            for amount in priced.iter().flat_map(|l| [l.line_total, l.tax]).chain([totals.total]) {
                prop_assert!(amount.scale() == 2);
                prop_assert!(!amount.is_sign_negative() || amount.is_zero());
            }
        }

        #[test]
        fn a_tax_inclusive_line_totals_its_rounded_amount_exactly(line in arb_line()) {
            let line = LinePricing { tax_included: true, ..line };
            let (priced, totals) = price_lines(Currency::CNY, &[line]);
            let amount = Currency::CNY.round((line_amount(Currency::CNY, &line) - line.off).max(Decimal::ZERO));
            prop_assert_eq!(totals.total, amount);
            prop_assert!(priced[0].tax >= Decimal::ZERO && priced[0].line_total >= Decimal::ZERO);
            prop_assert!((priced[0].line_total * line.tax_rate - priced[0].tax).abs() <= d("0.01") * (Decimal::ONE + line.tax_rate));
        }

        #[test]
        fn a_line_is_within_half_a_minor_unit_of_the_exact_value(line in arb_line()) {
            let line = LinePricing { off: Decimal::ZERO, ..line };
            let (priced, _) = price_lines(Currency::CNY, &[line]);
            let exact = Decimal::from(line.quantity) * line.unit_price * (Decimal::ONE_HUNDRED - line.discount_percent) / Decimal::ONE_HUNDRED;
            prop_assert!((priced[0].line_total - exact).abs() <= d("0.005"));
        }
    }
}
