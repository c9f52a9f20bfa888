//! Reader connections: opened lazily up to a maximum, handed out with a timeout, checked on
//! return. Readers run with `query_only`, so a write can never bypass the single writer.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::connection::SqlConn;
use super::options::SqlOptions;
use crate::error::{Error, Result};
use crate::keys::StoreKey;

pub(crate) struct ReaderPool {
    state: Mutex<State>,
    cv: Condvar,
    path: PathBuf,
    key: StoreKey,
    opts: SqlOptions,
}

struct State {
    idle: Vec<SqlConn>,
    open: usize,
    closed: bool,
}

/// Pool counters, for `status()` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub readers_open: usize,
    pub readers_idle: usize,
    pub readers_max: usize,
}

impl ReaderPool {
    pub(crate) fn new(path: PathBuf, key: StoreKey, opts: SqlOptions) -> Self {
        ReaderPool { state: Mutex::new(State { idle: Vec::new(), open: 0, closed: false }), cv: Condvar::new(), path, key, opts }
    }

    pub(crate) fn acquire(&self) -> Result<ReaderGuard<'_>> {
        let deadline = Instant::now() + Duration::from_millis(self.opts.acquire_timeout_ms as u64);
        let mut st = self.state.lock();
        loop {
            if st.closed {
                return Err(Error::Closed("the SQL store"));
            }
            if let Some(conn) = st.idle.pop() {
                return Ok(ReaderGuard { pool: self, conn: Some(conn), broken: false });
            }
            if st.open < self.opts.readers.max(1) {
                st.open += 1;
                drop(st);
                return match self.open_reader() {
                    Ok(conn) => Ok(ReaderGuard { pool: self, conn: Some(conn), broken: false }),
                    Err(e) => {
                        self.state.lock().open -= 1;
                        self.cv.notify_one();
                        Err(e)
                    }
                };
            }
            if self.cv.wait_until(&mut st, deadline).timed_out() {
                return Err(Error::Busy(format!(
                    "no reader connection became free within {} ms ({} in use)",
                    self.opts.acquire_timeout_ms, st.open
                )));
            }
        }
    }

    fn open_reader(&self) -> Result<SqlConn> {
        SqlConn::open(&self.path, &self.key, &self.opts, false, true)
    }

    fn release(&self, conn: SqlConn, broken: bool) {
        let mut st = self.state.lock();
        // A connection left inside a transaction, or one that failed at the I/O level, is
        // closed rather than handed to the next caller.
        if st.closed || broken || !conn.is_autocommit() {
            st.open -= 1;
            drop(st);
            drop(conn);
        } else {
            st.idle.push(conn);
            drop(st);
        }
        self.cv.notify_one();
    }

    /// Pings every idle connection and drops the ones that fail.
    pub(crate) fn health_check(&self) -> usize {
        let idle = std::mem::take(&mut self.state.lock().idle);
        let mut dropped = 0;
        let mut keep = Vec::with_capacity(idle.len());
        for c in idle {
            if c.ping().is_ok() {
                keep.push(c)
            } else {
                dropped += 1
            }
        }
        let mut st = self.state.lock();
        st.open -= dropped;
        st.idle.extend(keep);
        drop(st);
        self.cv.notify_all();
        dropped
    }

    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        let n = st.idle.len();
        st.idle.clear();
        st.open -= n;
        drop(st);
        self.cv.notify_all();
    }

    pub(crate) fn stats(&self) -> PoolStats {
        let st = self.state.lock();
        PoolStats { readers_open: st.open, readers_idle: st.idle.len(), readers_max: self.opts.readers.max(1) }
    }
}

pub(crate) struct ReaderGuard<'a> {
    pool: &'a ReaderPool,
    conn: Option<SqlConn>,
    broken: bool,
}

impl ReaderGuard<'_> {
    /// Marks the connection for closing on release (after an I/O-level failure).
    pub(crate) fn note(&mut self, err: &Error) {
        if matches!(err, Error::Io(_) | Error::Internal(_)) {
            self.broken = true;
        }
    }
}

impl std::ops::Deref for ReaderGuard<'_> {
    type Target = SqlConn;
    fn deref(&self) -> &SqlConn {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl Drop for ReaderGuard<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.pool.release(c, self.broken);
        }
    }
}
