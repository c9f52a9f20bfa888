//! Encrypted libSQL store: one writer plus a pool of readers, prepared-statement caches,
//! transactions, and an authorizer that keeps SQL away from the file system.

pub(crate) mod backup;
mod connection;
pub(crate) mod errors;
mod options;
mod pool;
mod sandbox;
mod value;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use connection::SqlConn;
pub use options::{SqlOptions, Synchronous};
pub use pool::PoolStats;
pub use sandbox::{SandboxLimits, SandboxPolicy};
pub use value::{OwnedRows, Params, RowSink, RowView, RunResult, StatementInfo, Value, ValueRef};
pub use writer::{TxId, Wait};

use crate::error::{Error, Result};
use crate::keys::StoreKey;
use pool::ReaderPool;
use sandbox::LimitedSink;
use writer::Writer;

/// The encrypted SQL store of one data folder.
pub struct SqlStore {
    path: PathBuf,
    writer: Writer,
    readers: ReaderPool,
    /// Shared with running sandboxed statements, whose progress handler stops them on close.
    closed: Arc<AtomicBool>,
    plugins: PluginGate,
}

/// Counts running sandboxed calls (so `close` can wait for them) and bounds how many readers
/// they hold at once, so plugin queries cannot starve the host of reader connections.
struct PluginGate {
    state: Mutex<GateState>,
    cv: Condvar,
    max_readers: usize,
    acquire_timeout: Duration,
}

#[derive(Default)]
struct GateState {
    running: usize,
    readers: usize,
}

/// One running sandboxed call; dropping it wakes `close`.
struct PluginCall<'a>(&'a PluginGate);

impl Drop for PluginCall<'_> {
    fn drop(&mut self) {
        self.0.state.lock().running -= 1;
        self.0.cv.notify_all();
    }
}

/// A reader slot of the plugins' share.
struct PluginReader<'a>(&'a PluginGate);

impl Drop for PluginReader<'_> {
    fn drop(&mut self) {
        self.0.state.lock().readers -= 1;
        self.0.cv.notify_all();
    }
}

impl PluginGate {
    fn enter(&self) -> PluginCall<'_> {
        self.state.lock().running += 1;
        PluginCall(self)
    }

    fn reader(&self, closed: &AtomicBool) -> Result<PluginReader<'_>> {
        let deadline = Instant::now() + self.acquire_timeout;
        let mut st = self.state.lock();
        loop {
            if closed.load(Ordering::Acquire) {
                return Err(Error::Closed("the SQL store"));
            }
            if st.readers < self.max_readers {
                st.readers += 1;
                return Ok(PluginReader(self));
            }
            if self.cv.wait_until(&mut st, deadline).timed_out() {
                return Err(Error::Busy(format!(
                    "plugin queries hold their share of readers ({}) for more than {} ms",
                    self.max_readers,
                    self.acquire_timeout.as_millis()
                )));
            }
        }
    }

    /// Waits until no sandboxed call runs, at most `limit`; returns how many still run.
    fn drain(&self, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        let mut st = self.state.lock();
        while st.running > 0 {
            if self.cv.wait_until(&mut st, deadline).timed_out() {
                break;
            }
        }
        st.running
    }
}

/// Statement + parameters, for batches.
pub type Stmt = (String, Params);

impl SqlStore {
    /// Opens the database at `path`, creating it when `create` is true. The writer opens
    /// first and alone (it creates the file, sets WAL and proves the key); readers follow
    /// lazily. With `create` false, a missing or empty file is `CORRUPT`: the folder says it
    /// was initialised, so an empty database means lost data, not a new one.
    pub fn open(path: &Path, key: StoreKey, opts: SqlOptions, create: bool) -> Result<SqlStore> {
        if opts.readers == 0 || opts.readers > 64 {
            return Err(Error::invalid("readers must be between 1 and 64"));
        }
        if !create {
            match std::fs::metadata(path) {
                Ok(m) if m.len() == 0 => return Err(Error::Corrupt(format!("database {} is empty (truncated)", path.display()))),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Error::Corrupt(format!("database {} is missing", path.display())))
                }
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            }
        }
        let first = SqlConn::open(path, &key, &opts, create, false)?;
        let writer = Writer::new(first, opts.acquire_timeout_ms.max(opts.busy_timeout_ms));
        let plugins = PluginGate {
            state: Mutex::new(GateState::default()),
            cv: Condvar::new(),
            // A quarter of the pool, at least one: the rest stays free for the host.
            max_readers: (opts.readers / 4).max(1),
            acquire_timeout: Duration::from_millis(opts.acquire_timeout_ms as u64),
        };
        let readers = ReaderPool::new(path.to_path_buf(), key, opts);
        Ok(SqlStore { path: path.to_path_buf(), writer, readers, closed: Arc::new(AtomicBool::new(false)), plugins })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(Error::Closed("the SQL store"))
        } else {
            Ok(())
        }
    }

    /// Runs one write statement in autocommit mode on the writer.
    pub fn run(&self, sql: &str, params: &Params, wait: Wait) -> Result<RunResult> {
        self.check_open()?;
        self.writer.with(wait, |c| c.run(sql, params))
    }

    /// Runs a query on a reader and streams rows into `sink`. A statement that writes (for
    /// example `INSERT ... RETURNING`) is sent to the writer instead.
    pub fn query(&self, sql: &str, params: &Params, sink: &mut dyn RowSink, wait: Wait) -> Result<()> {
        self.check_open()?;
        let mut reader = self.readers.acquire()?;
        let outcome = match reader.prepare(sql) {
            Ok(stmt) if stmt.readonly() => Some(connection::query_stmt(stmt, params, sink)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        };
        match outcome {
            Some(res) => {
                if let Err(e) = &res {
                    reader.note(e);
                }
                res
            }
            None => {
                drop(reader);
                self.writer.with(wait, |c| c.query(sql, params, sink))
            }
        }
    }

    /// Prepares `sql` once to check it (syntax, the authorizer) and to say what it is: on a
    /// reader, or inside transaction `tx` (which may see tables it created).
    pub fn describe(&self, sql: &str, tx: Option<TxId>) -> Result<StatementInfo> {
        self.check_open()?;
        match tx {
            Some(id) => self.writer.in_tx(id, |c| c.describe(sql)),
            None => {
                let mut reader = self.readers.acquire()?;
                let info = reader.describe(sql);
                if let Err(e) = &info {
                    reader.note(e);
                }
                info
            }
        }
    }

    /// Runs one write statement once per parameter set, atomically (a bulk insert in one call).
    pub fn run_many(&self, sql: &str, list: &[Params], wait: Wait) -> Result<RunResult> {
        self.check_open()?;
        self.writer.atomic(wait, |c| c.run_many(sql, list))
    }

    /// [`SqlStore::run_many`] inside transaction `tx`, under a savepoint: a failing set undoes
    /// this call's earlier sets and leaves the rest of the transaction as it was.
    pub fn tx_run_many(&self, tx: TxId, sql: &str, list: &[Params]) -> Result<RunResult> {
        self.check_open()?;
        self.writer.in_tx(tx, |c| {
            c.exec_script("SAVEPOINT aico_run_many")?;
            match c.run_many(sql, list) {
                Ok(r) => c.exec_script("RELEASE aico_run_many").map(|_| r),
                Err(e) => {
                    let _ = c.exec_script("ROLLBACK TO aico_run_many; RELEASE aico_run_many");
                    Err(e)
                }
            }
        })
    }

    /// Runs several statements atomically: all commit, or none does.
    pub fn batch(&self, stmts: &[Stmt], wait: Wait) -> Result<Vec<RunResult>> {
        self.check_open()?;
        self.writer.atomic(wait, |c| stmts.iter().map(|(sql, p)| c.run(sql, p)).collect())
    }

    /// Runs a parameterless script (several statements) atomically.
    pub fn exec_script(&self, sql: &str, wait: Wait) -> Result<()> {
        self.check_open()?;
        self.writer.atomic(wait, |c| c.exec_script(sql))
    }

    /// Starts a transaction (`BEGIN IMMEDIATE`) that holds the writer until
    /// [`SqlStore::commit`] or [`SqlStore::rollback`].
    pub fn begin(&self, wait: Wait) -> Result<TxId> {
        self.check_open()?;
        self.writer.begin(wait)
    }

    pub fn tx_run(&self, tx: TxId, sql: &str, params: &Params) -> Result<RunResult> {
        self.check_open()?;
        self.writer.in_tx(tx, |c| c.run(sql, params))
    }

    pub fn tx_query(&self, tx: TxId, sql: &str, params: &Params, sink: &mut dyn RowSink) -> Result<()> {
        self.check_open()?;
        self.writer.in_tx(tx, |c| c.query(sql, params, sink))
    }

    pub fn tx_exec_script(&self, tx: TxId, sql: &str) -> Result<()> {
        self.check_open()?;
        self.writer.in_tx(tx, |c| c.exec_script(sql))
    }

    pub fn commit(&self, tx: TxId) -> Result<()> {
        self.check_open()?;
        self.writer.finish(tx, true)
    }

    /// Rolls back; rolling back an ended transaction is a no-op.
    pub fn rollback(&self, tx: TxId) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(()); // closing rolled it back already
        }
        self.writer.finish(tx, false)
    }

    pub fn in_transaction(&self) -> bool {
        self.writer.tx_open()
    }

    /// Runs `f` with a reader connection (for Rust-side consumers such as the analytics ETL).
    pub fn with_reader<T>(&self, f: impl FnOnce(&SqlConn) -> Result<T>) -> Result<T> {
        self.check_open()?;
        let reader = self.readers.acquire()?;
        f(&reader)
    }

    /// Runs one statement under `policy`, inside transaction `tx` or on its own.
    pub fn sandboxed_run(&self, policy: &SandboxPolicy, tx: Option<TxId>, sql: &str, params: &Params, wait: Wait) -> Result<RunResult> {
        // Counted before the check: a `close` that starts after it waits for this call.
        let _call = self.plugins.enter();
        self.check_open()?;
        let f = |c: &SqlConn| c.sandboxed_with(policy, Some(&self.closed), |c| c.run(sql, params));
        self.closed_wins(match tx {
            Some(id) => self.writer.in_tx(id, f),
            None => self.writer.with(wait, f),
        })
    }

    /// Runs a query under `policy`; outside a transaction, read-only statements use a reader
    /// (of the plugins' share of the pool). The result is bounded by the policy's limits.
    pub fn sandboxed_query(
        &self,
        policy: &SandboxPolicy,
        tx: Option<TxId>,
        sql: &str,
        params: &Params,
        sink: &mut dyn RowSink,
        wait: Wait,
    ) -> Result<()> {
        // Counted before the check: a `close` that starts after it waits for this call.
        let _call = self.plugins.enter();
        self.check_open()?;
        let mut sink = LimitedSink::new(sink, *policy.limits());
        let cancel = Some(&self.closed);
        if let Some(id) = tx {
            return self.closed_wins(self.writer.in_tx(id, |c| c.sandboxed_with(policy, cancel, |c| c.query(sql, params, &mut sink))));
        }
        let slot = self.plugins.reader(&self.closed)?;
        let reader = self.readers.acquire()?;
        // Prepared once under the policy: run it here if it only reads, else on the writer.
        // Ok(true): ran here; Ok(false): it writes, so it goes to the writer. The query runs inside
        // the closure so that an interrupt by the budget or by close maps to TIMEOUT / CLOSED.
        let ran = reader.sandboxed_with(policy, cancel, |c| {
            let stmt = c.prepare(sql)?;
            if !stmt.readonly() {
                return Ok(false);
            }
            connection::query_stmt(stmt, params, &mut sink).map(|_| true)
        });
        match self.closed_wins(ran)? {
            true => Ok(()),
            false => {
                drop(reader);
                drop(slot);
                self.closed_wins(self.writer.with(wait, |c| c.sandboxed_with(policy, cancel, |c| c.query(sql, params, &mut sink))))
            }
        }
    }

    /// Runs a parameterless script under `policy`, atomically (or inside `tx`).
    pub fn sandboxed_exec(&self, policy: &SandboxPolicy, tx: Option<TxId>, sql: &str, wait: Wait) -> Result<()> {
        // Counted before the check: a `close` that starts after it waits for this call.
        let _call = self.plugins.enter();
        self.check_open()?;
        let f = |c: &SqlConn| c.sandboxed_with(policy, Some(&self.closed), |c| c.exec_script(sql));
        self.closed_wins(match tx {
            Some(id) => self.writer.in_tx(id, f),
            None => self.writer.atomic(wait, f),
        })
    }

    /// Sandboxed calls running right now (for tests and `close`).
    pub fn sandboxed_running(&self) -> usize {
        self.plugins.state.lock().running
    }

    /// A sandboxed call that failed because the store closed under it reports `CLOSED`,
    /// whatever the engine said.
    fn closed_wins<T>(&self, res: Result<T>) -> Result<T> {
        match res {
            Err(_) if self.closed.load(Ordering::Acquire) => Err(Error::Closed("the SQL store")),
            other => other,
        }
    }

    /// `PRAGMA quick_check` (or `integrity_check` with `full`); returns the problems found.
    pub fn integrity_check(&self, full: bool) -> Result<Vec<String>> {
        let mut rows = OwnedRows::default();
        let sql = if full { "PRAGMA integrity_check" } else { "PRAGMA quick_check" };
        self.with_reader(|c| c.query(sql, &Params::None, &mut rows))?;
        let msgs: Vec<String> = rows
            .rows
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(Value::Text(t)) if t != "ok" => Some(t),
                _ => None,
            })
            .collect();
        Ok(msgs)
    }

    /// Pings idle readers, closing failed ones; returns how many were replaced.
    pub fn health_check(&self) -> Result<usize> {
        self.check_open()?;
        Ok(self.readers.health_check())
    }

    pub fn stats(&self) -> PoolStats {
        self.readers.stats()
    }

    /// Closes every connection. In-flight host statements finish; running plugin (sandboxed)
    /// statements are stopped with `CLOSED`, and `close` returns once they have (bounded, in
    /// case one is stuck outside SQLite's VM); later calls get `CLOSED`; an open transaction
    /// is rolled back.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            // Wakes plugin calls waiting for a reader slot (under the lock: no lost wake-up).
            drop(self.plugins.state.lock());
            self.plugins.cv.notify_all();
            self.readers.close();
            self.writer.close();
            self.plugins.drain(Duration::from_secs(10));
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// Version of the bundled SQLite (SQLite3MultipleCiphers build of libsql).
pub fn sqlite_version() -> &'static str {
    rusqlite::version()
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("path", &self.path).field("closed", &self.is_closed()).finish()
    }
}
