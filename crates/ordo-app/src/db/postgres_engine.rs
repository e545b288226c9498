//! PostgreSQL through the synchronous `postgres` client on blocking threads: a pool of
//! connections, each with its own prepared-statement cache.

use super::pool::Pool;
use super::{DbError, Dialect, Row, StoreError, Tx, Value, migrations, numbered_placeholders};
use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) struct PostgresEngine {
    pool: Arc<Pool<PgConn>>,
}

struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PostgresEngine {
    pub(super) fn open(url: &str, pool_size: usize) -> Result<PostgresEngine, DbError> {
        let url = url.to_string();
        let connect = move || -> Result<PgConn, DbError> {
            let client = Client::connect(&url, NoTls).map_err(|e| DbError::Unavailable(e.to_string()))?;
            Ok(PgConn { client, statements: HashMap::new() })
        };
        let pool = Pool::new(pool_size.max(1), Box::new(connect), |conn| !conn.client.is_closed());
        pool.with_blocking(|conn| -> Result<(), DbError> {
            // One process migrates at a time; the others wait, then find nothing to do.
            conn.client.batch_execute("SELECT pg_advisory_lock(7243001)").map_err(map_error)?;
            let result = migrations::run(&mut PgTx { conn });
            // Statements prepared against the old schema would be stale.
            conn.statements.clear();
            conn.client.batch_execute("SELECT pg_advisory_unlock(7243001)").map_err(map_error)?;
            result
        })??;
        Ok(PostgresEngine { pool })
    }

    pub(super) async fn run<T, E, F>(&self, mut work: F, read_only: bool, attempts: usize) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreError,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.pool
            .with(move |conn| {
                let mut attempt = 1;
                loop {
                    let begin = if read_only { "BEGIN READ ONLY" } else { "BEGIN" };
                    conn.client.batch_execute(begin).map_err(map_error)?;
                    let result = work(&mut PgTx { conn }).and_then(|value| {
                        conn.client.batch_execute("COMMIT").map_err(map_error)?;
                        Ok(value)
                    });
                    match result {
                        Ok(value) => return Ok(value),
                        Err(error) => {
                            let _ = conn.client.batch_execute("ROLLBACK");
                            let retry = error.db_error().is_some_and(DbError::retryable);
                            if !retry || attempt >= attempts {
                                return Err(error);
                            }
                            attempt += 1;
                            std::thread::sleep(std::time::Duration::from_millis(attempt as u64 * 3));
                        }
                    }
                }
            })
            .await
            .map_err(E::from)?
    }
}

struct PgTx<'c> {
    conn: &'c mut PgConn,
}

impl PgTx<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(statement) = self.conn.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.conn.client.prepare(&numbered_placeholders(sql)).map_err(map_error)?;
        self.conn.statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl Tx for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.conn.client.execute(&statement, &params).map_err(map_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.conn.client.query(&statement, &params).map_err(map_error)?;
        rows.iter().map(decode_row).collect()
    }

    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, DbError> {
        let returning = format!("{sql} RETURNING id");
        let rows = self.query(&returning, params)?;
        rows.first().ok_or_else(|| DbError::Decode("INSERT returned no id".into()))?.int(0)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.client.batch_execute(sql).map_err(map_error)
    }
}

fn decode_row(row: &postgres::Row) -> Result<Row, DbError> {
    let decode = |e: postgres::Error| DbError::Decode(e.to_string());
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(decode)?.map(Value::Int),
            Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(decode)?.map(|v| Value::Int(v.into())),
            Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(decode)?.map(|v| Value::Int(v.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(decode)?.map(Value::from),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i).map_err(decode)?.map(Value::Text)
            }
            ref other => {
                return Err(DbError::Decode(format!("column {} has unsupported type {other}", column.name())));
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(v) => v.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn map_error(error: postgres::Error) -> DbError {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            return DbError::UniqueViolation(db.constraint().unwrap_or_default().to_string());
        }
        if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE {
            return DbError::Conflict(db.message().to_string());
        }
        return DbError::Other(format!("{}: {}", code.code(), db.message()));
    }
    if error.is_closed() {
        return DbError::Unavailable(error.to_string());
    }
    DbError::Other(error.to_string())
}
