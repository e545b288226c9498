//! Stocktaking: a count session snapshots what the books expect, people enter what they
//! count, the variance report shows quantity and value, and posting books the differences
//! as `count_variance` movements (a permission of its own: it writes stock value off).

use super::model::InventoryError;
use super::store::{self as stock, NewMovement};
use crate::common::{Ctx, Page, PageRequest};
use crate::db::{DbError, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::inventory::{AbcClass, MAX_ON_HAND, MovementKind, abc_classes};
use ordo_domain::money::{from_e4, from_e4_in};
use ordo_domain::validation::{FieldError, Violations};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What to count in one warehouse: everything (no filter), a SKU list, the products with a
/// tag (a category), or an ABC class by the last 90 days' sales value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewCount {
    pub warehouse: Option<String>,
    pub skus: Option<Vec<String>>,
    /// A product tag, e.g. `tea`.
    pub tag: Option<String>,
    /// A, B or C.
    pub abc_class: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CountedLines {
    pub lines: Option<Vec<CountedLine>>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CountedLine {
    pub sku: Option<String>,
    pub counted: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockCount {
    pub id: i64,
    #[schema(example = "SC-000001")]
    pub number: String,
    pub warehouse: String,
    /// What was counted, in words: `all`, `skus: …`, `tag: …`, `class: A`.
    pub scope: String,
    /// open, posted.
    pub status: String,
    pub lines: Vec<CountLine>,
    /// Sum of the variances' value (counted − expected, at cost, else list price).
    #[schema(value_type = String)]
    pub variance_value: Decimal,
    pub created_by: String,
    pub created_at: Timestamp,
    pub posted_by: Option<String>,
    pub posted_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountLine {
    pub sku: String,
    pub name: String,
    /// On hand when the count started.
    pub expected: i64,
    /// Absent until counted.
    pub counted: Option<i64>,
    pub variance: Option<i64>,
    #[schema(value_type = Option<String>)]
    pub variance_value: Option<Decimal>,
    pub counted_by: Option<String>,
}

const LOOKBACK_DAYS: i64 = 90;

/// Starts a count: snapshots the expected on-hand of every product in scope.
pub fn start_count(tx: &mut dyn Tx, ctx: &Ctx, input: &NewCount) -> Result<StockCount, InventoryError> {
    let mut v = Violations::new();
    let warehouse = stock::warehouse_field(tx, "warehouse", input.warehouse.as_deref(), &mut v)?;
    let given = [input.skus.is_some(), input.tag.is_some(), input.abc_class.is_some()].iter().filter(|b| **b).count();
    if given > 1 {
        v.add("skus", "give one of skus, tag or abc_class (or none to count everything)");
    }
    let class = input
        .abc_class
        .as_deref()
        .map(|c| AbcClass::parse(c.trim()).ok_or_else(|| FieldError::new("abc_class", "must be A, B or C")));
    let class = match class {
        Some(result) => v.check(result),
        None => None,
    };
    v.into_result()?;
    let Some(warehouse) = warehouse else { unreachable!("checked above") };

    let mut products: Vec<(i64, i64)> = tx // (product id, on hand) of everything stocked here or sold
        .query(
            "SELECT p.id, COALESCE(s.on_hand, 0) FROM products p \
             LEFT JOIN stock_levels s ON s.product_id = p.id AND s.warehouse_id = ? \
             WHERE p.active = 1 OR s.on_hand > 0 ORDER BY p.sku",
            params![warehouse.id],
        )?
        .iter()
        .map(|r| Ok((r.int(0)?, r.int(1)?)))
        .collect::<Result<_, DbError>>()?;
    let scope = if let Some(skus) = &input.skus {
        let mut wanted: Vec<&str> = skus.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let found = crate::catalog::store::products_by_skus(tx, &wanted)?;
        let missing: Vec<&str> = wanted.iter().filter(|s| !found.iter().any(|p| p.sku == **s)).copied().collect();
        if wanted.is_empty() || !missing.is_empty() {
            let message = if wanted.is_empty() {
                "list at least one SKU".to_string()
            } else {
                format!("unknown SKUs: {}", missing.join(", "))
            };
            return Err(ordo_domain::Invalid::field("skus", message).into());
        }
        products.retain(|(id, _)| found.iter().any(|p| p.id == *id));
        format!("skus: {}", wanted.join(", "))
    } else if let Some(tag) = &input.tag {
        let tag = tag.trim().to_lowercase();
        let tagged: Vec<i64> = crate::catalog::store::product_ids_tagged(tx, &tag)?;
        products.retain(|(id, _)| tagged.contains(id));
        format!("tag: {tag}")
    } else if let Some(class) = class {
        let since = ctx.now.minus_days(LOOKBACK_DAYS);
        let sold: Vec<(i64, Decimal)> = tx
            .query(
                "SELECT l.product_id, CAST(SUM(l.line_total_e4) AS BIGINT) FROM order_lines l JOIN orders o ON o.id = l.order_id \
                 WHERE o.created_at >= ? AND o.status <> 'cancelled' GROUP BY l.product_id",
                params![since.micros()],
            )?
            .iter()
            .map(|r| Ok((r.int(0)?, from_e4(r.int(1)?))))
            .collect::<Result<_, DbError>>()?;
        let values: Vec<(i64, Decimal)> = products
            .iter()
            .map(|(id, _)| (*id, sold.iter().find(|(p, _)| p == id).map(|(_, v)| *v).unwrap_or_default()))
            .collect();
        let in_class: Vec<i64> =
            abc_classes(&values).into_iter().filter(|(_, c)| *c == class).map(|(id, _)| id).collect();
        products.retain(|(id, _)| in_class.contains(id));
        format!("class: {class}")
    } else {
        "all".to_string()
    };
    if products.is_empty() {
        return Err(ordo_domain::Invalid::field("skus", "nothing to count in this scope").into());
    }
    let sequence = crate::orders::store::next_sequence(tx, "count_number")?;
    let number = format!("SC-{sequence:06}");
    let id = tx.insert(
        "INSERT INTO stock_counts (number, warehouse_id, scope, status, version, created_by, created_at) \
         VALUES (?, ?, ?, 'open', 1, ?, ?)",
        params![number.as_str(), warehouse.id, scope.as_str(), ctx.actor.as_str(), ctx.now.micros()],
    )?;
    for (product_id, on_hand) in &products {
        tx.execute(
            "INSERT INTO stock_count_lines (count_id, product_id, expected) VALUES (?, ?, ?)",
            params![id, *product_id, *on_hand],
        )?;
    }
    crate::audit::record(tx, ctx, "inventory", "count.started", &number, &format!("{} SKUs, {scope}", products.len()))?;
    get_count(tx, id)
}

fn lock(tx: &mut dyn Tx, id: i64) -> Result<StockCount, InventoryError> {
    if tx.execute("UPDATE stock_counts SET version = version WHERE id = ?", params![id])? == 0 {
        return Err(InventoryError::CountNotFound(id));
    }
    let count = get_count(tx, id)?;
    if count.status != "open" {
        return Err(InventoryError::Conflict(format!("count {} is {}", count.number, count.status)));
    }
    Ok(count)
}

/// Records counted quantities (a later entry for a SKU replaces an earlier one).
pub fn enter_counts(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &CountedLines) -> Result<StockCount, InventoryError> {
    let count = lock(tx, id)?;
    let mut v = Violations::new();
    let lines = input.lines.as_deref().unwrap_or_default();
    if lines.is_empty() {
        v.add("lines", "enter at least one counted line");
    }
    let mut entries = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let sku = line.sku.as_deref().map(str::trim).unwrap_or_default();
        if !count.lines.iter().any(|l| l.sku == sku) {
            v.add(format!("lines[{i}].sku"), format!("{sku:?} is not in this count"));
        }
        match line.counted {
            Some(n) if (0..=MAX_ON_HAND).contains(&n) => entries.push((sku.to_string(), n)),
            _ => v.add(format!("lines[{i}].counted"), format!("must be between 0 and {MAX_ON_HAND}")),
        }
    }
    v.into_result()?;
    for (sku, counted) in &entries {
        tx.execute(
            "UPDATE stock_count_lines SET counted = ?, counted_by = ?, counted_at = ? \
             WHERE count_id = ? AND product_id = (SELECT id FROM products WHERE sku = ?)",
            params![*counted, ctx.actor.as_str(), ctx.now.micros(), id, sku.as_str()],
        )?;
    }
    get_count(tx, id)
}

/// Books each counted line's variance as a movement. Stock that moved after the count
/// started is kept: the variance is added to the current on-hand, not overwritten by it.
pub fn post_count(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<StockCount, InventoryError> {
    let count = lock(tx, id)?;
    let warehouse = stock::warehouse_by_code(tx, &count.warehouse)?
        .ok_or_else(|| InventoryError::WarehouseNotFound(count.warehouse.clone()))?;
    let mut movements = Vec::new();
    let counted: Vec<&CountLine> = count.lines.iter().filter(|l| l.variance.is_some_and(|v| v != 0)).collect();
    let ids = crate::catalog::store::products_by_skus(tx, &counted.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>())?;
    for line in &counted {
        let variance = line.variance.unwrap_or_default();
        let product_id = ids.iter().find(|p| p.sku == line.sku).map(|p| p.id).unwrap_or_default();
        let (on_hand, reserved) = stock::lock_level(tx, product_id, warehouse.id, ctx.now)?;
        if on_hand + variance < reserved.max(0) || on_hand + variance < 0 {
            return Err(InventoryError::BelowReserved { on_hand: on_hand + variance, reserved });
        }
        stock::set_on_hand(tx, product_id, warehouse.id, on_hand + variance, ctx.now)?;
        movements.push((product_id, variance));
    }
    let records: Vec<NewMovement> = movements
        .iter()
        .map(|&(product_id, variance)| NewMovement {
            product_id,
            warehouse_id: warehouse.id,
            kind: MovementKind::CountVariance,
            on_hand_delta: variance,
            reserved_delta: 0,
            reason: Some("stock count posted"),
            reference: Some(&count.number),
        })
        .collect();
    stock::record_movements(tx, &records, &ctx.actor, ctx.now)?;
    tx.execute(
        "UPDATE stock_counts SET status = 'posted', posted_by = ?, posted_at = ?, version = version + 1 WHERE id = ?",
        params![ctx.actor.as_str(), ctx.now.micros(), id],
    )?;
    let summary = format!("{} variances, value {}", records.len(), count.variance_value);
    crate::audit::record(tx, ctx, "inventory", "count.posted", &count.number, &summary)?;
    get_count(tx, id)
}

const COLUMNS: &str = "c.id, c.number, w.code, c.scope, c.status, c.created_by, c.created_at, c.posted_by, c.posted_at";

fn header(row: &Row) -> Result<StockCount, DbError> {
    Ok(StockCount {
        id: row.int(0)?,
        number: row.text(1)?,
        warehouse: row.text(2)?,
        scope: row.text(3)?,
        status: row.text(4)?,
        created_by: row.text(5)?,
        created_at: Timestamp(row.int(6)?),
        posted_by: row.opt_text(7)?,
        posted_at: row.opt_int(8)?.map(Timestamp),
        lines: Vec::new(),
        variance_value: Decimal::ZERO,
    })
}

pub fn get_count(tx: &mut dyn Tx, id: i64) -> Result<StockCount, InventoryError> {
    let sql = format!("SELECT {COLUMNS} FROM stock_counts c JOIN warehouses w ON w.id = c.warehouse_id WHERE c.id = ?");
    let mut count =
        tx.query_opt(&sql, params![id])?.as_ref().map(header).transpose()?.ok_or(InventoryError::CountNotFound(id))?;
    let rows = tx.query(
        "SELECT p.sku, p.name, l.expected, l.counted, l.counted_by, COALESCE(p.cost_e4, p.price_e4), p.currency \
         FROM stock_count_lines l JOIN products p ON p.id = l.product_id WHERE l.count_id = ? ORDER BY p.sku",
        params![id],
    )?;
    // Two places, like the money it sums, also when nothing differs.
    let mut total = Decimal::new(0, 2);
    for row in rows {
        let (expected, counted) = (row.int(2)?, row.opt_int(3)?);
        let currency = crate::catalog::store::currency(&row.text(6)?)?;
        let unit = from_e4_in(row.int(5)?, currency);
        let variance = counted.map(|c| c - expected);
        let value = variance.map(|v| currency.round(unit * Decimal::from(v)));
        total += value.unwrap_or_default();
        count.lines.push(CountLine {
            sku: row.text(0)?,
            name: row.text(1)?,
            expected,
            counted,
            variance,
            variance_value: value,
            counted_by: row.opt_text(4)?,
        });
    }
    count.variance_value = total;
    Ok(count)
}

pub fn list_counts(tx: &mut dyn Tx, page: PageRequest) -> Result<Page<StockCount>, InventoryError> {
    let mut params: Vec<Value> = Vec::new();
    let after = match page.before_id {
        Some(id) => {
            params.push(id.into());
            " WHERE c.id < ?"
        }
        None => "",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM stock_counts c JOIN warehouses w ON w.id = c.warehouse_id{after} ORDER BY c.id DESC LIMIT {}",
        page.fetch_limit()
    );
    let ids: Vec<i64> = tx.query(&sql, &params)?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get_count(tx, id)?);
    }
    Ok(page.page(items, |c| c.id))
}
