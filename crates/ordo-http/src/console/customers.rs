//! Customers in the console: list with search, detail with order history, create.

use super::session::{Staff, redirect_with_flash};
use super::some;
use super::{Frame, failed, not_found, render, show};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use ordo_app::common::AmountInput;
use ordo_app::customers::{self, Customer, NewCustomer};
use ordo_app::orders::{self, Order};
use ordo_app::{Page, PageRequest};
use ordo_domain::FieldError;
use ordo_domain::auth::Permission;
use ordo_domain::customers::AddressInput;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers", get(list))
        .route("/customers/new", get(new_form).post(create))
        .route("/customers/{id}", get(detail))
        .route("/customers/{id}/portal-users", axum::routing::post(invite_portal_user))
        .route("/customers/{id}/portal-users/{user_id}/disable", axum::routing::post(disable_portal_user))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    q: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "customers_list.html")]
struct ListPage {
    page: Frame,
    q: String,
    customers: Page<Customer>,
}

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let page_request = super::list_page(query.cursor.as_deref());
    let q = query.q.clone();
    match state.db.read(move |tx| customers::list_customers(tx, q.as_deref(), page_request)).await {
        Ok(customers) => show(
            &ListPage { page: Frame::new(&staff, "customers"), q: query.q.unwrap_or_default(), customers },
            &staff,
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "customer_detail.html")]
struct DetailPage {
    page: Frame,
    customer: Customer,
    orders: Vec<Order>,
    totals: Vec<String>,
    portal_users: Vec<ordo_app::portal::PortalUser>,
    may_invite: bool,
}

async fn detail(State(state): State<AppState>, staff: Staff, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let page_request = PageRequest { limit: 200, before_id: None };
    let loaded = state
        .db
        .read(move |tx| {
            let customer = customers::get_customer(tx, id).map_err(ApiError::from)?;
            let orders = orders::customer_orders(tx, id, page_request).map_err(ApiError::from)?;
            let portal_users = ordo_app::portal::portal_users(tx, id).map_err(ApiError::from)?;
            Ok::<_, CustomerPageError>((customer, orders.items, portal_users))
        })
        .await;
    match loaded {
        Ok((customer, orders, portal_users)) => {
            // Totals of the orders shown, per currency, cancelled ones left out.
            let mut sums: Vec<(ordo_domain::Currency, rust_decimal::Decimal)> = Vec::new();
            for o in orders.iter().filter(|o| o.status != ordo_domain::orders::OrderStatus::Cancelled) {
                match sums.iter_mut().find(|(c, _)| *c == o.currency) {
                    Some((_, sum)) => *sum += o.total,
                    None => sums.push((o.currency, o.total)),
                }
            }
            let totals = sums.iter().map(|(c, a)| staff.i18n.money(a, c)).collect();
            let page = DetailPage {
                page: Frame::new(&staff, "customers"),
                customer,
                orders,
                totals,
                portal_users,
                may_invite: staff.may(Permission::CustomersManage),
            };
            show(&page, &staff, &headers)
        }
        Err(CustomerPageError(ApiError::Customer(customers::CustomerError::NotFound(_)))) => not_found(&staff),
        Err(CustomerPageError(error)) => failed(&staff, error),
    }
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
}

/// Invites a person of the customer to the portal and shows the link once (it is also
/// e-mailed to them when mail is on).
async fn invite_portal_user(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<InviteForm>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let ctx = match staff.require(Permission::CustomersManage) {
        Ok(ctx) => ctx,
        Err(response) => return response,
    };
    let input = ordo_app::portal::NewPortalUser {
        email: some(&form.email),
        name: some(&form.name),
        locale: some(&form.locale),
    };
    let base = crate::portal::public_base(&headers);
    match state.db.write(move |tx| ordo_app::portal::invite(tx, &ctx, id, &input, &base)).await {
        Ok(invitation) => render(&super::SecretPage {
            page: Frame::new(&staff, "customers"),
            title: staff.i18n.t("customers.portal_invited").to_string(),
            explanation: staff.i18n.tf("customers.portal_link_once", &[("email", &invitation.user.email)]),
            secret: invitation.link,
            back: format!("/customers/{id}"),
        }),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn disable_portal_user(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path((id, user_id)): Path<(String, String)>,
) -> Response {
    let (Ok(id), Ok(user_id)) = (id.parse::<i64>(), user_id.parse::<i64>()) else { return not_found(&staff) };
    let ctx = match staff.require(Permission::CustomersManage) {
        Ok(ctx) => ctx,
        Err(response) => return response,
    };
    match state.db.write(move |tx| ordo_app::portal::disable_portal_user(tx, &ctx, id, user_id)).await {
        Ok(user) => redirect_with_flash(
            &format!("/customers/{id}"),
            &staff.i18n.tf("customers.portal_disabled", &[("email", &user.email)]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Lets one read transaction use two areas' use cases.
struct CustomerPageError(ApiError);

impl From<ordo_app::DbError> for CustomerPageError {
    fn from(error: ordo_app::DbError) -> Self {
        CustomerPageError(error.into())
    }
}

impl From<ApiError> for CustomerPageError {
    fn from(error: ApiError) -> Self {
        CustomerPageError(error)
    }
}

impl ordo_app::db::StoreError for CustomerPageError {
    fn db_error(&self) -> Option<&ordo_app::DbError> {
        match &self.0 {
            ApiError::Db(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct CustomerForm {
    code: String,
    name: String,
    group: String,
    region: String,
    email: String,
    phone: String,
    line1: String,
    city: String,
    district: String,
    province: String,
    postal_code: String,
    country: String,
    payment_terms: String,
    credit_limit: String,
    currency: String,
    language: String,
    salesperson: String,
}

impl CustomerForm {
    fn to_input(&self) -> NewCustomer {
        let has_address = !(self.line1.trim().is_empty() && self.city.trim().is_empty());
        let address = has_address.then(|| AddressInput {
            name: some(&self.name),
            phone: some(&self.phone),
            line1: some(&self.line1),
            city: some(&self.city),
            district: some(&self.district),
            region: some(&self.province),
            postal_code: some(&self.postal_code),
            country: some(&self.country),
            ..AddressInput::default()
        });
        NewCustomer {
            code: some(&self.code),
            name: some(&self.name),
            group: some(&self.group),
            region: some(&self.region),
            email: some(&self.email),
            phone: some(&self.phone),
            contact_name: None,
            shipping_address: address.clone(),
            billing_address: address,
            payment_terms: some(&self.payment_terms),
            credit_limit: some(&self.credit_limit).map(AmountInput),
            currency: some(&self.currency),
            price_list: None,
            tier: None,
            accepts_backorders: None,
            language: some(&self.language),
            salesperson: some(&self.salesperson),
        }
    }
}

#[derive(Template)]
#[template(path = "customer_new.html")]
struct NewPage {
    page: Frame,
    form: CustomerForm,
    errors: Vec<FieldError>,
}

impl NewPage {
    /// The message for one field, for showing it beside that field.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field || e.field.ends_with(&format!(".{field}")))
            .map(|e| e.message.as_str())
    }
}

async fn new_form(staff: Staff) -> Response {
    if let Err(page) = staff.require(Permission::CustomersManage) {
        return page;
    }
    let form = CustomerForm {
        country: "CN".into(),
        currency: "CNY".into(),
        group: "retail".into(),
        ..CustomerForm::default()
    };
    render(&NewPage { page: Frame::new(&staff, "customers"), form, errors: Vec::new() })
}

async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CustomerForm>,
) -> Response {
    let ctx = match staff.require(Permission::CustomersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let input = form.to_input();
    match state.db.write(move |tx| customers::create_customer(tx, &ctx, &input)).await {
        Ok(customer) => redirect_with_flash(
            &format!("/customers/{}", customer.id),
            &staff.i18n.tf("customers.created_flash", &[("name", &customer.name)]),
            &headers,
        ),
        Err(customers::CustomerError::Invalid(invalid)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&NewPage { page: Frame::new(&staff, "customers"), form, errors: invalid.0 }),
        )
            .into_response(),
        Err(error) => {
            let errors = vec![FieldError::new("code", ApiError::from(error).to_string())];
            (StatusCode::CONFLICT, render(&NewPage { page: Frame::new(&staff, "customers"), form, errors }))
                .into_response()
        }
    }
}
