//! Orders in the console: the list (filters, search, CSV), the detail page with its
//! timeline and actions, and order entry with a live, server-computed preview.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::common::AmountInput;
use ordo_app::orders::{self, CancelOrder, NewOrder, NewOrderLine, Order, OrderEvent, OrderFilter, Placed, Quote};
use ordo_app::{Page, PageRequest};
use ordo_domain::FieldError;
use ordo_domain::auth::Permission;
use ordo_domain::orders::{FulfillmentStatus, OrderStatus, PaymentStatus};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders.csv", get(export_csv))
        .route("/orders/new", get(new_form).post(place))
        .route("/orders/templates", get(templates_page))
        .route("/orders/templates/{id}/order", post(order_from_template))
        .route("/orders/new/preview", post(preview))
        .route("/orders/new/line", get(blank_line))
        .route("/orders/new/customers", get(suggest_customers))
        .route("/orders/new/skus", get(suggest_skus))
        .route("/orders/{id}", get(detail))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/reorder", post(reorder))
        .route("/orders/{id}/template", post(save_template))
        .route("/orders/{id}/payments", post(record_payment))
        .route("/orders/{id}/invoices", post(issue_invoice))
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListQuery {
    status: Option<String>,
    payment_status: Option<String>,
    fulfillment_status: Option<String>,
    channel: Option<String>,
    /// Text, so an empty form field is no filter rather than an error.
    customer_id: Option<String>,
    q: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    sort: Option<String>,
    department: Option<String>,
    customer_group: Option<String>,
    region: Option<String>,
    salesperson: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> OrderFilter {
        OrderFilter {
            status: self.status.clone(),
            payment_status: self.payment_status.clone(),
            fulfillment_status: self.fulfillment_status.clone(),
            customer_id: self.customer_id.as_deref().and_then(|id| id.trim().parse().ok()),
            channel: self.channel.clone(),
            q: self.q.clone(),
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            sort: self.sort.clone(),
            department: self.department.clone(),
            customer_group: self.customer_group.clone(),
            region: self.region.clone(),
            salesperson: self.salesperson.clone(),
        }
    }

    /// Filters a link brought (a report's drill-down) that the form has no field for: kept
    /// as hidden fields and shown, so filtering further does not drop them.
    fn hidden(&self) -> Vec<(&'static str, String)> {
        [
            ("customer_id", &self.customer_id),
            ("customer_group", &self.customer_group),
            ("region", &self.region),
            ("salesperson", &self.salesperson),
            ("department", &self.department),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| (name, v.to_string()))
        })
        .collect()
    }

    /// The query string of the filters alone, for the next-page and CSV links.
    fn filters_query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("status", &self.status),
            ("payment_status", &self.payment_status),
            ("fulfillment_status", &self.fulfillment_status),
            ("channel", &self.channel),
            ("q", &self.q),
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("sort", &self.sort),
            ("department", &self.department),
            ("customer_group", &self.customer_group),
            ("region", &self.region),
            ("salesperson", &self.salesperson),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                out.append_pair(key, v);
            }
        }
        out.finish()
    }
}

#[derive(Template)]
#[template(path = "orders_list.html")]
struct ListPage {
    page: Frame,
    query: ListQuery,
    orders: Page<Order>,
    statuses: Vec<&'static str>,
    payment_statuses: Vec<&'static str>,
    fulfillment_statuses: Vec<&'static str>,
    channels: Vec<String>,
    filters: String,
    error: Option<String>,
}

impl ListPage {
    /// The link of a sortable column header: the other direction when already sorted by it.
    fn sort_link(&self, column: &str) -> String {
        let current = self.query.sort.as_deref().unwrap_or("newest");
        let next = match (column, current) {
            ("created", "newest") => "oldest",
            ("created", _) => "newest",
            ("total", "total_desc") => "total_asc",
            (_, _) => "total_desc",
        };
        let mut query = self.query.clone();
        query.sort = Some(next.to_string());
        format!("/orders?{}", query.filters_query())
    }

    /// ▲/▼ beside the column the list is sorted by.
    fn sort_mark(&self, column: &str) -> &'static str {
        match (column, self.query.sort.as_deref().unwrap_or("newest")) {
            ("created", "newest") | ("total", "total_desc") => " ▼",
            ("created", "oldest") | ("total", "total_asc") => " ▲",
            _ => "",
        }
    }
}

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let filter = query.filter();
    let page_request = super::list_page(query.cursor.as_deref());
    let (orders, error) = match state.db.read(move |tx| orders::list_orders(tx, &filter, page_request)).await {
        Ok(orders) => (orders, None),
        Err(error) => (Page { items: Vec::new(), next_cursor: None }, Some(ApiError::from(error).to_string())),
    };
    let page = ListPage {
        page: Frame::new(&staff, "orders"),
        filters: query.filters_query(),
        query,
        orders,
        statuses: OrderStatus::ALL.iter().map(|s| s.as_str()).collect(),
        payment_statuses: PaymentStatus::ALL.iter().map(|s| s.as_str()).collect(),
        fulfillment_statuses: FulfillmentStatus::ALL.iter().map(|s| s.as_str()).collect(),
        channels: super::channel_choices(&state).await,
        error,
    };
    show(&page, &staff, &headers)
}

/// The current filter as CSV (up to 10,000 orders, newest first).
async fn export_csv(State(state): State<AppState>, staff: Staff, Query(query): Query<ListQuery>) -> Response {
    let filter = query.filter();
    let result = state
        .db
        .read(move |tx| {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let page = orders::list_orders(tx, &filter, PageRequest { limit: 200, before_id: cursor })?;
                cursor = page.items.last().map(|o| o.id);
                let more = page.next_cursor.is_some();
                all.extend(page.items);
                if !more || all.len() >= 10_000 {
                    break;
                }
            }
            Ok::<_, orders::OrderError>(all)
        })
        .await;
    let orders = match result {
        Ok(orders) => orders,
        Err(error) => return failed(&staff, error.into()),
    };
    let mut csv = String::from(
        "number,created_at,status,payment_status,fulfillment_status,channel,external_ref,customer,currency,subtotal,tax_total,total\n",
    );
    for o in &orders {
        let fields = [
            o.number.clone(),
            o.created_at.to_rfc3339(),
            o.status.to_string(),
            o.payment_status.to_string(),
            o.fulfillment_status.to_string(),
            o.channel.to_string(),
            o.external_ref.clone().unwrap_or_default(),
            o.customer_name.clone(),
            o.currency.to_string(),
            o.subtotal.to_string(),
            o.tax_total.to_string(),
            o.total.to_string(),
        ];
        csv.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        csv.push('\n');
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"orders.csv\""),
        ],
        // A BOM so spreadsheet programs read the Chinese text as UTF-8.
        format!("\u{feff}{csv}"),
    )
        .into_response()
}

/// Quotes a CSV field when needed; a leading =, +, - or @ is neutralised against formula injection.
pub(crate) fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '@']) || (value.starts_with('-') && value.parse::<f64>().is_err()) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[derive(Template)]
#[template(path = "order_detail.html")]
struct DetailPage {
    page: Frame,
    order: Order,
    events: Vec<OrderEvent>,
    may_cancel: bool,
    /// Order again, or keep it as a template.
    may_reorder: bool,
    may_approve: bool,
    may_release: bool,
    may_edit: bool,
    may_hold: bool,
    may_submit: bool,
    may_pay: bool,
    may_invoice: bool,
    payments: Vec<ordo_app::payments::Payment>,
    invoices: Vec<ordo_app::payments::Invoice>,
    methods: Vec<String>,
    shipments: Vec<ordo_app::fulfillment::Shipment>,
    /// Rate-shopped services for the next shipment (when the order may ship).
    ship_options: Vec<ordo_app::fulfillment::ShippingOption>,
    /// Warehouses holding reserved units not yet shipped.
    ship_from: Vec<String>,
    may_ship: bool,
    returns: Vec<ordo_app::aftersales::Return>,
    /// Shipped units can be returned, and the user may ask for it.
    may_return: bool,
    return_reasons: &'static [ordo_domain::aftersales::ReturnReason],
    feedback: Option<ordo_app::aftersales::Feedback>,
    /// Revenue less goods and shared costs; only for those who see costs (finance).
    margin: Option<ordo_app::payables::OrderMargin>,
    cost_kinds: &'static [ordo_domain::payables::CostKind],
    cost_bases: &'static [ordo_domain::payables::AllocationBasis],
}

impl DetailPage {
    /// What an event records worth reading: a reason, a comment, the holds or rules.
    fn reason(&self, event: &OrderEvent) -> Option<String> {
        let d = &event.details;
        let text = |key: &str| d.get(key).and_then(|r| r.as_str()).map(str::to_string);
        if let Some(text) = text("reason").or_else(|| text("comment")) {
            return Some(text);
        }
        let mut parts = Vec::new();
        if let Some(rules) = d.get("rules_fired").and_then(|r| r.as_array()) {
            parts.extend(rules.iter().filter_map(|r| r["name"].as_str()).map(|n| format!("⚙ {n}")));
        }
        if let Some(holds) = d.get("holds").and_then(|h| h.as_array()) {
            parts.extend(holds.iter().filter_map(|h| h["message"].as_str()).map(str::to_string));
        }
        if let Some(lines) = d.get("lines").and_then(|l| l.as_array()).filter(|_| event.action == "edited") {
            parts.extend(
                lines.iter().map(|l| format!("{} {} → {}", l["sku"].as_str().unwrap_or(""), l["from"], l["to"])),
            );
        }
        for key in ["into", "from", "role"] {
            if let Some(v) = d.get(key).and_then(|v| v.as_str()) {
                parts.push(format!("{key}: {v}"));
            }
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

async fn detail(State(state): State<AppState>, staff: Staff, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let sees_costs = staff.may(Permission::FinanceManage);
    let loaded = state
        .db
        .read(move |tx| {
            let order = orders::get_order(tx, id)?;
            let events = orders::order_events(tx, id)?;
            let margin = if sees_costs {
                Some(
                    ordo_app::payables::order_margin(tx, id)
                        .map_err(|e| orders::OrderError::Conflict(e.to_string()))?,
                )
            } else {
                None
            };
            let payments =
                ordo_app::payments::order_payments(tx, id).map_err(|e| orders::OrderError::Conflict(e.to_string()))?;
            let invoices =
                ordo_app::payments::order_invoices(tx, id).map_err(|e| orders::OrderError::Conflict(e.to_string()))?;
            let settings = ordo_app::payments::payment_settings(tx)?;
            let methods = settings.methods.into_iter().filter(|m| m.enabled).map(|m| m.code).collect::<Vec<_>>();
            let fulfillment_error =
                |e: ordo_app::fulfillment::FulfillmentError| orders::OrderError::Conflict(e.to_string());
            let shipments = ordo_app::fulfillment::order_shipments(tx, id).map_err(fulfillment_error)?.items;
            let mut ship_from: Vec<String> = Vec::new();
            for line in order.lines.iter().filter(|l| l.reserved_quantity() > 0) {
                if !ship_from.contains(&line.warehouse) {
                    ship_from.push(line.warehouse.clone());
                }
            }
            let ship_options =
                if order.allowed_actions.contains(&ordo_domain::orders::OrderAction::Ship) && !ship_from.is_empty() {
                    ordo_app::fulfillment::shipping_options(
                        tx,
                        id,
                        ship_from.first().map(String::as_str),
                        ordo_domain::Timestamp::now(),
                    )
                    .map_err(fulfillment_error)?
                } else {
                    Vec::new()
                };
            let after_sales = |e: ordo_app::aftersales::AfterSalesError| orders::OrderError::Conflict(e.to_string());
            let query = ordo_app::aftersales::ReturnQuery { order_id: Some(id), ..Default::default() };
            let returns = ordo_app::aftersales::list_returns(tx, &query).map_err(after_sales)?.items;
            let feedback = ordo_app::aftersales::get_feedback(tx, id).map_err(after_sales)?;
            let shipping = (shipments, ship_options, ship_from, returns, feedback, margin);
            Ok::<_, orders::OrderError>((order, events, payments.items, invoices.items, methods, shipping))
        })
        .await;
    match loaded {
        Ok((
            order,
            events,
            payments,
            invoices,
            methods,
            (shipments, ship_options, ship_from, returns, feedback, margin),
        )) => {
            use ordo_domain::orders::OrderAction as A;
            let can =
                |permission: Permission, action: A| staff.may(permission) && order.allowed_actions.contains(&action);
            let page = DetailPage {
                page: Frame::new(&staff, "orders"),
                may_cancel: can(Permission::OrdersCancel, A::Cancel),
                may_reorder: staff.may(Permission::OrdersCreate),
                may_approve: can(Permission::OrdersApprove, A::Approve),
                may_release: can(Permission::OrdersRelease, A::Release),
                may_edit: can(Permission::OrdersEdit, A::Edit),
                may_hold: can(Permission::OrdersEdit, A::Hold),
                may_submit: can(Permission::OrdersCreate, A::Submit),
                may_pay: staff.may(Permission::PaymentsRecord),
                may_invoice: staff.may(Permission::InvoicesIssue),
                may_ship: can(Permission::FulfillmentShip, A::Ship) && !ship_from.is_empty(),
                may_return: staff.may(Permission::ReturnsManage) && order.lines.iter().any(|l| l.shipped_quantity > 0),
                return_reasons: ordo_domain::aftersales::ReturnReason::ALL,
                returns,
                feedback,
                margin,
                cost_kinds: ordo_domain::payables::CostKind::ALL,
                cost_bases: ordo_domain::payables::AllocationBasis::ALL,
                shipments,
                ship_options,
                ship_from,
                payments,
                invoices,
                methods,
                order,
                events: events.items,
            };
            show(&page, &staff, &headers)
        }
        Err(orders::OrderError::NotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Deserialize)]
struct CancelForm {
    reason: Option<String>,
}

async fn cancel(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Response {
    let ctx = match staff.require(Permission::OrdersCancel) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let input = CancelOrder { reason: form.reason };
    match state.db.write(move |tx| orders::cancel_order(tx, &ctx, id, None, &input)).await {
        Ok(order) => redirect_with_flash(
            &format!("/orders/{id}"),
            &staff.i18n.tf("orders.cancelled_flash", &[("number", &order.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// The same use case as `POST /api/v1/orders/{id}/reorder`: the same lines at today's prices.
async fn reorder(State(state): State<AppState>, staff: Staff, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let ctx = match staff.require(Permission::OrdersCreate) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let input = orders::UseTemplate::default();
    let placed = state.db.write(move |tx| orders::reorder(tx, &ctx, id, &input)).await;
    show_placed(&staff, &headers, placed)
}

/// On to the order just placed from a past order or a template.
fn show_placed(
    staff: &Staff,
    headers: &HeaderMap,
    placed: Result<orders::FromTemplate, orders::OrderError>,
) -> Response {
    match placed {
        Ok(orders::FromTemplate::Placed(placed)) => {
            let (orders::Placed::Created(order) | orders::Placed::Existing(order)) = *placed;
            redirect_with_flash(
                &format!("/orders/{}", order.id),
                &staff.i18n.tf("orders.reordered_flash", &[("number", &order.number)]),
                headers,
            )
        }
        Ok(orders::FromTemplate::Quoted(_)) => not_found(staff),
        Err(error) => failed(staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "order_templates.html")]
struct TemplatesPage {
    page: Frame,
    /// (id, name, the customer's label or None when shared, line count)
    templates: Vec<(i64, String, Option<String>, usize)>,
    customers: Vec<(String, String)>,
}

/// The saved templates, each placed as a new order at today's prices in one click (a shared
/// one for the customer chosen beside it).
async fn templates_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::OrdersCreate) {
        return page;
    }
    let found = state
        .db
        .read(|tx| {
            let templates = orders::list_templates(tx, None)?;
            let mut rows = Vec::new();
            for t in templates.items {
                let customer = match t.customer_id {
                    Some(id) => ordo_app::customers::store::by_id(tx, id)?
                        .map(|c| format!("{} — {}", c.customer.code, c.customer.name)),
                    None => None,
                };
                rows.push((t.id, t.name, customer, t.lines.len()));
            }
            Ok::<_, orders::OrderError>(rows)
        })
        .await;
    let templates = match found {
        Ok(rows) => rows,
        Err(error) => return failed(&staff, error.into()),
    };
    let page =
        TemplatesPage { page: Frame::new(&staff, "new_order"), templates, customers: customer_choices(&state).await };
    show(&page, &staff, &headers)
}

#[derive(Deserialize)]
struct FromTemplateForm {
    #[serde(default)]
    customer: String,
}

/// The same use case as `POST /api/v1/orders/from-template/{id}`.
async fn order_from_template(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<FromTemplateForm>,
) -> Response {
    let ctx = match staff.require(Permission::OrdersCreate) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let code = form.customer.trim().to_string();
    let placed = state
        .db
        .write(move |tx| {
            let customer_id = match code.as_str() {
                "" => None,
                code => Some(ordo_app::customers::store::id_by_code(tx, code)?.ok_or_else(|| {
                    ordo_domain::Invalid::field("customer", format!("no customer has the code {code:?}"))
                })?),
            };
            let input = orders::UseTemplate { customer_id, ..Default::default() };
            orders::order_from_template(tx, &ctx, id, &input)
        })
        .await;
    show_placed(&staff, &headers, placed)
}

#[derive(Deserialize)]
struct TemplateForm {
    name: String,
    #[serde(default)]
    shared: Option<String>,
}

/// The same use case as `POST /api/v1/order-templates` with `from_order_id`.
async fn save_template(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<TemplateForm>,
) -> Response {
    let ctx = match staff.require(Permission::OrdersCreate) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let shared = form.shared.is_some();
    let input = orders::NewOrderTemplate { name: Some(form.name), from_order_id: Some(id), ..Default::default() };
    let saved = state
        .db
        .write(move |tx| {
            let mut input = input.clone();
            if shared {
                // Shared: no customer of its own (the order's customer is not carried over).
                let order = orders::get_order(tx, id)?;
                input.lines = Some(
                    order
                        .lines
                        .iter()
                        .map(|l| orders::TemplateLine { sku: Some(l.sku.clone()), quantity: Some(l.quantity) })
                        .collect(),
                );
                input.from_order_id = None;
            }
            orders::create_template(tx, &ctx, &input)
        })
        .await;
    match saved {
        Ok(template) => redirect_with_flash(
            &format!("/orders/{id}"),
            &staff.i18n.tf("orders.template_saved", &[("name", &template.name)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Deserialize)]
struct PaymentForm {
    method: String,
    amount: String,
}

/// The same use case as `POST /api/v1/orders/{id}/payments`.
async fn record_payment(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<PaymentForm>,
) -> Response {
    let ctx = match staff.require(Permission::PaymentsRecord) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let input = ordo_app::payments::NewPayment {
        method: Some(form.method),
        amount: Some(ordo_app::common::AmountInput(form.amount)),
        reference: None,
    };
    match state.db.write(move |tx| ordo_app::payments::record_payment(tx, &ctx, id, &input)).await {
        Ok(payment) => match payment.redirect_url {
            // An online payment: on to the provider's page, as the customer would go.
            Some(url) => axum::response::Redirect::to(&url).into_response(),
            None => redirect_with_flash(&format!("/orders/{id}"), staff.i18n.t("payments.recorded_flash"), &headers),
        },
        Err(error) => failed(&staff, error.into()),
    }
}

async fn issue_invoice(
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
    let input = ordo_app::payments::NewInvoice::default();
    match state.db.write(move |tx| ordo_app::payments::issue_invoice(tx, &ctx, id, &input)).await {
        Ok(invoice) => redirect_with_flash(
            &format!("/orders/{id}"),
            &staff.i18n.tf("payments.invoiced_flash", &[("number", &invoice.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// One line as typed in the form.
#[derive(Debug, Clone, Default)]
pub struct DraftLine {
    pub sku: String,
    pub quantity: String,
    /// Empty for the product's own unit, or one of its packs.
    pub unit: String,
    pub unit_price: String,
}

/// The order form as typed: kept to show it again with its errors.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub customer: String,
    pub channel: String,
    pub external_ref: String,
    pub notes: String,
    pub requested_delivery_date: String,
    pub payment_method: String,
    pub shipping_service: String,
    pub coupon_code: String,
    pub lines: Vec<DraftLine>,
}

impl Draft {
    fn parse(body: &[u8]) -> Draft {
        let mut draft = Draft::default();
        let (mut skus, mut quantities, mut units, mut prices) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (key, value) in form_urlencoded::parse(body) {
            let value = value.into_owned();
            match key.as_ref() {
                "customer" => draft.customer = value,
                "channel" => draft.channel = value,
                "external_ref" => draft.external_ref = value,
                "notes" => draft.notes = value,
                "requested_delivery_date" => draft.requested_delivery_date = value,
                "sku" => skus.push(value),
                "payment_method" => draft.payment_method = value,
                "shipping_service" => draft.shipping_service = value,
                "coupon_code" => draft.coupon_code = value,
                "quantity" => quantities.push(value),
                "unit" => units.push(value),
                "unit_price" => prices.push(value),
                _ => {}
            }
        }
        for (i, sku) in skus.into_iter().enumerate() {
            let line = DraftLine {
                sku,
                quantity: quantities.get(i).cloned().unwrap_or_default(),
                unit: units.get(i).cloned().unwrap_or_default(),
                unit_price: prices.get(i).cloned().unwrap_or_default(),
            };
            if !line.sku.trim().is_empty() || !line.quantity.trim().is_empty() {
                draft.lines.push(line);
            }
        }
        draft
    }

    /// The same input the API takes. The customer field holds "code — name" from the
    /// picker, or a bare id or code.
    fn to_input(&self, customer_id: Option<i64>) -> Result<NewOrder, FieldError> {
        let mut lines = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let quantity = match line.quantity.trim() {
                "" => None,
                q => Some(
                    q.parse::<i64>()
                        .map_err(|_| FieldError::new(format!("lines[{i}].quantity"), "must be a whole number"))?,
                ),
            };
            lines.push(NewOrderLine {
                sku: Some(line.sku.trim().to_string()),
                quantity,
                unit: Some(line.unit.trim().to_string()).filter(|u| !u.is_empty()),
                unit_price: Some(line.unit_price.trim()).filter(|p| !p.is_empty()).map(|p| AmountInput(p.to_string())),
                discount_percent: None,
            });
        }
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(NewOrder {
            customer_id,
            channel: text(&self.channel),
            external_ref: text(&self.external_ref),
            currency: None,
            lines: Some(lines),
            shipping_address: None,
            notes: text(&self.notes),
            requested_delivery_date: text(&self.requested_delivery_date),
            payment_method: text(&self.payment_method),
            shipping_service: text(&self.shipping_service),
            coupon_code: text(&self.coupon_code),
        })
    }
}

#[derive(Template)]
#[template(path = "order_new.html")]
struct NewPage {
    page: Frame,
    draft: Draft,
    channels: Vec<String>,
    customers: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

#[derive(Template)]
#[template(path = "order_preview.html")]
struct PreviewPartial {
    page: Frame,
    errors: Vec<FieldError>,
    quote: Option<Quote>,
}

#[derive(Template)]
#[template(path = "order_line.html")]
struct LinePartial {
    page: Frame,
    line: DraftLine,
}

/// Customers for the picker: "code — name", code.
async fn customer_choices(state: &AppState) -> Vec<(String, String)> {
    let page = PageRequest { limit: 200, before_id: None };
    state
        .db
        .read(move |tx| ordo_app::customers::list_customers(tx, None, page))
        .await
        .map(|p| p.items.into_iter().map(|c| (format!("{} — {}", c.code, c.name), c.code)).collect())
        .unwrap_or_default()
}

async fn new_form(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::OrdersCreate) {
        return page;
    }
    let draft = Draft { lines: vec![DraftLine::default(); 3], ..Draft::default() };
    let page = NewPage {
        page: Frame::new(&staff, "new_order"),
        draft,
        channels: super::channel_choices(&state).await,
        customers: customer_choices(&state).await,
        errors: Vec::new(),
    };
    show(&page, &staff, &headers)
}

#[derive(Deserialize)]
struct SuggestQuery {
    #[serde(default)]
    customer: String,
    #[serde(default)]
    sku: String,
}

#[derive(Template)]
#[template(path = "suggestions.html")]
struct Suggestions {
    options: Vec<(String, String)>,
}

/// Customers matching what is typed, as `<option>`s for the picker's datalist.
async fn suggest_customers(
    State(state): State<AppState>,
    _staff: Staff,
    Query(query): Query<SuggestQuery>,
) -> Response {
    let q = query.customer.split(" — ").next().unwrap_or("").trim().to_string();
    let page = PageRequest { limit: 20, before_id: None };
    let found = state.db.read(move |tx| ordo_app::customers::list_customers(tx, Some(&q), page)).await;
    let options = found
        .map(|p| p.items.into_iter().map(|c| (format!("{} — {}", c.code, c.name), c.group)).collect())
        .unwrap_or_default();
    render(&Suggestions { options })
}

/// Products matching what is typed, with price and what is available, as `<option>`s.
async fn suggest_skus(State(state): State<AppState>, staff: Staff, Query(query): Query<SuggestQuery>) -> Response {
    let q = query.sku.trim().to_string();
    let page = PageRequest { limit: 20, before_id: None };
    let found = state
        .db
        .read(move |tx| {
            let products = ordo_app::catalog::list_products(tx, Some(&q), page)?.items;
            let mut out = Vec::new();
            for p in products.into_iter().filter(|p| p.active) {
                let levels = ordo_app::inventory::stock_levels(tx, Some(&p.sku), None).map_err(|e| match e {
                    ordo_app::inventory::InventoryError::Db(db) => ordo_app::catalog::CatalogError::Db(db),
                    other => ordo_app::catalog::CatalogError::Db(ordo_app::DbError::Other(other.to_string())),
                })?;
                let stock: Vec<String> =
                    levels.items.iter().map(|l| format!("{} {}", l.warehouse, l.available)).collect();
                out.push((p, stock.join(", ")));
            }
            Ok::<_, ordo_app::catalog::CatalogError>(out)
        })
        .await;
    let options = found
        .map(|list| {
            list.into_iter()
                .map(|(p, stock)| {
                    (p.sku.clone(), format!("{} · {} · {}", p.name, staff.i18n.money(&p.price, &p.currency), stock))
                })
                .collect()
        })
        .unwrap_or_default();
    render(&Suggestions { options })
}

async fn blank_line(staff: Staff) -> Response {
    render(&LinePartial { page: Frame::new(&staff, "new_order"), line: DraftLine::default() })
}

/// Finds the customer the form names: "CODE — name" from the picker, a code, or an id.
async fn resolve_customer(state: &AppState, text: &str) -> Option<i64> {
    let code = text.split(" — ").next().unwrap_or("").trim().to_string();
    if code.is_empty() {
        return None;
    }
    let page = PageRequest { limit: 200, before_id: None };
    let lookup = code.clone();
    let found = state
        .db
        .read(move |tx| ordo_app::customers::list_customers(tx, Some(&lookup), page))
        .await
        .ok()?
        .items
        .into_iter()
        .find(|c| c.code == code)
        .map(|c| c.id);
    found.or_else(|| code.parse().ok())
}

async fn draft_input(state: &AppState, body: &[u8]) -> (Draft, Result<NewOrder, Vec<FieldError>>) {
    let draft = Draft::parse(body);
    let customer_id = resolve_customer(state, &draft.customer).await;
    let mut errors = Vec::new();
    if customer_id.is_none() {
        errors.push(FieldError::new("customer_id", "choose a customer from the list"));
    }
    match draft.to_input(customer_id) {
        Ok(input) if errors.is_empty() => (draft, Ok(input)),
        Ok(_) => (draft, Err(errors)),
        Err(error) => {
            errors.push(error);
            (draft, Err(errors))
        }
    }
}

fn field_errors(error: ApiError) -> Vec<FieldError> {
    match error {
        ApiError::Order(orders::OrderError::Invalid(invalid)) => invalid.0,
        other => vec![FieldError::new("order", other.to_string())],
    }
}

/// The live preview: prices and availability for the draft, or what is wrong with it.
async fn preview(State(state): State<AppState>, staff: Staff, body: Bytes) -> Response {
    let (_, input) = draft_input(&state, &body).await;
    let (quote, errors) = match input {
        Err(errors) => (None, errors),
        Ok(input) => match state.db.read(move |tx| orders::quote_order(tx, &input)).await {
            Ok(quote) => (Some(quote), Vec::new()),
            Err(error) => (None, field_errors(error.into())),
        },
    };
    render(&PreviewPartial { page: Frame::new(&staff, "new_order"), errors, quote })
}

async fn place(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::OrdersCreate) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let (draft, input) = draft_input(&state, &body).await;
    let result = match input {
        Err(errors) => Err(errors),
        Ok(input) => {
            let overrides_price = input.lines.iter().flatten().any(|l| l.unit_price.is_some());
            if overrides_price && !staff.may(Permission::PricesOverride) {
                Err(vec![FieldError::new("unit_price", staff.i18n.t("orders.no_price_override"))])
            } else {
                state
                    .db
                    .write(move |tx| orders::place_order(tx, &ctx, &input))
                    .await
                    .map_err(|e| field_errors(e.into()))
            }
        }
    };
    if matches!(result, Ok(Placed::Created(_))) {
        metrics::counter!("orders_placed_total").increment(1);
    }
    match result {
        Ok(Placed::Created(order) | Placed::Existing(order)) => redirect_with_flash(
            &format!("/orders/{}", order.id),
            &staff.i18n.tf("orders.placed_flash", &[("number", &order.number)]),
            &headers,
        ),
        Err(errors) => {
            let page = NewPage {
                page: Frame::new(&staff, "new_order"),
                draft,
                channels: super::channel_choices(&state).await,
                customers: customer_choices(&state).await,
                errors,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-12.50"), "-12.50");
        assert_eq!(csv_field("上海"), "上海");
    }

    #[test]
    fn a_draft_keeps_lines_in_order_and_drops_empty_ones() {
        let draft = Draft::parse(
            b"customer=C1&sku=A&quantity=2&unit_price=&sku=&quantity=&unit_price=&sku=B&quantity=x&unit_price=3",
        );
        assert_eq!(draft.lines.len(), 2);
        assert_eq!(draft.lines[1].sku, "B");
        assert_eq!(draft.to_input(Some(1)).unwrap_err().field, "lines[1].quantity");
    }
}
