//! Shipments: rate shopping for an order's next parcel, and shipping packages from a
//! warehouse (stock leaves on-hand; the order moves to partially shipped or shipped).

use super::carriers::{PICKUP, Terms, load_terms};
use super::invalid;
use super::model::*;
use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Filter, Row, Tx, Value};
use crate::inventory::store::{self as stock, NewMovement};
use crate::orders::{self, Order, OrderError};
use crate::params;
use ordo_domain::fulfillment::{self as domain, Consignment, Parcel, Quote, TrackingStatus};
use ordo_domain::inventory::MovementKind;
use ordo_domain::money::{from_e4, to_e4};
use ordo_domain::orders::{FulfillmentStatus, OrderAction, OrderStatus};
use ordo_domain::payments::MethodKind;
use ordo_domain::time::Date;
use ordo_domain::validation::{Violations, optional_text};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;

const MAX_PACKAGES: usize = 50;

fn order_or_404(tx: &mut dyn Tx, id: i64) -> Result<Order, FulfillmentError> {
    orders::get_order(tx, id).map_err(|e| match e {
        OrderError::NotFound(id) => FulfillmentError::OrderNotFound(id),
        other => other.into(),
    })
}

/// Where the order's unshipped reserved units mostly are.
fn main_warehouse(order: &Order) -> Option<String> {
    let mut units: Vec<(String, i64)> = Vec::new();
    for l in order.lines.iter().filter(|l| l.reserved_quantity() > 0) {
        match units.iter_mut().find(|(w, _)| *w == l.warehouse) {
            Some((_, n)) => *n += l.reserved_quantity(),
            None => units.push((l.warehouse.clone(), l.reserved_quantity())),
        }
    }
    units.into_iter().max_by_key(|(_, n)| *n).map(|(w, _)| w)
}

fn named_service(order: &Order) -> Option<(String, Option<String>)> {
    let named = order.shipping_service.as_deref()?;
    match named.split_once('/') {
        Some((carrier, service)) => Some((carrier.to_string(), Some(service.to_string()))),
        None => Some((named.to_string(), None)),
    }
}

fn consignment(
    order: &Order,
    from_region: Option<String>,
    parcels: Vec<Parcel>,
    tags: Vec<String>,
    now: Timestamp,
) -> Consignment {
    Consignment {
        parcels,
        tags,
        from_region,
        to_region: order.shipping_address.as_ref().and_then(|a| a.region.clone()),
        ship_date: Date::of(now),
        promised: order.requested_delivery_date.as_deref().and_then(Date::parse),
    }
}

fn option(terms: &Terms, q: &Quote, recommended: bool) -> ShippingOption {
    let (carrier_name, service_name) = terms.names_of(&q.carrier, &q.service);
    ShippingOption {
        carrier: q.carrier.clone(),
        carrier_name,
        service: q.service.clone(),
        service_name,
        price: match terms.currency_of(&q.carrier).as_deref().and_then(Currency::parse) {
            Some(currency) => q.price.map(|p| currency.show(p)),
            None => q.price,
        },
        currency: terms.currency_of(&q.carrier),
        estimated_delivery: q.estimated_delivery.to_string(),
        eligible: q.eligible,
        reason: q.reason.clone(),
        on_time: q.on_time,
        recommended,
    }
}

/// Every carrier service's price and delivery date for the order's unshipped units from
/// one warehouse, with the reason for each that cannot take them; self-pickup is listed
/// when the warehouse is a pickup point.
pub fn shipping_options(
    tx: &mut dyn Tx,
    order_id: i64,
    warehouse: Option<&str>,
    now: Timestamp,
) -> Result<Vec<ShippingOption>, FulfillmentError> {
    let order = order_or_404(tx, order_id)?;
    let code = warehouse
        .map(str::to_string)
        .or_else(|| main_warehouse(&order))
        .or_else(|| order.lines.first().map(|l| l.warehouse.clone()));
    let code = code.ok_or_else(|| FulfillmentError::Conflict("the order has no lines".into()))?;
    let w = stock::warehouse_by_code(tx, &code)?.ok_or_else(|| FulfillmentError::WarehouseNotFound(code.clone()))?;
    let products = super::sourcing::order_products(tx, order_id)?;
    let lines: Vec<_> = order.lines.iter().filter(|l| l.warehouse == code).collect();
    let weight: Decimal = lines
        .iter()
        .map(|l| {
            products.get(&l.sku).map_or(Decimal::ZERO, |p| p.weight_kg)
                * Decimal::from((l.quantity - l.shipped_quantity).max(0))
        })
        .sum();
    let mut tags: Vec<String> =
        lines.iter().flat_map(|l| products.get(&l.sku).map(|p| p.tags.clone()).unwrap_or_default()).collect();
    tags.sort();
    tags.dedup();
    let terms = load_terms(tx)?;
    let settings = super::fulfillment_settings(tx)?;
    let c = consignment(&order, w.region.clone(), vec![Parcel { weight_kg: weight, volume_cm3: None }], tags, now);
    let quotes = domain::rate_shop(&terms.services, &terms.bands, &c);
    let named = named_service(&order);
    let chosen = if named.as_ref().is_some_and(|(c, _)| c == PICKUP) {
        None
    } else {
        domain::choose(&quotes, settings.carrier_policy, named.as_ref().map(|(c, s)| (c.as_str(), s.as_deref())))
    };
    let mut options: Vec<ShippingOption> = quotes
        .iter()
        .map(|q| option(&terms, q, chosen.is_some_and(|c| c.carrier == q.carrier && c.service == q.service)))
        .collect();
    if pickup_point(tx, w.id)? {
        options.push(ShippingOption {
            carrier: PICKUP.into(),
            carrier_name: format!("Self-pickup at {}", w.name),
            service: PICKUP.into(),
            service_name: "自提".into(),
            price: Some(Decimal::ZERO),
            currency: Some(order.currency.code().to_string()),
            estimated_delivery: Date::of(now).to_string(),
            eligible: true,
            reason: None,
            on_time: true,
            recommended: named.is_some_and(|(c, _)| c == PICKUP),
        });
    }
    Ok(options)
}

fn pickup_point(tx: &mut dyn Tx, warehouse_id: i64) -> Result<bool, DbError> {
    Ok(tx.query_one("SELECT pickup FROM warehouses WHERE id = ?", params![warehouse_id])?.int(0)? != 0)
}

struct ValidPackage {
    weight_kg: Option<Decimal>,
    dims: [Option<i64>; 3],
    lines: Vec<(String, i64)>,
}

fn validate_packages(input: &NewShipment) -> Result<Vec<ValidPackage>, FulfillmentError> {
    let mut v = Violations::new();
    let mut packages = Vec::new();
    match input.packages.as_deref() {
        None | Some([]) => v.add("packages", "a shipment needs at least one package"),
        Some(given) if given.len() > MAX_PACKAGES => v.add("packages", format!("at most {MAX_PACKAGES} packages")),
        Some(given) => {
            for (i, p) in given.iter().enumerate() {
                let at = |f: &str| format!("packages[{i}].{f}");
                let weight =
                    v.check(p.weight_kg.as_ref().map(|w: &AmountInput| w.parse(&at("weight_kg"), false)).transpose());
                if weight.flatten().is_some_and(|w| w <= Decimal::ZERO || w > Decimal::from(10_000)) {
                    v.add(at("weight_kg"), "must be more than 0 and at most 10000");
                }
                let mut dims = [None; 3];
                for (d, (name, value)) in
                    [("length_cm", p.length_cm), ("width_cm", p.width_cm), ("height_cm", p.height_cm)]
                        .iter()
                        .enumerate()
                {
                    match value {
                        Some(n) if !(1..=1000).contains(n) => v.add(at(name), "must be between 1 and 1000"),
                        _ => dims[d] = *value,
                    }
                }
                let mut lines = Vec::new();
                match p.lines.as_deref() {
                    None | Some([]) => v.add(at("lines"), "a package holds at least one line"),
                    Some(given) => {
                        for (j, l) in given.iter().enumerate() {
                            let sku = l.sku.as_deref().map(str::trim).filter(|s| !s.is_empty());
                            match (sku, l.quantity) {
                                (None, _) => v.add(format!("packages[{i}].lines[{j}].sku"), "is required"),
                                (_, None) => v.add(format!("packages[{i}].lines[{j}].quantity"), "is required"),
                                (_, Some(q)) if q <= 0 => {
                                    v.add(format!("packages[{i}].lines[{j}].quantity"), "must be at least 1")
                                }
                                (Some(sku), Some(q)) => lines.push((sku.to_string(), q)),
                            }
                        }
                    }
                }
                packages.push(ValidPackage { weight_kg: weight.flatten(), dims, lines });
            }
        }
    }
    v.into_result()?;
    Ok(packages)
}

/// Whether the order may leave now as far as money goes.
fn payment_allows(tx: &mut dyn Tx, order: &Order) -> Result<Option<String>, FulfillmentError> {
    if order.payment_terms != "prepaid" {
        return Ok(None);
    }
    let methods = crate::payments::payment_settings(tx)?.methods;
    let kind = order.payment_method.as_deref().and_then(|m| methods.iter().find(|x| x.code == m)).map(|m| m.kind);
    if matches!(kind, Some(MethodKind::Cod | MethodKind::Terms)) {
        return Ok(None);
    }
    let a = &order.amounts;
    if a.due <= Decimal::ZERO || a.authorized >= a.due {
        return Ok(None);
    }
    Ok(Some(format!("{} is prepaid and {} {} is still due", order.number, a.due, order.currency)))
}

pub fn create_shipment(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    input: &NewShipment,
) -> Result<Shipment, FulfillmentError> {
    let packages = validate_packages(input)?;
    let tracking_number = optional_text("tracking_number", input.tracking_number.as_deref(), 64)
        .map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let code = input
        .warehouse
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("warehouse", "is required"))?;
    let warehouse =
        stock::warehouse_by_code(tx, code)?.ok_or_else(|| FulfillmentError::WarehouseNotFound(code.into()))?;
    orders::lock_order(tx, order_id, None).map_err(|e| match e {
        OrderError::NotFound(id) => FulfillmentError::OrderNotFound(id),
        other => other.into(),
    })?;
    let order = order_or_404(tx, order_id)?;
    order.status.check(OrderAction::Ship)?;
    let settings = super::fulfillment_settings(tx)?;
    if settings.require_payment_before_shipping
        && let Some(why) = payment_allows(tx, &order)?
    {
        return Err(FulfillmentError::Conflict(why));
    }
    let products = super::sourcing::order_products(tx, order_id)?;
    // What each SKU may still ship from this warehouse: its reserved, unshipped units.
    let mut open: HashMap<String, i64> = HashMap::new();
    for l in order.lines.iter().filter(|l| l.warehouse == warehouse.code) {
        *open.entry(l.sku.clone()).or_default() += l.reserved_quantity();
    }
    let mut wanted: HashMap<String, i64> = HashMap::new();
    let mut v = Violations::new();
    for (i, p) in packages.iter().enumerate() {
        for (j, (sku, q)) in p.lines.iter().enumerate() {
            let Some(sku_on_order) =
                order.lines.iter().find(|l| l.sku.eq_ignore_ascii_case(sku)).map(|l| l.sku.clone())
            else {
                v.add(format!("packages[{i}].lines[{j}].sku"), format!("{sku} is not on {}", order.number));
                continue;
            };
            *wanted.entry(sku_on_order).or_default() += q;
        }
    }
    v.into_result()?;
    let mut too_many = Vec::new();
    for (sku, q) in &wanted {
        let free = open.get(sku).copied().unwrap_or(0);
        if *q > free {
            too_many.push(format!("{sku}: {q} asked, {free} reserved in {} and not shipped", warehouse.code));
        }
    }
    if !too_many.is_empty() {
        return Err(FulfillmentError::Conflict(format!("cannot ship more than is reserved: {}", too_many.join("; "))));
    }
    let parcels: Vec<Parcel> = packages
        .iter()
        .map(|p| {
            let weight = p.weight_kg.unwrap_or_else(|| {
                p.lines
                    .iter()
                    .map(|(sku, q)| products.get(sku).map_or(Decimal::ZERO, |x| x.weight_kg) * Decimal::from(*q))
                    .sum()
            });
            let volume = match p.dims {
                [Some(l), Some(w), Some(h)] => Some(Decimal::from(l * w * h)),
                _ => None,
            };
            Parcel { weight_kg: weight, volume_cm3: volume }
        })
        .collect();
    let mut tags: Vec<String> =
        wanted.keys().flat_map(|sku| products.get(sku).map(|p| p.tags.clone()).unwrap_or_default()).collect();
    tags.sort();
    tags.dedup();
    let carrier = input.carrier.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let service = input.service.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let named = named_service(&order);
    let pickup = carrier == Some(PICKUP) || (carrier.is_none() && named.as_ref().is_some_and(|(c, _)| c == PICKUP));
    let today = Date::of(ctx.now);
    let (carrier_code, service_code, cost, currency, estimated) = if pickup {
        if !pickup_point(tx, warehouse.id)? {
            return Err(invalid("carrier", format!("{} is not a pickup point", warehouse.code)));
        }
        (PICKUP.to_string(), PICKUP.to_string(), Decimal::ZERO, order.currency.code().to_string(), today)
    } else {
        let terms = load_terms(tx)?;
        let c = consignment(&order, warehouse.region.clone(), parcels.clone(), tags, ctx.now);
        let quotes = domain::rate_shop(&terms.services, &terms.bands, &c);
        let quote = match carrier {
            Some(carrier) => {
                let candidates: Vec<&Quote> =
                    quotes.iter().filter(|q| q.carrier == carrier && service.is_none_or(|s| q.service == s)).collect();
                if candidates.is_empty() {
                    let field = if service.is_some() && quotes.iter().any(|q| q.carrier == carrier) {
                        "service"
                    } else {
                        "carrier"
                    };
                    return Err(invalid(
                        field,
                        format!(
                            "no active carrier service {}{}",
                            carrier,
                            service.map(|s| format!("/{s}")).unwrap_or_default()
                        ),
                    ));
                }
                match candidates.iter().filter(|q| q.eligible).min_by_key(|q| q.price) {
                    Some(q) => (*q).clone(),
                    None => {
                        let why = candidates[0].reason.clone().unwrap_or_default();
                        return Err(invalid(
                            if service.is_some() { "service" } else { "carrier" },
                            format!("{carrier} cannot take this shipment: {why}"),
                        ));
                    }
                }
            }
            None => domain::choose(
                &quotes,
                settings.carrier_policy,
                named.as_ref().map(|(c, s)| (c.as_str(), s.as_deref())),
            )
            .cloned()
            .ok_or_else(|| {
                let reasons: Vec<String> = quotes
                    .iter()
                    .map(|q| format!("{}/{}: {}", q.carrier, q.service, q.reason.clone().unwrap_or_default()))
                    .collect();
                invalid(
                    "carrier",
                    if reasons.is_empty() {
                        "no carrier is configured".to_string()
                    } else {
                        format!("no carrier can take this shipment ({})", reasons.join("; "))
                    },
                )
            })?,
        };
        let currency = terms.currency_of(&quote.carrier).unwrap_or_else(|| order.currency.code().to_string());
        (
            quote.carrier.clone(),
            quote.service.clone(),
            quote.price.unwrap_or_default(),
            currency,
            quote.estimated_delivery,
        )
    };
    let pickup_code = if pickup { Some(pickup_code()?) } else { None };
    let number = format!("SH-{:06}", orders::store::next_sequence(tx, "shipment")?);
    let total_weight: Decimal = parcels.iter().map(|p| p.weight_kg).sum();
    let status = if pickup { TrackingStatus::ReadyForPickup } else { TrackingStatus::LabelCreated };
    let currency = Currency::parse(&currency).unwrap_or(order.currency);
    let id = tx.insert(
        "INSERT INTO shipments (number, order_id, warehouse_id, carrier, service, tracking_number, status, cost_e4, currency, \
         weight_kg_e4, pickup_code, estimated_delivery, promised_date, shipped_at, created_by, version, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
        params![
            number.as_str(), order_id, warehouse.id, carrier_code.as_str(), service_code.as_str(), tracking_number.clone(),
            status.as_str(), to_e4(currency.round(cost)), currency.code(), to_e4(total_weight), pickup_code.clone(),
            estimated.to_string(), order.requested_delivery_date.clone(), ctx.now.micros(), ctx.actor.as_str(), ctx.now.micros()
        ],
    )?;
    // Units leave on-hand and the reservation together; the lines record what shipped.
    let sources = orders::store::line_sources(tx, order_id)?;
    let mut by_product: HashMap<i64, i64> = HashMap::new();
    for (package_no, (p, parcel)) in packages.iter().zip(&parcels).enumerate() {
        let package_no = package_no as i64 + 1;
        tx.execute(
            "INSERT INTO shipment_packages (shipment_id, package_no, weight_kg_e4, length_cm, width_cm, height_cm) VALUES (?, ?, ?, ?, ?, ?)",
            params![id, package_no, to_e4(parcel.weight_kg), p.dims[0], p.dims[1], p.dims[2]],
        )?;
        for (sku, q) in &p.lines {
            let mut left = *q;
            for line in order.lines.iter().filter(|l| l.sku.eq_ignore_ascii_case(sku) && l.warehouse == warehouse.code)
            {
                let already: i64 = tx
                    .query_one(
                        "SELECT shipped, quantity - backordered FROM order_lines WHERE order_id = ? AND line_no = ?",
                        params![order_id, line.line_no],
                    )?
                    .int(0)?;
                let room = line.quantity - line.backordered_quantity - already;
                let take = left.min(room);
                if take <= 0 {
                    continue;
                }
                let product_id = sources.iter().find(|(no, _, _)| *no == line.line_no).map(|s| s.1).unwrap_or_default();
                tx.execute(
                    "UPDATE order_lines SET shipped = shipped + ?, picked = CASE WHEN picked < shipped + ? THEN shipped + ? ELSE picked END \
                     WHERE order_id = ? AND line_no = ?",
                    params![take, take, take, order_id, line.line_no],
                )?;
                tx.execute(
                    "INSERT INTO shipment_lines (shipment_id, package_no, line_no, product_id, sku, quantity) VALUES (?, ?, ?, ?, ?, ?)",
                    params![id, package_no, line.line_no, product_id, line.sku.as_str(), take],
                )?;
                *by_product.entry(product_id).or_default() += take;
                left -= take;
            }
        }
    }
    let mut movements = Vec::new();
    let mut product_ids: Vec<i64> = by_product.keys().copied().collect();
    product_ids.sort_unstable();
    for product_id in product_ids {
        let q = by_product[&product_id];
        let moved = tx.execute(
            "UPDATE stock_levels SET on_hand = on_hand - ?, reserved = reserved - ?, updated_at = ? \
             WHERE product_id = ? AND warehouse_id = ? AND reserved >= ? AND on_hand >= ?",
            params![q, q, ctx.now.micros(), product_id, warehouse.id, q, q],
        )?;
        if moved != 1 {
            return Err(DbError::Other(format!(
                "the reservation of product {product_id} in {} is missing",
                warehouse.code
            ))
            .into());
        }
        movements.push(NewMovement {
            product_id,
            warehouse_id: warehouse.id,
            kind: MovementKind::Shipment,
            on_hand_delta: -q,
            reserved_delta: -q,
            reason: Some("shipped"),
            reference: Some(&number),
        });
    }
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    tx.execute(
        "INSERT INTO tracking_events (shipment_id, status, raw_status, at, source, actor, recorded_at) VALUES (?, ?, ?, ?, 'system', ?, ?)",
        params![id, status.as_str(), status.as_str(), ctx.now.micros(), ctx.actor.as_str(), ctx.now.micros()],
    )?;
    // The order follows its lines: everything out → shipped, else partially shipped.
    let remaining: i64 = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(quantity - shipped), 0) AS BIGINT) FROM order_lines WHERE order_id = ?",
            params![order_id],
        )?
        .int(0)?;
    let (next, fulfillment) = if remaining == 0 {
        (OrderStatus::Shipped, FulfillmentStatus::Fulfilled)
    } else {
        (OrderStatus::PartiallyShipped, FulfillmentStatus::PartiallyFulfilled)
    };
    let next = order.status.to(OrderAction::Ship, next)?;
    tx.execute(
        "UPDATE orders SET status = ?, fulfillment_status = ?, version = version + 1, updated_at = ?, \
         shipped_at = COALESCE(shipped_at, ?), shipped_complete = COALESCE(shipped_complete, ?) WHERE id = ?",
        params![next.as_str(), fulfillment.as_str(), ctx.now.micros(), ctx.now.micros(), remaining == 0, order_id],
    )?;
    let details = json!({"shipment": number, "warehouse": warehouse.code, "carrier": carrier_code, "service": service_code,
        "tracking_number": tracking_number, "from": order.status, "to": next,
        "lines": wanted.iter().map(|(sku, q)| json!({"sku": sku, "quantity": q})).collect::<Vec<_>>()});
    orders::store::append_event(tx, order_id, &ctx.actor, "shipped", &details, ctx.now)?;
    crate::events::record(
        tx,
        "shipment.shipped",
        ("shipment", id),
        &json!({"shipment": number, "order_id": order_id, "order": order.number,
        "carrier": carrier_code, "service": service_code, "tracking_number": tracking_number, "order_status": next}),
        ctx.now,
    )?;
    capture_authorised(tx, ctx, order_id)?;
    get_shipment(tx, id)
}

/// Payments authorised at the provider are captured when the goods leave.
fn capture_authorised(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64) -> Result<(), FulfillmentError> {
    let authorised: Vec<i64> = tx
        .query("SELECT id FROM payments WHERE order_id = ? AND status = 'authorized' ORDER BY id", params![order_id])?
        .iter()
        .map(|r| r.int(0))
        .collect::<Result<_, _>>()?;
    for id in authorised {
        crate::payments::capture_payment(tx, ctx, id).map_err(|e| match e {
            crate::payments::PaymentError::Db(e) => FulfillmentError::Db(e),
            other => FulfillmentError::Conflict(format!("capturing payment {id} at shipment: {other}")),
        })?;
    }
    Ok(())
}

fn pickup_code() -> Result<String, DbError> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).map_err(|e| DbError::Other(format!("no randomness: {e}")))?;
    Ok(format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000))
}

const SHIPMENT_COLUMNS: &str = "s.id, s.number, s.order_id, o.number, c.name, w.code, s.carrier, s.service, s.tracking_number, \
    s.status, s.cost_e4, s.currency, s.weight_kg_e4, s.pickup_code, s.estimated_delivery, s.promised_date, s.shipped_at, \
    s.delivered_at, s.created_by, s.version, cr.name, cr.tracking_url_template";
const SHIPMENT_FROM: &str = "shipments s JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id \
    JOIN warehouses w ON w.id = s.warehouse_id LEFT JOIN carriers cr ON cr.code = s.carrier";

fn shipment_row(r: &Row) -> Result<Shipment, DbError> {
    let currency = Currency::parse(&r.text(11)?).unwrap_or(Currency::CNY);
    let carrier = r.text(6)?;
    let tracking_number = r.opt_text(8)?;
    let template = r.opt_text(21)?;
    Ok(Shipment {
        id: r.int(0)?,
        number: r.text(1)?,
        order_id: r.int(2)?,
        order_number: r.text(3)?,
        customer_name: r.text(4)?,
        warehouse: r.text(5)?,
        carrier_name: r
            .opt_text(20)?
            .unwrap_or_else(|| if carrier == PICKUP { "Self-pickup 自提".into() } else { carrier.clone() }),
        carrier,
        service: r.text(7)?,
        tracking_url: domain::tracking_url(template.as_deref(), tracking_number.as_deref()),
        tracking_number,
        status: TrackingStatus::parse(&r.text(9)?).ok_or_else(|| DbError::Decode("unknown shipment status".into()))?,
        cost: ordo_domain::money::from_e4_in(r.int(10)?, currency),
        currency: currency.code().to_string(),
        weight_kg: from_e4(r.int(12)?).normalize(),
        pickup_code: r.opt_text(13)?,
        estimated_delivery: r.opt_text(14)?,
        promised_date: r.opt_text(15)?,
        shipped_at: Timestamp(r.int(16)?),
        delivered_at: r.opt_int(17)?.map(Timestamp),
        created_by: r.text(18)?,
        version: r.int(19)?,
        packages: Vec::new(),
        tracking: Vec::new(),
        claims: Vec::new(),
    })
}

fn attach(tx: &mut dyn Tx, shipments: &mut [Shipment]) -> Result<(), DbError> {
    if shipments.is_empty() {
        return Ok(());
    }
    let ids: Vec<Value> = shipments.iter().map(|s| s.id.into()).collect();
    let marks = vec!["?"; ids.len()].join(", ");
    for r in tx.query(
        &format!("SELECT shipment_id, package_no, weight_kg_e4, length_cm, width_cm, height_cm FROM shipment_packages WHERE shipment_id IN ({marks}) ORDER BY shipment_id, package_no"),
        &ids,
    )? {
        if let Some(s) = shipments.iter_mut().find(|s| s.id == r.int(0).unwrap_or_default()) {
            s.packages.push(Package {
                package_no: r.int(1)?,
                weight_kg: from_e4(r.int(2)?).normalize(),
                length_cm: r.opt_int(3)?,
                width_cm: r.opt_int(4)?,
                height_cm: r.opt_int(5)?,
                lines: Vec::new(),
            });
        }
    }
    for r in tx.query(
        &format!("SELECT shipment_id, package_no, sku, quantity FROM shipment_lines WHERE shipment_id IN ({marks}) ORDER BY shipment_id, package_no, line_no"),
        &ids,
    )? {
        let (sid, no) = (r.int(0)?, r.int(1)?);
        if let Some(p) = shipments.iter_mut().find(|s| s.id == sid).and_then(|s| s.packages.iter_mut().find(|p| p.package_no == no)) {
            p.lines.push(PackageLine { sku: r.text(2)?, quantity: r.int(3)? });
        }
    }
    for r in tx.query(
        &format!("SELECT shipment_id, status, raw_status, at, location, detail, source FROM tracking_events WHERE shipment_id IN ({marks}) ORDER BY shipment_id, at, id"),
        &ids,
    )? {
        let sid = r.int(0)?;
        if let Some(s) = shipments.iter_mut().find(|s| s.id == sid) {
            s.tracking.push(TrackingEvent {
                status: TrackingStatus::parse(&r.text(1)?).unwrap_or(TrackingStatus::InTransit),
                raw_status: r.text(2)?,
                at: Timestamp(r.int(3)?),
                location: r.opt_text(4)?,
                detail: r.opt_text(5)?,
                source: r.text(6)?,
            });
        }
    }
    let claims = super::tracking::claims_where(tx, &format!("cl.shipment_id IN ({marks})"), &ids)?;
    for claim in claims {
        if let Some(s) = shipments.iter_mut().find(|s| s.id == claim.shipment_id) {
            s.claims.push(claim);
        }
    }
    Ok(())
}

pub fn get_shipment(tx: &mut dyn Tx, id: i64) -> Result<Shipment, FulfillmentError> {
    let row = tx
        .query_opt(&format!("SELECT {SHIPMENT_COLUMNS} FROM {SHIPMENT_FROM} WHERE s.id = ?"), params![id])?
        .ok_or(FulfillmentError::ShipmentNotFound(id))?;
    let mut shipments = vec![shipment_row(&row)?];
    attach(tx, &mut shipments)?;
    Ok(shipments.remove(0))
}

pub fn list_shipments(tx: &mut dyn Tx, query: &ShipmentQuery) -> Result<ShipmentList, FulfillmentError> {
    let mut filter = Filter::new();
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        let status = TrackingStatus::parse(status)
            .ok_or_else(|| invalid("status", format!("must be one of {}", TrackingStatus::choices())))?;
        filter.when("s.status = ?", Some(vec![status.as_str()]));
    }
    filter.when("s.order_id = ?", query.order_id.map(|id| vec![id]));
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let mut items: Vec<Shipment> = tx
        .query(
            &format!("SELECT {SHIPMENT_COLUMNS} FROM {SHIPMENT_FROM}{} ORDER BY s.id DESC LIMIT {limit}", filter.sql()),
            &filter.params,
        )?
        .iter()
        .map(shipment_row)
        .collect::<Result<_, _>>()?;
    attach(tx, &mut items)?;
    Ok(ShipmentList { items })
}

pub fn order_shipments(tx: &mut dyn Tx, order_id: i64) -> Result<ShipmentList, FulfillmentError> {
    orders::store::header_by_id(tx, order_id)?.ok_or(FulfillmentError::OrderNotFound(order_id))?;
    let mut list = list_shipments(tx, &ShipmentQuery { order_id: Some(order_id), ..Default::default() })?;
    list.items.reverse();
    Ok(list)
}
