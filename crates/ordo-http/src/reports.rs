//! `/api/v1/reports/…`: sales, customers (RFM), inventory (ABC), operations (cycle times)
//! the monthly finance summary, the daily or monthly settlement and the tax report, as JSON or, with `?format=csv|xlsx`, as a download.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, QueryParams};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ordo_app::reports::{
    self, AbcQuery, AbcReport, BooksQuery, BooksReport, Cell, CycleQuery, CycleReport, FinanceQuery, FinanceSummary,
    ReportError, ReportSchedules, RfmQuery, RfmReport, SalesQuery, SalesReport, SettlementQuery, SettlementReport,
    Table, Tabular, TaxQuery, TaxReport,
};
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use ordo_domain::{Invalid, Timestamp};
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports/sales", get(sales))
        .route("/reports/customers/rfm", get(rfm))
        .route("/reports/inventory/abc", get(abc))
        .route("/reports/operations/cycle-times", get(cycle_times))
        .route("/reports/finance/summary", get(finance_summary))
        .route("/reports/settlement", get(settlement))
        .route("/reports/tax", get(tax))
        .route("/reports/books", get(books))
        .route("/settings/reports", get(get_schedules).put(put_schedules))
}

#[utoipa::path(get, path = "/api/v1/settings/reports", tag = "reports",
    responses((status = 200, body = ReportSchedules, description = "Reports e-mailed daily, weekly or monthly")),
    security(("bearer" = [])))]
pub async fn get_schedules(State(state): State<AppState>, caller: Caller) -> Result<Json<ReportSchedules>, ApiError> {
    caller.require(Permission::Read, "read report schedules")?;
    Ok(Json(state.db.read(|tx| Ok::<_, ReportError>(reports::report_schedules(tx)?)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/reports", tag = "reports", request_body = ReportSchedules,
    responses((status = 200, body = ReportSchedules), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_schedules(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<ReportSchedules>,
) -> Result<Json<ReportSchedules>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "schedule reports")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| reports::update_report_schedules(tx, &ctx, &input)).await?))
}

#[derive(Clone, Copy, PartialEq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

pub fn format_param(raw: Option<&str>) -> Result<Format, ApiError> {
    match raw.map(str::trim) {
        None | Some("") | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some("xlsx") => Ok(Format::Xlsx),
        Some(_) => Err(Invalid::field("format", "must be json, csv or xlsx").into()),
    }
}

/// A file download's format: csv (default) or xlsx.
pub fn file_format(raw: Option<&str>) -> Result<Format, ApiError> {
    match raw.map(str::trim) {
        None | Some("") | Some("csv") => Ok(Format::Csv),
        Some("xlsx") => Ok(Format::Xlsx),
        Some(_) => Err(Invalid::field("format", "must be csv or xlsx").into()),
    }
}

/// The report as JSON, or its table as a CSV or XLSX download.
pub fn respond<T: Serialize + Tabular>(report: T, format: Format) -> Result<Response, ApiError> {
    match format {
        Format::Json => Ok(Json(report).into_response()),
        _ => download(&report.tables(), format),
    }
}

/// Tables as a CSV (blocks one after another) or XLSX (a sheet each) attachment, named
/// after the first.
pub fn download(tables: &[Table], format: Format) -> Result<Response, ApiError> {
    let (content_type, ext, body) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv", Table::csv_of(tables).into_bytes()),
        _ => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", xlsx(tables)?),
    };
    let name = tables.first().map_or("export", |t| t.name.as_str());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type)), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// One sheet per table: bold header, numbers as numbers (amounts with two decimals) so they sum.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as CellFormat, Workbook};
    let fail =
        |e: rust_xlsxwriter::XlsxError| ApiError::Db(ordo_app::DbError::Other(format!("writing the spreadsheet: {e}")));
    let mut workbook = Workbook::new();
    for table in tables {
        let sheet = workbook.add_worksheet();
        // Sheet names: at most 31 characters.
        sheet.set_name(table.name.chars().take(31).collect::<String>()).map_err(fail)?;
        let bold = CellFormat::new().set_bold();
        let amount = CellFormat::new().set_num_format("#,##0.00");
        for (c, name) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &bold).map_err(fail)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(text) => sheet.write_string(r, c, text).map(|_| ()),
                    Cell::Int(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                    Cell::Amount(d) => match d.to_string().parse::<f64>() {
                        Ok(n) => sheet.write_number_with_format(r, c, n, &amount).map(|_| ()),
                        Err(_) => sheet.write_string(r, c, d.to_string()).map(|_| ()),
                    },
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

/// Today in the business's time zone (a report's default period ends today).
pub async fn today(state: &AppState) -> Result<Date, ApiError> {
    Ok(state.db.read(|tx| reports::sales::today(tx, Timestamp::now())).await?)
}

#[utoipa::path(get, path = "/api/v1/reports/sales", tag = "reports", params(SalesQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (SalesReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn sales(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SalesQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::sales(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/customers/rfm", tag = "reports", params(RfmQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (RfmReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn rfm(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RfmQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::rfm(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/inventory/abc", tag = "reports", params(AbcQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (AbcReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn abc(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AbcQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::abc(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/operations/cycle-times", tag = "reports", params(CycleQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (CycleReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn cycle_times(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<CycleQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    respond(cycle_times_report(&state, params).await?, format)
}

/// Cycle times with a long period read in two slices at once, on two connections (the
/// rows, not the arithmetic, are what a year of orders costs).
pub async fn cycle_times_report(state: &AppState, params: reports::CycleParams) -> Result<CycleReport, ApiError> {
    let mut reads = Vec::new();
    for (from, to) in reports::cycle_slices(&params, 2) {
        let (db, params) = (state.db.clone(), params.clone());
        reads.push(tokio::spawn(async move { db.read(move |tx| reports::cycle_slice(tx, &params, from, to)).await }));
    }
    let mut slices = Vec::new();
    for read in reads {
        let slice = read.await.map_err(|e| ApiError::Db(ordo_app::DbError::Other(format!("report task: {e}"))))?;
        slices.push(slice?);
    }
    Ok(state.db.read(move |tx| reports::cycle_report(tx, &params, &slices)).await?)
}

#[utoipa::path(get, path = "/api/v1/reports/tax", tag = "reports", params(TaxQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (TaxReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn tax(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TaxQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::tax_report(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/books", tag = "reports", params(BooksQuery),
    responses((status = 200, description = "The books in the base currency; `format=csv|xlsx` downloads them", content(
            (BooksReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn books(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<BooksQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::books(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/settlement", tag = "reports", params(SettlementQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (SettlementReport = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn settlement(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<SettlementQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::settlement(tx, &params)).await?;
    respond(report, format)
}

#[utoipa::path(get, path = "/api/v1/reports/finance/summary", tag = "reports", params(FinanceQuery),
    responses((status = 200, description = "JSON; `format=csv|xlsx` downloads the table", content(
            (FinanceSummary = "application/json"), ("text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn finance_summary(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<FinanceQuery>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read reports")?;
    let format = format_param(query.format.as_deref())?;
    let params = query.check(today(&state).await?)?;
    let report = state.db.read(move |tx| reports::finance_summary(tx, &params)).await?;
    respond(report, format)
}
