//! Inventory use cases.

use super::model::*;
use super::store::{self, NewMovement};
use crate::common::{Ctx, Page, PageRequest};
use crate::db::Tx;
use ordo_domain::Timestamp;
use ordo_domain::inventory::{MAX_ON_HAND, MovementKind};
use ordo_domain::validation::{FieldError, Violations, code, optional_text, required_text};

pub fn create_warehouse(tx: &mut dyn Tx, ctx: &Ctx, input: &NewWarehouse) -> Result<Warehouse, InventoryError> {
    let mut v = Violations::new();
    let warehouse_code = v.check(code("code", input.code.as_deref(), 32));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let region = v.check(optional_text("region", input.region.as_deref(), 100));
    let address = match &input.address {
        None => Some(None),
        Some(a) => a.parse("address", &mut v).map(Some),
    };
    v.into_result()?;
    let (Some(warehouse_code), Some(name), Some(region), Some(address)) = (warehouse_code, name, region, address)
    else {
        unreachable!("checked above")
    };
    if store::warehouse_by_code(tx, &warehouse_code)?.is_some() {
        return Err(InventoryError::WarehouseCodeTaken(warehouse_code));
    }
    let id = store::insert_warehouse(tx, &warehouse_code, &name, region.as_deref(), &address, ctx.now)?;
    crate::audit::record(tx, ctx, "inventory", "warehouse.created", &warehouse_code, &name)?;
    let patch = WarehousePatch {
        priority: input.priority,
        handling_fee: input.handling_fee.clone(),
        pickup: input.pickup,
        ..Default::default()
    };
    if patch.priority.is_some() || patch.handling_fee.is_some() || patch.pickup.is_some() {
        return update_warehouse(tx, ctx, &warehouse_code, &patch);
    }
    store::warehouse_by_id(tx, id)?.ok_or(InventoryError::WarehouseNotFound(warehouse_code))
}

/// Changes a warehouse's name, region or what sourcing weighs (priority, handling fee,
/// pickup point).
pub fn update_warehouse(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    warehouse_code: &str,
    patch: &WarehousePatch,
) -> Result<Warehouse, InventoryError> {
    let mut w = store::warehouse_by_code(tx, warehouse_code)?
        .ok_or_else(|| InventoryError::WarehouseNotFound(warehouse_code.into()))?;
    let mut v = Violations::new();
    if let Some(name) = v.check(optional_text("name", patch.name.as_deref(), 200)).flatten() {
        w.name = name;
    }
    if patch.region.is_some() {
        w.region = v.check(optional_text("region", patch.region.as_deref(), 100)).flatten();
    }
    match patch.priority {
        Some(p) if !(-100..=100).contains(&p) => v.add("priority", "must be between -100 and 100"),
        Some(p) => w.priority = p,
        None => {}
    }
    if let Some(fee) =
        v.check(patch.handling_fee.as_ref().map(|f| f.parse("handling_fee", false)).transpose()).flatten()
    {
        w.handling_fee = fee;
    }
    if let Some(pickup) = patch.pickup {
        w.pickup = pickup;
    }
    v.into_result()?;
    store::set_warehouse_terms(tx, &w)?;
    let summary = format!("priority {}, handling fee {}, pickup {}", w.priority, w.handling_fee, w.pickup);
    crate::audit::record(tx, ctx, "inventory", "warehouse.updated", warehouse_code, &summary)?;
    store::warehouse_by_id(tx, w.id)?.ok_or_else(|| InventoryError::WarehouseNotFound(warehouse_code.into()))
}

pub fn list_warehouses(tx: &mut dyn Tx) -> Result<Vec<Warehouse>, InventoryError> {
    Ok(store::list_warehouses(tx)?)
}

/// Sets the quantity on hand after a count, recording the difference as an adjustment.
pub fn set_stock(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    warehouse_code: &str,
    sku: &str,
    input: &SetStock,
) -> Result<StockLevel, InventoryError> {
    let mut v = Violations::new();
    let bin = v.check(optional_text("bin", input.bin.as_deref(), 32)).flatten();
    match input.on_hand {
        None if input.bin.is_some() => {}
        None => v.add("on_hand", "is required"),
        Some(n) if !(0..=MAX_ON_HAND).contains(&n) => v.add("on_hand", format!("must be between 0 and {MAX_ON_HAND}")),
        Some(_) => {}
    }
    let reason = v.check(optional_text("reason", input.reason.as_deref(), 500)).flatten();
    v.into_result()?;
    let warehouse = store::warehouse_by_code(tx, warehouse_code)?
        .ok_or_else(|| InventoryError::WarehouseNotFound(warehouse_code.into()))?;
    let product = crate::catalog::store::products_by_skus(tx, &[sku])?
        .pop()
        .ok_or_else(|| InventoryError::ProductNotFound(sku.into()))?;
    let (current, reserved) = store::lock_level(tx, product.id, warehouse.id, ctx.now)?;
    if input.bin.is_some() {
        store::set_bin(tx, product.id, warehouse.id, bin.as_deref())?;
    }
    let on_hand = input.on_hand.unwrap_or(current);
    if on_hand < reserved {
        return Err(InventoryError::BelowReserved { on_hand, reserved });
    }
    if on_hand != current {
        store::set_on_hand(tx, product.id, warehouse.id, on_hand, ctx.now)?;
        let movement = NewMovement {
            product_id: product.id,
            warehouse_id: warehouse.id,
            kind: MovementKind::Adjustment,
            on_hand_delta: on_hand - current,
            reserved_delta: 0,
            reason: Some(reason.as_deref().unwrap_or("stock set")),
            reference: None,
        };
        store::record_movements(tx, &[movement], &ctx.actor, ctx.now)?;
        let summary = format!("on hand {current} → {on_hand} ({})", reason.as_deref().unwrap_or("stock set"));
        crate::audit::record(tx, ctx, "inventory", "stock.adjusted", &format!("{warehouse_code}/{sku}"), &summary)?;
    }
    store::levels(tx, Some(sku), Some(warehouse_code))?.pop().ok_or_else(|| InventoryError::ProductNotFound(sku.into()))
}

pub fn stock_levels(
    tx: &mut dyn Tx,
    sku: Option<&str>,
    warehouse: Option<&str>,
) -> Result<StockLevels, InventoryError> {
    let blank = |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (sku, warehouse) = (blank(sku), blank(warehouse));
    Ok(StockLevels { items: store::levels(tx, sku.as_deref(), warehouse.as_deref())? })
}

pub fn stock_movements(
    tx: &mut dyn Tx,
    query: &MovementQuery,
    page: PageRequest,
) -> Result<Page<StockMovement>, InventoryError> {
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut v = Violations::new();
    let kind = blank(&query.kind).and_then(|k| {
        v.check(
            MovementKind::parse(&k)
                .ok_or_else(|| FieldError::new("kind", format!("must be one of {}", MovementKind::choices()))),
        )
    });
    let from = v.check(Timestamp::field("from", query.from.as_deref())).flatten();
    let to_text = blank(&query.to);
    let before = v.check(Timestamp::field("to", to_text.as_deref())).flatten().map(|t| {
        // A bare date includes that whole day.
        if to_text.as_deref().is_some_and(|s| s.len() == 10) { t.plus_seconds(86_400) } else { Timestamp(t.0 + 1) }
    });
    v.into_result()?;
    let filter =
        store::MovementFilter { sku: blank(&query.sku), warehouse: blank(&query.warehouse), kind, from, before };
    let rows = store::movements(tx, &filter, page.before_id, page.fetch_limit())?;
    Ok(page.page(rows, |m| m.id))
}

/// Rebuilds every stock level from its movements and lists the ones that differ.
pub fn verify_ledger(tx: &mut dyn Tx) -> Result<Vec<store::LedgerMismatch>, InventoryError> {
    Ok(store::ledger_mismatches(tx)?)
}
