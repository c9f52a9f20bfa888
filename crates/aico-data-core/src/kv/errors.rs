//! RocksDB errors -> core errors, and the argument checks shared by every KV call.

use rocksdb::ErrorKind;

use super::options::{MAX_KEY_BYTES, MAX_NAMESPACE_BYTES, MAX_TOPIC_BYTES, MAX_VALUE_BYTES};
use crate::error::{Error, Result};

/// Maps a RocksDB error to the core error with the right stable code. A held `LOCK` file
/// (another process, or another handle in this one) becomes `LOCKED` naming the file.
pub(crate) fn map_rocks(e: rocksdb::Error) -> Error {
    let msg = e.to_string();
    if is_lock_error(&msg) {
        return Error::Locked(format!(
            "the KV store is open elsewhere (RocksDB admits one writer per folder): {msg}; close the other \
             handle or process, or open with onLocked: 'readOnly'"
        ));
    }
    match e.kind() {
        ErrorKind::Corruption => Error::Corrupt(format!("rocksdb: {msg}")),
        ErrorKind::IOError => Error::Io(format!("rocksdb: {msg}")),
        ErrorKind::Busy | ErrorKind::TimedOut | ErrorKind::TryAgain => Error::Busy(format!("rocksdb: {msg}")),
        ErrorKind::ShutdownInProgress => Error::Closed("the KV store"),
        ErrorKind::ColumnFamilyDropped => Error::invalid(format!("the namespace was dropped: {msg}")),
        _ => Error::Internal(format!("rocksdb: {msg}")),
    }
}

/// RocksDB reports a held lock as an IO error mentioning the `LOCK` file: "While lock file:
/// .../LOCK: Resource temporarily unavailable" (other process) or "lock hold by current
/// process" (same process).
fn is_lock_error(msg: &str) -> bool {
    msg.contains("/LOCK") || msg.contains("\\LOCK") || msg.contains("lock hold by current process")
}

pub(crate) fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("key must not be empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid(format!("key is {} bytes, more than the {MAX_KEY_BYTES}-byte limit", key.len())));
    }
    Ok(())
}

pub(crate) fn check_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Error::invalid(format!("value is {} bytes, more than the {MAX_VALUE_BYTES}-byte limit", value.len())));
    }
    Ok(())
}

/// Namespace names: 1-64 bytes of `[A-Za-z0-9_.-]`, starting with a letter or digit, and not
/// `default` (RocksDB's own column family, used for the store's metadata).
pub(crate) fn check_namespace_name(name: &str) -> Result<()> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-');
    let ok_first = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if !ok_chars || !ok_first || name.len() > MAX_NAMESPACE_BYTES {
        return Err(Error::invalid(format!(
            "namespace name {name:?}: use 1-{MAX_NAMESPACE_BYTES} characters of A-Z a-z 0-9 _ . -, starting with a letter or digit"
        )));
    }
    if name == "default" {
        return Err(Error::invalid("namespace name \"default\" is reserved for the store's metadata"));
    }
    Ok(())
}

/// Topics: 1-256 bytes of UTF-8 without NUL (NUL ends the topic inside queue keys).
pub(crate) fn check_topic(topic: &str) -> Result<()> {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES || topic.contains('\0') {
        return Err(Error::invalid(format!("queue topic must be 1-{MAX_TOPIC_BYTES} bytes without NUL characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_checks() {
        assert_eq!(check_key(b"").unwrap_err().code(), "INVALID_ARGUMENT");
        assert!(check_key(&vec![1u8; MAX_KEY_BYTES]).is_ok());
        assert_eq!(check_key(&vec![1u8; MAX_KEY_BYTES + 1]).unwrap_err().code(), "INVALID_ARGUMENT");
        assert!(check_value(b"").is_ok());
        for bad in ["", "default", "_x", "a b", "é", &"x".repeat(65)] {
            assert_eq!(check_namespace_name(bad).unwrap_err().code(), "INVALID_ARGUMENT", "{bad:?}");
        }
        for good in ["cache", "user.prefs", "A-1_b"] {
            check_namespace_name(good).unwrap();
        }
        assert!(check_topic("a\0b").is_err());
        assert!(check_topic("events/user").is_ok());
        assert!(is_lock_error("IO error: While lock file: /tmp/x/kv/LOCK: Resource temporarily unavailable"));
        assert!(is_lock_error("IO error: lock hold by current process, acquire time 1 acquiring thread 2: x"));
    }
}
