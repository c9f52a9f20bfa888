//! The single writer connection, and the transactions that hold it.
//!
//! The connection is taken out of the mutex while a statement runs, so waiting threads block
//! on a condition variable with a deadline instead of on the lock. A transaction leases the
//! writer by id until commit or rollback; statements of other callers wait meanwhile.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::connection::SqlConn;
use crate::error::{Error, Result};

/// How a caller waits for the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait up to the acquisition timeout (async callers, other threads).
    Block,
    /// Wait for running statements, but fail at once with `BUSY` when a transaction holds the
    /// writer: a synchronous call on the JS thread would otherwise block the very code that
    /// has to finish that transaction.
    FailIfTxOpen,
}

/// Identifies an open transaction.
pub type TxId = u64;

pub(crate) struct Writer {
    state: Mutex<State>,
    cv: Condvar,
    timeout: Duration,
}

struct State {
    conn: Option<SqlConn>,
    tx: Option<TxId>,
    next_id: TxId,
    closed: bool,
}

impl Writer {
    pub(crate) fn new(conn: SqlConn, timeout_ms: u32) -> Self {
        Writer {
            state: Mutex::new(State { conn: Some(conn), tx: None, next_id: 1, closed: false }),
            cv: Condvar::new(),
            timeout: Duration::from_millis(timeout_ms as u64),
        }
    }

    /// Takes the connection for one autocommit operation (`owner: None`) or for a statement
    /// inside transaction `owner`.
    fn take(&self, owner: Option<TxId>, wait: Wait) -> Result<SqlConn> {
        let deadline = Instant::now() + self.timeout;
        let mut st = self.state.lock();
        loop {
            if st.closed {
                return Err(Error::Closed("the SQL store"));
            }
            match (owner, st.tx) {
                (Some(id), cur) if cur != Some(id) => {
                    return Err(Error::invalid("this transaction has already been committed or rolled back"))
                }
                (None, Some(_)) if wait == Wait::FailIfTxOpen => {
                    return Err(Error::Busy(
                        "a transaction is open on this data layer: run the statement inside it, or await it first".into(),
                    ))
                }
                (None, Some(_)) => {}
                _ => {
                    if let Some(c) = st.conn.take() {
                        return Ok(c);
                    }
                }
            }
            if self.cv.wait_until(&mut st, deadline).timed_out() {
                return Err(Error::Busy(format!("the writer connection did not become free within {} ms", self.timeout.as_millis())));
            }
        }
    }

    fn put(&self, conn: SqlConn) {
        let mut st = self.state.lock();
        if !st.closed {
            st.conn = Some(conn);
        }
        drop(st);
        self.cv.notify_all();
    }

    /// Runs `f` on the writer outside any transaction (autocommit).
    pub(crate) fn with<T>(&self, wait: Wait, f: impl FnOnce(&SqlConn) -> Result<T>) -> Result<T> {
        let conn = self.take(None, wait)?;
        let out = f(&conn);
        if !conn.is_autocommit() {
            // `f` left a transaction open (e.g. a script with BEGIN and no COMMIT): undo it
            // rather than leak a half-done transaction into the next caller's statement.
            let _ = conn.raw().execute_batch("ROLLBACK");
            self.put(conn);
            return out.and(Err(Error::invalid("statement left a transaction open; use transaction() instead of BEGIN/COMMIT")));
        }
        self.put(conn);
        out
    }

    /// Runs `f` inside one transaction: committed if it returns Ok, rolled back otherwise.
    pub(crate) fn atomic<T>(&self, wait: Wait, f: impl FnOnce(&SqlConn) -> Result<T>) -> Result<T> {
        let conn = self.take(None, wait)?;
        let out = (|| {
            conn.raw().execute_batch("BEGIN IMMEDIATE")?;
            match f(&conn) {
                Ok(v) => {
                    if let Err(e) = conn.raw().execute_batch("COMMIT") {
                        let _ = conn.raw().execute_batch("ROLLBACK");
                        return Err(e.into());
                    }
                    Ok(v)
                }
                Err(e) => {
                    if !conn.is_autocommit() {
                        let _ = conn.raw().execute_batch("ROLLBACK");
                    }
                    Err(e)
                }
            }
        })();
        self.put(conn);
        out
    }

    /// Starts a transaction that holds the writer until [`Writer::finish`].
    pub(crate) fn begin(&self, wait: Wait) -> Result<TxId> {
        let conn = self.take(None, wait)?;
        let res = conn.raw().execute_batch("BEGIN IMMEDIATE");
        let mut st = self.state.lock();
        let id = st.next_id;
        st.next_id += 1;
        if res.is_ok() && !st.closed {
            st.tx = Some(id);
        }
        if !st.closed {
            st.conn = Some(conn);
        }
        drop(st);
        self.cv.notify_all();
        res.map(|_| id).map_err(Into::into)
    }

    /// Runs `f` on the writer inside transaction `id`.
    pub(crate) fn in_tx<T>(&self, id: TxId, f: impl FnOnce(&SqlConn) -> Result<T>) -> Result<T> {
        let conn = self.take(Some(id), Wait::Block)?;
        let out = f(&conn);
        if conn.is_autocommit() {
            // The statement ended the transaction itself (COMMIT/ROLLBACK in SQL, or SQLite
            // rolled back on a fatal error): release the lease so nobody waits forever.
            self.state.lock().tx = None;
        }
        self.put(conn);
        out
    }

    /// Commits (`commit = true`) or rolls back transaction `id` and releases the writer. A
    /// failed COMMIT rolls back, so the writer is never left inside a transaction.
    pub(crate) fn finish(&self, id: TxId, commit: bool) -> Result<()> {
        let conn = match self.take(Some(id), Wait::Block) {
            Ok(c) => c,
            Err(Error::InvalidArgument(_)) if !commit => return Ok(()), // rollback is idempotent
            Err(e) => return Err(e),
        };
        let res = if conn.is_autocommit() {
            if commit {
                Err(Error::Sql("the transaction was already ended by SQLite (rolled back)".into()))
            } else {
                Ok(())
            }
        } else if commit {
            conn.raw().execute_batch("COMMIT").map_err(Error::from).inspect_err(|_| {
                let _ = conn.raw().execute_batch("ROLLBACK");
            })
        } else {
            conn.raw().execute_batch("ROLLBACK").map_err(Into::into)
        };
        self.state.lock().tx = None;
        self.put(conn);
        res
    }

    pub(crate) fn tx_open(&self) -> bool {
        self.state.lock().tx.is_some()
    }

    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        st.closed = true;
        if let Some(c) = st.conn.take() {
            if !c.is_autocommit() {
                let _ = c.raw().execute_batch("ROLLBACK");
            }
            drop(c);
        }
        st.tx = None;
        drop(st);
        self.cv.notify_all();
    }
}
