//! `/imports`: a clerk uploads a CSV or XLSX of orders (or customers, products, stock
//! levels, price lists), tries it first (dry run), then imports, watching its progress; the
//! page shows every problem by row and column and offers the rejected rows as a file. The
//! same use case as `POST /api/v1/imports`.

use super::session::Staff;
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use crate::imports::{permission_for, read_upload};
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
        .route("/imports/progress/{key}", get(progress))
        .route("/imports/{id}/rejected.csv", get(rejected))
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    page: Frame,
    /// The kinds this clerk may import, with their columns.
    kinds: Vec<(&'static str, String)>,
    /// The first kind and its columns, shown before any choice.
    first_kind: &'static str,
    first_columns: String,
    /// The key this page's imports report their progress under.
    progress_key: String,
    /// Saved mappings of the kinds offered: (kind, name).
    mappings: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "import_result.html")]
struct ResultFragment {
    i18n: super::i18n::I18n,
    outcome: ImportResult,
}

async fn page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let kinds: Vec<(&'static str, String)> = ["orders", "customers", "products", "stock", "price_lists"]
        .into_iter()
        .filter(|kind| staff.may(permission_for(kind).0))
        .filter_map(|kind| exchange::imports::template(kind).map(|t| (kind, t.columns.join(", "))))
        .collect();
    if kinds.is_empty() {
        return staff.require(Permission::OrdersCreate).err().unwrap_or_else(|| not_found(&staff));
    }
    let (first_kind, first_columns) = kinds[0].clone();
    let offered: Vec<&'static str> = kinds.iter().map(|(kind, _)| *kind).collect();
    let mappings = match state.db.read(|tx| exchange::imports::saved_mappings(tx, None)).await {
        Ok(saved) => {
            saved.into_iter().filter(|m| offered.contains(&m.kind.as_str())).map(|m| (m.kind, m.name)).collect()
        }
        Err(error) => return failed(&staff, ordo_app::exchange::ExchangeError::Db(error).into()),
    };
    let view = ImportsPage {
        page: Frame::new(&staff, "orders"),
        kinds,
        first_kind,
        first_columns,
        progress_key: super::session::random_token(),
        mappings,
    };
    show(&view, &staff, &headers)
}

/// Sent by htmx (which adds the CSRF header a multipart form cannot carry in its fields);
/// answers with the result to show under the form.
async fn upload(
    State(state): State<AppState>,
    staff: Staff,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (mut file, key, save_as) = match read_upload(form, staff.may(Permission::PricesOverride)).await {
        Ok((file, extra)) => (file, extra.progress, extra.save_as),
        Err(error) => return failed(&staff, error),
    };
    if file.kind.is_empty() {
        file.kind = "orders".into();
    }
    let ctx = match staff.require(permission_for(&file.kind).0) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    // The mapping typed in is kept under the name given, for next time.
    if let (Some(name), Some(mapping)) = (save_as.filter(|n| !n.trim().is_empty()), file.mapping.clone()) {
        let (save_ctx, kind) = (ctx.clone(), file.kind.clone());
        let saved = state
            .db
            .write(move |tx| exchange::imports::save_mapping(tx, &save_ctx, &kind, name.trim(), &mapping))
            .await;
        if let Err(error) = saved {
            return failed(&staff, error.into());
        }
    }
    let key = key.filter(|k| (16..=64).contains(&k.len()) && k.chars().all(|c| c.is_ascii_alphanumeric()));
    if let Some(key) = key.clone() {
        let imports = state.imports.clone();
        file.progress = Some(std::sync::Arc::new(move |done, total| {
            if let Ok(mut imports) = imports.lock() {
                imports.insert(key.clone(), (done, total, std::time::Instant::now()));
            }
        }));
    }
    let outcome = exchange::import_file(&state.db, ctx, file).await;
    if let (Some(key), Ok(mut imports)) = (key, state.imports.lock()) {
        imports.remove(&key);
        // Imports whose page went away without finishing the request.
        imports.retain(|_, (_, _, at)| at.elapsed() < std::time::Duration::from_secs(3600));
    }
    match outcome {
        Ok(result) => render(&ResultFragment { i18n: staff.i18n, outcome: result }),
        Err(error) => failed(&staff, error.into()),
    }
}

/// How far the import under `key` has come, as `{"done": n, "total": m}` (404 when no import
/// of this process runs under it: not begun, finished, or on another server).
async fn progress(State(state): State<AppState>, staff: Staff, Path(key): Path<String>) -> Response {
    if !staff.may(Permission::Read) {
        return not_found(&staff);
    }
    let found = state.imports.lock().ok().and_then(|imports| imports.get(&key).map(|(done, total, _)| (*done, *total)));
    match found {
        Some((done, total)) => axum::Json(serde_json::json!({"done": done, "total": total})).into_response(),
        None => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct TemplateQuery {
    kind: Option<String>,
}

async fn template(staff: Staff, axum::extract::Query(query): axum::extract::Query<TemplateQuery>) -> Response {
    let kind = query.kind.unwrap_or_else(|| "orders".into());
    if let Err(page) = staff.require(permission_for(&kind).0) {
        return page;
    }
    match exchange::imports::template(&kind) {
        Some(table) => csv_download(&format!("{}-template", kind.replace('_', "-")), table.to_csv()),
        None => not_found(&staff),
    }
}

async fn rejected(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| exchange::get_import(tx, id)).await {
        // The rejected rows are the records themselves: only for who may import that kind.
        Ok(Some(ImportResult { kind, .. })) if !staff.may(permission_for(&kind).0) => not_found(&staff),
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
