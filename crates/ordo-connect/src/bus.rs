//! The message bus: every event published to `ordo.<type>` with its event id as the
//! message id, so the broker drops a redelivered duplicate. NATS JetStream is the one
//! adapter; Kafka or RabbitMQ would be another `Publisher`.

use ordo_app::integrations::DueDelivery;
use std::future::Future;
use std::pin::Pin;

pub type Published<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

pub trait Publisher: Send + Sync {
    /// Publishes and waits until the broker has stored the message.
    fn publish<'a>(&'a self, subject: &'a str, message_id: &'a str, body: Vec<u8>) -> Published<'a>;
}

pub async fn send(bus: &dyn Publisher, delivery: &DueDelivery) -> (Option<i64>, Option<String>) {
    let body = delivery.event.envelope().to_string().into_bytes();
    match bus.publish(&delivery.recipient, &delivery.event.id.to_string(), body).await {
        Ok(()) => (None, None),
        Err(e) => (None, Some(e)),
    }
}

/// JetStream: the `ORDO` stream holds `ordo.>`; consumers create their own durable
/// consumers on it.
pub struct NatsPublisher {
    jetstream: async_nats::jetstream::Context,
    /// This installation's id: message ids are `<installation>-<event id>`, so two
    /// installations (or a rebuilt database) on one stream are never taken for duplicates.
    installation: String,
}

pub const STREAM: &str = "ORDO";

impl NatsPublisher {
    pub async fn connect(url: &str, installation: &str) -> Result<NatsPublisher, String> {
        let client = async_nats::connect(url).await.map_err(|e| format!("cannot reach NATS at {url}: {e}"))?;
        let jetstream = async_nats::jetstream::new(client);
        jetstream
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: STREAM.to_string(),
                subjects: vec!["ordo.>".to_string()],
                ..Default::default()
            })
            .await
            .map_err(|e| format!("cannot create the {STREAM} stream: {e}"))?;
        Ok(NatsPublisher { jetstream, installation: installation.to_string() })
    }
}

impl Publisher for NatsPublisher {
    fn publish<'a>(&'a self, subject: &'a str, message_id: &'a str, body: Vec<u8>) -> Published<'a> {
        Box::pin(async move {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", format!("{}-{message_id}", self.installation).as_str());
            let ack = self
                .jetstream
                .publish_with_headers(subject.to_string(), headers, body.into())
                .await
                .map_err(|e| format!("NATS publish: {e}"))?;
            ack.await.map_err(|e| format!("NATS did not store it: {e}"))?;
            Ok(())
        })
    }
}
