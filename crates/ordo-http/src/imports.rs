//! `POST /api/v1/imports` (multipart: `kind`, `file`, `mode`, `mapping`), `GET
//! /api/v1/imports/{id}`, and the template to fill in at `GET /api/v1/imports/templates/{kind}`.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, QueryParams, idempotency_key, path_id, post_once};
use crate::reports::{download, file_format};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::exchange::{self, ExchangeError, ImportFile, ImportMode, ImportResult};
use ordo_domain::Invalid;
use ordo_domain::auth::Permission;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The largest file an import takes (100,000 order lines are about 5 MB of CSV).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imports", post(create_import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .route("/imports/{id}", get(get_import))
        .route("/imports/templates/{kind}", get(template))
        .route("/imports/mappings", get(list_mappings))
        .route("/imports/mappings/{kind}/{name}", axum::routing::put(save_mapping))
}

/// The multipart form, as documented (the handler reads the parts itself).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// orders, customers, products, stock or price_lists.
    kind: String,
    /// The CSV (UTF-8) or XLSX file; one row per order line.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// dry_run (default), all_or_nothing or valid_rows.
    mode: Option<String>,
    /// Customers and products already there: skip (default; reported as duplicates) or
    /// update (the row changes the record; empty cells leave fields as they are).
    existing: Option<String>,
    /// JSON object mapping the file's column names to the fields.
    mapping: Option<String>,
    /// Or the name of a mapping saved with `PUT /api/v1/imports/mappings/{kind}/{name}`.
    mapping_name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/imports", tag = "exchange",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = ImportResult, description = "Imported (all, or the valid orders)"),
        (status = 200, body = ImportResult, description = "A dry run, or nothing imported: `errors` by row and column"),
        (status = 422, body = Problem, description = "The request itself: kind, mode, mapping, file, missing columns")),
    security(("bearer" = [])))]
pub async fn create_import(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let (mut file, _) = read_upload(form, caller.require(Permission::PricesOverride, "set prices").is_ok()).await?;
    exchange::use_saved_mapping(&state.db, &mut file).await?;
    let (permission, what) = permission_for(&file.kind);
    let ctx = caller.require(permission, what)?;
    let mut hash = Sha256::new();
    for part in [
        file.kind.as_bytes(),
        file.mode.as_deref().unwrap_or("").as_bytes(),
        file.existing.as_deref().unwrap_or("").as_bytes(),
        file.mapping.as_deref().unwrap_or("").as_bytes(),
        &file.bytes,
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    let hash: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let key = idempotency_key(&headers, &caller, "imports", &hash)?;
    let parsed = std::sync::Arc::new(exchange::imports::parse(&file)?);
    // valid_rows commits chunk by chunk; the key is kept with the last chunk and the outcome
    // (a retry after a crash finds the committed orders already there, reported as such).
    let tally = match parsed.mode() {
        ImportMode::ValidRows => Some(exchange::import_leading_chunks(&state.db, &ctx, parsed.clone()).await?),
        _ => None,
    };
    let work_ctx = ctx.clone();
    let outcome = post_once(&state, key, &ctx, move |tx| {
        let result = match &tally {
            Some(tally) => exchange::imports::import_last_chunk(tx, &work_ctx, &parsed, tally),
            None => exchange::imports::import_parsed(tx, &work_ctx, &parsed),
        };
        result.map(|result| (if result.imported > 0 { StatusCode::CREATED } else { StatusCode::OK }, result))
    })
    .await;
    match outcome {
        // A dry run, or all-or-nothing with errors, was rolled back: its outcome is kept alone.
        Err(ApiError::Exchange(ExchangeError::RolledBack(result))) => {
            Ok((StatusCode::OK, Json(exchange::keep_outcome(&state.db, *result).await?)).into_response())
        }
        other => other,
    }
}

/// What importing a kind needs: the right to create those records by hand.
pub fn permission_for(kind: &str) -> (Permission, &'static str) {
    match kind {
        "customers" => (Permission::CustomersManage, "import customers"),
        "products" | "price_lists" => (Permission::CatalogManage, "import products and prices"),
        "stock" => (Permission::StockAdjust, "import stock levels"),
        _ => (Permission::OrdersCreate, "import orders"),
    }
}

/// What the console's upload form sends besides the file.
#[derive(Default)]
pub struct ConsoleParts {
    /// The key the import's progress is shown under.
    pub progress: Option<String>,
    /// Keep the mapping typed in under this name.
    pub save_as: Option<String>,
}

/// The upload's parts: `kind`, `mode`, `existing`, `mapping` or `mapping_name`, and the
/// `file` (and the console's own parts).
pub async fn read_upload(
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    may_set_prices: bool,
) -> Result<(ImportFile, ConsoleParts), ApiError> {
    // Not a multipart upload at all: a problem naming the file, like any other bad input.
    let mut form =
        form.map_err(|e| ApiError::from(Invalid::field("file", format!("send the file as multipart/form-data: {e}"))))?;
    let mut file = ImportFile {
        kind: String::new(),
        mode: None,
        mapping: None,
        mapping_name: None,
        file_name: String::new(),
        bytes: Vec::new(),
        existing: None,
        may_set_prices,
        progress: None,
    };
    let mut console = ConsoleParts::default();
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::from(Invalid::field("file", format!("the upload could not be read: {e}")))
    };
    while let Some(part) = form.next_field().await.map_err(unreadable)? {
        match part.name().unwrap_or("") {
            "kind" => file.kind = part.text().await.map_err(unreadable)?.trim().to_string(),
            "mode" => file.mode = Some(part.text().await.map_err(unreadable)?),
            "mapping" => file.mapping = Some(part.text().await.map_err(unreadable)?),
            "mapping_name" => file.mapping_name = Some(part.text().await.map_err(unreadable)?),
            "existing" => file.existing = Some(part.text().await.map_err(unreadable)?),
            "progress" => console.progress = Some(part.text().await.map_err(unreadable)?),
            "save_as" => console.save_as = Some(part.text().await.map_err(unreadable)?),
            "file" => {
                file.file_name = part.file_name().unwrap_or("upload.csv").to_string();
                file.bytes = part.bytes().await.map_err(unreadable)?.to_vec();
            }
            _ => {}
        }
    }
    if file.bytes.is_empty() {
        return Err(Invalid::field("file", "is required: a .csv or .xlsx file").into());
    }
    Ok((file, console))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "exchange", params(("id" = i64, Path)),
    responses((status = 200, body = ImportResult), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ImportResult>, ApiError> {
    caller.require(Permission::Read, "read imports")?;
    let id = path_id(&id, "import")?;
    let found = state.db.read(move |tx| exchange::get_import(tx, id)).await?;
    found.map(Json).ok_or(ApiError::NotFound(format!("no import with id {id}")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TemplateQuery {
    /// csv (default) or xlsx.
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/imports/templates/{kind}", tag = "exchange",
    params(("kind" = String, Path, description = "orders, customers, products, stock or price_lists"), TemplateQuery),
    responses((status = 200, description = "The header and an example order", content(("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn template(
    caller: Caller,
    Path(kind): Path<String>,
    QueryParams(query): QueryParams<TemplateQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let Some(table) = exchange::imports::template(&kind) else {
        return Err(Invalid::field("kind", "must be orders, customers, products, stock or price_lists").into());
    };
    download(&[table], file_format(query.format.as_deref())?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MappingBody {
    /// The file's column → the field it holds, e.g. `{"单号": "external_ref", "数量": "quantity"}`.
    #[schema(value_type = Object)]
    mapping: serde_json::Value,
}

#[utoipa::path(put, path = "/api/v1/imports/mappings/{kind}/{name}", tag = "exchange",
    params(("kind" = String, Path, description = "orders, customers, products, stock or price_lists"),
        ("name" = String, Path, description = "The name to use it by, e.g. the customer whose files it reads")),
    request_body = MappingBody,
    responses((status = 200, body = exchange::SavedMapping, description = "Saved (replacing one of the same name)"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn save_mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, name)): Path<(String, String)>,
    body: crate::extract::JsonBody<MappingBody>,
) -> Result<Json<exchange::SavedMapping>, ApiError> {
    let (permission, what) = permission_for(&kind);
    let ctx = caller.require(permission, what)?;
    let json = body.value.mapping.to_string();
    let saved = state.db.write(move |tx| exchange::imports::save_mapping(tx, &ctx, &kind, &name, &json)).await?;
    Ok(Json(saved))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MappingsQuery {
    /// Only this kind's mappings.
    kind: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/imports/mappings", tag = "exchange", params(MappingsQuery),
    responses((status = 200, body = Vec<exchange::SavedMapping>)), security(("bearer" = [])))]
pub async fn list_mappings(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<MappingsQuery>,
) -> Result<Json<Vec<exchange::SavedMapping>>, ApiError> {
    caller.require(Permission::Read, "read import mappings")?;
    let kind = query.kind;
    let found = state.db.read(move |tx| exchange::imports::saved_mappings(tx, kind.as_deref())).await?;
    Ok(Json(found))
}
