use crate::common::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::auth::Role;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("the system has no source of randomness: {0}")]
    NoRandomness(String),
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(TokenError);

/// Who is calling the API.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
}

impl Principal {
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token for `role` and returns it in clear, once, with its record.
pub fn create_token(tx: &mut dyn Tx, ctx: &Ctx, name: &str, role: &str) -> Result<(String, TokenView), TokenError> {
    let now = ctx.now;
    let mut violations = ordo_domain::validation::Violations::new();
    let name = violations.check(ordo_domain::validation::required_text("name", Some(name), 100));
    let role = violations.check(
        Role::parse(role)
            .ok_or_else(|| ordo_domain::FieldError::new("role", format!("must be one of {}", Role::choices()))),
    );
    violations.into_result()?;
    let (Some(name), Some(role)) = (name, role) else { unreachable!("checked above") };
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| TokenError::NoRandomness(e.to_string()))?;
    let token = format!("ordo_{}", secret.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let id = tx.insert(
        "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?, ?, ?, ?)",
        params![name.as_str(), role.as_str(), hash_token(&token), now.micros()],
    )?;
    crate::audit::record(tx, ctx, "users", "token.created", &name, &format!("role {}", role.as_str()))?;
    Ok((token, TokenView { id, name, role, created_at: now, revoked_at: None }))
}

/// The principal a bearer token stands for, if it is known and not revoked.
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<Option<Principal>, DbError> {
    let row = tx.query_opt(
        "SELECT id, name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        params![hash_token(token)],
    )?;
    let Some(row) = row else { return Ok(None) };
    let role = Role::parse(&row.text(2)?).ok_or_else(|| DbError::Decode("unknown role stored".into()))?;
    Ok(Some(Principal { token_id: row.int(0)?, name: row.text(1)?, role }))
}

pub fn list_tokens(tx: &mut dyn Tx) -> Result<Vec<TokenView>, TokenError> {
    let rows = tx.query("SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id DESC", &[])?;
    rows.iter()
        .map(|r| {
            Ok(TokenView {
                id: r.int(0)?,
                name: r.text(1)?,
                role: Role::parse(&r.text(2)?).ok_or_else(|| DbError::Decode("unknown role stored".into()))?,
                created_at: Timestamp(r.int(3)?),
                revoked_at: r.opt_int(4)?.map(Timestamp),
            })
        })
        .collect()
}

/// Revokes a token. Servers that verified it in the last 30 seconds may still accept it
/// until their short cache expires.
pub fn revoke_token(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<(), TokenError> {
    let name = tx
        .query_opt("SELECT name FROM api_tokens WHERE id = ?", params![id])?
        .map(|r| r.text(0))
        .transpose()?
        .ok_or_else(|| ordo_domain::Invalid::field("id", format!("no token with id {id}")))?;
    tx.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        params![ctx.now.micros(), id],
    )?;
    crate::audit::record(tx, ctx, "users", "token.revoked", &name, "revoked")?;
    Ok(())
}
