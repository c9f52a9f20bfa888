//! Expiry: the clock, how a put's TTL resolves against its namespace default, and the
//! compaction filter that physically drops expired values.

use std::time::{SystemTime, UNIX_EPOCH};

use rocksdb::CompactionDecision;

use super::seal::{header, FORMAT_VALUE};
use crate::error::{Error, Result};

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

    /// A put's `ttlMs` as the API takes it (a JS number): absent -> the namespace default;
    /// `0` or `Infinity` -> never; otherwise that many milliseconds, a fraction rounded up.
    /// NaN or negative: `INVALID_ARGUMENT`.
    pub fn from_ms(ms: Option<f64>) -> Result<Ttl> {
        match ms {
            None => Ok(Ttl::Default),
            Some(x) if x.is_nan() || x < 0.0 => Err(Error::invalid("ttlMs must be a non-negative number of milliseconds")),
            Some(x) if x.is_infinite() => Ok(Ttl::Never),
            Some(x) => Ok(Ttl::from_option_ms(Some(x.ceil() as u64))),
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

/// A duration (or a count) given as a number: whole milliseconds, a fraction rounded up.
/// NaN, negative or infinite: `INVALID_ARGUMENT` naming `what`.
pub fn whole_ms(x: f64, what: &str) -> Result<u64> {
    if !x.is_finite() || x < 0.0 {
        return Err(Error::invalid(format!("{what} must be a non-negative finite number")));
    }
    Ok(x.ceil() as u64)
}

/// A namespace's default TTL as the API takes it: absent or `0` -> none (values put without a
/// TTL never expire); otherwise [`whole_ms`] (so `Infinity` is refused here, unlike a put's).
pub fn namespace_ttl(ms: Option<f64>) -> Result<Option<u64>> {
    Ok(ms.map(|x| whole_ms(x, "ttlMs")).transpose()?.filter(|&t| t > 0))
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

    #[test]
    fn ttl_from_a_js_number() {
        assert_eq!(Ttl::from_ms(None).unwrap(), Ttl::Default);
        assert_eq!(Ttl::from_ms(Some(0.0)).unwrap(), Ttl::Never);
        assert_eq!(Ttl::from_ms(Some(-0.0)).unwrap(), Ttl::Never);
        assert_eq!(Ttl::from_ms(Some(f64::INFINITY)).unwrap(), Ttl::Never);
        assert_eq!(Ttl::from_ms(Some(1500.0)).unwrap(), Ttl::Ms(1500));
        assert_eq!(Ttl::from_ms(Some(0.2)).unwrap(), Ttl::Ms(1), "a fraction rounds up, never to 'never'");
        assert_eq!(Ttl::from_ms(Some(1e300)).unwrap(), Ttl::Ms(u64::MAX));
        for bad in [f64::NAN, -1.0, f64::NEG_INFINITY] {
            let e = Ttl::from_ms(Some(bad)).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(e.to_string(), "invalid argument: ttlMs must be a non-negative number of milliseconds");
        }
        // A put's TTL against the namespace default.
        assert_eq!(Ttl::from_ms(None).unwrap().expiry(Some(10), 100), 110);
        assert_eq!(Ttl::from_ms(Some(f64::INFINITY)).unwrap().expiry(Some(10), 100), 0);
        assert_eq!(Ttl::from_ms(Some(2.5)).unwrap().expiry(Some(10), 100), 103);
    }

    #[test]
    fn whole_ms_and_namespace_ttl() {
        assert_eq!(whole_ms(0.0, "delayMs").unwrap(), 0);
        assert_eq!(whole_ms(2.1, "delayMs").unwrap(), 3);
        for bad in [f64::NAN, -0.5, f64::INFINITY] {
            let e = whole_ms(bad, "visibilityMs").unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            assert_eq!(e.to_string(), "invalid argument: visibilityMs must be a non-negative finite number");
        }
        assert_eq!(namespace_ttl(None).unwrap(), None);
        assert_eq!(namespace_ttl(Some(0.0)).unwrap(), None, "0: no default expiry");
        assert_eq!(namespace_ttl(Some(999.5)).unwrap(), Some(1000));
        assert_eq!(
            namespace_ttl(Some(f64::INFINITY)).unwrap_err().to_string(),
            "invalid argument: ttlMs must be a non-negative finite number"
        );
        assert_eq!(namespace_ttl(Some(-1.0)).unwrap_err().code(), "INVALID_ARGUMENT");
    }
}
