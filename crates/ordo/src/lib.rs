//! The `ordo` program: the server application and the commands around it.

pub mod bench;
pub mod bench_events;
pub mod bench_import;
pub mod bench_sourcing;
pub mod demo;
pub mod import;

use ordo_app::{Database, DbConfig};
use std::future::Future;
use std::path::Path;
use tokio::net::TcpListener;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens (and migrates) the database named by a URL, or the SQLite file in `data_dir`.
pub async fn open_database(database_url: Option<&str>, data_dir: &Path) -> Result<Database, BoxError> {
    let config = DbConfig::from_url_or_dir(database_url, data_dir)?;
    tracing::info!(database = %config.describe(), "opening database");
    Ok(Database::open(&config).await?)
}

/// Makes ring the TLS provider of every HTTP, SMTP and NATS client in the process. Call it
/// before building any client; repeated calls do nothing.
pub fn install_tls() {
    ordo_connect::install_tls();
}

/// A bound, ready server. Binding to port 0 picks a free port: tests use that.
pub struct Application {
    listener: TcpListener,
    state: ordo_http::AppState,
    outbox: ordo_connect::Options,
}

impl Application {
    pub async fn build(db: Database, listen: &str) -> Result<Application, BoxError> {
        let listener = TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        if let Err(error) = ordo_app::idempotency::purge_expired(&db).await {
            tracing::warn!(%error, "could not purge expired idempotency keys");
        }
        ordo_connect::install_tls();
        let mut outbox = ordo_connect::Options::default();
        if let Some(idle) = std::env::var("ORDO_OUTBOX_IDLE_MS").ok().and_then(|ms| ms.parse::<u64>().ok()) {
            outbox.idle = std::time::Duration::from_millis(idle);
        }
        if let Some(batch) = std::env::var("ORDO_OUTBOX_BATCH").ok().and_then(|n| n.parse::<i64>().ok()) {
            outbox.batch = batch.clamp(1, 1000);
        }
        Ok(Application { listener, state: ordo_http::AppState::new(db), outbox })
    }

    /// Publishes events to NATS JetStream at `url` as well (and turns publishing on in
    /// the settings, so events are queued for the bus from now on).
    pub async fn with_bus(mut self, url: &str) -> Result<Application, BoxError> {
        let ctx = ordo_app::Ctx::new("system", "cli");
        let installation = self
            .state
            .db
            .write(move |tx| {
                ordo_app::integrations::enable_bus(tx, &ctx)?;
                Ok::<_, ordo_app::integrations::IntegrationError>(ordo_app::signing::secret(tx, "installation_id", "")?)
            })
            .await?;
        let publisher = ordo_connect::NatsPublisher::connect(url, &installation[..16]).await?;
        self.outbox.bus = Some(std::sync::Arc::new(publisher));
        Ok(self)
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        // The scheduler runs beside the server in every process; leases keep them apart.
        let interval = std::env::var("ORDO_JOBS_INTERVAL_MS")
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .map(std::time::Duration::from_millis)
            .unwrap_or(std::time::Duration::from_secs(10));
        let jobs = tokio::spawn(ordo_app::jobs::run_forever(self.state.db.clone(), interval));
        // ORDO_DELIVERIES=off leaves delivery to the other processes on the database.
        let deliver = std::env::var("ORDO_DELIVERIES").map_or(true, |v| v != "off");
        let outbox =
            deliver.then(|| tokio::spawn(ordo_connect::run_forever(self.state.db.clone(), self.outbox.clone())));
        let app = ordo_http::app(self.state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await;
        jobs.abort();
        if let Some(outbox) = outbox {
            outbox.abort();
        }
        served
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Creates a user with a one-time password and returns that password.
pub async fn create_user(
    db: &Database,
    email: &str,
    roles: &str,
    name: Option<&str>,
    actor: &str,
) -> Result<String, BoxError> {
    let ctx = ordo_app::Ctx::new(actor, "cli");
    Ok(ordo_app::users::add_user(db, &ctx, email, name, roles).await?.1)
}

/// Gives a user a new one-time password and returns it.
pub async fn reset_password(db: &Database, email: &str) -> Result<String, BoxError> {
    let ctx = ordo_app::Ctx::new("cli", "cli");
    Ok(ordo_app::users::issue_one_time_password(db, &ctx, email).await?)
}

/// The e-mail of the admin created on first start.
pub const FIRST_ADMIN: &str = "admin@ordo.local";

/// On a database without users, creates the first admin and returns its one-time password.
pub async fn ensure_first_admin(db: &Database) -> Result<Option<String>, BoxError> {
    if !db.read(ordo_app::users::none_yet).await? {
        return Ok(None);
    }
    match create_user(db, FIRST_ADMIN, "admin", Some("Administrator"), "system").await {
        Ok(password) => Ok(Some(password)),
        // Several servers starting together on one database: another one created it.
        Err(error)
            if error
                .downcast_ref::<ordo_app::users::UserError>()
                .is_some_and(|e| matches!(e, ordo_app::users::UserError::EmailTaken(_))) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Creates an API token and returns it in clear.
pub async fn create_token(db: &Database, role: &str, name: &str) -> Result<String, BoxError> {
    let (role, name) = (role.to_string(), name.to_string());
    let ctx = ordo_app::Ctx::new("cli", "cli");
    let (token, _) = db.write(move |tx| ordo_app::auth::create_token(tx, &ctx, &name, &role)).await?;
    Ok(token)
}
