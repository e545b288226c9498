//! Request extractors whose every failure is a problem+json response, and the helpers
//! that turn a use case's result into a response (ETag, Idempotency-Key replays).

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ordo_app::Ctx;
use ordo_app::auth::{Partner, Principal};
use ordo_app::db::{StoreError, Tx};
use ordo_app::idempotency::{self, IdempotencyKey, Outcome, Stored};
use ordo_domain::FieldError;
use ordo_domain::auth::Permission;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a verified token is trusted without asking the database again.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON body: checked content type, size limit, and a 422 naming the field whose value
/// has the wrong type. Keeps the hash of the raw bytes for `Idempotency-Key`.
pub struct JsonBody<T> {
    pub value: T,
    pub hash: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        parse_json(&content_type, &bytes)
    }
}

/// A JSON body that may be left out entirely (e.g. a cancel without a reason).
pub struct OptionalJsonBody<T>(pub JsonBody<T>);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(JsonBody { value: T::default(), hash: hex(&Sha256::digest(b"")) }));
        }
        parse_json(&content_type, &bytes).map(OptionalJsonBody)
    }
}

/// The body's content type and bytes, within the size limit.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<(String, Bytes), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = Bytes::from_request(req, state).await.map_err(|_| ApiError::PayloadTooLarge(MAX_BODY_BYTES))?;
    Ok((content_type, bytes))
}

fn parse_json<T: DeserializeOwned>(content_type: &str, bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the body as application/json (got {:?})",
            if content_type.is_empty() { "nothing" } else { content_type }
        )));
    }
    let hash = hex(&Sha256::digest(bytes));
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => {
            deserializer
                .end()
                .map_err(|e| ApiError::MalformedJson(format!("unexpected data after the JSON value: {e}")))?;
            Ok(JsonBody { value, hash })
        }
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if inner.is_data() {
                let field = if path == "." { "body".to_string() } else { path };
                let message = inner.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message).to_string();
                Err(ApiError::Invalid(ordo_domain::Invalid(vec![FieldError::new(field, message)])))
            } else {
                Err(ApiError::MalformedJson(format!("the body is not valid JSON: {inner}")))
            }
        }
    }
}

/// Query-string parameters; a value of the wrong type is a 422 naming it.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(QueryParams).map_err(|error| {
            let field = error.path().to_string();
            ApiError::Invalid(ordo_domain::Invalid(vec![FieldError::new(field, error.into_inner().to_string())]))
        })
    }
}

/// The caller, from `Authorization: Bearer <token>`, and where the request came from.
pub struct Caller(pub Principal, pub Option<String>);

/// The client's IP address, when the server was started with connection info.
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or(ApiError::Unauthenticated)?
            .to_string();
        let hash = ordo_app::auth::service::hash_token(&token);
        if let Ok(cache) = state.tokens.lock()
            && let Some((principal, at)) = cache.get(&hash)
            && at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(Caller(principal.clone(), client_ip(parts)));
        }
        let principal = state
            .db
            .read(move |tx| ordo_app::auth::authenticate(tx, &token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if let Ok(mut cache) = state.tokens.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (principal.clone(), Instant::now()));
        }
        Ok(Caller(principal, client_ip(parts)))
    }
}

/// The client's IP address (None when unknown).
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

impl Caller {
    pub fn require(&self, permission: Permission, action: &'static str) -> Result<Ctx, ApiError> {
        if self.0.partner.is_some() {
            return Err(ApiError::Forbidden { role: "partner key", action });
        }
        if self.0.role.may(permission) {
            Ok(Ctx::new(self.0.actor(), "api").from_ip(self.1.clone()))
        } else {
            Err(ApiError::Forbidden { role: self.0.role.as_str(), action })
        }
    }
}

impl Caller {
    /// For the order endpoints a partner key may use: staff need `permission`; a partner
    /// key gets its channel back, and the use case keeps it to that channel's orders.
    pub fn staff_or_partner(
        &self,
        permission: Permission,
        action: &'static str,
    ) -> Result<(Ctx, Option<Partner>), ApiError> {
        match &self.0.partner {
            Some(partner) => {
                let actor = format!("partner:{}:{}", partner.channel, self.0.name);
                Ok((Ctx::new(actor, "api").from_ip(self.1.clone()), Some(partner.clone())))
            }
            None => self.require(permission, action).map(|ctx| (ctx, None)),
        }
    }
}

/// `If-Match: "N"` → the version the client read; `*` or absent → no precondition.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.trim_start_matches("W/").trim_matches('"');
    tag.parse::<i64>().map(Some).map_err(|_| ApiError::PreconditionFailed { current: -1 })
}

pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// A JSON response with the resource's version as its ETag.
pub fn with_etag<T: Serialize>(status: StatusCode, body: &T, version: i64) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::ETAG, etag(version));
    response
}

/// The `Idempotency-Key` of a request, scoped to the caller and the route.
pub fn idempotency_key(
    headers: &HeaderMap,
    caller: &Caller,
    route: &str,
    body_hash: &str,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 200 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::Invalid(ordo_domain::Invalid::field(
            "Idempotency-Key",
            "must be 1–200 visible ASCII characters, e.g. a UUID",
        )));
    }
    Ok(Some(IdempotencyKey {
        scope: format!("{}:{route}:{key}", caller.0.token_id),
        request_hash: body_hash.to_string(),
    }))
}

/// Runs a POST's use case at most once per `Idempotency-Key` and answers with the stored
/// response on a replay (marked `Idempotent-Replayed: true`).
pub async fn post_once<T, E, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    ctx: &Ctx,
    mut work: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    E: StoreError,
    ApiError: From<E>,
    F: FnMut(&mut dyn Tx) -> Result<(StatusCode, T), E> + Send + 'static,
{
    let outcome = idempotency::write_once(&state.db, key, ctx.now, move |tx| {
        let (status, body) = work(tx)?;
        let body = serde_json::to_string(&body).map_err(|e| E::from(ordo_app::DbError::Other(e.to_string())))?;
        Ok(Stored { status: status.as_u16(), body })
    })
    .await?;
    let (stored, replayed) = match outcome {
        Outcome::Fresh(stored) => (stored, false),
        Outcome::Replayed(stored) => (stored, true),
        Outcome::KeyReused => return Err(ApiError::IdempotencyKeyReused),
    };
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A numeric id from the path; anything else is a 404 like any unknown id.
pub fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::NotFound(format!("no {what} with id {raw:?}")))
}

/// Runs a command (a POST with a use case of one area) once per idempotency key.
#[allow(clippy::too_many_arguments)] // each argument is one part of the request, passed through
pub async fn command<T, E, F>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    scope: String,
    hash: &str,
    ctx: Ctx,
    status: StatusCode,
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    E: StoreError,
    ApiError: From<E>,
    F: Fn(&mut dyn Tx, &Ctx) -> Result<T, E> + Send + 'static,
{
    let key = idempotency_key(headers, caller, &scope, hash)?;
    let work_ctx = ctx.clone();
    post_once(state, key, &ctx, move |tx| work(tx, &work_ctx).map(|value| (status, value))).await
}
