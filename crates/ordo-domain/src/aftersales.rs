//! After-sales rules: which returns a policy accepts, what a return pays back, and when a
//! service ticket is due. Pure: the caller brings the facts (days since delivery, the
//! product's category, the customer's group) and gets a verdict it can show.

use crate::money::Currency;
use crate::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// Why the customer sends something back.
    ReturnReason {
        ChangedMind = "changed_mind",
        Defective = "defective",
        WrongItem = "wrong_item",
        DamagedInTransit = "damaged_in_transit",
        NotAsDescribed = "not_as_described",
        Other = "other",
    }
);

impl ReturnReason {
    /// The business's mistake: no restocking fee, and the business pays the way back.
    pub fn is_business_fault(self) -> bool {
        matches!(
            self,
            ReturnReason::Defective
                | ReturnReason::WrongItem
                | ReturnReason::DamagedInTransit
                | ReturnReason::NotAsDescribed
        )
    }
}

crate::text_enum!(
    /// Where a received unit goes after inspection: back on the shelf (restock), kept apart
    /// as damaged stock (counted, never sold), thrown away (scrap) or sent back to the
    /// supplier; the last two never re-enter stock.
    Disposition {
        Restock = "restock",
        Damaged = "damaged",
        Scrap = "scrap",
        ReturnToSupplier = "return_to_supplier",
    }
);

crate::text_enum!(
    /// A return's life: decided (by the policy or a person), received and inspected, refunded.
    ReturnStatus {
        PendingReview = "pending_review",
        Approved = "approved",
        Rejected = "rejected",
        Received = "received",
        Refunded = "refunded",
        Cancelled = "cancelled",
    }
);

impl ReturnStatus {
    pub fn is_open(self) -> bool {
        matches!(self, ReturnStatus::PendingReview | ReturnStatus::Approved | ReturnStatus::Received)
    }
}

crate::text_enum!(
    /// Who pays to ship a return back.
    ShippingPayer { Customer = "customer", Business = "business" }
);

/// The rules for returning one kind of product (a category) bought by one kind of
/// customer (a group). Absent category or group means "any".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReturnPolicy {
    pub name: String,
    pub category: Option<String>,
    pub customer_group: Option<String>,
    /// Days from delivery in which a return is accepted.
    pub window_days: i64,
    /// Reasons accepted; empty accepts every reason.
    pub reasons: Vec<ReturnReason>,
    /// Opened items are refused, unless the business was at fault.
    pub must_be_unopened: bool,
    /// False for goods that are never taken back (food, custom-made…).
    pub returnable: bool,
    /// Percent of the returned value kept when the customer changed their mind.
    #[schema(value_type = String, example = "10")]
    pub restocking_fee_percent: Decimal,
    /// Who pays the way back when the customer changed their mind (the business always
    /// pays when it was at fault).
    pub return_shipping: ShippingPayer,
    /// Approve at once when every rule is met; otherwise a person decides.
    pub auto_approve: bool,
    /// An exchange's replacement may ship before the return arrives.
    pub advance_replacement: bool,
}

impl Default for ReturnPolicy {
    fn default() -> ReturnPolicy {
        ReturnPolicy {
            name: "default".into(),
            category: None,
            customer_group: None,
            window_days: 30,
            reasons: Vec::new(),
            must_be_unopened: false,
            returnable: true,
            restocking_fee_percent: Decimal::ZERO,
            return_shipping: ShippingPayer::Customer,
            auto_approve: true,
            advance_replacement: false,
        }
    }
}

impl ReturnPolicy {
    /// How closely the policy fits: category and group beat category, which beats group,
    /// which beats the catch-all. `None` when it does not apply.
    fn fit(&self, category: Option<&str>, group: &str) -> Option<u8> {
        let category_fits = match &self.category {
            None => Some(0),
            Some(c) if Some(c.as_str()) == category => Some(2),
            Some(_) => None,
        }?;
        let group_fits = match &self.customer_group {
            None => Some(0),
            Some(g) if g == group => Some(1),
            Some(_) => None,
        }?;
        Some(category_fits + group_fits)
    }

    /// Who pays return shipping for this reason.
    pub fn shipping_payer(&self, reason: ReturnReason) -> ShippingPayer {
        if reason.is_business_fault() { ShippingPayer::Business } else { self.return_shipping }
    }
}

/// The most specific policy for a product category and customer group; the first listed
/// wins a tie. With none that fits, the built-in default (30 days, everything accepted).
pub fn policy_for(policies: &[ReturnPolicy], category: Option<&str>, group: &str) -> ReturnPolicy {
    let mut best: Option<(u8, &ReturnPolicy)> = None;
    for policy in policies {
        if let Some(score) = policy.fit(category, group)
            && best.is_none_or(|(b, _)| score > b)
        {
            best = Some((score, policy));
        }
    }
    best.map(|(_, p)| p.clone()).unwrap_or_default()
}

/// What is known about one line someone wants to return.
#[derive(Debug, Clone)]
pub struct LineFacts<'a> {
    pub sku: &'a str,
    /// A product tagged `non_returnable` is refused whatever its policy says.
    pub tags: &'a [String],
    pub reason: ReturnReason,
    pub opened: bool,
    /// Whole days since the order was delivered; `None` when it was not delivered yet.
    pub days_since_delivery: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    /// A person decides; the text says why the policy could not.
    Review(String),
    Reject(String),
}

/// Judges one line against its policy.
pub fn judge(policy: &ReturnPolicy, line: &LineFacts) -> Verdict {
    let sku = line.sku;
    if !policy.returnable || line.tags.iter().any(|t| t == "non_returnable") {
        return Verdict::Reject(format!("{sku} cannot be returned (policy {})", policy.name));
    }
    if !policy.reasons.is_empty() && !policy.reasons.contains(&line.reason) {
        return Verdict::Reject(format!(
            "{} is not an accepted reason for {sku} (policy {})",
            line.reason, policy.name
        ));
    }
    if policy.must_be_unopened && line.opened && !line.reason.is_business_fault() {
        return Verdict::Reject(format!("{sku} must be returned unopened (policy {})", policy.name));
    }
    match line.days_since_delivery {
        None => return Verdict::Review(format!("{sku}: the order is not delivered yet")),
        Some(days) if days > policy.window_days => {
            return Verdict::Reject(format!(
                "{sku} was delivered {days} days ago; policy {} accepts returns within {} days",
                policy.name, policy.window_days
            ));
        }
        Some(_) => {}
    }
    if !policy.auto_approve {
        return Verdict::Review(format!("{sku}: policy {} asks a person to approve", policy.name));
    }
    Verdict::Approve
}

/// The return's verdict from its lines': one refused line refuses the return (the
/// customer can ask again without it), one doubtful line sends it to a person.
pub fn combine(verdicts: &[Verdict]) -> Verdict {
    let texts = |want: fn(&Verdict) -> Option<&String>| verdicts.iter().filter_map(want).cloned().collect::<Vec<_>>();
    let rejected = texts(|v| if let Verdict::Reject(t) = v { Some(t) } else { None });
    if !rejected.is_empty() {
        return Verdict::Reject(rejected.join("; "));
    }
    let review = texts(|v| if let Verdict::Review(t) = v { Some(t) } else { None });
    if !review.is_empty() {
        return Verdict::Review(review.join("; "));
    }
    Verdict::Approve
}

/// What `returned` of a line's `quantity` units were paid, tax included: the line's
/// share, rounded to the currency. Returning every unit gives back exactly the line.
pub fn returned_value(
    line_total: Decimal,
    line_tax: Decimal,
    quantity: i64,
    returned: i64,
    currency: Currency,
) -> Decimal {
    if quantity <= 0 || returned <= 0 {
        return Decimal::ZERO;
    }
    if returned >= quantity {
        return line_total + line_tax;
    }
    currency.round((line_total + line_tax) * Decimal::from(returned) / Decimal::from(quantity))
}

/// The fee kept from a returned value: none when the business was at fault.
pub fn restocking_fee(value: Decimal, percent: Decimal, reason: ReturnReason, currency: Currency) -> Decimal {
    if reason.is_business_fault() || percent <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    currency.round(value * percent / Decimal::from(100)).min(value)
}

crate::text_enum!(
    TicketStatus {
        Open = "open",
        InProgress = "in_progress",
        WaitingOnCustomer = "waiting_on_customer",
        Resolved = "resolved",
        Closed = "closed",
    }
);

impl TicketStatus {
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }

    /// Closed is final; anything else may move anywhere (a resolved ticket reopens when
    /// the customer writes back).
    pub fn can_become(self, next: TicketStatus) -> bool {
        self != TicketStatus::Closed && self != next
    }
}

crate::text_enum!(TicketPriority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });

crate::text_enum!(
    TicketCategory {
        Complaint = "complaint",
        Question = "question",
        Delivery = "delivery",
        Return = "return",
        Billing = "billing",
        Product = "product",
        Other = "other",
    }
);

/// Hours to resolve a ticket, by priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SlaHours {
    pub urgent: i64,
    pub high: i64,
    pub normal: i64,
    pub low: i64,
}

impl Default for SlaHours {
    fn default() -> SlaHours {
        SlaHours { urgent: 4, high: 8, normal: 24, low: 72 }
    }
}

impl SlaHours {
    pub fn hours(&self, priority: TicketPriority) -> i64 {
        match priority {
            TicketPriority::Urgent => self.urgent,
            TicketPriority::High => self.high,
            TicketPriority::Normal => self.normal,
            TicketPriority::Low => self.low,
        }
    }

    pub fn due_at(&self, opened: Timestamp, priority: TicketPriority) -> Timestamp {
        opened.plus_seconds(self.hours(priority) * 3600)
    }
}

/// An open ticket whose due time has passed.
pub fn is_overdue(status: TicketStatus, due_at: Timestamp, now: Timestamp) -> bool {
    status.is_open() && now.micros() > due_at.micros()
}

/// Ratings are 1–5 stars; at or below the threshold a complaint ticket is opened.
pub fn low_rating(rating: i64, threshold: i64) -> bool {
    rating <= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    fn facts(reason: ReturnReason, days: Option<i64>) -> LineFacts<'static> {
        LineFacts { sku: "TEA-1", tags: &[], reason, opened: false, days_since_delivery: days }
    }

    #[test]
    fn the_most_specific_policy_applies() {
        let policies = vec![
            ReturnPolicy { name: "all".into(), window_days: 30, ..ReturnPolicy::default() },
            ReturnPolicy {
                name: "tea".into(),
                category: Some("tea".into()),
                window_days: 7,
                ..ReturnPolicy::default()
            },
            ReturnPolicy {
                name: "tea-wholesale".into(),
                category: Some("tea".into()),
                customer_group: Some("wholesale".into()),
                window_days: 14,
                ..ReturnPolicy::default()
            },
            ReturnPolicy { name: "vip".into(), customer_group: Some("vip".into()), ..ReturnPolicy::default() },
        ];
        assert_eq!(policy_for(&policies, Some("tea"), "wholesale").name, "tea-wholesale");
        assert_eq!(policy_for(&policies, Some("tea"), "vip").name, "tea");
        assert_eq!(policy_for(&policies, Some("cups"), "vip").name, "vip");
        assert_eq!(policy_for(&policies, None, "retail").name, "all");
        assert_eq!(policy_for(&[], None, "retail").name, "default");
    }

    #[test]
    fn inside_the_window_is_approved_and_outside_is_rejected_with_the_reason() {
        let policy = ReturnPolicy { name: "standard".into(), window_days: 7, ..ReturnPolicy::default() };
        assert_eq!(judge(&policy, &facts(ReturnReason::ChangedMind, Some(7))), Verdict::Approve);
        let Verdict::Reject(why) = judge(&policy, &facts(ReturnReason::ChangedMind, Some(8))) else { panic!() };
        assert_eq!(why, "TEA-1 was delivered 8 days ago; policy standard accepts returns within 7 days");
        assert!(matches!(judge(&policy, &facts(ReturnReason::ChangedMind, None)), Verdict::Review(_)));
    }

    #[test]
    fn opened_goods_and_unlisted_reasons_are_refused_unless_the_business_was_at_fault() {
        let policy = ReturnPolicy {
            must_be_unopened: true,
            reasons: vec![ReturnReason::Defective, ReturnReason::ChangedMind],
            ..ReturnPolicy::default()
        };
        let opened = LineFacts { opened: true, ..facts(ReturnReason::ChangedMind, Some(1)) };
        assert!(matches!(judge(&policy, &opened), Verdict::Reject(t) if t.contains("unopened")));
        let defective = LineFacts { opened: true, ..facts(ReturnReason::Defective, Some(1)) };
        assert_eq!(judge(&policy, &defective), Verdict::Approve);
        assert!(
            matches!(judge(&policy, &facts(ReturnReason::Other, Some(1))), Verdict::Reject(t) if t.contains("reason"))
        );
        let tags = vec!["non_returnable".to_string()];
        let final_sale = LineFacts { tags: &tags, ..facts(ReturnReason::Defective, Some(1)) };
        assert!(matches!(judge(&policy, &final_sale), Verdict::Reject(_)));
    }

    #[test]
    fn one_refused_line_refuses_and_one_doubtful_line_asks_a_person() {
        let r = |t: &str| Verdict::Reject(t.into());
        let q = |t: &str| Verdict::Review(t.into());
        assert_eq!(combine(&[Verdict::Approve, q("a"), r("b")]), r("b"));
        assert_eq!(combine(&[Verdict::Approve, q("a"), q("c")]), q("a; c"));
        assert_eq!(combine(&[Verdict::Approve]), Verdict::Approve);
    }

    #[test]
    fn a_partial_return_pays_back_its_share_and_the_fee_only_when_the_customer_chose() {
        // 3 units for 100.00 + 13.00 tax: one unit is 37.67, all three exactly 113.00.
        assert_eq!(returned_value(d("100.00"), d("13.00"), 3, 1, cny()), d("37.67"));
        assert_eq!(returned_value(d("100.00"), d("13.00"), 3, 3, cny()), d("113.00"));
        assert_eq!(restocking_fee(d("113.00"), d("10"), ReturnReason::ChangedMind, cny()), d("11.30"));
        assert_eq!(restocking_fee(d("113.00"), d("10"), ReturnReason::Defective, cny()), Decimal::ZERO);
        let policy = ReturnPolicy::default();
        assert_eq!(policy.shipping_payer(ReturnReason::WrongItem), ShippingPayer::Business);
        assert_eq!(policy.shipping_payer(ReturnReason::ChangedMind), ShippingPayer::Customer);
    }

    #[test]
    fn a_ticket_is_due_by_its_priority_and_overdue_only_while_open() {
        let opened = Timestamp(0);
        let due = SlaHours::default().due_at(opened, TicketPriority::High);
        assert_eq!(due.micros(), 8 * 3600 * 1_000_000);
        let later = due.plus_seconds(1);
        assert!(is_overdue(TicketStatus::Open, due, later));
        assert!(!is_overdue(TicketStatus::Resolved, due, later));
        assert!(!is_overdue(TicketStatus::Open, due, due));
        assert!(low_rating(2, 2) && !low_rating(3, 2));
        assert!(!TicketStatus::Closed.can_become(TicketStatus::Open));
        assert!(TicketStatus::Resolved.can_become(TicketStatus::Open));
    }
}
