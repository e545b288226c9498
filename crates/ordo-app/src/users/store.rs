use super::model::{Credentials, User};
use crate::db::{DbError, Row, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::auth::{Role, format_roles, parse_roles};

const COLUMNS: &str = "id, email, name, roles, locale, must_change_password, disabled, created_at, password_hash, locked_until, totp_secret, customer_id";

fn credentials(row: &Row) -> Result<Credentials, DbError> {
    Ok(Credentials {
        user: User {
            id: row.int(0)?,
            email: row.text(1)?,
            name: row.text(2)?,
            roles: parse_roles(&row.text(3)?),
            locale: row.text(4)?,
            must_change_password: row.bool(5)?,
            two_factor: row.opt_text(10)?.is_some(),
            disabled: row.bool(6)?,
            created_at: Timestamp(row.int(7)?),
            customer_id: row.opt_int(11)?,
        },
        password_hash: row.text(8)?,
        locked_until: row.opt_int(9)?.map(Timestamp),
    })
}

pub fn by_email(tx: &mut dyn Tx, email: &str) -> Result<Option<Credentials>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ?");
    tx.query_opt(&sql, params![email])?.as_ref().map(credentials).transpose()
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Credentials>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(credentials).transpose()
}

pub fn count(tx: &mut dyn Tx) -> Result<i64, DbError> {
    tx.query_one("SELECT COUNT(*) FROM users WHERE customer_id IS NULL", &[])?.int(0)
}

/// Staff accounts (portal users belong to their customer's page).
pub fn list(tx: &mut dyn Tx) -> Result<Vec<User>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE customer_id IS NULL ORDER BY email");
    tx.query(&sql, &[])?.iter().map(|r| credentials(r).map(|c| c.user)).collect()
}

pub fn insert(
    tx: &mut dyn Tx,
    email: &str,
    name: &str,
    roles: &[Role],
    locale: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO users (email, name, roles, password_hash, must_change_password, locale, failed_sign_ins, disabled, created_at, updated_at) \
         VALUES (?, ?, ?, ?, 1, ?, 0, 0, ?, ?)",
        params![email, name, format_roles(roles), password_hash, locale, now.micros(), now.micros()],
    )
}

/// A customer's portal user, who signs in once they accept their invitation (the stored
/// hash `!` matches no password until then).
pub fn insert_portal(
    tx: &mut dyn Tx,
    email: &str,
    name: &str,
    locale: &str,
    customer_id: i64,
    now: Timestamp,
) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO users (email, name, roles, password_hash, must_change_password, locale, failed_sign_ins, disabled, created_at, updated_at, customer_id) \
         VALUES (?, ?, '', '!', 1, ?, 0, 0, ?, ?, ?)",
        params![email, name, locale, now.micros(), now.micros(), customer_id],
    )
}

pub fn set_disabled(tx: &mut dyn Tx, id: i64, disabled: bool, now: Timestamp) -> Result<(), DbError> {
    tx.execute("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?", params![disabled, now.micros(), id])?;
    Ok(())
}

/// The portal users of a customer.
pub fn of_customer(tx: &mut dyn Tx, customer_id: i64) -> Result<Vec<User>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE customer_id = ? ORDER BY email");
    tx.query(&sql, params![customer_id])?.iter().map(|r| credentials(r).map(|c| c.user)).collect()
}

pub fn set_password(
    tx: &mut dyn Tx,
    id: i64,
    password_hash: &str,
    must_change: bool,
    now: Timestamp,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE users SET password_hash = ?, must_change_password = ?, failed_sign_ins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
        params![password_hash, must_change, now.micros(), id],
    )?;
    Ok(())
}

/// Counts a failed sign-in; locks the account for `lock_seconds` at the `limit`-th in a row.
pub fn record_failure(tx: &mut dyn Tx, id: i64, limit: i64, lock_until: Timestamp) -> Result<bool, DbError> {
    tx.execute("UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = ?", params![id])?;
    let failures = tx.query_one("SELECT failed_sign_ins FROM users WHERE id = ?", params![id])?.int(0)?;
    if failures >= limit {
        tx.execute(
            "UPDATE users SET locked_until = ?, failed_sign_ins = 0 WHERE id = ?",
            params![lock_until.micros(), id],
        )?;
        return Ok(true);
    }
    Ok(false)
}

pub fn record_success(tx: &mut dyn Tx, id: i64) -> Result<(), DbError> {
    tx.execute("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = ?", params![id])?;
    Ok(())
}

pub fn set_locale(tx: &mut dyn Tx, id: i64, locale: &str) -> Result<(), DbError> {
    tx.execute("UPDATE users SET locale = ? WHERE id = ?", params![locale, id])?;
    Ok(())
}

/// A new session; `pending` ones wait for the second factor and open no page yet.
pub fn insert_session(
    tx: &mut dyn Tx,
    token_hash: &str,
    user_id: i64,
    now: Timestamp,
    expires: Timestamp,
    pending: bool,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, second_factor_pending) VALUES (?, ?, ?, ?, ?)",
        params![token_hash, user_id, now.micros(), expires.micros(), pending],
    )?;
    Ok(())
}

/// The user of a session that still waits for its second factor.
pub fn pending_session_user(tx: &mut dyn Tx, token_hash: &str, now: Timestamp) -> Result<Option<i64>, DbError> {
    tx.query_opt(
        "SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ? AND second_factor_pending = 1",
        params![token_hash, now.micros()],
    )?
    .map(|r| r.int(0))
    .transpose()
}

pub fn complete_session(tx: &mut dyn Tx, token_hash: &str) -> Result<(), DbError> {
    tx.execute("UPDATE sessions SET second_factor_pending = 0 WHERE token_hash = ?", params![token_hash])?;
    Ok(())
}

/// A user's authenticator secrets, base32.
pub struct TotpState {
    pub enabled: Option<String>,
    /// A secret being enrolled, not yet confirmed with a code.
    pub pending: Option<String>,
    /// The last time step a code was accepted for (no replays).
    pub last_step: Option<i64>,
}

pub fn totp_state(tx: &mut dyn Tx, id: i64) -> Result<TotpState, DbError> {
    let row = tx.query_one("SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = ?", params![id])?;
    Ok(TotpState { enabled: row.opt_text(0)?, pending: row.opt_text(1)?, last_step: row.opt_int(2)? })
}

pub fn set_totp(
    tx: &mut dyn Tx,
    id: i64,
    secret: Option<&str>,
    pending: Option<&str>,
    last_step: Option<i64>,
) -> Result<(), DbError> {
    tx.execute(
        "UPDATE users SET totp_secret = ?, totp_pending = ?, totp_last_step = ? WHERE id = ?",
        params![secret, pending, last_step, id],
    )?;
    Ok(())
}

pub fn replace_recovery_codes(tx: &mut dyn Tx, id: i64, hashes: &[String]) -> Result<(), DbError> {
    tx.execute("DELETE FROM recovery_codes WHERE user_id = ?", params![id])?;
    for hash in hashes {
        tx.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", params![id, hash.as_str()])?;
    }
    Ok(())
}

/// Uses up a recovery code; false if it is unknown or already used.
pub fn use_recovery_code(tx: &mut dyn Tx, id: i64, hash: &str, now: Timestamp) -> Result<bool, DbError> {
    let used = tx.execute(
        "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
        params![now.micros(), id, hash],
    )?;
    Ok(used == 1)
}

pub fn set_roles(tx: &mut dyn Tx, id: i64, roles: &[Role], now: Timestamp) -> Result<(), DbError> {
    tx.execute(
        "UPDATE users SET roles = ?, updated_at = ? WHERE id = ?",
        params![format_roles(roles), now.micros(), id],
    )?;
    Ok(())
}

pub fn session_user(tx: &mut dyn Tx, token_hash: &str, now: Timestamp) -> Result<Option<User>, DbError> {
    let sql = format!(
        "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0 AND s.second_factor_pending = 0",
        COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
    );
    tx.query_opt(&sql, params![token_hash, now.micros()])?.as_ref().map(|r| credentials(r).map(|c| c.user)).transpose()
}

pub fn delete_session(tx: &mut dyn Tx, token_hash: &str) -> Result<(), DbError> {
    tx.execute("DELETE FROM sessions WHERE token_hash = ?", params![token_hash])?;
    Ok(())
}

pub fn delete_sessions_of(tx: &mut dyn Tx, user_id: i64) -> Result<(), DbError> {
    tx.execute("DELETE FROM sessions WHERE user_id = ?", params![user_id])?;
    Ok(())
}
