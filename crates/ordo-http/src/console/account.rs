//! The second sign-in step and the signed-in user's own security page: two-factor
//! sign-in with an authenticator app (QR code), recovery codes.

use super::session::{SESSION_COOKIE, Staff, Visitor, cookie, redirect_with_flash};
use super::{Frame, failed, render, safe_next};
use crate::AppState;
use crate::extract::ClientIp;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::users::{self, SignIn, UserError};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/2fa", get(second_factor_page).post(second_factor))
        .route("/account", get(account))
        .route("/account/2fa/start", post(start))
        .route("/account/2fa/confirm", post(confirm))
        .route("/account/2fa/disable", post(disable))
}

#[derive(Template)]
#[template(path = "login_2fa.html")]
struct SecondFactorPage {
    i18n: super::i18n::I18n,
    csrf: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn second_factor_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    render(&SecondFactorPage {
        i18n: visitor.i18n,
        csrf: visitor.csrf,
        next: safe_next(query.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    next: Option<String>,
}

async fn second_factor(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<CodeForm>,
) -> Response {
    let Some(token) = cookie(&headers, SESSION_COOKIE) else { return Redirect::to("/login").into_response() };
    let ctx = ordo_app::Ctx::new("sign-in", "console").from_ip(ip);
    let code = form.code.clone();
    match state.db.write(move |tx| users::finish_second_factor(tx, &ctx, &token, &code)).await {
        Ok(SignIn::Accepted { token, user }) => super::open_session(&token, &user, form.next.as_deref(), &headers),
        Ok(SignIn::Refused(UserError::WrongCode)) => {
            let page = SecondFactorPage {
                error: Some(visitor.i18n.t("account.wrong_code").to_string()),
                i18n: visitor.i18n,
                csrf: visitor.csrf,
                next: safe_next(form.next.as_deref()),
            };
            (StatusCode::UNAUTHORIZED, render(&page)).into_response()
        }
        Ok(_) => Redirect::to("/login").into_response(),
        Err(error) => crate::error::ApiError::from(error).into_response(),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Frame,
    email: String,
    roles: String,
    two_factor: bool,
    /// During set-up: the QR code (SVG), the secret for typing in, and any error.
    setup: Option<(String, String)>,
    recovery_codes: Vec<String>,
    error: Option<String>,
}

fn account_page(staff: &Staff) -> AccountPage {
    AccountPage {
        page: Frame::new(staff, ""),
        email: staff.user.email.clone(),
        roles: ordo_domain::auth::format_roles(&staff.user.roles),
        two_factor: staff.user.two_factor,
        setup: None,
        recovery_codes: Vec::new(),
        error: None,
    }
}

async fn account(staff: Staff, headers: HeaderMap) -> Response {
    super::show(&account_page(&staff), &staff, &headers)
}

/// The otpauth URI drawn as an SVG QR code.
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build(),
        Err(_) => String::new(),
    }
}

async fn start(State(state): State<AppState>, staff: Staff) -> Response {
    let user_id = staff.user.id;
    match state.db.write(move |tx| users::start_two_factor(tx, user_id)).await {
        Ok((secret, uri)) => {
            let mut page = account_page(&staff);
            page.setup = Some((qr_svg(&uri), secret));
            render(&page)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Deserialize)]
struct ConfirmForm {
    code: String,
}

async fn confirm(State(state): State<AppState>, staff: Staff, Form(form): Form<ConfirmForm>) -> Response {
    let ctx = ordo_app::Ctx::new(format!("user:{}", staff.user.email), "console").from_ip(staff.ip.clone());
    let user_id = staff.user.id;
    match state.db.write(move |tx| users::confirm_two_factor(tx, &ctx, user_id, &form.code)).await {
        Ok(codes) => {
            let mut page = account_page(&staff);
            page.two_factor = true;
            page.recovery_codes = codes;
            render(&page)
        }
        Err(UserError::Invalid(invalid)) => {
            // Show the same secret again so the user can retry with a fresh code.
            let secret = state
                .db
                .read(move |tx| users::store::totp_state(tx, user_id))
                .await
                .ok()
                .and_then(|state| state.pending);
            let mut page = account_page(&staff);
            page.setup =
                secret.map(|s| (qr_svg(&ordo_app::users::totp::otpauth_uri("Ordo", &staff.user.email, &s)), s));
            page.error = Some(invalid.0.first().map(|e| e.message.clone()).unwrap_or_default());
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn disable(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let ctx = ordo_app::Ctx::new(format!("user:{}", staff.user.email), "console").from_ip(staff.ip.clone());
    let user_id = staff.user.id;
    match state.db.write(move |tx| users::disable_two_factor(tx, &ctx, user_id, &form.code)).await {
        Ok(()) => redirect_with_flash("/account", staff.i18n.t("account.disabled"), &headers),
        Err(UserError::Invalid(_)) => {
            let mut page = account_page(&staff);
            page.error = Some(staff.i18n.t("account.wrong_code").to_string());
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
        Err(error) => failed(&staff, error.into()),
    }
}
