//! Products in the console: list with search, create and edit.

use super::session::{Staff, redirect_with_flash};
use super::some;
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use ordo_app::Page;
use ordo_app::catalog::{self, NewProduct, Product, ProductPatch};
use ordo_app::common::AmountInput;
use ordo_domain::FieldError;
use ordo_domain::auth::Permission;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products", get(list))
        .route("/products/new", get(new_form).post(create))
        .route("/products/{id}", get(edit_form).post(update))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "products_list.html")]
struct ListPage {
    page: Frame,
    q: String,
    products: Page<Product>,
    may_edit: bool,
}

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let page_request = super::list_page(query.cursor.as_deref());
    let q = query.q.clone();
    match state.db.read(move |tx| catalog::list_products(tx, q.as_deref(), page_request)).await {
        Ok(products) => {
            let page = ListPage {
                page: Frame::new(&staff, "products"),
                q: query.q.unwrap_or_default(),
                products,
                may_edit: staff.may(Permission::CatalogManage),
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct ProductForm {
    sku: String,
    name: String,
    description: String,
    price: String,
    currency: String,
    tax_rate: String,
    unit: String,
    weight_kg: String,
    active: Option<String>,
    /// Comma-separated.
    tags: String,
    backorderable: Option<String>,
    #[serde(default)]
    category: String,
    /// `box=12; carton=144`.
    #[serde(default)]
    packs: String,
}

/// The packs field as typed; a malformed one is a field error the form shows.
fn pack_list(text: &str) -> Result<Vec<ordo_domain::catalog::PackInput>, catalog::CatalogError> {
    ordo_domain::catalog::packs_from_text("packs", text)
        .map_err(|e| catalog::CatalogError::Invalid(ordo_domain::Invalid(vec![e])))
}

fn tag_list(text: &str) -> Vec<String> {
    text.split([',', '，']).map(str::to_string).collect()
}

#[derive(Template)]
#[template(path = "product_form.html")]
struct FormPage {
    page: Frame,
    id: Option<i64>,
    form: ProductForm,
    errors: Vec<FieldError>,
}

impl FormPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

async fn new_form(staff: Staff) -> Response {
    if let Err(page) = staff.require(Permission::CatalogManage) {
        return page;
    }
    let form = ProductForm {
        currency: "CNY".into(),
        tax_rate: "0.13".into(),
        unit: "pcs".into(),
        active: Some("on".into()),
        ..ProductForm::default()
    };
    render(&FormPage { page: Frame::new(&staff, "products"), id: None, form, errors: Vec::new() })
}

async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<ProductForm>,
) -> Response {
    let ctx = match staff.require(Permission::CatalogManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let packs = match pack_list(&form.packs) {
        Ok(packs) => packs,
        Err(error) => return form_failed(&staff, None, form, error),
    };
    let input = NewProduct {
        sku: some(&form.sku),
        name: some(&form.name),
        description: some(&form.description),
        price: some(&form.price).map(AmountInput),
        currency: some(&form.currency),
        tax_rate: some(&form.tax_rate).map(AmountInput),
        unit: some(&form.unit),
        weight_kg: some(&form.weight_kg).map(AmountInput),
        active: Some(form.active.is_some()),
        tags: Some(tag_list(&form.tags)),
        backorderable: Some(form.backorderable.is_some()),
        category: Some(form.category.clone()),
        packs: Some(packs),
    };
    match state.db.write(move |tx| catalog::create_product(tx, &ctx, &input)).await {
        Ok(product) => {
            redirect_with_flash("/products", &staff.i18n.tf("products.saved_flash", &[("sku", &product.sku)]), &headers)
        }
        Err(error) => form_failed(&staff, None, form, error),
    }
}

fn form_failed(staff: &Staff, id: Option<i64>, form: ProductForm, error: catalog::CatalogError) -> Response {
    let errors = match error {
        catalog::CatalogError::Invalid(invalid) => invalid.0,
        other => vec![FieldError::new("sku", ApiError::from(other).to_string())],
    };
    (StatusCode::UNPROCESSABLE_ENTITY, render(&FormPage { page: Frame::new(staff, "products"), id, form, errors }))
        .into_response()
}

async fn edit_form(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Err(page) = staff.require(Permission::CatalogManage) {
        return page;
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| catalog::get_product(tx, id)).await {
        Ok(p) => {
            let form = ProductForm {
                sku: p.sku,
                name: p.name,
                description: p.description.unwrap_or_default(),
                price: p.price.to_string(),
                currency: p.currency.to_string(),
                tax_rate: p.tax_rate.to_string(),
                unit: p.unit,
                weight_kg: p.weight_kg.map(|w| w.to_string()).unwrap_or_default(),
                active: p.active.then(|| "on".to_string()),
                tags: p.tags.join(", "),
                category: p.category.clone().unwrap_or_default(),
                backorderable: p.backorderable.then(|| "on".to_string()),
                packs: ordo_domain::catalog::packs_text(&p.packs).replace(';', "; "),
            };
            render(&FormPage { page: Frame::new(&staff, "products"), id: Some(id), form, errors: Vec::new() })
        }
        Err(catalog::CatalogError::ProductNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn update(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ProductForm>,
) -> Response {
    let ctx = match staff.require(Permission::CatalogManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let packs = match pack_list(&form.packs) {
        Ok(packs) => packs,
        Err(error) => return form_failed(&staff, Some(id), form, error),
    };
    let patch = ProductPatch {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        price: Some(AmountInput(form.price.clone())),
        currency: Some(form.currency.clone()),
        tax_rate: Some(AmountInput(form.tax_rate.clone())),
        unit: Some(form.unit.clone()),
        weight_kg: some(&form.weight_kg).map(AmountInput),
        active: Some(form.active.is_some()),
        tags: Some(tag_list(&form.tags)),
        backorderable: Some(form.backorderable.is_some()),
        category: Some(form.category.clone()),
        packs: Some(packs),
    };
    match state.db.write(move |tx| catalog::update_product(tx, &ctx, id, None, &patch)).await {
        Ok(product) => {
            redirect_with_flash("/products", &staff.i18n.tf("products.saved_flash", &[("sku", &product.sku)]), &headers)
        }
        Err(error) => form_failed(&staff, Some(id), form, error),
    }
}
