//! The portal's pages at `/portal`: mobile first, server-rendered, behind the console's
//! CSRF guard but with a session cookie of their own. Handlers read forms and render;
//! every rule lives in `ordo_app::portal`, scoped to the signed-in buyer's company.

// A page handler's natural error is the page that explains it: `Result<_, Response>`.
#![allow(clippy::result_large_err)]

use crate::AppState;
use crate::console::i18n::{I18n, Locale};
use crate::console::orders::csv_field;
use crate::console::session::{
    CsrfToken, FLASH_COOKIE, Visitor, cookie, percent_decode, redirect_with_flash, set_cookie,
};
use crate::console::{Door, check_password, form_field, form_fields, invoices, render, safe_next, some};
use crate::error::ApiError;
use crate::extract::client_ip;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use ordo_app::aftersales::{NewFeedback, NewReturn, ReturnLineInput};
use ordo_app::orders::Order;
use ordo_app::payments::{Invoice, Statement};
use ordo_app::portal::{self, Buyer, Cart, Checkout, OrderView, PortalError, ShopItem};
use ordo_app::users::SignIn;
use ordo_domain::customers::AddressInput;
use ordo_domain::orders::{OrderAction, OrderStatus};
use ordo_domain::time::Date;
use ordo_domain::{FieldError, Timestamp};
use serde::Deserialize;

pub const PORTAL_COOKIE: &str = "ordo_portal";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/invite/{token}", get(invitation_page).post(accept_invitation))
        .route("/portal/locale", post(set_locale))
        .route("/portal", get(shop))
        .route("/portal/cart", get(cart_page))
        .route("/portal/cart/items", post(put_in_cart))
        .route("/portal/checkout", post(checkout))
        .route("/portal/orders", get(orders))
        .route("/portal/orders/{id}", get(order))
        .route("/portal/orders/{id}/reorder", post(reorder))
        .route("/portal/orders/{id}/cancel", post(cancel))
        .route("/portal/orders/{id}/pay", post(pay))
        .route("/portal/orders/{id}/return", post(request_return))
        .route("/portal/orders/{id}/feedback", post(feedback))
        .route("/portal/lists", get(lists_page).post(save_list))
        .route("/portal/lists/{id}/cart", post(list_to_cart))
        .route("/portal/lists/{id}/delete", post(delete_list))
        .route("/portal/invoices", get(invoices_page))
        .route("/portal/invoices/{id}", get(invoice_print))
        .route("/portal/invoices/{id}/pdf", get(invoice_pdf))
        .route("/portal/statement", get(statement))
        .route("/portal/statement.csv", get(statement_csv))
}

/// A signed-in buyer, with the language the pages speak.
pub struct Shopper {
    pub buyer: Buyer,
    pub i18n: I18n,
    pub csrf: String,
    pub ip: Option<String>,
    pub flash: Option<String>,
    pub company: String,
    pub cart_count: i64,
}

fn to_login(path: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Redirect::to(&format!("/portal/login?next={next}")).into_response()
}

impl FromRequestParts<AppState> for Shopper {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let Some(token) = cookie(&parts.headers, PORTAL_COOKIE) else { return Err(to_login(&path)) };
        let found = state
            .db
            .read(move |tx| {
                let Some(user) = ordo_app::users::session_user(tx, &token, Timestamp::now())? else { return Ok(None) };
                // A staff session in the portal cookie opens nothing here.
                let Some(buyer) = Buyer::of(&user) else { return Ok(None) };
                let company = ordo_app::customers::store::by_id(tx, buyer.customer_id)?
                    .map(|c| c.customer.name)
                    .unwrap_or_default();
                let cart_count = portal::cart_count(tx, &buyer)?;
                Ok::<_, PortalError>(Some((user.locale, buyer, company, cart_count)))
            })
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        let Some((locale, buyer, company, cart_count)) = found else { return Err(to_login(&path)) };
        let locale = Locale::parse(&locale).unwrap_or_else(|| Locale::from_accept_language(&parts.headers));
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let flash = cookie(&parts.headers, FLASH_COOKIE).map(|f| percent_decode(&f));
        Ok(Shopper {
            buyer,
            i18n: I18n::new(locale),
            csrf,
            ip: client_ip(parts),
            flash: flash.filter(|f| !f.is_empty()),
            company,
            cart_count,
        })
    }
}

/// What the portal layout needs on every page.
pub struct PortalFrame {
    pub i18n: I18n,
    pub csrf: String,
    pub company: String,
    pub user_name: String,
    pub nav: &'static str,
    pub cart_count: i64,
    pub flash: Option<String>,
}

impl PortalFrame {
    fn new(shopper: &Shopper, nav: &'static str) -> PortalFrame {
        PortalFrame {
            i18n: shopper.i18n,
            csrf: shopper.csrf.clone(),
            company: shopper.company.clone(),
            user_name: shopper.buyer.name.clone(),
            nav,
            cart_count: shopper.cart_count,
            flash: shopper.flash.clone(),
        }
    }
}

/// Renders a page and clears the flash it showed.
fn show<T: Template>(page: &T, shopper: &Shopper, headers: &HeaderMap) -> Response {
    let mut response = render(page);
    if shopper.flash.is_some() {
        set_cookie(&mut response, headers, FLASH_COOKIE, "", Some(0));
    }
    response
}

#[derive(Template)]
#[template(path = "portal_message.html")]
struct MessagePage {
    page: PortalFrame,
    title: String,
    message: String,
}

/// A use case's error as a page: the buyer sees the message, never internals.
fn failed(shopper: &Shopper, error: impl Into<ApiError>) -> Response {
    let error = error.into();
    let status = error.status();
    let (title, message) = if status == StatusCode::NOT_FOUND {
        (shopper.i18n.t("error.not_found_title").to_string(), shopper.i18n.t("error.not_found").to_string())
    } else if status.is_server_error() {
        tracing::error!(%error, "portal action failed");
        (shopper.i18n.t("error.title").to_string(), shopper.i18n.t("error.internal").to_string())
    } else {
        (shopper.i18n.t("error.title").to_string(), error.to_string())
    };
    (status, render(&MessagePage { page: PortalFrame::new(shopper, ""), title, message })).into_response()
}

fn not_found(shopper: &Shopper) -> Response {
    failed(shopper, ApiError::NotFound(String::new()))
}

/// The field errors of a refused form, to show next to the form.
fn field_errors(error: &ApiError) -> Option<Vec<FieldError>> {
    match error {
        ApiError::Invalid(e) | ApiError::Order(ordo_app::orders::OrderError::Invalid(e)) => Some(e.0.clone()),
        ApiError::AfterSales(ordo_app::aftersales::AfterSalesError::Invalid(e)) => Some(e.0.clone()),
        _ => None,
    }
}

// ---- signing in -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_login.html")]
struct LoginPage {
    i18n: I18n,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// The page's language, when the link says (sign-out keeps the buyer's).
    lang: Option<String>,
}

/// The visitor's language: the one asked for, else their browser's.
fn language(visitor: &Visitor, asked: Option<&str>) -> I18n {
    asked.and_then(Locale::parse).map(I18n::new).unwrap_or(visitor.i18n)
}

/// Only portal paths: the portal's sign-in never sends anyone into the console or away.
fn portal_next(next: Option<&str>) -> String {
    let next = safe_next(next);
    if next == "/portal" || next.starts_with("/portal/") || next.starts_with("/portal?") {
        next
    } else {
        "/portal".into()
    }
}

async fn login_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    render(&LoginPage {
        i18n: language(&visitor, query.lang.as_deref()),
        csrf: visitor.csrf,
        next: portal_next(query.next.as_deref()),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    lang: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let email = form.email.trim().to_lowercase();
    let i18n = language(&visitor, form.lang.as_deref());
    let refused = |message: String| {
        let page = LoginPage {
            i18n,
            csrf: visitor.csrf.clone(),
            next: portal_next(form.next.as_deref()),
            email: email.clone(),
            error: Some(message),
        };
        (StatusCode::UNAUTHORIZED, render(&page)).into_response()
    };
    match check_password(&state, &email, &form.password, ip, Door::Portal).await {
        Ok(SignIn::Accepted { token, .. }) => {
            let mut response = Redirect::to(&portal_next(form.next.as_deref())).into_response();
            set_cookie(&mut response, &headers, PORTAL_COOKIE, &token, Some(ordo_app::users::SESSION_SECONDS));
            response
        }
        Ok(SignIn::Refused(ordo_app::users::UserError::Locked(until))) => {
            refused(i18n.tf("login.locked", &[("until", &i18n.datetime(&until))]))
        }
        // Portal accounts have no second factor; a session waiting for one opens nothing.
        Ok(SignIn::Refused(_)) | Ok(SignIn::SecondFactor { .. }) => refused(i18n.t("login.wrong").to_string()),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn logout(State(state): State<AppState>, shopper: Shopper, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, PORTAL_COOKIE) {
        let ctx = shopper.buyer.ctx(shopper.ip.clone());
        if let Err(error) = state.db.write(move |tx| ordo_app::users::sign_out(tx, &ctx, &token)).await {
            return failed(&shopper, error);
        }
    }
    let mut response = Redirect::to(&format!("/portal/login?lang={}", shopper.i18n.lang())).into_response();
    set_cookie(&mut response, &headers, PORTAL_COOKIE, "", Some(0));
    response
}

#[derive(Template)]
#[template(path = "portal_invite.html")]
struct InvitationPage {
    i18n: I18n,
    csrf: String,
    invitation: Option<portal::InvitationView>,
    errors: Vec<FieldError>,
}

impl InvitationPage {
    fn welcome(&self, invitation: &portal::InvitationView) -> String {
        self.i18n.tf(
            "portal.invite_welcome",
            &[("name", invitation.name.as_str()), ("company", invitation.customer_name.as_str())],
        )
    }
}

async fn invitation_page(State(state): State<AppState>, visitor: Visitor, Path(token): Path<String>) -> Response {
    let opened = state.db.read(move |tx| portal::open_invitation(tx, &token, Timestamp::now())).await;
    match opened {
        Ok(invitation) => {
            let i18n = Locale::parse(&invitation.locale).map(I18n::new).unwrap_or(visitor.i18n);
            render(&InvitationPage { i18n, csrf: visitor.csrf, invitation: Some(invitation), errors: Vec::new() })
        }
        Err(PortalError::InvitationInvalid) => {
            let page = InvitationPage { i18n: visitor.i18n, csrf: visitor.csrf, invitation: None, errors: Vec::new() };
            (StatusCode::NOT_FOUND, render(&page)).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    confirm: String,
}

async fn accept_invitation(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Response {
    if let Err(invalid) = ordo_app::users::check_new_password(&form.password, &form.confirm) {
        let lookup = token.clone();
        let invitation = state.db.read(move |tx| portal::open_invitation(tx, &lookup, Timestamp::now())).await.ok();
        let page = InvitationPage { i18n: visitor.i18n, csrf: visitor.csrf, invitation, errors: invalid.0 };
        return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    }
    let hash = match ordo_app::users::hash_off_thread(&form.password).await {
        Ok(hash) => hash,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let ctx = ordo_app::Ctx::new("portal:invitation", "portal").from_ip(ip);
    match state.db.write(move |tx| portal::accept_invitation(tx, &ctx, &token, &hash)).await {
        Ok((session, _)) => {
            let mut response = Redirect::to("/portal").into_response();
            set_cookie(&mut response, &headers, PORTAL_COOKIE, &session, Some(ordo_app::users::SESSION_SECONDS));
            response
        }
        Err(PortalError::InvitationInvalid) => {
            let page = InvitationPage { i18n: visitor.i18n, csrf: visitor.csrf, invitation: None, errors: Vec::new() };
            (StatusCode::NOT_FOUND, render(&page)).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[derive(Deserialize)]
struct LocaleForm {
    locale: String,
}

async fn set_locale(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LocaleForm>,
) -> Response {
    let user_id = shopper.buyer.user_id;
    if let Err(error) = state.db.write(move |tx| ordo_app::users::set_locale(tx, user_id, &form.locale)).await {
        return failed(&shopper, error);
    }
    Redirect::to(&back_to(&headers)).into_response()
}

/// The portal page the request came from (for forms that return where they were sent).
fn back_to(headers: &HeaderMap) -> String {
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    portal_next(referer.as_deref())
}

// ---- shopping ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_shop.html")]
struct ShopPage {
    page: PortalFrame,
    q: String,
    items: Vec<ShopItem>,
    next_cursor: Option<String>,
}

impl ShopPage {
    fn next_href(&self) -> Option<String> {
        let q: String = form_urlencoded::byte_serialize(self.q.as_bytes()).collect();
        self.next_cursor.as_ref().map(|cursor| format!("/portal?q={q}&cursor={cursor}"))
    }
}

#[derive(Deserialize)]
struct ShopQuery {
    q: Option<String>,
    cursor: Option<String>,
}

async fn shop(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Query(query): Query<ShopQuery>,
) -> Response {
    let page_request = ordo_app::PageRequest::parse(Some(24), query.cursor.as_deref())
        .unwrap_or(ordo_app::PageRequest { limit: 24, before_id: None });
    let (buyer, q) = (shopper.buyer.clone(), query.q.clone());
    match state.db.read(move |tx| portal::shop(tx, &buyer, q.as_deref(), page_request)).await {
        Ok(page) => show(
            &ShopPage {
                page: PortalFrame::new(&shopper, "shop"),
                q: query.q.unwrap_or_default(),
                items: page.items,
                next_cursor: page.next_cursor,
            },
            &shopper,
            &headers,
        ),
        Err(error) => failed(&shopper, error),
    }
}

/// Puts a product in the cart (`mode=add`, from the shop) or sets its quantity
/// (`mode=set`, from the cart; 0 takes it out). From htmx the answer is the new cart count.
async fn put_in_cart(State(state): State<AppState>, shopper: Shopper, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let sku = form_field(&fields, "sku").unwrap_or_default().to_string();
    let add = form_field(&fields, "mode") != Some("set");
    let quantity = match form_field(&fields, "quantity").unwrap_or("1").parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            let invalid = ordo_domain::Invalid::field("quantity", "must be a whole number");
            return failed(&shopper, invalid);
        }
    };
    let unit = form_field(&fields, "unit").map(str::to_string);
    let buyer = shopper.buyer.clone();
    let done = state
        .db
        .write(move |tx| {
            let in_cart = portal::set_in_cart(tx, &buyer, &sku, quantity, unit.as_deref(), add)?;
            Ok::<_, PortalError>((in_cart, portal::cart_count(tx, &buyer)?))
        })
        .await;
    match done {
        Ok((in_cart, count)) if headers.contains_key("hx-request") => {
            let label = shopper.i18n.tf("portal.in_cart", &[("count", &in_cart.to_string())]);
            Html(format!(
                "<span class=\"added\" role=\"status\">✓ {label}</span>\
                 <span id=\"cart-count\" class=\"count\" hx-swap-oob=\"true\">{count}</span>"
            ))
            .into_response()
        }
        Ok(_) if add => redirect_with_flash(&back_to(&headers), shopper.i18n.t("portal.added"), &headers),
        Ok(_) => Redirect::to("/portal/cart").into_response(),
        Err(error) => failed(&shopper, error),
    }
}

#[derive(Template)]
#[template(path = "portal_cart.html")]
struct CartPage {
    page: PortalFrame,
    cart: Cart,
    address: usize,
    /// What the checkout form had, shown again when it was refused.
    form: CheckoutForm,
    errors: Vec<FieldError>,
}

impl CartPage {
    fn priced(&self, sku: &str) -> Option<&ordo_app::orders::QuoteLine> {
        self.cart.quote.as_ref().and_then(|q| q.lines.iter().find(|l| l.sku == sku))
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().chain(&self.cart.problems).find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct CheckoutForm {
    address: String,
    payment_method: String,
    coupon_code: String,
    notes: String,
    requested_delivery_date: String,
    new_name: String,
    new_phone: String,
    new_line1: String,
    new_city: String,
    new_district: String,
    new_region: String,
    new_postal_code: String,
    new_country: String,
}

impl CheckoutForm {
    fn address_index(&self) -> Option<usize> {
        self.address.parse().ok()
    }

    fn to_checkout(&self) -> Checkout {
        let new_address = (self.address == "new").then(|| AddressInput {
            name: some(&self.new_name),
            phone: some(&self.new_phone),
            line1: some(&self.new_line1),
            line2: None,
            city: some(&self.new_city),
            district: some(&self.new_district),
            region: some(&self.new_region),
            postal_code: some(&self.new_postal_code),
            country: some(&self.new_country).or(Some("CN".into())),
        });
        Checkout {
            address: self.address_index(),
            new_address,
            payment_method: some(&self.payment_method),
            coupon_code: some(&self.coupon_code),
            notes: some(&self.notes),
            requested_delivery_date: some(&self.requested_delivery_date),
        }
    }
}

async fn cart_view(
    state: &AppState,
    shopper: &Shopper,
    form: CheckoutForm,
    errors: Vec<FieldError>,
) -> Result<CartPage, Response> {
    let (buyer, coupon, address) = (shopper.buyer.clone(), some(&form.coupon_code), form.address_index());
    match state.db.read(move |tx| portal::cart(tx, &buyer, coupon.as_deref(), address)).await {
        Ok(cart) => {
            Ok(CartPage { page: PortalFrame::new(shopper, "cart"), address: address.unwrap_or(0), cart, form, errors })
        }
        Err(error) => Err(failed(shopper, error)),
    }
}

async fn cart_page(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Query(form): Query<CheckoutForm>,
) -> Response {
    match cart_view(&state, &shopper, form, Vec::new()).await {
        Ok(page) => show(&page, &shopper, &headers),
        Err(response) => response,
    }
}

async fn checkout(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CheckoutForm>,
) -> Response {
    let (buyer, ip, input) = (shopper.buyer.clone(), shopper.ip.clone(), form.to_checkout());
    match state.db.write(move |tx| portal::checkout(tx, &buyer, ip.clone(), &input)).await {
        Ok(order) => {
            let message = shopper.i18n.tf("portal.placed", &[("number", &order.number)]);
            redirect_with_flash(&format!("/portal/orders/{}", order.id), &message, &headers)
        }
        // Submitted twice: the first submit placed the order and emptied the cart.
        Err(PortalError::Conflict(_)) => Redirect::to("/portal/orders").into_response(),
        Err(error) => {
            let error = ApiError::from(error);
            let errors = match field_errors(&error) {
                Some(errors) => errors,
                None if error.status().is_client_error() => vec![FieldError::new("order", error.to_string())],
                None => return failed(&shopper, error),
            };
            match cart_view(&state, &shopper, form, errors).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
                Err(response) => response,
            }
        }
    }
}

// ---- orders -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_orders.html")]
struct OrdersPage {
    page: PortalFrame,
    orders: Vec<Order>,
    status: String,
    next_cursor: Option<String>,
}

impl OrdersPage {
    fn selected(&self, status: &str) -> bool {
        self.status == status
    }
}

#[derive(Deserialize)]
struct OrdersQuery {
    status: Option<String>,
    cursor: Option<String>,
}

async fn orders(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Query(query): Query<OrdersQuery>,
) -> Response {
    let page_request = crate::console::list_page(query.cursor.as_deref());
    let status = query.status.clone().filter(|s| OrderStatus::parse(s).is_some());
    let (buyer, filter) = (shopper.buyer.clone(), status.clone());
    match state.db.read(move |tx| portal::my_orders(tx, &buyer, filter.as_deref(), page_request)).await {
        Ok(page) => show(
            &OrdersPage {
                page: PortalFrame::new(&shopper, "orders"),
                orders: page.items,
                status: status.unwrap_or_default(),
                next_cursor: page.next_cursor,
            },
            &shopper,
            &headers,
        ),
        Err(error) => failed(&shopper, error),
    }
}

#[derive(Template)]
#[template(path = "portal_order.html")]
struct OrderPage {
    page: PortalFrame,
    view: OrderView,
    may_cancel: bool,
    may_return: bool,
    may_rate: bool,
    errors: Vec<FieldError>,
}

fn path_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

async fn order_page(
    state: &AppState,
    shopper: &Shopper,
    id: i64,
    errors: Vec<FieldError>,
) -> Result<OrderPage, Response> {
    let buyer = shopper.buyer.clone();
    match state.db.read(move |tx| portal::my_order_view(tx, &buyer, id)).await {
        Ok(view) => {
            let received = matches!(view.order.status, OrderStatus::Delivered | OrderStatus::Completed);
            Ok(OrderPage {
                page: PortalFrame::new(shopper, "orders"),
                may_cancel: view.order.allowed_actions.contains(&OrderAction::Cancel),
                may_return: received,
                may_rate: received && view.feedback.is_none(),
                view,
                errors,
            })
        }
        Err(error) => Err(failed(shopper, error)),
    }
}

async fn order(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    match order_page(&state, &shopper, id, Vec::new()).await {
        Ok(page) => show(&page, &shopper, &headers),
        Err(response) => response,
    }
}

/// After an order action: back to the order with a message, or the order page with the
/// form's errors.
async fn after_action<T>(
    state: &AppState,
    shopper: &Shopper,
    headers: &HeaderMap,
    id: i64,
    done: Result<T, PortalError>,
    message: &str,
) -> Response {
    match done.map_err(|error| refusal(error, "order")) {
        Ok(_) => redirect_with_flash(&format!("/portal/orders/{id}"), message, headers),
        Err(Ok(errors)) => match order_page(state, shopper, id, errors).await {
            Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
            Err(response) => response,
        },
        Err(Err(error)) => failed(shopper, error),
    }
}

/// What a refused action shows on its page: the field errors, or a refusal (a conflict)
/// under `field`. Not found and server errors are pages of their own (`Err`).
fn refusal(error: PortalError, field: &str) -> Result<Vec<FieldError>, ApiError> {
    let error = ApiError::from(error);
    match field_errors(&error) {
        Some(errors) => Ok(errors),
        None if error.status().is_client_error() && error.status() != StatusCode::NOT_FOUND => {
            Ok(vec![FieldError::new(field, error.to_string())])
        }
        None => Err(error),
    }
}

async fn reorder(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let buyer = shopper.buyer.clone();
    match state.db.write(move |tx| portal::reorder_to_cart(tx, &buyer, id)).await {
        Ok(skipped) if skipped.is_empty() => {
            redirect_with_flash("/portal/cart", shopper.i18n.t("portal.reordered"), &headers)
        }
        Ok(skipped) => {
            let message = shopper.i18n.tf("portal.reordered_except", &[("skus", &skipped.join(", "))]);
            redirect_with_flash("/portal/cart", &message, &headers)
        }
        Err(error) => failed(&shopper, error),
    }
}

async fn cancel(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let fields = form_fields(&body);
    let reason = form_field(&fields, "reason").unwrap_or("cancelled by the customer in the portal").to_string();
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    let done = state.db.write(move |tx| portal::cancel_my_order(tx, &buyer, ip.clone(), id, &reason)).await;
    after_action(&state, &shopper, &headers, id, done, shopper.i18n.t("portal.cancelled")).await
}

/// Pay now: opens a payment of what is due and sends the buyer to the provider's page,
/// which links back to the order.
async fn pay(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let fields = form_fields(&body);
    let method = form_field(&fields, "method").unwrap_or_default().to_string();
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    match state.db.write(move |tx| portal::pay_my_order(tx, &buyer, ip.clone(), id, &method)).await {
        Ok(url) => Redirect::to(&format!("{url}?return=/portal/orders/{id}")).into_response(),
        Err(error) => after_action(&state, &shopper, &headers, id, Err::<(), _>(error), "").await,
    }
}

/// The return form has, per order line, `qty_<sku>` and `reason_<sku>`.
async fn request_return(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let fields = form_fields(&body);
    let mut lines = Vec::new();
    for (key, value) in &fields {
        let Some(sku) = key.strip_prefix("qty_") else { continue };
        let quantity = value.trim();
        if quantity.is_empty() || quantity == "0" {
            continue;
        }
        lines.push(ReturnLineInput {
            sku: Some(sku.to_string()),
            quantity: Some(quantity.parse().unwrap_or(-1)),
            reason: form_field(&fields, &format!("reason_{sku}")).map(str::to_string),
            opened: Some(form_field(&fields, "opened").is_some()),
        });
    }
    let input = NewReturn { lines: Some(lines), notes: form_field(&fields, "notes").map(str::to_string) };
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    let done = state.db.write(move |tx| portal::request_return(tx, &buyer, ip.clone(), id, &input)).await;
    after_action(&state, &shopper, &headers, id, done, shopper.i18n.t("portal.return_requested")).await
}

async fn feedback(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let fields = form_fields(&body);
    let input = NewFeedback {
        rating: form_field(&fields, "rating").and_then(|r| r.parse().ok()),
        comment: form_field(&fields, "comment").map(str::to_string),
    };
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    let done = state.db.write(move |tx| portal::leave_feedback(tx, &buyer, ip.clone(), id, &input)).await;
    after_action(&state, &shopper, &headers, id, done, shopper.i18n.t("portal.thanks")).await
}

// ---- invoices and statement -------------------------------------------------------

// ---- order lists ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "portal_lists.html")]
struct ListsPage {
    page: PortalFrame,
    lists: Vec<ordo_app::orders::OrderTemplate>,
    errors: Vec<FieldError>,
}

async fn lists_view(state: &AppState, shopper: &Shopper, errors: Vec<FieldError>) -> Result<ListsPage, Response> {
    let buyer = shopper.buyer.clone();
    match state.db.read(move |tx| portal::my_lists(tx, &buyer)).await {
        Ok(lists) => Ok(ListsPage { page: PortalFrame::new(shopper, "lists"), lists, errors }),
        Err(error) => Err(failed(shopper, error)),
    }
}

async fn lists_page(State(state): State<AppState>, shopper: Shopper, headers: HeaderMap) -> Response {
    match lists_view(&state, &shopper, Vec::new()).await {
        Ok(page) => show(&page, &shopper, &headers),
        Err(response) => response,
    }
}

/// After a list action: to `to` with a message, or the lists page with what was wrong.
async fn after_list_action<T>(
    state: &AppState,
    shopper: &Shopper,
    headers: &HeaderMap,
    done: Result<T, PortalError>,
    to: &str,
    message: &str,
) -> Response {
    match done.map_err(|error| refusal(error, "list")) {
        Ok(_) => redirect_with_flash(to, message, headers),
        Err(Ok(errors)) => match lists_view(state, shopper, errors).await {
            Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
            Err(response) => response,
        },
        Err(Err(error)) => failed(shopper, error),
    }
}

/// Keeps the cart as a list (the cart page's "save as list" form).
async fn save_list(State(state): State<AppState>, shopper: Shopper, headers: HeaderMap, body: Bytes) -> Response {
    let fields = form_fields(&body);
    let name = form_field(&fields, "name").unwrap_or_default().to_string();
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    let done = state.db.write(move |tx| portal::save_cart_as_list(tx, &buyer, ip.clone(), &name)).await;
    after_list_action(&state, &shopper, &headers, done, "/portal/lists", shopper.i18n.t("portal.list_saved")).await
}

async fn list_to_cart(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let buyer = shopper.buyer.clone();
    match state.db.write(move |tx| portal::list_to_cart(tx, &buyer, id)).await {
        Ok(skipped) if skipped.is_empty() => {
            redirect_with_flash("/portal/cart", shopper.i18n.t("portal.reordered"), &headers)
        }
        Ok(skipped) => {
            let message = shopper.i18n.tf("portal.reordered_except", &[("skus", &skipped.join(", "))]);
            redirect_with_flash("/portal/cart", &message, &headers)
        }
        Err(PortalError::NotFound(_)) => not_found(&shopper),
        Err(error) => failed(&shopper, error),
    }
}

async fn delete_list(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = path_id(&id) else { return not_found(&shopper) };
    let (buyer, ip) = (shopper.buyer.clone(), shopper.ip.clone());
    let done = state.db.write(move |tx| portal::delete_my_list(tx, &buyer, ip.clone(), id)).await;
    after_list_action(&state, &shopper, &headers, done, "/portal/lists", shopper.i18n.t("portal.list_deleted")).await
}

#[derive(Template)]
#[template(path = "portal_invoices.html")]
struct InvoicesPage {
    page: PortalFrame,
    invoices: Vec<Invoice>,
}

async fn invoices_page(State(state): State<AppState>, shopper: Shopper, headers: HeaderMap) -> Response {
    let buyer = shopper.buyer.clone();
    match state.db.read(move |tx| portal::my_invoices(tx, &buyer)).await {
        Ok(invoices) => {
            show(&InvoicesPage { page: PortalFrame::new(&shopper, "invoices"), invoices }, &shopper, &headers)
        }
        Err(error) => failed(&shopper, error),
    }
}

async fn load_invoice(
    state: &AppState,
    shopper: &Shopper,
    id: &str,
) -> Result<(Invoice, ordo_app::payments::Party), Response> {
    let Some(id) = path_id(id) else { return Err(not_found(shopper)) };
    let buyer = shopper.buyer.clone();
    state
        .db
        .read(move |tx| {
            Ok::<_, PortalError>((portal::my_invoice(tx, &buyer, id)?, ordo_app::payments::documents::company(tx)?))
        })
        .await
        .map_err(|error| failed(shopper, error))
}

async fn invoice_print(State(state): State<AppState>, shopper: Shopper, Path(id): Path<String>) -> Response {
    match load_invoice(&state, &shopper, &id).await {
        Ok((invoice, seller)) => invoices::print_view(shopper.i18n, invoice, seller),
        Err(response) => response,
    }
}

async fn invoice_pdf(State(state): State<AppState>, shopper: Shopper, Path(id): Path<String>) -> Response {
    match load_invoice(&state, &shopper, &id).await {
        Ok((invoice, seller)) => invoices::pdf_download(&invoice, &seller),
        Err(response) => response,
    }
}

#[derive(Template)]
#[template(path = "portal_statement.html")]
struct StatementPage {
    page: PortalFrame,
    statement: Statement,
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn load_statement(state: &AppState, shopper: &Shopper, query: &PeriodQuery) -> Result<Statement, Response> {
    let mut v = ordo_domain::validation::Violations::new();
    let from = v.check(Date::field("from", query.from.as_deref().filter(|s| !s.is_empty()))).flatten();
    let to = v.check(Date::field("to", query.to.as_deref().filter(|s| !s.is_empty()))).flatten();
    if let Err(invalid) = v.into_result() {
        return Err(failed(shopper, invalid));
    }
    let buyer = shopper.buyer.clone();
    state.db.read(move |tx| portal::my_statement(tx, &buyer, from, to)).await.map_err(|error| failed(shopper, error))
}

async fn statement(
    State(state): State<AppState>,
    shopper: Shopper,
    headers: HeaderMap,
    Query(query): Query<PeriodQuery>,
) -> Response {
    match load_statement(&state, &shopper, &query).await {
        Ok(statement) => {
            let (from, to) = (statement.from.clone(), statement.to.clone());
            show(
                &StatementPage { page: PortalFrame::new(&shopper, "statement"), statement, from, to },
                &shopper,
                &headers,
            )
        }
        Err(response) => response,
    }
}

/// The statement as CSV (UTF-8 with a byte-order mark, so Excel shows the Chinese text).
async fn statement_csv(State(state): State<AppState>, shopper: Shopper, Query(query): Query<PeriodQuery>) -> Response {
    let statement = match load_statement(&state, &shopper, &query).await {
        Ok(statement) => statement,
        Err(response) => return response,
    };
    let i18n = shopper.i18n;
    let mut csv = String::from("\u{feff}");
    let header = [
        i18n.t("portal.date"),
        i18n.t("portal.document"),
        i18n.t("portal.description"),
        i18n.t("portal.debit"),
        i18n.t("portal.credit"),
        i18n.t("portal.balance"),
    ];
    let row = |cells: &[&str]| cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\r\n";
    csv.push_str(&row(&header));
    csv.push_str(&row(&[
        &statement.from,
        "",
        i18n.t("portal.opening"),
        "",
        "",
        &statement.opening_balance.to_string(),
    ]));
    for line in &statement.lines {
        csv.push_str(&row(&[
            &line.date,
            &line.document,
            &line.description,
            &line.debit.to_string(),
            &line.credit.to_string(),
            &line.balance.to_string(),
        ]));
    }
    csv.push_str(&row(&[&statement.to, "", i18n.t("portal.closing"), "", "", &statement.closing_balance.to_string()]));
    let name = format!("attachment; filename=\"statement-{}-{}.csv\"", statement.from, statement.to);
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        csv,
    )
        .into_response()
}
