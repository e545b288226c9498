//! `POST /api/v1/imports`: orders from a CSV or XLSX file, one row per order line, rows with
//! the same `external_ref` forming one order. A dry run reports every problem by row and
//! column and changes nothing; `all_or_nothing` imports every order or none;
//! `valid_rows` imports the orders whose rows are all valid and returns the others as a
//! file to fix. An order with any invalid row is rejected whole, never imported in half;
//! an external reference already imported is reported, not imported twice.
//!
//! Customers and products load the same way: a key already held is reported, not
//! overwritten, unless the file is sent with `existing=update`, when its row changes the
//! record (an empty cell leaves that field as it is); stock files set levels (a stock count: the difference is an adjustment
//! movement) and price-list files create lists or set their prices, so each kind's export
//! imports back unchanged.

use super::ExchangeError;
use crate::Ctx;
use crate::common::AmountInput;
use crate::db::{DbError, Tx};
use crate::orders::{NewOrder, NewOrderLine, OrderError, Placed};
use crate::params;
use crate::reports::{Cell, Table};
use ordo_domain::orders::ChannelKind;
use ordo_domain::time::Date;
use ordo_domain::{Invalid, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Fields of an order row, in template order; the first four are required. `unit` is the
/// product's own unit (when empty) or one of its packs, which `quantity` counts.
pub const ORDER_FIELDS: &[&str] = &[
    "external_ref",
    "customer_code",
    "sku",
    "quantity",
    "unit_price",
    "channel",
    "notes",
    "requested_delivery_date",
    "unit",
];
/// Fields of a customer row (the customers export's columns); code and name are required.
pub const CUSTOMER_FIELDS: &[&str] = &[
    "code",
    "name",
    "group",
    "region",
    "email",
    "phone",
    "contact_name",
    "payment_terms",
    "credit_limit",
    "currency",
    "price_list",
    "language",
    "salesperson",
    "ship_name",
    "ship_phone",
    "ship_line1",
    "ship_city",
    "ship_district",
    "ship_province",
    "ship_postal_code",
    "ship_country",
];

/// Fields of a product row (the products export's columns, less cost and the ERP key,
/// which come from receipts and the ERP); SKU and name are required.
pub const PRODUCT_FIELDS: &[&str] = &[
    "sku",
    "name",
    "description",
    "category",
    "unit",
    "price",
    "currency",
    "tax_rate",
    "weight_kg",
    "active",
    "backorderable",
    "tags",
    "packs",
];

/// Fields of a stock row (the stock export's columns; `reserved`, `available` and `damaged`
/// are what Ordo keeps and are not read back); warehouse, SKU and on hand are required.
pub const STOCK_FIELDS: &[&str] = &["warehouse", "sku", "on_hand", "bin"];

/// Fields of a price-list row (the price-lists export's columns), one row per price; rows
/// with the same `price_list` form one list. Name and currency are needed for a new list.
/// `breaks` holds the quantity breaks as `10=9.50;50=9.00` (from 10 units on, 9.50 a unit);
/// when the column is there, it replaces the product's breaks on the list. `tax_included`
/// (`true`/`false`, `yes`/`no`, `含税`/`不含税`) says whether a new list's prices hold the tax.
pub const PRICE_LIST_FIELDS: &[&str] =
    &["price_list", "sku", "price", "name", "currency", "customer_group", "breaks", "tax_included"];

/// A yes/no cell: `None` when empty, `Err` when it is neither.
fn flag(text: &str) -> Result<Option<bool>, String> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "true" | "yes" | "y" | "1" | "含税" | "含稅" | "是" => Ok(Some(true)),
        "false" | "no" | "n" | "0" | "不含税" | "不含稅" | "未税" | "否" => Ok(Some(false)),
        other => Err(format!("must be true or false (含税 / 不含税), not {other:?}")),
    }
}

/// Quantity breaks as a cell holds them: `10=9.50;50=9.00`.
pub fn breaks_text(breaks: &[(i64, rust_decimal::Decimal)]) -> String {
    breaks.iter().map(|(min, price)| format!("{min}={price}")).collect::<Vec<_>>().join(";")
}

/// Reads a `10=9.50;50=9.00` cell; the catalog checks the breaks themselves.
fn breaks_from_text(text: &str) -> Result<Vec<crate::catalog::PriceBreakInput>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (min, price) =
                part.split_once('=').ok_or_else(|| format!("{part:?} must be written quantity=price, e.g. 10=9.50"))?;
            let min = min
                .trim()
                .replace(',', "")
                .parse::<i64>()
                .map_err(|_| format!("{part:?}: the quantity must be a whole number"))?;
            Ok(crate::catalog::PriceBreakInput {
                min_quantity: Some(min),
                price: Some(AmountInput(price.trim().into())),
            })
        })
        .collect()
}

/// What a kind of file holds: its fields, how many of the first are required, and how many
/// of the first form the key whose rows make one record (an order's reference, a
/// customer's code, a warehouse and SKU).
struct Kind {
    name: &'static str,
    fields: &'static [&'static str],
    required: usize,
    key: usize,
}

const KINDS: [Kind; 5] = [
    Kind { name: "orders", fields: ORDER_FIELDS, required: 4, key: 1 },
    Kind { name: "customers", fields: CUSTOMER_FIELDS, required: 2, key: 1 },
    Kind { name: "products", fields: PRODUCT_FIELDS, required: 2, key: 1 },
    Kind { name: "stock", fields: STOCK_FIELDS, required: 3, key: 2 },
    Kind { name: "price_lists", fields: PRICE_LIST_FIELDS, required: 3, key: 1 },
];
/// The most rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

/// Told how far an import has come: (records done, records in the file).
pub type Progress = std::sync::Arc<dyn Fn(usize, usize) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    DryRun,
    AllOrNothing,
    ValidRows,
}

/// A file to import, as the edge received it.
pub struct ImportFile {
    pub kind: String,
    pub mode: Option<String>,
    /// JSON object: the file's column name → our field name.
    pub mapping: Option<String>,
    /// Or the name of a saved mapping (see `resolve_mapping`).
    pub mapping_name: Option<String>,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// `skip` (default: a customer or product that exists is reported as a duplicate) or
    /// `update` (its row changes it).
    pub existing: Option<String>,
    /// Whether the importer may set `unit_price` (the price-override permission).
    pub may_set_prices: bool,
    /// Called after each record, for a progress bar.
    pub progress: Option<Progress>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The row in the file, counting the header as row 1.
    pub row: usize,
    /// The file's column (or our field, when the column is missing).
    pub column: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub id: i64,
    pub kind: String,
    pub mode: ImportMode,
    /// validated (dry run), imported, partially_imported, rejected.
    pub status: String,
    /// Data rows in the file.
    pub rows: usize,
    /// Orders imported (or, on a dry run, that would be).
    pub imported: usize,
    /// Orders rejected.
    pub rejected: usize,
    /// External references already imported earlier: reported, not imported again.
    pub duplicates: Vec<String>,
    pub errors: Vec<RowError>,
    /// The orders created.
    pub order_ids: Vec<i64>,
    /// The customers created (customer files).
    #[serde(default)]
    pub customer_ids: Vec<i64>,
    /// The products created (product files).
    #[serde(default)]
    pub product_ids: Vec<i64>,
    /// Stock levels set (stock files), prices set (price-list files), or customers and
    /// products changed (with `existing=update`; they count as imported too).
    #[serde(default)]
    pub updated: usize,
    /// The rejected orders' rows, as CSV with an `error` column, to fix and import again.
    pub rejected_csv: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// Reads the file into rows of text: CSV (UTF-8, with or without a BOM) or XLSX (first sheet).
fn read_rows(file: &ImportFile) -> Result<Vec<Vec<String>>, Invalid> {
    let is_xlsx = file.file_name.to_lowercase().ends_with(".xlsx") || file.bytes.starts_with(b"PK");
    if is_xlsx {
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(file.bytes.as_slice()))
            .map_err(|e| Invalid::field("file", format!("is not a readable XLSX file: {e}")))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| Invalid::field("file", "has no sheet"))?
            .map_err(|e| Invalid::field("file", format!("the first sheet cannot be read: {e}")))?;
        Ok(range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::Empty => String::new(),
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                        // A date cell: days since 1899-12-30 (the Unix epoch is day 25569).
                        Data::DateTime(d) => Date::from_days(d.as_f64().floor() as i64 - 25_569).to_string(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect())
    } else {
        let text = std::str::from_utf8(&file.bytes)
            .map_err(|_| Invalid::field("file", "is not UTF-8 text: save the CSV as UTF-8, or upload the XLSX"))?;
        Ok(ordo_domain::csv::parse(text.trim_start_matches('\u{feff}')))
    }
}

/// One order's rows as read: (file row number, cells by field).
struct Group {
    external_ref: String,
    rows: Vec<(usize, Vec<String>)>,
}

/// A file read and grouped into records, ready to import (no database needed yet).
pub struct Parsed {
    kind: &'static Kind,
    mode: ImportMode,
    header: Vec<String>,
    data: Vec<Vec<String>>,
    /// Which of the file's columns holds each field.
    columns: Vec<Option<usize>>,
    groups: Vec<Group>,
    may_set_prices: bool,
    /// Rows whose customer or product exists change it.
    update_existing: bool,
    progress: Option<Progress>,
}

impl Parsed {
    pub fn mode(&self) -> ImportMode {
        self.mode
    }

    /// Records in the file (orders, customers, levels, lists).
    pub fn records(&self) -> usize {
        self.groups.len()
    }

    /// The file's own name for a field's column (the field's name when it has none).
    fn column_name(&self, field: usize) -> String {
        self.columns[field].map_or(self.kind.fields[field].to_string(), |c| self.header[c].trim().to_string())
    }
}

/// What the records imported so far came to; cloned before each chunk, so a chunk that is
/// retried (a serialization failure) counts once.
#[derive(Clone, Default)]
pub struct Tally {
    errors: Vec<RowError>,
    duplicates: Vec<String>,
    order_ids: Vec<i64>,
    customer_ids: Vec<i64>,
    product_ids: Vec<i64>,
    rejected_rows: Vec<(usize, String)>,
    imported: usize,
    rejected: usize,
    updated: usize,
}

/// Records per chunk: what a dry run rolls back at a time, and what `valid_rows` commits at
/// a time. PostgreSQL keeps every version of a row that a transaction updates until the
/// transaction ends, and placing thousands of orders on a few SKUs in one transaction walks
/// ever longer chains of them (a 10,000-order file: 223 s with chunks of 500, 83 s with
/// 100). On SQLite, 100,000 lines took 11.8 s with chunks of 100 and 20.7 s with 2,000.
pub const CHUNK: usize = 100;

/// A mapping as sent (JSON: the file's column → our field), checked against the kind's fields.
fn parse_mapping(kind: &Kind, json: Option<&str>) -> Result<HashMap<String, String>, Invalid> {
    let mapping: HashMap<String, String> = match json.map(str::trim).filter(|m| !m.is_empty()) {
        None => HashMap::new(),
        Some(json) => serde_json::from_str(json)
            .map_err(|_| Invalid::field("mapping", "must be a JSON object: {\"file column\": \"field\"}"))?,
    };
    if let Some(bad) = mapping.values().find(|f| !kind.fields.contains(&f.as_str())) {
        return Err(Invalid::field("mapping", format!("{bad:?} is not a field; fields: {}", kind.fields.join(", "))));
    }
    Ok(mapping)
}

fn kind_named(kind: &str) -> Result<&'static Kind, Invalid> {
    KINDS
        .iter()
        .find(|k| k.name == kind)
        .ok_or_else(|| Invalid::field("kind", "must be orders, customers, products, stock or price_lists"))
}

/// A column mapping kept under a name, so next month's file from the same customer needs
/// only the name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SavedMapping {
    pub kind: String,
    pub name: String,
    /// The file's column → the field it holds.
    pub mapping: std::collections::BTreeMap<String, String>,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

/// Saves (or replaces) the mapping `name` for `kind`, after checking every field it names.
pub fn save_mapping(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    kind: &str,
    name: &str,
    json: &str,
) -> Result<SavedMapping, ExchangeError> {
    let kind = kind_named(kind)?;
    let name = ordo_domain::validation::required_text("name", Some(name), 100).map_err(|e| Invalid(vec![e]))?;
    let mapping = parse_mapping(kind, Some(json))?;
    if mapping.is_empty() {
        return Err(Invalid::field("mapping", "names no column: {\"file column\": \"field\"}").into());
    }
    let sorted: std::collections::BTreeMap<String, String> = mapping.into_iter().collect();
    let text = serde_json::to_string(&sorted).map_err(|e| DbError::Other(e.to_string()))?;
    let updated = tx.execute(
        "UPDATE import_mappings SET mapping = ?, updated_by = ?, updated_at = ? WHERE kind = ? AND name = ?",
        params![text.as_str(), ctx.actor.as_str(), ctx.now.micros(), kind.name, name.as_str()],
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO import_mappings (kind, name, mapping, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
            params![kind.name, name.as_str(), text.as_str(), ctx.actor.as_str(), ctx.now.micros()],
        )?;
    }
    Ok(SavedMapping {
        kind: kind.name.into(),
        name,
        mapping: sorted,
        updated_by: ctx.actor.clone(),
        updated_at: ctx.now,
    })
}

/// The saved mappings, of one kind or of all, by kind and name.
pub fn saved_mappings(tx: &mut dyn Tx, kind: Option<&str>) -> Result<Vec<SavedMapping>, DbError> {
    let select = "SELECT kind, name, mapping, updated_by, updated_at FROM import_mappings";
    let rows = match kind {
        Some(kind) => tx.query(&format!("{select} WHERE kind = ? ORDER BY name"), params![kind])?,
        None => tx.query(&format!("{select} ORDER BY kind, name"), &[])?,
    };
    rows.iter()
        .map(|r| {
            Ok(SavedMapping {
                kind: r.text(0)?,
                name: r.text(1)?,
                mapping: serde_json::from_str(&r.text(2)?).map_err(|e| DbError::Decode(e.to_string()))?,
                updated_by: r.text(3)?,
                updated_at: Timestamp(r.int(4)?),
            })
        })
        .collect()
}

/// The mapping a file is read with: the one it carries, or the saved one it names (a file
/// may carry a mapping or a name, not both).
pub fn resolve_mapping(
    tx: &mut dyn Tx,
    kind: &str,
    mapping: Option<&str>,
    name: Option<&str>,
) -> Result<Option<String>, ExchangeError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(mapping.map(String::from)) };
    if mapping.is_some_and(|m| !m.trim().is_empty()) {
        return Err(Invalid::field("mapping_name", "send a mapping or the name of a saved one, not both").into());
    }
    let kind = kind_named(kind)?;
    let saved = saved_mappings(tx, Some(kind.name))?.into_iter().find(|m| m.name == name).ok_or_else(|| {
        Invalid::field("mapping_name", format!("no mapping named {name:?} is saved for {}", kind.name))
    })?;
    Ok(Some(serde_json::to_string(&saved.mapping).map_err(|e| DbError::Other(e.to_string()))?))
}

/// Reads the file, its kind, mode and mapping, and groups its rows into records.
pub fn parse(file: &ImportFile) -> Result<Parsed, ExchangeError> {
    let kind = kind_named(&file.kind)?;
    let fields = kind.fields;
    let mode = match file.mode.as_deref().map(str::trim).unwrap_or("dry_run") {
        "dry_run" | "" => ImportMode::DryRun,
        "all_or_nothing" => ImportMode::AllOrNothing,
        "valid_rows" => ImportMode::ValidRows,
        _ => return Err(Invalid::field("mode", "must be dry_run, all_or_nothing or valid_rows").into()),
    };
    let update_existing = match file.existing.as_deref().map(str::trim).unwrap_or("skip") {
        "skip" | "" => false,
        "update" if matches!(kind.name, "customers" | "products") => true,
        "update" => {
            return Err(Invalid::field(
                "existing",
                "update is for customers and products (stock and price-list files always set what they hold)",
            )
            .into());
        }
        _ => return Err(Invalid::field("existing", "must be skip or update").into()),
    };
    let mapping = parse_mapping(kind, file.mapping.as_deref())?;
    let mut rows = read_rows(file)?;
    if rows.is_empty() {
        return Err(Invalid::field("file", "is empty: it needs a header row and one row per record").into());
    }
    let header = rows.remove(0);
    let data = rows;
    if data.len() > MAX_ROWS {
        return Err(Invalid::field("file", format!("has {} rows; at most {MAX_ROWS} per file", data.len())).into());
    }
    // Which column holds each field: the mapping first, else the column named as the field.
    let field_of = |column: &str| -> Option<&str> {
        let column = column.trim();
        mapping
            .get(column)
            .map(String::as_str)
            .or_else(|| fields.iter().copied().find(|f| f.eq_ignore_ascii_case(column)))
    };
    let mut columns: Vec<Option<usize>> = vec![None; fields.len()];
    for (i, name) in header.iter().enumerate() {
        if let Some(field) = field_of(name)
            && let Some(slot) = fields.iter().position(|f| *f == field)
        {
            columns[slot].get_or_insert(i);
        }
    }
    let missing: Vec<RowError> = fields[..kind.required]
        .iter()
        .zip(&columns)
        .filter(|(_, c)| c.is_none())
        .map(|(field, _)| RowError {
            row: 1,
            column: field.to_string(),
            message: "this column is missing from the header".into(),
        })
        .collect();
    if !missing.is_empty() {
        let mut invalid = Invalid(Vec::new());
        for m in missing {
            invalid.0.push(ordo_domain::validation::FieldError::new(m.column.clone(), m.message));
        }
        return Err(invalid.into());
    }
    // Group rows by their record's key (reference, code), in file order; blank rows are
    // skipped, and rows without a key stay apart (each is reported).
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for (n, row) in data.iter().enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells: Vec<String> = columns
            .iter()
            .map(|c| c.and_then(|i| row.get(i)).map_or(String::new(), |v| v.trim().to_string()))
            .collect();
        let key =
            if cells[..kind.key].iter().any(String::is_empty) { String::new() } else { cells[..kind.key].join("/") };
        match group_of.get(&key).filter(|_| !key.is_empty()) {
            Some(&g) => groups[g].rows.push((n + 2, cells)),
            None => {
                group_of.insert(key.clone(), groups.len());
                groups.push(Group { external_ref: key, rows: vec![(n + 2, cells)] });
            }
        }
    }

    Ok(Parsed {
        kind,
        mode,
        header,
        data,
        columns,
        groups,
        may_set_prices: file.may_set_prices,
        update_existing,
        progress: file.progress.clone(),
    })
}

/// Imports a whole file in one transaction: a dry run (rolled back chunk by chunk, the
/// stock it would take carried forward, then wholly) or all-or-nothing. What must leave
/// nothing behind ends in `ExchangeError::RolledBack` with the outcome to record.
pub fn import(tx: &mut dyn Tx, ctx: &Ctx, file: &ImportFile) -> Result<ImportResult, ExchangeError> {
    import_parsed(tx, ctx, &parse(file)?)
}

/// `import` of a file already parsed.
pub fn import_parsed(tx: &mut dyn Tx, ctx: &Ctx, parsed: &Parsed) -> Result<ImportResult, ExchangeError> {
    let mut tally = Tally::default();
    for start in (0..parsed.records()).step_by(CHUNK) {
        let chunk = start..(start + CHUNK).min(parsed.records());
        if parsed.mode == ImportMode::DryRun && parsed.kind.name == "orders" {
            try_chunk(tx, ctx, parsed, chunk, &mut tally)?;
        } else {
            import_records(tx, ctx, parsed, chunk, &mut tally)?;
        }
    }
    finish(tx, ctx, parsed, tally)
}

/// Where the last chunk of a file begins.
pub fn last_chunk(parsed: &Parsed) -> usize {
    parsed.records().saturating_sub(1) / CHUNK * CHUNK
}

/// `valid_rows`' last step: the last chunk and the outcome, in one transaction (with the
/// request's idempotency key, at the edge), after `import_records` committed the others.
pub fn import_last_chunk(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    parsed: &Parsed,
    tally: &Tally,
) -> Result<ImportResult, ExchangeError> {
    let mut tally = tally.clone();
    import_records(tx, ctx, parsed, last_chunk(parsed)..parsed.records(), &mut tally)?;
    finish(tx, ctx, parsed, tally)
}

/// A dry run's chunk of orders: placed, then rolled back, with the stock they took put
/// back as one change per stock level, so later orders still see it taken (as they would
/// when importing) while no row carries thousands of versions.
fn try_chunk(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    parsed: &Parsed,
    chunk: std::ops::Range<usize>,
    tally: &mut Tally,
) -> Result<(), DbError> {
    let mark = tx.query_one("SELECT COALESCE(MAX(id), 0) FROM stock_movements", &[])?.int(0)?;
    tx.batch("SAVEPOINT import_chunk")?;
    import_records(tx, ctx, parsed, chunk, tally)?;
    let taken = tx.query(
        "SELECT product_id, warehouse_id, CAST(SUM(on_hand_delta) AS BIGINT), CAST(SUM(reserved_delta) AS BIGINT) \
         FROM stock_movements \
         WHERE id > ? AND at = ? AND actor = ? GROUP BY product_id, warehouse_id",
        params![mark, ctx.now.micros(), ctx.actor.as_str()],
    )?;
    tx.batch("ROLLBACK TO SAVEPOINT import_chunk")?;
    tx.batch("RELEASE SAVEPOINT import_chunk")?;
    for row in &taken {
        tx.execute(
            "UPDATE stock_levels SET on_hand = on_hand + ?, reserved = reserved + ? WHERE product_id = ? AND warehouse_id = ?",
            params![row.int(2)?, row.int(3)?, row.int(0)?, row.int(1)?],
        )?;
    }
    Ok(())
}

/// Imports records `range` of the file, each in a savepoint through its own use case.
pub fn import_records(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    parsed: &Parsed,
    range: std::ops::Range<usize>,
    tally: &mut Tally,
) -> Result<(), DbError> {
    let kind = parsed.kind;
    let column_name = |field: usize| parsed.column_name(field);
    for g in range {
        let group = &parsed.groups[g];
        if let Some(progress) = &parsed.progress {
            progress(g, parsed.records());
        }
        let mut problems: Vec<RowError> = Vec::new();
        if kind.name != "orders" {
            let savepoint = format!("import_record_{g}");
            tx.batch(&format!("SAVEPOINT {savepoint}"))?;
            let duplicates = &mut tally.duplicates;
            let update = parsed.update_existing;
            let done = match kind.name {
                "customers" => import_customer(tx, ctx, group, &column_name, &mut problems, duplicates, update)?,
                "products" => import_product(tx, ctx, group, &column_name, &mut problems, duplicates, update)?,
                "stock" => import_stock_level(tx, ctx, group, &column_name, &mut problems)?,
                _ => {
                    let breaks_given = parsed.columns[6].is_some();
                    import_price_list(tx, ctx, group, &column_name, &mut problems, breaks_given)?
                }
            };
            // Any problem (a second row with the same key too) keeps the record out.
            match done.filter(|_| problems.is_empty()) {
                Some(done) => {
                    tx.batch(&format!("RELEASE SAVEPOINT {savepoint}"))?;
                    match (kind.name, done) {
                        ("customers", Done::Created(id)) => tally.customer_ids.push(id),
                        (_, Done::Created(id)) => tally.product_ids.push(id),
                        (_, Done::Updated(n)) => tally.updated += n,
                    }
                }
                None => tx.batch(&format!("ROLLBACK TO SAVEPOINT {savepoint}"))?,
            }
            tally.count(group, problems);
            continue;
        }
        let order = check_group(tx, group, &column_name, &mut problems, &mut tally.duplicates, parsed.may_set_prices)?;
        // Every order is tried in a savepoint: what placing finds (stock, credit, prices)
        // is reported like the rest, and a rejected order leaves nothing behind.
        if let Some(order) = order.filter(|_| problems.is_empty()) {
            let savepoint = format!("import_order_{g}");
            tx.batch(&format!("SAVEPOINT {savepoint}"))?;
            match crate::orders::place_order(tx, ctx, &order) {
                Ok(Placed::Created(placed)) => {
                    tx.batch(&format!("RELEASE SAVEPOINT {savepoint}"))?;
                    tally.order_ids.push(placed.id);
                }
                Ok(Placed::Existing(existing)) => {
                    tx.batch(&format!("ROLLBACK TO SAVEPOINT {savepoint}"))?;
                    tally.duplicates.push(group.external_ref.clone());
                    problems.push(RowError {
                        row: group.rows[0].0,
                        column: column_name(0),
                        message: format!("order {} already has this reference", existing.number),
                    });
                }
                Err(error) => {
                    tx.batch(&format!("ROLLBACK TO SAVEPOINT {savepoint}"))?;
                    problems.extend(placing_problems(group, &column_name, error)?);
                }
            }
        }
        tally.count(group, problems);
    }
    Ok(())
}

/// The file's outcome from its tally. Kept (and given its id) when what was imported stays;
/// otherwise `RolledBack`, for the caller to roll back and record on its own.
pub fn finish(tx: &mut dyn Tx, ctx: &Ctx, parsed: &Parsed, tally: Tally) -> Result<ImportResult, ExchangeError> {
    if let Some(progress) = &parsed.progress {
        progress(parsed.records(), parsed.records());
    }
    let mode = parsed.mode;
    let (imported, rejected) = (tally.imported, tally.rejected);
    let status = match mode {
        ImportMode::DryRun => "validated",
        _ if rejected == 0 => "imported",
        ImportMode::AllOrNothing => "rejected",
        ImportMode::ValidRows if imported == 0 => "rejected",
        ImportMode::ValidRows => "partially_imported",
    };
    // The rejected records' rows as they were, under the file's own header, with the reason.
    let rejected_csv = (!tally.rejected_rows.is_empty()).then(|| {
        let header = &parsed.header;
        let mut lines = vec![header.iter().cloned().chain(std::iter::once("error".to_string())).collect::<Vec<_>>()];
        for (row, error) in &tally.rejected_rows {
            let mut cells = parsed.data[row - 2].clone();
            cells.resize(header.len(), String::new());
            cells.push(error.clone());
            lines.push(cells);
        }
        crate::reports::table::csv_lines(&lines)
    });
    let committed = matches!((mode, status), (ImportMode::AllOrNothing, "imported") | (ImportMode::ValidRows, _));
    let result = ImportResult {
        id: 0,
        kind: parsed.kind.name.to_string(),
        mode,
        status: status.to_string(),
        rows: parsed.data.len(),
        imported,
        rejected,
        duplicates: tally.duplicates,
        errors: tally.errors,
        order_ids: if committed { tally.order_ids } else { Vec::new() },
        customer_ids: if committed { tally.customer_ids } else { Vec::new() },
        product_ids: if committed { tally.product_ids } else { Vec::new() },
        updated: if committed { tally.updated } else { 0 },
        rejected_csv,
        created_by: ctx.actor.clone(),
        created_at: ctx.now,
    };
    if committed { Ok(record(tx, result)?) } else { Err(ExchangeError::RolledBack(Box::new(result))) }
}

/// What importing one record did.
enum Done {
    Created(i64),
    /// Levels or prices set, or a customer or product changed.
    Updated(usize),
}

impl Tally {
    /// Counts a record in or out; an out one's rows go to the rejects file with its first problem.
    fn count(&mut self, group: &Group, problems: Vec<RowError>) {
        if problems.is_empty() {
            self.imported += 1;
        } else {
            self.rejected += 1;
            let first = problems[0].message.clone();
            self.rejected_rows.extend(group.rows.iter().map(|(row, _)| (*row, first.clone())));
            self.errors.extend(problems);
        }
    }
}

/// The file's column holding `field` of a kind (the field's own name when it is no field).
fn column_of(fields: &[&str], column_name: &dyn Fn(usize) -> String, field: &str) -> String {
    fields.iter().position(|f| *f == field).map_or(field.to_string(), column_name)
}

/// A row's value of `field`, if the row has one.
fn cell_of(fields: &[&str], cells: &[String], field: &str) -> Option<String> {
    fields.iter().position(|f| *f == field).map(|i| cells[i].clone()).filter(|v| !v.is_empty())
}

/// What every one-row record checks of its key (a code, a SKU): given, on one row only, not
/// there already (then it is a duplicate, reported and not imported again). False: stop.
fn key_checks(
    group: &Group,
    column: String,
    what: &str,
    exists: bool,
    problems: &mut Vec<RowError>,
    duplicates: &mut Vec<String>,
) -> bool {
    let row = group.rows[0].0;
    for (again, _) in &group.rows[1..] {
        problems.push(RowError {
            row: *again,
            column: column.clone(),
            message: format!("this {what} is on an earlier row too"),
        });
    }
    if group.external_ref.is_empty() {
        problems.push(RowError { row, column, message: "is required".into() });
        return false;
    }
    if exists {
        duplicates.push(group.external_ref.clone());
        problems.push(RowError { row, column, message: format!("this {what} exists already: not imported again") });
        return false;
    }
    true
}

/// A use case's field errors as problems of one row, each under the column it came from.
fn field_problems(problems: &mut Vec<RowError>, row: usize, invalid: Invalid, column: impl Fn(&str) -> String) {
    for e in invalid.0 {
        problems.push(RowError { row, column: column(&e.field), message: e.message });
    }
}

/// Creates one customer from its row through the same use cases as the API; a code that
/// exists already is reported, not imported again, unless `update`: then the row changes it.
fn import_customer(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    problems: &mut Vec<RowError>,
    duplicates: &mut Vec<String>,
    update: bool,
) -> Result<Option<Done>, DbError> {
    let (row, cells) = &group.rows[0];
    let column = |field: &str| column_of(CUSTOMER_FIELDS, column_name, field);
    let existing = crate::customers::store::id_by_code(tx, &group.external_ref)?;
    if !key_checks(group, column("code"), "code", existing.is_some() && !update, problems, duplicates) {
        return Ok(None);
    }
    let cell = |field: &str| cell_of(CUSTOMER_FIELDS, cells, field);
    let address = ["ship_line1", "ship_city", "ship_country"].iter().any(|f| cell(f).is_some()).then(|| {
        ordo_domain::customers::AddressInput {
            name: cell("ship_name"),
            phone: cell("ship_phone"),
            line1: cell("ship_line1"),
            city: cell("ship_city"),
            district: cell("ship_district"),
            region: cell("ship_province"),
            postal_code: cell("ship_postal_code"),
            country: cell("ship_country"),
            ..Default::default()
        }
    });
    let input = crate::customers::NewCustomer {
        code: cell("code"),
        name: cell("name"),
        group: cell("group"),
        region: cell("region"),
        email: cell("email"),
        phone: cell("phone"),
        contact_name: cell("contact_name"),
        shipping_address: address,
        payment_terms: cell("payment_terms"),
        credit_limit: cell("credit_limit").map(AmountInput),
        currency: cell("currency"),
        price_list: cell("price_list"),
        language: cell("language"),
        salesperson: cell("salesperson"),
        ..Default::default()
    };
    let outcome = match existing {
        Some(id) => crate::customers::update_customer(tx, ctx, id, None, &input).map(|_| Done::Updated(1)),
        None => crate::customers::create_customer(tx, ctx, &input).map(|c| Done::Created(c.id)),
    };
    match outcome {
        Ok(done) => Ok(Some(done)),
        Err(crate::customers::CustomerError::Invalid(invalid)) => {
            // `shipping_address.city` → ship_city; the rest are named as the columns.
            field_problems(problems, *row, invalid, |field| match field.strip_prefix("shipping_address.") {
                Some("region") => column("ship_province"),
                Some(part) => column(&format!("ship_{part}")),
                None => column(field),
            });
            Ok(None)
        }
        Err(crate::customers::CustomerError::Db(db)) => Err(db),
        Err(other) => {
            problems.push(RowError { row: *row, column: column("code"), message: other.to_string() });
            Ok(None)
        }
    }
}

/// Creates one product from its row through the catalog's use cases; a SKU that exists is
/// reported, not overwritten, unless `update`: then the row changes it.
fn import_product(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    problems: &mut Vec<RowError>,
    duplicates: &mut Vec<String>,
    update: bool,
) -> Result<Option<Done>, DbError> {
    let (row, cells) = &group.rows[0];
    let column = |field: &str| column_of(PRODUCT_FIELDS, column_name, field);
    let at = |field: &str, message: String| RowError { row: *row, column: column(field), message };
    let existing = crate::catalog::store::product_by_sku(tx, &group.external_ref)?;
    if !key_checks(group, column("sku"), "SKU", existing.is_some() && !update, problems, duplicates) {
        return Ok(None);
    }
    let cell = |field: &str| cell_of(PRODUCT_FIELDS, cells, field);
    let mut flag = |field: &str| match cell(field).map(|v| v.to_lowercase()) {
        None => None,
        Some(v) if ["yes", "true", "1", "是", "y"].contains(&v.as_str()) => Some(true),
        Some(v) if ["no", "false", "0", "否", "n"].contains(&v.as_str()) => Some(false),
        Some(v) => {
            problems.push(at(field, format!("must be yes or no, not {v:?}")));
            None
        }
    };
    // Still tried when a flag is wrong, so its other problems are reported too (the caller
    // rolls back any record with a problem).
    let (active, backorderable) = (flag("active"), flag("backorderable"));
    let packs = match cell("packs").map(|text| ordo_domain::catalog::packs_from_text("packs", &text)).transpose() {
        Ok(packs) => packs,
        Err(error) => {
            problems.push(at("packs", error.message));
            None
        }
    };
    let input = crate::catalog::NewProduct {
        sku: cell("sku"),
        name: cell("name"),
        description: cell("description"),
        category: cell("category"),
        unit: cell("unit"),
        price: cell("price").map(AmountInput),
        currency: cell("currency"),
        tax_rate: cell("tax_rate").map(AmountInput),
        weight_kg: cell("weight_kg").map(AmountInput),
        active,
        backorderable,
        tags: cell("tags")
            .map(|t| t.split([';', ',']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect()),
        packs,
    };
    let outcome = match existing {
        Some(product) => {
            crate::catalog::update_product(tx, ctx, product.id, None, &input.as_patch()).map(|_| Done::Updated(1))
        }
        None => crate::catalog::create_product(tx, ctx, &input).map(|p| Done::Created(p.id)),
    };
    match outcome {
        Ok(done) => Ok(Some(done)),
        Err(crate::catalog::CatalogError::Invalid(invalid)) => {
            // `packs[0].size` → the packs column.
            field_problems(problems, *row, invalid, |field| column(field.split('[').next().unwrap_or(field)));
            Ok(None)
        }
        Err(crate::catalog::CatalogError::Db(db)) => Err(db),
        Err(other) => {
            problems.push(RowError { row: *row, column: column("sku"), message: other.to_string() });
            Ok(None)
        }
    }
}

/// Sets one stock level from its row through the same use case as `PUT
/// /api/v1/stock/{warehouse}/{sku}`: a difference to what is on hand is an adjustment
/// movement with the reason "stock import"; the same level again changes nothing.
fn import_stock_level(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    problems: &mut Vec<RowError>,
) -> Result<Option<Done>, DbError> {
    use crate::inventory::{InventoryError, SetStock};
    let (row, cells) = &group.rows[0];
    let at = |field: usize, message: String| RowError { row: *row, column: column_name(field), message };
    if group.external_ref.is_empty() {
        problems.extend((0..2).filter(|&i| cells[i].is_empty()).map(|i| at(i, "is required".into())));
        return Ok(None);
    }
    if !key_checks(group, column_name(1), "warehouse and SKU", false, problems, &mut Vec::new()) {
        return Ok(None);
    }
    let Some(on_hand) = cells[2].replace([',', ' '], "").parse::<i64>().ok().filter(|n| *n >= 0) else {
        problems.push(at(2, format!("must be a whole number of units, 0 or more, not {:?}", cells[2])));
        return Ok(None);
    };
    let input = SetStock {
        on_hand: Some(on_hand),
        bin: Some(cells[3].clone()).filter(|b| !b.is_empty()),
        reason: Some("stock import".into()),
    };
    match crate::inventory::set_stock(tx, ctx, &cells[0], &cells[1], &input) {
        Ok(_) => return Ok(Some(Done::Updated(1))),
        Err(InventoryError::Invalid(invalid)) => {
            field_problems(problems, *row, invalid, |field| column_of(STOCK_FIELDS, column_name, field))
        }
        Err(InventoryError::WarehouseNotFound(code)) => {
            problems.push(at(0, format!("no warehouse has the code {code:?}")))
        }
        Err(InventoryError::ProductNotFound(sku)) => {
            problems.push(at(1, crate::orders::service::unknown_sku(tx, &sku)?))
        }
        Err(InventoryError::Db(db)) => return Err(db),
        Err(other) => problems.push(at(2, other.to_string())),
    }
    Ok(None)
}

/// Loads one price list's rows: a new list is created through the catalog's use case
/// (its name and currency from the first row), an existing one gets each row's price set.
/// A file cannot rename a list or change its currency or group: that is reported.
fn import_price_list(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    problems: &mut Vec<RowError>,
    breaks_given: bool,
) -> Result<Option<Done>, DbError> {
    use crate::catalog::{CatalogError, NewPriceList, PriceInput, SetPrice};
    let column = |field: &str| column_of(PRICE_LIST_FIELDS, column_name, field);
    let (first_row, first) = &group.rows[0];
    if group.external_ref.is_empty() {
        problems.extend(group.rows.iter().map(|(row, _)| RowError {
            row: *row,
            column: column("price_list"),
            message: "is required: rows with the same price list form one list".into(),
        }));
        return Ok(None);
    }
    let list = crate::catalog::store::price_list_by_code(tx, &group.external_ref)?;
    let mut items: Vec<(usize, PriceInput)> = Vec::new();
    for (row, cells) in &group.rows {
        let mut at =
            |field: &str, message: String| problems.push(RowError { row: *row, column: column(field), message });
        if cells[1].is_empty() {
            at("sku", "is required".into());
        } else if items.iter().any(|(_, item)| item.sku.as_deref() == Some(cells[1].as_str())) {
            at("sku", "this SKU is on an earlier row of the same list".into());
        }
        if cells[2].is_empty() {
            at("price", "is required".into());
        } else if AmountInput(cells[2].clone()).parse("price", false).is_err() {
            at("price", format!("must be an amount such as 12.50, not {:?}", cells[2]));
        }
        // What describes the list must agree with the list (or its first row, for a new one).
        let described = [
            ("name", 3, list.as_ref().map(|l| l.name.clone())),
            ("currency", 4, list.as_ref().map(|l| l.currency.to_string())),
            ("customer_group", 5, list.as_ref().map(|l| l.customer_group.clone().unwrap_or_default())),
        ];
        for (field, i, held) in described {
            let expected = held.unwrap_or_else(|| first[i].clone());
            if !cells[i].is_empty() && !cells[i].eq_ignore_ascii_case(&expected) {
                at(
                    field,
                    format!("differs from the list's {field} {expected:?}: a file sets prices, not the list itself"),
                );
            }
        }
        let breaks = breaks_from_text(&cells[6]).unwrap_or_else(|message| {
            at("breaks", message);
            Vec::new()
        });
        match (flag(&cells[7]), list.as_ref().map(|l| l.tax_included), flag(&first[7])) {
            (Err(message), _, _) => at("tax_included", message),
            (Ok(Some(given)), Some(held), _) | (Ok(Some(given)), None, Ok(Some(held))) if given != held => at(
                "tax_included",
                format!("differs from the list's tax_included {held}: a file sets prices, not the list itself"),
            ),
            _ => {}
        }
        items.push((
            *row,
            PriceInput { sku: Some(cells[1].clone()), price: Some(AmountInput(cells[2].clone())), breaks },
        ));
    }
    if !problems.is_empty() {
        return Ok(None);
    }
    // A use case's field error, under its row and column (`items[2].sku` → the third row).
    let problem_at = |field: &str, message: String| {
        let (row, field) = match field.strip_prefix("items[").and_then(|r| r.split_once("].")) {
            Some((n, field)) => (n.parse::<usize>().ok().and_then(|n| items.get(n)).map_or(*first_row, |i| i.0), field),
            None => (*first_row, field),
        };
        // `breaks[1].price` → the breaks column.
        let field = field.split(['[', '.']).next().unwrap_or(field);
        RowError { row, column: column(if field == "code" { "price_list" } else { field }), message }
    };
    let result = match &list {
        None => crate::catalog::create_price_list(
            tx,
            ctx,
            &NewPriceList {
                code: Some(group.external_ref.clone()),
                name: Some(first[3].clone()).filter(|n| !n.is_empty()),
                currency: Some(first[4].clone()).filter(|c| !c.is_empty()),
                customer_group: Some(first[5].clone()).filter(|g| !g.is_empty()),
                channel: None,
                tax_included: flag(&first[7]).ok().flatten(),
                items: items.iter().map(|(_, item)| item.clone()).collect(),
            },
        )
        .map(|_| ()),
        Some(list) => items.iter().try_for_each(|(_, item)| {
            let sku = item.sku.clone().unwrap_or_default();
            crate::catalog::set_list_price(
                tx,
                ctx,
                &list.code,
                &sku,
                &SetPrice { price: item.price.clone(), breaks: breaks_given.then(|| item.breaks.clone()) },
            )
            .map(|_| ())
            .map_err(|error| match error {
                // Name the row: set_list_price knows one SKU, not which line it came from.
                CatalogError::Invalid(invalid) => CatalogError::Invalid(Invalid(
                    invalid
                        .0
                        .into_iter()
                        .map(|mut e| {
                            let n = items.iter().position(|(_, i)| i.sku == item.sku).unwrap_or(0);
                            e.field = format!("items[{n}].{}", e.field);
                            e
                        })
                        .collect(),
                )),
                other => other,
            })
        }),
    };
    match result {
        Ok(()) => Ok(Some(Done::Updated(items.len()))),
        Err(CatalogError::Invalid(invalid)) => {
            problems.extend(invalid.0.into_iter().map(|e| problem_at(&e.field, e.message)));
            Ok(None)
        }
        Err(CatalogError::Db(db)) => Err(db),
        Err(other) => {
            problems.push(problem_at("price_list", other.to_string()));
            Ok(None)
        }
    }
}

/// Checks one order's rows and builds the order; problems are added per row and column.
fn check_group(
    tx: &mut dyn Tx,
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    problems: &mut Vec<RowError>,
    duplicates: &mut Vec<String>,
    may_set_prices: bool,
) -> Result<Option<NewOrder>, DbError> {
    let mut add = |row: usize, field: usize, message: String| {
        problems.push(RowError { row, column: column_name(field), message })
    };
    let first = &group.rows[0];
    if group.external_ref.is_empty() {
        for (row, _) in &group.rows {
            add(*row, 0, "is required: rows with the same reference form one order".into());
        }
        return Ok(None);
    }
    let channel_text = first.1[5].clone();
    let channel = if channel_text.is_empty() {
        Some(ChannelKind::Import.as_str().to_string())
    } else {
        match ordo_domain::orders::check_channel_code("channel", Some(&channel_text)) {
            Ok(code) if crate::channels::is_open(tx, &code)? => Some(code),
            Ok(code) => {
                add(first.0, 5, format!("no active channel has the code {code} (see the channels list)"));
                None
            }
            Err(e) => {
                add(first.0, 5, e.message);
                None
            }
        }
    };
    let customer_code = first.1[1].clone();
    let customer = crate::customers::store::id_by_code(tx, &customer_code)?;
    let mut lines = Vec::new();
    for (row, cells) in &group.rows {
        if cells[1].is_empty() {
            add(*row, 1, "is required".into());
        } else if cells[1] != customer_code {
            add(*row, 1, format!("differs from the order's first row ({customer_code}): one order, one customer"));
        } else if customer.is_none() {
            add(*row, 1, format!("no customer has the code {customer_code:?}"));
        }
        if cells[2].is_empty() {
            add(*row, 2, "is required".into());
        } else if !crate::catalog::store::sku_exists(tx, &cells[2])? {
            add(*row, 2, crate::orders::service::unknown_sku(tx, &cells[2])?);
        }
        let quantity = cells[3].replace([',', ' '], "").parse::<i64>().ok().filter(|q| (1..=1_000_000).contains(q));
        if quantity.is_none() {
            add(*row, 3, format!("must be a whole number from 1 to 1,000,000, not {:?}", cells[3]));
        }
        let unit_price = (!cells[4].is_empty()).then(|| AmountInput(cells[4].replace([',', ' ', '¥', '￥'], "")));
        if let Some(price) = &unit_price {
            if !may_set_prices {
                add(*row, 4, "you may not set prices: leave it empty for the customer's price".into());
            } else if price.parse("unit_price", false).is_err() {
                add(*row, 4, format!("must be an amount such as 12.50, not {:?}", cells[4]));
            }
        }
        if !cells[7].is_empty() && Date::parse(&cells[7]).is_none() {
            add(*row, 7, format!("must be a date such as 2026-12-01, not {:?}", cells[7]));
        }
        let unit = Some(cells[8].clone()).filter(|u| !u.is_empty());
        lines.push(NewOrderLine { sku: Some(cells[2].clone()), quantity, unit, unit_price, ..Default::default() });
    }
    if let (Some(channel), false) = (&channel, group.external_ref.is_empty()) {
        let existing = tx.query_opt(
            "SELECT number FROM orders WHERE channel = ? AND external_ref = ?",
            params![channel.as_str(), group.external_ref.as_str()],
        )?;
        if let Some(found) = existing {
            duplicates.push(group.external_ref.clone());
            add(first.0, 0, format!("order {} already has this reference: not imported again", found.text(0)?));
        }
    }
    Ok(Some(NewOrder {
        customer_id: customer,
        channel,
        external_ref: Some(group.external_ref.clone()),
        lines: Some(lines),
        notes: Some(first.1[6].clone()).filter(|n| !n.is_empty()),
        requested_delivery_date: Some(first.1[7].clone()).filter(|d| !d.is_empty()),
        ..Default::default()
    }))
}

/// What placing refused, as row errors: field errors mapped back to their rows, the rest
/// (short stock, credit) on the order's first row.
fn placing_problems(
    group: &Group,
    column_name: &dyn Fn(usize) -> String,
    error: OrderError,
) -> Result<Vec<RowError>, DbError> {
    let first = group.rows[0].0;
    Ok(match error {
        OrderError::Invalid(invalid) => invalid
            .0
            .into_iter()
            .map(|e| {
                // `lines[2].sku` → the third row of the order, the SKU column.
                let line = e
                    .field
                    .strip_prefix("lines[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|n| n.parse::<usize>().ok());
                let field = e.field.rsplit('.').next().unwrap_or(&e.field);
                let column = ORDER_FIELDS.iter().position(|f| *f == field).map_or(e.field.clone(), column_name);
                RowError {
                    row: line.and_then(|l| group.rows.get(l)).map_or(first, |r| r.0),
                    column,
                    message: e.message,
                }
            })
            .collect(),
        OrderError::ShortStock(short) => short
            .iter()
            .map(|s| RowError {
                row: group.rows.iter().find(|(_, c)| c[2] == s.sku).map_or(first, |r| r.0),
                column: column_name(3),
                message: format!("not enough stock of {}: {} asked, {} available", s.sku, s.requested, s.available),
            })
            .collect(),
        OrderError::Db(db) => return Err(db),
        other => vec![RowError { row: first, column: column_name(0), message: other.to_string() }],
    })
}

/// Keeps the result (the file's outcome) and gives it its id.
pub fn record(tx: &mut dyn Tx, mut result: ImportResult) -> Result<ImportResult, DbError> {
    let json = serde_json::to_string(&result).map_err(|e| DbError::Other(e.to_string()))?;
    result.id = tx.insert(
        "INSERT INTO imports (kind, status, result, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        params![
            result.kind.as_str(),
            result.status.as_str(),
            json,
            result.created_by.as_str(),
            result.created_at.micros()
        ],
    )?;
    Ok(result)
}

pub fn get_import(tx: &mut dyn Tx, id: i64) -> Result<Option<ImportResult>, DbError> {
    let Some(row) = tx.query_opt("SELECT result FROM imports WHERE id = ?", params![id])? else { return Ok(None) };
    let mut result: ImportResult = serde_json::from_str(&row.text(0)?).map_err(|e| DbError::Decode(e.to_string()))?;
    result.id = id;
    Ok(Some(result))
}

/// The template to fill in for a kind: the header and an example; `None` for a kind that
/// cannot be imported.
pub fn template(kind: &str) -> Option<Table> {
    let example = |cells: &[&str]| cells.iter().map(|c| Cell::Text(c.to_string())).collect();
    match kind {
        "orders" => Some(Table {
            name: "orders-template".into(),
            columns: ORDER_FIELDS.to_vec(),
            rows: vec![
                example(&["PO-1001", "C0001", "TEA-001", "2", "", "email", "deliver before noon", "2026-12-01", "箱"]),
                example(&["PO-1001", "C0001", "CER-004", "2", "", "email", "", "", ""]),
            ],
        }),
        "products" => Some(Table {
            name: "products-template".into(),
            columns: PRODUCT_FIELDS.to_vec(),
            rows: vec![example(&[
                "TEA-001",
                "西湖龙井 Longjing 250g",
                "明前特级",
                "tea",
                "bag",
                "168.00",
                "CNY",
                "0.09",
                "0.3",
                "yes",
                "no",
                "tea;gift",
                "箱=12",
            ])],
        }),
        "customers" => Some(Table {
            name: "customers-template".into(),
            columns: CUSTOMER_FIELDS.to_vec(),
            rows: vec![example(&[
                "C-SH-001",
                "上海华联贸易有限公司",
                "wholesale",
                "华东",
                "buyer@example.com",
                "+86 21 5555 0101",
                "王经理",
                "net30",
                "50000.00",
                "CNY",
                "",
                "zh-CN",
                "",
                "王经理",
                "+86 138 0013 8000",
                "南京东路 100 号",
                "上海",
                "黄浦区",
                "上海",
                "200001",
                "CN",
            ])],
        }),
        "stock" => Some(Table {
            name: "stock-template".into(),
            columns: STOCK_FIELDS.to_vec(),
            rows: vec![example(&["SH-01", "TEA-001", "120", "A-03-2"]), example(&["SH-01", "CER-004", "36", ""])],
        }),
        "price_lists" => Some(Table {
            name: "price-lists-template".into(),
            columns: PRICE_LIST_FIELDS.to_vec(),
            rows: vec![
                example(&[
                    "WHOLESALE-CNY",
                    "TEA-001",
                    "138.00",
                    "批发价 Wholesale",
                    "CNY",
                    "wholesale",
                    "12=128.00;48=120.00",
                    "false",
                ]),
                example(&["WHOLESALE-CNY", "CER-004", "52.00", "", "", "", "", ""]),
            ],
        }),
        _ => None,
    }
}
