//! Observability at the edge: a request id on every request and response (and in its log
//! span), and Prometheus metrics at `/metrics` — requests and latency by route and status,
//! plus whatever the use cases count (orders placed, scheduler runs…).

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The process's one metrics recorder (tests start many servers in one process).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
            let builder = PrometheusBuilder::new().set_buckets(&buckets).ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics are off: a recorder was already installed");
                    None
                }
            }
        })
        .as_ref()
}

/// `GET /metrics` in the Prometheus text format.
pub async fn metrics(axum::extract::State(state): axum::extract::State<crate::AppState>) -> Response {
    // The outbox's backlog is read at scrape time, so every process reports the shared truth.
    let now = ordo_domain::Timestamp::now();
    if let Ok(status) = state.db.read(move |tx| ordo_app::integrations::outbox_status(tx, now)).await {
        metrics::gauge!("outbox_undispatched_events").set(status.undispatched_events as f64);
        metrics::gauge!("outbox_pending_deliveries").set(status.pending_deliveries as f64);
        metrics::gauge!("outbox_failed_deliveries").set(status.failed_deliveries as f64);
        metrics::gauge!("outbox_oldest_due_seconds").set(status.oldest_due_seconds as f64);
    }
    let body = recorder().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Counts and times every request by method, route template and status.
pub async fn track(request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Request ids: 16 hex digits — a random prefix per process and a counter, so they are
/// unique across servers without a system call per request — unless the client (or a
/// proxy) sent one.
#[derive(Clone, Copy, Default)]
pub struct HexRequestId;

impl MakeRequestId for HexRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let mut bytes = [0u8; 4];
            let _ = getrandom::fill(&mut bytes);
            u32::from_le_bytes(bytes)
        });
        let id = format!("{prefix:08x}{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}
