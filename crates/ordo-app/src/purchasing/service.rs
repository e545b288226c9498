//! Purchasing use cases.

use super::model::*;
use super::store;
use crate::common::{Ctx, Page, PageRequest};
use crate::db::Tx;
use crate::inventory::store::{self as stock, NewMovement};
use ordo_domain::Currency;
use ordo_domain::inventory::{MovementKind, moving_average_cost};
use ordo_domain::money::{MAX_LINE_QUANTITY, from_e4, to_e4};
use ordo_domain::time::Date;
use ordo_domain::validation::{FieldError, Violations, code, optional_text, required_text};
use rust_decimal::Decimal;

pub fn create_supplier(tx: &mut dyn Tx, ctx: &Ctx, input: &NewSupplier) -> Result<Supplier, PurchasingError> {
    let mut v = Violations::new();
    let supplier_code = v.check(code("code", input.code.as_deref(), 32));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let contact_name = v.check(optional_text("contact_name", input.contact_name.as_deref(), 100)).flatten();
    let email = v.check(optional_text("email", input.email.as_deref(), 200)).flatten();
    let phone = v.check(optional_text("phone", input.phone.as_deref(), 50)).flatten();
    let lead_time_days = match input.lead_time_days {
        None => 7,
        Some(d) if (0..=365).contains(&d) => d,
        Some(_) => {
            v.add("lead_time_days", "must be between 0 and 365");
            0
        }
    };
    let currency = v.check(Currency::field("currency", input.currency.as_deref())).flatten().unwrap_or(Currency::CNY);
    let payment_terms = match input.payment_terms.as_deref() {
        None => Some("net30".to_string()),
        given => v.check(ordo_domain::customers::parse_payment_terms("payment_terms", given)),
    };
    let price_tolerance_percent = match &input.price_tolerance_percent {
        None => Some(ordo_domain::payables::DEFAULT_PRICE_TOLERANCE_PERCENT),
        Some(raw) => match raw.parse("price_tolerance_percent", false) {
            Ok(p) if p <= Decimal::ONE_HUNDRED => Some(p.normalize()),
            Ok(_) => v.check(Err(FieldError::new("price_tolerance_percent", "must be between 0 and 100"))),
            Err(e) => v.check(Err(e)),
        },
    };
    v.into_result()?;
    let (Some(supplier_code), Some(name), Some(payment_terms), Some(price_tolerance_percent)) =
        (supplier_code, name, payment_terms, price_tolerance_percent)
    else {
        unreachable!("checked above")
    };
    if store::supplier_code_taken(tx, &supplier_code)? {
        return Err(PurchasingError::SupplierCodeTaken(supplier_code));
    }
    let mut supplier = Supplier {
        id: 0,
        code: supplier_code,
        name,
        contact_name,
        email,
        phone,
        lead_time_days,
        currency,
        payment_terms,
        price_tolerance_percent,
        version: 1,
        created_at: ctx.now,
    };
    supplier.id = store::insert_supplier(tx, &supplier)?;
    crate::audit::record(tx, ctx, "purchasing", "supplier.created", &supplier.code, &supplier.name)?;
    Ok(supplier)
}

pub fn list_suppliers(tx: &mut dyn Tx) -> Result<SupplierList, PurchasingError> {
    Ok(SupplierList { items: store::suppliers(tx)? })
}

pub fn get_supplier(tx: &mut dyn Tx, id: i64) -> Result<Supplier, PurchasingError> {
    store::supplier_by_id(tx, id)?.ok_or(PurchasingError::SupplierNotFound(id))
}

pub fn create_purchase_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &NewPurchaseOrder,
) -> Result<PurchaseOrder, PurchasingError> {
    let mut v = Violations::new();
    let supplier = match input.supplier_id {
        None => {
            v.add("supplier_id", "is required");
            None
        }
        Some(id) => {
            let found = store::supplier_by_id(tx, id)?;
            if found.is_none() {
                v.add("supplier_id", format!("no supplier has id {id}"));
            }
            found
        }
    };
    let warehouse = stock::warehouse_field(tx, "warehouse", input.warehouse.as_deref(), &mut v)?;
    let expected = v.check(Date::field("expected_date", input.expected_date.as_deref())).flatten();
    let mut lines: Vec<(i64, i64, Decimal)> = Vec::new();
    match input.lines.as_deref() {
        None | Some([]) => v.add("lines", "a purchase order needs at least one line"),
        Some(given) if given.len() > 500 => v.add("lines", "at most 500 lines"),
        Some(given) => {
            let skus: Vec<&str> = given.iter().filter_map(|l| l.sku.as_deref()).collect();
            let products = crate::catalog::store::products_by_skus(tx, &skus)?;
            for (i, line) in given.iter().enumerate() {
                let product = match line.sku.as_deref().and_then(|s| products.iter().find(|p| p.sku == s)) {
                    Some(p) => Some(p.id),
                    None => {
                        v.add(
                            format!("lines[{i}].sku"),
                            format!("no product has SKU {:?}", line.sku.as_deref().unwrap_or("")),
                        );
                        None
                    }
                };
                let quantity = match line.quantity {
                    Some(q) if (1..=MAX_LINE_QUANTITY).contains(&q) => Some(q),
                    _ => v.check(Err(FieldError::new(
                        format!("lines[{i}].quantity"),
                        format!("must be between 1 and {MAX_LINE_QUANTITY}"),
                    ))),
                };
                let cost = v.check(crate::common::AmountInput::required(
                    &format!("lines[{i}].unit_cost"),
                    line.unit_cost.as_ref(),
                    false,
                ));
                if let (Some(product), Some(quantity), Some(cost)) = (product, quantity, cost) {
                    lines.push((product, quantity, cost));
                }
            }
        }
    }
    v.into_result()?;
    let (Some(supplier), Some(warehouse)) = (supplier, warehouse) else { unreachable!("checked above") };
    let expected_date = match expected {
        Some(date) => date.to_string(),
        None => ctx.now.plus_seconds(supplier.lead_time_days * 86_400).to_rfc3339().chars().take(10).collect(),
    };
    let currency = supplier.currency;
    let total: Decimal = lines.iter().map(|(_, q, c)| currency.round(*c * Decimal::from(*q))).sum();
    let sequence = crate::orders::store::next_sequence(tx, "purchase_order_number")?;
    let number = format!("PO-{sequence:06}");
    let id = tx.insert(
        "INSERT INTO purchase_orders (number, supplier_id, warehouse_id, status, currency, expected_date, total_e4, version, \
         created_by, created_at) VALUES (?, ?, ?, 'draft', ?, ?, ?, 1, ?, ?)",
        crate::params![
            number.as_str(), supplier.id, warehouse.id, currency.code(), expected_date.as_str(), to_e4(total),
            ctx.actor.as_str(), ctx.now.micros()
        ],
    )?;
    for (n, (product_id, quantity, cost)) in lines.iter().enumerate() {
        tx.execute(
            "INSERT INTO purchase_order_lines (purchase_order_id, line_no, product_id, quantity, received, unit_cost_e4) \
             VALUES (?, ?, ?, ?, 0, ?)",
            crate::params![id, n as i64 + 1, *product_id, *quantity, to_e4(*cost)],
        )?;
    }
    let summary = format!("{} lines, {total} {currency}, expected {expected_date}", lines.len());
    crate::audit::record(tx, ctx, "purchasing", "purchase_order.created", &number, &summary)?;
    get_purchase_order(tx, id)
}

fn locked(tx: &mut dyn Tx, id: i64) -> Result<PurchaseOrder, PurchasingError> {
    if !store::lock(tx, id)? {
        return Err(PurchasingError::NotFound(id));
    }
    get_purchase_order(tx, id)
}

/// Marks the order as sent to the supplier.
pub fn send_purchase_order(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<PurchaseOrder, PurchasingError> {
    let po = locked(tx, id)?;
    if po.status != "draft" {
        return Err(PurchasingError::State(format!("{} is {}, not a draft", po.number, po.status)));
    }
    tx.execute(
        "UPDATE purchase_orders SET status = 'sent', sent_at = ?, version = version + 1 WHERE id = ?",
        crate::params![ctx.now.micros(), id],
    )?;
    crate::audit::record(tx, ctx, "purchasing", "purchase_order.sent", &po.number, &po.supplier_name)?;
    // The goods are now expected: backorders of these products get their promise dates.
    for row in store::line_rows(tx, id)? {
        crate::inventory::supply::refresh_promises(tx, row.product_id, ctx.now)?;
    }
    get_purchase_order(tx, id)
}

/// Books goods into the order's warehouse: on-hand rises, each product's moving-average
/// cost takes the receipt in (when the order is in the product's currency), and the order
/// is partly or fully received.
pub fn receive_purchase_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    input: &ReceivePurchase,
) -> Result<PurchaseOrder, PurchasingError> {
    let po = locked(tx, id)?;
    if !matches!(po.status.as_str(), "draft" | "sent" | "partially_received") {
        return Err(PurchasingError::State(format!("{} is {}: nothing more to receive", po.number, po.status)));
    }
    let mut rows = store::line_rows(tx, id)?;
    let mut v = Violations::new();
    let mut receipts: Vec<(usize, i64)> = Vec::new();
    match input.lines.as_deref() {
        None | Some([]) => v.add("lines", "name what arrived: [{sku, quantity}]"),
        Some(lines) => {
            for (i, line) in lines.iter().enumerate() {
                let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
                let Some(n) = rows.iter().position(|r| r.sku == sku) else {
                    v.add(format!("lines[{i}].sku"), format!("{sku:?} is not on {}", po.number));
                    continue;
                };
                let already: i64 = receipts.iter().filter(|(k, _)| *k == n).map(|(_, q)| q).sum();
                let open = rows[n].quantity - rows[n].received - already;
                match line.quantity {
                    Some(q) if q >= 1 && q <= open => receipts.push((n, q)),
                    _ => v.add(format!("lines[{i}].quantity"), format!("must be between 1 and {open} (still to come)")),
                }
            }
        }
    }
    v.into_result()?;
    let warehouse = stock::warehouse_by_code(tx, &po.warehouse)?.map(|w| w.id).unwrap_or_default();
    let mut movements = Vec::new();
    for &(n, quantity) in &receipts {
        let (line_no, product_id, cost_e4) = (rows[n].line_no, rows[n].product_id, rows[n].unit_cost_e4);
        let (current, on_hand, product_currency) = store::cost_and_on_hand(tx, product_id)?;
        if product_currency == po.currency.code() {
            let cost = moving_average_cost(on_hand, current.map(from_e4), quantity, from_e4(cost_e4));
            store::set_cost(tx, product_id, to_e4(cost))?;
        }
        stock::lock_level(tx, product_id, warehouse, ctx.now)?;
        tx.execute(
            "UPDATE stock_levels SET on_hand = on_hand + ?, updated_at = ? WHERE product_id = ? AND warehouse_id = ?",
            crate::params![quantity, ctx.now.micros(), product_id, warehouse],
        )?;
        tx.execute(
            "UPDATE purchase_order_lines SET received = received + ? WHERE purchase_order_id = ? AND line_no = ?",
            crate::params![quantity, id, line_no],
        )?;
        rows[n].received += quantity;
        movements.push(NewMovement {
            product_id,
            warehouse_id: warehouse,
            kind: MovementKind::Receipt,
            on_hand_delta: quantity,
            reserved_delta: 0,
            reason: Some("purchase order received"),
            reference: Some(&po.number),
        });
    }
    stock::record_movements(tx, &movements, &ctx.actor, ctx.now)?;
    // Orders waiting for these goods get them first, oldest first.
    let mut products: Vec<i64> = receipts.iter().map(|&(n, _)| rows[n].product_id).collect();
    products.sort_unstable();
    products.dedup();
    for product_id in products {
        crate::inventory::supply::fill_backorders(tx, ctx, product_id, warehouse)?;
    }
    let complete = rows.iter().all(|r| r.received >= r.quantity);
    let (status, received_at) =
        if complete { ("received", Some(ctx.now.micros())) } else { ("partially_received", None) };
    tx.execute(
        "UPDATE purchase_orders SET status = ?, received_at = ?, sent_at = COALESCE(sent_at, ?), version = version + 1 \
         WHERE id = ?",
        crate::params![status, received_at, ctx.now.micros(), id],
    )?;
    let units: i64 = receipts.iter().map(|(_, q)| q).sum();
    crate::audit::record(
        tx,
        ctx,
        "purchasing",
        "purchase_order.received",
        &po.number,
        &format!("{units} units, {status}"),
    )?;
    get_purchase_order(tx, id)
}

pub fn get_purchase_order(tx: &mut dyn Tx, id: i64) -> Result<PurchaseOrder, PurchasingError> {
    store::purchase_order_by_id(tx, id)?.ok_or(PurchasingError::NotFound(id))
}

pub fn list_purchase_orders(
    tx: &mut dyn Tx,
    status: Option<&str>,
    page: PageRequest,
) -> Result<Page<PurchaseOrder>, PurchasingError> {
    let status = status.map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = status
        && !["draft", "sent", "partially_received", "received", "cancelled"].contains(&s)
    {
        return Err(ordo_domain::Invalid::field(
            "status",
            "must be one of draft, sent, partially_received, received, cancelled",
        )
        .into());
    }
    let ids = store::purchase_order_ids(tx, status, page.before_id, page.fetch_limit())?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get_purchase_order(tx, id)?);
    }
    Ok(page.page(items, |p| p.id))
}
