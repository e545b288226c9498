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
    /// Set for a partner key: the caller may only place and read that channel's orders.
    pub partner: Option<Partner>,
}

/// The channel a partner key belongs to.
#[derive(Debug, Clone)]
pub struct Partner {
    pub channel_id: i64,
    pub channel: String,
    /// The account the channel's orders are placed for.
    pub customer_id: Option<i64>,
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
    /// Set for a partner key: the channel whose orders it may place and read.
    pub channel_id: Option<i64>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a token for `role` and returns it in clear, once, with its record.
pub fn create_token(tx: &mut dyn Tx, ctx: &Ctx, name: &str, role: &str) -> Result<(String, TokenView), TokenError> {
    issue_token(tx, ctx, name, role, None)
}

/// A token, for staff (`channel_id` None) or a partner of one channel.
pub(crate) fn issue_token(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    name: &str,
    role: &str,
    channel_id: Option<i64>,
) -> Result<(String, TokenView), TokenError> {
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
        "INSERT INTO api_tokens (name, role, token_hash, created_at, channel_id) VALUES (?, ?, ?, ?, ?)",
        params![name.as_str(), role.as_str(), hash_token(&token), now.micros(), channel_id],
    )?;
    let what = match channel_id {
        Some(channel) => format!("partner key of channel {channel}"),
        None => format!("role {}", role.as_str()),
    };
    crate::audit::record(tx, ctx, "users", "token.created", &name, &what)?;
    Ok((token, TokenView { id, name, role, channel_id, created_at: now, revoked_at: None }))
}

/// The principal a bearer token stands for, if it is known and not revoked (and, for a
/// partner key, its channel is still active).
pub fn authenticate(tx: &mut dyn Tx, token: &str) -> Result<Option<Principal>, DbError> {
    let row = tx.query_opt(
        "SELECT t.id, t.name, t.role, t.channel_id, c.code, c.customer_id, c.active FROM api_tokens t \
         LEFT JOIN channels c ON c.id = t.channel_id WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        params![hash_token(token)],
    )?;
    let Some(row) = row else { return Ok(None) };
    let role = Role::parse(&row.text(2)?).ok_or_else(|| DbError::Decode("unknown role stored".into()))?;
    let partner = match row.opt_int(3)? {
        None => None,
        Some(_) if row.opt_int(6)? != Some(1) => return Ok(None),
        Some(channel_id) => Some(Partner { channel_id, channel: row.text(4)?, customer_id: row.opt_int(5)? }),
    };
    Ok(Some(Principal { token_id: row.int(0)?, name: row.text(1)?, role, partner }))
}

pub fn list_tokens(tx: &mut dyn Tx) -> Result<Vec<TokenView>, TokenError> {
    tokens(tx, "SELECT id, name, role, created_at, revoked_at, channel_id FROM api_tokens ORDER BY id DESC", &[])
}

pub(crate) fn tokens(tx: &mut dyn Tx, sql: &str, params: &[crate::db::Value]) -> Result<Vec<TokenView>, TokenError> {
    let rows = tx.query(sql, params)?;
    rows.iter()
        .map(|r| {
            Ok(TokenView {
                id: r.int(0)?,
                name: r.text(1)?,
                role: Role::parse(&r.text(2)?).ok_or_else(|| DbError::Decode("unknown role stored".into()))?,
                created_at: Timestamp(r.int(3)?),
                revoked_at: r.opt_int(4)?.map(Timestamp),
                channel_id: r.opt_int(5)?,
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
