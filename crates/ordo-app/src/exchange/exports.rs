//! `GET /api/v1/exports/{kind}`: orders (one row per line), customers, products, stock and
//! price lists as a table, written out as CSV or XLSX by the edge.

use super::ExchangeError;
use crate::db::{Row, Tx};
use crate::params;
use crate::reports::{Cell, Table};
use ordo_domain::customers::Address;
use ordo_domain::money::{from_e4, from_e4_in};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use ordo_domain::{Currency, Invalid, Timestamp};
use serde::Deserialize;

/// What can be exported.
pub const KINDS: &[&str] = &["orders", "customers", "products", "stock", "price_lists"];
/// The most order lines one file holds; a longer period is refused, not cut short.
pub const MAX_ORDER_LINES: i64 = 200_000;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// csv (default) or xlsx.
    pub format: Option<String>,
    /// Orders placed from this date or RFC 3339 time (orders only; default: 30 days ago).
    pub created_from: Option<String>,
    /// Orders placed up to this date (whole day) or time (orders only; default: now).
    pub created_to: Option<String>,
}

pub fn export(tx: &mut dyn Tx, kind: &str, query: &ExportQuery, now: Timestamp) -> Result<Table, ExchangeError> {
    match kind {
        "orders" => orders(tx, query, now),
        "customers" => customers(tx),
        "products" => products(tx),
        "stock" => stock(tx),
        "price_lists" => price_lists(tx),
        _ => Err(Invalid::field("kind", format!("must be one of {}", KINDS.join(", "))).into()),
    }
}

fn text(row: &Row, i: usize) -> Result<Cell, crate::db::DbError> {
    Ok(row.opt_text(i)?.map_or(Cell::Empty, Cell::Text))
}

fn amount(row: &Row, i: usize, currency: Option<Currency>) -> Result<Cell, crate::db::DbError> {
    Ok(match row.opt_int(i)? {
        None => Cell::Empty,
        Some(e4) => Cell::Amount(match currency {
            Some(c) => from_e4_in(e4, c),
            None => from_e4(e4).normalize(),
        }),
    })
}

fn currency_of(row: &Row, i: usize) -> Option<Currency> {
    row.opt_text(i).ok().flatten().and_then(|c| Currency::parse(&c))
}

fn orders(tx: &mut dyn Tx, query: &ExportQuery, now: Timestamp) -> Result<Table, ExchangeError> {
    let mut v = Violations::new();
    let from = v.check(Timestamp::field("created_from", query.created_from.as_deref())).flatten();
    let to_text = query.created_to.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let to = v.check(Timestamp::field("created_to", to_text)).flatten();
    v.into_result()?;
    let from = from.unwrap_or(now.minus_days(30));
    // A bare date includes its whole day.
    let before = match (to, to_text) {
        (Some(t), Some(text)) if text.len() == 10 => t.plus_seconds(86_400),
        (Some(t), _) => Timestamp(t.micros() + 1),
        (None, _) => Timestamp(now.micros() + 1),
    };
    let lines = tx
        .query_one(
            "SELECT COUNT(*) FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.created_at >= ? AND o.created_at < ?",
            params![from.micros(), before.micros()],
        )?
        .int(0)?;
    if lines > MAX_ORDER_LINES {
        return Err(Invalid::field(
            "created_from",
            format!("the period holds {lines} order lines; one file takes at most {MAX_ORDER_LINES}: choose a shorter period"),
        )
        .into());
    }
    let rows = tx.query(
        "SELECT o.number, o.external_ref, c.code, o.channel, o.status, o.created_at, o.currency, l.sku, l.quantity, \
         l.unit_price_e4, l.discount_percent_e4, l.line_total_e4, l.tax_e4, o.notes, o.requested_delivery_date \
         FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_lines l ON l.order_id = o.id \
         WHERE o.created_at >= ? AND o.created_at < ? ORDER BY o.created_at, o.id, l.line_no",
        params![from.micros(), before.micros()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let currency = currency_of(r, 6);
        out.push(vec![
            text(r, 0)?,
            text(r, 1)?,
            text(r, 2)?,
            text(r, 3)?,
            text(r, 4)?,
            Cell::Text(Timestamp(r.int(5)?).to_string()),
            text(r, 6)?,
            text(r, 7)?,
            Cell::Int(r.int(8)?),
            amount(r, 9, currency)?,
            amount(r, 10, None)?,
            amount(r, 11, currency)?,
            amount(r, 12, currency)?,
            text(r, 13)?,
            text(r, 14)?,
        ]);
    }
    Ok(Table {
        name: format!("orders-{}-{}", Date::of(from), Date::of(Timestamp(before.micros() - 1))),
        columns: vec![
            "order_number",
            "external_ref",
            "customer_code",
            "channel",
            "status",
            "placed_at",
            "currency",
            "sku",
            "quantity",
            "unit_price",
            "discount_percent",
            "line_total",
            "tax",
            "notes",
            "requested_delivery_date",
        ],
        rows: out,
    })
}

fn customers(tx: &mut dyn Tx) -> Result<Table, ExchangeError> {
    let rows = tx.query(
        "SELECT c.code, c.name, c.customer_group, c.region, c.email, c.phone, c.contact_name, c.payment_terms, \
         c.credit_limit_e4, c.currency, l.code, c.language, c.salesperson, c.external_id, c.shipping_address \
         FROM customers c LEFT JOIN price_lists l ON l.id = c.price_list_id ORDER BY c.code",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let address: Option<Address> = r.opt_text(14)?.and_then(|json| serde_json::from_str(&json).ok());
        let part =
            |pick: &dyn Fn(&Address) -> Option<String>| address.as_ref().and_then(pick).map_or(Cell::Empty, Cell::Text);
        let mut row = Vec::with_capacity(22);
        for i in 0..8 {
            row.push(text(r, i)?);
        }
        row.push(amount(r, 8, currency_of(r, 9))?);
        for i in 9..13 {
            row.push(text(r, i)?);
        }
        row.extend([
            part(&|a| a.name.clone()),
            part(&|a| a.phone.clone()),
            part(&|a| Some(a.line1.clone())),
            part(&|a| Some(a.city.clone())),
            part(&|a| a.district.clone()),
            part(&|a| a.region.clone()),
            part(&|a| a.postal_code.clone()),
            part(&|a| Some(a.country.clone())),
        ]);
        // The ERP's key last: the import leaves it to the ERP sync.
        row.push(text(r, 13)?);
        out.push(row);
    }
    // The import's columns, so an edited export loads back as it is.
    let mut columns = super::imports::CUSTOMER_FIELDS.to_vec();
    columns.push("external_id");
    Ok(Table { name: "customers".into(), columns, rows: out })
}

fn products(tx: &mut dyn Tx) -> Result<Table, ExchangeError> {
    let rows = tx.query(
        "SELECT sku, name, description, category, unit, price_e4, currency, tax_rate_e4, cost_e4, weight_g, active, \
         backorderable, tags, external_id, packs FROM products ORDER BY sku",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let currency = currency_of(r, 6);
        let tags: Vec<String> = r.opt_text(12)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        out.push(vec![
            text(r, 0)?,
            text(r, 1)?,
            text(r, 2)?,
            text(r, 3)?,
            text(r, 4)?,
            amount(r, 5, currency)?,
            text(r, 6)?,
            amount(r, 7, None)?,
            r.opt_int(9)?.map_or(Cell::Empty, |g| Cell::Amount(rust_decimal::Decimal::new(g, 3).normalize())),
            Cell::Text(if r.bool(10)? { "yes" } else { "no" }.into()),
            Cell::Text(if r.bool(11)? { "yes" } else { "no" }.into()),
            Cell::Text(tags.join(";")),
            Cell::Text(ordo_domain::catalog::packs_text(
                &r.opt_text(14)?.and_then(|t| serde_json::from_str::<Vec<_>>(&t).ok()).unwrap_or_default(),
            )),
            amount(r, 8, currency)?,
            text(r, 13)?,
        ]);
    }
    // The import's columns, then what comes from receipts (cost) and the ERP (its key).
    let mut columns = super::imports::PRODUCT_FIELDS.to_vec();
    columns.extend(["cost", "external_id"]);
    Ok(Table { name: "products".into(), columns, rows: out })
}

fn stock(tx: &mut dyn Tx) -> Result<Table, ExchangeError> {
    let rows = tx.query(
        "SELECT w.code, p.sku, s.on_hand, s.reserved, s.damaged, s.bin FROM stock_levels s \
         JOIN warehouses w ON w.id = s.warehouse_id JOIN products p ON p.id = s.product_id ORDER BY w.code, p.sku",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let (on_hand, reserved) = (r.int(2)?, r.int(3)?);
        out.push(vec![
            text(r, 0)?,
            text(r, 1)?,
            Cell::Int(on_hand),
            Cell::Int(reserved),
            Cell::Int(on_hand - reserved),
            Cell::Int(r.int(4)?),
            text(r, 5)?,
        ]);
    }
    Ok(Table {
        name: "stock".into(),
        columns: vec!["warehouse", "sku", "on_hand", "reserved", "available", "damaged", "bin"],
        rows: out,
    })
}

fn price_lists(tx: &mut dyn Tx) -> Result<Table, ExchangeError> {
    let rows = tx.query(
        "SELECT l.code, l.name, l.currency, l.customer_group, p.sku, i.price_e4, l.tax_included FROM price_list_items i \
         JOIN price_lists l ON l.id = i.price_list_id JOIN products p ON p.id = i.product_id ORDER BY l.code, p.sku",
        &[],
    )?;
    // Each list's quantity breaks per SKU, in the cell form the import reads back.
    let mut breaks: std::collections::HashMap<(String, String), Vec<(i64, rust_decimal::Decimal)>> =
        std::collections::HashMap::new();
    for r in &tx.query(
        "SELECT l.code, p.sku, b.min_quantity, b.price_e4, l.currency FROM price_breaks b \
         JOIN price_lists l ON l.id = b.price_list_id JOIN products p ON p.id = b.product_id \
         ORDER BY l.code, p.sku, b.min_quantity",
        &[],
    )? {
        let price = match currency_of(r, 4) {
            Some(currency) => ordo_domain::money::from_e4_in(r.int(3)?, currency),
            None => ordo_domain::money::from_e4(r.int(3)?),
        };
        breaks.entry((r.text(0)?, r.text(1)?)).or_default().push((r.int(2)?, price));
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let held = breaks.get(&(r.text(0)?, r.text(4)?)).map(Vec::as_slice).unwrap_or_default();
        out.push(vec![
            text(r, 0)?,
            text(r, 1)?,
            text(r, 2)?,
            text(r, 3)?,
            text(r, 4)?,
            amount(r, 5, currency_of(r, 2))?,
            Cell::Text(super::imports::breaks_text(held)),
            Cell::Text((r.int(6)? != 0).to_string()),
        ]);
    }
    Ok(Table {
        name: "price-lists".into(),
        columns: vec!["price_list", "name", "currency", "customer_group", "sku", "price", "breaks", "tax_included"],
        rows: out,
    })
}
