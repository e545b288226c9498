//! Invoices in the console: a print view (with a print stylesheet) and the PDF download.

use super::session::Staff;
use super::{i18n::I18n, not_found, render};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ordo_app::payments::{self, Invoice, Party, PaymentError};

pub fn router() -> Router<AppState> {
    Router::new().route("/invoices/{id}/print", get(print)).route("/invoices/{id}/pdf", get(pdf))
}

#[derive(Template)]
#[template(path = "invoice_print.html")]
struct PrintPage {
    i18n: I18n,
    title: &'static str,
    invoice: Invoice,
    seller: Party,
}

async fn load(state: &AppState, id: i64) -> Result<(Invoice, Party), PaymentError> {
    state.db.read(move |tx| Ok((payments::get_invoice(tx, id)?, payments::documents::company(tx)?))).await
}

async fn print(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match load(&state, id).await {
        Ok((invoice, seller)) => print_view(staff.i18n, invoice, seller),
        Err(_) => not_found(&staff),
    }
}

async fn pdf(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match load(&state, id).await {
        Ok((invoice, seller)) => pdf_download(&invoice, &seller),
        Err(_) => not_found(&staff),
    }
}

/// The printable invoice, credit note or write-off (the console's and the portal's).
pub(crate) fn print_view(i18n: I18n, invoice: Invoice, seller: Party) -> Response {
    let title = match invoice.kind.as_str() {
        "credit_note" => "Credit note 贷项通知单",
        "write_off" => "Write-off 坏账核销",
        _ => "Invoice 发票",
    };
    render(&PrintPage { i18n, title, invoice, seller })
}

/// The invoice as a PDF attachment named after its number.
pub(crate) fn pdf_download(invoice: &Invoice, seller: &Party) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}.pdf\"", invoice.number))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        payments::documents::invoice_pdf(invoice, seller),
    )
        .into_response()
}
