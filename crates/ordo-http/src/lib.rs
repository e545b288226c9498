//! Ordo's HTTP edge: the REST API under `/api/v1`, its OpenAPI document, health checks.
//! Handlers only parse, authorise and call the service layer; no business logic here.

mod aftersales;
mod audit;
mod catalog;
mod channels;
pub mod console;
mod customers;
pub mod error;
mod exports;
mod extract;
mod fulfillment;
pub mod imports;
mod integrations;
mod inventory;
mod observe;
mod openapi;
mod order_templates;
mod orders;
mod payables;
mod payments;
mod portal;
mod promotions;
mod purchasing;
mod reports;
mod rules;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error::ApiError;
use ordo_app::Database;
use ordo_app::auth::Principal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use openapi::openapi_json;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    /// Recently verified tokens, by hash.
    pub(crate) tokens: Arc<Mutex<HashMap<String, (Principal, Instant)>>>,
    /// How far the console's imports running in this process have come.
    pub(crate) imports: Arc<Mutex<HashMap<String, ImportProgress>>>,
}

/// An import's progress: records done, records in the file, when last told.
pub(crate) type ImportProgress = (usize, usize, Instant);

impl AppState {
    pub fn new(db: Database) -> AppState {
        observe::recorder();
        AppState { db, tokens: Arc::new(Mutex::new(HashMap::new())), imports: Arc::new(Mutex::new(HashMap::new())) }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(audit::router())
        .merge(catalog::router())
        .merge(channels::router())
        .merge(promotions::router())
        .merge(portal::router())
        .merge(customers::router())
        .merge(inventory::router())
        .merge(orders::router())
        .merge(order_templates::router())
        .merge(exports::router())
        .merge(imports::router())
        .merge(payments::router())
        .merge(payables::router())
        .merge(fulfillment::router())
        .merge(aftersales::router())
        .merge(integrations::router())
        .merge(purchasing::router())
        .merge(reports::router())
        .merge(rules::router())
        .route("/openapi.json", get(openapi_document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::metrics))
        .merge(console::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        // A slow client (or a runaway request) is cut off; see `deadline`.
        .layer(axum::middleware::from_fn(deadline))
        .route_layer(axum::middleware::from_fn(observe::track))
        // Outermost first: the id is set before the log span opens and returned on the response.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<axum::body::Body>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::debug_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::x_request_id(observe::HexRequestId))
        .with_state(state)
}

/// Every request must be answered within 30 s, except an import, which may place 100,000
/// order lines in one transaction (about 30 s on PostgreSQL on two cores).
async fn deadline(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let long = request.method() == axum::http::Method::POST && request.uri().path().ends_with("/imports");
    let limit = Duration::from_secs(if long { 15 * 60 } else { 30 });
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

async fn openapi_document() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], openapi_json()).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
