//! User use cases. Hashing and verifying passwords is slow on purpose, so it happens
//! outside any transaction: callers hash first and pass the hash in, and sign-in reads the
//! credentials, verifies them, then records the outcome in a short write.

use super::model::*;
use super::store;
use super::totp;
use crate::audit;
use crate::common::Ctx;
use crate::db::Tx;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use ordo_domain::Timestamp;
use ordo_domain::auth::{Role, parse_roles};
use ordo_domain::validation::{FieldError, Violations, optional_text, required_text};

/// Failed sign-ins in a row before the account is locked, and for how long.
pub const LOCK_AFTER_FAILURES: i64 = 5;
pub const LOCK_SECONDS: i64 = 15 * 60;
pub const SESSION_SECONDS: i64 = 12 * 3600;
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn hash_password(password: &str) -> Result<String, UserError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hashing(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn random_text(bytes: usize, alphabet: &[u8]) -> Result<String, UserError> {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).map_err(|e| UserError::Hashing(format!("no randomness: {e}")))?;
    Ok(raw.iter().map(|b| alphabet[*b as usize % alphabet.len()] as char).collect())
}

/// Hashes on a blocking thread, so argon2's deliberate slowness never stalls async work.
pub async fn hash_off_thread(password: &str) -> Result<String, UserError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| UserError::Hashing(format!("hashing task failed: {e}")))?
}

/// Creates a user with a fresh one-time password and returns that password (for the
/// CLI and the admin page alike).
pub async fn add_user(
    db: &crate::Database,
    ctx: &Ctx,
    email: &str,
    name: Option<&str>,
    roles: &str,
) -> Result<(User, String), UserError> {
    let password = one_time_password()?;
    let hash = hash_off_thread(&password).await?;
    let (ctx, email, name, roles) = (ctx.clone(), email.to_string(), name.map(str::to_string), roles.to_string());
    let user = db
        .write(move |tx| {
            let input =
                NewUser { email: &email, name: name.as_deref(), roles: &roles, locale: None, password_hash: &hash };
            create_user(tx, &ctx, &input)
        })
        .await?;
    Ok((user, password))
}

/// Gives a user a new one-time password (signing them out everywhere) and returns it.
pub async fn issue_one_time_password(db: &crate::Database, ctx: &Ctx, email: &str) -> Result<String, UserError> {
    let password = one_time_password()?;
    let hash = hash_off_thread(&password).await?;
    let (ctx, email) = (ctx.clone(), email.to_string());
    db.write(move |tx| reset_password(tx, &ctx, &email, &hash)).await?;
    Ok(password)
}

/// A one-time password that is easy to read out: no 0/O or 1/l.
pub fn one_time_password() -> Result<String, UserError> {
    random_text(16, b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789")
}

/// A session token (256 random bits) and its hash, which is all that is stored.
pub fn new_session_token() -> Result<(String, String), UserError> {
    let token = random_text(43, b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")?;
    let hash = crate::auth::service::hash_token(&token);
    Ok((token, hash))
}

pub fn parse_email(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    let email = required_text(field, value, 200)?.to_lowercase();
    let plausible = email.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
    if plausible { Ok(email) } else { Err(FieldError::new(field, "must be an e-mail address such as ana@example.com")) }
}

/// Input of `create_user`; the password hash is made by the caller, outside the transaction.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub roles: &'a str,
    pub locale: Option<&'a str>,
    pub password_hash: &'a str,
}

pub fn create_user(tx: &mut dyn Tx, ctx: &Ctx, input: &NewUser) -> Result<User, UserError> {
    let mut v = Violations::new();
    let email = v.check(parse_email("email", Some(input.email)));
    let name = v.check(optional_text("name", input.name, 200));
    let roles = parse_roles(input.roles);
    if roles.is_empty() || input.roles.split(',').any(|r| Role::parse(r).is_none()) {
        v.add("role", format!("must be one or more of {}", Role::choices()));
    }
    let locale = input.locale.unwrap_or("en");
    if !LOCALES.contains(&locale) {
        v.add("locale", format!("must be one of {}", LOCALES.join(", ")));
    }
    v.into_result()?;
    let (Some(email), Some(name)) = (email, name) else { unreachable!("checked above") };
    if store::by_email(tx, &email)?.is_some() {
        return Err(UserError::EmailTaken(email));
    }
    let display = name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
    let id = store::insert(tx, &email, &display, &roles, locale, input.password_hash, ctx.now)?;
    audit::record(tx, ctx, "users", "user.created", &email, &format!("roles {}", input.roles))?;
    Ok(store::by_id(tx, id)?.ok_or(UserError::NotFound(email))?.user)
}

/// Sets a new one-time password (hashed by the caller) and ends the user's sessions.
pub fn reset_password(tx: &mut dyn Tx, ctx: &Ctx, email: &str, password_hash: &str) -> Result<User, UserError> {
    let email = email.trim().to_lowercase();
    let user = store::by_email(tx, &email)?.ok_or_else(|| UserError::NotFound(email.clone()))?.user;
    store::set_password(tx, user.id, password_hash, true, ctx.now)?;
    store::delete_sessions_of(tx, user.id)?;
    audit::record(tx, ctx, "users", "user.password_reset", &email, "one-time password issued")?;
    Ok(user)
}

pub fn change_password(tx: &mut dyn Tx, ctx: &Ctx, user_id: i64, password_hash: &str) -> Result<(), UserError> {
    let user = store::by_id(tx, user_id)?.ok_or_else(|| UserError::NotFound(user_id.to_string()))?.user;
    store::set_password(tx, user_id, password_hash, false, ctx.now)?;
    audit::record(tx, ctx, "users", "user.password_changed", &user.email, "password changed").map_err(UserError::from)
}

/// Checks a new password's strength before it is hashed.
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), ordo_domain::Invalid> {
    let mut v = Violations::new();
    if password.chars().count() < MIN_PASSWORD_CHARS {
        v.add("password", format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if password != confirm {
        v.add("confirm", "does not match the password");
    }
    v.into_result()
}

/// The stored credentials for sign-in, or None for an unknown or disabled account.
pub fn credentials(tx: &mut dyn Tx, email: &str) -> Result<Option<Credentials>, UserError> {
    Ok(store::by_email(tx, &email.trim().to_lowercase())?.filter(|c| !c.user.disabled))
}

/// The outcome of a sign-in attempt. A refusal is a result, not an error, so the
/// transaction that counted the failure commits.
pub enum SignIn {
    Accepted {
        token: String,
        user: User,
    },
    /// The password was right; the session opens once an authenticator code is given.
    SecondFactor {
        token: String,
    },
    Refused(UserError),
}

/// Records a sign-in attempt whose password was checked by the caller. On success
/// returns a new session token; on failure counts it and may lock the account.
pub fn finish_sign_in(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    email: &str,
    user_id: Option<i64>,
    password_ok: bool,
) -> Result<SignIn, UserError> {
    let Some(user_id) = user_id else {
        audit::record(tx, ctx, "users", "sign_in.failed", email, "unknown e-mail")?;
        return Ok(SignIn::Refused(UserError::WrongCredentials));
    };
    let Some(current) = store::by_id(tx, user_id)? else { return Ok(SignIn::Refused(UserError::WrongCredentials)) };
    if let Some(until) = current.locked_until.filter(|until| *until > ctx.now) {
        audit::record(tx, ctx, "users", "sign_in.refused", email, "account locked")?;
        return Ok(SignIn::Refused(UserError::Locked(until)));
    }
    if !password_ok {
        let locked = store::record_failure(tx, user_id, LOCK_AFTER_FAILURES, ctx.now.plus_seconds(LOCK_SECONDS))?;
        let summary = if locked { "wrong password; account locked" } else { "wrong password" };
        audit::record(tx, ctx, "users", "sign_in.failed", email, summary)?;
        return Ok(SignIn::Refused(UserError::WrongCredentials));
    }
    let (token, hash) = new_session_token()?;
    if current.user.two_factor {
        // Five minutes to give the code; wrong codes count towards the lock as well.
        store::insert_session(tx, &hash, user_id, ctx.now, ctx.now.plus_seconds(300), true)?;
        audit::record(tx, ctx, "users", "sign_in.password_ok", email, "waiting for the second factor")?;
        return Ok(SignIn::SecondFactor { token });
    }
    store::record_success(tx, user_id)?;
    store::insert_session(tx, &hash, user_id, ctx.now, ctx.now.plus_seconds(SESSION_SECONDS), false)?;
    audit::record(tx, ctx, "users", "sign_in", email, "signed in")?;
    Ok(SignIn::Accepted { token, user: current.user })
}

/// A new session for a user whose identity was just proven another way (an accepted
/// invitation); returns its token.
pub fn open_session(tx: &mut dyn Tx, ctx: &Ctx, user_id: i64) -> Result<String, UserError> {
    let (token, hash) = new_session_token()?;
    store::insert_session(tx, &hash, user_id, ctx.now, ctx.now.plus_seconds(SESSION_SECONDS), false)?;
    Ok(token)
}

/// Second step of sign-in: an authenticator code, or a one-time recovery code.
pub fn finish_second_factor(tx: &mut dyn Tx, ctx: &Ctx, token: &str, code: &str) -> Result<SignIn, UserError> {
    let hash = crate::auth::service::hash_token(token);
    let Some(user_id) = store::pending_session_user(tx, &hash, ctx.now)? else {
        return Ok(SignIn::Refused(UserError::WrongCredentials));
    };
    let current = store::by_id(tx, user_id)?.ok_or(UserError::WrongCredentials)?;
    let email = current.user.email.clone();
    if let Some(until) = current.locked_until.filter(|until| *until > ctx.now) {
        store::delete_session(tx, &hash)?;
        return Ok(SignIn::Refused(UserError::Locked(until)));
    }
    let state = store::totp_state(tx, user_id)?;
    let last_step = state.last_step;
    let secret = state.enabled.and_then(|s| totp::base32_decode(&s)).unwrap_or_default();
    let unix = ctx.now.micros() / 1_000_000;
    let accepted = match totp::matching_step(&secret, code, unix, last_step) {
        Some(step) => {
            store::set_totp(tx, user_id, Some(&totp::base32(&secret)), None, Some(step))?;
            true
        }
        None => store::use_recovery_code(tx, user_id, &recovery_hash(code), ctx.now)?,
    };
    if !accepted {
        let locked = store::record_failure(tx, user_id, LOCK_AFTER_FAILURES, ctx.now.plus_seconds(LOCK_SECONDS))?;
        if locked {
            store::delete_session(tx, &hash)?;
        }
        audit::record(tx, ctx, "users", "sign_in.failed", &email, "wrong second-factor code")?;
        return Ok(SignIn::Refused(UserError::WrongCode));
    }
    store::record_success(tx, user_id)?;
    store::complete_session(tx, &hash)?;
    audit::record(tx, ctx, "users", "sign_in", &email, "signed in with a second factor")?;
    Ok(SignIn::Accepted { token: token.to_string(), user: current.user })
}

fn recovery_hash(code: &str) -> String {
    let normalised: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    crate::auth::service::hash_token(&normalised)
}

/// Starts enrolment: a new secret, kept aside until a code from it is confirmed.
/// Returns the secret in base32 and the `otpauth://` URI for the QR code.
pub fn start_two_factor(tx: &mut dyn Tx, user_id: i64) -> Result<(String, String), UserError> {
    let user = store::by_id(tx, user_id)?.ok_or_else(|| UserError::NotFound(user_id.to_string()))?.user;
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret).map_err(|e| UserError::Hashing(format!("no randomness: {e}")))?;
    let encoded = totp::base32(&secret);
    let state = store::totp_state(tx, user_id)?;
    store::set_totp(tx, user_id, state.enabled.as_deref(), Some(&encoded), state.last_step)?;
    let uri = totp::otpauth_uri("Ordo", &user.email, &encoded);
    Ok((encoded, uri))
}

/// Turns two-factor sign-in on once a code from the new secret checks out; returns ten
/// one-time recovery codes, shown once and stored hashed.
pub fn confirm_two_factor(tx: &mut dyn Tx, ctx: &Ctx, user_id: i64, code: &str) -> Result<Vec<String>, UserError> {
    let Some(pending) = store::totp_state(tx, user_id)?.pending else {
        return Err(ordo_domain::Invalid::field("code", "start the set-up first").into());
    };
    let secret = totp::base32_decode(&pending).unwrap_or_default();
    let Some(step) = totp::matching_step(&secret, code, ctx.now.micros() / 1_000_000, None) else {
        return Err(
            ordo_domain::Invalid::field("code", "that code does not match; check the time on your phone").into()
        );
    };
    store::set_totp(tx, user_id, Some(&pending), None, Some(step))?;
    let mut codes = Vec::with_capacity(10);
    for _ in 0..10 {
        let raw = random_text(10, b"abcdefghijkmnpqrstuvwxyz23456789")?;
        codes.push(format!("{}-{}", &raw[..5], &raw[5..]));
    }
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    store::replace_recovery_codes(tx, user_id, &hashes)?;
    let email = store::by_id(tx, user_id)?.map(|c| c.user.email).unwrap_or_default();
    audit::record(tx, ctx, "users", "two_factor.enabled", &email, "authenticator enrolled, 10 recovery codes issued")?;
    Ok(codes)
}

/// Turns two-factor sign-in off; needs a current code (or a recovery code).
pub fn disable_two_factor(tx: &mut dyn Tx, ctx: &Ctx, user_id: i64, code: &str) -> Result<(), UserError> {
    let state = store::totp_state(tx, user_id)?;
    let last = state.last_step;
    let secret = state.enabled.and_then(|s| totp::base32_decode(&s)).unwrap_or_default();
    let ok = totp::matching_step(&secret, code, ctx.now.micros() / 1_000_000, last).is_some()
        || store::use_recovery_code(tx, user_id, &recovery_hash(code), ctx.now)?;
    if !ok {
        return Err(ordo_domain::Invalid::field("code", "that code is not valid").into());
    }
    store::set_totp(tx, user_id, None, None, None)?;
    store::replace_recovery_codes(tx, user_id, &[])?;
    let email = store::by_id(tx, user_id)?.map(|c| c.user.email).unwrap_or_default();
    audit::record(tx, ctx, "users", "two_factor.disabled", &email, "two-factor sign-in turned off")
        .map_err(UserError::from)
}

/// Replaces a user's roles (an admin's action).
pub fn set_roles(tx: &mut dyn Tx, ctx: &Ctx, user_id: i64, roles: &str) -> Result<User, UserError> {
    let parsed = parse_roles(roles);
    if parsed.is_empty() || roles.split(',').any(|r| Role::parse(r).is_none()) {
        return Err(ordo_domain::Invalid::field("roles", format!("must be one or more of {}", Role::choices())).into());
    }
    let user = store::by_id(tx, user_id)?.ok_or_else(|| UserError::NotFound(user_id.to_string()))?.user;
    store::set_roles(tx, user_id, &parsed, ctx.now)?;
    audit::record(tx, ctx, "users", "user.roles_changed", &user.email, &format!("roles {roles}"))?;
    Ok(store::by_id(tx, user_id)?.ok_or(UserError::NotFound(user.email))?.user)
}

pub fn user_by_id(tx: &mut dyn Tx, user_id: i64) -> Result<User, UserError> {
    Ok(store::by_id(tx, user_id)?.ok_or_else(|| UserError::NotFound(user_id.to_string()))?.user)
}

/// The signed-in user of a session token, if the session is live.
pub fn session_user(tx: &mut dyn Tx, token: &str, now: Timestamp) -> Result<Option<User>, UserError> {
    Ok(store::session_user(tx, &crate::auth::service::hash_token(token), now)?)
}

pub fn sign_out(tx: &mut dyn Tx, ctx: &Ctx, token: &str) -> Result<(), UserError> {
    store::delete_session(tx, &crate::auth::service::hash_token(token))?;
    audit::record(tx, ctx, "users", "sign_out", &ctx.actor, "signed out").map_err(UserError::from)
}

pub fn set_locale(tx: &mut dyn Tx, user_id: i64, locale: &str) -> Result<(), UserError> {
    if !LOCALES.contains(&locale) {
        return Err(ordo_domain::Invalid::field("locale", format!("must be one of {}", LOCALES.join(", "))).into());
    }
    Ok(store::set_locale(tx, user_id, locale)?)
}

pub fn list_users(tx: &mut dyn Tx) -> Result<Vec<User>, UserError> {
    Ok(store::list(tx)?)
}

/// Whether the database has no users yet (first start).
pub fn none_yet(tx: &mut dyn Tx) -> Result<bool, UserError> {
    Ok(store::count(tx)? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn new_passwords_must_be_long_and_confirmed() {
        assert!(check_new_password("short", "short").is_err());
        assert_eq!(check_new_password("long enough pw", "long enough px").unwrap_err().0[0].field, "confirm");
        assert!(check_new_password("long enough pw", "long enough pw").is_ok());
    }

    #[test]
    fn one_time_passwords_are_long_and_unambiguous() {
        let pw = one_time_password().unwrap();
        assert_eq!(pw.len(), 16);
        assert!(!pw.contains(['0', 'O', '1', 'l']));
    }
}
