//! Payables in the console: what is owed to suppliers (aging), their bills with the
//! three-way match, approving, paying and voiding; entering a bill from a purchase order;
//! recording a cost against an order.

use super::session::{Staff, redirect_with_flash};
use super::supply::typed_lines;
use super::{Frame, failed, form_field as field, form_fields as fields, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use ordo_app::PageRequest;
use ordo_app::common::AmountInput;
use ordo_app::payables::{
    self, Bill, BillApproval, NewBill, NewBillLine, NewCost, NewSupplierPayment, PayablesAgingReport, PayablesError,
};
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;
use ordo_domain::payables::BillStatus;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/payables", get(payables_page))
        .route("/payables/bills/{id}", post(bill_action))
        .route("/purchase-orders/{id}/bills", post(enter_bill))
        .route("/orders/{id}/costs", post(record_cost))
}

#[derive(Template)]
#[template(path = "payables.html")]
struct PayablesPage {
    page: Frame,
    aging: PayablesAgingReport,
    bills: Vec<Bill>,
    status: String,
    statuses: &'static [BillStatus],
    may_pay: bool,
}

#[derive(Deserialize)]
struct PayablesQuery {
    status: Option<String>,
}

async fn payables_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<PayablesQuery>,
) -> Response {
    let status = query.status.unwrap_or_default();
    let filter = status.clone();
    let loaded = state
        .db
        .read(move |tx| {
            let today = ordo_app::reports::sales::today(tx, Timestamp::now())?;
            let currency = ordo_app::reports::sales::main_currency(tx)?;
            let aging = payables::payables_aging(tx, currency, today)?;
            let page = PageRequest { limit: 100, before_id: None };
            let bills = payables::list_bills(tx, Some(&filter), None, page)?.items;
            Ok::<_, PayablesError>((aging, bills))
        })
        .await;
    match loaded {
        Ok((aging, bills)) => {
            let page = PayablesPage {
                page: Frame::new(&staff, "reports"),
                aging,
                bills,
                status,
                statuses: BillStatus::ALL,
                may_pay: staff.may(Permission::FinanceManage),
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// Approves, pays or voids a bill: `action` says which.
async fn bill_action(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let approval = BillApproval { note: field(&form, "note").map(str::to_string) };
    let payment = NewSupplierPayment {
        amount: field(&form, "amount").map(|a| AmountInput(a.to_string())),
        method: field(&form, "method").map(str::to_string),
        reference: field(&form, "reference").map(str::to_string),
    };
    let result = state
        .db
        .write(move |tx| match action.as_str() {
            "approve" => payables::approve_bill(tx, &ctx, id, &approval),
            "pay" => payables::pay_bill(tx, &ctx, id, &payment).and_then(|_| payables::get_bill(tx, id)),
            "void" => payables::void_bill(tx, &ctx, id),
            _ => Err(ordo_domain::Invalid::field("action", "must be approve, pay or void").into()),
        })
        .await;
    match result {
        Ok(bill) => saved(&staff, &headers, &bill),
        Err(error) => failed(&staff, error.into()),
    }
}

fn saved(staff: &Staff, headers: &HeaderMap, bill: &Bill) -> Response {
    let status = staff.i18n.t(&format!("payables.status_{}", bill.status)).to_string();
    let flash = staff.i18n.tf("payables.saved_flash", &[("number", &bill.number), ("status", &status)]);
    redirect_with_flash(&format!("/payables#bill-{}", bill.id), &flash, headers)
}

/// Enters a supplier's bill against a purchase order, lines typed as "SKU quantity cost".
async fn enter_bill(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let input = NewBill {
        supplier_ref: field(&form, "supplier_ref").map(str::to_string),
        bill_date: field(&form, "bill_date").filter(|d| !d.is_empty()).map(str::to_string),
        due_date: None,
        tax: field(&form, "tax").filter(|t| !t.is_empty()).map(|t| AmountInput(t.to_string())),
        lines: Some(
            typed_lines(field(&form, "lines").unwrap_or(""))
                .into_iter()
                .map(|(sku, quantity, cost)| NewBillLine { sku: Some(sku), quantity, unit_cost: cost.map(AmountInput) })
                .collect(),
        ),
    };
    match state.db.write(move |tx| payables::enter_bill(tx, &ctx, id, &input)).await {
        Ok(bill) => saved(&staff, &headers, &bill),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Records a cost shared over the order's lines (freight, packaging, a fee).
async fn record_cost(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let text = |name: &str| field(&form, name).filter(|v| !v.is_empty()).map(str::to_string);
    let input = NewCost {
        kind: text("kind"),
        amount: text("amount").map(AmountInput),
        currency: None,
        paid_from: text("paid_from"),
        orders: vec![id],
        shipments: Vec::new(),
        basis: text("basis"),
        reference: text("reference"),
        memo: None,
        incurred_on: None,
    };
    match state.db.write(move |tx| payables::record_cost(tx, &ctx, &input)).await {
        Ok(cost) => {
            let flash = staff.i18n.tf(
                "margin.cost_flash",
                &[("number", &cost.number), ("amount", &staff.i18n.money(&cost.amount, &cost.currency))],
            );
            redirect_with_flash(&format!("/orders/{id}#margin"), &flash, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

impl PayablesPage {
    fn money(&self, amount: &rust_decimal::Decimal) -> String {
        self.page.i18n.money(amount, &self.aging.currency)
    }
}
