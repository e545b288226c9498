//! Payments, refunds, provider callbacks, the ledger, invoices and receivables.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Caller, JsonBody, OptionalJsonBody, QueryParams, command, idempotency_key, path_id, post_once};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ordo_app::Ctx;
use ordo_app::payments::fx::{BaseCurrencyInput, ExchangeRates, RatesInput};
use ordo_app::payments::{
    self, AgingReport, BankStatement, BankStatementList, CallbackResult, Invoice, InvoiceList, LedgerCheck,
    ManualMatch, NewBankStatement, NewInvoice, NewPayment, NewRefund, OrderMethods, Payment, PaymentList,
    PaymentSettings, PaymentSettingsInput, Refund, RefundList, Statement, TrialBalance, WriteOff,
};
use ordo_domain::auth::Permission;
use ordo_domain::time::Date;
use ordo_domain::{Currency, FieldError, Invalid, Timestamp};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/payments", get(get_settings).put(put_settings))
        .route("/orders/{id}/payment-methods", get(order_methods))
        .route("/orders/{id}/payments", get(list_payments).post(create_payment))
        .route("/payments/{id}", get(get_payment))
        .route("/payments/{id}/capture", post(capture_payment))
        .route("/payments/{id}/void", post(void_payment))
        .route("/payments/{id}/refund", post(refund_payment))
        .route("/refunds", get(list_refunds))
        .route("/refunds/{id}/approve", post(approve_refund))
        .route("/refunds/{id}/reject", post(reject_refund))
        .route("/payment-providers/{provider}/webhook", post(provider_webhook))
        .route("/payment-providers/sandbox", get(sandbox_settings))
        .route("/ledger/trial-balance", get(trial_balance))
        .route("/exchange-rates", get(list_exchange_rates).put(put_exchange_rates))
        .route("/settings/base-currency", axum::routing::put(put_base_currency))
        .route("/ledger/check", get(ledger_check))
        .route("/orders/{id}/invoices", get(order_invoices).post(create_invoice))
        .route("/invoices", get(list_invoices))
        .route("/invoices/{id}", get(get_invoice))
        .route("/invoices/{id}/write-off", post(write_off))
        .route("/customers/{id}/statement", get(customer_statement))
        .route("/reports/ar-aging", get(ar_aging))
        .route("/bank-statements", get(list_statements).post(import_statement))
        .route("/bank-statements/{id}", get(get_statement))
        .route("/bank-statements/{id}/match", post(match_statement_line))
}

fn currency_param(raw: Option<&str>) -> Result<Currency, ApiError> {
    Ok(Currency::field("currency", raw).map_err(|e| Invalid(vec![e]))?.unwrap_or(Currency::CNY))
}

fn date_param(field: &str, raw: Option<&str>, default: Date) -> Result<Date, ApiError> {
    Ok(Date::field(field, raw).map_err(|e| Invalid(vec![e]))?.unwrap_or(default))
}

#[utoipa::path(get, path = "/api/v1/settings/payments", tag = "payments",
    responses((status = 200, body = PaymentSettings)), security(("bearer" = [])))]
pub async fn get_settings(State(state): State<AppState>, caller: Caller) -> Result<Json<PaymentSettings>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| payments::payment_settings(tx)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/payments", tag = "payments", request_body = PaymentSettingsInput,
    responses((status = 200, body = PaymentSettings), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<PaymentSettingsInput>,
) -> Result<Json<PaymentSettings>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "change settings")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| payments::update_payment_settings(tx, &ctx, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/payment-methods", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = OrderMethods, description = "Each method with whether it may be used, and the default"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn order_methods(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OrderMethods>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| payments::order_methods(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "payments", request_body = NewPayment,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Payment, description = "Captured, on account, or pending at the provider (see `redirect_url`)"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewPayment>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PaymentsRecord, "record payments")?;
    let id = path_id(&id, "order")?;
    let key = idempotency_key(&headers, &caller, &format!("orders/{id}/payments"), &body.hash)?;
    let (input, work_ctx) = (body.value, ctx.clone());
    post_once(&state, key, &ctx, move |tx| {
        payments::record_payment(tx, &work_ctx, id, &input).map(|p| (StatusCode::CREATED, p))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/payments", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = PaymentList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_payments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PaymentList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| payments::order_payments(tx, id)).await?))
}

#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = Payment), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Payment>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "payment")?;
    Ok(Json(state.db.read(move |tx| payments::get_payment(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/payments/{id}/capture", tag = "payments",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn capture_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PaymentsRecord, "capture payments")?;
    let id = path_id(&id, "payment")?;
    command(&state, &caller, &headers, format!("payments/{id}/capture"), "", ctx, StatusCode::OK, move |tx, ctx| {
        payments::capture_payment(tx, ctx, id)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/payments/{id}/void", tag = "payments",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn void_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PaymentsRecord, "void payments")?;
    let id = path_id(&id, "payment")?;
    command(&state, &caller, &headers, format!("payments/{id}/void"), "", ctx, StatusCode::OK, move |tx, ctx| {
        payments::void_payment(tx, ctx, id)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/payments/{id}/refund", tag = "payments", request_body = NewRefund,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Refund, description = "Completed, or `pending_approval` above the configured amount"),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn refund_payment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewRefund>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::PaymentsRefund, "refund payments")?;
    let id = path_id(&id, "payment")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("payments/{id}/refund"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| payments::refund_payment(tx, ctx, id, &input),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RefundQuery {
    /// pending_approval, completed, rejected.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/refunds", tag = "payments", params(RefundQuery),
    responses((status = 200, body = RefundList)), security(("bearer" = [])))]
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RefundQuery>,
) -> Result<Json<RefundList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(move |tx| payments::list_refunds(tx, query.status.as_deref())).await?))
}

#[utoipa::path(post, path = "/api/v1/refunds/{id}/approve", tag = "payments",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Refund), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::RefundsApprove, "approve refunds")?;
    let id = path_id(&id, "refund")?;
    command(&state, &caller, &headers, format!("refunds/{id}/approve"), "", ctx, StatusCode::OK, move |tx, ctx| {
        payments::approve_refund(tx, ctx, id)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/refunds/{id}/reject", tag = "payments",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Refund), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::RefundsApprove, "reject refunds")?;
    let id = path_id(&id, "refund")?;
    command(&state, &caller, &headers, format!("refunds/{id}/reject"), "", ctx, StatusCode::OK, move |tx, ctx| {
        payments::reject_refund(tx, ctx, id)
    })
    .await
}

/// A provider's signed callback. Public (the provider has no token): the signature is the
/// authentication.
#[utoipa::path(post, path = "/api/v1/payment-providers/{provider}/webhook", tag = "payments",
    params(("provider" = String, Path), ("Ordo-Signature" = String, Header, description = "t=UNIX,v1=HMAC-SHA256 of \"t.body\"")),
    request_body(content = Object, description = "The provider's event"),
    responses((status = 200, body = CallbackResult, description = "Processed, or a duplicate that changed nothing"),
        (status = 401, body = Problem, description = "Forged, or too old"), (status = 404, body = Problem)))]
pub async fn provider_webhook(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CallbackResult>, ApiError> {
    let signature = headers.get("ordo-signature").and_then(|v| v.to_str().ok()).map(str::to_string);
    let ctx = Ctx::new(format!("provider:{provider}"), "api");
    let result =
        state.db.write(move |tx| payments::handle_callback(tx, &ctx, &provider, signature.as_deref(), &body)).await?;
    Ok(Json(result))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SandboxSettings {
    /// Signs the sandbox's callbacks; an adapter for a real provider keeps its own.
    pub webhook_secret: String,
    pub pay_page: String,
}

#[utoipa::path(get, path = "/api/v1/payment-providers/sandbox", tag = "payments",
    responses((status = 200, body = SandboxSettings), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn sandbox_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SandboxSettings>, ApiError> {
    caller.require(Permission::SettingsManage, "see provider secrets")?;
    let secret = state.db.write(|tx| payments::provider::sandbox_secret(tx)).await?;
    Ok(Json(SandboxSettings { webhook_secret: secret, pay_page: "/sandbox/pay/{provider_ref}".into() }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LedgerQuery {
    /// ISO 4217; default CNY. The ledger is kept per currency.
    pub currency: Option<String>,
    /// `base`: every currency's entries valued in the base currency, with the exchange
    /// differences (7900); `currency` (default): one currency's entries as booked.
    pub valuation: Option<String>,
    /// Up to and including this day (`YYYY-MM-DD`); default today.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/ledger/trial-balance", tag = "payments", params(LedgerQuery),
    responses((status = 200, body = TrialBalance), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn trial_balance(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<LedgerQuery>,
) -> Result<Json<TrialBalance>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let currency = match query.valuation.as_deref() {
        None | Some("currency") => Some(currency_param(query.currency.as_deref())?),
        Some("base") if query.currency.is_none() => None,
        Some("base") => return Err(Invalid::field("currency", "give no currency with valuation=base").into()),
        Some(_) => return Err(Invalid::field("valuation", "must be currency or base").into()),
    };
    let to = Date::field("to", query.to.as_deref()).map_err(|e| Invalid(vec![e]))?;
    let until = to.map(|d| d.plus_days(1).start().micros() - 1);
    Ok(Json(state.db.read(move |tx| payments::ledger::trial_balance(tx, currency, until)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RatesQuery {
    /// ISO 4217: only this currency's rates.
    pub currency: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/exchange-rates", tag = "payments", params(RatesQuery),
    responses((status = 200, body = ExchangeRates), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_exchange_rates(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<RatesQuery>,
) -> Result<Json<ExchangeRates>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let currency = Currency::field("currency", query.currency.as_deref()).map_err(|e| Invalid(vec![e]))?;
    Ok(Json(state.db.read(move |tx| payments::fx::rates(tx, currency)).await?))
}

#[utoipa::path(put, path = "/api/v1/exchange-rates", tag = "payments", request_body = RatesInput,
    responses((status = 200, body = ExchangeRates, description = "Each rate replaces the one of its currency and day"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_exchange_rates(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<RatesInput>,
) -> Result<Json<ExchangeRates>, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "enter exchange rates")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| payments::fx::enter_rates(tx, &ctx, &input)).await?))
}

#[utoipa::path(put, path = "/api/v1/settings/base-currency", tag = "payments", request_body = BaseCurrencyInput,
    responses((status = 200, body = ExchangeRates), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The ledger holds entries in another currency"),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_base_currency(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<BaseCurrencyInput>,
) -> Result<Json<ExchangeRates>, ApiError> {
    let ctx = caller.require(Permission::SettingsManage, "set the base currency")?;
    let input = body.value;
    Ok(Json(state.db.write(move |tx| payments::fx::set_base_currency(tx, &ctx, &input)).await?))
}

#[utoipa::path(get, path = "/api/v1/ledger/check", tag = "payments",
    responses((status = 200, body = LedgerCheck, description = "`ok` when every entry balances and receivables match the documents")),
    security(("bearer" = [])))]
pub async fn ledger_check(State(state): State<AppState>, caller: Caller) -> Result<Json<LedgerCheck>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| payments::ledger::check(tx)).await?))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/invoices", tag = "payments",
    request_body(content = NewInvoice, description = "Optional: lines and quantities; default all not yet invoiced"),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Invoice), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<NewInvoice>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::InvoicesIssue, "issue invoices")?;
    let id = path_id(&id, "order")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("orders/{id}/invoices"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| payments::issue_invoice(tx, ctx, id, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/invoices", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceList)), security(("bearer" = [])))]
pub async fn order_invoices(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<InvoiceList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "order")?;
    Ok(Json(state.db.read(move |tx| payments::order_invoices(tx, id)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InvoiceQuery {
    pub customer_id: Option<i64>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "payments", params(InvoiceQuery),
    responses((status = 200, body = InvoiceList, description = "Newest first, without lines")), security(("bearer" = [])))]
pub async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<InvoiceQuery>,
) -> Result<Json<InvoiceList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let limit = query.limit.unwrap_or(100);
    let items = state.db.read(move |tx| payments::list_invoices(tx, query.customer_id, limit)).await?;
    Ok(Json(InvoiceList { items }))
}

/// `12` is JSON, `12.pdf` the printable PDF, `12.xml` UBL 2.1.
#[utoipa::path(get, path = "/api/v1/invoices/{id}", tag = "payments",
    params(("id" = String, Path, description = "The id, optionally with `.pdf` or `.xml`")),
    responses((status = 200, body = Invoice, description = "JSON; `.pdf` gives application/pdf, `.xml` UBL 2.1"),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read, "read")?;
    let (id, format) = raw.split_once('.').map_or((raw.as_str(), ""), |(id, ext)| (id, ext));
    if !matches!(format, "" | "pdf" | "xml") {
        return Err(ApiError::NotFound(format!("no invoice format {format:?}: use .pdf or .xml")));
    }
    let id = path_id(id, "invoice")?;
    let (invoice, seller) = state
        .db
        .read(move |tx| {
            Ok::<_, payments::PaymentError>((payments::get_invoice(tx, id)?, payments::documents::company(tx)?))
        })
        .await?;
    let disposition = |ext: &str| {
        HeaderValue::from_str(&format!("inline; filename=\"{}.{ext}\"", invoice.number))
            .unwrap_or(HeaderValue::from_static("inline"))
    };
    Ok(match format {
        "pdf" => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
                (header::CONTENT_DISPOSITION, disposition("pdf")),
            ],
            payments::documents::invoice_pdf(&invoice, &seller),
        )
            .into_response(),
        "xml" => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/xml")),
                (header::CONTENT_DISPOSITION, disposition("xml")),
            ],
            payments::documents::invoice_ubl(&invoice, &seller),
        )
            .into_response(),
        _ => Json(invoice).into_response(),
    })
}

#[utoipa::path(post, path = "/api/v1/invoices/{id}/write-off", tag = "payments", request_body = WriteOff,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Invoice, description = "The write-off document"), (status = 403, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn write_off(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<WriteOff>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "write off debts")?;
    let id = path_id(&id, "invoice")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("invoices/{id}/write-off"),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| payments::write_off(tx, ctx, id, &input),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct StatementQuery {
    /// `YYYY-MM-DD`; default the first of this month.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub to: Option<String>,
    pub currency: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/statement", tag = "payments",
    params(("id" = i64, Path), StatementQuery),
    responses((status = 200, body = Statement), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn customer_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<StatementQuery>,
) -> Result<Json<Statement>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "customer")?;
    let today = Date::of(Timestamp::now());
    let to = date_param("to", query.to.as_deref(), today)?;
    let from = date_param("from", query.from.as_deref(), Date { day: 1, ..to })?;
    if from > to {
        return Err(Invalid(vec![FieldError::new("from", "must not be after to")]).into());
    }
    let currency = currency_param(query.currency.as_deref())?;
    Ok(Json(state.db.read(move |tx| payments::statement(tx, id, currency, from, to)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AgingQuery {
    pub currency: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub as_of: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/reports/ar-aging", tag = "payments", params(AgingQuery),
    responses((status = 200, body = AgingReport)), security(("bearer" = [])))]
pub async fn ar_aging(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AgingQuery>,
) -> Result<Json<AgingReport>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let as_of = date_param("as_of", query.as_of.as_deref(), Date::of(Timestamp::now()))?;
    let currency = currency_param(query.currency.as_deref())?;
    Ok(Json(state.db.read(move |tx| payments::aging(tx, currency, as_of)).await?))
}

#[utoipa::path(post, path = "/api/v1/bank-statements", tag = "payments", request_body = NewBankStatement,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = BankStatement, description = "Each line matched, left for matching by hand, or ignored"),
        (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn import_statement(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewBankStatement>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "import bank statements")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        "bank-statements".into(),
        &body.hash,
        ctx,
        StatusCode::CREATED,
        move |tx, ctx| payments::import_statement(tx, ctx, &input),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/bank-statements", tag = "payments",
    responses((status = 200, body = BankStatementList)), security(("bearer" = [])))]
pub async fn list_statements(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<BankStatementList>, ApiError> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.db.read(|tx| payments::list_statements(tx)).await?))
}

#[utoipa::path(get, path = "/api/v1/bank-statements/{id}", tag = "payments", params(("id" = i64, Path)),
    responses((status = 200, body = BankStatement), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_statement(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BankStatement>, ApiError> {
    caller.require(Permission::Read, "read")?;
    let id = path_id(&id, "bank statement")?;
    Ok(Json(state.db.read(move |tx| payments::get_statement(tx, id)).await?))
}

#[utoipa::path(post, path = "/api/v1/bank-statements/{id}/match", tag = "payments", request_body = ManualMatch,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = BankStatement), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn match_statement_line(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ManualMatch>,
) -> Result<Response, ApiError> {
    let ctx = caller.require(Permission::FinanceManage, "match bank lines")?;
    let id = path_id(&id, "bank statement")?;
    let input = body.value;
    command(
        &state,
        &caller,
        &headers,
        format!("bank-statements/{id}/match"),
        &body.hash,
        ctx,
        StatusCode::OK,
        move |tx, ctx| payments::match_line(tx, ctx, id, &input),
    )
    .await
}
