//! The stores opened from one folder, held weakly, and what backups and key rotation
//! require of them.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::kv::{Access, KvStore};
use crate::sql::SqlStore;

/// The stores opened from one folder ([`super::Folder::open_stores`]), held weakly: closing or
/// dropping a store is unaffected, and a closed or dropped one no longer counts.
#[derive(Default)]
pub struct OpenStores {
    inner: Mutex<Handles>,
}

#[derive(Default)]
struct Handles {
    sql: Vec<Weak<SqlStore>>,
    kv: Vec<Weak<KvStore>>,
}

fn push<T>(list: &mut Vec<Weak<T>>, s: &Arc<T>) {
    list.retain(|w| w.strong_count() > 0);
    list.push(Arc::downgrade(s));
}

impl Handles {
    fn open_sql(&self) -> Option<Arc<SqlStore>> {
        self.sql.iter().rev().filter_map(Weak::upgrade).find(|s| !s.is_closed())
    }

    fn open_kv(&self) -> Option<Arc<KvStore>> {
        self.kv.iter().rev().filter_map(Weak::upgrade).find(|s| !s.is_closed())
    }
}

impl OpenStores {
    pub fn add_sql(&self, s: &Arc<SqlStore>) {
        push(&mut self.inner.lock().sql, s);
    }

    pub fn add_kv(&self, s: &Arc<KvStore>) {
        push(&mut self.inner.lock().kv, s);
    }

    /// What a backup copies: the latest open SQL store (`CLOSED` without one) and the latest
    /// open KV store, if any. `LOCKED` when that KV store is a read-only instance: only the
    /// process holding the writer can take a consistent checkpoint.
    pub fn backup_sources(&self) -> Result<(Arc<SqlStore>, Option<Arc<KvStore>>)> {
        let (sql, kv) = {
            let h = self.inner.lock();
            (h.open_sql(), h.open_kv())
        };
        let sql = sql.ok_or(Error::Closed("the SQL store"))?;
        if kv.as_ref().is_some_and(|k| k.access() == Access::ReadOnly) {
            return Err(Error::Locked("this process has the KV store open read-only: back up from the process that holds it".into()));
        }
        Ok((sql, kv))
    }

    /// A key rotation rewrites every store's files: `INVALID_ARGUMENT` while one is open.
    pub fn check_rotatable(&self) -> Result<()> {
        let h = self.inner.lock();
        if h.open_sql().is_some() || h.open_kv().is_some() {
            return Err(Error::invalid("close every store of this folder before rotating its keys"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::StoreKey;
    use crate::kv::{KvOptions, KV_DIR};
    use crate::sql::SqlOptions;

    #[test]
    fn backups_and_rotations_ask_the_registry() {
        let t = tempfile::tempdir().unwrap();
        let stores = OpenStores::default();
        fn msg<T>(r: Result<T>) -> String {
            match r {
                Err(e) => format!("{} {e}", e.code()),
                Ok(_) => panic!("accepted"),
            }
        }
        assert_eq!(msg(stores.backup_sources()), "CLOSED closed: the SQL store was closed");
        stores.check_rotatable().unwrap();

        let sql = Arc::new(SqlStore::open(&t.path().join("aico.db"), StoreKey::from_bytes([1; 32]), SqlOptions::default(), true).unwrap());
        stores.add_sql(&sql);
        let (s, kv) = stores.backup_sources().unwrap();
        assert!(Arc::ptr_eq(&s, &sql) && kv.is_none());
        drop(s);
        let refused = "INVALID_ARGUMENT invalid argument: close every store of this folder before rotating its keys";
        assert_eq!(msg(stores.check_rotatable()), refused);

        let kv_dir = t.path().join(KV_DIR);
        let kv = Arc::new(KvStore::open(&kv_dir, StoreKey::from_bytes([2; 32]), KvOptions::default()).unwrap());
        stores.add_kv(&kv);
        assert!(Arc::ptr_eq(stores.backup_sources().unwrap().1.as_ref().unwrap(), &kv));

        // Closed stores no longer count; a dropped one neither.
        sql.close();
        assert_eq!(msg(stores.backup_sources()), "CLOSED closed: the SQL store was closed");
        assert_eq!(msg(stores.check_rotatable()), refused, "the KV store is still open");
        drop(kv);
        stores.check_rotatable().unwrap();

        // A read-only KV instance cannot be backed up from.
        let sql2 =
            Arc::new(SqlStore::open(&t.path().join("aico.db"), StoreKey::from_bytes([1; 32]), SqlOptions::default(), false).unwrap());
        stores.add_sql(&sql2);
        let ro =
            Arc::new(KvStore::open(&kv_dir, StoreKey::from_bytes([2; 32]), KvOptions { read_only: true, ..KvOptions::default() }).unwrap());
        stores.add_kv(&ro);
        assert_eq!(
            msg(stores.backup_sources()),
            "LOCKED locked: this process has the KV store open read-only: back up from the process that holds it"
        );
        ro.close().unwrap();
        assert!(stores.backup_sources().unwrap().1.is_none());
        sql2.close();
        stores.check_rotatable().unwrap();
    }
}
