//! Stocktaking, the inventory report and replenishment in the console: counts entered by
//! hand or from a CSV file, variances with value, posting (finance); stock value, days of
//! cover, slow movers and stock-outs with a CSV export; purchase suggestions turned into
//! purchase orders in one action.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ordo_app::PageRequest;
use ordo_app::inventory::counts::{self, CountedLine, CountedLines, NewCount, StockCount};
use ordo_app::inventory::report::{self, InventoryReport};
use ordo_app::inventory::supply::{self, OrderSuggestions, Suggestion, SuggestionRef};
use ordo_app::inventory::{self, Warehouse};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stock/counts", get(counts_page).post(start_count))
        .route("/stock/counts/{id}", get(count_page).post(enter_counts))
        .route("/stock/counts/{id}/post", post(post_count))
        .route("/stock/report", get(report_page))
        .route("/stock/report.csv", get(report_csv))
        .route("/replenishment", get(replenishment_page).post(order_suggestions))
        .route("/stock/transfers", get(transfers_page).post(transfer_action))
        .route("/purchase-orders", get(purchase_orders_page).post(purchase_action))
}

use super::{form_field as field, form_fields as fields};

#[derive(Template)]
#[template(path = "counts.html")]
struct CountsPage {
    page: Frame,
    counts: Vec<StockCount>,
    warehouses: Vec<Warehouse>,
    may_count: bool,
}

async fn counts_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let loaded = state
        .db
        .read(|tx| {
            let list = counts::list_counts(tx, PageRequest { limit: 50, before_id: None })?.items;
            Ok::<_, inventory::InventoryError>((list, inventory::list_warehouses(tx)?))
        })
        .await;
    match loaded {
        Ok((counts, warehouses)) => {
            let may_count = staff.may(Permission::StockAdjust);
            show(&CountsPage { page: Frame::new(&staff, "stock"), counts, warehouses, may_count }, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn start_count(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::StockAdjust) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = fields(&body);
    let input = NewCount {
        warehouse: field(&form, "warehouse").map(str::to_string),
        skus: field(&form, "skus")
            .map(|s| s.split([',', ' ', '\n']).filter(|x| !x.is_empty()).map(str::to_string).collect()),
        tag: field(&form, "tag").map(str::to_string),
        abc_class: field(&form, "abc_class").map(str::to_string),
    };
    match state.db.write(move |tx| counts::start_count(tx, &ctx, &input)).await {
        Ok(count) => redirect_with_flash(
            &format!("/stock/counts/{}", count.id),
            &staff.i18n.tf("counts.started_flash", &[("number", &count.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "count.html")]
struct CountPage {
    page: Frame,
    sheet: StockCount,
    may_count: bool,
    may_post: bool,
}

async fn count_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| counts::get_count(tx, id)).await {
        Ok(count) => {
            let open = count.status == "open";
            let page = CountPage {
                page: Frame::new(&staff, "stock"),
                may_count: open && staff.may(Permission::StockAdjust),
                may_post: open && staff.may(Permission::StockPostCounts),
                sheet: count,
            };
            show(&page, &staff, &headers)
        }
        Err(inventory::InventoryError::CountNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// `sku,counted` per line; a header row and blank lines are skipped, `;` and tabs work too.
fn parse_csv(text: &str) -> Result<Vec<CountedLine>, String> {
    let mut lines = Vec::new();
    for (n, row) in text.lines().enumerate() {
        let cells: Vec<&str> = row.split([',', ';', '\t']).map(|c| c.trim().trim_matches('"')).collect();
        let header = n == 0 && cells.first().is_some_and(|c| c.eq_ignore_ascii_case("sku"));
        if header || cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        match (cells.first(), cells.get(1).and_then(|c| c.parse::<i64>().ok())) {
            (Some(sku), Some(counted)) if !sku.is_empty() => {
                lines.push(CountedLine { sku: Some(sku.to_string()), counted: Some(counted) })
            }
            _ => return Err(format!("line {}: expected “SKU,counted”, got {row:?}", n + 1)),
        }
    }
    Ok(lines)
}

/// Counted quantities from the form's inputs (`counted:SKU`) and from a pasted or chosen CSV.
async fn enter_counts(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::StockAdjust) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let mut lines: Vec<CountedLine> = form
        .iter()
        .filter_map(|(k, v)| {
            let sku = k.strip_prefix("counted:")?;
            let value = v.trim();
            (!value.is_empty())
                .then(|| CountedLine { sku: Some(sku.to_string()), counted: Some(value.parse().unwrap_or(-1)) })
        })
        .collect();
    if let Some(csv) = field(&form, "csv") {
        match parse_csv(csv) {
            Ok(parsed) => lines.extend(parsed),
            Err(message) => return failed(&staff, ordo_domain::Invalid::field("csv", message).into()),
        }
    }
    let input = CountedLines { lines: Some(lines) };
    match state.db.write(move |tx| counts::enter_counts(tx, &ctx, id, &input)).await {
        Ok(count) => redirect_with_flash(
            &format!("/stock/counts/{id}"),
            &staff.i18n.tf("counts.saved_flash", &[("number", &count.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn post_count(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let ctx = match staff.require(Permission::StockPostCounts) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.write(move |tx| counts::post_count(tx, &ctx, id)).await {
        Ok(count) => redirect_with_flash(
            &format!("/stock/counts/{id}"),
            &staff.i18n.tf("counts.posted_flash", &[("number", &count.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    warehouse: Option<String>,
    /// Days back for sales, slow movers and stock-outs (1–365, default 30).
    days: Option<i64>,
}

#[derive(Template)]
#[template(path = "stock_report.html")]
struct ReportPage {
    page: Frame,
    report: InventoryReport,
    warehouses: Vec<Warehouse>,
    warehouse: String,
    days: i64,
}

async fn load_report(
    state: &AppState,
    query: &ReportQuery,
) -> Result<(InventoryReport, Vec<Warehouse>), inventory::InventoryError> {
    let (warehouse, days) = (query.warehouse.clone().filter(|w| !w.is_empty()), query.days.unwrap_or(30).clamp(1, 365));
    state
        .db
        .read(move |tx| {
            let report = report::inventory_report(tx, warehouse.as_deref(), days, ordo_domain::Timestamp::now())?;
            Ok((report, inventory::list_warehouses(tx)?))
        })
        .await
}

async fn report_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ReportQuery>,
) -> Response {
    match load_report(&state, &query).await {
        Ok((report, warehouses)) => {
            let page = ReportPage {
                page: Frame::new(&staff, "stock"),
                days: report.days,
                warehouse: query.warehouse.unwrap_or_default(),
                report,
                warehouses,
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// A cell that a spreadsheet will not run as a formula.
fn csv_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

async fn report_csv(State(state): State<AppState>, staff: Staff, Query(query): Query<ReportQuery>) -> Response {
    match load_report(&state, &query).await {
        Ok((report, _)) => {
            let mut out = String::from(
                "\u{feff}sku,warehouse,on_hand,reserved,available,unit_value,stock_value,currency,sold,days_of_cover,slow_mover,stock_outs\n",
            );
            for r in &report.rows {
                let cells = [
                    r.sku.clone(),
                    r.warehouse.clone(),
                    r.on_hand.to_string(),
                    r.reserved.to_string(),
                    r.available.to_string(),
                    r.unit_value.to_string(),
                    r.stock_value.to_string(),
                    r.currency.to_string(),
                    r.sold.to_string(),
                    r.days_of_cover.map(|d| d.to_string()).unwrap_or_default(),
                    r.slow_mover.to_string(),
                    r.stock_outs.to_string(),
                ];
                out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"inventory.csv\""),
                ],
                out,
            )
                .into_response()
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "replenishment.html")]
struct ReplenishmentPage {
    page: Frame,
    suggestions: Vec<Suggestion>,
    may_order: bool,
}

async fn replenishment_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let now = ordo_domain::Timestamp::now();
    match state.db.read(move |tx| supply::replenishment_suggestions(tx, None, now)).await {
        Ok(suggestions) => {
            let may_order = staff.may(Permission::PurchasingManage);
            show(
                &ReplenishmentPage { page: Frame::new(&staff, "stock"), suggestions: suggestions.items, may_order },
                &staff,
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// The ticked suggestions (`pick` = `SKU@WAREHOUSE`) become draft purchase orders.
async fn order_suggestions(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::PurchasingManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let items: Vec<SuggestionRef> = fields(&body)
        .into_iter()
        .filter(|(k, _)| k == "pick")
        .filter_map(|(_, v)| {
            let (sku, warehouse) = v.rsplit_once('@')?;
            Some(SuggestionRef { sku: Some(sku.to_string()), warehouse: Some(warehouse.to_string()) })
        })
        .collect();
    let input = OrderSuggestions { items: Some(items) };
    match state.db.write(move |tx| supply::order_suggestions(tx, &ctx, &input)).await {
        Ok(orders) => {
            let numbers: Vec<String> = orders.items.iter().map(|p| p.number.clone()).collect();
            redirect_with_flash(
                "/replenishment",
                &staff.i18n.tf("replenishment.ordered_flash", &[("numbers", &numbers.join(", "))]),
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn counts_are_read_from_csv_with_a_header_commas_semicolons_or_tabs() {
        let lines = parse_csv("SKU,counted\nTEA-1,18\n\nCUP-1;8\n\"BOWL-2\"\t0\n").unwrap();
        let read: Vec<(String, i64)> =
            lines.into_iter().map(|l| (l.sku.unwrap_or_default(), l.counted.unwrap_or_default())).collect();
        assert_eq!(read, [("TEA-1".into(), 18), ("CUP-1".into(), 8), ("BOWL-2".into(), 0)]);
        assert_eq!(parse_csv("TEA-1,eighteen").unwrap_err(), "line 1: expected “SKU,counted”, got \"TEA-1,eighteen\"");
    }
}

/// Lines typed one per row as `SKU quantity [unit cost]` (spaces, commas or tabs).
pub(super) fn typed_lines(text: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    text.lines()
        .map(|row| row.split([' ', ',', '\t', ';']).filter(|c| !c.is_empty()).collect::<Vec<_>>())
        .filter(|cells| !cells.is_empty())
        .map(|cells| {
            (cells[0].to_string(), cells.get(1).and_then(|q| q.parse().ok()), cells.get(2).map(|c| c.to_string()))
        })
        .collect()
}

#[derive(Template)]
#[template(path = "transfers.html")]
struct TransfersPage {
    page: Frame,
    transfers: Vec<inventory::Transfer>,
    warehouses: Vec<Warehouse>,
    may_move: bool,
}

async fn transfers_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let loaded = state
        .db
        .read(|tx| {
            let list =
                inventory::transfers::list_transfers(tx, None, PageRequest { limit: 50, before_id: None })?.items;
            Ok::<_, inventory::InventoryError>((list, inventory::list_warehouses(tx)?))
        })
        .await;
    match loaded {
        Ok((transfers, warehouses)) => {
            let may_move = staff.may(Permission::StockAdjust);
            show(
                &TransfersPage { page: Frame::new(&staff, "stock"), transfers, warehouses, may_move },
                &staff,
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// Creates a transfer, ships it, or receives it: `action` says which.
async fn transfer_action(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::StockAdjust) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = fields(&body);
    let id = field(&form, "id").and_then(|i| i.parse::<i64>().ok()).unwrap_or_default();
    let action = field(&form, "action").unwrap_or("create").to_string();
    let lines: Vec<inventory::TransferLineInput> = typed_lines(field(&form, "lines").unwrap_or(""))
        .into_iter()
        .map(|(sku, quantity, _)| inventory::TransferLineInput { sku: Some(sku), quantity })
        .collect();
    let input = inventory::NewTransfer {
        from_warehouse: field(&form, "from").map(str::to_string),
        to_warehouse: field(&form, "to").map(str::to_string),
        lines: Some(lines.clone()),
        note: None,
    };
    let receipt = inventory::ReceiveTransfer { lines: Some(lines), close: Some(field(&form, "close") == Some("on")) };
    let result = state
        .db
        .write(move |tx| match action.as_str() {
            "ship" => inventory::transfers::ship_transfer(tx, &ctx, id),
            "receive" => inventory::transfers::receive_transfer(tx, &ctx, id, &receipt),
            _ => inventory::transfers::create_transfer(tx, &ctx, &input),
        })
        .await;
    match result {
        Ok(transfer) => redirect_with_flash(
            "/stock/transfers",
            &staff
                .i18n
                .tf("transfers.saved_flash", &[("number", &transfer.number), ("status", transfer.status.as_str())]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "purchase_orders.html")]
struct PurchaseOrdersPage {
    page: Frame,
    orders: Vec<ordo_app::purchasing::PurchaseOrder>,
    suppliers: Vec<ordo_app::purchasing::Supplier>,
    warehouses: Vec<Warehouse>,
    may_buy: bool,
    /// May enter the supplier's bill for received goods.
    may_bill: bool,
}

impl PurchaseOrdersPage {
    /// Goods arrived that no bill charges for yet.
    fn billable(&self, order: &ordo_app::purchasing::PurchaseOrder) -> bool {
        order.lines.iter().any(|l| l.received > l.billed)
    }
}

async fn purchase_orders_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let loaded = state
        .db
        .read(|tx| {
            let orders =
                ordo_app::purchasing::list_purchase_orders(tx, None, PageRequest { limit: 50, before_id: None })?.items;
            let suppliers = ordo_app::purchasing::list_suppliers(tx)?.items;
            let warehouses = inventory::store::list_warehouses(tx)?;
            Ok::<_, ordo_app::purchasing::PurchasingError>((orders, suppliers, warehouses))
        })
        .await;
    match loaded {
        Ok((orders, suppliers, warehouses)) => {
            let may_buy = staff.may(Permission::PurchasingManage);
            let may_bill = staff.may(Permission::FinanceManage);
            let page = PurchaseOrdersPage {
                page: Frame::new(&staff, "stock"),
                orders,
                suppliers,
                warehouses,
                may_buy,
                may_bill,
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// Creates a purchase order, sends it, or receives goods: `action` says which.
async fn purchase_action(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    use ordo_app::purchasing::{self, NewPurchaseLine, NewPurchaseOrder, ReceivePurchase, ReceivedLine};
    let ctx = match staff.require(Permission::PurchasingManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = fields(&body);
    let id = field(&form, "id").and_then(|i| i.parse::<i64>().ok()).unwrap_or_default();
    let action = field(&form, "action").unwrap_or("create").to_string();
    let typed = typed_lines(field(&form, "lines").unwrap_or(""));
    let input = NewPurchaseOrder {
        supplier_id: field(&form, "supplier").and_then(|s| s.parse().ok()),
        warehouse: field(&form, "warehouse").map(str::to_string),
        expected_date: field(&form, "expected_date").map(str::to_string),
        lines: Some(
            typed
                .iter()
                .map(|(sku, quantity, cost)| NewPurchaseLine {
                    sku: Some(sku.clone()),
                    quantity: *quantity,
                    unit_cost: cost.clone().map(ordo_app::common::AmountInput),
                })
                .collect(),
        ),
    };
    let receipt = ReceivePurchase {
        lines: Some(
            typed
                .iter()
                .map(|(sku, quantity, _)| ReceivedLine { sku: Some(sku.clone()), quantity: *quantity })
                .collect(),
        ),
    };
    let result = state
        .db
        .write(move |tx| match action.as_str() {
            "send" => purchasing::send_purchase_order(tx, &ctx, id),
            "receive" => purchasing::receive_purchase_order(tx, &ctx, id, &receipt),
            _ => purchasing::create_purchase_order(tx, &ctx, &input),
        })
        .await;
    match result {
        Ok(po) => redirect_with_flash(
            "/purchase-orders",
            &staff.i18n.tf("purchasing.saved_flash", &[("number", &po.number), ("status", &po.status)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}
