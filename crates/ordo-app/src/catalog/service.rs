//! Catalog use cases. Each takes an open transaction; the caller commits.

use super::model::*;
use super::store::{self, ProductRow};
use crate::common::{AmountInput, Ctx, Page, PageRequest};
use crate::db::Tx;
use ordo_domain::Currency;
use ordo_domain::catalog::{DEFAULT_UNIT, parse_packs, parse_sku, parse_weight_grams};
use ordo_domain::money::parse_rate;
use ordo_domain::validation::{Violations, code, optional_text, required_text};
use rust_decimal::Decimal;

pub fn create_product(tx: &mut dyn Tx, ctx: &Ctx, input: &NewProduct) -> Result<Product, CatalogError> {
    let mut v = Violations::new();
    let sku = v.check(parse_sku("sku", input.sku.as_deref()));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let description = v.check(optional_text("description", input.description.as_deref(), 4000));
    let price = v.check(AmountInput::required("price", input.price.as_ref(), false));
    let currency = match v.check(Currency::field("currency", input.currency.as_deref())) {
        Some(None) => {
            v.add("currency", "is required");
            None
        }
        other => other.flatten(),
    };
    let tax_rate = v.check(input.tax_rate.as_ref().map_or(Ok(Decimal::ZERO), |r| parse_rate("tax_rate", &r.0)));
    let unit = v.check(optional_text("unit", input.unit.as_deref(), 16));
    let weight_g = v.check(input.weight_kg.as_ref().map(|w| parse_weight_grams("weight_kg", &w.0)).transpose());
    let tags = v.check(ordo_domain::catalog::parse_tags("tags", input.tags.as_deref().unwrap_or_default()));
    let category = v.check(optional_text("category", input.category.as_deref(), 100)).flatten();
    let base_unit = unit.clone().flatten().unwrap_or_else(|| DEFAULT_UNIT.to_string());
    let packs = v.check(parse_packs("packs", &base_unit, input.packs.as_deref().unwrap_or_default()));
    v.into_result()?;
    let tags = tags.unwrap_or_default();
    let packs = packs.unwrap_or_default();
    let (
        Some(sku),
        Some(name),
        Some(description),
        Some(price),
        Some(currency),
        Some(tax_rate),
        Some(unit),
        Some(weight_g),
    ) = (sku, name, description, price, currency, tax_rate, unit, weight_g)
    else {
        unreachable!("every field was checked above")
    };
    if store::sku_exists(tx, &sku)? {
        return Err(CatalogError::SkuTaken(sku));
    }
    let row = ProductRow {
        sku: &sku,
        name: &name,
        description: description.as_deref(),
        unit: unit.as_deref().unwrap_or(DEFAULT_UNIT),
        price,
        currency,
        tax_rate,
        weight_g,
        active: input.active.unwrap_or(true),
        tags: &tags,
        backorderable: input.backorderable.unwrap_or(false),
        category: category.as_deref(),
        packs: &packs,
    };
    let id = store::insert_product(tx, &row, ctx.now)?;
    crate::audit::record(tx, ctx, "catalog", "product.created", &sku, &format!("{name}, {price} {currency}"))?;
    get_product(tx, id)
}

pub fn get_product(tx: &mut dyn Tx, id: i64) -> Result<Product, CatalogError> {
    store::product_by_id(tx, id)?.ok_or(CatalogError::ProductNotFound(id))
}

/// Changes the given fields. `expected_version` comes from `If-Match`; when given, the
/// update only happens if nobody changed the product since.
pub fn update_product(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    patch: &ProductPatch,
) -> Result<Product, CatalogError> {
    let current = get_product(tx, id)?;
    if let Some(expected) = expected_version.filter(|v| *v != current.version) {
        let _ = expected;
        return Err(CatalogError::VersionMismatch { current: current.version });
    }
    let mut v = Violations::new();
    let name = match &patch.name {
        Some(name) => v.check(required_text("name", Some(name), 200)),
        None => Some(current.name.clone()),
    };
    let description = match &patch.description {
        Some(text) => v.check(optional_text("description", Some(text), 4000)),
        None => Some(current.description.clone()),
    };
    let price = match &patch.price {
        Some(raw) => v.check(raw.parse("price", false)),
        None => Some(current.price),
    };
    let currency = match &patch.currency {
        Some(code) => v.check(Currency::field("currency", Some(code))).map(|c| c.unwrap_or(current.currency)),
        None => Some(current.currency),
    };
    let tax_rate = match &patch.tax_rate {
        Some(raw) => v.check(parse_rate("tax_rate", &raw.0)),
        None => Some(current.tax_rate),
    };
    let unit = match &patch.unit {
        Some(unit) => v.check(required_text("unit", Some(unit), 16)),
        None => Some(current.unit.clone()),
    };
    let weight_g = match &patch.weight_kg {
        Some(raw) => v.check(parse_weight_grams("weight_kg", &raw.0).map(Some)),
        None => Some(current.weight_kg.map(|kg| (kg * Decimal::from(1000)).trunc().try_into().unwrap_or(0))),
    };
    let tags = match &patch.tags {
        Some(tags) => v.check(ordo_domain::catalog::parse_tags("tags", tags)),
        None => Some(current.tags.clone()),
    };
    let category = match &patch.category {
        Some(text) => v.check(optional_text("category", Some(text), 100)),
        None => Some(current.category.clone()),
    };
    let packs = match (&patch.packs, &unit) {
        (Some(packs), Some(unit)) => v.check(parse_packs("packs", unit, packs)),
        (None, Some(unit)) if current.packs.iter().any(|p| p.unit.eq_ignore_ascii_case(unit)) => {
            v.add("unit", format!("{unit:?} is one of the product's packs"));
            None
        }
        _ => Some(current.packs.clone()),
    };
    v.into_result()?;
    let category = category.flatten();
    let tags = tags.unwrap_or_default();
    let packs = packs.unwrap_or_default();
    let (Some(name), Some(description), Some(price), Some(currency), Some(tax_rate), Some(unit), Some(weight_g)) =
        (name, description, price, currency, tax_rate, unit, weight_g)
    else {
        unreachable!("every field was checked above")
    };
    let row = ProductRow {
        sku: &current.sku,
        name: &name,
        description: description.as_deref(),
        unit: &unit,
        price,
        currency,
        tax_rate,
        weight_g,
        active: patch.active.unwrap_or(current.active),
        tags: &tags,
        backorderable: patch.backorderable.unwrap_or(current.backorderable),
        category: category.as_deref(),
        packs: &packs,
    };
    if !store::update_product(tx, id, current.version, &row, ctx.now)? {
        let now_at = get_product(tx, id)?.version;
        return Err(CatalogError::VersionMismatch { current: now_at });
    }
    let summary = format!("price {} {}, tax {}, active {}", row.price, row.currency, row.tax_rate, row.active);
    crate::audit::record(tx, ctx, "catalog", "product.updated", &current.sku, &summary)?;
    get_product(tx, id)
}

pub fn list_products(tx: &mut dyn Tx, q: Option<&str>, page: PageRequest) -> Result<Page<Product>, CatalogError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list_products(tx, q, false, page.before_id, page.fetch_limit())?;
    Ok(page.page(rows, |p| p.id))
}

/// The products customers may order (active ones), newest first.
pub fn products_for_sale(tx: &mut dyn Tx, q: Option<&str>, page: PageRequest) -> Result<Page<Product>, CatalogError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list_products(tx, q, true, page.before_id, page.fetch_limit())?;
    Ok(page.page(rows, |p| p.id))
}

pub fn create_price_list(tx: &mut dyn Tx, ctx: &Ctx, input: &NewPriceList) -> Result<PriceList, CatalogError> {
    let mut v = Violations::new();
    let list_code = v.check(code("code", input.code.as_deref(), 32));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let currency = match v.check(Currency::field("currency", input.currency.as_deref())) {
        Some(None) => {
            v.add("currency", "is required");
            None
        }
        other => other.flatten(),
    };
    let group = v
        .check(optional_text("customer_group", input.customer_group.as_deref(), 32))
        .map(|g| g.map(|g| g.to_lowercase()));
    let channel = v.check(crate::channels::check_open(tx, input.channel.as_deref())?).flatten();
    let mut prices = Vec::new();
    for (i, item) in input.items.iter().enumerate() {
        let sku = v.check(parse_sku(&format!("items[{i}].sku"), item.sku.as_deref()));
        let price = v.check(AmountInput::required(&format!("items[{i}].price"), item.price.as_ref(), false));
        let breaks = v.check(price_breaks(&format!("items[{i}].breaks"), &item.breaks));
        if let (Some(sku), Some(price), Some(breaks)) = (sku, price, breaks) {
            prices.push((i, sku, price, breaks));
        }
    }
    let skus: Vec<&str> = prices.iter().map(|(_, sku, _, _)| sku.as_str()).collect();
    let products = store::products_by_skus(tx, &skus)?;
    for (i, sku, _, _) in &prices {
        if !products.iter().any(|p| &p.sku == sku) {
            v.add(format!("items[{i}].sku"), format!("no product has SKU {sku:?}"));
        }
    }
    v.into_result()?;
    let (Some(list_code), Some(name), Some(currency), Some(group)) = (list_code, name, currency, group) else {
        unreachable!("every field was checked above")
    };
    if store::price_list_by_code(tx, &list_code)?.is_some() {
        return Err(CatalogError::PriceListCodeTaken(list_code));
    }
    let header = store::NewList {
        code: &list_code,
        name: &name,
        currency,
        group: group.as_deref(),
        channel: channel.as_deref(),
        tax_included: input.tax_included.unwrap_or(false),
    };
    let id = store::insert_price_list(tx, &header, ctx.now)?;
    crate::audit::record(tx, ctx, "catalog", "price_list.created", &list_code, &format!("{} prices", prices.len()))?;
    for (_, sku, price, breaks) in &prices {
        if let Some(product) = products.iter().find(|p| &p.sku == sku) {
            store::set_price(tx, id, product.id, *price)?;
            store::set_breaks(tx, id, product.id, breaks)?;
        }
    }
    store::price_list_by_code(tx, &list_code)?.ok_or(CatalogError::PriceListNotFound(list_code))
}

pub fn set_list_price(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    list_code: &str,
    sku: &str,
    input: &SetPrice,
) -> Result<PriceList, CatalogError> {
    let mut v = Violations::new();
    let price = v.check(AmountInput::required("price", input.price.as_ref(), false));
    let breaks = input.breaks.as_ref().map(|b| v.check(price_breaks("breaks", b)));
    v.into_result()?;
    let Some(price) = price else { unreachable!("checked above") };
    let list =
        store::price_list_by_code(tx, list_code)?.ok_or_else(|| CatalogError::PriceListNotFound(list_code.into()))?;
    let product = store::products_by_skus(tx, &[sku])?
        .pop()
        .ok_or_else(|| ordo_domain::Invalid::field("sku", format!("no product has SKU {sku:?}")))?;
    store::set_price(tx, list.id, product.id, price)?;
    if let Some(Some(breaks)) = &breaks {
        store::set_breaks(tx, list.id, product.id, breaks)?;
    }
    crate::audit::record(tx, ctx, "catalog", "price_list.price_set", list_code, &format!("{sku}: {price}"))?;
    store::price_list_by_code(tx, list_code)?.ok_or_else(|| CatalogError::PriceListNotFound(list_code.into()))
}

/// Quantity breaks: each from 2 units up, each quantity once.
fn price_breaks(
    field: &str,
    breaks: &[PriceBreakInput],
) -> Result<Vec<(i64, Decimal)>, ordo_domain::validation::FieldError> {
    use ordo_domain::validation::FieldError;
    let mut out: Vec<(i64, Decimal)> = Vec::with_capacity(breaks.len());
    for (i, b) in breaks.iter().enumerate() {
        let min = match b.min_quantity {
            Some(n) if (2..=ordo_domain::money::MAX_LINE_QUANTITY).contains(&n) => n,
            Some(_) => {
                return Err(FieldError::new(
                    format!("{field}[{i}].min_quantity"),
                    "must be at least 2 (1 is the plain price)",
                ));
            }
            None => return Err(FieldError::new(format!("{field}[{i}].min_quantity"), "is required")),
        };
        if out.iter().any(|(m, _)| *m == min) {
            return Err(FieldError::new(format!("{field}[{i}].min_quantity"), format!("{min} is given twice")));
        }
        out.push((min, AmountInput::required(&format!("{field}[{i}].price"), b.price.as_ref(), false)?));
    }
    Ok(out)
}

pub fn list_price_lists(tx: &mut dyn Tx) -> Result<Vec<PriceList>, CatalogError> {
    Ok(store::list_price_lists(tx)?)
}

pub fn tax_rules(tx: &mut dyn Tx) -> Result<TaxRules, CatalogError> {
    Ok(TaxRules { rules: store::tax_rules(tx, None)? })
}

/// Replaces the tax rules: orders placed from now on take their rates from them; orders
/// already placed keep the rates they were sold at.
pub fn set_tax_rules(tx: &mut dyn Tx, ctx: &Ctx, input: &TaxRulesInput) -> Result<TaxRules, CatalogError> {
    let rules = ordo_domain::tax::parse_rules(&input.rules)?;
    store::replace_tax_rules(tx, &rules)?;
    crate::audit::record(tx, ctx, "catalog", "tax_rules.set", "tax", &format!("{} rules", rules.len()))?;
    tax_rules(tx)
}
