//! The senders behind the outbox. Each pass: fan new events out (one process at a time,
//! under a lease), claim due deliveries for a while, send them concurrently outside any
//! database transaction, and record how each went. Safe with several `ordo serve`
//! processes on one database; at least once, in order per destination and aggregate.

pub mod bus;
pub mod mail;
pub mod webhook;

use ordo_app::Database;
use ordo_app::integrations::{self, Attempt, DueDelivery};
use ordo_domain::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use bus::{NatsPublisher, Publisher};

/// Makes ring the TLS provider for every client in the process (webhooks, SMTP, NATS).
/// Call once at start; later calls do nothing.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How the senders run.
#[derive(Clone)]
pub struct Options {
    /// Pause between passes when there was nothing to do.
    pub idle: Duration,
    /// Pause after a pass that found work but did not fill a batch.
    pub busy_pause: Duration,
    /// Deliveries claimed per pass.
    pub batch: i64,
    /// Calls in flight at once to one webhook (or the mail server, or the bus), so a
    /// receiver is not flooded.
    pub per_destination: usize,
    pub bus: Option<Arc<dyn Publisher>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idle: Duration::from_millis(500),
            busy_pause: Duration::from_millis(100),
            batch: 256,
            per_destination: 32,
            bus: None,
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassReport {
    pub dispatched: usize,
    pub sent: usize,
    pub failed: usize,
}

static CLAIMS: AtomicU64 = AtomicU64::new(0);

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// This process's name in leases and claims.
fn holder() -> String {
    format!("{}-{:08x}", std::process::id(), random_u64() as u32)
}

/// Runs passes until the task is dropped.
pub async fn run_forever(db: Database, options: Options) {
    let me = holder();
    let http = webhook::client();
    let mut reports_checked: Option<Instant> = None;
    loop {
        // Scheduled reports: looked at once a minute, not on every pass.
        if reports_checked.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            reports_checked = Some(Instant::now());
            match mail_reports(&db, &me).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "scheduled reports written"),
                Err(error) => tracing::warn!(%error, "scheduled reports failed; will retry"),
            }
        }
        match pass(&db, &options, &me, &http).await {
            Ok(report) if report.dispatched + report.sent + report.failed > 0 => {
                tracing::debug!(?report, "outbox pass");
                // A short breath between busy passes lets events gather into bigger
                // batches, so fanning out takes few write transactions from the orders.
                if report.sent + report.failed < options.batch as usize {
                    tokio::time::sleep(options.busy_pause).await;
                }
            }
            Ok(_) => tokio::time::sleep(options.idle).await,
            Err(error) => {
                tracing::warn!(%error, "outbox pass failed; will retry");
                tokio::time::sleep(options.idle).await;
            }
        }
    }
}

/// Writes the scheduled reports whose period has ended, once: under a lease so one process
/// does it, the reports computed in a read, recorded (with their outbox event) in a write.
/// The mailer sends them like any other message.
pub async fn mail_reports(db: &Database, me: &str) -> Result<usize, ordo_app::reports::ReportError> {
    let holder = me.to_string();
    let leased = db.write(move |tx| ordo_app::jobs::claim(tx, "report-mail", &holder, Timestamp::now(), 300)).await?;
    if !leased {
        return Ok(0);
    }
    let due = db.read(|tx| ordo_app::reports::due_mailings(tx, Timestamp::now())).await;
    let holder = me.to_string();
    match due {
        Ok(due) if !due.is_empty() => {
            db.write(move |tx| {
                let sent = ordo_app::reports::record_mailings(tx, Timestamp::now(), &due)?;
                ordo_app::jobs::release(tx, "report-mail", &holder, Timestamp::now())?;
                Ok::<_, ordo_app::reports::ReportError>(sent)
            })
            .await
        }
        other => {
            db.write(move |tx| ordo_app::jobs::release(tx, "report-mail", &holder, Timestamp::now())).await?;
            other.map(|_| 0)
        }
    }
}

/// One pass: fan out, claim, send, record.
pub async fn pass(
    db: &Database,
    options: &Options,
    me: &str,
    http: &reqwest::Client,
) -> Result<PassReport, integrations::IntegrationError> {
    let mut report = PassReport::default();
    let lease_holder = me.to_string();
    let dispatched = db
        .write(move |tx| {
            let now = Timestamp::now();
            if !ordo_app::jobs::claim(tx, "outbox", &lease_holder, now, 30)? {
                return Ok(integrations::Dispatched::default());
            }
            integrations::dispatch(tx, now, 2000)
        })
        .await?;
    report.dispatched = dispatched.events;

    let (settings, mail_settings) = db
        .read(|tx| {
            Ok::<_, integrations::IntegrationError>((
                integrations::integration_settings(tx)?,
                integrations::mail_settings(tx)?,
            ))
        })
        .await?;
    let mut channels = vec![integrations::WEBHOOK, integrations::CALLBACK];
    if mail_settings.enabled {
        channels.push(integrations::MAIL);
    }
    if options.bus.is_some() {
        channels.push(integrations::BUS);
    }
    let token = format!("{me}:{}", CLAIMS.fetch_add(1, Ordering::Relaxed));
    let timeout = Duration::from_secs(settings.timeout_seconds.max(1) as u64);
    let (claim_token, batch) = (token.clone(), options.batch);
    // Long enough for every claimed call to wait its turn and time out, so a live sender
    // never loses a claim to another one.
    let rounds = (batch as usize).div_ceil(options.per_destination.max(1)) as i64;
    let lease = settings.timeout_seconds * rounds + 5;
    let due: Vec<DueDelivery> = db
        .write(move |tx| {
            let now = Timestamp::now();
            let channels: Vec<&str> = channels.to_vec();
            integrations::claim_due(tx, &channels, &claim_token, now, now.plus_seconds(lease), batch)
        })
        .await?;
    if due.is_empty() {
        return Ok(report);
    }
    let mailer = if mail_settings.enabled { mail::transport(&mail_settings).ok() } else { None };
    let mut tasks = tokio::task::JoinSet::new();
    let mut gates: std::collections::HashMap<(String, i64), Arc<tokio::sync::Semaphore>> = Default::default();
    for delivery in due {
        let (http, bus, mailer, from, token) =
            (http.clone(), options.bus.clone(), mailer.clone(), mail_settings.clone(), token.clone());
        let gate = gates
            .entry((delivery.channel.clone(), delivery.target_id))
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(options.per_destination.max(1))))
            .clone();
        tasks.spawn(async move {
            let _turn = gate.acquire_owned().await;
            let started = Instant::now();
            let (status_code, error) = match delivery.channel.as_str() {
                integrations::WEBHOOK | integrations::CALLBACK => webhook::send(&http, &delivery, timeout).await,
                integrations::MAIL => match &mailer {
                    Some(mailer) => mail::send(mailer, &from, &delivery).await,
                    None => (None, Some("the SMTP settings are not usable".to_string())),
                },
                _ => match &bus {
                    Some(bus) => bus::send(bus.as_ref(), &delivery).await,
                    None => (None, Some("no message bus is connected".to_string())),
                },
            };
            metrics::counter!("deliveries_total", "channel" => delivery.channel.clone(),
                "result" => if error.is_none() { "ok" } else { "error" })
            .increment(1);
            Attempt {
                delivery_id: delivery.id,
                token,
                status_code,
                error,
                duration_ms: started.elapsed().as_millis() as i64,
                jitter: (random_u64() % 10_000) as f64 / 10_000.0,
            }
        });
    }
    let mut attempts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(attempt) = done {
            if attempt.error.is_none() {
                report.sent += 1;
            } else {
                report.failed += 1;
            }
            attempts.push(attempt);
        }
    }
    db.write(move |tx| integrations::record_attempts(tx, Timestamp::now(), &attempts)).await?;
    Ok(report)
}
