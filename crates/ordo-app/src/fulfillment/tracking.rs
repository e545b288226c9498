//! Tracking: carrier webhooks (signed), CSV imports and manual updates, normalised to one
//! set of statuses; exceptions open claims; delivery moves the order on, and delivered
//! orders complete on the customer's word or after the configured days.

use super::invalid;
use super::model::*;
use crate::common::Ctx;
use crate::db::{DbError, Row, Tx, Value};
use crate::orders::{self, Order, OrderError};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::fulfillment::{ClaimKind, TrackingStatus};
use ordo_domain::orders::{OrderAction, OrderStatus};
use ordo_domain::time::Date;
use ordo_domain::validation::optional_text;
use serde_json::json;

const TRACKING_SECRET: &str = "tracking_secret";
const MAX_IMPORT_ROWS: usize = 5000;

/// The secret carriers (or the business's tracking aggregator) sign webhooks with.
pub fn tracking_secret(tx: &mut dyn Tx) -> Result<String, DbError> {
    crate::signing::secret(tx, TRACKING_SECRET, "trksec_")
}

struct Head {
    id: i64,
    number: String,
    order_id: i64,
    carrier: String,
    pickup_code: Option<String>,
}

fn head(tx: &mut dyn Tx, id: i64) -> Result<Head, FulfillmentError> {
    let r = tx
        .query_opt("SELECT id, number, order_id, carrier, pickup_code FROM shipments WHERE id = ?", params![id])?
        .ok_or(FulfillmentError::ShipmentNotFound(id))?;
    Ok(Head {
        id: r.int(0)?,
        number: r.text(1)?,
        order_id: r.int(2)?,
        carrier: r.text(3)?,
        pickup_code: r.opt_text(4)?,
    })
}

fn by_tracking_number(tx: &mut dyn Tx, number: &str) -> Result<i64, FulfillmentError> {
    tx.query_opt("SELECT id FROM shipments WHERE tracking_number = ? ORDER BY id DESC LIMIT 1", params![number])?
        .map(|r| r.int(0))
        .transpose()?
        .ok_or_else(|| FulfillmentError::TrackingNotFound(number.into()))
}

/// A parsed update.
struct Update {
    status: TrackingStatus,
    raw: String,
    at: Timestamp,
    location: Option<String>,
    detail: Option<String>,
}

fn parse_update(input: &TrackingUpdate, now: Timestamp) -> Result<Update, FulfillmentError> {
    let raw = input
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("status", "is required"))?;
    let status = TrackingStatus::normalise(raw).ok_or_else(|| {
        invalid("status", format!("{raw:?} is not a tracking status we know; use one of {}", TrackingStatus::choices()))
    })?;
    let at = Timestamp::field("at", input.at.as_deref()).map_err(|e| ordo_domain::Invalid(vec![e]))?.unwrap_or(now);
    if at > now.plus_seconds(24 * 3600) {
        return Err(invalid("at", "is more than a day in the future"));
    }
    let location =
        optional_text("location", input.location.as_deref(), 200).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let detail = optional_text("detail", input.detail.as_deref(), 500).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    Ok(Update { status, raw: raw.chars().take(64).collect(), at, location, detail })
}

/// Records one update on a shipment; a repeat (same status at the same time) changes
/// nothing. The newest event sets the shipment's status, so late arrivals of older
/// events do not turn a delivered parcel back to in transit.
fn record(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    shipment_id: i64,
    u: &Update,
    source: &str,
) -> Result<TrackingResult, FulfillmentError> {
    let h = head(tx, shipment_id)?;
    // Lock the order first, so deliveries of two shipments cannot both miss the last one.
    orders::lock_order(tx, h.order_id, None)?;
    let seen = tx.query_opt(
        "SELECT 1 FROM tracking_events WHERE shipment_id = ? AND status = ? AND at = ?",
        params![h.id, u.status.as_str(), u.at.micros()],
    )?;
    if seen.is_some() {
        return Ok(TrackingResult {
            outcome: "duplicate".into(),
            shipment_id: Some(h.id),
            status: Some(u.status),
            row: None,
            error: None,
        });
    }
    // The label Ordo records at shipment is not the carrier's word: any carrier event
    // moves the status on, even one stamped before the label by the carrier's clock.
    let newest = tx
        .query_one(
            "SELECT COALESCE(MAX(at), 0) FROM tracking_events WHERE shipment_id = ? \
             AND NOT (source = 'system' AND status IN ('label_created', 'ready_for_pickup'))",
            params![h.id],
        )?
        .int(0)?;
    tx.execute(
        "INSERT INTO tracking_events (shipment_id, status, raw_status, at, location, detail, source, actor, recorded_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![h.id, u.status.as_str(), u.raw.as_str(), u.at.micros(), u.location.clone(), u.detail.clone(), source,
            ctx.actor.as_str(), ctx.now.micros()],
    )?;
    if u.at.micros() >= newest {
        tx.execute(
            "UPDATE shipments SET status = ?, version = version + 1, updated_at = ? WHERE id = ?",
            params![u.status.as_str(), ctx.now.micros(), h.id],
        )?;
    }
    let details = json!({"shipment": h.number, "status": u.status, "raw_status": u.raw, "location": u.location, "detail": u.detail});
    orders::store::append_event(tx, h.order_id, &ctx.actor, "tracking", &details, ctx.now)?;
    match u.status {
        TrackingStatus::Delivered => delivered(tx, ctx, &h, u.at)?,
        TrackingStatus::Exception => {
            open_claim(tx, ctx, &h, ClaimKind::of_exception(&u.raw, u.detail.as_deref().unwrap_or("")), u)?
        }
        _ => {}
    }
    Ok(TrackingResult {
        outcome: "recorded".into(),
        shipment_id: Some(h.id),
        status: Some(u.status),
        row: None,
        error: None,
    })
}

fn delivered(tx: &mut dyn Tx, ctx: &Ctx, h: &Head, at: Timestamp) -> Result<(), FulfillmentError> {
    tx.execute(
        "UPDATE shipments SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
        params![at.micros(), h.id],
    )?;
    crate::events::record(
        tx,
        "shipment.delivered",
        ("shipment", h.id),
        &json!({"shipment": h.number, "order_id": h.order_id, "at": at}),
        ctx.now,
    )?;
    let order = orders::lock_order(tx, h.order_id, None)?;
    let undelivered = tx
        .query_one("SELECT COUNT(*) FROM shipments WHERE order_id = ? AND delivered_at IS NULL", params![h.order_id])?
        .int(0)?;
    if order.status == OrderStatus::Shipped && undelivered == 0 {
        let next = order.status.to(OrderAction::Deliver, OrderStatus::Delivered)?;
        tx.execute(
            "UPDATE orders SET status = ?, delivered_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
            params![next.as_str(), at.micros(), ctx.now.micros(), h.order_id],
        )?;
        orders::store::append_event(
            tx,
            h.order_id,
            &ctx.actor,
            "delivered",
            &json!({"from": order.status, "to": next, "at": at}),
            ctx.now,
        )?;
    }
    Ok(())
}

fn open_claim(tx: &mut dyn Tx, ctx: &Ctx, h: &Head, kind: ClaimKind, u: &Update) -> Result<(), FulfillmentError> {
    let open =
        tx.query_opt("SELECT number FROM claims WHERE shipment_id = ? AND status IN ('open', 'filed')", params![h.id])?;
    if open.is_some() {
        return Ok(());
    }
    let number = format!("CL-{:06}", orders::store::next_sequence(tx, "claim")?);
    tx.insert(
        "INSERT INTO claims (number, shipment_id, order_id, carrier, kind, status, detail, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        params![
            number.as_str(),
            h.id,
            h.order_id,
            h.carrier.as_str(),
            kind.as_str(),
            u.detail.clone().or(Some(u.raw.clone())),
            ctx.now.micros(),
            ctx.now.micros()
        ],
    )?;
    tx.execute("UPDATE shipments SET claim_status = 'open' WHERE id = ?", params![h.id])?;
    let data = json!({"shipment": h.number, "order_id": h.order_id, "claim": number, "kind": kind, "detail": u.detail, "raw_status": u.raw});
    crate::events::record(tx, "shipment.exception", ("shipment", h.id), &data, ctx.now)?;
    let details = json!({"shipment": h.number, "claim": number, "kind": kind, "detail": u.detail, "notify": ["service", "warehouse"]});
    orders::store::append_event(tx, h.order_id, &ctx.actor, "delivery_exception", &details, ctx.now)?;
    crate::audit::record(tx, ctx, "fulfillment", "claim.opened", &number, &format!("{kind} on {}", h.number))?;
    let subject = format!("Delivery exception ({kind}) on {}", h.number);
    crate::aftersales::tickets::on_delivery_exception(tx, ctx, h.order_id, subject, u.detail.clone()).map_err(|e| {
        match e {
            crate::aftersales::AfterSalesError::Db(d) => FulfillmentError::Db(d),
            other => FulfillmentError::Conflict(other.to_string()),
        }
    })?;
    Ok(())
}

/// Staff open a claim themselves (the customer called: the parcel is lost or broken).
/// A shipment has one claim open at a time; asking again returns it.
pub fn report_claim(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    shipment_id: i64,
    kind: ClaimKind,
    detail: Option<String>,
) -> Result<Claim, FulfillmentError> {
    let h = head(tx, shipment_id)?;
    let update =
        Update { status: TrackingStatus::Exception, raw: kind.as_str().into(), at: ctx.now, location: None, detail };
    open_claim(tx, ctx, &h, kind, &update)?;
    claims_where(tx, "cl.shipment_id = ? AND cl.status IN ('open', 'filed')", params![shipment_id])?
        .pop()
        .ok_or_else(|| FulfillmentError::Conflict(format!("no open claim on {}", h.number)))
}

/// A typed-in update on one shipment.
pub fn add_tracking(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    shipment_id: i64,
    input: &TrackingUpdate,
) -> Result<Shipment, FulfillmentError> {
    let update = parse_update(input, ctx.now)?;
    if update.status == TrackingStatus::Delivered {
        require_pickup_code(tx, shipment_id, None)?;
    }
    record(tx, ctx, shipment_id, &update, "manual")?;
    super::get_shipment(tx, shipment_id)
}

fn require_pickup_code(tx: &mut dyn Tx, shipment_id: i64, given: Option<&str>) -> Result<(), FulfillmentError> {
    let h = head(tx, shipment_id)?;
    match (&h.pickup_code, given.map(str::trim)) {
        (None, _) => Ok(()),
        (Some(code), Some(given)) if code == given => Ok(()),
        (Some(_), None) => Err(invalid("pickup_code", "the customer's pickup code is required to hand over the goods")),
        (Some(_), Some(_)) => Err(invalid("pickup_code", "does not match this shipment's code")),
    }
}

/// Records a delivery by hand (or a self-pickup, with the customer's code).
pub fn mark_delivered(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    shipment_id: i64,
    input: &DeliveredInput,
) -> Result<Shipment, FulfillmentError> {
    require_pickup_code(tx, shipment_id, input.pickup_code.as_deref())?;
    let at = Timestamp::field("at", input.at.as_deref()).map_err(|e| ordo_domain::Invalid(vec![e]))?.unwrap_or(ctx.now);
    let update =
        Update { status: TrackingStatus::Delivered, raw: "delivered".into(), at, location: None, detail: None };
    record(tx, ctx, shipment_id, &update, "manual")?;
    super::get_shipment(tx, shipment_id)
}

/// A carrier's signed webhook call: verified, then recorded once.
pub fn tracking_webhook(
    tx: &mut dyn Tx,
    signature: Option<&str>,
    body: &[u8],
    now: Timestamp,
) -> Result<TrackingResult, FulfillmentError> {
    let secret = tracking_secret(tx)?;
    crate::signing::verify(&secret, signature, body, now).map_err(FulfillmentError::BadSignature)?;
    let input: TrackingUpdate =
        serde_json::from_slice(body).map_err(|e| invalid("body", format!("is not a tracking update: {e}")))?;
    let number = input
        .tracking_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("tracking_number", "is required"))?;
    let shipment_id = by_tracking_number(tx, number)?;
    let update = parse_update(&input, now)?;
    let ctx = Ctx::at("carrier:webhook", "api", now);
    record(tx, &ctx, shipment_id, &update, "webhook")
}

/// Imports tracking updates from CSV: `tracking_number,status,at,location,detail` (a
/// header row naming these columns is optional). Good rows are recorded even when others
/// are not; each row says what happened to it.
pub fn import_tracking(tx: &mut dyn Tx, ctx: &Ctx, text: &str) -> Result<TrackingImport, FulfillmentError> {
    let rows = ordo_domain::csv::parse(text);
    if rows.len() > MAX_IMPORT_ROWS + 1 {
        return Err(invalid("file", format!("at most {MAX_IMPORT_ROWS} rows per import")));
    }
    let mut columns = ["tracking_number", "status", "at", "location", "detail"].map(|c| c.to_string()).to_vec();
    let mut result = TrackingImport { recorded: 0, duplicates: 0, errors: 0, rows: Vec::new() };
    for (i, row) in rows.iter().enumerate() {
        if i == 0 && row.iter().any(|c| c.trim().eq_ignore_ascii_case("tracking_number")) {
            columns = row.iter().map(|c| c.trim().to_lowercase()).collect();
            continue;
        }
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let get = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|k| row.get(k))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let input = TrackingUpdate {
            tracking_number: get("tracking_number"),
            status: get("status"),
            at: get("at"),
            location: get("location"),
            detail: get("detail"),
        };
        let outcome = (|| -> Result<TrackingResult, FulfillmentError> {
            let number = input.tracking_number.clone().ok_or_else(|| invalid("tracking_number", "is required"))?;
            let shipment_id = by_tracking_number(tx, &number)?;
            let update = parse_update(&input, ctx.now)?;
            record(tx, ctx, shipment_id, &update, "import")
        })();
        let mut r = match outcome {
            Ok(r) => r,
            Err(FulfillmentError::Db(e)) => return Err(e.into()),
            Err(FulfillmentError::Order(OrderError::Db(e))) => return Err(e.into()),
            Err(e) => TrackingResult {
                outcome: "error".into(),
                shipment_id: None,
                status: None,
                row: None,
                error: Some(e.to_string()),
            },
        };
        match r.outcome.as_str() {
            "recorded" => result.recorded += 1,
            "duplicate" => result.duplicates += 1,
            _ => result.errors += 1,
        }
        r.row = Some(i + 1);
        result.rows.push(r);
    }
    Ok(result)
}

/// The customer confirms receipt (or staff on their behalf): the order completes.
pub fn complete_order(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, why: &str) -> Result<Order, FulfillmentError> {
    let order = orders::lock_order(tx, order_id, None).map_err(|e| match e {
        OrderError::NotFound(id) => FulfillmentError::OrderNotFound(id),
        other => other.into(),
    })?;
    let next = order.status.to(OrderAction::Complete, OrderStatus::Completed)?;
    orders::store::set_status(tx, order_id, next, ctx.now)?;
    orders::store::append_event(
        tx,
        order_id,
        &ctx.actor,
        "completed",
        &json!({"from": order.status, "to": next, "reason": why}),
        ctx.now,
    )?;
    Ok(orders::get_order(tx, order_id)?)
}

const DUE_FOR_COMPLETION: &str = "SELECT o.id FROM orders o WHERE o.status = 'delivered' AND o.delivered_at <= ? \
    AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.order_id = o.id AND c.status IN ('open', 'filed'))";

/// Delivered orders past the completion window with no open claim, oldest first.
pub fn due_for_completion(tx: &mut dyn Tx, days: i64, now: Timestamp) -> Result<Vec<i64>, DbError> {
    tx.query(
        &format!("{DUE_FOR_COMPLETION} ORDER BY o.delivered_at LIMIT 200"),
        params![now.minus_days(days).micros()],
    )?
    .iter()
    .map(|r| r.int(0))
    .collect()
}

/// Completes one order if it is still delivered, past the window and undisputed.
pub fn complete_if_due(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64) -> Result<bool, FulfillmentError> {
    let days = super::fulfillment_settings(tx)?.complete_after_days;
    let due = tx.query_opt(
        &format!("{DUE_FOR_COMPLETION} AND o.id = ?"),
        params![ctx.now.minus_days(days).micros(), order_id],
    )?;
    if due.is_none() {
        return Ok(false);
    }
    complete_order(tx, ctx, order_id, &format!("no dispute {days} days after delivery"))?;
    Ok(true)
}

/// Shipments still on their way after their promised (else estimated) date: each gets
/// a `delayed` exception, once.
const OVERDUE: &str = "SELECT id FROM shipments WHERE status IN ('label_created', 'in_transit', 'out_for_delivery') \
    AND claim_status IS NULL AND COALESCE(promised_date, estimated_delivery) < ?";

pub fn overdue_shipments(tx: &mut dyn Tx, now: Timestamp) -> Result<Vec<i64>, DbError> {
    let today = Date::of(now).to_string();
    tx.query(&format!("{OVERDUE} ORDER BY id LIMIT 200"), params![today])?.iter().map(|r| r.int(0)).collect()
}

pub fn flag_if_delayed(tx: &mut dyn Tx, ctx: &Ctx, shipment_id: i64) -> Result<bool, FulfillmentError> {
    let today = Date::of(ctx.now).to_string();
    if tx.query_opt(&format!("{OVERDUE} AND id = ?"), params![today, shipment_id])?.is_none() {
        return Ok(false);
    }
    let due = tx
        .query_one(
            "SELECT COALESCE(promised_date, estimated_delivery) FROM shipments WHERE id = ?",
            params![shipment_id],
        )?
        .text(0)?;
    let update = Update {
        status: TrackingStatus::Exception,
        raw: "delayed".into(),
        at: ctx.now,
        location: None,
        detail: Some(format!("delayed: not delivered by {due}")),
    };
    record(tx, ctx, shipment_id, &update, "system")?;
    Ok(true)
}

const CLAIM_COLUMNS: &str = "cl.id, cl.number, cl.shipment_id, s.number, cl.order_id, o.number, cl.carrier, cl.kind, cl.status, \
    cl.detail, cl.resolution, cl.created_at, cl.updated_at";

fn claim_row(r: &Row) -> Result<Claim, DbError> {
    Ok(Claim {
        id: r.int(0)?,
        number: r.text(1)?,
        shipment_id: r.int(2)?,
        shipment_number: r.text(3)?,
        order_id: r.int(4)?,
        order_number: r.text(5)?,
        carrier: r.text(6)?,
        kind: ClaimKind::parse(&r.text(7)?).unwrap_or(ClaimKind::Other),
        status: r.text(8)?,
        detail: r.opt_text(9)?,
        resolution: r.opt_text(10)?,
        created_at: Timestamp(r.int(11)?),
        updated_at: Timestamp(r.int(12)?),
    })
}

pub(crate) fn claims_where(tx: &mut dyn Tx, condition: &str, values: &[Value]) -> Result<Vec<Claim>, DbError> {
    tx.query(
        &format!(
            "SELECT {CLAIM_COLUMNS} FROM claims cl JOIN shipments s ON s.id = cl.shipment_id JOIN orders o ON o.id = cl.order_id \
             WHERE {condition} ORDER BY cl.id DESC LIMIT 200"
        ),
        values,
    )?
    .iter()
    .map(claim_row)
    .collect()
}

pub fn list_claims(tx: &mut dyn Tx, status: Option<&str>) -> Result<ClaimList, FulfillmentError> {
    let items = match status.filter(|s| !s.is_empty()) {
        Some(status) => claims_where(tx, "cl.status = ?", params![status])?,
        None => claims_where(tx, "1 = 1", &[])?,
    };
    Ok(ClaimList { items })
}

/// Moves a claim on: filed with the carrier, settled (with what was done) or rejected.
pub fn update_claim(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &ClaimUpdate) -> Result<Claim, FulfillmentError> {
    let status = input.status.as_deref().map(str::trim).unwrap_or_default();
    if !["filed", "settled", "rejected"].contains(&status) {
        return Err(invalid("status", "must be filed, settled or rejected"));
    }
    let resolution =
        optional_text("resolution", input.resolution.as_deref(), 500).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    if status != "filed" && resolution.is_none() {
        return Err(invalid("resolution", "say what was done (reshipped, refunded, carrier paid…)"));
    }
    let claim = claims_where(tx, "cl.id = ?", params![id])?.pop().ok_or(FulfillmentError::ClaimNotFound(id))?;
    let allowed = matches!((claim.status.as_str(), status), ("open", _) | ("filed", "settled" | "rejected"));
    if !allowed {
        return Err(FulfillmentError::Conflict(format!(
            "claim {} is {}; it cannot become {status}",
            claim.number, claim.status
        )));
    }
    tx.execute(
        "UPDATE claims SET status = ?, resolution = COALESCE(?, resolution), updated_at = ? WHERE id = ?",
        params![status, resolution.clone(), ctx.now.micros(), id],
    )?;
    let closed = status != "filed";
    tx.execute(
        "UPDATE shipments SET claim_status = ? WHERE id = ?",
        params![if closed { "closed" } else { "filed" }, claim.shipment_id],
    )?;
    let details = json!({"claim": claim.number, "status": status, "resolution": resolution});
    orders::store::append_event(tx, claim.order_id, &ctx.actor, "claim", &details, ctx.now)?;
    crate::audit::record(tx, ctx, "fulfillment", "claim.updated", &claim.number, status)?;
    claims_where(tx, "cl.id = ?", params![id])?.pop().ok_or(FulfillmentError::ClaimNotFound(id))
}
