//! Where the time of one KV call goes, in the core alone (no N-API). Not a benchmark with
//! assertions: run `cargo test -p aico-data-core --test kv_perf -- --ignored --nocapture`.

mod kv_common;

use std::time::Instant;

use aico_data_core::kv::{Ttl, WriteOp};
use kv_common::Fixture;

fn per_op(label: &str, n: usize, mut f: impl FnMut(usize)) {
    for i in 0..n / 10 {
        f(i);
    }
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("{label:<40} {ns:>8.0} ns/op");
}

#[test]
#[ignore]
fn core_costs() {
    let fx = Fixture::new();
    let kv = fx.open();
    let value = vec![0x61u8; 100];
    let keys: Vec<Vec<u8>> = (0..10_000).map(|i| format!("user:{i:06}").into_bytes()).collect();
    let entries: Vec<(Vec<u8>, Vec<u8>)> = keys.iter().map(|k| (k.clone(), value.clone())).collect();
    kv.put_many("cache", &entries, Ttl::Default).unwrap();
    let n = 200_000;
    per_op("get (memtable)", n, |i| {
        kv.get("cache", &keys[(i * 7919) % keys.len()]).unwrap().unwrap();
    });
    per_op("has (no decryption)", n, |i| {
        kv.has("cache", &keys[(i * 7919) % keys.len()]).unwrap();
    });
    per_op("put", n, |i| kv.put("session", format!("w:{i}").as_bytes(), &value, Ttl::Default).unwrap());
    per_op("put_many 100 (per call)", n / 100, |i| {
        let batch: Vec<(Vec<u8>, &[u8])> = (0..100).map(|k| (format!("b:{i}:{k}").into_bytes(), value.as_slice())).collect();
        kv.put_many("session", &batch, Ttl::Default).unwrap();
    });
    per_op("write_batch 1 put", n, |i| {
        kv.write_batch(&[WriteOp::Put {
            ns: "session".into(),
            key: format!("x:{i}").into_bytes(),
            value: value.clone(),
            ttl: Ttl::Default,
        }])
        .unwrap();
    });
    kv.flush().unwrap();
    kv.compact(None).unwrap();
    per_op("get (SST, block cache)", n, |i| {
        kv.get("cache", &keys[(i * 7919) % keys.len()]).unwrap().unwrap();
    });
}
