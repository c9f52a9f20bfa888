//! XChaCha20-Poly1305 sealing with associated data.
//!
//! Sealed layout: `version (1) || nonce (24) || ciphertext || tag (16)`. The 192-bit random
//! nonce makes random nonces safe for any realistic number of messages under one key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{Error, Result};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;
const VERSION: u8 = 1;
/// Bytes added to a plaintext by [`seal`].
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Seals `plaintext` under `key`, binding `aad` (not stored; must be given again to open).
pub fn seal(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    crate::random::fill(&mut nonce)?;
    seal_with_nonce(key, &nonce, plaintext, aad)
}

pub(crate) fn seal_with_nonce(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let ct = cipher
        .encrypt(XNonce::from_slice(nonce), Payload { msg: plaintext, aad })
        .map_err(|_| Error::Internal("encryption failed".into()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a value made by [`seal`]. Any change to the bytes, the key or `aad` fails with
/// `Error::Decrypt` (code `CORRUPT`): never garbage returned as data.
pub fn open(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < OVERHEAD {
        return Err(Error::Decrypt(format!("sealed value is {} bytes, shorter than the {OVERHEAD}-byte envelope", sealed.len())));
    }
    if sealed[0] != VERSION {
        return Err(Error::Decrypt(format!("unknown sealed format version {}", sealed[0])));
    }
    let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(nonce, Payload { msg: &sealed[1 + NONCE_LEN..], aad })
        .map_err(|_| Error::Decrypt("authentication failed: wrong key, wrong associated data, or tampered bytes".into()))
}

/// HMAC-SHA256 of `data` under `key`: deterministic equality tokens for sealed fields.
pub fn hmac_sha256(key: &[u8; KEY_LEN], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"hello", b"ns:key").unwrap();
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(open(&key, &sealed, b"ns:key").unwrap(), b"hello");
        // wrong associated data
        assert_eq!(open(&key, &sealed, b"ns:other").unwrap_err().code(), "CORRUPT");
        // wrong key
        assert!(open(&[8u8; 32], &sealed, b"ns:key").is_err());
        // every single flipped bit is detected
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert!(open(&key, &t, b"ns:key").is_err(), "flip at {i} undetected");
        }
        assert!(open(&key, &sealed[..10], b"ns:key").is_err());
        // two seals of the same plaintext differ (random nonce)
        assert_ne!(seal(&key, b"hello", b"").unwrap(), seal(&key, b"hello", b"").unwrap());
    }
}
