//! Storage, written once for every engine. Use cases get a `&mut dyn Tx` inside one
//! transaction and speak a portable SQL subset: `?` placeholders (rewritten to `$n` for
//! PostgreSQL), integer and text columns only, no `RETURNING` except through `Tx::insert`,
//! no `FOR UPDATE` (a row is locked portably by updating it first). That subset also runs
//! on MySQL/TiDB, which only needs an engine module of its own.
//!
//! Writes go through `Database::write`:
//! - SQLite: one writer thread commits many use cases per transaction (group commit), each
//!   in its own savepoint, and answers each only after its batch is durable.
//! - PostgreSQL: a pool of connections, one transaction per use case, retried on deadlock,
//!   serialization failure or a lost insert race.

mod migrations;
mod pool;
mod postgres_engine;
mod sqlite_engine;

use std::sync::Arc;

pub use migrations::MIGRATIONS;

/// A value bound to or read from SQL. Every column is an integer or text, which is what
/// every engine stores the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a `&[Value]` parameter list.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { &[$($crate::db::Value::from($value)),*][..] };
}

/// One result row; columns are read by position, in the order the SELECT names them.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, index: usize) -> Result<&Value, DbError> {
        self.0.get(index).ok_or_else(|| DbError::Decode(format!("no column {index}")))
    }

    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        match self.get(index)? {
            Value::Int(v) => Ok(*v),
            other => Err(DbError::Decode(format!("column {index}: expected an integer, got {other:?}"))),
        }
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.get(index)? {
            Value::Null => Ok(None),
            _ => self.int(index).map(Some),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, DbError> {
        match self.get(index)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(DbError::Decode(format!("column {index}: expected text, got {other:?}"))),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self.get(index)? {
            Value::Null => Ok(None),
            _ => self.text(index).map(Some),
        }
    }

    pub fn bool(&self, index: usize) -> Result<bool, DbError> {
        self.int(index).map(|v| v != 0)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Deadlock, serialization failure or a busy database: running the use case again is safe.
    #[error("transaction conflict, retry: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("cannot decode a database value: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    fn retryable(&self) -> bool {
        matches!(self, DbError::Conflict(_) | DbError::UniqueViolation(_))
    }
}

/// Every area's error type wraps `DbError`; the retry loop needs to see it.
pub trait StoreError: From<DbError> + Send + 'static {
    fn db_error(&self) -> Option<&DbError>;
}

impl StoreError for DbError {
    fn db_error(&self) -> Option<&DbError> {
        Some(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One open transaction. Use cases run against this and never commit themselves.
pub trait Tx {
    fn dialect(&self) -> Dialect;
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs an INSERT and returns the generated `id` column.
    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, DbError>;
    /// Runs statements without parameters (DDL, transaction control) as plain text.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
}

impl dyn Tx + '_ {
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::Decode("expected one row, got none".into()))
    }
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum DbConfig {
    /// An SQLite file; `read_connections` serve reads beside the single writer.
    Sqlite { path: std::path::PathBuf },
    /// A `postgres://` URL; `pool_size` connections.
    Postgres { url: String, pool_size: usize },
}

impl DbConfig {
    /// `postgres://…` (or `postgresql://`) selects PostgreSQL; otherwise the SQLite file in
    /// `data_dir`.
    pub fn from_url_or_dir(url: Option<&str>, data_dir: &std::path::Path) -> Result<DbConfig, DbError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(DbConfig::Sqlite { path: data_dir.join("ordo.db") }),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(DbConfig::Postgres { url: url.to_string(), pool_size: 16 })
            }
            Some(url) if url.starts_with("sqlite://") => {
                Ok(DbConfig::Sqlite { path: url.trim_start_matches("sqlite://").into() })
            }
            Some(other) => {
                Err(DbError::Other(format!("unsupported database URL {other:?}: use postgres://… or sqlite://PATH")))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DbConfig::Sqlite { path } => format!("sqlite {}", path.display()),
            DbConfig::Postgres { url, .. } => {
                // Never log a password.
                let host = url.rsplit('@').next().unwrap_or(url);
                format!("postgres {host}")
            }
        }
    }
}

enum Engine {
    Sqlite(sqlite_engine::SqliteEngine),
    Postgres(postgres_engine::PostgresEngine),
}

/// The handle every use case runs through. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    engine: Arc<Engine>,
}

const MAX_ATTEMPTS: usize = 5;

impl Database {
    /// Opens the database and brings its schema up to date.
    pub async fn open(config: &DbConfig) -> Result<Database, DbError> {
        let config = config.clone();
        let engine = tokio::task::spawn_blocking(move || -> Result<Engine, DbError> {
            Ok(match config {
                DbConfig::Sqlite { path } => Engine::Sqlite(sqlite_engine::SqliteEngine::open(&path)?),
                DbConfig::Postgres { url, pool_size } => {
                    Engine::Postgres(postgres_engine::PostgresEngine::open(&url, pool_size)?)
                }
            })
        })
        .await
        .map_err(|e| DbError::Other(format!("opening the database panicked: {e}")))??;
        Ok(Database { engine: Arc::new(engine) })
    }

    pub fn dialect(&self) -> Dialect {
        match &*self.engine {
            Engine::Sqlite(_) => Dialect::Sqlite,
            Engine::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `work` in a write transaction and commits it. The closure may run more than
    /// once (after a deadlock or a lost race), so it must not have side effects outside `tx`.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreError,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match &*self.engine {
            Engine::Sqlite(engine) => engine.write(work).await,
            Engine::Postgres(engine) => engine.run(work, false, MAX_ATTEMPTS).await,
        }
    }

    /// Runs `work` in a read-only transaction (one consistent snapshot).
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreError,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match &*self.engine {
            Engine::Sqlite(engine) => engine.read(work).await,
            Engine::Postgres(engine) => engine.run(work, true, 1).await,
        }
    }

    /// Is the database answering? For `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.read(|tx| tx.query("SELECT 1", &[]).map(|_| ())).await
    }
}

/// Rewrites `?` placeholders to PostgreSQL's `$1, $2, …`, leaving quoted text alone.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut in_quote = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                out.push(c);
            }
            '?' if !in_quote => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
        );
    }
}

/// A WHERE clause built from the filters a request actually gives, so every engine gets
/// plain typed parameters and the planner sees only real conditions.
#[derive(Debug, Default)]
pub struct Filter {
    clauses: Vec<String>,
    pub params: Vec<Value>,
}

impl Filter {
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Adds `clause` (with one `?` per value) when `values` is `Some`.
    pub fn when<V: Into<Value>>(&mut self, clause: &str, values: Option<Vec<V>>) -> &mut Self {
        if let Some(values) = values {
            self.clauses.push(clause.to_string());
            self.params.extend(values.into_iter().map(Into::into));
        }
        self
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!(" WHERE {}", self.clauses.join(" AND ")) }
    }
}
