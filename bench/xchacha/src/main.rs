//! Seal + open of one record, ns per record, ours against the crate (`encrypt_in_place_detached`
//! / `decrypt_in_place_detached`), for record sizes from a small KV value to a large one.
#[path = "../../../crates/aico-data-core/src/keys/xchacha.rs"]
#[allow(dead_code)]
mod xchacha;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::time::Instant;

fn best_of<F: FnMut()>(rounds: usize, n: usize, mut f: F) -> f64 {
    (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let backend = if cfg!(chacha20_force_soft) { "soft" } else { "auto (AVX2 where the CPU has it)" };
    println!("chacha20poly1305 0.10.1, backends: {backend}");
    println!("| record | ours ns | crate ns | crate / ours |");
    println!("|---:|---:|---:|---:|");
    let key = [7u8; 32];
    let nonce = [3u8; 24];
    let aad = b"config\0some-key";
    let cipher = XChaCha20Poly1305::new((&key).into());
    for &len in &[32usize, 100, 1000, 2048, 4096, 8192, 16_384] {
        let n = (4_000_000 / (len + 200)).max(200);
        let mut data = vec![0x61u8; len];
        let ours = best_of(5, n, || {
            let tag = xchacha::seal_portable(&key, &nonce, &[aad], &mut data);
            assert!(xchacha::open_portable(&key, &nonce, &[aad], &mut data, &tag));
        });
        let theirs = best_of(5, n, || {
            let tag = cipher.encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut data).unwrap();
            cipher.decrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut data, &tag).unwrap();
        });
        println!("| {len} B | {ours:.0} | {theirs:.0} | {:.2}x |", theirs / ours);
    }
}
