//! The event catalogue: every domain event Ordo publishes, its version, who it concerns
//! and an example payload. Names are stable: a change that breaks a payload gets a new
//! version (`order.placed` v2 would be sent as `order.placed.v2` beside v1 for a while).
//! Also the retry schedule for deliveries, which is pure arithmetic.

use serde::Serialize;

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct EventSpec {
    /// The event's type, e.g. `order.placed`.
    #[serde(rename = "type")]
    pub name: &'static str,
    pub version: u32,
    /// What the events of one stream are about (`order`, `shipment`…): deliveries keep the
    /// order of events per aggregate.
    pub aggregate: &'static str,
    pub description: &'static str,
    /// An example of `data`, as JSON text.
    pub example: &'static str,
}

macro_rules! spec {
    ($name:literal, $aggregate:literal, $description:literal, $example:expr) => {
        EventSpec { name: $name, version: 1, aggregate: $aggregate, description: $description, example: $example }
    };
}

const ORDER_EXAMPLE: &str = r#"{"order_id": 12, "order": "SO-2026-000012", "customer_id": 3, "status": "confirmed", "total": "339.00", "currency": "CNY", "actor": "alice@example.com"}"#;

pub const CATALOGUE: &[EventSpec] = &[
    spec!("order.placed", "order", "An order was placed (any channel).", ORDER_EXAMPLE),
    spec!("order.confirmed", "order", "An order passed its checks and approvals and will be fulfilled.", ORDER_EXAMPLE),
    spec!("order.approval_requested", "order", "An order waits for an approval step.", ORDER_EXAMPLE),
    spec!(
        "order.approved",
        "order",
        "An approval step was approved (`status` says whether more steps wait).",
        ORDER_EXAMPLE
    ),
    spec!("order.rejected", "order", "An approval step was rejected.", ORDER_EXAMPLE),
    spec!(
        "order.on_hold",
        "order",
        "An order was put on hold (by a check, a failed payment or by hand).",
        ORDER_EXAMPLE
    ),
    spec!("order.cancelled", "order", "An order was cancelled; its reservations were released.", ORDER_EXAMPLE),
    spec!("order.delivered", "order", "Every shipment of an order was delivered.", ORDER_EXAMPLE),
    spec!("order.completed", "order", "A delivered order closed after its dispute window.", ORDER_EXAMPLE),
    spec!(
        "order.notify",
        "order",
        "An order rule asked for a role to be told about an order.",
        r#"{"order_id": 12, "role": "finance", "rules": ["Large order"]}"#
    ),
    spec!(
        "payment.received",
        "order",
        "Money was captured for an order (or settled on account).",
        r#"{"payment_id": 7, "order_id": 12, "order_number": "SO-2026-000012", "method": "bank_transfer", "amount": "339.00", "currency": "CNY", "status": "captured"}"#
    ),
    spec!(
        "payment.failed",
        "order",
        "A payment attempt was declined; the provider's reason is given.",
        r#"{"payment_id": 8, "order_id": 12, "order_number": "SO-2026-000012", "reason": "card declined"}"#
    ),
    spec!(
        "refund.issued",
        "order",
        "Money was paid back (to the original method or to store credit).",
        r#"{"payment_id": 7, "order_id": 12, "order_number": "SO-2026-000012", "amount": "113.00", "currency": "CNY", "to_store_credit": false}"#
    ),
    spec!(
        "invoice.issued",
        "order",
        "An invoice was issued for an order.",
        r#"{"invoice_id": 4, "number": "INV-2026-000004", "order_id": 12, "order_number": "SO-2026-000012", "total": "339.00", "currency": "CNY"}"#
    ),
    spec!(
        "shipment.shipped",
        "shipment",
        "A shipment left the warehouse, with its carrier and tracking number.",
        r#"{"shipment": "SH-000009", "order_id": 12, "order": "SO-2026-000012", "carrier": "SF", "service": "std", "tracking_number": "SF1234567890", "tracking_url": "https://…", "order_status": "shipped"}"#
    ),
    spec!(
        "shipment.delivered",
        "shipment",
        "The carrier reported a shipment delivered.",
        r#"{"shipment": "SH-000009", "order_id": 12, "order": "SO-2026-000012", "at": "2026-11-24T08:00:00Z"}"#
    ),
    spec!(
        "shipment.exception",
        "shipment",
        "A delivery went wrong (lost, damaged, refused, late); a claim was opened.",
        r#"{"shipment": "SH-000009", "order_id": 12, "claim": "CL-000002", "kind": "lost", "detail": "parcel lost in transit"}"#
    ),
    spec!(
        "stock.low",
        "stock_level",
        "Available stock fell below a reorder point.",
        r#"{"sku": "TEA-001", "warehouse": "SH", "available": 4, "reorder_point": 10}"#
    ),
    spec!(
        "return.requested",
        "order",
        "A customer asked to return goods (RMA).",
        r#"{"return_id": 2, "number": "RMA-2026-000002", "order_id": 12, "order_number": "SO-2026-000012", "status": "approved", "value": "113.00"}"#
    ),
    spec!(
        "return.approved",
        "order",
        "A return was approved; the customer may send the goods.",
        r#"{"return_id": 2, "number": "RMA-2026-000002", "order_id": 12, "order_number": "SO-2026-000012"}"#
    ),
    spec!(
        "return.rejected",
        "order",
        "A return was rejected, with the reason.",
        r#"{"return_id": 2, "number": "RMA-2026-000002", "order_id": 12, "order_number": "SO-2026-000012", "reason": "outside the window"}"#
    ),
    spec!(
        "return.received",
        "order",
        "Returned goods arrived and were inspected.",
        r#"{"return_id": 2, "number": "RMA-2026-000002", "order_id": 12, "order_number": "SO-2026-000012"}"#
    ),
    spec!(
        "return.refunded",
        "order",
        "A return was paid back.",
        r#"{"return_id": 2, "number": "RMA-2026-000002", "order_id": 12, "order_number": "SO-2026-000012", "amount": "101.70"}"#
    ),
    spec!(
        "ticket.opened",
        "ticket",
        "A service ticket was opened (by staff, a low rating or a delivery exception).",
        r#"{"ticket_id": 5, "number": "TK-000005", "customer_id": 3, "order_id": 12, "category": "complaint", "priority": "high", "source": "feedback", "due_at": "2026-11-24T12:00:00Z"}"#
    ),
    spec!(
        "feedback.received",
        "order",
        "A customer rated a delivered order.",
        r#"{"order_id": 12, "order_number": "SO-2026-000012", "rating": 5, "ticket_id": null}"#
    ),
    spec!(
        "webhook.disabled",
        "webhook",
        "A webhook subscription was switched off after repeated failed deliveries.",
        r#"{"webhook_id": 3, "url": "https://erp.example.com/hooks/ordo", "failures": 20, "last_error": "HTTP 500"}"#
    ),
    spec!(
        "portal.invited",
        "customer",
        "A customer's person was invited to the customer portal (the e-mail carries the link; the event does not).",
        r#"{"invitation_id": 4, "customer_id": 3, "customer_name": "上海华联贸易有限公司", "email": "buyer@hualian.example", "name": "王芳", "language": "zh-CN"}"#
    ),
    spec!(
        "report.mailed",
        "report",
        "A scheduled report for a finished period was written and e-mailed to its recipients.",
        r#"{"report": "sales", "frequency": "daily", "period": "2026-11-23", "recipients": ["boss@example.com"], "subject": "Sales 2026-11-23", "body": "…"}"#
    ),
];

pub fn spec(name: &str) -> Option<&'static EventSpec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// The order events an order timeline entry stands for. `action` is the timeline's word,
/// `to` the status the order moved to, if it moved. Placement is announced by the placing
/// use case itself, once the order has its number.
pub fn order_events(action: &str, to: Option<&str>) -> Vec<&'static str> {
    let mut events = Vec::new();
    match action {
        "approved" => events.push("order.approved"),
        "rejected" => events.push("order.rejected"),
        "held" => events.push("order.on_hold"),
        "delivered" => events.push("order.delivered"),
        "completed" => events.push("order.completed"),
        _ => {}
    }
    // A re-review writes the new status as the action itself.
    let status = to.or(match action {
        "confirmed" | "pending_approval" | "on_hold" | "cancelled" => Some(action),
        _ => None,
    });
    if let Some(status) = status
        && let Some(event) = status_event(status)
        && !events.contains(&event)
    {
        events.push(event);
    }
    events
}

/// The event announcing that an order reached `status`, for the statuses that have one.
pub fn status_event(status: &str) -> Option<&'static str> {
    Some(match status {
        "confirmed" => "order.confirmed",
        "pending_approval" => "order.approval_requested",
        "on_hold" => "order.on_hold",
        "cancelled" => "order.cancelled",
        _ => return None,
    })
}

/// Whether a subscription's patterns take an event type: exact names, `order.*` for a
/// family, or `*` for everything.
pub fn subscribed(patterns: &[String], kind: &str) -> bool {
    patterns.iter().any(|p| {
        p == "*" || p == kind || p.strip_suffix(".*").is_some_and(|family| kind.split('.').next() == Some(family))
    })
}

/// Seconds to wait before attempt `attempt + 1` after `attempt` failed ones: doubling from
/// `base`, capped at six hours, and spread by `jitter` (0..1) over the upper half so that
/// many failing deliveries do not all retry in the same second.
pub fn retry_delay(attempt: u32, base_seconds: i64, jitter: f64) -> i64 {
    const CAP: i64 = 6 * 3600;
    let exponent = attempt.saturating_sub(1).min(20);
    let full = base_seconds.saturating_mul(1_i64 << exponent).min(CAP);
    let jitter = jitter.clamp(0.0, 1.0);
    (full as f64 * (0.5 + 0.5 * jitter)).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_example_is_json_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for spec in CATALOGUE {
            assert!(names.insert(spec.name), "{} twice", spec.name);
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(spec.example);
            assert!(parsed.is_ok_and(|v| v.is_object()), "{} example is not a JSON object", spec.name);
        }
    }

    #[test]
    fn order_timeline_actions_map_to_lifecycle_events() {
        assert_eq!(order_events("approved", Some("confirmed")), ["order.approved", "order.confirmed"]);
        assert_eq!(order_events("approved", Some("pending_approval")), ["order.approved", "order.approval_requested"]);
        assert_eq!(order_events("held", None), ["order.on_hold"]);
        assert_eq!(order_events("on_hold", None), ["order.on_hold"]);
        assert_eq!(order_events("released", Some("confirmed")), ["order.confirmed"]);
        assert_eq!(order_events("cancelled", Some("cancelled")), ["order.cancelled"]);
        assert!(order_events("picked", None).is_empty());
        for kind in ["order.approved", "order.confirmed", "order.on_hold", "order.cancelled", "order.delivered"] {
            assert!(spec(kind).is_some(), "{kind} is catalogued");
        }
    }

    #[test]
    fn patterns_take_exact_names_families_and_everything() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(subscribed(&p(&["order.placed"]), "order.placed"));
        assert!(!subscribed(&p(&["order.placed"]), "order.cancelled"));
        assert!(subscribed(&p(&["order.*"]), "order.cancelled"));
        assert!(!subscribed(&p(&["order.*"]), "orders.x"));
        assert!(subscribed(&p(&["*"]), "stock.low"));
    }

    #[test]
    fn retries_double_with_jitter_and_stop_at_the_cap() {
        assert_eq!(retry_delay(1, 10, 1.0), 10);
        assert_eq!(retry_delay(1, 10, 0.0), 5);
        assert_eq!(retry_delay(3, 10, 1.0), 40);
        assert_eq!(retry_delay(40, 10, 1.0), 6 * 3600);
        assert_eq!(retry_delay(5, 0, 0.7), 0);
    }
}
