//! Stock by warehouse in the console, adjustment with a required reason, movement history.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, render, show};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::PageRequest;
use ordo_app::inventory::{self, SetStock, StockLevel, StockMovement, Warehouse};
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/stock", get(levels)).route("/stock/adjust", post(adjust))
}

#[derive(Debug, Default, Deserialize)]
struct StockQuery {
    sku: Option<String>,
    warehouse: Option<String>,
    low: Option<String>,
}

#[derive(Template)]
#[template(path = "stock.html")]
struct StockPage {
    page: Frame,
    sku: String,
    warehouse: String,
    levels: Vec<StockLevel>,
    warehouses: Vec<Warehouse>,
    movements: Vec<StockMovement>,
    may_adjust: bool,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    query: StockQuery,
    error: Option<String>,
) -> Result<StockPage, Response> {
    let (sku, warehouse) = (query.sku.clone(), query.warehouse.clone());
    let low_only = query.low.is_some();
    let loaded = state
        .db
        .read(move |tx| {
            let levels = inventory::stock_levels(tx, sku.as_deref(), warehouse.as_deref())?.items;
            let warehouses = inventory::list_warehouses(tx)?;
            let filter =
                inventory::MovementQuery { sku: sku.clone(), warehouse: warehouse.clone(), ..Default::default() };
            let movements = inventory::stock_movements(tx, &filter, PageRequest { limit: 30, before_id: None })?.items;
            Ok::<_, inventory::InventoryError>((levels, warehouses, movements))
        })
        .await;
    match loaded {
        Ok((mut levels, warehouses, movements)) => {
            if low_only {
                levels.retain(|l| l.available < ordo_app::reports::LOW_STOCK);
            }
            Ok(StockPage {
                page: Frame::new(staff, "stock"),
                sku: query.sku.unwrap_or_default(),
                warehouse: query.warehouse.unwrap_or_default(),
                levels,
                warehouses,
                movements,
                may_adjust: staff.may(Permission::StockAdjust),
                error,
            })
        }
        Err(error) => Err(failed(staff, error.into())),
    }
}

async fn levels(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<StockQuery>,
) -> Response {
    match page(&state, &staff, query, None).await {
        Ok(page) => show(&page, &staff, &headers),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
struct AdjustForm {
    warehouse: String,
    sku: String,
    on_hand: String,
    reason: String,
}

async fn adjust(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<AdjustForm>,
) -> Response {
    let ctx = match staff.require(Permission::StockAdjust) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let problem = if form.reason.trim().is_empty() {
        Some(staff.i18n.t("stock.reason_required").to_string())
    } else if form.on_hand.trim().parse::<i64>().is_err() {
        Some(staff.i18n.t("stock.on_hand_number").to_string())
    } else {
        None
    };
    let query = StockQuery { sku: Some(form.sku.clone()), warehouse: None, low: None };
    if let Some(problem) = problem {
        return match page(&state, &staff, query, Some(problem)).await {
            Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
            Err(response) => response,
        };
    }
    let input = SetStock { on_hand: form.on_hand.trim().parse().ok(), reason: Some(form.reason.clone()), bin: None };
    let (warehouse, sku) = (form.warehouse.clone(), form.sku.trim().to_string());
    match state.db.write(move |tx| inventory::set_stock(tx, &ctx, &warehouse, &sku, &input)).await {
        Ok(level) => redirect_with_flash(
            &format!("/stock?sku={}", form_urlencoded::byte_serialize(level.sku.as_bytes()).collect::<String>()),
            &staff.i18n.tf("stock.adjusted_flash", &[("sku", &level.sku), ("warehouse", &level.warehouse)]),
            &headers,
        ),
        Err(error) => match page(&state, &staff, query, Some(crate::error::ApiError::from(error).to_string())).await {
            Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
            Err(response) => response,
        },
    }
}
