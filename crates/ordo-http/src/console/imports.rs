//! `/imports`: a clerk uploads a CSV or XLSX of orders, tries it first (dry run), then
//! imports; the page shows every problem by row and column and offers the rejected rows
//! as a file. The same use case as `POST /api/v1/imports`.

use super::session::Staff;
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use crate::imports::read_upload;
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ordo_app::exchange::{self, ImportResult};
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/imports",
            get(page).post(upload).layer(axum::extract::DefaultBodyLimit::max(crate::imports::MAX_IMPORT_BYTES)),
        )
        .route("/imports/template.csv", get(template))
        .route("/imports/{id}/rejected.csv", get(rejected))
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    page: Frame,
    fields: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "import_result.html")]
struct ResultFragment {
    i18n: super::i18n::I18n,
    outcome: ImportResult,
}

async fn page(staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::OrdersCreate) {
        return page;
    }
    let view = ImportsPage { page: Frame::new(&staff, "orders"), fields: exchange::imports::ORDER_FIELDS };
    show(&view, &staff, &headers)
}

/// Sent by htmx (which adds the CSRF header a multipart form cannot carry in its fields);
/// answers with the result to show under the form.
async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let ctx = match staff.require(Permission::OrdersCreate) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let outcome = match read_upload(form, staff.may(Permission::PricesOverride)).await {
        Ok(mut file) => {
            file.kind = "orders".into();
            exchange::import_file(&state.db, ctx, file).await.map_err(Into::into)
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(result) => render(&ResultFragment { i18n: staff.i18n, outcome: result }),
        Err(error) => failed(&staff, error),
    }
}

async fn template(staff: Staff) -> Response {
    if let Err(page) = staff.require(Permission::OrdersCreate) {
        return page;
    }
    match exchange::imports::template("orders") {
        Some(table) => csv_download("orders-template", table.to_csv()),
        None => not_found(&staff),
    }
}

async fn rejected(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    if let Err(page) = staff.require(Permission::OrdersCreate) {
        return page;
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| exchange::get_import(tx, id)).await {
        Ok(Some(ImportResult { rejected_csv: Some(csv), .. })) => csv_download(&format!("import-{id}-rejected"), csv),
        Ok(_) => not_found(&staff),
        Err(error) => failed(&staff, ordo_app::exchange::ExchangeError::Db(error).into()),
    }
}

fn csv_download(name: &str, csv: String) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response()
}
