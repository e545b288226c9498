//! A small pool of blocking connections, used from async code through `spawn_blocking`.
//! Connections are opened lazily and dropped when they report themselves broken.

use super::DbError;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

type Connect<C> = Box<dyn Fn() -> Result<C, DbError> + Send + Sync>;

pub(super) struct Pool<C: Send + 'static> {
    idle: Mutex<Vec<C>>,
    permits: Arc<Semaphore>,
    connect: Connect<C>,
    healthy: fn(&C) -> bool,
}

impl<C: Send + 'static> Pool<C> {
    pub(super) fn new(size: usize, connect: Connect<C>, healthy: fn(&C) -> bool) -> Arc<Self> {
        Arc::new(Pool { idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(size)), connect, healthy })
    }

    /// Takes a connection (waiting for a free one), hands it to `work` on a blocking thread.
    pub(super) async fn with<R, F>(self: &Arc<Self>, work: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut C) -> R + Send + 'static,
    {
        let permit =
            self.permits.clone().acquire_owned().await.map_err(|_| DbError::Unavailable("pool closed".into()))?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.checkout()?;
            let result = work(&mut conn);
            pool.checkin(conn);
            Ok(result)
        })
        .await
        .map_err(|e| DbError::Other(format!("database task failed: {e}")))?
    }

    /// Same as `with`, for callers that are already on a blocking thread.
    pub(super) fn with_blocking<R>(&self, work: impl FnOnce(&mut C) -> R) -> Result<R, DbError> {
        let mut conn = self.checkout()?;
        let result = work(&mut conn);
        self.checkin(conn);
        Ok(result)
    }

    fn checkout(&self) -> Result<C, DbError> {
        let idle = self.idle.lock().map_err(|_| DbError::Other("pool lock poisoned".into()))?.pop();
        match idle {
            Some(conn) => Ok(conn),
            None => (self.connect)(),
        }
    }

    fn checkin(&self, conn: C) {
        if (self.healthy)(&conn)
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(conn);
        }
    }
}

impl<C: Send + 'static> Drop for Pool<C> {
    /// The PostgreSQL client blocks while closing, which must not happen on an async
    /// worker thread: close idle connections on a plain thread instead.
    fn drop(&mut self) {
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::Builder::new().name("ordo-pool-close".into()).spawn(move || drop(idle));
        }
    }
}
