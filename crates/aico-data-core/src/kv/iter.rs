//! Ordered scans as a stateless, batched cursor: each call returns up to `limit` live
//! entries plus the last key it visited; the next call resumes after that key. No RocksDB
//! iterator outlives a call, so an abandoned scan holds nothing and `close` never waits on
//! one. Each page is read from one consistent view; pages are not one snapshot (an entry
//! written between pages shows up if it sorts after the cursor).

use std::ops::Bound;

use rocksdb::ReadOptions;

use super::errors::map_rocks;
use super::seal::{header, Unsealed};
use super::store::KvStore;
use super::ttl::{is_expired, now_ms};
use crate::error::{Error, Result};

/// Which keys a scan covers, in which direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRange {
    pub lower: Bound<Vec<u8>>,
    pub upper: Bound<Vec<u8>>,
    pub reverse: bool,
}

impl Default for ScanRange {
    fn default() -> Self {
        ScanRange { lower: Bound::Unbounded, upper: Bound::Unbounded, reverse: false }
    }
}

impl ScanRange {
    /// Every key starting with `prefix`.
    pub fn prefix(prefix: &[u8]) -> ScanRange {
        let upper = prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded);
        ScanRange { lower: Bound::Included(prefix.to_vec()), upper, reverse: false }
    }

    /// Narrows this range to keys starting with `prefix` as well.
    pub fn with_prefix(mut self, prefix: &[u8]) -> ScanRange {
        let p = ScanRange::prefix(prefix);
        if lower_start(&self.lower).is_none_or(|l| l.as_slice() < prefix) {
            self.lower = p.lower;
        }
        if let Bound::Excluded(end) = &p.upper {
            if upper_end(&self.upper).is_none_or(|u| u > *end) {
                self.upper = p.upper;
            }
        }
        self
    }
}

/// The smallest key above every key starting with `prefix` (None: no such key).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// `k` followed by 0x00: the smallest key greater than `k`.
fn successor(k: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(k.len() + 1);
    s.extend_from_slice(k);
    s.push(0);
    s
}

/// Inclusive start of a lower bound.
fn lower_start(b: &Bound<Vec<u8>>) -> Option<Vec<u8>> {
    match b {
        Bound::Included(k) => Some(k.clone()),
        Bound::Excluded(k) => Some(successor(k)),
        Bound::Unbounded => None,
    }
}

/// Exclusive end of an upper bound.
fn upper_end(b: &Bound<Vec<u8>>) -> Option<Vec<u8>> {
    match b {
        Bound::Included(k) => Some(successor(k)),
        Bound::Excluded(k) => Some(k.clone()),
        Bound::Unbounded => None,
    }
}

/// One page of a scan.
pub struct ScanPage {
    /// Live entries in scan order; values are `None` for key-only scans.
    pub entries: Vec<(Vec<u8>, Option<Unsealed>)>,
    /// The last key visited (live or expired): pass it as `after` to continue.
    pub last: Option<Vec<u8>>,
    /// True when the range is exhausted.
    pub done: bool,
}

impl KvStore {
    /// Up to `limit` live entries of `range` in `ns` after the cursor key `after` (in scan
    /// direction). Expired entries are skipped without being decrypted.
    pub fn scan(&self, ns: &str, range: &ScanRange, after: Option<&[u8]>, limit: usize, keys_only: bool) -> Result<ScanPage> {
        if limit == 0 {
            return Err(Error::invalid("scan limit must be at least 1"));
        }
        let mut lo = lower_start(&range.lower);
        let mut hi = upper_end(&range.upper);
        if let Some(a) = after {
            if range.reverse {
                hi = Some(hi.map_or_else(|| a.to_vec(), |h| h.min(a.to_vec())));
            } else {
                let next = successor(a);
                lo = Some(match lo {
                    Some(l) => l.max(next),
                    None => next,
                });
            }
        }
        if let (Some(l), Some(h)) = (&lo, &hi) {
            if l >= h {
                return Ok(ScanPage { entries: Vec::new(), last: None, done: true });
            }
        }
        self.with(|o| {
            let (cf, _) = o.user_cf(ns)?;
            let mut ro = ReadOptions::default();
            if let Some(l) = lo {
                ro.set_iterate_lower_bound(l);
            }
            if let Some(h) = hi {
                ro.set_iterate_upper_bound(h);
            }
            let mut it = o.db.raw_iterator_cf_opt(cf, ro);
            if range.reverse {
                it.seek_to_last();
            } else {
                it.seek_to_first();
            }
            let now = now_ms();
            let mut page = ScanPage { entries: Vec::with_capacity(limit.min(1024)), last: None, done: false };
            while let Some((k, v)) = it.item() {
                if page.entries.len() == limit {
                    return Ok(page);
                }
                if !is_expired(header(v)?.1, now) {
                    let value = if keys_only { None } else { self.open_value(v, ns, k, now)? };
                    if keys_only || value.is_some() {
                        page.entries.push((k.to_vec(), value));
                    }
                }
                page.last = Some(k.to_vec());
                if range.reverse {
                    it.prev();
                } else {
                    it.next();
                }
            }
            it.status().map_err(map_rocks)?;
            page.done = true;
            Ok(page)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xFF]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        let r = ScanRange::prefix(b"user:");
        assert_eq!(r.lower, Bound::Included(b"user:".to_vec()));
        assert_eq!(r.upper, Bound::Excluded(b"user;".to_vec()));
        let narrowed = ScanRange { lower: Bound::Included(b"user:5".to_vec()), ..Default::default() }.with_prefix(b"user:");
        assert_eq!(narrowed.lower, Bound::Included(b"user:5".to_vec()));
        assert_eq!(narrowed.upper, Bound::Excluded(b"user;".to_vec()));
    }
}
