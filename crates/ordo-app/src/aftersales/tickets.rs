//! Service tickets (complaints and requests) with an SLA due time, and order feedback
//! (待评价 → 已评价) that opens a complaint when the rating is low.

use super::model::*;
use super::service_settings;
use crate::common::Ctx;
use crate::db::{DbError, Row, Tx, Value};
use crate::orders;
use crate::params;
use ordo_domain::aftersales::{TicketCategory, TicketPriority, TicketStatus, is_overdue, low_rating};
use ordo_domain::orders::OrderStatus;
use ordo_domain::validation::{Violations, optional_text, required_text};
use ordo_domain::{Invalid, Timestamp};
use serde_json::json;

/// A ticket opened by the system (a low rating, a delivery exception, a refused return).
pub(crate) struct Auto {
    pub customer_id: i64,
    pub order_id: Option<i64>,
    pub return_id: Option<i64>,
    pub category: TicketCategory,
    pub priority: TicketPriority,
    pub subject: String,
    pub source: &'static str,
    pub message: Option<String>,
}

pub(crate) fn open_auto(tx: &mut dyn Tx, ctx: &Ctx, auto: &Auto) -> Result<i64, AfterSalesError> {
    let id = insert_ticket(tx, ctx, auto, None)?;
    if let Some(message) = auto.message.as_deref().filter(|m| !m.trim().is_empty()) {
        add_message(tx, id, "customer", message, &ctx.actor, ctx.now)?;
    }
    Ok(id)
}

/// Opens a ticket when a parcel goes wrong, if the settings ask for it.
pub(crate) fn on_delivery_exception(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    subject: String,
    detail: Option<String>,
) -> Result<(), AfterSalesError> {
    if !service_settings(tx)?.ticket_on_delivery_exception {
        return Ok(());
    }
    let customer_id = tx.query_one("SELECT customer_id FROM orders WHERE id = ?", params![order_id])?.int(0)?;
    let auto = Auto {
        customer_id,
        order_id: Some(order_id),
        return_id: None,
        category: TicketCategory::Delivery,
        priority: TicketPriority::High,
        subject,
        source: "delivery_exception",
        message: detail,
    };
    open_auto(tx, ctx, &auto)?;
    Ok(())
}

pub fn create_ticket(tx: &mut dyn Tx, ctx: &Ctx, input: &NewTicket) -> Result<Ticket, AfterSalesError> {
    let mut v = Violations::new();
    let subject = v.check(required_text("subject", input.subject.as_deref(), 200));
    let category =
        parse_or(&mut v, "category", input.category.as_deref(), TicketCategory::parse, TicketCategory::choices);
    let priority =
        parse_or(&mut v, "priority", input.priority.as_deref(), TicketPriority::parse, TicketPriority::choices);
    let assignee = v.check(optional_text("assignee", input.assignee.as_deref(), 200)).flatten();
    let message = v.check(optional_text("message", input.message.as_deref(), 4000)).flatten();
    if input.customer_id.is_none() && input.order_id.is_none() {
        v.add("customer_id", "give the customer or the order the ticket is about");
    }
    v.into_result()?;
    let customer_id = match input.order_id {
        Some(order_id) => {
            let order = orders::get_order(tx, order_id).map_err(|e| match e {
                orders::OrderError::NotFound(id) => AfterSalesError::OrderNotFound(id),
                other => other.into(),
            })?;
            if input.customer_id.is_some_and(|c| c != order.customer_id) {
                return Err(
                    Invalid::field("customer_id", format!("{} belongs to another customer", order.number)).into()
                );
            }
            order.customer_id
        }
        None => {
            let id = input.customer_id.unwrap_or_default();
            crate::customers::store::by_id(tx, id)?.ok_or(AfterSalesError::CustomerNotFound(id))?;
            id
        }
    };
    let auto = Auto {
        customer_id,
        order_id: input.order_id,
        return_id: None,
        category: category.unwrap_or(TicketCategory::Other),
        priority: priority.unwrap_or(TicketPriority::Normal),
        subject: subject.unwrap_or_default(),
        source: "staff",
        message,
    };
    let id = insert_ticket(tx, ctx, &auto, assignee.as_deref())?;
    if let Some(message) = &auto.message {
        add_message(tx, id, "customer", message, &ctx.actor, ctx.now)?;
    }
    get_ticket(tx, id, ctx.now)
}

fn parse_or<T>(
    v: &mut Violations,
    field: &str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Option<T> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let parsed = parse(text);
            if parsed.is_none() {
                v.add(field, format!("must be one of {}", choices()));
            }
            parsed
        }
    }
}

fn insert_ticket(tx: &mut dyn Tx, ctx: &Ctx, auto: &Auto, assignee: Option<&str>) -> Result<i64, AfterSalesError> {
    let sla = service_settings(tx)?.sla_hours;
    let due = sla.due_at(ctx.now, auto.priority);
    let number = format!("TK-{:06}", orders::store::next_sequence(tx, "ticket")?);
    let id = tx.insert(
        "INSERT INTO tickets (number, customer_id, order_id, return_id, subject, category, priority, status, source, \
         assignee, due_at, created_by, created_at, updated_at, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, 1)",
        params![
            number.as_str(),
            auto.customer_id,
            auto.order_id,
            auto.return_id,
            auto.subject.as_str(),
            auto.category.as_str(),
            auto.priority.as_str(),
            auto.source,
            assignee,
            due.micros(),
            ctx.actor.as_str(),
            ctx.now.micros(),
            ctx.now.micros()
        ],
    )?;
    if let Some(order_id) = auto.order_id {
        let details =
            json!({"ticket": number, "subject": auto.subject, "source": auto.source, "priority": auto.priority});
        orders::store::append_event(tx, order_id, &ctx.actor, "ticket_opened", &details, ctx.now)?;
    }
    let data = json!({"ticket_id": id, "number": number, "customer_id": auto.customer_id, "order_id": auto.order_id,
        "category": auto.category, "priority": auto.priority, "source": auto.source, "due_at": due});
    crate::events::record(tx, "ticket.opened", ("ticket", id), &data, ctx.now)?;
    Ok(id)
}

fn add_message(
    tx: &mut dyn Tx,
    ticket_id: i64,
    kind: &str,
    body: &str,
    author: &str,
    at: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO ticket_messages (ticket_id, kind, body, author, at) VALUES (?, ?, ?, ?, ?)",
        params![ticket_id, kind, body, author, at.micros()],
    )?;
    Ok(())
}

/// Moves a ticket on: its status, priority (which moves the due time) or assignee.
pub fn update_ticket(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &TicketUpdate,
) -> Result<Ticket, AfterSalesError> {
    let ticket = locked_ticket(tx, id, expected_version, ctx.now)?;
    let mut v = Violations::new();
    let status = parse_or(&mut v, "status", input.status.as_deref(), TicketStatus::parse, TicketStatus::choices);
    let priority =
        parse_or(&mut v, "priority", input.priority.as_deref(), TicketPriority::parse, TicketPriority::choices);
    let assignee = v.check(optional_text("assignee", input.assignee.as_deref(), 200));
    v.into_result()?;
    if let Some(next) = status.filter(|s| *s != ticket.status) {
        if !ticket.status.can_become(next) {
            return Err(AfterSalesError::Conflict(format!("{} is closed: open a new ticket", ticket.number)));
        }
        let resolved_at = (!next.is_open()).then(|| ticket.resolved_at.unwrap_or(ctx.now).micros());
        tx.execute(
            "UPDATE tickets SET status = ?, resolved_at = ? WHERE id = ?",
            params![next.as_str(), resolved_at, id],
        )?;
    }
    if let Some(priority) = priority.filter(|p| *p != ticket.priority) {
        let due = service_settings(tx)?.sla_hours.due_at(ticket.created_at, priority);
        tx.execute(
            "UPDATE tickets SET priority = ?, due_at = ? WHERE id = ?",
            params![priority.as_str(), due.micros(), id],
        )?;
    }
    if let Some(assignee) = assignee {
        tx.execute("UPDATE tickets SET assignee = ? WHERE id = ?", params![assignee, id])?;
    }
    touch(tx, id, ctx.now)?;
    let after = get_ticket(tx, id, ctx.now)?;
    if let Some(order_id) = after.order_id {
        let details = json!({"ticket": after.number, "status": after.status, "priority": after.priority, "assignee": after.assignee});
        orders::store::append_event(tx, order_id, &ctx.actor, "ticket_updated", &details, ctx.now)?;
    }
    Ok(after)
}

/// A reply the customer sees, an internal note, or the customer's own words. A staff reply
/// to a new ticket starts work on it; the customer writing back reopens a resolved one.
pub fn reply(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &NewReply) -> Result<Ticket, AfterSalesError> {
    let ticket = locked_ticket(tx, id, None, ctx.now)?;
    let body = required_text("body", input.body.as_deref(), 4000).map_err(|e| Invalid(vec![e]))?;
    if ticket.status == TicketStatus::Closed {
        return Err(AfterSalesError::Conflict(format!("{} is closed: open a new ticket", ticket.number)));
    }
    let kind = match (input.from_customer.unwrap_or(false), input.internal.unwrap_or(false)) {
        (true, _) => "customer",
        (false, true) => "note",
        (false, false) => "reply",
    };
    add_message(tx, id, kind, &body, &ctx.actor, ctx.now)?;
    let next = match (kind, ticket.status) {
        ("reply", TicketStatus::Open) => Some(TicketStatus::InProgress),
        ("customer", TicketStatus::Resolved | TicketStatus::WaitingOnCustomer) => Some(TicketStatus::Open),
        _ => None,
    };
    if let Some(next) = next {
        tx.execute("UPDATE tickets SET status = ?, resolved_at = NULL WHERE id = ?", params![next.as_str(), id])?;
    }
    if kind == "reply" && ticket.first_reply_at.is_none() {
        tx.execute("UPDATE tickets SET first_reply_at = ? WHERE id = ?", params![ctx.now.micros(), id])?;
    }
    touch(tx, id, ctx.now)?;
    get_ticket(tx, id, ctx.now)
}

fn touch(tx: &mut dyn Tx, id: i64, now: Timestamp) -> Result<(), DbError> {
    tx.execute("UPDATE tickets SET updated_at = ?, version = version + 1 WHERE id = ?", params![now.micros(), id])?;
    Ok(())
}

fn locked_ticket(
    tx: &mut dyn Tx,
    id: i64,
    expected_version: Option<i64>,
    now: Timestamp,
) -> Result<Ticket, AfterSalesError> {
    if tx.execute("UPDATE tickets SET version = version WHERE id = ?", params![id])? == 0 {
        return Err(AfterSalesError::TicketNotFound(id));
    }
    let ticket = get_ticket(tx, id, now)?;
    if expected_version.is_some_and(|v| v != ticket.version) {
        return Err(AfterSalesError::VersionMismatch { current: ticket.version });
    }
    Ok(ticket)
}

pub fn get_ticket(tx: &mut dyn Tx, id: i64, now: Timestamp) -> Result<Ticket, AfterSalesError> {
    let mut ticket =
        tickets_where(tx, "t.id = ?", params![id], now)?.pop().ok_or(AfterSalesError::TicketNotFound(id))?;
    ticket.messages = tx
        .query("SELECT id, kind, body, author, at FROM ticket_messages WHERE ticket_id = ? ORDER BY id", params![id])?
        .iter()
        .map(|r| {
            Ok(TicketMessage {
                id: r.int(0)?,
                kind: r.text(1)?,
                body: r.text(2)?,
                author: r.text(3)?,
                at: Timestamp(r.int(4)?),
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(ticket)
}

/// Tickets, the most urgent (earliest due) first.
pub fn list_tickets(tx: &mut dyn Tx, query: &TicketQuery, now: Timestamp) -> Result<TicketList, AfterSalesError> {
    let mut conditions = vec!["1 = 1".to_string()];
    let mut values: Vec<Value> = Vec::new();
    match query.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some("open") => conditions.push("t.status NOT IN ('resolved', 'closed')".into()),
        Some("overdue") => {
            conditions.push("t.status NOT IN ('resolved', 'closed') AND t.due_at < ?".into());
            values.push(now.micros().into());
        }
        Some(text) => {
            let status = TicketStatus::parse(text).ok_or_else(|| {
                Invalid::field("status", format!("must be open, overdue or one of {}", TicketStatus::choices()))
            })?;
            conditions.push("t.status = ?".into());
            values.push(status.as_str().into());
        }
        None => {}
    }
    if let Some(customer) = query.customer_id {
        conditions.push("t.customer_id = ?".into());
        values.push(customer.into());
    }
    if let Some(order) = query.order_id {
        conditions.push("t.order_id = ?".into());
        values.push(order.into());
    }
    if let Some(assignee) = query.assignee.as_deref().filter(|a| !a.is_empty()) {
        conditions.push("t.assignee = ?".into());
        values.push(assignee.into());
    }
    Ok(TicketList { items: tickets_where(tx, &conditions.join(" AND "), &values, now)? })
}

const TICKET_COLUMNS: &str = "t.id, t.number, t.customer_id, c.name, t.order_id, o.number, t.return_id, t.subject, \
    t.category, t.priority, t.status, t.source, t.assignee, t.due_at, t.first_reply_at, t.resolved_at, t.created_by, \
    t.created_at, t.updated_at, t.version";

pub(crate) fn tickets_where(
    tx: &mut dyn Tx,
    condition: &str,
    values: &[Value],
    now: Timestamp,
) -> Result<Vec<Ticket>, AfterSalesError> {
    let rows = tx.query(
        &format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t JOIN customers c ON c.id = t.customer_id \
             LEFT JOIN orders o ON o.id = t.order_id WHERE {condition} ORDER BY t.due_at, t.id LIMIT 200"
        ),
        values,
    )?;
    Ok(rows.iter().map(|r| ticket_row(r, now)).collect::<Result<_, _>>()?)
}

fn ticket_row(r: &Row, now: Timestamp) -> Result<Ticket, DbError> {
    let status = TicketStatus::parse(&r.text(10)?).unwrap_or(TicketStatus::Open);
    let due_at = Timestamp(r.int(13)?);
    Ok(Ticket {
        id: r.int(0)?,
        number: r.text(1)?,
        customer_id: r.int(2)?,
        customer_name: r.text(3)?,
        order_id: r.opt_int(4)?,
        order_number: r.opt_text(5)?,
        return_id: r.opt_int(6)?,
        subject: r.text(7)?,
        category: TicketCategory::parse(&r.text(8)?).unwrap_or(TicketCategory::Other),
        priority: TicketPriority::parse(&r.text(9)?).unwrap_or(TicketPriority::Normal),
        status,
        source: r.text(11)?,
        assignee: r.opt_text(12)?,
        due_at,
        overdue: is_overdue(status, due_at, now),
        first_reply_at: r.opt_int(14)?.map(Timestamp),
        resolved_at: r.opt_int(15)?.map(Timestamp),
        messages: Vec::new(),
        created_by: r.text(16)?,
        created_at: Timestamp(r.int(17)?),
        updated_at: Timestamp(r.int(18)?),
        version: r.int(19)?,
    })
}

/// The customer rates a delivered order once (1–5 stars); a low rating opens a complaint.
pub fn leave_feedback(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    input: &NewFeedback,
) -> Result<Feedback, AfterSalesError> {
    let mut v = Violations::new();
    let rating = input.rating.unwrap_or(0);
    if !(1..=5).contains(&rating) {
        v.add("rating", "must be 1 to 5");
    }
    let comment = v.check(optional_text("comment", input.comment.as_deref(), 2000)).flatten();
    v.into_result()?;
    let order = match orders::lock_order(tx, order_id, None) {
        Err(orders::OrderError::NotFound(id)) => return Err(AfterSalesError::OrderNotFound(id)),
        other => other?,
    };
    if !matches!(order.status, OrderStatus::Delivered | OrderStatus::Completed) {
        return Err(AfterSalesError::Conflict(format!(
            "{} is {}: it is rated once delivered",
            order.number, order.status
        )));
    }
    if get_feedback(tx, order_id)?.is_some() {
        return Err(AfterSalesError::Conflict(format!("{} is rated already", order.number)));
    }
    let settings = service_settings(tx)?;
    let ticket_id = if low_rating(rating, settings.low_rating_threshold) {
        let auto = Auto {
            customer_id: order.customer_id,
            order_id: Some(order_id),
            return_id: None,
            category: TicketCategory::Complaint,
            priority: TicketPriority::High,
            subject: format!("Rated {rating}/5: {}", order.number),
            source: "low_rating",
            message: comment.clone(),
        };
        Some(open_auto(tx, ctx, &auto)?)
    } else {
        None
    };
    tx.execute(
        "INSERT INTO feedback (order_id, customer_id, rating, comment, ticket_id, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![order_id, order.customer_id, rating, comment.clone(), ticket_id, ctx.actor.as_str(), ctx.now.micros()],
    )?;
    let details = json!({"rating": rating, "comment": comment});
    orders::store::append_event(tx, order_id, &ctx.actor, "rated", &details, ctx.now)?;
    let data = json!({"order_id": order_id, "order_number": order.number, "rating": rating, "ticket_id": ticket_id});
    crate::events::record(tx, "feedback.received", ("order", order_id), &data, ctx.now)?;
    get_feedback(tx, order_id)?.ok_or(AfterSalesError::OrderNotFound(order_id))
}

pub fn get_feedback(tx: &mut dyn Tx, order_id: i64) -> Result<Option<Feedback>, AfterSalesError> {
    let row = tx.query_opt(
        "SELECT order_id, customer_id, rating, comment, ticket_id, created_by, created_at FROM feedback WHERE order_id = ?",
        params![order_id],
    )?;
    Ok(row
        .map(|r| -> Result<Feedback, DbError> {
            Ok(Feedback {
                order_id: r.int(0)?,
                customer_id: r.int(1)?,
                rating: r.int(2)?,
                comment: r.opt_text(3)?,
                ticket_id: r.opt_int(4)?,
                created_by: r.text(5)?,
                created_at: Timestamp(r.int(6)?),
            })
        })
        .transpose()?)
}
