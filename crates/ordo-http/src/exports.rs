//! `GET /api/v1/exports/{kind}`: records as a CSV or XLSX file, in the import templates'
//! columns, so a spreadsheet round trip keeps every field.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, QueryParams};
use crate::reports::{download, file_format};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use ordo_app::exchange::{self, ExportQuery};
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new().route("/exports/{kind}", get(export))
}

#[utoipa::path(get, path = "/api/v1/exports/{kind}", tag = "exchange",
    params(("kind" = String, Path, description = "orders (one row per line), customers, products, stock, price_lists"), ExportQuery),
    responses((status = 200, description = "The file", content(("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem, description = "Unknown kind or format, bad dates, or too many order lines for one file")),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    QueryParams(query): QueryParams<ExportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "export records")?;
    let format = file_format(query.format.as_deref())?;
    let table = state.db.read(move |tx| exchange::export(tx, &kind, &query, Timestamp::now())).await?;
    download(&[table], format)
}
