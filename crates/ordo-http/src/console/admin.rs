//! Administration: users and their roles, API tokens. Needs `users.manage`.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, SecretPage, failed, render, show};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::auth::{self, TokenView};
use ordo_app::users::{self, User};
use ordo_domain::auth::{Permission, Role};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}/roles", post(set_roles))
        .route("/users/{id}/reset", post(reset_password))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    page: Frame,
    users: Vec<User>,
    roles: Vec<&'static str>,
    error: Option<String>,
}

impl UsersPage {
    fn has(&self, user: &User, role: &str) -> bool {
        user.roles.iter().any(|r| r.as_str() == role)
    }
}

async fn users_page(state: &AppState, staff: &Staff, error: Option<String>) -> Response {
    match state.db.read(users::list_users).await {
        Ok(list) => {
            let page = UsersPage {
                page: Frame::new(staff, "users"),
                users: list,
                roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
                error: error.clone(),
            };
            let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (status, render(&page)).into_response()
        }
        Err(error) => failed(staff, error.into()),
    }
}

async fn list_users(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::UsersManage) {
        return page;
    }
    let mut response = users_page(&state, &staff, None).await;
    super::session::clear_flash(&mut response, &staff, &headers);
    response
}

/// Roles ticked in a form: `role=sales&role=approver`.
fn ticked_roles(body: &[u8]) -> String {
    form_urlencoded::parse(body).filter(|(k, _)| k == "role").map(|(_, v)| v.into_owned()).collect::<Vec<_>>().join(",")
}

fn field(body: &[u8], name: &str) -> String {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

async fn create_user(State(state): State<AppState>, staff: Staff, body: axum::body::Bytes) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let (email, name, roles) = (field(&body, "email"), field(&body, "name"), ticked_roles(&body));
    let name = Some(name).filter(|n| !n.trim().is_empty());
    match users::add_user(&state.db, &ctx, &email, name.as_deref(), &roles).await {
        Ok((_, password)) => render(&SecretPage {
            page: Frame::new(&staff, "users"),
            title: staff.i18n.t("users.created").to_string(),
            explanation: staff.i18n.tf("users.one_time_explained", &[("email", &email)]),
            secret: password,
            back: "/users".into(),
        }),
        Err(error) => users_page(&state, &staff, Some(error.to_string())).await,
    }
}

async fn set_roles(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let roles = ticked_roles(&body);
    match state.db.write(move |tx| users::set_roles(tx, &ctx, id, &roles)).await {
        Ok(user) => {
            redirect_with_flash("/users", &staff.i18n.tf("users.roles_saved", &[("email", &user.email)]), &headers)
        }
        Err(users::UserError::Invalid(invalid)) => users_page(&state, &staff, Some(invalid.to_string())).await,
        Err(error) => failed(&staff, error.into()),
    }
}

async fn reset_password(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let user = match state.db.read(move |tx| users::user_by_id(tx, id)).await {
        Ok(user) => user,
        Err(error) => return failed(&staff, error.into()),
    };
    match users::issue_one_time_password(&state.db, &ctx, &user.email).await {
        Ok(password) => render(&SecretPage {
            page: Frame::new(&staff, "users"),
            title: staff.i18n.t("users.reset_done").to_string(),
            explanation: staff.i18n.tf("users.one_time_explained", &[("email", &user.email)]),
            secret: password,
            back: "/users".into(),
        }),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    page: Frame,
    tokens: Vec<TokenView>,
    roles: Vec<&'static str>,
    error: Option<String>,
}

async fn list_tokens(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::UsersManage) {
        return page;
    }
    match state.db.read(auth::list_tokens).await {
        Ok(tokens) => {
            let page = TokensPage {
                page: Frame::new(&staff, "tokens"),
                tokens,
                roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
                error: None,
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(serde::Deserialize)]
struct TokenForm {
    name: String,
    role: String,
}

async fn create_token(State(state): State<AppState>, staff: Staff, Form(form): Form<TokenForm>) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let (name, role) = (form.name.clone(), form.role.clone());
    match state.db.write(move |tx| auth::create_token(tx, &ctx, &name, &role)).await {
        Ok((token, view)) => render(&SecretPage {
            page: Frame::new(&staff, "tokens"),
            title: staff.i18n.t("tokens.created").to_string(),
            explanation: staff.i18n.tf("tokens.shown_once", &[("name", &view.name)]),
            secret: token,
            back: "/tokens".into(),
        }),
        Err(auth::TokenError::Invalid(invalid)) => {
            let tokens = state.db.read(auth::list_tokens).await.unwrap_or_default();
            let page = TokensPage {
                page: Frame::new(&staff, "tokens"),
                tokens,
                roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
                error: Some(invalid.to_string()),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let ctx = match staff.require(Permission::UsersManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    match state.db.write(move |tx| auth::revoke_token(tx, &ctx, id)).await {
        Ok(()) => {
            // This server forgets it at once; others within their 30-second cache.
            if let Ok(mut cache) = state.tokens.lock() {
                cache.clear();
            }
            redirect_with_flash("/tokens", staff.i18n.t("tokens.revoked"), &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}
