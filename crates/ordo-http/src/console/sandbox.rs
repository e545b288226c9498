//! The sandbox provider's pay page: what a customer sees at the provider. Paying or failing
//! here sends a signed callback through the same verification as any provider's webhook.

use super::render;
use crate::AppState;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use ordo_app::Ctx;
use ordo_app::payments::provider::{Callback, Outcome, Sandbox, random_hex, sandbox_secret};
use ordo_app::payments::{self, Payment, PaymentError};
use ordo_domain::payments::PaymentState;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "sandbox_pay.html")]
struct PayPage {
    payment: Option<Payment>,
    pending: bool,
    qr: String,
    /// Where the shop asked the provider to send the customer back to.
    back: Option<String>,
}

/// `?return=`: a page of the portal to go back to (only a local one, so the pay page can
/// send nobody elsewhere).
#[derive(Deserialize, Default)]
pub struct ReturnTo {
    #[serde(rename = "return")]
    to: Option<String>,
}

impl ReturnTo {
    fn local(&self) -> Option<String> {
        self.to
            .as_deref()
            .filter(|to| to.starts_with("/portal/") && !to.contains("//") && !to.contains('\\'))
            .map(str::to_string)
    }
}

async fn session(state: &AppState, reference: String) -> Result<Option<Payment>, PaymentError> {
    state
        .db
        .read(move |tx| match payments::store::payment_by_provider_ref(tx, "sandbox", &reference)? {
            Some(id) => payments::get_payment(tx, id).map(Some),
            None => Ok(None),
        })
        .await
}

pub async fn pay_page(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(back): Query<ReturnTo>,
) -> Response {
    match session(&state, reference.clone()).await {
        Ok(payment) => {
            let pending = payment.as_ref().is_some_and(|p| p.status == PaymentState::Pending);
            let link = format!("/sandbox/pay/{reference}");
            let qr = qrcode::QrCode::new(link.as_bytes())
                .map(|code| code.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).build())
                .unwrap_or_default();
            let status = if payment.is_some() { axum::http::StatusCode::OK } else { axum::http::StatusCode::NOT_FOUND };
            (status, render(&PayPage { payment, pending, qr, back: back.local() })).into_response()
        }
        Err(error) => crate::error::ApiError::from(error).into_response(),
    }
}

#[derive(Deserialize)]
pub struct PayForm {
    outcome: String,
    reason: Option<String>,
}

/// The "customer" pays or fails: the sandbox signs a callback and hands it to the webhook
/// handler, exactly as it would arrive over the network.
pub async fn pay(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(back): Query<ReturnTo>,
    Form(form): Form<PayForm>,
) -> Response {
    let here = match back.local() {
        Some(to) => format!("/sandbox/pay/{reference}?return={to}"),
        None => format!("/sandbox/pay/{reference}"),
    };
    let payment = match session(&state, reference.clone()).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return pay_page(State(state), Path(reference), Query(back)).await,
        Err(error) => return crate::error::ApiError::from(error).into_response(),
    };
    let manual_capture = state
        .db
        .read(|tx| payments::payment_settings(tx))
        .await
        .map(|s| s.methods.iter().any(|m| m.code == payment.method && m.manual_capture))
        .unwrap_or(false);
    let outcome = match form.outcome.as_str() {
        "pay" if manual_capture => Outcome::Authorized,
        "pay" => Outcome::Captured,
        _ => Outcome::Failed {
            reason: form.reason.filter(|r| !r.trim().is_empty()).unwrap_or_else(|| "declined".into()),
        },
    };
    let Ok(event) = random_hex(8) else { return Redirect::to(&here).into_response() };
    let callback = Callback {
        event_id: format!("evt_{event}"),
        provider_ref: reference.clone(),
        outcome,
        amount: payment.amount.to_string(),
    };
    let body = serde_json::to_vec(&callback).unwrap_or_default();
    let result = state
        .db
        .write(move |tx| {
            let ctx = Ctx::new("provider:sandbox", "api");
            let signature = Sandbox { secret: sandbox_secret(tx)? }.sign(&body, ctx.now);
            payments::handle_callback(tx, &ctx, "sandbox", Some(&signature), &body)
        })
        .await;
    if let Err(error) = result {
        tracing::warn!(%error, "sandbox callback refused");
    }
    Redirect::to(&here).into_response()
}
