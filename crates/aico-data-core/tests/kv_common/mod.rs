//! Helpers shared by the KV integration tests: a real data folder, its KV store, and raw
//! RocksDB access to the same files (to inspect or tamper with what is on disk).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::kv::{KvOptions, KvStore, KV_DIR};

pub const PASSWORD: &[u8] = b"kv test password";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub folder: Folder,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(&dir.path().join("data"), PASSWORD, true, None).unwrap();
        Fixture { dir, folder }
    }

    pub fn kv_path(&self) -> PathBuf {
        self.folder.dir().join(KV_DIR)
    }

    pub fn open(&self) -> KvStore {
        self.open_with(KvOptions::default()).unwrap()
    }

    pub fn open_with(&self, opts: KvOptions) -> aico_data_core::Result<KvStore> {
        KvStore::open(&self.kv_path(), self.folder.store_key(Store::Rocksdb), opts)
    }
}

/// Opens the store's files with plain RocksDB (no sealing): what an attacker with the files sees.
pub fn raw_db(path: &Path) -> rocksdb::DB {
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), path).unwrap();
    rocksdb::DB::open_cf(&rocksdb::Options::default(), path, &names).unwrap()
}

/// Every byte of every file under `dir` (SSTs, WAL, MANIFEST, LOG...).
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.extend(std::fs::read(p).unwrap());
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
