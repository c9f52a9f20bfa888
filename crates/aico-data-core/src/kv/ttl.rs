//! Expiry: the clock, how a put's TTL resolves against its namespace default, and the
//! compaction filter that physically drops expired values.

use std::time::{SystemTime, UNIX_EPOCH};

use rocksdb::CompactionDecision;

use super::seal::{header, FORMAT_VALUE};

/// Unix time in milliseconds (wall clock: expiries must survive restarts).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The time to live of one put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ttl {
    /// The namespace's default TTL (none unless the namespace defines one).
    #[default]
    Default,
    /// Never expires, whatever the namespace default.
    Never,
    /// Expires this many milliseconds after the put.
    Ms(u64),
}

impl Ttl {
    /// From the TypeScript convention: `undefined` -> namespace default, `0` -> never.
    pub fn from_option_ms(ms: Option<u64>) -> Ttl {
        match ms {
            None => Ttl::Default,
            Some(0) => Ttl::Never,
            Some(ms) => Ttl::Ms(ms),
        }
    }

    /// Absolute expiry (Unix ms; 0 = never) for a put at `now`.
    pub(crate) fn expiry(self, namespace_default: Option<u64>, now: u64) -> u64 {
        let ms = match self {
            Ttl::Default => namespace_default,
            Ttl::Never => None,
            Ttl::Ms(ms) => Some(ms),
        };
        ms.map_or(0, |ms| now.saturating_add(ms).max(1))
    }
}

pub(crate) fn is_expired(expiry: u64, now: u64) -> bool {
    expiry != 0 && expiry <= now
}

/// Compaction filter installed on every column family: removes value records whose expiry
/// has passed. It reads only the plaintext header (no key, no decryption) and keeps anything
/// it does not recognise, so it can never destroy a queue message or a damaged record.
/// RocksDB turns a removal into a tombstone, so an older version below cannot reappear.
pub(crate) fn expiry_filter(_level: u32, _key: &[u8], value: &[u8]) -> CompactionDecision {
    match header(value) {
        Ok((FORMAT_VALUE, expiry)) if is_expired(expiry, now_ms()) => CompactionDecision::Remove,
        _ => CompactionDecision::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_resolution() {
        assert_eq!(Ttl::from_option_ms(None).expiry(Some(10), 100), 110);
        assert_eq!(Ttl::from_option_ms(None).expiry(None, 100), 0);
        assert_eq!(Ttl::from_option_ms(Some(0)).expiry(Some(10), 100), 0);
        assert_eq!(Ttl::from_option_ms(Some(5)).expiry(Some(10), 100), 105);
        assert_eq!(Ttl::Ms(u64::MAX).expiry(None, 100), u64::MAX);
        assert!(is_expired(5, 5) && !is_expired(0, 5) && !is_expired(6, 5));
    }
}
