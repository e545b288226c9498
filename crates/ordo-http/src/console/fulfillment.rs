//! Fulfillment in the console: the warehouse work queue with logistics KPIs, pick lists
//! (printable, confirmed by typed quantities or scans), shipping from the order page,
//! shipment detail with its tracking timeline and packing slip, and the carriers editor.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use ordo_app::fulfillment::{
    self, Carrier, ConfirmPicks, DeliveredInput, LogisticsReport, NewCarrier, NewCarrierService, NewPickList, NewRate,
    NewShipment, PackageInput, PackageLineInput, PickList, PickedLine, RateTable, RateTableInput, Shipment,
    TrackingUpdate, WorkQueue,
};
use ordo_app::inventory::{self, Warehouse};
use ordo_app::orders::Order;
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use ordo_domain::{FieldError, Invalid, Timestamp};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fulfillment", get(queue_page))
        .route("/fulfillment/pick-lists", post(create_pick_list))
        .route("/pick-lists/{id}", get(pick_list_page).post(confirm_pick_list))
        .route("/orders/{id}/ship", post(ship))
        .route("/shipments/{id}", get(shipment_page).post(shipment_action))
        .route("/shipments/{id}/packing-slip", get(packing_slip))
        .route("/shipments/{id}/invoice", post(invoice_shipment))
        .route("/carriers", get(carriers_page).post(create_carrier))
        .route("/carriers/{id}", get(carrier_page).post(set_rates))
}

use super::form_fields as fields;

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    super::form_field(fields, name).map(str::to_string)
}

#[derive(Template)]
#[template(path = "fulfillment.html")]
struct QueuePage {
    page: Frame,
    queue: WorkQueue,
    warehouses: Vec<Warehouse>,
    warehouse: String,
    kpis: LogisticsReport,
    may_pick: bool,
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    warehouse: Option<String>,
}

async fn queue_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Response {
    let warehouse = q.warehouse.unwrap_or_default();
    let code = warehouse.clone();
    let loaded = state
        .db
        .read(move |tx| {
            let today = Date::of(Timestamp::now());
            let queue = fulfillment::work_queue(tx, Some(code.as_str()).filter(|c| !c.is_empty()))?;
            let kpis = fulfillment::logistics_report(tx, today.plus_days(-30), today)?;
            let warehouses =
                inventory::list_warehouses(tx).map_err(|e| fulfillment::FulfillmentError::Conflict(e.to_string()))?;
            Ok::<_, fulfillment::FulfillmentError>((queue, kpis, warehouses))
        })
        .await;
    match loaded {
        Ok((queue, kpis, warehouses)) => {
            let may_pick = staff.may(Permission::FulfillmentShip);
            show(
                &QueuePage { page: Frame::new(&staff, "fulfillment"), queue, warehouses, warehouse, kpis, may_pick },
                &staff,
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn create_pick_list(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::FulfillmentShip) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let input = NewPickList {
        warehouse: field(&f, "warehouse"),
        order_ids: None,
        limit: field(&f, "limit").and_then(|l| l.parse().ok()),
    };
    match state.db.write(move |tx| fulfillment::create_pick_list(tx, &ctx, &input)).await {
        Ok(list) => redirect_with_flash(&format!("/pick-lists/{}", list.id), &list.number, &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "pick_list.html")]
struct PickListPage {
    page: Frame,
    list: PickList,
    may_pick: bool,
}

async fn pick_list_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| fulfillment::get_pick_list(tx, id)).await {
        Ok(list) => {
            let may_pick = staff.may(Permission::FulfillmentShip) && list.status == "open";
            show(&PickListPage { page: Frame::new(&staff, "fulfillment"), list, may_pick }, &staff, &headers)
        }
        Err(fulfillment::FulfillmentError::PickListNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Typed quantities (`picked_<line id>`) or scans (one barcode per line of the text box).
async fn confirm_pick_list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FulfillmentShip) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let scans: Vec<String> = field(&f, "scans")
        .map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let mut lines = Vec::new();
    for (key, value) in &f {
        if let Some(line) = key.strip_prefix("picked_").and_then(|l| l.parse::<i64>().ok()) {
            lines.push(PickedLine { id: Some(line), picked: value.trim().parse().ok() });
        }
    }
    let input = ConfirmPicks {
        lines: if scans.is_empty() { Some(lines) } else { None },
        scans: (!scans.is_empty()).then_some(scans),
        short_handling: field(&f, "short_handling"),
    };
    match state.db.write(move |tx| fulfillment::confirm_pick_list(tx, &ctx, id, &input)).await {
        Ok(list) => redirect_with_flash(
            &format!("/pick-lists/{id}"),
            &staff.i18n.tf("picking.confirmed_flash", &[("number", &list.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Ships everything still reserved in one warehouse, in one package: the common case at a
/// packing bench. Several packages or part quantities go through the API.
async fn ship(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FulfillmentShip) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let warehouse = field(&f, "warehouse");
    let (carrier, service) = match field(&f, "service").as_deref().map(|s| {
        s.split_once('/').map(|(c, s)| (c.to_string(), s.to_string())).unwrap_or((s.to_string(), s.to_string()))
    }) {
        Some((c, s)) => (Some(c), Some(s)),
        None => (None, None),
    };
    let tracking_number = field(&f, "tracking_number");
    let weight = field(&f, "weight_kg");
    let result = state
        .db
        .write(move |tx| {
            let order = ordo_app::orders::get_order(tx, id)?;
            let lines: Vec<PackageLineInput> = order
                .lines
                .iter()
                .filter(|l| Some(&l.warehouse) == warehouse.as_ref() && l.reserved_quantity() > 0)
                .map(|l| PackageLineInput { sku: Some(l.sku.clone()), quantity: Some(l.reserved_quantity()) })
                .collect();
            let input = NewShipment {
                warehouse: warehouse.clone(),
                carrier: carrier.clone(),
                service: service.clone(),
                tracking_number: tracking_number.clone(),
                packages: Some(vec![PackageInput {
                    weight_kg: weight.clone().map(ordo_app::common::AmountInput),
                    lines: Some(lines),
                    ..Default::default()
                }]),
            };
            fulfillment::create_shipment(tx, &ctx, id, &input)
        })
        .await;
    match result {
        Ok(shipment) => redirect_with_flash(
            &format!("/shipments/{}", shipment.id),
            &staff.i18n.tf("shipments.shipped_flash", &[("number", &shipment.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "shipment.html")]
struct ShipmentPage {
    page: Frame,
    shipment: Shipment,
    may_track: bool,
    /// The invoice for this shipment: (id, number).
    invoice: Option<(i64, String)>,
    may_invoice: bool,
}

async fn shipment_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let loaded = state
        .db
        .read(move |tx| {
            let shipment = fulfillment::get_shipment(tx, id)?;
            let invoice = ordo_app::payments::shipment_invoice(tx, id)
                .map_err(|e| fulfillment::FulfillmentError::Conflict(e.to_string()))?;
            Ok::<_, fulfillment::FulfillmentError>((shipment, invoice))
        })
        .await;
    match loaded {
        Ok((shipment, invoice)) => {
            let page = ShipmentPage {
                page: Frame::new(&staff, "fulfillment"),
                shipment,
                may_track: staff.may(Permission::FulfillmentTrack),
                invoice,
                may_invoice: staff.may(Permission::InvoicesIssue),
            };
            show(&page, &staff, &headers)
        }
        Err(fulfillment::FulfillmentError::ShipmentNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Invoices what the shipment carried (invoicing on delivery).
async fn invoice_shipment(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let ctx = match staff.require(Permission::InvoicesIssue) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let issued = state
        .db
        .write(move |tx| {
            let shipment = fulfillment::get_shipment(tx, id).map_err(|e| match e {
                fulfillment::FulfillmentError::ShipmentNotFound(id) => ordo_app::payments::PaymentError::NotFound(id),
                other => ordo_app::payments::PaymentError::Conflict(other.to_string()),
            })?;
            let input = ordo_app::payments::NewInvoice { lines: None, shipment_id: Some(id) };
            ordo_app::payments::issue_invoice(tx, &ctx, shipment.order_id, &input)
        })
        .await;
    match issued {
        Ok(invoice) => redirect_with_flash(
            &format!("/shipments/{id}"),
            &staff.i18n.tf("shipments.invoiced_flash", &[("number", &invoice.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// A tracking update typed in, or a delivery (with the pickup code for self-pickup).
async fn shipment_action(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FulfillmentTrack) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let result = if field(&f, "action").as_deref() == Some("delivered") {
        let input = DeliveredInput { at: None, pickup_code: field(&f, "pickup_code") };
        state.db.write(move |tx| fulfillment::mark_delivered(tx, &ctx, id, &input)).await
    } else {
        let input = TrackingUpdate {
            tracking_number: None,
            status: field(&f, "status"),
            at: None,
            location: field(&f, "location"),
            detail: field(&f, "detail"),
        };
        state.db.write(move |tx| fulfillment::add_tracking(tx, &ctx, id, &input)).await
    };
    match result {
        Ok(shipment) => redirect_with_flash(
            &format!("/shipments/{id}"),
            &staff.i18n.tf("shipments.updated_flash", &[("number", &shipment.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "packing_slip.html")]
struct PackingSlip {
    i18n: super::i18n::I18n,
    shipment: Shipment,
    order: Order,
}

async fn packing_slip(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let loaded = state
        .db
        .read(move |tx| {
            let shipment = fulfillment::get_shipment(tx, id)?;
            let order = ordo_app::orders::get_order(tx, shipment.order_id)?;
            Ok::<_, fulfillment::FulfillmentError>((shipment, order))
        })
        .await;
    match loaded {
        Ok((shipment, order)) => render(&PackingSlip { i18n: staff.i18n, shipment, order }),
        Err(_) => not_found(&staff),
    }
}

#[derive(Template)]
#[template(path = "carriers.html")]
struct CarriersPage {
    page: Frame,
    carriers: Vec<Carrier>,
    may_manage: bool,
}

async fn carriers_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    match state.db.read(|tx| fulfillment::list_carriers(tx)).await {
        Ok(list) => {
            let may_manage = staff.may(Permission::CarriersManage);
            show(
                &CarriersPage { page: Frame::new(&staff, "carriers"), carriers: list.items, may_manage },
                &staff,
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// Services as typed, one per line: `code, name, transit days`.
fn services(text: &str) -> Result<Vec<NewCarrierService>, Invalid> {
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let parts: Vec<&str> = line.split([',', '，']).map(str::trim).collect();
        let days = parts.get(2).and_then(|d| d.parse().ok());
        if parts.len() != 3 || days.is_none() {
            return Err(Invalid(vec![FieldError::new(
                format!("services[{i}]"),
                "write each service as: code, name, transit days",
            )]));
        }
        out.push(NewCarrierService { code: Some(parts[0].into()), name: Some(parts[1].into()), transit_days: days });
    }
    Ok(out)
}

async fn create_carrier(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::CarriersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let services = match services(&field(&f, "services").unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => return failed(&staff, e.into()),
    };
    let list = |name: &str| {
        field(&f, name).map(|t| {
            t.split([',', '，']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect::<Vec<_>>()
        })
    };
    let input = NewCarrier {
        code: field(&f, "code"),
        name: field(&f, "name"),
        tracking_url_template: field(&f, "tracking_url_template"),
        services: Some(services),
        max_weight_kg: field(&f, "max_weight_kg").map(ordo_app::common::AmountInput),
        regions: list("regions"),
        refuses_tags: list("refuses_tags"),
        volumetric_divisor: field(&f, "volumetric_divisor").and_then(|d| d.parse().ok()),
        surcharges: None,
        active: Some(true),
    };
    match state.db.write(move |tx| fulfillment::create_carrier(tx, &ctx, &input)).await {
        Ok(carrier) => redirect_with_flash(&format!("/carriers/{}", carrier.id), &carrier.name, &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "carrier.html")]
struct CarrierPage {
    page: Frame,
    carrier: Carrier,
    rates: RateTable,
    rates_csv: String,
    may_manage: bool,
}

async fn carrier_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state
        .db
        .read(move |tx| {
            Ok::<_, fulfillment::FulfillmentError>((fulfillment::get_carrier(tx, id)?, fulfillment::get_rates(tx, id)?))
        })
        .await
    {
        Ok((carrier, rates)) => {
            let rates_csv = rates
                .rates
                .iter()
                .map(|r| {
                    format!(
                        "{},{},{},{},{},{}",
                        r.service,
                        r.region,
                        r.max_weight_kg,
                        r.price,
                        r.currency,
                        r.from_region.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let may_manage = staff.may(Permission::CarriersManage);
            show(
                &CarrierPage { page: Frame::new(&staff, "carriers"), carrier, rates, rates_csv, may_manage },
                &staff,
                &headers,
            )
        }
        Err(fulfillment::FulfillmentError::CarrierNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// The rate table as CSV: `service,region,max_weight_kg,price,currency[,from_region]`.
async fn set_rates(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::CarriersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let text = field(&fields(&body), "rates").unwrap_or_default();
    let rates: Vec<NewRate> = ordo_domain::csv::parse(&text)
        .into_iter()
        .filter(|row| row.iter().any(|c| !c.trim().is_empty()) && !row[0].trim().eq_ignore_ascii_case("service"))
        .map(|row| {
            let cell = |i: usize| row.get(i).map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
            NewRate {
                service: cell(0),
                region: cell(1),
                max_weight_kg: cell(2).map(ordo_app::common::AmountInput),
                price: cell(3).map(ordo_app::common::AmountInput),
                currency: cell(4),
                from_region: cell(5),
            }
        })
        .collect();
    let input = RateTableInput { rates: Some(rates) };
    match state.db.write(move |tx| fulfillment::set_rates(tx, &ctx, id, &input)).await {
        Ok(table) => redirect_with_flash(
            &format!("/carriers/{id}"),
            &staff.i18n.tf("carriers.rates_flash", &[("count", &table.rates.len().to_string())]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}
