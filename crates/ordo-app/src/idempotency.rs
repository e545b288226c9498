//! `Idempotency-Key`: the first response to a key is stored in the same transaction as the
//! write it answers, so a retry after a timeout or crash either finds that response or
//! finds nothing was written. Failed requests store nothing: retrying them runs them again.

use crate::db::{Database, DbError, StoreError, Tx};
use crate::params;
use ordo_domain::Timestamp;

/// How long a key is remembered.
pub const KEY_LIFETIME_SECONDS: i64 = 24 * 3600;

#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// Caller, method, path and key: the same key from another token is another key.
    pub scope: String,
    /// Hash of the request body: the same key with another body is refused.
    pub request_hash: String,
}

/// A response as it will be sent, and as it is stored for replays.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Fresh(Stored),
    Replayed(Stored),
    /// The key was used before for a different request.
    KeyReused,
}

/// Runs `work` once per key. Two requests racing with one key on PostgreSQL: the second
/// waits on the key's unique index, fails, is retried by `Database::write` and replays.
pub async fn write_once<E, F>(
    db: &Database,
    key: Option<IdempotencyKey>,
    now: Timestamp,
    mut work: F,
) -> Result<Outcome, E>
where
    E: StoreError,
    F: FnMut(&mut dyn Tx) -> Result<Stored, E> + Send + 'static,
{
    db.write(move |tx| {
        if let Some(key) = &key
            && let Some(previous) = lookup(tx, key)?
        {
            return Ok(previous);
        }
        let stored = work(tx)?;
        if let Some(key) = &key {
            tx.execute(
                "INSERT INTO idempotency_keys (scope_key, request_hash, status_code, response, created_at) VALUES (?, ?, ?, ?, ?)",
                params![key.scope.as_str(), key.request_hash.as_str(), i64::from(stored.status), stored.body.as_str(), now.micros()],
            )?;
        }
        Ok(Outcome::Fresh(stored))
    })
    .await
}

fn lookup(tx: &mut dyn Tx, key: &IdempotencyKey) -> Result<Option<Outcome>, DbError> {
    let Some(row) = tx.query_opt(
        "SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope_key = ?",
        params![key.scope.as_str()],
    )?
    else {
        return Ok(None);
    };
    if row.text(0)? != key.request_hash {
        return Ok(Some(Outcome::KeyReused));
    }
    let status = u16::try_from(row.int(1)?).map_err(|_| DbError::Decode("bad stored status".into()))?;
    Ok(Some(Outcome::Replayed(Stored { status, body: row.text(2)? })))
}

/// Forgets keys older than their lifetime. Run at start-up and from time to time.
pub async fn purge_expired(db: &Database) -> Result<u64, DbError> {
    let cutoff = Timestamp::now().plus_seconds(-KEY_LIFETIME_SECONDS).micros();
    db.write(move |tx| tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?", params![cutoff])).await
}
