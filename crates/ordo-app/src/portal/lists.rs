//! Order lists (常用清单): a buyer keeps what their company orders again and again as an
//! order template of its own, and puts one in the cart at today's prices. Staff see the
//! same templates under the customer; templates staff share with every customer are
//! offered too, but only the company's own can be deleted here.

use super::{Buyer, PortalError, shop};
use crate::db::Tx;
use crate::orders::{self, NewOrderTemplate, OrderError, OrderTemplate, TemplateLine};

fn no_list(id: i64) -> PortalError {
    PortalError::NotFound(format!("no order list with id {id}"))
}

/// The company's own lists and the shared ones, by name.
pub fn my_lists(tx: &mut dyn Tx, buyer: &Buyer) -> Result<Vec<OrderTemplate>, PortalError> {
    Ok(orders::list_templates(tx, Some(buyer.customer_id))?.items)
}

/// A list the buyer may use: the company's own or a shared one.
fn usable(tx: &mut dyn Tx, buyer: &Buyer, id: i64) -> Result<OrderTemplate, PortalError> {
    match orders::get_template(tx, id) {
        Ok(list) if list.customer_id.is_none_or(|c| c == buyer.customer_id) => Ok(list),
        Ok(_) | Err(OrderError::TemplateNotFound(_)) => Err(no_list(id)),
        Err(other) => Err(other.into()),
    }
}

/// Keeps what is in the cart as a list of the company's, under `name`.
pub fn save_cart_as_list(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    ip: Option<String>,
    name: &str,
) -> Result<OrderTemplate, PortalError> {
    let lines: Vec<TemplateLine> = shop::cart_items(tx, buyer)?
        .into_iter()
        .map(|(sku, quantity)| TemplateLine { sku: Some(sku), quantity: Some(quantity) })
        .collect();
    if lines.is_empty() {
        return Err(ordo_domain::Invalid::field("lines", "the cart is empty: put what you order in it first").into());
    }
    let input = NewOrderTemplate {
        name: Some(name.to_string()),
        customer_id: Some(buyer.customer_id),
        lines: Some(lines),
        from_order_id: None,
    };
    Ok(orders::create_template(tx, &buyer.ctx(ip), &input)?)
}

/// Adds a list's products to the cart; the SKUs no longer sold are skipped and named.
pub fn list_to_cart(tx: &mut dyn Tx, buyer: &Buyer, id: i64) -> Result<Vec<String>, PortalError> {
    let list = usable(tx, buyer, id)?;
    shop::add_lines_to_cart(tx, buyer, list.lines.iter().map(|l| (l.sku.as_str(), l.quantity)))
}

/// Deletes one of the company's own lists (a shared one is staff's to delete).
pub fn delete_my_list(tx: &mut dyn Tx, buyer: &Buyer, ip: Option<String>, id: i64) -> Result<(), PortalError> {
    let list = usable(tx, buyer, id)?;
    if list.customer_id.is_none() {
        return Err(PortalError::Conflict(format!("{} is shared by the seller: it cannot be deleted here", list.name)));
    }
    Ok(orders::delete_template(tx, &buyer.ctx(ip), id)?)
}
