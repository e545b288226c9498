//! The web console: server-rendered pages (askama) with htmx for partial updates. Every
//! page calls the same use cases as the API; handlers only read forms and render.

// A page handler's natural error is the page that explains it: `Result<_, Response>`.
#![allow(clippy::result_large_err)]

mod account;
mod admin;
mod audit;
mod catalog;
mod channels;
mod charts;
mod customers;
mod dashboard;
mod fulfillment;
pub mod i18n;
mod imports;
mod integrations;
pub(crate) mod invoices;
pub(crate) mod orders;
mod payables;
mod processing;
mod promotions;
mod receivables;
mod reports;
pub mod sandbox;
mod service;
pub mod session;
mod stock;
mod supply;

use crate::AppState;
use crate::extract::ClientIp;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router, middleware};
use i18n::I18n;
use ordo_domain::Timestamp;
use ordo_domain::auth::Permission;
use serde::Deserialize;
use session::{SESSION_COOKIE, Staff, Visitor, cookie, redirect_with_flash, set_cookie};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(change_password))
        .route("/locale", post(set_locale))
        .merge(account::router())
        .merge(admin::router())
        .merge(channels::router())
        .merge(promotions::router())
        .merge(dashboard::router())
        .merge(orders::router())
        .merge(imports::router())
        .merge(customers::router())
        .merge(catalog::router())
        .merge(stock::router())
        .merge(audit::router())
        .merge(processing::router())
        .merge(supply::router())
        .merge(payables::router())
        .merge(receivables::router())
        .merge(invoices::router())
        .merge(fulfillment::router())
        .merge(service::router())
        .merge(reports::router())
        .merge(integrations::router())
        .merge(crate::portal::pages::router())
        .layer(middleware::from_fn(session::csrf_guard))
        // The sandbox provider's own page stands outside the console, as a provider's would.
        .route("/sandbox/pay/{reference}", get(sandbox::pay_page).post(sandbox::pay))
        .route("/assets/htmx.min.js", get(|| asset("text/javascript", include_str!("../../assets/htmx.min.js"))))
        .route("/assets/ordo.css", get(|| asset("text/css", include_str!("../../assets/ordo.css"))))
}

/// A urlencoded form's fields, in order (a name may repeat).
pub(crate) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// One form field, trimmed; absent when missing or blank.
pub(crate) fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

/// What the layout needs on every page.
pub struct Frame {
    pub i18n: I18n,
    pub csrf: String,
    pub user_name: String,
    pub nav: &'static str,
    pub may_audit: bool,
    pub may_manage_users: bool,
    pub may_manage_rules: bool,
    pub may_manage_settings: bool,
    pub flash: Option<String>,
    pub queues: ordo_app::orders::QueueCounts,
    /// Unread notifications of the signed-in user.
    pub unread: i64,
}

impl Frame {
    pub fn new(staff: &Staff, nav: &'static str) -> Frame {
        Frame {
            i18n: staff.i18n,
            csrf: staff.csrf.clone(),
            user_name: staff.user.name.clone(),
            nav,
            may_audit: staff.may(Permission::AuditRead),
            may_manage_users: staff.may(Permission::UsersManage),
            may_manage_rules: staff.may(Permission::RulesManage),
            may_manage_settings: staff.may(Permission::SettingsManage),
            // A secret shown once travels in the flash; it is not a message.
            flash: staff.flash.clone().filter(|f| !f.starts_with("secret:") && !f.is_empty()),
            queues: staff.queues,
            unread: staff.unread,
        }
    }
}

/// A secret shown once (an API token, a partner key, a signing secret), with the way back.
#[derive(Template)]
#[template(path = "secret.html")]
pub(crate) struct SecretPage {
    pub page: Frame,
    pub title: String,
    pub explanation: String,
    pub secret: String,
    pub back: String,
}

pub fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// Renders a page and clears the flash message it showed.
pub fn show<T: Template>(page: &T, staff: &Staff, headers: &HeaderMap) -> Response {
    let mut response = render(page);
    session::clear_flash(&mut response, staff, headers);
    response
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    page: Frame,
    title: String,
    message: String,
}

pub fn forbidden(staff: &Staff) -> Response {
    let page = MessagePage {
        page: Frame::new(staff, ""),
        title: staff.i18n.t("error.forbidden_title").to_string(),
        message: staff.i18n.t("error.forbidden").to_string(),
    };
    (StatusCode::FORBIDDEN, render(&page)).into_response()
}

pub fn not_found(staff: &Staff) -> Response {
    let page = MessagePage {
        page: Frame::new(staff, ""),
        title: staff.i18n.t("error.not_found_title").to_string(),
        message: staff.i18n.t("error.not_found").to_string(),
    };
    (StatusCode::NOT_FOUND, render(&page)).into_response()
}

/// A service error shown as a page: the user sees the message, never internals.
pub fn failed(staff: &Staff, error: crate::error::ApiError) -> Response {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(%error, "console action failed");
    }
    let message = if status.is_server_error() { staff.i18n.t("error.internal").to_string() } else { error.to_string() };
    let page = MessagePage { page: Frame::new(staff, ""), title: staff.i18n.t("error.title").to_string(), message };
    (status, render(&page)).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    i18n: I18n,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only local paths, so the sign-in form cannot send anyone elsewhere.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//")).unwrap_or("/").to_string()
}

async fn login_page(visitor: Visitor, axum::extract::Query(query): axum::extract::Query<NextQuery>) -> Response {
    render(&LoginPage {
        i18n: visitor.i18n,
        csrf: visitor.csrf,
        next: safe_next(query.next.as_deref()),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    match check_password(&state, &email, &form.password, ip, Door::Console).await {
        Ok(ordo_app::users::SignIn::Accepted { token, user }) => {
            open_session(&token, &user, form.next.as_deref(), &headers)
        }
        Ok(ordo_app::users::SignIn::SecondFactor { token }) => {
            let next: String = form_urlencoded::byte_serialize(safe_next(form.next.as_deref()).as_bytes()).collect();
            let mut response = Redirect::to(&format!("/login/2fa?next={next}")).into_response();
            set_cookie(&mut response, &headers, SESSION_COOKIE, &token, Some(300));
            response
        }
        Ok(ordo_app::users::SignIn::Refused(reason)) => {
            let message = match reason {
                ordo_app::users::UserError::Locked(until) => {
                    visitor.i18n.tf("login.locked", &[("until", &visitor.i18n.datetime(&until))])
                }
                _ => visitor.i18n.t("login.wrong").to_string(),
            };
            let page = LoginPage {
                i18n: visitor.i18n,
                csrf: visitor.csrf,
                next: safe_next(form.next.as_deref()),
                email,
                error: Some(message),
            };
            (StatusCode::UNAUTHORIZED, render(&page)).into_response()
        }
        Err(error) => crate::error::ApiError::from(error).into_response(),
    }
}

/// Which sign-in page a person came through: staff use the console, a customer's people
/// the portal, and each page refuses the other kind of account like a wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    Console,
    Portal,
}

/// Checks a password (on a blocking thread: argon2 is slow on purpose) and records the
/// attempt, counting failures towards the lock.
pub(crate) async fn check_password(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<String>,
    door: Door,
) -> Result<ordo_app::users::SignIn, ordo_app::users::UserError> {
    let lookup = email.to_string();
    let credentials = state
        .db
        .read(move |tx| ordo_app::users::credentials(tx, &lookup))
        .await?
        .filter(|c| c.user.customer_id.is_some() == (door == Door::Portal));
    let (password, hash) = (password.to_string(), credentials.as_ref().map(|c| c.password_hash.clone()));
    let password_ok =
        tokio::task::spawn_blocking(move || hash.is_some_and(|h| ordo_app::users::verify_password(&password, &h)))
            .await
            .unwrap_or(false);
    let ctx = match door {
        Door::Console => ordo_app::Ctx::new(format!("user:{email}"), "console"),
        Door::Portal => ordo_app::Ctx::new(format!("portal:{email}"), "portal"),
    }
    .from_ip(ip);
    let user_id = credentials.map(|c| c.user.id);
    let who = email.to_string();
    state.db.write(move |tx| ordo_app::users::finish_sign_in(tx, &ctx, &who, user_id, password_ok)).await
}

/// After a successful sign-in: the session cookie, then the page asked for (or the
/// password change a one-time password requires).
pub(crate) fn open_session(
    token: &str,
    user: &ordo_app::users::User,
    next: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let to = if user.must_change_password { "/password".to_string() } else { safe_next(next) };
    let mut response = Redirect::to(&to).into_response();
    set_cookie(&mut response, headers, SESSION_COOKIE, token, Some(ordo_app::users::SESSION_SECONDS));
    response
}

async fn logout(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let ctx = ordo_app::Ctx::new(format!("user:{}", staff.user.email), "console").from_ip(staff.ip.clone());
        if let Err(error) = state.db.write(move |tx| ordo_app::users::sign_out(tx, &ctx, &token)).await {
            return failed(&staff, error.into());
        }
    }
    let mut response = Redirect::to("/login").into_response();
    set_cookie(&mut response, &headers, SESSION_COOKIE, "", Some(0));
    response
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Frame,
    forced: bool,
    errors: Vec<ordo_domain::FieldError>,
}

async fn password_page(staff: Staff) -> Response {
    render(&PasswordPage { forced: staff.user.must_change_password, page: Frame::new(&staff, ""), errors: Vec::new() })
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(invalid) = ordo_app::users::check_new_password(&form.password, &form.confirm) {
        let page =
            PasswordPage { forced: staff.user.must_change_password, page: Frame::new(&staff, ""), errors: invalid.0 };
        return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    }
    let hash = match ordo_app::users::hash_off_thread(&form.password).await {
        Ok(hash) => hash,
        Err(error) => return failed(&staff, error.into()),
    };
    let ctx = ordo_app::Ctx::new(format!("user:{}", staff.user.email), "console").from_ip(staff.ip.clone());
    let user_id = staff.user.id;
    match state.db.write(move |tx| ordo_app::users::change_password(tx, &ctx, user_id, &hash)).await {
        Ok(()) => redirect_with_flash("/", staff.i18n.t("password.changed"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Deserialize)]
struct LocaleForm {
    locale: String,
}

async fn set_locale(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<LocaleForm>,
) -> Response {
    let user_id = staff.user.id;
    let locale = form.locale.clone();
    if let Err(error) = state.db.write(move |tx| ordo_app::users::set_locale(tx, user_id, &locale)).await {
        return failed(&staff, error.into());
    }
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/".into());
    Redirect::to(&safe_next(Some(&back))).into_response()
}

pub fn now() -> Timestamp {
    Timestamp::now()
}

/// The page of a console list: 50 rows after the cursor (a bad cursor starts over).
/// The channels an order may be placed on, for filters and forms.
pub(crate) async fn channel_choices(state: &AppState) -> Vec<String> {
    state.db.read(ordo_app::channels::open_codes).await.unwrap_or_default()
}

pub fn list_page(cursor: Option<&str>) -> ordo_app::PageRequest {
    ordo_app::PageRequest::parse(Some(50), cursor).unwrap_or(ordo_app::PageRequest { limit: 50, before_id: None })
}

/// A form field: trimmed, and None when blank.
pub fn some(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}
