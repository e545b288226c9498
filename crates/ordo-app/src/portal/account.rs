//! The buyer's own records: orders with their shipments, invoices and returns, the
//! account statement (对账单), and the after-sales requests a buyer makes. Each function
//! checks the record belongs to the buyer's company before anything else.

use super::{Buyer, PortalError};
use crate::aftersales::{self, Feedback, NewFeedback, NewReturn, Return, ReturnQuery};
use crate::common::{Page, PageRequest};
use crate::db::Tx;
use crate::fulfillment::{self, Shipment};
use crate::orders::{self, Order, OrderError, OrderFilter};
use crate::payments::{self, Invoice, Payment, Statement};
use ordo_domain::time::Date;
use ordo_domain::{Currency, Timestamp};

fn no_order(id: i64) -> PortalError {
    // The same words whether the order is another company's or does not exist.
    PortalError::NotFound(format!("no order with id {id}"))
}

/// The buyer's company's orders, newest first; `status` filters.
pub fn my_orders(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<Order>, PortalError> {
    let filter =
        OrderFilter { customer_id: Some(buyer.customer_id), status: status.map(str::to_string), ..Default::default() };
    Ok(orders::list_orders(tx, &filter, page)?)
}

/// One of the company's orders, or not found.
pub fn my_order(tx: &mut dyn Tx, buyer: &Buyer, order_id: i64) -> Result<Order, PortalError> {
    match orders::get_order(tx, order_id) {
        Ok(order) if order.customer_id == buyer.customer_id => Ok(order),
        Ok(_) | Err(OrderError::NotFound(_)) => Err(no_order(order_id)),
        Err(other) => Err(other.into()),
    }
}

/// Everything the order page shows.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Order,
    pub shipments: Vec<Shipment>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
    pub returns: Vec<Return>,
    pub feedback: Option<Feedback>,
    /// Online methods the buyer may pay what is due with now (none when nothing is due).
    pub pay_now: Vec<payments::MethodChoice>,
    /// What is due less what is authorised at a provider.
    open: rust_decimal::Decimal,
}

pub fn my_order_view(tx: &mut dyn Tx, buyer: &Buyer, order_id: i64) -> Result<OrderView, PortalError> {
    let order = my_order(tx, buyer, order_id)?;
    let shipments = fulfillment::order_shipments(tx, order_id)?.items;
    let invoices = payments::order_invoices(tx, order_id)?.items;
    let payments = payments::order_payments(tx, order_id)?.items;
    let query = ReturnQuery { order_id: Some(order_id), ..Default::default() };
    let returns = aftersales::list_returns(tx, &query)?.items;
    let feedback = aftersales::get_feedback(tx, order_id)?;
    let pay_now = online_methods(tx, &order)?;
    let open = order.amounts.due - order.amounts.authorized;
    Ok(OrderView { order, shipments, invoices, payments, returns, feedback, pay_now, open })
}

impl OrderView {
    /// What is due and not yet waiting at a provider.
    pub fn open_amount(&self) -> &rust_decimal::Decimal {
        &self.open
    }
}

/// The online methods the method rules offer for the order, while something is due and no
/// payment of it is waiting at a provider.
fn online_methods(tx: &mut dyn Tx, order: &Order) -> Result<Vec<payments::MethodChoice>, PortalError> {
    let open = order.amounts.due - order.amounts.authorized;
    if order.status == ordo_domain::orders::OrderStatus::Cancelled || open <= rust_decimal::Decimal::ZERO {
        return Ok(Vec::new());
    }
    Ok(payments::methods::methods_for(tx, order)?
        .methods
        .into_iter()
        .filter(|m| m.available && m.kind == ordo_domain::payments::MethodKind::Online)
        .collect())
}

/// Opens a payment of what is due with an online method, for the buyer to finish on the
/// provider's page: the address to send them to. A failed payment can be tried again.
pub fn pay_my_order(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    ip: Option<String>,
    order_id: i64,
    method: &str,
) -> Result<String, PortalError> {
    let order = my_order(tx, buyer, order_id)?;
    let offered = online_methods(tx, &order)?;
    if !offered.iter().any(|m| m.code == method) {
        return Err(PortalError::Conflict(if offered.is_empty() {
            format!("{} has nothing to pay online now", order.number)
        } else {
            format!("{} cannot be paid with {method:?}", order.number)
        }));
    }
    let amount = order.amounts.due - order.amounts.authorized;
    let input = payments::NewPayment {
        method: Some(method.to_string()),
        amount: Some(crate::common::AmountInput(amount.to_string())),
        reference: None,
    };
    let payment = payments::record_payment(tx, &buyer.ctx(ip), order_id, &input)?;
    payment.redirect_url.ok_or_else(|| PortalError::Conflict(format!("{method} has no page to pay on")))
}

/// One of the company's invoices or credit notes, or not found.
pub fn my_invoice(tx: &mut dyn Tx, buyer: &Buyer, invoice_id: i64) -> Result<Invoice, PortalError> {
    match payments::get_invoice(tx, invoice_id) {
        Ok(invoice) if invoice.customer_id == buyer.customer_id => Ok(invoice),
        Ok(_) | Err(payments::PaymentError::InvoiceNotFound(_)) => {
            Err(PortalError::NotFound(format!("no invoice with id {invoice_id}")))
        }
        Err(other) => Err(other.into()),
    }
}

/// The company's invoices and credit notes, newest first.
pub fn my_invoices(tx: &mut dyn Tx, buyer: &Buyer) -> Result<Vec<Invoice>, PortalError> {
    Ok(payments::list_invoices(tx, Some(buyer.customer_id), 200)?)
}

/// The company's statement for a period, in its currency (default: this month so far).
pub fn my_statement(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<Statement, PortalError> {
    let to = to.unwrap_or_else(|| Date::of(Timestamp::now()));
    let from = from.unwrap_or(Date { day: 1, ..to });
    if from > to {
        return Err(ordo_domain::Invalid::field("from", "must not be after to").into());
    }
    let customer = crate::customers::store::by_id(tx, buyer.customer_id)?
        .ok_or(OrderError::CustomerNotFound(buyer.customer_id))?
        .customer;
    let currency = match customer.currency {
        Some(currency) => currency,
        None => tx
            .query_opt(
                "SELECT currency FROM orders WHERE customer_id = ? ORDER BY id DESC LIMIT 1",
                crate::params![buyer.customer_id],
            )?
            .and_then(|r| r.text(0).ok())
            .and_then(|c| Currency::parse(&c))
            .unwrap_or(Currency::CNY),
    };
    Ok(payments::statement(tx, buyer.customer_id, currency, from, to)?)
}

/// Asks to return goods of a delivered order; staff approve or reject it.
pub fn request_return(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    ip: Option<String>,
    order_id: i64,
    input: &NewReturn,
) -> Result<Return, PortalError> {
    my_order(tx, buyer, order_id)?;
    Ok(aftersales::request_return(tx, &buyer.ctx(ip), order_id, input)?)
}

/// Rates a delivered order (a low rating opens a complaint ticket for the service desk).
pub fn leave_feedback(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    ip: Option<String>,
    order_id: i64,
    input: &NewFeedback,
) -> Result<Feedback, PortalError> {
    my_order(tx, buyer, order_id)?;
    Ok(aftersales::leave_feedback(tx, &buyer.ctx(ip), order_id, input)?)
}

/// Cancels one of the company's orders while the business still allows it.
pub fn cancel_my_order(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    ip: Option<String>,
    order_id: i64,
    reason: &str,
) -> Result<Order, PortalError> {
    my_order(tx, buyer, order_id)?;
    let input = orders::CancelOrder { reason: Some(reason.to_string()) };
    Ok(orders::cancel_order(tx, &buyer.ctx(ip), order_id, None, &input)?)
}
