//! `KvStore`: opening, closing, point reads and writes, and namespace management.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};
use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, FlushOptions, WriteBatch, WriteOptions, DB};

use super::errors::{check_key, check_namespace_name, check_value, map_rocks};
use super::namespaces::{self, is_builtin, Tuning, BUILTIN_NAMESPACES, META_CF, QUEUE_NAMESPACE};
use super::options::{KvOptions, NamespaceOptions, OnLocked, QueueOptions, MAX_KEY_BYTES};
use super::queue::QueueState;
use super::seal::{header, Sealer, Unsealed, FORMAT_VALUE};
use super::ttl::{is_expired, now_ms, Ttl};
use super::wal_replay::{compare, skipping_replay_sequence, wal_bytes, WalReplay, CLEAN_CLOSE_MARKER};
use crate::error::{Error, Result};
use crate::keys::StoreKey;

/// Name of the KV store's directory inside a data folder.
pub const KV_DIR: &str = "kv";

/// How the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The one writer of this folder.
    Primary,
    /// A read-only secondary instance following the primary held by another handle or
    /// process (see [`KvStore::refresh`]).
    ReadOnly,
}

/// Whether a call may wait. `Block`: the synchronous API and the libuv pool. `Inline`: the
/// async API's first attempt on the JS thread, which gives up (nothing done) rather than
/// wait for a disk read, an fsync or a write slowdown; the caller then goes to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Block,
    Inline,
}

/// Largest payload (bytes) handled inline: sealing or opening more takes long enough to
/// belong on the pool.
pub const INLINE_MAX_BYTES: usize = 256 * 1024;

thread_local! {
    /// Read options per thread: creating them is an FFI allocation, once per thread is enough.
    static READ_ANY: rocksdb::ReadOptions = rocksdb::ReadOptions::default();
    static READ_MEMORY: rocksdb::ReadOptions = {
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_read_tier(rocksdb::ReadTier::BlockCache);
        ro
    };
}

/// Runs `f` with the read options for `wait`: any tier, or (inline) the memtables and the
/// block cache only, which makes a read that needs the disk fail with `Incomplete`.
pub(crate) fn with_read_options<T>(wait: Wait, f: impl FnOnce(&rocksdb::ReadOptions) -> T) -> T {
    match wait {
        Wait::Block => READ_ANY.with(f),
        Wait::Inline => READ_MEMORY.with(f),
    }
}

/// What [`KvStore::get_into`] found.
#[derive(Debug)]
pub enum ReadInto {
    /// Missing or expired.
    Missing,
    /// `Wait::Inline` only: the value is not in memory (nothing read).
    NotInMemory,
    /// The value is in `out[..n]`.
    Written(usize),
    /// The value, which did not fit in `out`.
    Value(Unsealed),
}

/// A namespace as listed by [`KvStore::namespaces`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInfo {
    pub name: String,
    pub options: NamespaceOptions,
    pub builtin: bool,
}

/// The open engine: the RocksDB handle plus the namespace table (both replaced only under
/// the write lock: creating or dropping a column family, closing).
pub(crate) struct Open {
    pub(crate) db: DB,
    pub(crate) namespaces: HashMap<String, NamespaceOptions>,
    tuning: Tuning,
    /// Options of column families created after open. RocksDB keeps raw pointers into them
    /// (the compaction filter) but `DB::create_cf` does not keep them alive, so they live
    /// here, dropped after `db` (fields drop in declaration order).
    created_cf_options: Vec<rocksdb::Options>,
}

impl Open {
    /// A namespace reachable by the key-value API (every namespace but `queue`).
    pub(crate) fn user_cf(&self, ns: &str) -> Result<(&ColumnFamily, &NamespaceOptions)> {
        if ns == QUEUE_NAMESPACE {
            return Err(Error::invalid("the queue namespace is managed by the queue API (enqueue/lease/ack)"));
        }
        self.any_cf(ns)
    }

    pub(crate) fn any_cf(&self, ns: &str) -> Result<(&ColumnFamily, &NamespaceOptions)> {
        let opts = self
            .namespaces
            .get(ns)
            .ok_or_else(|| Error::invalid(format!("unknown namespace {ns:?} (define it first with defineNamespace)")))?;
        let cf = self.db.cf_handle(ns).ok_or_else(|| Error::Internal(format!("column family {ns} missing")))?;
        Ok((cf, opts))
    }
}

/// The encrypted RocksDB key-value store of one data folder. See the module docs for the
/// record layout and what stays plaintext.
pub struct KvStore {
    path: PathBuf,
    state: RwLock<Option<Open>>,
    pub(crate) sealer: Sealer,
    pub(crate) write_opts: WriteOptions,
    /// `write_opts` that refuse to wait for a write slowdown (the async API's inline path).
    inline_write_opts: WriteOptions,
    sync: bool,
    pub(crate) queue: Mutex<QueueState>,
    pub(crate) queue_opts: QueueOptions,
    access: Access,
    /// The secondary instance's own directory (its info log and manifest copy), removed at close.
    secondary_dir: Option<PathBuf>,
    /// Set when a write failed with an I/O error (disk full): RocksDB then keeps a background
    /// error and refuses every later write until reopened (the crate exposes no `DB::resume`),
    /// so the next call reopens the engine in place, and writes resume once space is back.
    needs_reopen: std::sync::atomic::AtomicBool,
    /// What a failed reopen keeps for the next attempt.
    reopen_pending: Mutex<Option<(HashMap<String, NamespaceOptions>, Tuning)>>,
    /// What this open's WAL replay dropped (`None`: nothing, or not measured: read-only opens).
    wal_replay: Option<WalReplay>,
}

impl KvStore {
    /// Opens (creating when missing) the store at `path`, sealing values under `key` (the
    /// folder's `Store::Rocksdb` key). A store held by another process or handle fails with
    /// `LOCKED`, or opens read-only with `OnLocked::ReadOnly`.
    pub fn open(path: &Path, key: StoreKey, opts: KvOptions) -> Result<KvStore> {
        opts.validate()?;
        for (name, _) in &opts.namespaces {
            check_namespace_name(name)?;
        }
        let sealer = Sealer::new(key)?;
        let tuning = Tuning::new(&opts);
        let exists = path.join("CURRENT").exists();
        // Without CURRENT RocksDB would create a new, empty store beside the old files, silently
        // orphaning them: open without creating instead. RocksDB takes the lock before it looks
        // for CURRENT, so a store another opener is creating right now (MANIFEST written, CURRENT
        // not yet) fails with LOCKED, and only a missing CURRENT seen under the lock is damage
        // (the data layer degrades, `aico-data repair` salvages).
        let orphaning = !exists && !opts.read_only && holds_engine_files(path);
        let mut names: Vec<String> = if exists { DB::list_cf(&rocksdb::Options::default(), path).map_err(map_rocks)? } else { Vec::new() };
        for n in std::iter::once(META_CF).chain(BUILTIN_NAMESPACES.iter().copied()) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        // Measured before the real open (which flushes what it replayed), after a crash only: a
        // clean close leaves its marker, and the logs a clean close keeps live replay whole.
        let marker = path.join(CLEAN_CLOSE_MARKER);
        let probe = exists && !opts.read_only && !marker.exists() && wal_bytes(path) > 0;
        let skipping = if probe { skipping_replay_sequence(path) } else { None };
        let (db, access, secondary_dir) = if opts.read_only {
            if !exists {
                return Err(Error::Io(format!("no KV store at {} to open read-only", path.display())));
            }
            let (db, dir) = open_secondary(path, &tuning, &names)?;
            (db, Access::ReadOnly, Some(dir))
        } else {
            let descriptors = names.iter().map(|n| ColumnFamilyDescriptor::new(n, tuning.cf_options(&NamespaceOptions::default())));
            let mut db_opts = tuning.db_options(names.len());
            if orphaning {
                db_opts.create_if_missing(false);
            }
            match DB::open_cf_descriptors(&db_opts, path, descriptors) {
                Ok(db) => (db, Access::Primary, None),
                Err(e) => match map_rocks(e) {
                    err @ Error::Locked(_) if orphaning => return Err(err),
                    _ if orphaning => {
                        return Err(Error::Corrupt(format!(
                            "{}: CURRENT is missing but the store holds data files (MANIFEST, SST or WAL): damaged",
                            path.join("CURRENT").display()
                        )))
                    }
                    Error::Locked(_) if opts.on_locked == OnLocked::ReadOnly && exists => {
                        let (db, dir) = open_secondary(path, &tuning, &names)?;
                        (db, Access::ReadOnly, Some(dir))
                    }
                    err => return Err(err),
                },
            }
        };
        let writable = access == Access::Primary;
        let wal_replay = if writable { compare(skipping, db.latest_sequence_number()) } else { None };
        if writable {
            // From here on the store is live: a crash leaves no marker.
            let _ = std::fs::remove_file(&marker);
        }
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(opts.sync);
        let mut inline_write_opts = WriteOptions::default();
        inline_write_opts.set_no_slowdown(true);
        let store = KvStore {
            path: path.to_path_buf(),
            state: RwLock::new(None),
            sealer,
            write_opts,
            inline_write_opts,
            sync: opts.sync,
            queue: Mutex::new(QueueState::default()),
            queue_opts: opts.queue,
            access,
            secondary_dir,
            needs_reopen: std::sync::atomic::AtomicBool::new(false),
            reopen_pending: Mutex::new(None),
            wal_replay,
        };
        let open = store.reconcile_namespaces(db, tuning, &names, writable)?;
        *store.state.write() = Some(open);
        for (name, ns) in &opts.namespaces {
            if writable {
                store.define_namespace(name, *ns)?;
            }
        }
        store.load_queue()?;
        Ok(store)
    }

    /// Checks the format record, then makes the namespace table agree with the column
    /// families on disk (a crash between creating a column family and recording it, or
    /// between dropping one and forgetting it, is repaired here).
    fn reconcile_namespaces(&self, db: DB, tuning: Tuning, names: &[String], writable: bool) -> Result<Open> {
        namespaces::check_format(&db, &self.sealer, writable)?;
        let mut defined = namespaces::load(&db, &self.sealer)?;
        let mut batch = WriteBatch::default();
        defined.retain(|name, _| {
            let keep = names.iter().any(|n| n == name);
            if !keep && writable {
                let _ = namespaces::forget(&db, &mut batch, name);
            }
            keep
        });
        for name in names.iter().filter(|n| n.as_str() != META_CF) {
            if !defined.contains_key(name) {
                let ns = NamespaceOptions::default();
                if writable {
                    namespaces::save(&db, &mut batch, &self.sealer, name, &ns)?;
                }
                defined.insert(name.clone(), ns);
            }
        }
        if writable {
            db.write(batch).map_err(map_rocks)?;
            for (name, ns) in &defined {
                if ns.compression != NamespaceOptions::default().compression {
                    namespaces::apply_compression(&db, name, ns)?;
                }
            }
        }
        Ok(Open { db, namespaces: defined, tuning, created_cf_options: Vec::new() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the WAL replay of this open dropped (a damaged or torn log after a crash), if anything.
    pub fn wal_replay(&self) -> Option<WalReplay> {
        self.wal_replay
    }

    pub fn access(&self) -> Access {
        self.access
    }

    pub fn is_closed(&self) -> bool {
        self.state.read().is_none()
    }

    /// Runs `f` on the open engine under the read lock (operations run concurrently; close
    /// and namespace changes wait for them).
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Open) -> Result<T>) -> Result<T> {
        // Reads keep using the engine in its error state (RocksDB still serves them); only a
        // reopen that failed (no engine at all) is retried here.
        if self.needs_reopen.load(std::sync::atomic::Ordering::Acquire) && self.state.read().is_none() {
            self.reopen()?;
        }
        let g = self.state.read();
        match g.as_ref() {
            Some(open) => f(open),
            None => Err(Error::Closed("the KV store")),
        }
    }

    /// Like [`Self::with`], refusing on a read-only instance.
    pub(crate) fn with_writable<T>(&self, f: impl FnOnce(&Open) -> Result<T>) -> Result<T> {
        if self.needs_reopen.load(std::sync::atomic::Ordering::Acquire) {
            self.reopen()?;
        }
        self.with(|open| {
            self.check_writable()?;
            f(open)
        })
    }

    fn check_writable(&self) -> Result<()> {
        match self.access {
            Access::Primary => Ok(()),
            Access::ReadOnly => Err(Error::Locked(format!(
                "the KV store at {} is open read-only: another process or handle holds its LOCK file",
                self.path.display()
            ))),
        }
    }

    /// Opens a stored value record; `None` when it has expired.
    pub(crate) fn open_value(&self, stored: &[u8], ns: &str, key: &[u8], now: u64) -> Result<Option<Unsealed>> {
        let (format, expiry) = header(stored)?;
        if format != FORMAT_VALUE {
            return Err(Error::Corrupt(format!("record of {ns} has format {format}, not a value")));
        }
        if is_expired(expiry, now) {
            return Ok(None);
        }
        Ok(Some(self.sealer.open(stored, ns, key)?.1))
    }

    pub(crate) fn seal_value(&self, ns: &str, key: &[u8], value: &[u8], expiry: u64) -> Result<Vec<u8>> {
        self.sealer.seal(FORMAT_VALUE, expiry, ns, key, &[value])
    }

    /// The value of `key` in `ns`, or `None` (missing or expired).
    pub fn get(&self, ns: &str, key: &[u8]) -> Result<Option<Unsealed>> {
        Ok(self.get_as(ns, key, Wait::Block)?.expect("a blocking read always completes"))
    }

    /// `get`; with `Wait::Inline`, `Ok(None)` when the value is not in memory (a disk read
    /// would be needed).
    pub fn get_as(&self, ns: &str, key: &[u8], wait: Wait) -> Result<Option<Option<Unsealed>>> {
        check_key(key)?;
        self.with(|o| {
            let (cf, _) = o.user_cf(ns)?;
            match with_read_options(wait, |ro| o.db.get_pinned_cf_opt(cf, key, ro)) {
                Ok(Some(stored)) if wait == Wait::Inline && stored.len() > INLINE_MAX_BYTES => Ok(None),
                Ok(Some(stored)) => self.open_value(&stored, ns, key, now_ms()).map(Some),
                Ok(None) => Ok(Some(None)),
                Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => Ok(None),
                Err(e) => Err(map_rocks(e)),
            }
        })
    }

    /// `get_as` into the caller's buffer (the JS binding's slab), sparing an allocation and
    /// a copy per read. See [`ReadInto`].
    pub fn get_into(&self, ns: &str, key: &[u8], wait: Wait, out: &mut [u8]) -> Result<ReadInto> {
        check_key(key)?;
        self.with(|o| {
            let (cf, _) = o.user_cf(ns)?;
            let stored = match with_read_options(wait, |ro| o.db.get_pinned_cf_opt(cf, key, ro)) {
                Ok(Some(stored)) if wait == Wait::Inline && stored.len() > INLINE_MAX_BYTES => return Ok(ReadInto::NotInMemory),
                Ok(Some(stored)) => stored,
                Ok(None) => return Ok(ReadInto::Missing),
                Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => return Ok(ReadInto::NotInMemory),
                Err(e) => return Err(map_rocks(e)),
            };
            let (format, expiry) = header(&stored)?;
            if format != FORMAT_VALUE {
                return Err(Error::Corrupt(format!("record of {ns} has format {format}, not a value")));
            }
            if is_expired(expiry, now_ms()) {
                return Ok(ReadInto::Missing);
            }
            match self.sealer.open_into(&stored, ns, key, out)? {
                Some(n) => Ok(ReadInto::Written(n)),
                None => Ok(ReadInto::Value(self.sealer.open(&stored, ns, key)?.1)),
            }
        })
    }

    /// Applies `batch`. With `Wait::Inline` nothing is written and `Ok(false)` comes back
    /// when the write would wait: the store fsyncs every write (`sync`), or RocksDB would
    /// slow writes down because compaction is behind.
    pub(crate) fn write(&self, o: &Open, batch: WriteBatch, wait: Wait) -> Result<bool> {
        let opts = match wait {
            Wait::Block => &self.write_opts,
            Wait::Inline if self.sync => return Ok(false),
            Wait::Inline => &self.inline_write_opts,
        };
        match o.db.write_opt(batch, opts) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == rocksdb::ErrorKind::Incomplete => Ok(false),
            Err(e) => Err(self.note_write_error(e)),
        }
    }

    /// Maps a failed write's error; an I/O error (disk full, or the background error RocksDB
    /// keeps after one) schedules an in-place reopen before the next call.
    pub(crate) fn note_write_error(&self, e: rocksdb::Error) -> Error {
        if self.access == Access::Primary && e.kind() == rocksdb::ErrorKind::IOError && !e.to_string().contains("/LOCK") {
            self.needs_reopen.store(true, std::sync::atomic::Ordering::Release);
        }
        map_rocks(e)
    }

    /// Closes and reopens the RocksDB engine under the write lock (recovers from the background
    /// error of a disk-full write). Unflushed writes are in the WAL, replayed by the open. When
    /// the open fails (still no space), the flag stays set and the next call tries again; until
    /// then calls fail with that error.
    fn reopen(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        let mut g = self.state.write();
        if !self.needs_reopen.load(Ordering::Acquire) {
            return Ok(()); // another thread reopened it
        }
        // The namespace table and tuning survive a failed open attempt in `pending`.
        let (namespaces, tuning) = match g.take() {
            Some(Open { db, namespaces, tuning, created_cf_options }) => {
                db.cancel_all_background_work(true);
                drop(db);
                drop(created_cf_options);
                (namespaces, tuning)
            }
            None => match self.reopen_pending.lock().take() {
                Some(p) => p,
                None => return Err(Error::Closed("the KV store")),
            },
        };
        let mut names: Vec<String> = vec![META_CF.to_string()];
        names.extend(namespaces.keys().cloned());
        let descriptors = names
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(n, tuning.cf_options(namespaces.get(n).unwrap_or(&NamespaceOptions::default()))));
        match DB::open_cf_descriptors(&tuning.db_options(names.len()), &self.path, descriptors) {
            Ok(db) => {
                *g = Some(Open { db, namespaces, tuning, created_cf_options: Vec::new() });
                self.needs_reopen.store(false, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                *self.reopen_pending.lock() = Some((namespaces, tuning));
                Err(map_rocks(e))
            }
        }
    }

    /// True when `key` holds an unexpired value. Reads the plaintext header only: a
    /// tampered value still counts as present (its `get` fails with `CORRUPT`).
    pub fn has(&self, ns: &str, key: &[u8]) -> Result<bool> {
        check_key(key)?;
        self.with(|o| {
            let (cf, _) = o.user_cf(ns)?;
            match o.db.get_pinned_cf(cf, key).map_err(map_rocks)? {
                Some(stored) => Ok(!is_expired(header(&stored)?.1, now_ms())),
                None => Ok(false),
            }
        })
    }

    pub fn put(&self, ns: &str, key: &[u8], value: &[u8], ttl: Ttl) -> Result<()> {
        self.put_as(ns, key, value, ttl, Wait::Block).map(|_| ())
    }

    pub fn put_as(&self, ns: &str, key: &[u8], value: &[u8], ttl: Ttl, wait: Wait) -> Result<bool> {
        check_key(key)?;
        check_value(value)?;
        if wait == Wait::Inline && value.len() > INLINE_MAX_BYTES {
            return Ok(false);
        }
        self.with_writable(|o| {
            let (cf, opts) = o.user_cf(ns)?;
            let mut batch = WriteBatch::default();
            batch.put_cf(cf, key, self.seal_value(ns, key, value, ttl.expiry(opts.ttl_ms, now_ms()))?);
            self.write(o, batch, wait)
        })
    }

    pub fn delete(&self, ns: &str, key: &[u8]) -> Result<()> {
        self.delete_as(ns, key, Wait::Block).map(|_| ())
    }

    pub fn delete_as(&self, ns: &str, key: &[u8], wait: Wait) -> Result<bool> {
        check_key(key)?;
        self.with_writable(|o| {
            let (cf, _) = o.user_cf(ns)?;
            let mut batch = WriteBatch::default();
            batch.delete_cf(cf, key);
            self.write(o, batch, wait)
        })
    }

    /// Deletes every entry of `ns` (one range tombstone; space is reclaimed by compaction).
    /// Clearing `queue` drops every message, leased or dead.
    pub fn clear(&self, ns: &str) -> Result<()> {
        let _queue = (ns == QUEUE_NAMESPACE).then(|| self.queue.lock());
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(ns)?;
            // Every key is at most MAX_KEY_BYTES long, so it sorts below this end bound.
            let end = vec![0xFFu8; MAX_KEY_BYTES + 1];
            let mut b = WriteBatch::default();
            b.delete_range_cf(cf, [].as_slice(), end.as_slice());
            o.db.write_opt(b, &self.write_opts).map_err(|e| self.note_write_error(e))
        })
    }

    /// Creates namespace `name`, or updates its options (TTL applies to later puts;
    /// compression to files written from now on).
    pub fn define_namespace(&self, name: &str, ns: NamespaceOptions) -> Result<()> {
        check_namespace_name(name)?;
        if name == QUEUE_NAMESPACE && ns.ttl_ms.is_some() {
            return Err(Error::invalid("the queue namespace takes no TTL (messages live until acknowledged)"));
        }
        self.check_writable()?;
        let mut g = self.state.write();
        let open = g.as_mut().ok_or(Error::Closed("the KV store"))?;
        if open.namespaces.get(name) == Some(&ns) {
            return Ok(());
        }
        if open.db.cf_handle(name).is_none() {
            let cf_options = open.tuning.cf_options(&ns);
            open.db.create_cf(name, &cf_options).map_err(map_rocks)?;
            open.created_cf_options.push(cf_options);
        } else {
            namespaces::apply_compression(&open.db, name, &ns)?;
        }
        let mut batch = WriteBatch::default();
        namespaces::save(&open.db, &mut batch, &self.sealer, name, &ns)?;
        open.db.write_opt(batch, &self.write_opts).map_err(map_rocks)?;
        open.namespaces.insert(name.to_string(), ns);
        Ok(())
    }

    /// Drops a user-defined namespace and all its entries. Built-in namespaces stay.
    pub fn drop_namespace(&self, name: &str) -> Result<()> {
        if is_builtin(name) {
            return Err(Error::invalid(format!("the built-in namespace {name:?} cannot be dropped (use clear)")));
        }
        self.check_writable()?;
        let mut g = self.state.write();
        let open = g.as_mut().ok_or(Error::Closed("the KV store"))?;
        if !open.namespaces.contains_key(name) {
            return Err(Error::invalid(format!("unknown namespace {name:?}")));
        }
        open.db.drop_cf(name).map_err(map_rocks)?;
        let mut batch = WriteBatch::default();
        namespaces::forget(&open.db, &mut batch, name)?;
        open.db.write_opt(batch, &self.write_opts).map_err(map_rocks)?;
        open.namespaces.remove(name);
        Ok(())
    }

    /// Every namespace with its options, sorted by name.
    pub fn namespaces(&self) -> Result<Vec<NamespaceInfo>> {
        self.with(|o| {
            let mut out: Vec<NamespaceInfo> = o
                .namespaces
                .iter()
                .map(|(name, options)| NamespaceInfo { name: name.clone(), options: *options, builtin: is_builtin(name) })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    /// Compacts `ns` (or every namespace): expired values are dropped from disk.
    pub fn compact(&self, ns: Option<&str>) -> Result<()> {
        self.with_writable(|o| {
            let names: Vec<&str> = match ns {
                Some(n) => vec![n],
                None => o.namespaces.keys().map(String::as_str).collect(),
            };
            for n in names {
                let (cf, _) = o.any_cf(n)?;
                o.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
            }
            Ok(())
        })
    }

    /// Removes deleted keys from every file of the store (forgetUser): flushes every memtable,
    /// compacts every namespace, then reopens the engine in place. Flushing all column families
    /// lets RocksDB delete the write-ahead logs that held the deleted keys; the reopen replaces
    /// the MANIFEST, whose old version edits still named them as SST boundary keys.
    pub fn scrub(&self) -> Result<()> {
        self.with_writable(|o| {
            flush_all(o)?;
            for n in o.namespaces.keys() {
                let (cf, _) = o.any_cf(n)?;
                o.db.compact_range_cf(cf, None::<&[u8]>, None::<&[u8]>);
            }
            Ok(())
        })?;
        self.needs_reopen.store(true, std::sync::atomic::Ordering::Release);
        self.reopen()
    }

    /// Writes every memtable to SST files and syncs the write-ahead log.
    pub fn flush(&self) -> Result<()> {
        self.with_writable(flush_all)
    }

    /// Read-only instances: catch up with the primary's latest writes. No-op on the primary.
    pub fn refresh(&self) -> Result<()> {
        self.with(|o| match self.access {
            Access::ReadOnly => o.db.try_catch_up_with_primary().map_err(map_rocks),
            Access::Primary => Ok(()),
        })
    }

    /// Flushes and closes now; later calls fail with `CLOSED`. Waits for running calls.
    /// RocksDB must be closed explicitly, not torn down late during process exit.
    pub fn close(&self) -> Result<()> {
        let taken = self.state.write().take();
        let Some(open) = taken else { return Ok(()) };
        let res = if self.access == Access::Primary { flush_all(&open) } else { Ok(()) };
        open.db.cancel_all_background_work(true);
        drop(open);
        if self.access == Access::Primary && res.is_ok() {
            // Best effort: without the marker the next open only probes the WAL once more.
            let _ = std::fs::write(self.path.join(CLEAN_CLOSE_MARKER), b"");
        }
        if let Some(dir) = &self.secondary_dir {
            let _ = std::fs::remove_dir_all(dir);
            // The parent goes too when no other reader uses it (fails harmlessly otherwise).
            if let Some(parent) = dir.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
        res
    }
}

/// True when `path` holds RocksDB manifest, table or WAL files (`MANIFEST-*`, `*.sst`, `<n>.log`).
fn holds_engine_files(path: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(path) else { return false };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with("MANIFEST-")
            || name.ends_with(".sst")
            || name.strip_suffix(".log").is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Flushes the namespaces' column families. Not the namespace table (`default`): its records keep
/// the WAL that holds them live, and with it every later WAL (up to RocksDB's total WAL size), so a
/// truncated MANIFEST (an older version of the store) is replayed back to the present from those
/// logs. Flushing it too was tried: a truncated MANIFEST then silently lost every write since the
/// version it fell back to (the tamper matrix caught it).
fn flush_all(o: &Open) -> Result<()> {
    let cfs: Vec<&ColumnFamily> = o.namespaces.keys().filter_map(|n| o.db.cf_handle(n)).collect();
    let mut fo = FlushOptions::default();
    fo.set_wait(true);
    o.db.flush_cfs_opt(&cfs, &fo).map_err(map_rocks)?;
    o.db.flush_wal(true).map_err(map_rocks)
}

/// The parent of the read-only instances' scratch folders: beside the store, inside the data
/// folder (`<dir>/kv.readers`), not in the shared system temp folder.
pub fn secondary_parent(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "kv".into());
    path.with_file_name(format!("{name}.readers"))
}

/// Creates `dir` with mode 0700 (owner only).
#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // An existing folder (or one made under a lax umask) is tightened too.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates `dir` (no modes on this platform).
#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Removes scratch folders of read-only instances whose process is gone (killed before it
/// could remove its own). Names are `<pid>-<random>`; without /proc nothing is removed.
fn remove_stale_secondaries(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let gone = match pid {
            Some(p) => p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists(),
            None => false,
        };
        if gone {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Opens a secondary instance in a private scratch directory (RocksDB keeps the
/// secondary's info log and its view of the manifest there): `<dir>/kv.readers/<pid>-<random>`,
/// 0700, removed at close; one left by a killed process is removed at the next read-only open.
fn open_secondary(path: &Path, tuning: &Tuning, names: &[String]) -> Result<(DB, PathBuf)> {
    let mut rand = [0u8; 8];
    crate::random::fill(&mut rand)?;
    let parent = secondary_parent(path);
    create_private_dir(&parent).map_err(|e| Error::io(format!("creating {}", parent.display()), e))?;
    remove_stale_secondaries(&parent);
    let dir = parent.join(format!("{}-{}", std::process::id(), hex::encode(rand)));
    create_private_dir(&dir).map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let mut db_opts = tuning.db_options(names.len());
    db_opts.create_if_missing(false);
    db_opts.set_max_open_files(-1);
    let descriptors = names.iter().map(|n| ColumnFamilyDescriptor::new(n, tuning.cf_options(&NamespaceOptions::default())));
    match DB::open_cf_descriptors_as_secondary(&db_opts, path, dir.as_path(), descriptors) {
        Ok(db) => Ok((db, dir)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(map_rocks(e))
        }
    }
}

impl Drop for KvStore {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
