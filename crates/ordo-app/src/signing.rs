//! Signed callbacks and deliveries: `Ordo-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`,
//! the one scheme for the payment sandbox, carrier tracking webhooks and (later) webhooks
//! Ordo sends. A signature older than the tolerance is refused, so a captured request
//! cannot be replayed later.

use hmac::{Hmac, KeyInit, Mac};
use ordo_domain::Timestamp;
use sha2::Sha256;

/// Seconds a signature stays valid either side of now.
pub const TOLERANCE_SECONDS: i64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// The header value for a body sent at `now`.
pub fn sign(secret: &str, body: &[u8], now: Timestamp) -> String {
    let t = now.micros() / 1_000_000;
    let digest = mac(secret, t, body).map(|m| m.finalize().into_bytes().to_vec()).unwrap_or_default();
    format!("t={t},v1={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Checks a header against the body; the error says what is wrong, for the caller's log.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8], now: Timestamp) -> Result<(), String> {
    let header = header.ok_or("no Ordo-Signature header")?;
    let mut timestamp = None;
    let mut digest = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => digest = unhex(v),
            _ => {}
        }
    }
    let (Some(timestamp), Some(digest)) = (timestamp, digest) else {
        return Err("the signature header must be t=…,v1=…".into());
    };
    let age = now.micros() / 1_000_000 - timestamp;
    if !(-TOLERANCE_SECONDS..=TOLERANCE_SECONDS).contains(&age) {
        return Err(format!("the callback is {age} s old; at most {TOLERANCE_SECONDS} s are accepted"));
    }
    let mac = mac(secret, timestamp, body).ok_or("no signing key")?;
    // Constant-time comparison, so the signature cannot be guessed byte by byte.
    mac.verify_slice(&digest).map_err(|_| "the signature does not match".to_string())
}

/// A tag that binds `message` to `secret` (hex HMAC-SHA256), for links that must not be
/// forgeable (portal invitations).
pub fn tag(secret: &str, message: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `tag_hex` is `message`'s tag, compared in constant time.
pub fn tag_matches(secret: &str, message: &str, tag_hex: &str) -> bool {
    let (Ok(mut mac), Some(tag)) = (Hmac::<Sha256>::new_from_slice(secret.as_bytes()), unhex(tag_hex)) else {
        return false;
    };
    mac.update(message.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

/// A secret kept in the settings under `name`, made on first use.
pub fn secret(tx: &mut dyn crate::db::Tx, name: &str, prefix: &str) -> Result<String, crate::db::DbError> {
    if let Some(secret) = crate::settings::document(tx, name)? {
        return Ok(secret);
    }
    let mut buffer = [0u8; 24];
    getrandom::fill(&mut buffer).map_err(|e| crate::db::DbError::Other(format!("no randomness: {e}")))?;
    let secret = format!("{prefix}{}", buffer.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let ctx = crate::common::Ctx::new("system", "system");
    crate::settings::store_document(tx, &ctx, name, &secret)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_out_until_it_is_stale_or_the_body_changes() {
        let now = Timestamp(1_800_000_000_000_000);
        let header = sign("s3cret", b"{\"a\":1}", now);
        assert!(verify("s3cret", Some(&header), b"{\"a\":1}", now).is_ok());
        assert!(verify("s3cret", Some(&header), b"{\"a\":2}", now).is_err());
        assert!(verify("other", Some(&header), b"{\"a\":1}", now).is_err());
        assert!(verify("s3cret", Some(&header), b"{\"a\":1}", now.plus_seconds(301)).is_err());
        assert!(verify("s3cret", None, b"", now).is_err());
    }
}
