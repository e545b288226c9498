use super::model::{PriceBreak, PriceList, PriceListItem, Product};
use crate::db::{DbError, Filter, Row, Tx};
use crate::params;
use ordo_domain::money::{from_e4, from_e4_in, to_e4};
use ordo_domain::pricing::ListPrice;
use ordo_domain::{Currency, Timestamp};

const PRODUCT_COLUMNS: &str = "id, sku, name, description, unit, price_e4, currency, tax_rate_e4, weight_g, active, version, \
     created_at, updated_at, tags, backorderable, category, packs";

fn product(row: &Row) -> Result<Product, DbError> {
    let currency = currency(&row.text(6)?)?;
    Ok(Product {
        id: row.int(0)?,
        sku: row.text(1)?,
        name: row.text(2)?,
        description: row.opt_text(3)?,
        unit: row.text(4)?,
        price: from_e4_in(row.int(5)?, currency),
        currency,
        tax_rate: from_e4(row.int(7)?),
        weight_kg: row.opt_int(8)?.map(|g| rust_decimal::Decimal::new(g, 3).normalize()),
        active: row.bool(9)?,
        version: row.int(10)?,
        created_at: Timestamp(row.int(11)?),
        updated_at: Timestamp(row.int(12)?),
        tags: row.opt_text(13)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        backorderable: row.bool(14)?,
        category: row.opt_text(15)?,
        packs: row.opt_text(16)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
    })
}

pub(crate) fn currency(code: &str) -> Result<Currency, DbError> {
    Currency::parse(code).ok_or_else(|| DbError::Decode(format!("unknown currency {code:?} stored")))
}

/// Values of a product row as stored, for insert and update.
pub struct ProductRow<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub unit: &'a str,
    pub price: rust_decimal::Decimal,
    pub currency: Currency,
    pub tax_rate: rust_decimal::Decimal,
    pub weight_g: Option<i64>,
    pub active: bool,
    pub tags: &'a [String],
    pub backorderable: bool,
    pub category: Option<&'a str>,
    pub packs: &'a [ordo_domain::catalog::Pack],
}

/// A list as stored: JSON, or NULL when empty.
fn json_list<T: serde::Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::to_string(items).unwrap_or_default())
}

pub fn insert_product(tx: &mut dyn Tx, p: &ProductRow, now: Timestamp) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO products (sku, name, description, unit, price_e4, currency, tax_rate_e4, weight_g, active, version, \
         created_at, updated_at, tags, backorderable, category, packs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        params![
            p.sku, p.name, p.description, p.unit, to_e4(p.price), p.currency.code(), to_e4(p.tax_rate), p.weight_g, p.active,
            now.micros(), now.micros(), json_list(p.tags), p.backorderable, p.category, json_list(p.packs)
        ],
    )
}

/// Writes the new values if the row is still at `version`; false if someone else changed it.
pub fn update_product(tx: &mut dyn Tx, id: i64, version: i64, p: &ProductRow, now: Timestamp) -> Result<bool, DbError> {
    let changed = tx.execute(
        "UPDATE products SET name = ?, description = ?, unit = ?, price_e4 = ?, currency = ?, tax_rate_e4 = ?, weight_g = ?, \
         active = ?, tags = ?, backorderable = ?, category = ?, packs = ?, version = version + 1, updated_at = ? \
         WHERE id = ? AND version = ?",
        params![
            p.name, p.description, p.unit, to_e4(p.price), p.currency.code(), to_e4(p.tax_rate), p.weight_g, p.active,
            json_list(p.tags), p.backorderable, p.category, json_list(p.packs), now.micros(), id, version
        ],
    )?;
    Ok(changed == 1)
}

/// Ids of the products carrying a tag (tags are stored as a JSON array of strings).
pub fn product_ids_tagged(tx: &mut dyn Tx, tag: &str) -> Result<Vec<i64>, DbError> {
    let quoted = serde_json::to_string(tag).unwrap_or_default();
    let escaped = quoted.replace('!', "!!").replace('%', "!%").replace('_', "!_");
    tx.query("SELECT id FROM products WHERE tags LIKE ? ESCAPE '!'", params![format!("%{escaped}%")])?
        .iter()
        .map(|r| r.int(0))
        .collect()
}

pub fn product_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Product>, DbError> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(product).transpose()
}

pub fn product_by_sku(tx: &mut dyn Tx, sku: &str) -> Result<Option<Product>, DbError> {
    tx.query_opt(&format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = ?"), params![sku])?
        .as_ref()
        .map(product)
        .transpose()
}

pub fn sku_exists(tx: &mut dyn Tx, sku: &str) -> Result<bool, DbError> {
    Ok(tx.query_opt("SELECT id FROM products WHERE sku = ?", params![sku])?.is_some())
}

/// Products by SKU, in one round trip; SKUs not found are simply absent.
pub fn products_by_skus(tx: &mut dyn Tx, skus: &[&str]) -> Result<Vec<Product>, DbError> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; skus.len()].join(", ");
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku IN ({marks})");
    let params: Vec<_> = skus.iter().map(|s| crate::db::Value::from(*s)).collect();
    tx.query(&sql, &params)?.iter().map(product).collect()
}

/// Known SKUs close to one that does not exist, nearest first (for "did you mean"). Reads
/// the SKUs that share its first or last characters: only on the error path.
pub fn close_skus(tx: &mut dyn Tx, wanted: &str) -> Result<Vec<String>, DbError> {
    let letters: String = wanted.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase();
    let head: String = letters.chars().take(2).collect();
    let tail: String = letters.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
    let escape = |text: &str| contains_pattern(text).trim_matches('%').to_string();
    let rows = tx.query(
        "SELECT sku FROM products WHERE active = 1 AND (LOWER(sku) LIKE ? ESCAPE '!' OR LOWER(sku) LIKE ? ESCAPE '!') \
         ORDER BY sku LIMIT 5000",
        params![format!("{}%", escape(&head)), format!("%{}", escape(&tail))],
    )?;
    let known: Vec<String> = rows.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?;
    Ok(ordo_domain::catalog::close_skus(wanted, known.iter().map(String::as_str), 3))
}

/// `LIKE` pattern matching `text` anywhere, case-insensitively, with `!` as escape.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| if matches!(c, '%' | '_' | '!') { vec!['!', c] } else { vec![c] })
        .collect();
    format!("%{escaped}%")
}

pub fn list_products(
    tx: &mut dyn Tx,
    q: Option<&str>,
    for_sale_only: bool,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Product>, DbError> {
    let mut filter = Filter::new();
    filter.when("id < ?", before_id.map(|id| vec![id]));
    filter.when("active = ?", for_sale_only.then(|| vec![1_i64]));
    filter.when(
        "(LOWER(sku) LIKE ? ESCAPE '!' OR LOWER(name) LIKE ? ESCAPE '!')",
        q.map(contains_pattern).map(|p| vec![p.clone(), p]),
    );
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products{} ORDER BY id DESC LIMIT {limit}", filter.sql());
    tx.query(&sql, &filter.params)?.iter().map(product).collect()
}

/// A price list's header as stored.
pub struct NewList<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub currency: Currency,
    pub group: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub tax_included: bool,
}

pub fn insert_price_list(tx: &mut dyn Tx, list: &NewList, now: Timestamp) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO price_lists (code, name, currency, customer_group, channel, created_at, tax_included) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            list.code,
            list.name,
            list.currency.code(),
            list.group,
            list.channel,
            now.micros(),
            i64::from(list.tax_included)
        ],
    )
}

/// Replaces a product's quantity breaks on a list.
pub fn set_breaks(
    tx: &mut dyn Tx,
    price_list_id: i64,
    product_id: i64,
    breaks: &[(i64, rust_decimal::Decimal)],
) -> Result<(), DbError> {
    tx.execute(
        "DELETE FROM price_breaks WHERE price_list_id = ? AND product_id = ?",
        params![price_list_id, product_id],
    )?;
    for (min_quantity, price) in breaks {
        tx.execute(
            "INSERT INTO price_breaks (price_list_id, product_id, min_quantity, price_e4) VALUES (?, ?, ?, ?)",
            params![price_list_id, product_id, *min_quantity, to_e4(*price)],
        )?;
    }
    Ok(())
}

/// Sets a product's price on a list, replacing any earlier one.
pub fn set_price(
    tx: &mut dyn Tx,
    price_list_id: i64,
    product_id: i64,
    price: rust_decimal::Decimal,
) -> Result<(), DbError> {
    let updated = tx.execute(
        "UPDATE price_list_items SET price_e4 = ? WHERE price_list_id = ? AND product_id = ?",
        params![to_e4(price), price_list_id, product_id],
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO price_list_items (price_list_id, product_id, price_e4) VALUES (?, ?, ?)",
            params![price_list_id, product_id, to_e4(price)],
        )?;
    }
    Ok(())
}

pub fn price_list_by_code(tx: &mut dyn Tx, code: &str) -> Result<Option<PriceList>, DbError> {
    let Some(row) = tx.query_opt(
        "SELECT id, code, name, currency, customer_group, channel, tax_included FROM price_lists WHERE code = ?",
        params![code],
    )?
    else {
        return Ok(None);
    };
    price_list_with_items(tx, &row).map(Some)
}

pub fn list_price_lists(tx: &mut dyn Tx) -> Result<Vec<PriceList>, DbError> {
    let rows = tx.query(
        "SELECT id, code, name, currency, customer_group, channel, tax_included FROM price_lists ORDER BY code",
        &[],
    )?;
    rows.iter().map(|row| price_list_with_items(tx, row)).collect()
}

fn price_list_with_items(tx: &mut dyn Tx, row: &Row) -> Result<PriceList, DbError> {
    let id = row.int(0)?;
    let list_currency = currency(&row.text(3)?)?;
    let items = tx
        .query(
            "SELECT p.sku, i.price_e4 FROM price_list_items i JOIN products p ON p.id = i.product_id WHERE i.price_list_id = ? ORDER BY p.sku",
            params![id],
        )?
        .iter()
        .map(|r| Ok(PriceListItem { sku: r.text(0)?, price: from_e4_in(r.int(1)?, list_currency), breaks: Vec::new() }))
        .collect::<Result<Vec<_>, DbError>>()?;
    let mut items = items;
    for r in tx.query(
        "SELECT p.sku, b.min_quantity, b.price_e4 FROM price_breaks b JOIN products p ON p.id = b.product_id \
         WHERE b.price_list_id = ? ORDER BY p.sku, b.min_quantity",
        params![id],
    )? {
        let sku = r.text(0)?;
        if let Some(item) = items.iter_mut().find(|i| i.sku == sku) {
            item.breaks.push(PriceBreak { min_quantity: r.int(1)?, price: from_e4_in(r.int(2)?, list_currency) });
        }
    }
    Ok(PriceList {
        id,
        code: row.text(1)?,
        name: row.text(2)?,
        currency: list_currency,
        customer_group: row.opt_text(4)?,
        channel: row.opt_text(5)?,
        tax_included: row.int(6)? != 0,
        items,
    })
}

/// Every price the lists that apply to a customer offer for `product_ids` in `currency`:
/// its own list (rank 0), its group's list for this channel (1), its group's list for
/// every channel (2), a list for this channel and every group (3); plain prices count
/// from 1 unit, quantity breaks from theirs. `pricing::best_list_price` picks per line.
pub fn list_offers(
    tx: &mut dyn Tx,
    own_list: Option<i64>,
    group: &str,
    channel: &str,
    currency: Currency,
    product_ids: &[i64],
) -> Result<Vec<(i64, ListPrice)>, DbError> {
    if product_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; product_ids.len()].join(", ");
    let sql = format!(
        "SELECT x.product_id, l.code, CASE WHEN l.id = ? THEN 0 WHEN l.customer_group = ? AND l.channel = ? THEN 1 \
         WHEN l.customer_group = ? THEN 2 ELSE 3 END AS list_rank, x.min_quantity, x.price_e4, l.tax_included \
         FROM (SELECT price_list_id, product_id, 1 AS min_quantity, price_e4 FROM price_list_items \
               WHERE product_id IN ({marks}) \
               UNION ALL SELECT price_list_id, product_id, min_quantity, price_e4 FROM price_breaks \
               WHERE product_id IN ({marks})) x \
         JOIN price_lists l ON l.id = x.price_list_id \
         WHERE l.currency = ? AND (l.id = ? OR (l.customer_group = ? AND (l.channel IS NULL OR l.channel = ?)) \
               OR (l.customer_group IS NULL AND l.channel = ?))"
    );
    let mut params: Vec<crate::db::Value> = vec![own_list.into(), group.into(), channel.into(), group.into()];
    params.extend(product_ids.iter().map(|id| crate::db::Value::from(*id)));
    params.extend(product_ids.iter().map(|id| crate::db::Value::from(*id)));
    params.extend([currency.code().into(), own_list.into(), group.into(), channel.into(), channel.into()]);
    tx.query(&sql, &params)?
        .iter()
        .map(|row| {
            let rank = row.int(2)?;
            Ok((
                row.int(0)?,
                ListPrice {
                    list_code: row.text(1)?,
                    rank: u8::try_from(rank).unwrap_or(3),
                    min_quantity: row.int(3)?,
                    price: from_e4_in(row.int(4)?, currency),
                    tax_included: row.int(5)? != 0,
                },
            ))
        })
        .collect()
}

/// The price lists' price for `quantity` of `product_id`, from `list_offers`.
pub fn best_offer(offers: &[(i64, ListPrice)], product_id: i64, quantity: i64) -> Option<ListPrice> {
    let mine: Vec<ListPrice> = offers.iter().filter(|(id, _)| *id == product_id).map(|(_, o)| o.clone()).collect();
    ordo_domain::pricing::best_list_price(&mine, quantity).cloned()
}

/// The tax rules for products of these categories (all of them when `None`).
pub fn tax_rules(tx: &mut dyn Tx, categories: Option<&[String]>) -> Result<Vec<ordo_domain::tax::TaxRule>, DbError> {
    let (filter, values): (String, Vec<crate::db::Value>) = match categories {
        None => (String::new(), Vec::new()),
        Some([]) => return Ok(Vec::new()),
        Some(list) => (
            format!(" WHERE category IN ({})", vec!["?"; list.len()].join(", ")),
            list.iter().map(|c| c.to_lowercase().into()).collect(),
        ),
    };
    let sql =
        format!("SELECT category, country, region, rate_e4 FROM tax_rules{filter} ORDER BY category, country, id");
    tx.query(&sql, &values)?
        .iter()
        .map(|r| {
            Ok(ordo_domain::tax::TaxRule {
                category: r.text(0)?,
                country: r.text(1)?,
                region: r.opt_text(2)?,
                rate: from_e4(r.int(3)?).normalize(),
            })
        })
        .collect()
}

pub fn replace_tax_rules(tx: &mut dyn Tx, rules: &[ordo_domain::tax::TaxRule]) -> Result<(), DbError> {
    tx.execute("DELETE FROM tax_rules", &[])?;
    for rule in rules {
        tx.execute(
            "INSERT INTO tax_rules (category, country, region, rate_e4) VALUES (?, ?, ?, ?)",
            params![rule.category.as_str(), rule.country.as_str(), rule.region.clone(), to_e4(rule.rate)],
        )?;
    }
    Ok(())
}
