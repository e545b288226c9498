//! Console sessions and CSRF. The session cookie names a server-side session; the CSRF
//! token is a separate cookie that every form (and every htmx request, as a header) must
//! echo back. The check happens once, in `csrf_guard`, for every state-changing request.

use super::i18n::{I18n, Locale};
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use ordo_app::Ctx;
use ordo_app::users::User;
use ordo_domain::Timestamp;
use ordo_domain::auth::{Permission, roles_may};

pub const SESSION_COOKIE: &str = "ordo_session";
pub const CSRF_COOKIE: &str = "ordo_csrf";
pub const FLASH_COOKIE: &str = "ordo_flash";
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// Behind a TLS-terminating proxy the cookies are marked Secure.
fn secure(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

pub fn set_cookie(response: &mut Response, request_headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure(request_headers) {
        cookie.push_str("; Secure");
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The CSRF token of this browser, put in request extensions for the templates.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Gives every browser a CSRF cookie and refuses any POST whose form field `csrf` or
/// `X-CSRF-Token` header does not match it.
pub async fn csrf_guard(request: Request, next: Next) -> Response {
    let existing = cookie(request.headers(), CSRF_COOKIE).filter(|t| t.len() == 48);
    let token = existing.clone().unwrap_or_else(random_token);
    let headers = request.headers().clone();
    let (mut parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        // A token in the header (htmx) leaves the body unread, so an upload can stream
        // past the form limit to its own route's limit; otherwise it is in the form.
        let from_header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_string);
        let (sent, body) = match from_header {
            Some(sent) => (Some(sent), body),
            None => {
                let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
                    return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
                };
                let sent =
                    form_urlencoded::parse(&bytes).find(|(key, _)| key == "csrf").map(|(_, value)| value.into_owned());
                (sent, Body::from(bytes))
            }
        };
        if existing.is_none() || sent.as_deref() != existing.as_deref() {
            tracing::warn!(path = %parts.uri.path(), "form refused: missing or wrong CSRF token");
            return (
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from Ordo. Go back, reload the page and try again.",
            )
                .into_response();
        }
        body
    } else {
        body
    };
    parts.extensions.insert(CsrfToken(token.clone()));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if existing.is_none() {
        set_cookie(&mut response, &headers, CSRF_COOKIE, &token, None);
    }
    response
}

/// A signed-in staff member, with the language the pages speak.
pub struct Staff {
    pub user: User,
    pub i18n: I18n,
    pub csrf: String,
    pub ip: Option<String>,
    pub flash: Option<String>,
    /// Work waiting in the queues, shown in the navigation.
    pub queues: ordo_app::orders::QueueCounts,
    pub unread: i64,
}

impl Staff {
    pub fn may(&self, permission: Permission) -> bool {
        roles_may(&self.user.roles, permission)
    }

    /// The use-case context for an action this person is allowed to take, or a 403 page.
    pub fn require(&self, permission: Permission) -> Result<Ctx, Response> {
        if self.may(permission) {
            Ok(Ctx::new(format!("user:{}", self.user.email), "console").from_ip(self.ip.clone()))
        } else {
            Err(super::forbidden(self))
        }
    }
}

/// Where an unauthenticated visitor is sent.
pub fn to_login(path: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(to_login(&path)) };
        let found = state
            .db
            .read(move |tx| {
                let Some(user) = ordo_app::users::session_user(tx, &token, Timestamp::now())? else {
                    return Ok(None);
                };
                let queues = ordo_app::orders::queue_counts(tx, &user.roles)
                    .map_err(|e| ordo_app::users::UserError::Db(ordo_app::DbError::Other(e.to_string())))?;
                let unread = ordo_app::integrations::unread_count(tx, user.id)?;
                Ok::<_, ordo_app::users::UserError>(Some((user, queues, unread)))
            })
            .await
            .map_err(|e| crate::error::ApiError::from(e).into_response())?;
        let Some((user, queues, unread)) = found else { return Err(to_login(&path)) };
        // A customer's portal user never gets a console page, whatever cookie they send.
        if user.customer_id.is_some() {
            return Err(Redirect::to("/portal").into_response());
        }
        if user.must_change_password && path != "/password" {
            return Err(Redirect::to("/password").into_response());
        }
        let locale = Locale::parse(&user.locale).unwrap_or_else(|| Locale::from_accept_language(&parts.headers));
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let flash = cookie(&parts.headers, FLASH_COOKIE).map(|f| percent_decode(&f));
        Ok(Staff { user, i18n: I18n::new(locale), csrf, ip: crate::extract::client_ip(parts), flash, queues, unread })
    }
}

/// The language of a visitor who is not signed in: their browser's.
pub struct Visitor {
    pub i18n: I18n,
    pub csrf: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        Ok(Visitor { i18n: I18n::new(Locale::from_accept_language(&parts.headers)), csrf })
    }
}

/// Redirects after a successful form post, carrying a one-time message.
pub fn redirect_with_flash(to: &str, message: &str, request_headers: &HeaderMap) -> Response {
    let mut response = Redirect::to(to).into_response();
    let encoded: String = form_urlencoded::byte_serialize(message.as_bytes()).collect();
    set_cookie(&mut response, request_headers, FLASH_COOKIE, &encoded, Some(30));
    response
}

/// Clears the flash once a page has shown it.
pub fn clear_flash(response: &mut Response, staff: &Staff, request_headers: &HeaderMap) {
    if staff.flash.is_some() {
        set_cookie(response, request_headers, FLASH_COOKIE, "", Some(0));
    }
}

pub(crate) fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("m={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}
