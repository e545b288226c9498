//! Order use cases.

use super::model::*;
use super::review;
use super::store::{self, LineRow, ListFilter, OrderRow};
use crate::catalog::{self, Product};
use crate::common::{Ctx, Page, PageRequest};
use crate::customers;
use crate::db::{DbError, Tx};
use crate::inventory::store::{self as stock, NewMovement};
use crate::payments::fx::DayRates;
use ordo_domain::checks::{HoldCode, HoldReason};
use ordo_domain::customers::Address;
use ordo_domain::fulfillment::Need;
use ordo_domain::inventory::MovementKind;
use ordo_domain::money::{MAX_LINE_QUANTITY, from_e4_in};
use ordo_domain::orders::{
    self as rules, ChannelKind, FulfillmentStatus, LinePricing, OrderAction, OrderStatus, PaymentStatus,
};
use ordo_domain::pricing::{self, Applied, Conversion, LineNote};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations, optional_text};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;

/// A request that passed validation: every field in its domain type.
struct ValidOrder {
    customer_id: i64,
    channel: String,
    external_ref: Option<String>,
    currency: Option<Currency>,
    lines: Vec<ValidLine>,
    shipping_address: Option<Address>,
    notes: Option<String>,
    requested_delivery_date: Option<Date>,
    payment_method: Option<String>,
    shipping_service: Option<String>,
    /// Upper-case.
    coupon: Option<String>,
}

struct ValidLine {
    sku: String,
    /// In the product's own unit once `prepare` has read the product; of `unit` before.
    quantity: i64,
    unit: Option<String>,
    pack: Option<ordo_domain::catalog::Pack>,
    unit_price: Option<Decimal>,
    discount_percent: Decimal,
}

fn validate(input: &NewOrder) -> Result<ValidOrder, ordo_domain::Invalid> {
    validate_on(input, true)
}

/// `channel_open`: whether the registry has the channel named (and it is active).
fn validate_on(input: &NewOrder, channel_open: bool) -> Result<ValidOrder, ordo_domain::Invalid> {
    let mut v = Violations::new();
    let customer_id = match input.customer_id {
        Some(id) => Some(id),
        None => {
            v.add("customer_id", "is required");
            None
        }
    };
    let channel = match input.channel.as_deref().map(str::trim) {
        None | Some("") => Some(ChannelKind::Api.as_str().to_string()),
        Some(text) => v.check(ordo_domain::orders::check_channel_code("channel", Some(text)).and_then(|code| {
            if channel_open {
                Ok(code)
            } else {
                Err(FieldError::new("channel", format!("no active channel has the code {code} (see /api/v1/channels)")))
            }
        })),
    };
    let external_ref = v.check(optional_text("external_ref", input.external_ref.as_deref(), 100));
    let currency = v.check(Currency::field("currency", input.currency.as_deref()));
    let mut lines = Vec::new();
    match input.lines.as_deref() {
        None | Some([]) => v.add("lines", "an order needs at least one line"),
        Some(given) if given.len() > MAX_LINES => {
            v.add("lines", format!("an order may have at most {MAX_LINES} lines"))
        }
        Some(given) => {
            for (i, line) in given.iter().enumerate() {
                let sku = v.check(ordo_domain::catalog::parse_sku(&format!("lines[{i}].sku"), line.sku.as_deref()));
                let quantity = match line.quantity {
                    None => v.check(Err(FieldError::new(format!("lines[{i}].quantity"), "is required"))),
                    Some(q) if q <= 0 => {
                        v.check(Err(FieldError::new(format!("lines[{i}].quantity"), "must be at least 1")))
                    }
                    Some(q) if q > MAX_LINE_QUANTITY => v.check(Err(FieldError::new(
                        format!("lines[{i}].quantity"),
                        format!("must be at most {MAX_LINE_QUANTITY}"),
                    ))),
                    Some(q) => Some(q),
                };
                let unit_price = v.check(
                    line.unit_price.as_ref().map(|p| p.parse(&format!("lines[{i}].unit_price"), false)).transpose(),
                );
                let discount_field = format!("lines[{i}].discount_percent");
                let discount_percent = v.check(match &line.discount_percent {
                    None => Ok(Decimal::ZERO),
                    Some(raw) => raw.parse(&discount_field, false).and_then(|d| {
                        if d > Decimal::ONE_HUNDRED {
                            Err(FieldError::new(&discount_field, "must be between 0 and 100"))
                        } else {
                            Ok(d)
                        }
                    }),
                });
                if let (Some(sku), Some(quantity), Some(unit_price), Some(discount_percent)) =
                    (sku, quantity, unit_price, discount_percent)
                {
                    let unit = line.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
                    lines.push(ValidLine { sku, quantity, unit, pack: None, unit_price, discount_percent });
                }
            }
        }
    }
    let shipping_address = match &input.shipping_address {
        None => Some(None),
        Some(a) => a.parse("shipping_address", &mut v).map(Some),
    };
    let notes = v.check(optional_text("notes", input.notes.as_deref(), 2000));
    let requested_delivery_date =
        v.check(Date::field("requested_delivery_date", input.requested_delivery_date.as_deref()));
    if input.coupon_code.as_deref().is_some_and(|c| c.chars().count() > 32) {
        v.add("coupon_code", "must be at most 32 characters");
    }
    if let Some(named) = input.shipping_service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let well_formed = named.len() <= 65
            && named.split('/').count() <= 2
            && named
                .split('/')
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        if !well_formed {
            v.add("shipping_service", "must be CARRIER, CARRIER/SERVICE (codes) or pickup");
        }
    }
    v.into_result()?;
    match (customer_id, channel, external_ref, currency, shipping_address, notes, requested_delivery_date) {
        (
            Some(customer_id),
            Some(channel),
            Some(external_ref),
            Some(currency),
            Some(shipping_address),
            Some(notes),
            Some(requested_delivery_date),
        ) => Ok(ValidOrder {
            customer_id,
            channel,
            external_ref,
            currency,
            lines,
            shipping_address,
            notes,
            requested_delivery_date,
            payment_method: input.payment_method.clone(),
            shipping_service: input
                .shipping_service
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            coupon: input.coupon_code.as_deref().map(crate::promotions::normalize_coupon).filter(|c| !c.is_empty()),
        }),
        _ => unreachable!("every field was checked above"),
    }
}

/// A validated order, priced for its customer: everything but the stock.
struct Prepared {
    order: ValidOrder,
    customer: customers::store::CustomerRecord,
    products: Vec<Product>,
    currency: Currency,
    pricing: Vec<LinePricing>,
    priced: Vec<rules::PricedLine>,
    totals: rules::Totals,
    /// The price each line would have from the price lists, where there is one.
    list_prices: Vec<Option<Decimal>>,
    /// Each line's price explained, adjustments included.
    notes: Vec<LineNote>,
    applied: Applied,
    promotions: Vec<crate::promotions::Promotion>,
}

/// "no product has SKU …", with the close ones when there are any.
pub(crate) fn unknown_sku(tx: &mut dyn Tx, sku: &str) -> Result<String, crate::DbError> {
    let near = catalog::store::close_skus(tx, sku)?;
    Ok(if near.is_empty() {
        format!("no product has SKU {sku:?}")
    } else {
        format!("no product has SKU {sku:?}; did you mean {}?", near.join(", "))
    })
}

/// Prices the order as of `at`: promotions running then apply (an edit passes the time the
/// order was placed, so it keeps the promotions it was sold with).
fn prepare(tx: &mut dyn Tx, mut order: ValidOrder, at: Timestamp) -> Result<Prepared, OrderError> {
    let customer = customers::store::by_id(tx, order.customer_id)?.ok_or_else(|| {
        ordo_domain::Invalid::field("customer_id", format!("no customer has id {}", order.customer_id))
    })?;
    let mut skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    let found = catalog::store::products_by_skus(tx, &skus)?;
    let mut v = Violations::new();
    let mut products: Vec<Product> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        match found.iter().find(|p| p.sku == line.sku) {
            None => v.add(format!("lines[{i}].sku"), unknown_sku(tx, &line.sku)?),
            Some(p) if !p.active => {
                v.add(format!("lines[{i}].sku"), format!("product {:?} is not for sale (inactive)", line.sku))
            }
            Some(p) => products.push(p.clone()),
        }
    }
    v.into_result()?;
    // Packs become the product's own unit: 3 box of 12 are 36.
    let mut v = Violations::new();
    for (i, (line, product)) in order.lines.iter_mut().zip(&products).enumerate() {
        let Some(unit) = &line.unit else { continue };
        let field = format!("lines[{i}].unit");
        match ordo_domain::catalog::in_base_units(&field, &line.sku, &product.unit, &product.packs, unit, line.quantity)
        {
            Ok((units, _)) if units > MAX_LINE_QUANTITY => v.add(
                format!("lines[{i}].quantity"),
                format!("{} {unit} make {units} {}, more than {MAX_LINE_QUANTITY}", line.quantity, product.unit),
            ),
            Ok((units, pack)) => {
                line.quantity = units;
                line.pack = pack;
            }
            Err(error) => v.add(error.field, error.message),
        }
    }
    v.into_result()?;

    let currency = order.currency.or(customer.customer.currency).unwrap_or(products[0].currency);
    let product_ids: Vec<i64> = products.iter().map(|p| p.id).collect();
    let c = &customer.customer;
    let offers =
        catalog::store::list_offers(tx, customer.price_list_id, &c.group, &order.channel, currency, &product_ids)?;
    // Rates by product class and destination, where rules cover them; read only when some
    // product has a class, so an order of unclassed goods costs no extra query.
    let destination = order.shipping_address.as_ref().or(c.shipping_address.as_ref());
    let mut classes: Vec<String> = products.iter().filter_map(|p| p.category.clone()).collect();
    classes.sort_unstable();
    classes.dedup();
    let tax_rules = match destination {
        Some(_) if !classes.is_empty() => catalog::store::tax_rules(tx, Some(&classes))?,
        _ => Vec::new(),
    };
    let tax_rate = |product: &Product| -> Decimal {
        match (destination, &product.category) {
            (Some(to), Some(class)) if !tax_rules.is_empty() => {
                ordo_domain::tax::rate_for(&tax_rules, class, &to.country, to.region.as_deref())
                    .unwrap_or(product.tax_rate)
            }
            _ => product.tax_rate,
        }
    };
    let mut v = Violations::new();
    let mut pricing = Vec::with_capacity(order.lines.len());
    let mut listed = Vec::with_capacity(order.lines.len());
    let mut notes = Vec::with_capacity(order.lines.len());
    let mut rates = DayRates::new(at);
    for (i, (line, product)) in order.lines.iter().zip(&products).enumerate() {
        let offer = catalog::store::best_offer(&offers, product.id, line.quantity);
        let (catalog_price, converted) = catalog_price(tx, &mut rates, product, currency)?;
        listed.push(offer.as_ref().map(|o| o.price).or(catalog_price));
        let (unit_price, note) = match (line.unit_price, &offer, catalog_price) {
            (Some(entered), _, _) => (entered, LineNote::entered()),
            (None, Some(offer), _) => (offer.price, LineNote::from_offer(Some(offer))),
            (None, None, Some(price)) => (price, LineNote { converted, ..LineNote::from_offer(None) }),
            (None, None, None) => {
                v.add(
                    format!("lines[{i}].unit_price"),
                    format!(
                        "{} has no price in {currency}; give unit_price, add it to a price list, or enter exchange \
                         rates for {currency} and {}",
                        product.sku, product.currency
                    ),
                );
                continue;
            }
        };
        notes.push(note);
        pricing.push(LinePricing {
            quantity: line.quantity,
            unit_price,
            discount_percent: line.discount_percent,
            tax_rate: tax_rate(product),
            off: Decimal::ZERO,
            // The list that prices the line says whether its prices hold the tax; a price
            // typed in over it is read the same way.
            tax_included: offer.as_ref().is_some_and(|o| o.tax_included),
        });
    }
    v.into_result()?;

    let promotions = crate::promotions::for_pricing(tx, at, order.coupon.as_deref())?;
    let rules_now: Vec<pricing::Promotion> = promotions.iter().map(|p| p.rule()).collect();
    let lines: Vec<pricing::Line> = order
        .lines
        .iter()
        .zip(&pricing)
        .map(|(line, p)| pricing::Line {
            sku: &line.sku,
            quantity: line.quantity,
            amount: rules::line_amount(currency, p),
        })
        .collect();
    let buyer = pricing::Buyer {
        group: &c.group,
        channel: &order.channel,
        currency,
        tier: c.tier.as_deref().zip(customer.tier_discount),
        now: at,
    };
    let applied = pricing::apply(currency, &buyer, &lines, &rules_now, order.coupon.as_deref(), "coupon_code")
        .map_err(|e| ordo_domain::Invalid(vec![e]))?;
    for (i, adjustments) in applied.lines.iter().enumerate() {
        notes[i].adjustments = adjustments.clone();
        pricing[i].off = notes[i].off();
    }
    let (priced, totals) = rules::price_lines(currency, &pricing);
    Ok(Prepared {
        order,
        customer,
        products,
        currency,
        pricing,
        priced,
        totals,
        list_prices: listed,
        notes,
        applied,
        promotions,
    })
}

/// The priced lines, not yet reserved anywhere.
fn order_lines(p: &Prepared) -> Vec<OrderLine> {
    p.order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| OrderLine {
            line_no: i as i64 + 1,
            sku: line.sku.clone(),
            name: p.products[i].name.clone(),
            quantity: line.quantity,
            unit_price: p.currency.show(p.pricing[i].unit_price),
            discount_percent: line.discount_percent.normalize(),
            tax_rate: p.pricing[i].tax_rate,
            line_total: p.priced[i].line_total,
            tax: p.priced[i].tax,
            warehouse: String::new(),
            backordered_quantity: 0,
            promise_date: None,
            picked_quantity: 0,
            shipped_quantity: 0,
            pricing: Some(p.notes[i].clone()),
            pack: line.pack.clone(),
            tax_included: p.pricing[i].tax_included,
        })
        .collect()
}

/// Prices the lines of an edit for the order's customer: each line and its product id.
pub(crate) fn price_for_edit(
    tx: &mut dyn Tx,
    input: &NewOrder,
    placed_at: Timestamp,
) -> Result<Vec<(OrderLine, i64, bool)>, OrderError> {
    let prepared = prepare(tx, validate(input)?, placed_at)?;
    let backorders_ok = prepared.customer.customer.accepts_backorders;
    Ok(order_lines(&prepared)
        .into_iter()
        .zip(prepared.products.iter().map(|p| (p.id, p.backorderable && backorders_ok)))
        .map(|(line, (id, backorderable))| (line, id, backorderable))
        .collect())
}

/// What a customer pays for each product today on `channel`, before promotions: the best
/// price list's price for one unit, with its quantity breaks, else the catalog price.
/// The catalog price of a product in the order's currency: its own, or converted from its
/// currency at today's exchange rates (said on the line) when both have a rate.
fn catalog_price(
    tx: &mut dyn Tx,
    rates: &mut DayRates,
    product: &Product,
    currency: Currency,
) -> Result<(Option<Decimal>, Option<Conversion>), DbError> {
    if product.currency == currency {
        return Ok((Some(product.price), None));
    }
    Ok(match rates.price_in(tx, product.price, product.currency, currency)? {
        Some((price, rate)) => (Some(price), Some(Conversion { from: product.currency, price: product.price, rate })),
        None => (None, None),
    })
}

pub fn shelf_prices(
    tx: &mut dyn Tx,
    customer_id: i64,
    channel: &str,
    products: &[Product],
) -> Result<Vec<ShelfPrice>, OrderError> {
    let customer = customers::store::by_id(tx, customer_id)?.ok_or(OrderError::CustomerNotFound(customer_id))?;
    let c = &customer.customer;
    let mut currencies: Vec<Currency> = products.iter().map(|p| c.currency.unwrap_or(p.currency)).collect();
    currencies.sort_unstable_by(|a, b| a.code().cmp(b.code()));
    currencies.dedup();
    let mut offers = Vec::new();
    for currency in currencies {
        let ids: Vec<i64> =
            products.iter().filter(|p| c.currency.unwrap_or(p.currency) == currency).map(|p| p.id).collect();
        offers.push((
            currency,
            catalog::store::list_offers(tx, customer.price_list_id, &c.group, channel, currency, &ids)?,
        ));
    }
    let mut converted = std::collections::HashMap::with_capacity(products.len());
    let mut rates = DayRates::new(Timestamp::now());
    for product in products {
        let currency = c.currency.unwrap_or(product.currency);
        converted.insert(product.id, catalog_price(tx, &mut rates, product, currency)?);
    }
    Ok(products
        .iter()
        .map(|product| {
            let currency = c.currency.unwrap_or(product.currency);
            let offers = offers.iter().find(|(cur, _)| *cur == currency).map(|(_, o)| o.as_slice()).unwrap_or(&[]);
            let one = catalog::store::best_offer(offers, product.id, 1);
            let (catalog_price, converted) = converted.get(&product.id).cloned().unwrap_or((None, None));
            // Breaks of the list that prices one unit, so the steps shown are the ones a line gets.
            let mut breaks: Vec<(i64, Decimal)> = offers
                .iter()
                .filter(|(id, o)| {
                    *id == product.id && o.min_quantity > 1 && one.as_ref().is_none_or(|b| b.rank == o.rank)
                })
                .map(|(_, o)| (o.min_quantity, o.price))
                .collect();
            breaks.sort_unstable();
            breaks.dedup_by_key(|(min, _)| *min);
            ShelfPrice {
                product_id: product.id,
                currency,
                price: one.as_ref().map(|o| o.price).or(catalog_price).map(|p| currency.show(p)),
                note: match one {
                    Some(ref offer) => LineNote::from_offer(Some(offer)),
                    None => LineNote { converted, ..LineNote::from_offer(None) },
                },
                catalog_price: catalog_price.map(|p| currency.show(p)),
                breaks: breaks.into_iter().map(|(min, price)| (min, currency.show(price))).collect(),
            }
        })
        .collect())
}

/// A draft priced for its customer, with what each line could reserve now. Nothing is
/// reserved or stored: the console shows this while an order is being entered.
pub fn quote_order(tx: &mut dyn Tx, input: &NewOrder) -> Result<Quote, OrderError> {
    let p = prepare(tx, validate(input)?, Timestamp::now())?;
    let mut lines = Vec::with_capacity(p.order.lines.len());
    for (i, line) in p.order.lines.iter().enumerate() {
        let available = stock::availability(tx, p.products[i].id)?;
        let best = available.iter().map(|(_, n)| *n).max().unwrap_or(0).max(0);
        let product = &p.products[i];
        let waits = if best < line.quantity && product.backorderable && p.customer.customer.accepts_backorders {
            line.quantity - best
        } else {
            0
        };
        let promise_date = if waits > 0 {
            crate::inventory::supply::promise_date(tx, product.id, waits, Timestamp::now())?
        } else {
            None
        };
        lines.push(QuoteLine {
            sku: line.sku.clone(),
            name: p.products[i].name.clone(),
            quantity: line.quantity,
            unit_price: p.currency.show(p.pricing[i].unit_price),
            line_total: p.priced[i].line_total,
            tax: p.priced[i].tax,
            available_by_warehouse: available,
            can_reserve: best >= line.quantity,
            backordered_quantity: waits,
            promise_date,
            pricing: p.notes[i].clone(),
        });
    }
    Ok(Quote {
        customer_name: p.customer.customer.name.clone(),
        payment_terms: p.customer.customer.payment_terms.clone(),
        shipping_address: p.order.shipping_address.clone().or(p.customer.customer.shipping_address.clone()),
        currency: p.currency,
        lines,
        subtotal: p.totals.subtotal,
        tax_total: p.totals.tax_total,
        total: p.totals.total,
    })
}

/// Places an order: prices it for the customer, reserves stock for every line in one
/// warehouse each (all lines or none), numbers it and records it with its events.
pub fn place_order(tx: &mut dyn Tx, ctx: &Ctx, input: &NewOrder) -> Result<Placed, OrderError> {
    let channel = input.channel.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let channel_open = match channel {
        Some(code) => crate::channels::is_open(tx, code)?,
        None => true,
    };
    let order = validate_on(input, channel_open)?;
    if let Some(external_ref) = &order.external_ref
        && let Some(id) = store::id_by_external_ref(tx, &order.channel, external_ref)?
    {
        return Ok(Placed::Existing(get_order(tx, id)?));
    }
    let prepared = prepare(tx, order, ctx.now)?;
    let lines = order_lines(&prepared);
    let Prepared { order, customer, products, currency, totals, list_prices, applied, promotions, .. } = prepared;
    let line_products: Vec<&Product> = products.iter().collect();
    let mut placed = Order {
        id: 0,
        number: String::new(),
        status: OrderStatus::Draft,
        payment_status: PaymentStatus::Unpaid,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        allowed_actions: Vec::new(),
        customer_id: customer.customer.id,
        customer_name: customer.customer.name.clone(),
        channel: order.channel.clone(),
        external_ref: order.external_ref.clone(),
        currency,
        lines,
        subtotal: totals.subtotal,
        tax_total: totals.tax_total,
        total: totals.total,
        payment_terms: customer.customer.payment_terms.clone(),
        shipping_address: order.shipping_address.clone().or(customer.customer.shipping_address.clone()),
        billing_address: customer.customer.billing_address.clone(),
        notes: order.notes.clone(),
        requested_delivery_date: order.requested_delivery_date.map(|d| d.to_string()),
        hold_reasons: Vec::new(),
        approvals: Vec::new(),
        tags: Vec::new(),
        department: None,
        priority: 0,
        split_from: None,
        merged_into: None,
        stock_reserved: true,
        payment_method: None,
        shipping_service: None,
        split_reason: None,
        delivered_at: None,
        coupon_code: order.coupon.clone(),
        amounts: {
            let zero = from_e4_in(0, currency);
            OrderAmounts {
                paid: zero,
                due: totals.total,
                on_account: zero,
                authorized: zero,
                refunded: zero,
                credited: zero,
                invoiced: zero,
            }
        },
        created_by: ctx.actor.clone(),
        version: 1,
        created_at: ctx.now,
        updated_at: ctx.now,
    };

    // Checks and rules run on the priced order before stock is touched: a rule may route
    // the order to a warehouse.
    let fingerprint = review::fingerprint(&placed.lines);
    let context = store::placement_context(tx, customer.customer.id, &fingerprint)?;
    let policy = crate::settings::parse_policy(context.policy.as_deref());
    let methods = crate::payments::methods::parse_settings(context.payment_methods.as_deref()).methods;
    let facts = crate::payments::methods::facts_for(&placed, &customer.customer, Decimal::ZERO);
    placed.payment_method = crate::payments::methods::choose(&methods, order.payment_method.as_deref(), &facts)
        .map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let enabled = crate::rules::compile_rules(
        context
            .rules
            .into_iter()
            .filter_map(|(id, name, condition, actions, _)| {
                Some((id, name, condition, serde_json::from_str(&actions).ok()?))
            })
            .collect(),
    );
    let window = policy.duplicate_window_minutes;
    let duplicate = context
        .newest_same_lines
        .filter(|(_, at)| window > 0 && *at >= ctx.now.plus_seconds(-60 * window))
        .map(|(number, _)| number);
    let exposure = review::exposure_if_needed(tx, &customer.customer, &placed, &policy, &enabled)?;
    let catalog: Vec<review::LineCatalog> = list_prices
        .iter()
        .zip(&line_products)
        .map(|(list_price, product)| review::LineCatalog { list_price: *list_price, tags: product.tags.clone() })
        .collect();
    let facts = review::build_facts(&placed, &customer.customer, &catalog, exposure, ctx.now);
    let found = review::review(&policy, &enabled, &placed, &facts, duplicate.as_deref());
    let preferred = match &found.outcome.warehouse {
        Some(code) => stock::warehouse_by_code(tx, code)?.map(|w| w.id),
        None => None,
    };
    // Sourcing plans where each line is reserved; a rule's route goes first.
    let sourcing = crate::fulfillment::parse_settings(context.fulfillment.as_deref()).sourcing_strategy;
    let needs: Vec<Need> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| Need { product_id: line_products[i].id, sku: line.sku.clone(), quantity: line.quantity })
        .collect();
    let weight: Decimal = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| line_products[i].weight_kg.unwrap_or_default() * Decimal::from(line.quantity))
        .sum();
    let destination = placed.shipping_address.as_ref().and_then(|a| a.region.clone());
    let plan = crate::fulfillment::sourcing::plan(tx, &needs, destination.as_deref(), sourcing, weight, ctx.now)?;
    let wants: Vec<Want> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| Want {
            product_id: line_products[i].id,
            quantity: line.quantity,
            sku: &line.sku,
            prefer: preferred.or(plan.warehouses[i]),
            backorderable: line_products[i].backorderable && customer.customer.accepts_backorders,
        })
        .collect();
    let reserved = reserve_or_backorder(tx, &wants, ctx.now)?;
    let warehouses: Vec<i64> = reserved.iter().map(|(w, _)| *w).collect();
    let warehouse_codes = warehouse_codes(tx, &warehouses)?;
    for (i, line) in placed.lines.iter_mut().enumerate() {
        line.warehouse =
            warehouse_codes.iter().find(|(id, _)| *id == warehouses[i]).map(|(_, c)| c.clone()).unwrap_or_default();
        line.backordered_quantity = reserved[i].1;
        if line.backordered_quantity > 0 {
            line.promise_date =
                crate::inventory::supply::promise_date(tx, line_products[i].id, line.backordered_quantity, ctx.now)?;
        }
    }
    placed.status = OrderStatus::Draft.to(
        OrderAction::Submit,
        OrderStatus::after_review(!found.holds.is_empty(), !found.outcome.approvals.is_empty()),
    )?;
    placed.allowed_actions = placed.status.allowed_actions();
    placed.tags = found.outcome.tags.clone();
    placed.department = found.outcome.department.clone();
    placed.priority = found.outcome.priority.unwrap_or(0);
    placed.shipping_service = order.shipping_service.clone().or(found.outcome.carrier.clone());
    let mut used = warehouses.clone();
    used.sort_unstable();
    used.dedup();
    placed.split_reason = if used.len() > 1 { plan.split_reason.clone() } else { None };

    // Everything is written under a provisional number first; the real number is taken
    // at the very end, because the yearly counter row stays locked until commit and every
    // other order waits for it. What remains after it: one UPDATE, one INSERT, the commit.
    let mut provisional = [0u8; 8];
    getrandom::fill(&mut provisional).map_err(|e| crate::db::DbError::Other(format!("no randomness: {e}")))?;
    let provisional = format!("PENDING-{}", u64::from_le_bytes(provisional));
    placed.id = store::insert_order(tx, &OrderRow { number: &provisional, order: &placed, fingerprint: &fingerprint })?;
    let line_rows: Vec<LineRow> = placed
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| LineRow { line, product_id: line_products[i].id, warehouse_id: warehouses[i] })
        .collect();
    store::insert_lines(tx, placed.id, &line_rows)?;
    if !applied.promotion_ids().is_empty() {
        crate::promotions::redeem(tx, ctx, placed.id, customer.customer.id, &applied, &promotions).map_err(
            |e| match e {
                crate::promotions::PromotionError::Invalid(invalid) => OrderError::Invalid(invalid),
                crate::promotions::PromotionError::Db(db) => OrderError::Db(db),
                other => OrderError::Db(crate::db::DbError::Other(other.to_string())),
            },
        )?;
    }
    let details = json!({
        "status": placed.status,
        "total": placed.total.to_string(),
        "currency": placed.currency.code(),
        "lines": placed.lines.iter().map(|l| json!({"sku": l.sku, "quantity": l.quantity, "warehouse": l.warehouse})).collect::<Vec<_>>(),
    });
    store::append_event(tx, placed.id, &ctx.actor, "placed", &details, ctx.now)?;
    if !found.is_quiet() {
        store::insert_holds(tx, placed.id, &found.holds, &ctx.actor, ctx.now)?;
        if !found.outcome.approvals.is_empty() {
            crate::approvals::store::request(tx, placed.id, &found.outcome.approvals, ctx.now)?;
        }
        review::record_review_events(tx, ctx, placed.id, &found)?;
        placed.hold_reasons = found.holds.clone();
    }
    let summary = format!("{} lines, total {} {}", placed.lines.len(), placed.total, placed.currency);
    crate::audit::record(tx, ctx, "orders", "order.placed", &format!("order {}", placed.id), &summary)?;

    let sequence = store::next_order_sequence(tx, ctx.now.year())?;
    // The summaries' rows are as hot as the counter: updated only once it is held, they
    // add no wait of their own.
    crate::reports::summaries::count_placed(
        tx,
        &crate::reports::summaries::PlacedSale {
            created_at: placed.created_at,
            currency: placed.currency.code(),
            customer_id: placed.customer_id,
            channel: placed.channel.as_str(),
            lines: placed
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (
                        line_products[i].id,
                        l.quantity,
                        ordo_domain::money::to_e4(l.line_total),
                        ordo_domain::money::to_e4(l.tax),
                    )
                })
                .collect(),
        },
    )?;
    placed.number = rules::order_number(ctx.now.year(), sequence);
    store::set_number(tx, placed.id, &placed.number)?;
    announce_placed(tx, ctx, &placed)?;
    let movements: Vec<NewMovement> = line_rows
        .iter()
        .filter(|row| row.line.reserved_quantity() > 0)
        .map(|row| NewMovement {
            product_id: row.product_id,
            warehouse_id: row.warehouse_id,
            kind: MovementKind::Reservation,
            on_hand_delta: 0,
            reserved_delta: row.line.reserved_quantity(),
            reason: Some("order placed"),
            reference: Some(&placed.number),
        })
        .collect();
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    if !found.outcome.approvals.is_empty() {
        settle_stock(tx, ctx, &mut placed, &policy)?;
        placed.approvals = crate::approvals::store::current_steps(tx, &[placed.id])?;
    }
    Ok(Placed::Created(placed))
}

/// `order.placed`, and the status the order landed in (confirmed, waiting for approval,
/// on hold), from what placement already knows.
fn announce_placed(tx: &mut dyn Tx, ctx: &Ctx, placed: &Order) -> Result<(), crate::db::DbError> {
    let total = placed.total.to_string();
    let facts = crate::events::OrderFacts {
        id: placed.id,
        number: &placed.number,
        customer_id: placed.customer_id,
        status: placed.status.as_str(),
        total: &total,
        currency: placed.currency.code(),
    };
    let data = facts.data(&ctx.actor);
    crate::events::record(tx, "order.placed", ("order", placed.id), &data, ctx.now)?;
    if let Some(kind) = ordo_domain::events::status_event(placed.status.as_str()) {
        crate::events::record(tx, kind, ("order", placed.id), &data, ctx.now)?;
    }
    Ok(())
}

/// One line's claim on stock.
pub(crate) struct Want<'a> {
    pub product_id: i64,
    pub quantity: i64,
    pub sku: &'a str,
    /// A warehouse to try first (a rule's route, or where the line was reserved before).
    pub prefer: Option<i64>,
    /// Whether what cannot be reserved may wait for supply instead.
    pub backorderable: bool,
}

/// Reserves every line; a backorderable line that no warehouse can fill reserves what the
/// best warehouse has and backorders the rest. Any other short line fails the whole order
/// (the transaction rolls back). Returns each line's (warehouse, units backordered).
pub(crate) fn reserve_or_backorder(
    tx: &mut dyn Tx,
    wants: &[Want],
    now: Timestamp,
) -> Result<Vec<(i64, i64)>, OrderError> {
    let mut by_product: Vec<usize> = (0..wants.len()).collect();
    by_product.sort_by_key(|&i| wants[i].product_id);
    let mut placed = vec![(0_i64, 0_i64); wants.len()];
    let mut short = Vec::new();
    for &i in &by_product {
        let want = &wants[i];
        if let Some(preferred) = want.prefer
            && stock::reserve_in(tx, want.product_id, preferred, want.quantity, now)?
        {
            placed[i] = (preferred, 0);
            continue;
        }
        match stock::reserve(tx, want.product_id, want.quantity, now)? {
            Ok(warehouse_id) => placed[i] = (warehouse_id, 0),
            Err(_) if want.backorderable => placed[i] = reserve_part(tx, want, now)?,
            Err(available) => short.push(ShortLine { sku: want.sku.to_string(), requested: want.quantity, available }),
        }
    }
    if short.is_empty() { Ok(placed) } else { Err(OrderError::ShortStock(short)) }
}

/// Reserves what the best-stocked warehouse has of a line and backorders the rest.
fn reserve_part(tx: &mut dyn Tx, want: &Want, now: Timestamp) -> Result<(i64, i64), OrderError> {
    for _ in 0..3 {
        let best = tx.query_opt(
            "SELECT warehouse_id, on_hand - reserved FROM stock_levels WHERE product_id = ? \
             ORDER BY on_hand - reserved DESC, warehouse_id LIMIT 1",
            crate::params![want.product_id],
        )?;
        let (warehouse_id, available) = match best {
            Some(row) => (row.int(0)?, row.int(1)?.clamp(0, want.quantity)),
            None => match stock::list_warehouses(tx)?.first() {
                Some(w) => (w.id, 0),
                None => return Err(OrderError::Conflict("no warehouse exists to plan the backorder in".into())),
            },
        };
        if available == 0 || stock::reserve_in(tx, want.product_id, warehouse_id, available, now)? {
            return Ok((warehouse_id, want.quantity - available));
        }
        // Someone took those units meanwhile: look again.
    }
    Ok((stock::list_warehouses(tx)?.first().map(|w| w.id).unwrap_or_default(), want.quantity))
}

/// Reserves every line, all or none; a shortage is an answer, not an error: what was
/// reserved is released again, so the caller's transaction can go on (e.g. to hold the order).
pub(crate) fn try_reserve_lines(
    tx: &mut dyn Tx,
    wants: &[Want],
    now: Timestamp,
) -> Result<Result<Vec<i64>, Vec<ShortLine>>, OrderError> {
    let mut by_product: Vec<usize> = (0..wants.len()).collect();
    by_product.sort_by_key(|&i| wants[i].product_id);
    let mut warehouses = vec![0_i64; wants.len()];
    let mut short = Vec::new();
    for &i in &by_product {
        let want = &wants[i];
        if let Some(preferred) = want.prefer
            && stock::reserve_in(tx, want.product_id, preferred, want.quantity, now)?
        {
            warehouses[i] = preferred;
            continue;
        }
        match stock::reserve(tx, want.product_id, want.quantity, now)? {
            Ok(warehouse_id) => warehouses[i] = warehouse_id,
            Err(available) => short.push(ShortLine { sku: want.sku.to_string(), requested: want.quantity, available }),
        }
    }
    if short.is_empty() {
        return Ok(Ok(warehouses));
    }
    for (i, want) in wants.iter().enumerate() {
        if warehouses[i] != 0 {
            stock::release(tx, want.product_id, warehouses[i], want.quantity, now)?;
        }
    }
    Ok(Err(short))
}

pub(crate) fn warehouse_codes(tx: &mut dyn Tx, ids: &[i64]) -> Result<Vec<(i64, String)>, OrderError> {
    let mut codes = Vec::new();
    for &id in ids {
        if !codes.iter().any(|(known, _)| *known == id)
            && let Some(w) = stock::warehouse_by_id(tx, id)?
        {
            codes.push((id, w.code));
        }
    }
    Ok(codes)
}

/// Cancels an order and releases its reservation. `expected_version` comes from `If-Match`.
pub fn cancel_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &CancelOrder,
) -> Result<Order, OrderError> {
    let reason = optional_text("reason", input.reason.as_deref(), 500).map_err(|e| ordo_domain::Invalid(vec![e]))?;
    let order = lock_order(tx, id, expected_version)?;
    cancel_locked(tx, ctx, &order, reason.as_deref(), OrderAction::Cancel)?;
    get_order(tx, id)
}

/// The order, locked for this transaction, at the version the client read (if it said).
pub(crate) fn lock_order(tx: &mut dyn Tx, id: i64, expected_version: Option<i64>) -> Result<Order, OrderError> {
    let order = store::lock_header(tx, id)?.ok_or(OrderError::NotFound(id))?;
    if expected_version.is_some_and(|v| v != order.version) {
        return Err(OrderError::VersionMismatch { current: order.version });
    }
    Ok(order)
}

/// Releases every reservation of a locked order, with one movement each.
pub(crate) fn release_all(tx: &mut dyn Tx, ctx: &Ctx, order: &Order, why: &str) -> Result<(), OrderError> {
    let reservations = store::reservations(tx, order.id)?;
    for &(product_id, warehouse_id, quantity) in &reservations {
        stock::release(tx, product_id, warehouse_id, quantity, ctx.now)?;
    }
    let movements: Vec<NewMovement> = reservations
        .iter()
        .map(|&(product_id, warehouse_id, quantity)| NewMovement {
            product_id,
            warehouse_id,
            kind: MovementKind::Release,
            on_hand_delta: 0,
            reserved_delta: -quantity,
            reason: Some(why),
            reference: Some(&order.number),
        })
        .collect();
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    Ok(())
}

/// Keeps stock in line with where the order now stands: a waiting order lets its stock
/// go when the settings say so; a confirmed order without stock reserves it again, or
/// goes on hold (code `stock`) until stock arrives.
pub(crate) fn settle_stock(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &mut Order,
    policy: &crate::settings::OrderPolicy,
) -> Result<(), OrderError> {
    match order.status {
        OrderStatus::PendingApproval if order.stock_reserved && !policy.reserve_while_waiting => {
            release_all(tx, ctx, order, "waiting for approval: stock not held")?;
            store::set_stock_reserved(tx, order.id, false)?;
            order.stock_reserved = false;
        }
        OrderStatus::Confirmed if !order.stock_reserved => {
            if let Err(short) = reserve_again(tx, ctx, order)? {
                let message = short
                    .iter()
                    .map(|s| format!("{}: {} wanted, {} available", s.sku, s.requested, s.available))
                    .collect::<Vec<_>>()
                    .join("; ");
                let hold = HoldReason::new(HoldCode::Stock, format!("not enough stock any more: {message}"));
                store::insert_holds(tx, order.id, std::slice::from_ref(&hold), &ctx.actor, ctx.now)?;
                let next = order.status.to(OrderAction::Hold, OrderStatus::OnHold)?;
                store::set_status(tx, order.id, next, ctx.now)?;
                store::append_event(tx, order.id, &ctx.actor, "on_hold", &json!({"holds": [hold]}), ctx.now)?;
                order.status = next;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reserves the lines of an order that let its stock go, preferring the warehouse each
/// line was planned in. A shortage reserves nothing and says what is short.
pub(crate) fn reserve_again(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &mut Order,
) -> Result<Result<(), Vec<ShortLine>>, OrderError> {
    if order.lines.is_empty() {
        let mut loaded = vec![order.clone()];
        store::attach_lines(tx, &mut loaded)?;
        order.lines = loaded.remove(0).lines;
    }
    let sources = store::line_sources(tx, order.id)?;
    // Only the reserved part of each line: backordered units keep waiting for supply.
    let (line_nos, wants): (Vec<i64>, Vec<Want>) = order
        .lines
        .iter()
        .filter(|line| line.reserved_quantity() > 0)
        .filter_map(|line| {
            let &(_, product_id, warehouse_id) = sources.iter().find(|(no, _, _)| *no == line.line_no)?;
            let want = Want {
                product_id,
                quantity: line.reserved_quantity(),
                sku: &line.sku,
                prefer: Some(warehouse_id),
                backorderable: false,
            };
            Some((line.line_no, want))
        })
        .unzip();
    let warehouses = match try_reserve_lines(tx, &wants, ctx.now)? {
        Ok(warehouses) => warehouses,
        Err(short) => return Ok(Err(short)),
    };
    let mut movements = Vec::with_capacity(wants.len());
    for ((line_no, want), &warehouse_id) in line_nos.iter().zip(&wants).zip(&warehouses) {
        if Some(warehouse_id) != want.prefer {
            store::set_line_warehouse(tx, order.id, *line_no, warehouse_id)?;
        }
        movements.push(NewMovement {
            product_id: want.product_id,
            warehouse_id,
            kind: MovementKind::Reservation,
            on_hand_delta: 0,
            reserved_delta: want.quantity,
            reason: Some("confirmed: stock reserved"),
            reference: Some(&order.number),
        });
    }
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    store::set_stock_reserved(tx, order.id, true)?;
    order.stock_reserved = true;
    Ok(Ok(()))
}

/// Cancels a locked order by `action` (cancel, or reject with cancel): releases its stock,
/// closes its holds and pending approvals, and records why.
pub(crate) fn cancel_locked(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order: &Order,
    reason: Option<&str>,
    action: OrderAction,
) -> Result<(), OrderError> {
    let next = order.status.to(action, OrderStatus::Cancelled)?;
    if order.status.holds_reservation() && order.stock_reserved {
        release_all(tx, ctx, order, "order cancelled")?;
    }
    store::close_holds(tx, order.id, false, &ctx.actor, "order cancelled", ctx.now)?;
    crate::approvals::store::supersede_pending(tx, order.id, ctx.now)?;
    crate::promotions::release(tx, order.id)?;
    store::set_status(tx, order.id, next, ctx.now)?;
    let details = json!({"from": order.status, "to": next, "reason": reason});
    store::append_event(tx, order.id, &ctx.actor, "cancelled", &details, ctx.now)?;
    let summary = format!("cancelled: {}", reason.unwrap_or("no reason given"));
    crate::audit::record(tx, ctx, "orders", "order.cancelled", &order.number, &summary)?;
    Ok(())
}

pub fn get_order(tx: &mut dyn Tx, id: i64) -> Result<Order, OrderError> {
    let mut orders = vec![store::header_by_id(tx, id)?.ok_or(OrderError::NotFound(id))?];
    store::attach_lines(tx, &mut orders)?;
    store::attach_processing(tx, &mut orders)?;
    Ok(orders.remove(0))
}

pub fn order_events(tx: &mut dyn Tx, id: i64) -> Result<OrderEvents, OrderError> {
    store::header_by_id(tx, id)?.ok_or(OrderError::NotFound(id))?;
    Ok(OrderEvents { items: store::events(tx, id)? })
}

pub fn list_orders(tx: &mut dyn Tx, filter: &OrderFilter, page: PageRequest) -> Result<Page<Order>, OrderError> {
    let parsed = parse_filter(filter)?;
    let rows = store::list_headers(tx, &parsed, page.before_id, page.fetch_limit())?;
    let mut page = page.page(rows, |o| o.id);
    store::attach_lines(tx, &mut page.items)?;
    store::attach_processing(tx, &mut page.items)?;
    Ok(page)
}

/// The orders of one customer; 404 when the customer does not exist.
pub fn customer_orders(tx: &mut dyn Tx, customer_id: i64, page: PageRequest) -> Result<Page<Order>, OrderError> {
    customers::store::by_id(tx, customer_id)?.ok_or(OrderError::CustomerNotFound(customer_id))?;
    list_orders(tx, &OrderFilter { customer_id: Some(customer_id), ..Default::default() }, page)
}

fn parse_filter(f: &OrderFilter) -> Result<ListFilter, ordo_domain::Invalid> {
    let mut v = Violations::new();
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let status = blank(&f.status).and_then(|s| {
        v.check(
            OrderStatus::parse(&s)
                .ok_or_else(|| FieldError::new("status", format!("must be one of {}", OrderStatus::choices()))),
        )
    });
    let channel = blank(&f.channel).and_then(|s| v.check(ordo_domain::orders::check_channel_code("channel", Some(&s))));
    let payment_status =
        blank(&f.payment_status).and_then(|s| {
            v.check(PaymentStatus::parse(&s).ok_or_else(|| {
                FieldError::new("payment_status", format!("must be one of {}", PaymentStatus::choices()))
            }))
        });
    let fulfillment_status = blank(&f.fulfillment_status).and_then(|s| {
        v.check(FulfillmentStatus::parse(&s).ok_or_else(|| {
            FieldError::new("fulfillment_status", format!("must be one of {}", FulfillmentStatus::choices()))
        }))
    });
    let created_from = v.check(Timestamp::field("created_from", f.created_from.as_deref())).flatten();
    let to_text = blank(&f.created_to);
    let created_before = v.check(Timestamp::field("created_to", to_text.as_deref())).flatten().map(|t| {
        // A bare date includes that whole day; a time is inclusive to the microsecond.
        if to_text.as_deref().is_some_and(|s| s.len() == 10) { t.plus_seconds(86_400) } else { Timestamp(t.0 + 1) }
    });
    let sort = match blank(&f.sort) {
        None => Some(store::OrderSort::default()),
        Some(s) => v.check(
            store::OrderSort::parse(&s)
                .ok_or_else(|| FieldError::new("sort", "must be one of newest, oldest, total_desc, total_asc")),
        ),
    };
    v.into_result()?;
    Ok(ListFilter {
        status,
        payment_status,
        fulfillment_status,
        customer_id: f.customer_id,
        channel,
        q: blank(&f.q),
        department: blank(&f.department),
        customer_group: blank(&f.customer_group),
        region: blank(&f.region),
        salesperson: blank(&f.salesperson),
        created_from,
        created_before,
        sort: sort.unwrap_or_default(),
    })
}
