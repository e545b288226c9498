//! A parcel lost or damaged in transit: the customer is made whole (reship or refund) and
//! the carrier is asked to pay; the claim keeps both.

use super::model::*;
use super::returns::give_back;
use crate::common::{AmountInput, Ctx};
use crate::fulfillment::{self, Claim, FulfillmentError};
use crate::orders::{self, NewOrder, NewOrderLine, Placed};
use crate::params;
use ordo_domain::Invalid;
use ordo_domain::aftersales::returned_value;
use ordo_domain::fulfillment::ClaimKind;
use ordo_domain::money::to_e4;
use ordo_domain::validation::optional_text;
use rust_decimal::Decimal;
use serde_json::json;

fn claim_error(error: FulfillmentError) -> AfterSalesError {
    match error {
        FulfillmentError::ShipmentNotFound(id) => AfterSalesError::ShipmentNotFound(id),
        FulfillmentError::Invalid(i) => AfterSalesError::Invalid(i),
        FulfillmentError::Db(d) => AfterSalesError::Db(d),
        other => AfterSalesError::Conflict(other.to_string()),
    }
}

/// Staff open a claim on a shipment (the customer called about it).
pub fn open_claim(
    tx: &mut dyn crate::db::Tx,
    ctx: &Ctx,
    shipment_id: i64,
    input: &NewClaimInput,
) -> Result<Claim, AfterSalesError> {
    let kind = match input.kind.as_deref().map(str::trim) {
        Some(text) => ClaimKind::parse(text),
        None => None,
    }
    .ok_or_else(|| Invalid::field("kind", format!("must be one of {}", ClaimKind::choices())))?;
    let detail = optional_text("detail", input.detail.as_deref(), 500).map_err(|e| Invalid(vec![e]))?;
    fulfillment::report_claim(tx, ctx, shipment_id, kind, detail).map_err(claim_error)
}

/// Makes the customer whole for a claimed shipment, once: a free reshipment of its goods,
/// or a refund of what they were paid; and records what is asked of the carrier.
pub fn resolve_claim(
    tx: &mut dyn crate::db::Tx,
    ctx: &Ctx,
    claim_id: i64,
    input: &ClaimRemedy,
) -> Result<ClaimResolution, AfterSalesError> {
    if tx.execute("UPDATE claims SET updated_at = updated_at WHERE id = ?", params![claim_id])? == 0 {
        return Err(AfterSalesError::ClaimNotFound(claim_id));
    }
    let claim = fulfillment::tracking::claims_where(tx, "cl.id = ?", params![claim_id])?
        .pop()
        .ok_or(AfterSalesError::ClaimNotFound(claim_id))?;
    let remedy = input.remedy.as_deref().map(str::trim).unwrap_or_default();
    if !["reship", "refund"].contains(&remedy) {
        return Err(Invalid::field("remedy", "must be reship or refund").into());
    }
    let done = tx.query_one("SELECT remedy FROM claims WHERE id = ?", params![claim_id])?.opt_text(0)?;
    if let Some(done) = done {
        return Err(AfterSalesError::Conflict(format!("{} was already remedied: {done}", claim.number)));
    }
    if !["open", "filed"].contains(&claim.status.as_str()) {
        return Err(AfterSalesError::Conflict(format!("{} is {}", claim.number, claim.status)));
    }
    let order = orders::get_order(tx, claim.order_id)?;
    let shipped = tx.query(
        "SELECT sku, CAST(SUM(quantity) AS BIGINT) FROM shipment_lines WHERE shipment_id = ? GROUP BY sku ORDER BY sku",
        params![claim.shipment_id],
    )?;
    let mut goods: Vec<(String, i64)> = Vec::new();
    let mut value = Decimal::ZERO;
    for r in &shipped {
        let (sku, quantity) = (r.text(0)?, r.int(1)?);
        if let Some(line) = order.lines.iter().find(|l| l.sku == sku) {
            value += returned_value(line.line_total, line.tax, line.quantity, quantity, order.currency);
        }
        goods.push((sku, quantity));
    }
    let claimed = match &input.claimed_amount {
        Some(raw) => raw.parse("claimed_amount", false).map_err(|e| Invalid(vec![e]))?,
        None => value,
    };
    let mut resolution = ClaimResolution {
        claim_id,
        remedy: remedy.to_string(),
        replacement_order_id: None,
        refund_ids: Vec::new(),
        claimed_amount: order.currency.round(claimed),
    };
    if remedy == "reship" {
        let lines = goods
            .iter()
            .map(|(sku, quantity)| NewOrderLine {
                sku: Some(sku.clone()),
                quantity: Some(*quantity),
                unit_price: Some(AmountInput("0".into())),
                ..Default::default()
            })
            .collect();
        let input = NewOrder {
            customer_id: Some(order.customer_id),
            channel: Some(order.channel.as_str().to_string()),
            currency: Some(order.currency.code().to_string()),
            lines: Some(lines),
            notes: Some(format!("Reshipment for claim {} ({})", claim.number, claim.shipment_number)),
            shipping_service: order.shipping_service.clone().filter(|s| s != "pickup"),
            ..NewOrder::default()
        };
        let reship = match orders::place_order(tx, ctx, &input)? {
            Placed::Created(o) | Placed::Existing(o) => o,
        };
        resolution.replacement_order_id = Some(reship.id);
    } else {
        let reason = format!("claim {} ({})", claim.number, claim.shipment_number);
        resolution.refund_ids = give_back(tx, ctx, order.id, value, &goods, &reason, false)?.refund_ids;
    }
    tx.execute(
        "UPDATE claims SET remedy = ?, remedy_order_id = ?, claimed_e4 = ?, updated_at = ? WHERE id = ?",
        params![remedy, resolution.replacement_order_id, to_e4(resolution.claimed_amount), ctx.now.micros(), claim_id],
    )?;
    let details = json!({"claim": claim.number, "remedy": remedy, "value": value,
        "replacement_order_id": resolution.replacement_order_id, "claimed_from_carrier": resolution.claimed_amount});
    orders::store::append_event(tx, order.id, &ctx.actor, "claim_remedied", &details, ctx.now)?;
    Ok(resolution)
}
