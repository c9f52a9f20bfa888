//! The on-disk record envelope of every KV value and queue message.
//!
//! ```text
//! stored  = format (1) || time (u64 BE, 8) || keys::seal(K, time (u64 BE, 8) || body, aad)
//! aad     = namespace (UTF-8) || 0x00 || key
//! K       = the folder's RocksDB store key (HKDF label "rocksdb")
//! ```
//!
//! `format` 1 is a KV value and `time` its expiry in Unix milliseconds (0 = never); format 2
//! is a queue message and `time` the moment it becomes visible. The plaintext copy of `time`
//! exists so that the compaction filter can drop expired values, and the queue can skip
//! leased messages, without the key and without decrypting. The sealed copy is authoritative:
//! opening a record whose plaintext `time` differs from the sealed one fails with `CORRUPT`,
//! so moving an expiry forward on disk is detected. (Moving it backward makes a value vanish
//! early, which is no more than deleting it, which an attacker who can write the files can
//! do anyway.) What the plaintext copy leaks: each value's expiry, hence, with a namespace
//! TTL, roughly when it was written; RocksDB's sequence numbers and file times say as much.
//!
//! The namespace name contains no NUL, so `aad` is unambiguous; binding it means a value
//! copied to another key or namespace fails to open (`CORRUPT`).
//!
//! Nonces: a random 128-bit prefix drawn at open followed by a 64-bit counter. That keeps the
//! 192-bit XChaCha20 nonces unique (the property AEAD needs) without a syscall per write.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::keys::xchacha::{self, NONCE_LEN, TAG_LEN};
use crate::keys::StoreKey;

/// A KV value; `time` is its expiry.
pub(crate) const FORMAT_VALUE: u8 = 1;
/// A queue message; `time` is when it becomes visible.
pub(crate) const FORMAT_QUEUE: u8 = 2;
pub(crate) const HEADER_LEN: usize = 9;
const TIME_LEN: usize = 8;
/// First byte of the sealed part: the envelope version of `keys::seal` (1), whose layout
/// `version || nonce || ciphertext || tag` records keep.
const SEALED_VERSION: u8 = 1;

/// Reads the plaintext header `(format, time)` without opening the record.
pub(crate) fn header(stored: &[u8]) -> Result<(u8, u64)> {
    if stored.len() < HEADER_LEN {
        return Err(Error::Corrupt(format!("KV record of {} bytes is shorter than its header", stored.len())));
    }
    let time = u64::from_be_bytes(stored[1..HEADER_LEN].try_into().expect("8 bytes"));
    Ok((stored[0], time))
}

/// An opened record: the sealed plaintext `time || body`. Zeroized on drop.
pub struct Unsealed {
    inner: Vec<u8>,
}

impl std::fmt::Debug for Unsealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unsealed(<{} bytes redacted>)", self.inner.len())
    }
}

impl Unsealed {
    pub fn time(&self) -> u64 {
        u64::from_be_bytes(self.inner[..TIME_LEN].try_into().expect("checked at open"))
    }

    /// The value (or message) bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.inner[TIME_LEN..]
    }

    /// The bytes as an owned vector (moves them down by 8 bytes).
    pub fn into_vec(mut self) -> Vec<u8> {
        let mut v = std::mem::take(&mut self.inner);
        v.drain(..TIME_LEN);
        v
    }
}

impl Drop for Unsealed {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.inner);
    }
}

/// Seals and opens records under the store key.
pub(crate) struct Sealer {
    key: StoreKey,
    nonce_prefix: [u8; 16],
    counter: AtomicU64,
}

impl Sealer {
    pub(crate) fn new(key: StoreKey) -> Result<Sealer> {
        let mut nonce_prefix = [0u8; 16];
        crate::random::fill(&mut nonce_prefix)?;
        Ok(Sealer { key, nonce_prefix, counter: AtomicU64::new(0) })
    }

    fn next_nonce(&self) -> [u8; NONCE_LEN] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..16].copy_from_slice(&self.nonce_prefix);
        nonce[16..].copy_from_slice(&n.to_be_bytes());
        nonce
    }

    /// Seals `body` (given in parts, concatenated) as a record of `format` with `time`. One
    /// allocation: the plaintext is written into the output and encrypted in place.
    pub(crate) fn seal(&self, format: u8, time: u64, namespace: &str, key: &[u8], body: &[&[u8]]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_into(&mut out, format, time, namespace, key, body);
        Ok(out)
    }

    /// `seal` into `out` (cleared first): lets a batch reuse one buffer for every record.
    pub(crate) fn seal_into(&self, out: &mut Vec<u8>, format: u8, time: u64, namespace: &str, key: &[u8], body: &[&[u8]]) {
        let ct_len = TIME_LEN + body.iter().map(|p| p.len()).sum::<usize>();
        let nonce = self.next_nonce();
        out.clear();
        out.reserve(HEADER_LEN + 1 + NONCE_LEN + ct_len + TAG_LEN);
        out.push(format);
        out.extend_from_slice(&time.to_be_bytes());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(&time.to_be_bytes());
        for part in body {
            out.extend_from_slice(part);
        }
        let tag = xchacha::seal_in_place(self.key.bytes(), &nonce, &[namespace.as_bytes(), &[0], key], &mut out[start..]);
        out.extend_from_slice(&tag);
    }

    /// Opens a record stored under `namespace`/`key`. Tampered bytes, a record moved from
    /// another key, or a plaintext time that disagrees with the sealed one: `CORRUPT`.
    pub(crate) fn open(&self, stored: &[u8], namespace: &str, key: &[u8]) -> Result<(u8, Unsealed)> {
        let (format, time) = header(stored)?;
        let sealed = &stored[HEADER_LEN..];
        let failed = || {
            Error::Corrupt(format!(
                "the value of {namespace}/{} failed authentication (tampered, moved from another key, or written under another key)",
                printable(key)
            ))
        };
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEALED_VERSION {
            return Err(failed());
        }
        let nonce: &[u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().expect("length checked");
        let (ct, tag) = sealed[1 + NONCE_LEN..].split_at(sealed.len() - 1 - NONCE_LEN - TAG_LEN);
        let mut inner = Unsealed { inner: ct.to_vec() };
        if !xchacha::open_in_place(self.key.bytes(), nonce, &[namespace.as_bytes(), &[0], key], &mut inner.inner, tag) {
            return Err(failed());
        }
        if inner.inner.len() < TIME_LEN || inner.inner[..TIME_LEN] != time.to_be_bytes() {
            return Err(Error::Corrupt(format!("the plaintext expiry of {namespace}/{} was altered on disk", printable(key))));
        }
        Ok((format, inner))
    }
}

impl Sealer {
    /// `open` into the caller's buffer instead of a new allocation: the value (the record's
    /// body, without its time) lands at `out[..n]` and `Some(n)` comes back; `None` (nothing
    /// written) when it does not fit. The caller checks the format and the expiry first.
    pub(crate) fn open_into(&self, stored: &[u8], namespace: &str, key: &[u8], out: &mut [u8]) -> Result<Option<usize>> {
        let (_, time) = header(stored)?;
        let sealed = &stored[HEADER_LEN..];
        if sealed.len() < 1 + NONCE_LEN + TAG_LEN + TIME_LEN || sealed[0] != SEALED_VERSION {
            return self.open(stored, namespace, key).map(|_| None); // the detailed error
        }
        let nonce: &[u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().expect("length checked");
        let (ct, tag) = sealed[1 + NONCE_LEN..].split_at(sealed.len() - 1 - NONCE_LEN - TAG_LEN);
        let Some(buf) = out.get_mut(..ct.len()) else { return Ok(None) };
        buf.copy_from_slice(ct);
        if !xchacha::open_in_place(self.key.bytes(), nonce, &[namespace.as_bytes(), &[0], key], buf, tag) {
            return self.open(stored, namespace, key).map(|_| None); // the detailed error
        }
        if buf[..TIME_LEN] != time.to_be_bytes() {
            zeroize::Zeroize::zeroize(buf);
            return Err(Error::Corrupt(format!("the plaintext expiry of {namespace}/{} was altered on disk", printable(key))));
        }
        let n = ct.len() - TIME_LEN;
        buf.copy_within(TIME_LEN.., 0);
        zeroize::Zeroize::zeroize(&mut buf[n..]);
        Ok(Some(n))
    }
}

/// A key for error messages: UTF-8 text (truncated) or hex.
pub(crate) fn printable(key: &[u8]) -> String {
    let shown = &key[..key.len().min(64)];
    let more = if key.len() > 64 { "..." } else { "" };
    match std::str::from_utf8(shown) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}{more}"),
        _ => format!("0x{}{more}", hex::encode(shown)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(StoreKey::from_bytes([9u8; 32])).unwrap()
    }

    #[test]
    fn roundtrip_binds_place_and_time() {
        let s = sealer();
        let rec = s.seal(FORMAT_VALUE, 1234, "cache", b"k", &[b"hel", b"lo"]).unwrap();
        assert_eq!(header(&rec).unwrap(), (FORMAT_VALUE, 1234));
        let (f, o) = s.open(&rec, "cache", b"k").unwrap();
        assert_eq!((f, o.time(), o.bytes()), (FORMAT_VALUE, 1234, &b"hello"[..]));
        assert_eq!(o.into_vec(), b"hello");
        // moved to another key or namespace
        assert_eq!(s.open(&rec, "cache", b"k2").err().unwrap().code(), "CORRUPT");
        assert_eq!(s.open(&rec, "session", b"k").err().unwrap().code(), "CORRUPT");
        // plaintext expiry pushed forward
        let mut t = rec.clone();
        t[8] ^= 1;
        assert_eq!(s.open(&t, "cache", b"k").err().unwrap().code(), "CORRUPT");
        // any byte of the sealed part
        let mut t = rec.clone();
        let last = t.len() - 1;
        t[last] ^= 0x80;
        assert_eq!(s.open(&t, "cache", b"k").err().unwrap().code(), "CORRUPT");
        assert_eq!(header(&rec[..4]).unwrap_err().code(), "CORRUPT");
        // nonces differ between seals
        let again = s.seal(FORMAT_VALUE, 1234, "cache", b"k", &[b"hello"]).unwrap();
        assert_ne!(rec, again);
    }

    /// Records keep the `keys::seal` envelope: both implementations open each other's.
    #[test]
    fn same_envelope_as_keys_seal() {
        let s = sealer();
        let rec = s.seal(FORMAT_VALUE, 77, "cache", b"k", &[b"hello"]).unwrap();
        let inner = crate::keys::open(s.key.bytes(), &rec[HEADER_LEN..], b"cache\0k").unwrap();
        assert_eq!(inner, [&77u64.to_be_bytes()[..], b"hello"].concat());
        let nonce = [5u8; NONCE_LEN];
        let plain = [&9u64.to_be_bytes()[..], b"old"].concat();
        let sealed = crate::keys::aead::seal_with_nonce(s.key.bytes(), &nonce, &plain, b"cache\0k").unwrap();
        let old = [&[FORMAT_VALUE][..], &9u64.to_be_bytes(), &sealed].concat();
        let (_, o) = s.open(&old, "cache", b"k").unwrap();
        assert_eq!((o.time(), o.bytes()), (9, &b"old"[..]));
        assert_eq!(s.open(&old[..HEADER_LEN + 20], "cache", b"k").unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn open_into_a_buffer() {
        let s = sealer();
        let rec = s.seal(FORMAT_VALUE, 5, "cache", b"k", &[b"hello"]).unwrap();
        let mut out = [0xaau8; 16];
        assert_eq!(s.open_into(&rec, "cache", b"k", &mut out).unwrap(), Some(5));
        assert_eq!(&out[..5], b"hello");
        assert_eq!(&out[5..13], &[0u8; 8], "the shifted tail is wiped");
        assert_eq!(s.open_into(&rec, "cache", b"k", &mut [0u8; 12]).unwrap(), None, "13 bytes needed");
        assert_eq!(s.open_into(&rec, "cache", b"x", &mut out).unwrap_err().code(), "CORRUPT");
        let mut t = rec.clone();
        t[8] ^= 1;
        assert_eq!(s.open_into(&t, "cache", b"k", &mut out).unwrap_err().code(), "CORRUPT");
        assert_eq!(s.open_into(&rec[..HEADER_LEN + 30], "cache", b"k", &mut out).unwrap_err().code(), "CORRUPT");
    }

    #[test]
    fn printable_keys() {
        assert_eq!(printable(b"user:1"), "\"user:1\"");
        assert_eq!(printable(&[0, 255]), "0x00ff");
    }
}
