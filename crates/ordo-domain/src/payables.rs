//! Payables as pure rules: the three-way match of a supplier's bill against its purchase
//! order and what was received, and how a cost (freight, packaging, a payment fee) is shared
//! among the order lines it served.

use crate::Currency;
use crate::pricing::spread;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How far (percent) a billed unit cost may stray from the purchase order's before the bill
/// is held, unless the supplier has its own: 2 %, the usual allowance for rounding and small
/// surcharges on a supplier's invoice.
pub const DEFAULT_PRICE_TOLERANCE_PERCENT: Decimal = Decimal::TWO;

/// What a purchase order line stands at when a bill for it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedLine {
    pub ordered: i64,
    pub received: i64,
    /// Already on earlier bills.
    pub billed: i64,
    pub unit_cost: Decimal,
}

impl OrderedLine {
    /// Received and not yet billed: what a bill may still charge for.
    pub fn billable(&self) -> i64 {
        (self.received - self.billed).max(0)
    }
}

crate::text_enum!(
    /// Why a bill line does not match: `not_received` charges for goods that have not
    /// arrived (or were billed before), `price` charges a unit cost the order did not agree.
    MismatchKind { NotReceived = "not_received", Price = "price" }
);

/// One reason a bill is held for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mismatch {
    pub kind: MismatchKind,
    pub message: String,
}

/// Matches one bill line against its purchase order line and the goods received: the
/// quantity must have arrived and not been billed before, and the unit cost must be within
/// `tolerance` (a fraction) of the order's. An empty answer means the line matches.
pub fn match_line(line: &OrderedLine, quantity: i64, unit_cost: Decimal, tolerance: Decimal) -> Vec<Mismatch> {
    let mut problems = Vec::new();
    if quantity > line.billable() {
        problems.push(Mismatch {
            kind: MismatchKind::NotReceived,
            message: format!(
                "bills {quantity}, but only {} received and not yet billed ({} ordered, {} received, {} billed before)",
                line.billable(),
                line.ordered,
                line.received,
                line.billed
            ),
        });
    }
    if !line.unit_cost.is_zero() {
        let deviation = (unit_cost - line.unit_cost) / line.unit_cost;
        if deviation.abs() > tolerance {
            let percent = (deviation * Decimal::ONE_HUNDRED).round_dp(1);
            let direction = if deviation > Decimal::ZERO { "above" } else { "below" };
            problems.push(Mismatch {
                kind: MismatchKind::Price,
                message: format!(
                    "unit cost {unit_cost} is {}% {direction} the order's {} (allowed: {}%)",
                    percent.abs(),
                    line.unit_cost,
                    (tolerance * Decimal::ONE_HUNDRED).normalize()
                ),
            });
        }
    } else if !unit_cost.is_zero() {
        problems.push(Mismatch {
            kind: MismatchKind::Price,
            message: format!("unit cost {unit_cost} on a line the order has free of charge"),
        });
    }
    problems
}

crate::text_enum!(
    /// Where a supplier bill stands: `on_hold` failed the three-way match and waits for
    /// approval; only `open` and `partially_paid` bills can be paid.
    BillStatus { OnHold = "on_hold", Open = "open", PartiallyPaid = "partially_paid", Paid = "paid", Voided = "voided" }
);

impl BillStatus {
    /// The status a payable bill takes once `paid` of `total` has gone out.
    pub fn after_payment(paid: Decimal, total: Decimal) -> BillStatus {
        if paid >= total {
            BillStatus::Paid
        } else if paid > Decimal::ZERO {
            BillStatus::PartiallyPaid
        } else {
            BillStatus::Open
        }
    }
}

crate::text_enum!(
    /// A cost the business pays to serve orders.
    CostKind { Freight = "freight", Packaging = "packaging", PaymentFee = "payment_fee", Other = "other" }
);

crate::text_enum!(
    /// What a cost is shared by: the lines' net value, their quantity or their weight.
    AllocationBasis { Value = "value", Quantity = "quantity", Weight = "weight" }
);

/// An order line a cost may be shared over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedLine {
    pub net_value: Decimal,
    pub quantity: i64,
    pub weight_g: i64,
}

/// Shares `total` over the lines by the basis, exactly to the minor unit (the shares add up
/// to the total). When nothing carries the basis (no weights known, say), the share goes by
/// quantity instead, so a cost is never left unallocated.
pub fn allocate(currency: Currency, total: Decimal, lines: &[ServedLine], basis: AllocationBasis) -> Vec<Decimal> {
    let by_quantity = || lines.iter().map(|l| Decimal::from(l.quantity)).collect::<Vec<_>>();
    let weights: Vec<Decimal> = match basis {
        AllocationBasis::Value => lines.iter().map(|l| l.net_value).collect(),
        AllocationBasis::Quantity => by_quantity(),
        AllocationBasis::Weight => lines.iter().map(|l| Decimal::from(l.weight_g * l.quantity)).collect(),
    };
    if weights.iter().all(|w| *w <= Decimal::ZERO) {
        return spread(currency, total, &by_quantity());
    }
    spread(currency, total, &weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    const PRICE_TOLERANCE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

    fn line(ordered: i64, received: i64, billed: i64, cost: &str) -> OrderedLine {
        OrderedLine { ordered, received, billed, unit_cost: d(cost) }
    }

    #[test]
    fn a_bill_for_received_goods_at_the_agreed_cost_matches() {
        assert!(match_line(&line(10, 10, 0, "8.00"), 10, d("8.00"), PRICE_TOLERANCE).is_empty());
        assert!(match_line(&line(10, 10, 4, "8.00"), 6, d("8.16"), PRICE_TOLERANCE).is_empty(), "2 % is allowed");
    }

    #[test]
    fn billing_more_than_arrived_is_held() {
        let problems = match_line(&line(10, 6, 0, "8.00"), 10, d("8.00"), PRICE_TOLERANCE);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, MismatchKind::NotReceived);
        assert!(problems[0].message.starts_with("bills 10, but only 6 received"), "{}", problems[0].message);
        let twice = match_line(&line(10, 10, 10, "8.00"), 1, d("8.00"), PRICE_TOLERANCE);
        assert_eq!(twice[0].kind, MismatchKind::NotReceived, "already billed in full");
    }

    #[test]
    fn a_price_outside_the_tolerance_is_held_both_ways() {
        let above = match_line(&line(10, 10, 0, "8.00"), 10, d("8.40"), PRICE_TOLERANCE);
        assert_eq!(above[0].kind, MismatchKind::Price);
        assert_eq!(above[0].message, "unit cost 8.40 is 5.0% above the order's 8.00 (allowed: 2%)");
        let below = match_line(&line(10, 10, 0, "8.00"), 10, d("7.00"), PRICE_TOLERANCE);
        assert!(below[0].message.contains("12.5% below"), "{}", below[0].message);
        let free = match_line(&line(1, 1, 0, "0"), 1, d("1.00"), PRICE_TOLERANCE);
        assert_eq!(free[0].kind, MismatchKind::Price);
    }

    fn served(value: &str, quantity: i64, weight_g: i64) -> ServedLine {
        ServedLine { net_value: d(value), quantity, weight_g }
    }

    #[test]
    fn a_cost_is_shared_to_the_cent_by_each_basis() {
        let lines = [served("100.00", 1, 1000), served("200.00", 4, 250), served("0", 5, 0)];
        let by_value = allocate(Currency::CNY, d("10.00"), &lines, AllocationBasis::Value);
        assert_eq!(by_value, vec![d("3.33"), d("6.67"), d("0.00")]);
        let by_quantity = allocate(Currency::CNY, d("10.00"), &lines, AllocationBasis::Quantity);
        assert_eq!(by_quantity, vec![d("1.00"), d("4.00"), d("5.00")]);
        let by_weight = allocate(Currency::CNY, d("10.00"), &lines, AllocationBasis::Weight);
        assert_eq!(by_weight, vec![d("5.00"), d("5.00"), d("0.00")]);
        for shares in [by_value, by_quantity, by_weight] {
            assert_eq!(shares.iter().sum::<Decimal>(), d("10.00"));
        }
    }

    #[test]
    fn without_weights_a_cost_goes_by_quantity() {
        let lines = [served("5.00", 1, 0), served("5.00", 3, 0)];
        assert_eq!(allocate(Currency::CNY, d("8.00"), &lines, AllocationBasis::Weight), vec![d("2.00"), d("6.00")]);
    }
}
