//! Buying in the portal: the catalogue at the customer's own prices with what is in stock,
//! a cart kept on the server (so it follows the buyer from phone to desk), and checkout,
//! which places an ordinary order on the `portal` channel through the same use case as
//! every other channel.

use super::{Buyer, CHANNEL, PortalError};
use crate::catalog::{self, Product};
use crate::common::{Page, PageRequest};
use crate::customers;
use crate::db::Tx;
use crate::orders::{self, NewOrder, NewOrderLine, Order, OrderError, Placed, Quote, ShelfPrice};
use crate::params;
use crate::payments::{self, OrderMethods};
use ordo_domain::FieldError;
use ordo_domain::customers::{Address, AddressInput};
use ordo_domain::money::MAX_LINE_QUANTITY;
use ordo_domain::validation::Violations;

/// Below this many free units a product shows as "only N left".
pub const LOW_STOCK: i64 = 10;

/// One product as the buyer sees it.
#[derive(Debug, Clone)]
pub struct ShopItem {
    pub product: Product,
    pub price: ShelfPrice,
    /// Free units over all warehouses.
    pub available: i64,
    /// in_stock, low, backorder (none free, but it can be ordered), out_of_stock.
    pub availability: &'static str,
    /// Units of it in the buyer's cart.
    pub in_cart: i64,
}

/// A page of the catalogue for the buyer: active products only, priced for their company.
pub fn shop(tx: &mut dyn Tx, buyer: &Buyer, q: Option<&str>, page: PageRequest) -> Result<Page<ShopItem>, PortalError> {
    let customer = customers::store::by_id(tx, buyer.customer_id)?
        .ok_or(OrderError::CustomerNotFound(buyer.customer_id))?
        .customer;
    let products = catalog::products_for_sale(tx, q, page)?;
    let prices = orders::shelf_prices(tx, buyer.customer_id, CHANNEL, &products.items)?;
    let ids: Vec<i64> = products.items.iter().map(|p| p.id).collect();
    let available = crate::inventory::store::available_totals(tx, &ids)?;
    let cart = cart_quantities(tx, buyer.user_id)?;
    let Page { items, next_cursor } = products;
    let items = items
        .into_iter()
        .zip(prices)
        .map(|(product, price)| {
            let free = available.iter().find(|(id, _)| *id == product.id).map(|(_, n)| *n).unwrap_or(0);
            let availability = match free {
                0 if product.backorderable && customer.accepts_backorders => "backorder",
                0 => "out_of_stock",
                n if n < LOW_STOCK => "low",
                _ => "in_stock",
            };
            let in_cart = cart.iter().find(|(id, _)| *id == product.id).map(|(_, n)| *n).unwrap_or(0);
            ShopItem { product, price, available: free, availability, in_cart }
        })
        .collect();
    Ok(Page { items, next_cursor })
}

fn cart_quantities(tx: &mut dyn Tx, user_id: i64) -> Result<Vec<(i64, i64)>, crate::DbError> {
    tx.query("SELECT product_id, quantity FROM portal_cart_items WHERE user_id = ?", params![user_id])?
        .iter()
        .map(|r| Ok((r.int(0)?, r.int(1)?)))
        .collect()
}

/// A product in the cart.
#[derive(Debug, Clone)]
pub struct CartLine {
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub quantity: i64,
    /// False when the product was taken off sale after it was put in the cart.
    pub for_sale: bool,
}

/// The cart, priced as the order would be now (promotions and coupon included), with
/// where it can go and how it can be paid.
#[derive(Debug, Clone)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// None while the cart is empty or cannot be priced (see `problems`).
    pub quote: Option<Quote>,
    /// Why the cart cannot be ordered as it is (an unknown coupon, a product off sale…).
    pub problems: Vec<FieldError>,
    /// The company's delivery addresses: its own, then those of its recent orders.
    pub addresses: Vec<Address>,
    pub methods: Option<OrderMethods>,
    pub coupon_code: Option<String>,
}

fn cart_lines(tx: &mut dyn Tx, user_id: i64) -> Result<Vec<CartLine>, crate::DbError> {
    tx.query(
        "SELECT p.sku, p.name, p.unit, c.quantity, p.active FROM portal_cart_items c \
         JOIN products p ON p.id = c.product_id WHERE c.user_id = ? ORDER BY c.added_at, p.sku",
        params![user_id],
    )?
    .iter()
    .map(|r| {
        Ok(CartLine { sku: r.text(0)?, name: r.text(1)?, unit: r.text(2)?, quantity: r.int(3)?, for_sale: r.bool(4)? })
    })
    .collect()
}

/// The buyer's cart, priced with `coupon` and delivered to the address at `address`
/// (an index into the address book; default the first).
pub fn cart(tx: &mut dyn Tx, buyer: &Buyer, coupon: Option<&str>, address: Option<usize>) -> Result<Cart, PortalError> {
    let lines = cart_lines(tx, buyer.user_id)?;
    let addresses = address_book(tx, buyer.customer_id)?;
    let coupon_code = coupon.map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    let mut cart = Cart { lines, quote: None, problems: Vec::new(), addresses, methods: None, coupon_code };
    if cart.lines.is_empty() {
        return Ok(cart);
    }
    let ship_to = address.and_then(|i| cart.addresses.get(i)).or(cart.addresses.first()).cloned();
    let mut draft = draft(buyer, &cart.lines, ship_to.as_ref().map(AddressInput::from));
    draft.coupon_code = cart.coupon_code.clone();
    let quote = match orders::quote_order(tx, &draft) {
        // A coupon that cannot be used is said so, and the cart is priced without it.
        Err(OrderError::Invalid(invalid)) if draft.coupon_code.is_some() => {
            let (coupon, other): (Vec<FieldError>, Vec<FieldError>) =
                invalid.0.into_iter().partition(|e| e.field == "coupon_code");
            cart.problems.extend(coupon);
            cart.problems.extend(other);
            draft.coupon_code = None;
            orders::quote_order(tx, &draft)
        }
        other => other,
    };
    match quote {
        Ok(quote) => {
            let customer = customers::store::by_id(tx, buyer.customer_id)?
                .ok_or(OrderError::CustomerNotFound(buyer.customer_id))?
                .customer;
            let credit = payments::ledger::store_credit(tx, customer.id, quote.currency)?;
            let settings = payments::payment_settings(tx)?;
            let facts = payments::methods::facts(CHANNEL, ship_to.as_ref(), quote.total, &customer, credit);
            cart.methods = Some(payments::methods::offer(&settings.methods, &facts));
            cart.quote = Some(quote);
        }
        Err(OrderError::Invalid(invalid)) => {
            for e in invalid.0 {
                if !cart.problems.contains(&e) {
                    cart.problems.push(e);
                }
            }
        }
        Err(other) => return Err(other.into()),
    }
    Ok(cart)
}

fn draft(buyer: &Buyer, lines: &[CartLine], ship_to: Option<AddressInput>) -> NewOrder {
    NewOrder {
        customer_id: Some(buyer.customer_id),
        channel: Some(CHANNEL.into()),
        lines: Some(
            lines
                .iter()
                .map(|l| NewOrderLine { sku: Some(l.sku.clone()), quantity: Some(l.quantity), ..Default::default() })
                .collect(),
        ),
        shipping_address: ship_to,
        ..Default::default()
    }
}

/// Puts `quantity` of `sku` in the cart (`add`: on top of what is there), or takes it out
/// at zero.
pub fn set_in_cart(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    sku: &str,
    quantity: i64,
    unit: Option<&str>,
    add: bool,
) -> Result<i64, PortalError> {
    let sku = sku.trim();
    let product = catalog::store::products_by_skus(tx, &[sku])?
        .into_iter()
        .find(|p| p.sku == sku && p.active)
        .ok_or_else(|| ordo_domain::Invalid::field("sku", format!("{sku:?} is not in the catalogue")))?;
    // The cart counts the product's own unit: 2 箱 of 12 go in as 24.
    let (quantity, _) = ordo_domain::catalog::in_base_units(
        "unit",
        sku,
        &product.unit,
        &product.packs,
        unit.unwrap_or_default(),
        quantity,
    )
    .map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let current = cart_quantities(tx, buyer.user_id)?;
    let already = current.iter().find(|(id, _)| *id == product.id).map(|(_, n)| *n);
    let wanted = if add { already.unwrap_or(0).saturating_add(quantity) } else { quantity };
    let mut v = Violations::new();
    if !(0..=MAX_LINE_QUANTITY).contains(&wanted) || (add && quantity < 1) {
        v.add("quantity", format!("must be a whole number from 1 to {MAX_LINE_QUANTITY}"));
    }
    if already.is_none() && wanted > 0 && current.len() >= orders::MAX_LINES {
        v.add("sku", format!("a cart holds at most {} products", orders::MAX_LINES));
    }
    v.into_result()?;
    let now = ordo_domain::Timestamp::now().micros();
    match (already, wanted) {
        (_, 0) => {
            tx.execute(
                "DELETE FROM portal_cart_items WHERE user_id = ? AND product_id = ?",
                params![buyer.user_id, product.id],
            )?;
        }
        (Some(_), n) => {
            tx.execute(
                "UPDATE portal_cart_items SET quantity = ? WHERE user_id = ? AND product_id = ?",
                params![n, buyer.user_id, product.id],
            )?;
        }
        (None, n) => {
            tx.execute(
                "INSERT INTO portal_cart_items (user_id, product_id, quantity, added_at) VALUES (?, ?, ?, ?)",
                params![buyer.user_id, product.id, n, now],
            )?;
        }
    }
    Ok(wanted)
}

/// Units in the buyer's cart, for the badge on every page.
pub fn cart_count(tx: &mut dyn Tx, buyer: &Buyer) -> Result<i64, PortalError> {
    Ok(tx.query_one("SELECT COUNT(*) FROM portal_cart_items WHERE user_id = ?", params![buyer.user_id])?.int(0)?)
}

/// The company's delivery addresses: the customer's shipping and billing addresses,
/// then those its last 100 orders went to, each once.
pub fn address_book(tx: &mut dyn Tx, customer_id: i64) -> Result<Vec<Address>, PortalError> {
    let customer = customers::store::by_id(tx, customer_id)?.ok_or(OrderError::CustomerNotFound(customer_id))?.customer;
    let mut book: Vec<Address> = Vec::new();
    let used = tx.query(
        "SELECT shipping_address FROM orders WHERE customer_id = ? AND shipping_address IS NOT NULL ORDER BY id DESC LIMIT 100",
        params![customer_id],
    )?;
    let earlier =
        used.iter().filter_map(|r| r.opt_text(0).ok().flatten()).filter_map(|t| serde_json::from_str(&t).ok());
    for address in customer.shipping_address.into_iter().chain(customer.billing_address).chain(earlier) {
        if !book.contains(&address) {
            book.push(address);
        }
    }
    Ok(book)
}

/// How the buyer checks out.
#[derive(Debug, Clone, Default)]
pub struct Checkout {
    /// An index into the address book.
    pub address: Option<usize>,
    /// A new address, used instead of the book when given.
    pub new_address: Option<AddressInput>,
    pub payment_method: Option<String>,
    pub coupon_code: Option<String>,
    pub notes: Option<String>,
    /// `YYYY-MM-DD`.
    pub requested_delivery_date: Option<String>,
}

/// Places the cart as an order and empties the cart, in one transaction. A second submit
/// of the same checkout finds the cart empty and places nothing.
pub fn checkout(tx: &mut dyn Tx, buyer: &Buyer, ip: Option<String>, input: &Checkout) -> Result<Order, PortalError> {
    let lines = cart_lines(tx, buyer.user_id)?;
    if lines.is_empty() {
        return Err(PortalError::Conflict("your cart is empty".into()));
    }
    let ship_to = match &input.new_address {
        Some(address) => Some(address.clone()),
        None => {
            let book = address_book(tx, buyer.customer_id)?;
            match input.address {
                Some(i) if i >= book.len() => {
                    return Err(ordo_domain::Invalid::field("address", "choose one of the addresses shown").into());
                }
                Some(i) => book.get(i).map(AddressInput::from),
                None => book.first().map(AddressInput::from),
            }
        }
    };
    let mut order = draft(buyer, &lines, ship_to);
    order.payment_method = input.payment_method.clone().filter(|m| !m.trim().is_empty());
    order.coupon_code = input.coupon_code.clone().filter(|c| !c.trim().is_empty());
    order.notes = input.notes.clone().filter(|n| !n.trim().is_empty());
    order.requested_delivery_date = input.requested_delivery_date.clone().filter(|d| !d.trim().is_empty());
    let ctx = buyer.ctx(ip);
    let placed = match orders::place_order(tx, &ctx, &order)? {
        Placed::Created(order) | Placed::Existing(order) => order,
    };
    tx.execute("DELETE FROM portal_cart_items WHERE user_id = ?", params![buyer.user_id])?;
    Ok(placed)
}

/// Puts a past order's products back in the cart (at today's prices, when the cart is
/// priced); returns the SKUs that are no longer for sale.
pub fn reorder_to_cart(tx: &mut dyn Tx, buyer: &Buyer, order_id: i64) -> Result<Vec<String>, PortalError> {
    let order = super::my_order(tx, buyer, order_id)?;
    add_lines_to_cart(tx, buyer, order.lines.iter().map(|l| (l.sku.as_str(), l.quantity)))
}

/// Adds (SKU, quantity) lines to the cart; returns the SKUs skipped (no longer sold).
pub(super) fn add_lines_to_cart<'a>(
    tx: &mut dyn Tx,
    buyer: &Buyer,
    lines: impl Iterator<Item = (&'a str, i64)>,
) -> Result<Vec<String>, PortalError> {
    let mut skipped = Vec::new();
    for (sku, quantity) in lines {
        match set_in_cart(tx, buyer, sku, quantity, None, true) {
            Ok(_) => {}
            Err(PortalError::Invalid(_)) => skipped.push(sku.to_string()),
            Err(other) => return Err(other),
        }
    }
    Ok(skipped)
}

/// The cart as (SKU, quantity), oldest first.
pub(super) fn cart_items(tx: &mut dyn Tx, buyer: &Buyer) -> Result<Vec<(String, i64)>, crate::DbError> {
    tx.query(
        "SELECT p.sku, c.quantity FROM portal_cart_items c JOIN products p ON p.id = c.product_id \
         WHERE c.user_id = ? ORDER BY c.added_at, p.sku",
        params![buyer.user_id],
    )?
    .iter()
    .map(|r| Ok((r.text(0)?, r.int(1)?)))
    .collect()
}
