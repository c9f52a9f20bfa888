//! One encrypted libSQL connection: keyed, hardened and configured, with the statement
//! helpers every pooled connection shares.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libsql_sys::wal::{Sqlite3Wal, Sqlite3WalManager};
use libsql_sys::{Cipher, EncryptionConfig};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::{ToSqlOutput, ValueRef as SqlValueRef};
use rusqlite::{OpenFlags, ToSql};

use super::options::{SqlOptions, Synchronous};
use super::sandbox::SandboxPolicy;
use super::value::{Params, RowSink, RowView, RunResult, StatementInfo, Value, ValueRef};
use crate::error::{Error, Result};
use crate::keys::StoreKey;

/// SQL functions SQLite3MultipleCiphers registers on every connection that reach the file
/// system; an authorizer denies them so SQL can never read or write plaintext files.
const DENIED_FUNCTIONS: &[&str] = &["readfile", "writefile", "fsdir", "load_extension", "edit"];

/// Pragmas that could weaken encryption or leak plaintext (keys, cipher settings, memory
/// maps, temp files on disk, schema writes).
const DENIED_PRAGMAS: &[&str] = &[
    "key",
    "hexkey",
    "rekey",
    "hexrekey",
    "textkey",
    "cipher",
    "legacy",
    "legacy_page_size",
    "kdf_iter",
    "fast_kdf_iter",
    "hmac_use",
    "hmac_pgno",
    "hmac_salt_mask",
    "plaintext_header_size",
    "cipher_compatibility",
    "mmap_size",
    "temp_store",
    "temp_store_directory",
    "data_store_directory",
    "writable_schema",
    "journal_mode",
    "locking_mode",
    "query_only",
];

fn authorize(action: &AuthAction<'_>) -> Authorization {
    match *action {
        AuthAction::Function { function_name } => {
            if DENIED_FUNCTIONS.iter().any(|f| f.eq_ignore_ascii_case(function_name)) {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        AuthAction::Pragma { pragma_name, .. } => {
            if DENIED_PRAGMAS.iter().any(|p| p.eq_ignore_ascii_case(pragma_name)) {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        // Table-valued functions that list or read files.
        AuthAction::Read { table_name, .. } if ["fsdir", "zipfile"].iter().any(|t| t.eq_ignore_ascii_case(table_name)) => {
            Authorization::Deny
        }
        // ATTACH could bring in (or create) a plaintext database next to the encrypted one.
        AuthAction::Attach { .. } | AuthAction::Detach { .. } => Authorization::Deny,
        _ => Authorization::Allow,
    }
}

/// VM steps between two checks of a sandboxed statement's budget (~microseconds apart).
const PROGRESS_OPS: std::os::raw::c_int = 1000;

/// An open, keyed connection.
pub struct SqlConn {
    conn: libsql_sys::Connection<Sqlite3Wal>,
    /// The sandbox policy the authorizer applies, if any (shared with the callback).
    policy: Arc<Mutex<Option<SandboxPolicy>>>,
    /// Fast check for the hot path: is a sandbox active (then statements bypass the cache)?
    sandboxed: Cell<bool>,
}

/// A prepared statement, from the cache or freshly prepared (sandboxed statements).
pub(crate) enum Prepared<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Fresh(rusqlite::Statement<'c>),
}

impl<'c> std::ops::Deref for Prepared<'c> {
    type Target = rusqlite::Statement<'c>;
    fn deref(&self) -> &Self::Target {
        match self {
            Prepared::Cached(s) => s,
            Prepared::Fresh(s) => s,
        }
    }
}

impl std::ops::DerefMut for Prepared<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Prepared::Cached(s) => s,
            Prepared::Fresh(s) => s,
        }
    }
}

impl std::fmt::Debug for SqlConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqlConn")
    }
}

impl SqlConn {
    /// Opens (and, with `create`, creates) the encrypted database at `path`.
    /// `reader`: a pool reader, opened with `query_only` so it can never write.
    pub fn open(path: &Path, key: &StoreKey, opts: &SqlOptions, create: bool, reader: bool) -> Result<SqlConn> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let hex = key.hex();
        let cfg = EncryptionConfig::new(Cipher::Aes256Cbc, bytes::Bytes::copy_from_slice(hex.as_bytes()));
        let conn = libsql_sys::Connection::open(path, flags, Sqlite3WalManager::new(), 1000, Some(cfg)).map_err(|e| open_error(path, e))?;
        let c = SqlConn { conn, policy: Arc::new(Mutex::new(None)), sandboxed: Cell::new(false) };
        c.configure(opts, reader)?;
        Ok(c)
    }

    fn configure(&self, opts: &SqlOptions, reader: bool) -> Result<()> {
        let c = &*self.conn;
        // Reading the schema is the first access that decrypts page 1: a damaged file or
        // another key fails here, before anything is written.
        c.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))?;
        let sync = match opts.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        c.execute_batch(&format!(
            "PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=ON; \
             PRAGMA synchronous={sync}; PRAGMA cache_size=-{};",
            opts.cache_kib
        ))?;
        let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Internal(format!("journal mode is {mode}, expected wal")));
        }
        if reader {
            // Before the authorizer, which denies `query_only` to SQL callers.
            c.execute_batch("PRAGMA query_only=1")?;
        }
        c.busy_timeout(Duration::from_millis(opts.busy_timeout_ms as u64))?;
        c.set_prepared_statement_cache_capacity(opts.statement_cache);
        let policy = self.policy.clone();
        c.authorizer(Some(move |ctx: AuthContext<'_>| {
            if authorize(&ctx.action) != Authorization::Allow {
                return Authorization::Deny;
            }
            // A plugin's trigger or view body keeps its plugin's rights even when host SQL
            // fires or reads it (the host has every right; the body was written by the plugin).
            if let Some(owner) = ctx.accessor.and_then(SandboxPolicy::for_accessor) {
                if owner.authorize(&ctx.action) != Authorization::Allow {
                    return Authorization::Deny;
                }
            }
            // std Mutex: the callback must be RefUnwindSafe.
            match &*policy.lock().unwrap_or_else(|e| e.into_inner()) {
                Some(p) => p.authorize(&ctx.action),
                None => Authorization::Allow,
            }
        }));
        Ok(())
    }

    pub(crate) fn raw(&self) -> &rusqlite::Connection {
        &self.conn
    }

    /// Runs one statement; rows it returns (e.g. `RETURNING`) are discarded.
    pub fn run(&self, sql: &str, params: &Params) -> Result<RunResult> {
        let mut stmt = self.prepare(sql)?;
        bind(&mut stmt, params)?;
        let mut rows = stmt.raw_query();
        while rows.next()?.is_some() {}
        Ok(RunResult { changes: self.conn.changes(), last_insert_rowid: self.conn.last_insert_rowid() })
    }

    /// Runs one statement once per parameter set (a bulk insert), prepared once; rows it
    /// returns are discarded. `changes` is the sum; `last_insert_rowid` that of the last run.
    /// A bad parameter set fails with its 1-based position in the message.
    pub fn run_many(&self, sql: &str, list: &[Params]) -> Result<RunResult> {
        let mut stmt = self.prepare(sql)?;
        let mut changes = 0u64;
        for (i, params) in list.iter().enumerate() {
            bind(&mut stmt, params).map_err(|e| match e {
                Error::InvalidArgument(m) => Error::invalid(format!("parameter set {}: {m}", i + 1)),
                other => other,
            })?;
            let mut rows = stmt.raw_query();
            while rows.next()?.is_some() {}
            changes += self.conn.changes();
        }
        Ok(RunResult { changes, last_insert_rowid: self.conn.last_insert_rowid() })
    }

    /// Prepares `sql` (through the cache, under the authorizer) and says what it is.
    pub fn describe(&self, sql: &str) -> Result<StatementInfo> {
        let stmt = self.prepare(sql)?;
        Ok(StatementInfo {
            readonly: stmt.readonly(),
            columns: stmt.column_names().iter().map(|c| c.to_string()).collect(),
            parameters: stmt.parameter_count(),
        })
    }

    /// Runs one statement and streams its rows into `sink`.
    pub fn query(&self, sql: &str, params: &Params, sink: &mut dyn RowSink) -> Result<()> {
        query_stmt(self.prepare(sql)?, params, sink)
    }

    /// Prepares a statement: from the cache, or fresh while a sandbox is active (the
    /// authorizer only runs at prepare time, so a cached statement would bypass it).
    pub(crate) fn prepare(&self, sql: &str) -> Result<Prepared<'_>> {
        if self.sandboxed.get() {
            Ok(Prepared::Fresh(self.conn.prepare(sql)?))
        } else {
            Ok(Prepared::Cached(self.conn.prepare_cached(sql)?))
        }
    }

    /// Runs `f` with `policy` enforced on every statement it prepares, under the policy's time
    /// budget and value-size limit.
    pub fn sandboxed<T>(&self, policy: &SandboxPolicy, f: impl FnOnce(&SqlConn) -> Result<T>) -> Result<T> {
        self.sandboxed_with(policy, None, f)
    }

    /// Like [`SqlConn::sandboxed`]; the statement is also stopped (with `CLOSED`) as soon as
    /// `cancel` becomes true, which is how closing the store ends running plugin statements.
    pub(crate) fn sandboxed_with<T>(
        &self,
        policy: &SandboxPolicy,
        cancel: Option<&Arc<AtomicBool>>,
        f: impl FnOnce(&SqlConn) -> Result<T>,
    ) -> Result<T> {
        const RUNNING: u8 = 0;
        const CANCELLED: u8 = 1;
        const TIMED_OUT: u8 = 2;
        let limits = *policy.limits();
        let set = |p: Option<SandboxPolicy>| *self.policy.lock().unwrap_or_else(|e| e.into_inner()) = p;
        set(Some(policy.clone()));
        self.sandboxed.set(true);
        let c = &*self.conn;
        let prev_length = c.set_limit(Limit::SQLITE_LIMIT_LENGTH, limits.max_value_bytes.max(1));
        // The progress handler is the budget: SQLite calls it every PROGRESS_OPS VM steps, and
        // a `true` interrupts the statement (SQLITE_INTERRUPT, rolling back its writes). A
        // flag rather than sqlite3_interrupt for `cancel`: it also stops statements that had
        // not started yet when the store was closed.
        let stop = Arc::new(AtomicU8::new(RUNNING));
        let deadline = Instant::now() + limits.timeout;
        let (flag, cancel) = (stop.clone(), cancel.cloned());
        c.progress_handler(
            PROGRESS_OPS,
            Some(move || {
                if cancel.as_ref().is_some_and(|c| c.load(Ordering::Acquire)) {
                    flag.store(CANCELLED, Ordering::Release);
                    true
                } else if Instant::now() >= deadline {
                    flag.store(TIMED_OUT, Ordering::Release);
                    true
                } else {
                    false
                }
            }),
        );
        let out = f(self);
        c.progress_handler(0, None::<fn() -> bool>);
        c.set_limit(Limit::SQLITE_LIMIT_LENGTH, prev_length);
        self.sandboxed.set(false);
        set(None);
        match (out, stop.load(Ordering::Acquire)) {
            (Err(_), CANCELLED) => Err(Error::Closed("the SQL store")),
            (Err(_), TIMED_OUT) => Err(Error::Timeout(format!(
                "plugin statement ran past its time budget of {} ms and was stopped",
                limits.timeout.as_millis()
            ))),
            (out, _) => out,
        }
    }

    /// Runs a script of statements without parameters (schema files, migrations).
    pub fn exec_script(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(Into::into)
    }

    pub fn is_autocommit(&self) -> bool {
        self.conn.is_autocommit()
    }

    /// Cheap liveness check for the pool.
    pub fn ping(&self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(())).map_err(Into::into)
    }
}

/// Binds `params` to a prepared statement and streams its rows into `sink`.
///
/// The columns are read after the first step, not at prepare time: a cached statement whose
/// schema changed (`SELECT *` after `ALTER TABLE ADD COLUMN`) is re-prepared by that step, and
/// names taken before it would be the old ones (and the row one column short).
pub(crate) fn query_stmt(mut stmt: Prepared<'_>, params: &Params, sink: &mut dyn RowSink) -> Result<()> {
    bind(&mut stmt, params)?;
    let mut rows = stmt.raw_query();
    let mut n = None;
    while let Some(row) = rows.next()? {
        let n = match n {
            Some(n) => n,
            None => {
                let st: &rusqlite::Statement<'_> = row.as_ref();
                sink.columns(&st.column_names())?;
                *n.insert(st.column_count())
            }
        };
        if !sink.row(&Row { row, n })? {
            break;
        }
    }
    drop(rows);
    if n.is_none() {
        // No row: the (stepped, so current) statement still names the columns.
        sink.columns(&stmt.column_names())?;
    }
    Ok(())
}

fn open_error(path: &Path, err: rusqlite::Error) -> Error {
    match super::errors::map(err) {
        Error::Sql(m) => Error::Io(format!("cannot open {}: {m}", path.display())),
        Error::Io(m) => Error::Io(format!("cannot open {}: {m}", path.display())),
        other => other,
    }
}

struct Row<'a, 'b> {
    row: &'a rusqlite::Row<'b>,
    n: usize,
}

impl RowView for Row<'_, '_> {
    fn column_count(&self) -> usize {
        self.n
    }

    fn get(&self, index: usize) -> Result<ValueRef<'_>> {
        Ok(match self.row.get_ref(index)? {
            SqlValueRef::Null => ValueRef::Null,
            SqlValueRef::Integer(i) => ValueRef::Integer(i),
            SqlValueRef::Real(f) => ValueRef::Real(f),
            SqlValueRef::Text(t) => ValueRef::Text(t),
            SqlValueRef::Blob(b) => ValueRef::Blob(b),
        })
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => SqlValueRef::Null,
            Value::Integer(i) => SqlValueRef::Integer(*i),
            Value::Real(f) => SqlValueRef::Real(*f),
            Value::Text(s) => SqlValueRef::Text(s.as_bytes()),
            Value::Blob(b) => SqlValueRef::Blob(b),
        }))
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, params: &Params) -> Result<()> {
    let expected = stmt.parameter_count();
    match params {
        Params::None => {
            if expected != 0 {
                return Err(Error::invalid(format!("statement takes {expected} parameter(s), none given")));
            }
        }
        Params::Positional(values) => {
            if values.len() != expected {
                return Err(Error::invalid(format!("statement takes {expected} parameter(s), {} given", values.len())));
            }
            for (i, v) in values.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, v)?;
            }
        }
        Params::Named(pairs) => {
            let mut bound = 0usize;
            for (name, v) in pairs {
                let idx = [':', '@', '$']
                    .iter()
                    .find_map(|sigil| stmt.parameter_index(&format!("{sigil}{name}")).ok().flatten())
                    .ok_or_else(|| Error::invalid(format!("statement has no parameter named :{name}")))?;
                stmt.raw_bind_parameter(idx, v)?;
                bound += 1;
            }
            if bound != expected {
                let missing: Vec<String> = (1..=expected)
                    .filter_map(|i| stmt.parameter_name(i).map(str::to_string))
                    .filter(|n| !pairs.iter().any(|(k, _)| n.len() > 1 && &n[1..] == k))
                    .collect();
                return Err(Error::invalid(format!(
                    "statement takes {expected} parameter(s); missing {}",
                    if missing.is_empty() { "positional ones".to_string() } else { missing.join(", ") }
                )));
            }
        }
    }
    Ok(())
}
