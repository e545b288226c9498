//! Online payment providers. Each is an adapter behind one trait: open a payment session
//! (redirect or QR), verify a signed callback, capture, void and refund. Ordo ships the
//! sandbox provider, which runs inside Ordo with its own pay page, so the whole flow can be
//! tried end to end; Alipay, WeChat Pay or Stripe would be further adapters.

use crate::db::{DbError, Tx};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a provider needs to open a payment session.
pub struct SessionRequest<'a> {
    pub payment_id: i64,
    pub order_number: &'a str,
    pub amount: Decimal,
    pub currency: Currency,
    /// Authorise only; capture later.
    pub manual_capture: bool,
}

/// Where the customer pays: a page to redirect to, which also serves as the QR content.
pub struct Session {
    pub provider_ref: String,
    pub redirect_url: String,
}

/// What a verified callback says happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    Authorized,
    Captured,
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    /// Unique per callback: a second delivery of the same event changes nothing.
    pub event_id: String,
    pub provider_ref: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The amount the provider handled, as a string.
    pub amount: String,
}

/// Callbacks older than this are refused, so a captured one cannot be replayed later.
pub const CALLBACK_TOLERANCE_SECONDS: i64 = crate::signing::TOLERANCE_SECONDS;

pub trait PaymentProvider {
    fn code(&self) -> &'static str;
    fn create_session(&self, request: &SessionRequest) -> Result<Session, String>;
    /// Checks the signature and age of a callback and reads it.
    fn verify_callback(&self, signature: Option<&str>, body: &[u8], now: Timestamp) -> Result<Callback, String>;
    fn capture(&self, provider_ref: &str, amount: Decimal) -> Result<(), String>;
    fn void(&self, provider_ref: &str) -> Result<(), String>;
    /// Pays money back; returns the provider's refund reference.
    fn refund(&self, provider_ref: &str, amount: Decimal) -> Result<String, String>;
}

pub fn known(code: &str) -> bool {
    code == "sandbox"
}

/// The adapter for a provider code, with its secrets.
pub fn provider(tx: &mut dyn Tx, code: &str) -> Result<Option<Box<dyn PaymentProvider>>, DbError> {
    Ok(match code {
        "sandbox" => Some(Box::new(Sandbox { secret: sandbox_secret(tx)? })),
        _ => None,
    })
}

const SANDBOX_SECRET: &str = "sandbox_secret";

/// The sandbox's signing secret, made on first use and kept in the settings.
pub fn sandbox_secret(tx: &mut dyn Tx) -> Result<String, DbError> {
    crate::signing::secret(tx, SANDBOX_SECRET, "whsec_")
}

pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| format!("no randomness: {e}"))?;
    Ok(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

/// The in-process provider: its pay page is `/sandbox/pay/{ref}`, and it signs callbacks
/// the way real providers do (`Ordo-Signature: t=UNIX,v1=HMAC-SHA256(secret, "t.body")`).
pub struct Sandbox {
    pub secret: String,
}

impl Sandbox {
    /// The signature header for a callback body sent at `now`.
    pub fn sign(&self, body: &[u8], now: Timestamp) -> String {
        crate::signing::sign(&self.secret, body, now)
    }
}

impl PaymentProvider for Sandbox {
    fn code(&self) -> &'static str {
        "sandbox"
    }

    fn create_session(&self, _request: &SessionRequest) -> Result<Session, String> {
        let provider_ref = format!("sbx_{}", random_hex(12)?);
        Ok(Session { redirect_url: format!("/sandbox/pay/{provider_ref}"), provider_ref })
    }

    fn verify_callback(&self, signature: Option<&str>, body: &[u8], now: Timestamp) -> Result<Callback, String> {
        crate::signing::verify(&self.secret, signature, body, now)?;
        serde_json::from_slice(body).map_err(|e| format!("unreadable callback: {e}"))
    }

    fn capture(&self, _provider_ref: &str, _amount: Decimal) -> Result<(), String> {
        Ok(())
    }

    fn void(&self, _provider_ref: &str) -> Result<(), String> {
        Ok(())
    }

    fn refund(&self, provider_ref: &str, _amount: Decimal) -> Result<String, String> {
        Ok(format!("{provider_ref}_re_{}", random_hex(4)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callback() -> Vec<u8> {
        br#"{"event_id":"evt_1","provider_ref":"sbx_1","outcome":"captured","amount":"10.00"}"#.to_vec()
    }

    #[test]
    fn a_signed_callback_verifies_and_a_forged_or_stale_one_does_not() {
        let sandbox = Sandbox { secret: "whsec_test".into() };
        let now = Timestamp::parse("2026-11-24T10:00:00Z").unwrap();
        let signature = sandbox.sign(&callback(), now);
        let read = sandbox.verify_callback(Some(&signature), &callback(), now).unwrap();
        assert_eq!(read.outcome, Outcome::Captured);
        let mut tampered = callback();
        tampered[60] ^= 1;
        assert!(sandbox.verify_callback(Some(&signature), &tampered, now).is_err());
        let other = Sandbox { secret: "whsec_other".into() }.sign(&callback(), now);
        assert!(sandbox.verify_callback(Some(&other), &callback(), now).is_err());
        let later = now.plus_seconds(CALLBACK_TOLERANCE_SECONDS + 1);
        assert!(sandbox.verify_callback(Some(&signature), &callback(), later).unwrap_err().contains("old"));
    }
}
