use ordo_domain::Timestamp;
use ordo_domain::auth::Role;
use serde::Serialize;
use utoipa::ToSchema;

/// Console languages.
pub const LOCALES: &[&str] = &["en", "zh-CN", "zh-TW"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub locale: String,
    pub must_change_password: bool,
    /// Whether sign-in asks for an authenticator code after the password.
    pub two_factor: bool,
    pub disabled: bool,
    pub created_at: Timestamp,
    /// Set for a customer's portal user, who may use `/portal` only, never the console.
    pub customer_id: Option<i64>,
}

/// What sign-in needs to check a password, read before any write.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub locked_until: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no user with e-mail {0:?}")]
    NotFound(String),
    #[error("a user with e-mail {0:?} already exists")]
    EmailTaken(String),
    #[error("wrong e-mail or password")]
    WrongCredentials,
    #[error("too many failed sign-ins: try again after {0}")]
    Locked(Timestamp),
    #[error("that code is not valid")]
    WrongCode,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(UserError);
