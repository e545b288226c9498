//! An example ERP consumer: a durable JetStream consumer on Ordo's `ORDO` stream that
//! turns events into the documents an ERP books, acknowledging each only once it is
//! handled, and skipping events it has already seen (delivery is at least once).
//!
//! Run Ordo with `ordo serve --nats-url nats://127.0.0.1:4222`, then:
//! `cargo run -p ordo-connect --example erp_consumer -- nats://127.0.0.1:4222`

use async_nats::jetstream::{self, consumer::pull};
use std::collections::HashSet;

/// What an ERP typically makes of each Ordo event.
fn erp_document(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "order.confirmed" => "sales order",
        "order.cancelled" => "sales order cancellation",
        "shipment.shipped" => "delivery note (goods issue)",
        "invoice.issued" => "customer invoice (AR posting)",
        "payment.received" => "incoming payment (cash receipt)",
        "refund.issued" => "outgoing payment (refund)",
        "return.received" => "return delivery (goods receipt)",
        _ => return None,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let client = async_nats::connect(&url).await?;
    let stream = jetstream::new(client).get_stream("ORDO").await?;
    // Durable: after a restart the consumer goes on where it stopped.
    let consumer = stream
        .get_or_create_consumer(
            "erp",
            pull::Config {
                durable_name: Some("erp".into()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;
    // A real consumer keeps the ids it has booked in its own database, in the same
    // transaction as the booking.
    let mut booked: HashSet<i64> = HashSet::new();
    let mut messages = consumer.messages().await?;
    use futures_util::StreamExt;
    while let Some(message) = messages.next().await {
        let message = message?;
        let event: serde_json::Value = serde_json::from_slice(&message.payload)?;
        let (id, kind) = (event["id"].as_i64().unwrap_or(0), event["type"].as_str().unwrap_or(""));
        if booked.insert(id) {
            match erp_document(kind) {
                Some(document) => println!("event {id} {kind}: book a {document} for {}", event["data"]),
                None => println!("event {id} {kind}: nothing to book"),
            }
        }
        message.ack().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
