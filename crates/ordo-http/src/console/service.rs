//! The service desk in the console: the queue of open returns, tickets (SLA highlighted)
//! and claims with after-sales figures; a return's page (decide, receive, refund); a
//! ticket's page (reply, note, move on); the customer 360 view; returns from the order page.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use ordo_app::aftersales::{
    self, AfterSalesError, AnalyticsQuery, Customer360, NewNote, NewReply, NewReturn, NewTicket, ReceiveLineInput,
    ReceiveReturn, RefundReturn, Return, ReturnDecision, ReturnLineInput, ServiceAnalytics, ServiceQueue, Ticket,
    TicketUpdate,
};
use ordo_domain::Timestamp;
use ordo_domain::aftersales::Disposition;
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/service", get(queue_page))
        .route("/service/tickets", post(create_ticket))
        .route("/returns/{id}", get(return_page).post(return_action))
        .route("/orders/{id}/returns", post(request_return))
        .route("/tickets/{id}", get(ticket_page).post(ticket_action))
        .route("/customers/{id}/360", get(customer_page).post(add_note))
}

use super::form_fields as fields;

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    super::form_field(fields, name).map(str::to_string).filter(|v| !v.trim().is_empty())
}

#[derive(Template)]
#[template(path = "service.html")]
struct QueuePage {
    page: Frame,
    queue: ServiceQueue,
    figures: ServiceAnalytics,
    may_ticket: bool,
}

async fn queue_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let today = Date::of(Timestamp::now());
    let loaded = state
        .db
        .read(move |tx| {
            let queue = aftersales::service_queue(tx, Timestamp::now())?;
            let figures = aftersales::service_analytics(tx, &AnalyticsQuery::default(), today)?;
            Ok::<_, AfterSalesError>((queue, figures))
        })
        .await;
    match loaded {
        Ok((queue, figures)) => {
            let may_ticket = staff.may(Permission::TicketsManage);
            show(&QueuePage { page: Frame::new(&staff, "service"), queue, figures, may_ticket }, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn create_ticket(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::TicketsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = fields(&body);
    let input = NewTicket {
        customer_id: field(&f, "customer_id").and_then(|v| v.trim().parse().ok()),
        order_id: field(&f, "order_id").and_then(|v| v.trim().parse().ok()),
        subject: field(&f, "subject"),
        category: field(&f, "category"),
        priority: field(&f, "priority"),
        assignee: None,
        message: field(&f, "message"),
    };
    match state.db.write(move |tx| aftersales::create_ticket(tx, &ctx, &input)).await {
        Ok(ticket) => redirect_with_flash(
            &format!("/tickets/{}", ticket.id),
            &staff.i18n.tf("tickets.opened_flash", &[("number", &ticket.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "return.html")]
struct ReturnPage {
    page: Frame,
    ret: Return,
    may_decide: bool,
    may_receive: bool,
    may_refund: bool,
    dispositions: &'static [Disposition],
}

async fn return_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| aftersales::get_return(tx, id)).await {
        Ok(ret) => {
            let view = ReturnPage {
                page: Frame::new(&staff, "service"),
                ret,
                may_decide: staff.may(Permission::ReturnsManage),
                may_receive: staff.may(Permission::ReturnsReceive),
                may_refund: staff.may(Permission::PaymentsRefund),
                dispositions: Disposition::ALL,
            };
            show(&view, &staff, &headers)
        }
        Err(AfterSalesError::ReturnNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Approve, reject, receive (one disposition per line) or refund, by the button pressed.
async fn return_action(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let action = field(&f, "action").unwrap_or_default();
    let permission = match action.as_str() {
        "receive" => Permission::ReturnsReceive,
        "refund" => Permission::PaymentsRefund,
        _ => Permission::ReturnsManage,
    };
    let ctx = match staff.require(permission) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let result = match action.as_str() {
        "approve" | "reject" => {
            let input = ReturnDecision { reason: field(&f, "reason") };
            let approve = action == "approve";
            state
                .db
                .write(move |tx| {
                    if approve {
                        aftersales::approve_return(tx, &ctx, id, &input)
                    } else {
                        aftersales::reject_return(tx, &ctx, id, &input)
                    }
                })
                .await
        }
        "receive" => {
            // One row per line: sku_N, quantity_N, disposition_N.
            let lines = (0..200)
                .map_while(|i| {
                    field(&f, &format!("sku_{i}")).map(|sku| ReceiveLineInput {
                        sku: Some(sku),
                        quantity: field(&f, &format!("quantity_{i}")).and_then(|q| q.trim().parse().ok()),
                        disposition: field(&f, &format!("disposition_{i}")),
                        note: field(&f, &format!("note_{i}")),
                    })
                })
                .collect();
            let input = ReceiveReturn { lines: Some(lines) };
            state.db.write(move |tx| aftersales::receive_return(tx, &ctx, id, &input)).await
        }
        _ => {
            let input = RefundReturn { to_store_credit: Some(field(&f, "to_store_credit").is_some()) };
            state.db.write(move |tx| aftersales::refund_return(tx, &ctx, id, &input)).await
        }
    };
    match result {
        Ok(ret) => redirect_with_flash(
            &format!("/returns/{id}"),
            &staff.i18n.tf("returns.updated_flash", &[("number", &ret.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// A return asked for from the order page: one line (SKU, quantity, reason) at a time.
async fn request_return(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::ReturnsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(order_id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let input = NewReturn {
        lines: Some(vec![ReturnLineInput {
            sku: field(&f, "sku"),
            quantity: field(&f, "quantity").and_then(|q| q.trim().parse().ok()),
            reason: field(&f, "reason"),
            opened: Some(field(&f, "opened").is_some()),
        }]),
        notes: field(&f, "notes"),
    };
    match state.db.write(move |tx| aftersales::request_return(tx, &ctx, order_id, &input)).await {
        Ok(ret) => redirect_with_flash(
            &format!("/returns/{}", ret.id),
            &staff.i18n.tf("returns.requested_flash", &[("number", &ret.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    page: Frame,
    ticket: Ticket,
    may_handle: bool,
}

async fn ticket_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| aftersales::get_ticket(tx, id, Timestamp::now())).await {
        Ok(ticket) => {
            let may_handle = staff.may(Permission::TicketsManage);
            show(&TicketPage { page: Frame::new(&staff, "service"), ticket, may_handle }, &staff, &headers)
        }
        Err(AfterSalesError::TicketNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// A reply or note, or a change of status, priority or assignee.
async fn ticket_action(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::TicketsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let f = fields(&body);
    let result = if field(&f, "action").as_deref() == Some("update") {
        let input = TicketUpdate {
            status: field(&f, "status"),
            priority: field(&f, "priority"),
            assignee: super::form_field(&f, "assignee").map(str::to_string),
        };
        state.db.write(move |tx| aftersales::update_ticket(tx, &ctx, id, None, &input)).await
    } else {
        let input =
            NewReply { body: field(&f, "body"), internal: Some(field(&f, "internal").is_some()), from_customer: None };
        state.db.write(move |tx| aftersales::reply(tx, &ctx, id, &input)).await
    };
    match result {
        Ok(ticket) => redirect_with_flash(
            &format!("/tickets/{id}"),
            &staff.i18n.tf("tickets.updated_flash", &[("number", &ticket.number)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "customer_360.html")]
struct CustomerPage {
    page: Frame,
    view: Customer360,
    may_note: bool,
}

async fn customer_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| aftersales::customer_360(tx, id, Timestamp::now())).await {
        Ok(view) => {
            let may_note = staff.may(Permission::TicketsManage);
            show(&CustomerPage { page: Frame::new(&staff, "service"), view, may_note }, &staff, &headers)
        }
        Err(AfterSalesError::CustomerNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn add_note(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::TicketsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let input = NewNote { body: field(&fields(&body), "body") };
    match state.db.write(move |tx| aftersales::add_customer_note(tx, &ctx, id, &input)).await {
        Ok(_) => redirect_with_flash(&format!("/customers/{id}/360"), staff.i18n.t("customers.note_saved"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}
