//! SQLite through rusqlite: WAL, `synchronous=FULL`, one writer thread with group commit
//! and a small pool of reader connections.

use super::pool::Pool;
use super::{DbError, Dialect, Row, StoreError, Tx, Value, migrations};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

/// Most use cases committed by one transaction: bounds the latency one batch adds.
const MAX_BATCH: usize = 512;
const READERS: usize = 4;
const CHECKPOINT_EVERY_MS: u64 = 200;

type Reply = Box<dyn FnOnce(Option<DbError>) + Send>;
type Job = Box<dyn FnOnce(&mut dyn Tx) -> (bool, Reply) + Send>;

pub(super) struct SqliteEngine {
    jobs: mpsc::Sender<Job>,
    readers: Arc<Pool<Connection>>,
    /// The checkpoint thread runs while this lives.
    _alive: Arc<()>,
}

impl SqliteEngine {
    pub(super) fn open(path: &Path) -> Result<SqliteEngine, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut writer = open_connection(path, false)?;
        migrations::run(&mut SqliteTx { conn: &writer })?;
        writer.set_prepared_statement_cache_capacity(256);
        // The writer never checkpoints: copying the WAL back into the database file is
        // done by a thread of its own, off the path every commit waits on.
        writer.execute_batch("PRAGMA wal_autocheckpoint = 0").map_err(map_error)?;
        let alive = Arc::new(());
        let checkpointer = open_connection(path, false)?;
        let watched = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("ordo-sqlite-checkpoint".into())
            .spawn(move || run_checkpointer(&checkpointer, &watched))
            .map_err(|e| DbError::Other(format!("cannot start the checkpoint thread: {e}")))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ordo-sqlite-writer".into())
            .spawn(move || run_writer(&mut writer, &queue))
            .map_err(|e| DbError::Other(format!("cannot start the writer thread: {e}")))?;
        let reader_path = path.to_path_buf();
        let readers = Pool::new(READERS, Box::new(move || open_connection(&reader_path, true)), |_| true);
        Ok(SqliteEngine { jobs, readers, _alive: alive })
    }

    pub(super) async fn write<T, E, F>(&self, mut work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreError,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx: &mut dyn Tx| {
            let result = work(tx);
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |commit_error: Option<DbError>| {
                let _ = answer.send(match commit_error {
                    None => result,
                    Some(error) => Err(E::from(error)),
                });
            });
            (succeeded, reply)
        });
        self.jobs.send(job).map_err(|_| E::from(DbError::Unavailable("the writer has stopped".into())))?;
        answered.await.map_err(|_| E::from(DbError::Other("the write was abandoned (panic in a use case)".into())))?
    }

    pub(super) async fn read<T, E, F>(&self, mut work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreError,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.readers
            .with(move |conn| {
                conn.execute_batch("BEGIN").map_err(map_error)?;
                let result = work(&mut SqliteTx { conn });
                let _ = conn.execute_batch("COMMIT");
                result
            })
            .await
            .map_err(E::from)?
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, DbError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| DbError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    // FULL: a commit is on disk before any order in it is acknowledged.
    let pragmas = if read_only {
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;"
    } else {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY;"
    };
    conn.execute_batch(pragmas).map_err(map_error)?;
    // Plans are fixed when a statement is prepared. Without this SQLite re-prepares a cached
    // statement whenever a bound value might change its plan (an id flipping between 0/1 and
    // other numbers, a LIKE pattern): a quarter of the placement CPU went to re-parsing.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(map_error)?;
    Ok(conn)
}

/// The group-commit loop: take every job waiting, run each in a savepoint of one
/// transaction, commit once, then answer them all.
fn run_writer(conn: &mut Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = run_cached(conn, "BEGIN IMMEDIATE") {
            let error = map_error(error);
            for job in batch {
                // Nothing runs: answer every job with the failure.
                let (_, reply) = job(&mut FailedTx(error.clone()));
                reply(Some(error.clone()));
            }
            continue;
        }
        let mut replies = Vec::with_capacity(batch.len());
        for job in batch {
            if let Err(error) = run_cached(conn, "SAVEPOINT job") {
                let (_, reply) = job(&mut FailedTx(map_error(error)));
                replies.push(reply);
                continue;
            }
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut SqliteTx { conn })));
            let keep = matches!(&outcome, Ok((true, _)));
            let undo = if keep { Ok(()) } else { run_cached(conn, "ROLLBACK TO job") };
            if let Err(error) = undo.and_then(|()| run_cached(conn, "RELEASE job")) {
                tracing::error!(%error, "savepoint could not be closed");
            }
            if let Ok((_, reply)) = outcome {
                replies.push(reply);
            }
        }
        let commit_error = run_cached(conn, "COMMIT").err().map(map_error);
        if commit_error.is_some() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            reply(commit_error.clone());
        }
    }
}

/// Checkpoints the WAL a few times a second, as far as readers allow (PASSIVE never blocks
/// the writer), until the engine is dropped.
fn run_checkpointer(conn: &Connection, alive: &std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(CHECKPOINT_EVERY_MS));
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "WAL checkpoint failed; the next one tries again");
        }
    }
}

/// Transaction control through the statement cache: parsed once, not once per order.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Stands in for a transaction that could not be opened: every statement fails.
struct FailedTx(DbError);

impl Tx for FailedTx {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn execute(&mut self, _: &str, _: &[Value]) -> Result<u64, DbError> {
        Err(self.0.clone())
    }
    fn query(&mut self, _: &str, _: &[Value]) -> Result<Vec<Row>, DbError> {
        Err(self.0.clone())
    }
    fn insert(&mut self, _: &str, _: &[Value]) -> Result<i64, DbError> {
        Err(self.0.clone())
    }
    fn batch(&mut self, _: &str) -> Result<(), DbError> {
        Err(self.0.clone())
    }
}

pub(super) struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(map_error)?;
        let changed = statement.execute(rusqlite::params_from_iter(params.iter())).map_err(map_error)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(map_error)?;
        let columns = statement.column_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter())).map_err(map_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_error)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(map_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(r) if r.fract() == 0.0 => Value::Int(r as i64),
                    other => {
                        return Err(DbError::Decode(format!("unexpected column type {:?}", other.data_type())));
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, DbError> {
        let returning = format!("{sql} RETURNING id");
        let row = self.query(&returning, params)?;
        row.first().ok_or_else(|| DbError::Decode("INSERT returned no id".into()))?.int(0)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(map_error)
    }
}

fn map_error(error: rusqlite::Error) -> DbError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, message) => match failure.code {
            ErrorCode::ConstraintViolation
                if matches!(failure.extended_code, 2067 | 1555) /* UNIQUE, PRIMARYKEY */ =>
            {
                DbError::UniqueViolation(message.clone().unwrap_or_default())
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Conflict(error.to_string()),
            ErrorCode::CannotOpen | ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::ReadOnly => {
                DbError::Unavailable(error.to_string())
            }
            _ => DbError::Other(error.to_string()),
        },
        _ => DbError::Other(error.to_string()),
    }
}
