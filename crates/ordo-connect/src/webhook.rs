//! Webhook calls: `POST url` with `{id, type, created_at, data}`, signed
//! `Ordo-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`, the event id in
//! `Ordo-Event-Id`. Any 2xx answer is a success; anything else is retried. A channel's
//! status callback is sent the same way, with the body made for its partner.

use ordo_app::integrations::DueDelivery;
use ordo_domain::Timestamp;
use std::time::Duration;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("Ordo-Webhooks/", env!("CARGO_PKG_VERSION")))
        // A receiver must not send us elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The receiver's status code (if it answered) and the error, if the attempt failed.
pub async fn send(http: &reqwest::Client, delivery: &DueDelivery, timeout: Duration) -> (Option<i64>, Option<String>) {
    let (body, kind) = match (delivery.channel.as_str(), &delivery.body, &delivery.subject) {
        (ordo_app::integrations::CALLBACK, Some(body), Some(kind)) => (body.clone(), kind.as_str()),
        _ => (delivery.event.envelope().to_string(), delivery.event.kind.as_str()),
    };
    let secret = delivery.secret.clone().unwrap_or_default();
    let signature = ordo_app::signing::sign(&secret, body.as_bytes(), Timestamp::now());
    let sent = http
        .post(&delivery.recipient)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("ordo-signature", signature)
        .header("ordo-event-id", delivery.event.id.to_string())
        .header("ordo-event-type", kind)
        .header("ordo-delivery-attempt", (delivery.attempts + 1).to_string())
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16() as i64), None),
        Ok(response) => {
            let status = response.status();
            (Some(status.as_u16() as i64), Some(format!("HTTP {status}")))
        }
        Err(error) if error.is_timeout() => (None, Some(format!("no answer within {} s", timeout.as_secs()))),
        Err(error) => (None, Some(format!("could not reach the receiver: {error}"))),
    }
}
