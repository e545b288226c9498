//! Receivables in the console: what customers owe (aging), bank statements imported and
//! matched to invoices, and matching the rest by hand (核销).

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, form_field as field, form_fields as fields, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use ordo_app::payments::{
    self, AgingReport, BankStatement, ColumnMapping, ManualMatch, NewBankStatement, PaymentError,
};
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/receivables", get(receivables_page).post(import_statement))
        .route("/receivables/statements/{id}", get(statement_page).post(match_line))
}

#[derive(Template)]
#[template(path = "receivables.html")]
struct ReceivablesPage {
    page: Frame,
    aging: AgingReport,
    statements: Vec<BankStatement>,
    may_reconcile: bool,
}

impl ReceivablesPage {
    fn money(&self, amount: &rust_decimal::Decimal) -> String {
        self.page.i18n.money(amount, &self.aging.currency)
    }

    fn counts(&self, statement: &BankStatement) -> String {
        counts(&self.page.i18n, statement)
    }
}

/// "3 matched, 1 to match by hand".
fn counts(i18n: &super::i18n::I18n, statement: &BankStatement) -> String {
    let (matched, unmatched) = (statement.matched.to_string(), statement.unmatched.to_string());
    i18n.tf("receivables.counts", &[("matched", &matched), ("unmatched", &unmatched)])
}

async fn receivables_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let loaded = state
        .db
        .read(|tx| {
            let today = ordo_app::reports::sales::today(tx, Timestamp::now())?;
            let currency = ordo_app::reports::sales::main_currency(tx)?;
            Ok::<_, PaymentError>((payments::aging(tx, currency, today)?, payments::list_statements(tx)?.items))
        })
        .await;
    match loaded {
        Ok((aging, statements)) => {
            let page = ReceivablesPage {
                page: Frame::new(&staff, "reports"),
                aging,
                statements,
                may_reconcile: staff.may(Permission::FinanceManage),
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// A bank's CSV export pasted in: every receipt that names one invoice is matched.
async fn import_statement(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = fields(&body);
    let text = |name: &str| field(&form, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let input = NewBankStatement {
        name: text("name"),
        currency: text("currency"),
        csv: field(&form, "csv").map(str::to_string),
        mapping: Some(ColumnMapping {
            date: text("date_column"),
            amount: text("amount_column"),
            reference: text("reference_column"),
            counterparty: text("counterparty_column"),
        }),
    };
    match state.db.write(move |tx| payments::import_statement(tx, &ctx, &input)).await {
        Ok(statement) => {
            let flash = staff.i18n.tf(
                "receivables.imported_flash",
                &[("matched", &statement.matched.to_string()), ("unmatched", &statement.unmatched.to_string())],
            );
            redirect_with_flash(&format!("/receivables/statements/{}", statement.id), &flash, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// One unmatched bank line with the invoices it could pay.
struct OpenLine {
    line_no: i64,
    choices: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "bank_statement.html")]
struct StatementPage {
    page: Frame,
    statement: BankStatement,
    open_lines: Vec<OpenLine>,
    may_reconcile: bool,
}

impl StatementPage {
    fn counts(&self) -> String {
        counts(&self.page.i18n, &self.statement)
    }

    fn choices(&self, line_no: &i64) -> &[(i64, String)] {
        self.open_lines.iter().find(|l| l.line_no == *line_no).map_or(&[], |l| l.choices.as_slice())
    }
}

async fn statement_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let loaded = state
        .db
        .read(move |tx| {
            let statement = payments::get_statement(tx, id)?;
            let mut open_lines = Vec::new();
            for line in statement.lines.iter().filter(|l| l.status == "unmatched") {
                let choices = payments::match_choices(tx, statement.currency, &line.candidates)?;
                open_lines.push(OpenLine { line_no: line.line_no, choices });
            }
            Ok::<_, PaymentError>((statement, open_lines))
        })
        .await;
    match loaded {
        Ok((statement, open_lines)) => {
            let may_reconcile = staff.may(Permission::FinanceManage);
            let page = StatementPage { page: Frame::new(&staff, "reports"), statement, open_lines, may_reconcile };
            show(&page, &staff, &headers)
        }
        Err(PaymentError::StatementNotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Matches one line by hand (核销).
async fn match_line(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let input = ManualMatch {
        line_no: field(&form, "line_no").and_then(|n| n.parse().ok()),
        invoice_id: field(&form, "invoice_id").and_then(|n| n.parse().ok()),
    };
    match state.db.write(move |tx| payments::match_line(tx, &ctx, id, &input)).await {
        Ok(_) => redirect_with_flash(
            &format!("/receivables/statements/{id}"),
            staff.i18n.t("receivables.matched_flash"),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}
