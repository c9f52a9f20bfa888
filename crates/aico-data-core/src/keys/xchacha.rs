//! XChaCha20-Poly1305 for small records, without allocations: the KV store's hot path.
//!
//! Byte-for-byte the construction of `chacha20poly1305::XChaCha20Poly1305` (draft-irtf-cfrg-
//! xchacha / RFC 8439): HChaCha20 subkey from the first 16 nonce bytes, ChaCha20 with the
//! last 8, the Poly1305 key from block 0, the payload from block 1, and the tag over
//! `aad || pad16 || ciphertext || pad16 || le64(|aad|) || le64(|ciphertext|)`. Records written
//! by one open with the other (the tests check both directions on random inputs).
//!
//! Why not the crate: on the records the KV store seals (tens to hundreds of bytes) the
//! crate's runtime-selected AVX2 backends spend most of their time in fixed per-message set-up
//! (Poly1305 precomputes four powers of `r`; ChaCha20 computes four blocks at a time), which
//! made opening a 100-byte value cost ~2 µs, half of a `kv.get`. This portable code is
//! constant time (additions, rotations, xors and 64x64->128 multiplications only; the tag is
//! compared without early exit) and takes a few hundred nanoseconds per small record.
//!
//! `bash bench/xchacha/run.sh` (2026-12-04): against the crate's default backends this code
//! takes 0.20x the time at 32 B and 0.69x at 1 KB, and 1.10x at 2 KiB, 1.66x at 16 KiB; against
//! the crate built with its soft backends it is as fast (0.99-1.04x), but those are a build-wide
//! `cfg` that would slow every large seal (backups, big values) by 1.6x. So records from
//! [`CRATE_FROM`] bytes on go to the crate, smaller ones stay here.

use zeroize::Zeroize;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// The 20-round ChaCha permutation (no feed-forward). Scalar on purpose: the four
/// independent quarter-rounds of each half-round run in parallel on a superscalar core,
/// which measured faster here than one block in SSE2 rows (a longer dependency chain).
#[inline(always)]
fn rounds(s: &mut [u32; 16]) {
    for _ in 0..10 {
        quarter(s, 0, 4, 8, 12);
        quarter(s, 1, 5, 9, 13);
        quarter(s, 2, 6, 10, 14);
        quarter(s, 3, 7, 11, 15);
        quarter(s, 0, 5, 10, 15);
        quarter(s, 1, 6, 11, 12);
        quarter(s, 2, 7, 8, 13);
        quarter(s, 3, 4, 9, 14);
    }
}

#[inline(always)]
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

/// ChaCha20 (20 rounds, 32-bit counter, 96-bit nonce) keyed for one message.
struct ChaCha {
    state: [u32; 16],
}

impl ChaCha {
    /// XChaCha20: the subkey is HChaCha20(key, nonce[..16]); the ChaCha20 nonce is
    /// `0u32 || nonce[16..24]`.
    fn xchacha(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN]) -> ChaCha {
        let mut s = [0u32; 16];
        s[..4].copy_from_slice(&SIGMA);
        for i in 0..8 {
            s[4 + i] = le32(&key[4 * i..]);
        }
        for i in 0..4 {
            s[12 + i] = le32(&nonce[4 * i..]);
        }
        rounds(&mut s);
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&SIGMA);
        state[4..8].copy_from_slice(&s[..4]);
        state[8..12].copy_from_slice(&s[12..]);
        s.zeroize();
        // state[12] = block counter, state[13] = 0 (the 4 zero bytes of the nonce)
        state[14] = le32(&nonce[16..]);
        state[15] = le32(&nonce[20..]);
        ChaCha { state }
    }

    /// Keystream block `counter`.
    #[inline]
    fn block(&self, counter: u32, out: &mut [u8; 64]) {
        let mut x = self.state;
        x[12] = counter;
        let init = x;
        rounds(&mut x);
        for i in 0..16 {
            out[4 * i..4 * i + 4].copy_from_slice(&x[i].wrapping_add(init[i]).to_le_bytes());
        }
        x.zeroize();
    }

    /// XORs the keystream from block `counter` on into `data`.
    fn apply(&self, mut counter: u32, data: &mut [u8]) {
        let mut ks = Keystream([0u8; 64]);
        for chunk in data.chunks_mut(64) {
            self.block(counter, &mut ks.0);
            for (d, k) in chunk.iter_mut().zip(ks.0.iter()) {
                *d ^= k;
            }
            counter = counter.wrapping_add(1);
        }
    }
}

impl Drop for ChaCha {
    fn drop(&mut self) {
        self.state.zeroize();
    }
}

const M44: u64 = 0xfff_ffff_ffff;
const M42: u64 = 0x3ff_ffff_ffff;

/// Poly1305 (poly1305-donna, 64-bit limbs), fed in 16-byte-padded segments as the AEAD
/// construction does.
struct Poly {
    r: [u64; 3],
    s: [u64; 2],
    h: [u64; 3],
    pad: [u64; 2],
    buf: [u8; 16],
    used: usize,
}

impl Poly {
    fn new(key: &[u8; 32]) -> Poly {
        let t0 = le64(&key[0..]);
        let t1 = le64(&key[8..]);
        let r0 = t0 & 0xffc_0fff_ffff;
        let r1 = ((t0 >> 44) | (t1 << 20)) & 0xfff_ffc0_ffff;
        let r2 = (t1 >> 24) & 0x00f_ffff_fc0f;
        Poly {
            r: [r0, r1, r2],
            s: [r1 * (5 << 2), r2 * (5 << 2)],
            h: [0; 3],
            pad: [le64(&key[16..]), le64(&key[24..])],
            buf: [0; 16],
            used: 0,
        }
    }

    /// One full 16-byte block (with the 2^128 bit).
    #[inline(always)]
    fn block(&mut self, m: &[u8]) {
        let [r0, r1, r2] = self.r;
        let [s1, s2] = self.s;
        let [mut h0, mut h1, mut h2] = self.h;
        let t0 = le64(&m[0..]);
        let t1 = le64(&m[8..]);
        h0 += t0 & M44;
        h1 += ((t0 >> 44) | (t1 << 20)) & M44;
        h2 += ((t1 >> 24) & M42) | (1 << 40);
        let (h0w, h1w, h2w) = (h0 as u128, h1 as u128, h2 as u128);
        let d0 = h0w * r0 as u128 + h1w * s2 as u128 + h2w * s1 as u128;
        let mut d1 = h0w * r1 as u128 + h1w * r0 as u128 + h2w * s2 as u128;
        let mut d2 = h0w * r2 as u128 + h1w * r1 as u128 + h2w * r0 as u128;
        let mut c = (d0 >> 44) as u64;
        h0 = d0 as u64 & M44;
        d1 += c as u128;
        c = (d1 >> 44) as u64;
        h1 = d1 as u64 & M44;
        d2 += c as u128;
        c = (d2 >> 42) as u64;
        h2 = d2 as u64 & M42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= M44;
        h1 += c;
        self.h = [h0, h1, h2];
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.used > 0 {
            let take = (16 - self.used).min(data.len());
            self.buf[self.used..self.used + take].copy_from_slice(&data[..take]);
            self.used += take;
            data = &data[take..];
            if self.used < 16 {
                return;
            }
            let b = self.buf;
            self.block(&b);
            self.used = 0;
        }
        let mut chunks = data.chunks_exact(16);
        for b in &mut chunks {
            self.block(b);
        }
        let rest = chunks.remainder();
        self.buf[..rest.len()].copy_from_slice(rest);
        self.used = rest.len();
    }

    /// Zero-pads what was fed so far to a multiple of 16 bytes.
    fn pad16(&mut self) {
        if self.used > 0 {
            self.buf[self.used..].fill(0);
            let b = self.buf;
            self.block(&b);
            self.used = 0;
        }
    }

    fn finish(mut self) -> [u8; TAG_LEN] {
        let [mut h0, mut h1, mut h2] = self.h;
        let mut c = h1 >> 44;
        h1 &= M44;
        h2 += c;
        c = h2 >> 42;
        h2 &= M42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= M44;
        h1 += c;
        c = h1 >> 44;
        h1 &= M44;
        h2 += c;
        c = h2 >> 42;
        h2 &= M42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= M44;
        h1 += c;
        // g = h + -p; keep h when h < p (g negative), constant time
        let mut g0 = h0.wrapping_add(5);
        c = g0 >> 44;
        g0 &= M44;
        let mut g1 = h1.wrapping_add(c);
        c = g1 >> 44;
        g1 &= M44;
        let mut g2 = h2.wrapping_add(c).wrapping_sub(1 << 42);
        let mask = (g2 >> 63).wrapping_sub(1);
        g0 &= mask;
        g1 &= mask;
        g2 &= mask;
        let keep = !mask;
        h0 = (h0 & keep) | g0;
        h1 = (h1 & keep) | g1;
        h2 = (h2 & keep) | g2;
        // h + pad mod 2^128
        let [t0, t1] = self.pad;
        h0 += t0 & M44;
        c = h0 >> 44;
        h0 &= M44;
        h1 += (((t0 >> 44) | (t1 << 20)) & M44) + c;
        c = h1 >> 44;
        h1 &= M44;
        h2 += ((t1 >> 24) & M42) + c;
        h2 &= M42;
        let lo = h0 | (h1 << 44);
        let hi = (h1 >> 20) | (h2 << 24);
        let mut tag = [0u8; TAG_LEN];
        tag[..8].copy_from_slice(&lo.to_le_bytes());
        tag[8..].copy_from_slice(&hi.to_le_bytes());
        self.wipe();
        tag
    }

    fn wipe(&mut self) {
        self.r.zeroize();
        self.s.zeroize();
        self.h.zeroize();
        self.pad.zeroize();
        self.buf.zeroize();
    }
}

/// The cipher and the MAC of one message (keyed by keystream block 0), with `aad` (given
/// in parts, concatenated) already fed.
fn start(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[&[u8]]) -> (ChaCha, Poly) {
    let chacha = ChaCha::xchacha(key, nonce);
    let mut block0 = Keystream([0u8; 64]);
    chacha.block(0, &mut block0.0);
    let mut poly = Poly::new(block0.0[..32].try_into().expect("32 bytes"));
    for part in aad {
        poly.update(part);
    }
    poly.pad16();
    (chacha, poly)
}

/// Keystream bytes, wiped on drop.
struct Keystream([u8; 64]);

impl Drop for Keystream {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

fn lengths(poly: &mut Poly, aad: &[&[u8]], ct_len: usize) {
    let aad_len: usize = aad.iter().map(|p| p.len()).sum();
    let mut l = [0u8; 16];
    l[..8].copy_from_slice(&(aad_len as u64).to_le_bytes());
    l[8..].copy_from_slice(&(ct_len as u64).to_le_bytes());
    poly.update(&l);
}

/// From this size on the crate's runtime-selected (AVX2) backends are faster than this code.
pub const CRATE_FROM: usize = 2048;

fn crate_cipher(key: &[u8; KEY_LEN]) -> chacha20poly1305::XChaCha20Poly1305 {
    use chacha20poly1305::KeyInit;
    chacha20poly1305::XChaCha20Poly1305::new(key.into())
}

/// Encrypts `data` in place and returns the tag: the code here below [`CRATE_FROM`] bytes, the
/// crate from there on (byte-identical).
pub fn seal_in_place(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[&[u8]], data: &mut [u8]) -> [u8; TAG_LEN] {
    if data.len() < CRATE_FROM {
        return seal_portable(key, nonce, aad, data);
    }
    use chacha20poly1305::AeadInPlace;
    // The crate refuses only messages over 256 GiB; a KV record is bounded far below that.
    let tag = crate_cipher(key).encrypt_in_place_detached(nonce.into(), &aad.concat(), data).expect("XChaCha20-Poly1305 message size");
    tag.into()
}

/// Checks `tag` over the ciphertext `data`, then decrypts it in place. `false` (and `data`
/// untouched) when the tag does not match. As [`seal_in_place`]: here or in the crate by size.
#[must_use]
pub fn open_in_place(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[&[u8]], data: &mut [u8], tag: &[u8]) -> bool {
    if data.len() < CRATE_FROM {
        return open_portable(key, nonce, aad, data, tag);
    }
    use chacha20poly1305::AeadInPlace;
    // The crate checks the tag before it decrypts: on a mismatch `data` is untouched.
    tag.len() == TAG_LEN && crate_cipher(key).decrypt_in_place_detached(nonce.into(), &aad.concat(), data, tag.into()).is_ok()
}

/// [`seal_in_place`] by the code of this module at any size (what the tests and
/// bench/xchacha compare with the crate).
pub fn seal_portable(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[&[u8]], data: &mut [u8]) -> [u8; TAG_LEN] {
    let (chacha, mut poly) = start(key, nonce, aad);
    chacha.apply(1, data);
    poly.update(data);
    poly.pad16();
    lengths(&mut poly, aad, data.len());
    poly.finish()
}

/// [`open_in_place`] by the code of this module at any size.
#[must_use]
pub fn open_portable(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[&[u8]], data: &mut [u8], tag: &[u8]) -> bool {
    let (chacha, mut poly) = start(key, nonce, aad);
    poly.update(data);
    poly.pad16();
    lengths(&mut poly, aad, data.len());
    let expected = poly.finish();
    if tag.len() != TAG_LEN || !ct_eq(&expected, tag) {
        return false;
    }
    chacha.apply(1, data);
    true
}

/// Constant-time equality of two 16-byte tags.
fn ct_eq(a: &[u8; TAG_LEN], b: &[u8]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};

    /// A small deterministic generator (xorshift) for the differential tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn crate_seal(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], msg: &[u8]) -> Vec<u8> {
        XChaCha20Poly1305::new(key.into()).encrypt(XNonce::from_slice(nonce), Payload { msg, aad }).unwrap()
    }

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    #[test]
    fn draft_vector() {
        let h = |s: &str| hex::decode(s.replace([' ', '\n'], "")).unwrap();
        let msg = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let aad = h("50515253c0c1c2c3c4c5c6c7");
        let key: [u8; 32] = h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f").try_into().unwrap();
        let nonce: [u8; 24] = h("404142434445464748494a4b4c4d4e4f5051525354555657").try_into().unwrap();
        let mut data = msg.to_vec();
        let tag = seal_portable(&key, &nonce, &[&aad], &mut data);
        assert_eq!(
            data,
            h("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e")
        );
        assert_eq!(tag.to_vec(), h("c0875924c1c7987947deafd8780acf49"));
        assert!(open_portable(&key, &nonce, &[&aad[..5], &aad[5..]], &mut data, &tag));
        assert_eq!(&data, msg);
    }

    #[test]
    fn matches_the_crate_both_ways() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for len in (0..300).chain([511, 512, 513, 1000, 4096, 65_537]) {
            let key: [u8; 32] = rng.bytes(32).try_into().unwrap();
            let nonce: [u8; 24] = rng.bytes(24).try_into().unwrap();
            let aad_len = (rng.next() % 90) as usize;
            let aad = rng.bytes(aad_len);
            let split = if aad_len == 0 { 0 } else { (rng.next() as usize) % aad_len };
            let msg = rng.bytes(len);
            let expected = crate_seal(&key, &nonce, &aad, &msg);
            let mut data = msg.clone();
            let tag = seal_portable(&key, &nonce, &[&aad[..split], &aad[split..]], &mut data);
            assert_eq!([&data[..], &tag[..]].concat(), expected, "seal, len {len}");
            // and ours opens the crate's output
            let (ct, t) = expected.split_at(len);
            let mut back = ct.to_vec();
            assert!(open_portable(&key, &nonce, &[&aad], &mut back, t), "open, len {len}");
            assert_eq!(back, msg);
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex in the test vectors")
    }

    /// Project Wycheproof's 315 XChaCha20-Poly1305 tests (testdata/README.md). The 24-byte-nonce
    /// groups run here: valid cases seal to the expected bytes and open, invalid ones (modified
    /// tags, ciphertexts) fail to open and leave the bytes as they were. The other nonce sizes
    /// cannot be expressed: this API takes exactly 24 bytes.
    #[test]
    fn wycheproof_vectors() {
        let text = include_str!("testdata/wycheproof_xchacha20_poly1305_test.json");
        let doc = crate::embed::json::parse(text).expect("the vector file parses");
        let field = |t: &crate::embed::json::Json, k: &str| unhex(t.get(k).and_then(|v| v.as_str()).unwrap_or_else(|| panic!("field {k}")));
        let (mut valid, mut invalid, mut other_nonce) = (0, 0, 0);
        for group in doc.get("testGroups").and_then(|g| g.as_array()).expect("testGroups") {
            let tests = group.get("tests").and_then(|t| t.as_array()).expect("tests");
            if group.get("ivSize").and_then(|v| v.as_u64()) != Some(192) {
                other_nonce += tests.len();
                continue;
            }
            for t in tests {
                let id = t.get("tcId").and_then(|v| v.as_u64()).unwrap();
                let key: [u8; 32] = field(t, "key").try_into().unwrap();
                let nonce: [u8; 24] = field(t, "iv").try_into().unwrap();
                let (aad, msg, ct, tag) = (field(t, "aad"), field(t, "msg"), field(t, "ct"), field(t, "tag"));
                let mut opened = ct.clone();
                let ok = open_portable(&key, &nonce, &[&aad], &mut opened, &tag);
                match t.get("result").and_then(|v| v.as_str()) {
                    Some("valid") => {
                        valid += 1;
                        let mut sealed = msg.clone();
                        let got = seal_portable(&key, &nonce, &[&aad], &mut sealed);
                        assert_eq!((sealed.as_slice(), &got[..]), (ct.as_slice(), tag.as_slice()), "test {id}: seal");
                        assert!(ok && opened == msg, "test {id}: open");
                    }
                    Some("invalid") => {
                        invalid += 1;
                        assert!(!ok, "test {id}: an invalid case opened");
                        assert_eq!(opened, ct, "test {id}: a failed open changed the bytes");
                    }
                    other => panic!("test {id}: result {other:?}"),
                }
            }
        }
        assert_eq!((valid + invalid + other_nonce, valid > 200, invalid > 0), (315, true, true), "{valid} valid, {invalid} invalid");
    }

    /// A differential fuzz loop against the crate: random keys, nonces, lengths, associated data
    /// split at random, and a random change (a bit of the ciphertext, tag, nonce or associated
    /// data, or none); ours and the crate must give the same bytes and the same verdict.
    /// `AICO_XCHACHA_FUZZ_CASES` (default 3,000) and `AICO_XCHACHA_FUZZ_SEED` set the run.
    #[test]
    fn differential_fuzz_against_the_crate() {
        let env = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        let cases = env("AICO_XCHACHA_FUZZ_CASES", 3_000);
        let mut rng = Rng(env("AICO_XCHACHA_FUZZ_SEED", 0x2545_f491_4f6c_dd1d) | 1);
        for case in 0..cases {
            let key: [u8; 32] = rng.bytes(32).try_into().unwrap();
            let mut nonce: [u8; 24] = rng.bytes(24).try_into().unwrap();
            let len = match rng.next() % 4 {
                0 => (rng.next() % 17) as usize,
                1 => (rng.next() % 300) as usize,
                2 => 64 * (rng.next() % 8) as usize + (rng.next() % 3) as usize,
                _ => (rng.next() % 5000) as usize,
            };
            let aad_len = (rng.next() % 70) as usize;
            let mut aad = rng.bytes(aad_len);
            let split = (rng.next() as usize) % (aad.len() + 1);
            let msg = rng.bytes(len);
            let expected = crate_seal(&key, &nonce, &aad, &msg);
            let mut ours = msg.clone();
            let tag = seal_portable(&key, &nonce, &[&aad[..split], &aad[split..]], &mut ours);
            assert_eq!([&ours[..], &tag[..]].concat(), expected, "case {case}: seal");
            let mut dispatched = msg.clone();
            let tag2 = seal_in_place(&key, &nonce, &[&aad[..split], &aad[split..]], &mut dispatched);
            assert_eq!((dispatched, tag2), (ours.clone(), tag), "case {case}: seal_in_place");
            let mut sealed = expected.clone();
            let (what, at, bit) = (rng.next() % 5, rng.next() as usize, 1u8 << (rng.next() % 8));
            match what {
                0 if len > 0 => sealed[at % len] ^= bit,
                1 => sealed[len + at % TAG_LEN] ^= bit,
                2 => nonce[at % 24] ^= bit,
                3 if aad_len > 0 => aad[at % aad_len] ^= bit,
                _ => {}
            }
            let theirs = XChaCha20Poly1305::new((&key).into()).decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad: &aad });
            let (ct, t) = sealed.split_at(len);
            let mut back = ct.to_vec();
            let ok = open_portable(&key, &nonce, &[&aad], &mut back, t);
            assert_eq!(ok, theirs.is_ok(), "case {case}: verdict");
            let mut back2 = ct.to_vec();
            assert_eq!(open_in_place(&key, &nonce, &[&aad], &mut back2, t), ok, "case {case}: open_in_place verdict");
            assert_eq!(back2, back, "case {case}: open_in_place bytes");
            assert_eq!(back, if ok { theirs.unwrap() } else { ct.to_vec() }, "case {case}: bytes");
        }
    }

    #[test]
    fn rejects_any_change() {
        let key = [7u8; 32];
        let nonce = [3u8; 24];
        let mut data = b"a value of some length, sealed".to_vec();
        let tag = seal_portable(&key, &nonce, &[b"ns\0key"], &mut data);
        for i in 0..data.len() * 8 {
            let mut t = data.clone();
            t[i / 8] ^= 1 << (i % 8);
            let before = t.clone();
            assert!(!open_portable(&key, &nonce, &[b"ns\0key"], &mut t, &tag));
            assert_eq!(t, before, "a failed open leaves the bytes as they were");
        }
        for i in 0..TAG_LEN * 8 {
            let mut t = tag;
            t[i / 8] ^= 1 << (i % 8);
            assert!(!open_portable(&key, &nonce, &[b"ns\0key"], &mut data.clone(), &t));
        }
        assert!(!open_portable(&key, &nonce, &[b"ns\0kez"], &mut data.clone(), &tag));
        assert!(!open_portable(&key, &[4u8; 24], &[b"ns\0key"], &mut data.clone(), &tag));
        assert!(!open_portable(&[8u8; 32], &nonce, &[b"ns\0key"], &mut data.clone(), &tag));
        assert!(!open_portable(&key, &nonce, &[b"ns\0key"], &mut data.clone(), &tag[..15]));
        assert!(open_portable(&key, &nonce, &[b"ns", b"\0", b"key"], &mut data, &tag));
    }
}
