//! Exception checks (异常订单): what puts an order on hold for a person to look at.

use crate::money::Currency;
use crate::rules::Facts;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// Why an order is on hold (`awaiting_return`: an exchange's replacement waits for the
    /// returned goods).
    HoldCode {
        PriceDeviation = "price_deviation",
        CreditLimit = "credit_limit",
        Duplicate = "duplicate",
        Address = "address",
        PaymentFailed = "payment_failed",
        Stock = "stock",
        Rule = "rule",
        Manual = "manual",
        AwaitingReturn = "awaiting_return",
    }
);

impl HoldCode {
    /// Checks re-run on every edit; their holds clear themselves once the cause is fixed.
    /// Holds put by a person stay until a person releases them.
    pub fn is_automatic(self) -> bool {
        !matches!(self, HoldCode::Manual | HoldCode::AwaitingReturn)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HoldReason {
    pub code: HoldCode,
    pub message: String,
}

impl HoldReason {
    pub fn new(code: HoldCode, message: impl Into<String>) -> HoldReason {
        HoldReason { code, message: message.into() }
    }
}

/// The business's settings for the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckPolicy {
    /// A price further than this from the price list, in percent, holds the order.
    pub price_tolerance_percent: Decimal,
    /// Whether to hold orders that would take a customer past their credit limit.
    pub credit_check: bool,
}

impl Default for CheckPolicy {
    fn default() -> Self {
        CheckPolicy { price_tolerance_percent: Decimal::from(10), credit_check: true }
    }
}

/// Runs every check on an order as priced. `duplicate_of` is the number of an earlier
/// order with the same customer and lines inside the duplicate window, if any.
pub fn check_order(
    facts: &Facts,
    currency: Currency,
    policy: &CheckPolicy,
    duplicate_of: Option<&str>,
) -> Vec<HoldReason> {
    let mut reasons = Vec::new();
    for line in &facts.lines {
        let Some(list) = line.list_price.filter(|p| !p.is_zero()) else { continue };
        let deviation = ((line.unit_price - list) / list * Decimal::ONE_HUNDRED).abs();
        if deviation > policy.price_tolerance_percent {
            reasons.push(HoldReason::new(
                HoldCode::PriceDeviation,
                format!(
                    "{}: price {} differs from the price list's {} by {}% (tolerance {}%)",
                    line.sku,
                    currency.show(line.unit_price),
                    currency.show(list),
                    deviation.round_dp(1).normalize(),
                    policy.price_tolerance_percent.normalize()
                ),
            ));
        }
    }
    if policy.credit_check
        && let Some(limit) = facts.credit_limit
        && facts.exposure + facts.total > limit
    {
        reasons.push(HoldReason::new(
            HoldCode::CreditLimit,
            format!(
                "exposure {} + this order {} exceeds the credit limit {} {currency}",
                currency.show(facts.exposure),
                currency.show(facts.total),
                currency.show(limit)
            ),
        ));
    }
    if let Some(number) = duplicate_of {
        reasons.push(HoldReason::new(HoldCode::Duplicate, format!("same customer and lines as {number}")));
    }
    match &facts.destination {
        None => reasons.push(HoldReason::new(HoldCode::Address, "no shipping address")),
        Some(a) => {
            let mut missing = Vec::new();
            if a.line1.trim().chars().count() < 3 {
                missing.push("street");
            }
            if a.city.trim().is_empty() {
                missing.push("city");
            }
            if !missing.is_empty() {
                reasons.push(HoldReason::new(
                    HoldCode::Address,
                    format!("shipping address incomplete: {}", missing.join(", ")),
                ));
            }
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Address;

    fn address(country: &str, region: Option<&str>) -> Address {
        Address {
            name: None,
            phone: None,
            line1: "1 Nanjing Road".into(),
            line2: None,
            city: "Shanghai".into(),
            district: None,
            region: region.map(str::to_string),
            postal_code: None,
            country: country.into(),
        }
    }

    fn clean() -> Facts {
        Facts { destination: Some(address("CN", Some("SH"))), credit_limit: None, ..Facts::sample() }
    }

    #[test]
    fn a_clean_order_passes() {
        assert!(check_order(&clean(), Currency::CNY, &CheckPolicy::default(), None).is_empty());
    }

    #[test]
    fn a_price_beyond_tolerance_is_held_within_it_is_not() {
        let mut f = clean();
        f.lines[0].unit_price = Decimal::new(95000, 2); // 5 % off
        assert!(check_order(&f, Currency::CNY, &CheckPolicy::default(), None).is_empty());
        f.lines[0].unit_price = Decimal::new(80000, 2); // 20 % off
        let reasons = check_order(&f, Currency::CNY, &CheckPolicy::default(), None);
        assert_eq!(reasons[0].code, HoldCode::PriceDeviation);
        assert!(reasons[0].message.contains("by 20%"), "{}", reasons[0].message);
    }

    #[test]
    fn exposure_plus_the_order_over_the_limit_is_held() {
        let mut f = clean();
        f.credit_limit = Some(Decimal::from(20_000));
        f.exposure = Decimal::from(5_000); // + 11,300 = 16,300: fine
        assert!(check_order(&f, Currency::CNY, &CheckPolicy::default(), None).is_empty());
        f.exposure = Decimal::from(10_000); // 21,300 > 20,000
        let reasons = check_order(&f, Currency::CNY, &CheckPolicy::default(), None);
        assert_eq!(reasons.iter().map(|r| r.code).collect::<Vec<_>>(), [HoldCode::CreditLimit]);
    }

    #[test]
    fn duplicates_and_addresses_are_named() {
        let mut f = clean();
        f.destination = Some(Address { line1: "1".into(), ..address("CN", None) });
        let reasons = check_order(&f, Currency::CNY, &CheckPolicy::default(), Some("SO-2026-000001"));
        assert_eq!(reasons[0].message, "same customer and lines as SO-2026-000001");
        assert_eq!(reasons[1].message, "shipping address incomplete: street");
        f.destination = None;
        assert_eq!(check_order(&f, Currency::CNY, &CheckPolicy::default(), None)[0].code, HoldCode::Address);
    }
}
