//! The durable queue against real RocksDB directories, including a real crash (a child
//! process aborted between lease and ack).

mod kv_common;

use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use aico_data_core::folder::Folder;
use aico_data_core::keys::Store;
use aico_data_core::kv::{EnqueueOptions, KvOptions, KvStore, MessageId, QueueDepth, QueueOptions, Settle};
use kv_common::{Fixture, PASSWORD};

fn payloads(list: &[aico_data_core::kv::Leased]) -> Vec<String> {
    list.iter().map(|m| String::from_utf8(m.payload.clone()).unwrap()).collect()
}

#[test]
fn per_topic_order_lease_and_ack() {
    let fx = Fixture::new();
    let kv = fx.open();
    for i in 0..5 {
        kv.enqueue("a", format!("a{i}").as_bytes(), EnqueueOptions::default()).unwrap();
        kv.enqueue("b", format!("b{i}").as_bytes(), EnqueueOptions::default()).unwrap();
    }
    let seqs = kv.enqueue_many("a", &[b"a5".as_slice(), b"a6"], EnqueueOptions::default()).unwrap();
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] < seqs[1]);

    let first = kv.lease("a", 3, 60_000).unwrap();
    assert_eq!(payloads(&first), ["a0", "a1", "a2"]);
    assert!(first.iter().all(|m| m.id.attempt == 1 && m.id.topic == "a"));
    // leased messages are hidden; the rest follow in order
    let second = kv.lease("a", 10, 60_000).unwrap();
    assert_eq!(payloads(&second), ["a3", "a4", "a5", "a6"]);
    assert!(kv.lease("a", 10, 60_000).unwrap().is_empty());
    assert_eq!(payloads(&kv.lease("b", 2, 60_000).unwrap()), ["b0", "b1"]);

    for m in &first {
        assert!(kv.ack(&m.id).unwrap());
        assert!(!kv.ack(&m.id).unwrap(), "second ack of the same delivery");
    }
    assert_eq!(kv.depth("a").unwrap(), QueueDepth { ready: 0, waiting: 4, dead: 0 });
    assert_eq!(kv.depth("b").unwrap(), QueueDepth { ready: 3, waiting: 2, dead: 0 });
    // ids round-trip through their string form
    let id = MessageId::parse(&second[0].id.to_string()).unwrap();
    assert!(kv.ack(&id).unwrap());
}

#[test]
fn redelivery_after_lease_expiry_and_stale_ids() {
    let fx = Fixture::new();
    let kv = fx.open();
    kv.enqueue("t", b"m", EnqueueOptions::default()).unwrap();
    let first = kv.lease("t", 1, 50).unwrap();
    assert!(kv.lease("t", 1, 50).unwrap().is_empty());
    sleep(Duration::from_millis(90));
    let second = kv.lease("t", 1, 60_000).unwrap();
    assert_eq!(payloads(&second), ["m"]);
    assert_eq!(second[0].id.attempt, 2);
    assert!(!kv.ack(&first[0].id).unwrap(), "a stale delivery cannot ack");
    assert!(kv.settle(&second[0].id, Settle::Extend { visibility_ms: 60_000 }).unwrap());
    assert!(kv.ack(&second[0].id).unwrap());
    assert_eq!(kv.depth("t").unwrap(), QueueDepth::default());
}

#[test]
fn nack_delay_and_dead_letters() {
    let fx = Fixture::new();
    let kv = fx.open_with(KvOptions { queue: QueueOptions { max_attempts: 2 }, ..Default::default() }).unwrap();
    kv.enqueue("t", b"poison", EnqueueOptions::default()).unwrap();
    kv.enqueue("t", b"once", EnqueueOptions { max_attempts: Some(1), ..Default::default() }).unwrap();
    kv.enqueue("t", b"later", EnqueueOptions { delay_ms: 60_000, ..Default::default() }).unwrap();

    let l1 = kv.lease("t", 10, 60_000).unwrap();
    assert_eq!(payloads(&l1), ["poison", "once"], "delayed message stays hidden");
    assert!(kv.settle(&l1[0].id, Settle::Nack { delay_ms: 0 }).unwrap());
    // "once" had one attempt: a nack sends it to the dead letters at once
    assert!(kv.settle(&l1[1].id, Settle::Nack { delay_ms: 0 }).unwrap());
    let l2 = kv.lease("t", 10, 30).unwrap();
    assert_eq!(payloads(&l2), ["poison"]);
    assert_eq!(l2[0].id.attempt, 2);
    sleep(Duration::from_millis(60));
    // out of attempts: moved to the dead letters instead of delivered
    assert!(kv.lease("t", 10, 60_000).unwrap().is_empty());
    let dead = kv.dead_letters("t", 10).unwrap();
    let dead_payloads: Vec<&[u8]> = dead.iter().map(|d| d.payload.as_slice()).collect();
    assert_eq!(dead_payloads, [b"poison".as_slice(), b"once"]);
    assert_eq!(dead[0].attempts, 2);
    assert_eq!(kv.depth("t").unwrap(), QueueDepth { ready: 0, waiting: 1, dead: 2 });

    assert_eq!(kv.redrive("t").unwrap(), 2);
    let again = kv.lease("t", 10, 60_000).unwrap();
    assert_eq!(payloads(&again), ["poison", "once"]);
    assert_eq!(again[0].id.attempt, 1);
    assert!(kv.dead_letters("t", 10).unwrap().is_empty());
}

#[test]
fn reopen_releases_leases_of_the_previous_run() {
    let fx = Fixture::new();
    let kv = fx.open();
    for p in ["x", "y", "z"] {
        kv.enqueue("t", p.as_bytes(), EnqueueOptions::default()).unwrap();
    }
    let leased = kv.lease("t", 2, 3_600_000).unwrap();
    kv.close().unwrap();
    let kv = fx.open();
    let again = kv.lease("t", 10, 60_000).unwrap();
    assert_eq!(payloads(&again), ["x", "y", "z"]);
    assert_eq!(again.iter().map(|m| m.id.attempt).collect::<Vec<_>>(), [2, 2, 1]);
    assert!(!kv.ack(&leased[0].id).unwrap(), "a lease of the previous run is stale");
    // sequence numbers keep growing across reopen
    let seq = kv.enqueue("t", b"w", EnqueueOptions::default()).unwrap();
    assert!(seq > again[2].id.seq);
}

#[test]
fn bad_queue_input() {
    let fx = Fixture::new();
    let kv = fx.open();
    assert_eq!(kv.enqueue("", b"x", EnqueueOptions::default()).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.enqueue("a\0b", b"x", EnqueueOptions::default()).unwrap_err().code(), "INVALID_ARGUMENT");
    let zero = EnqueueOptions { max_attempts: Some(0), ..Default::default() };
    assert_eq!(kv.enqueue("t", b"x", zero).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.lease("t", 0, 10).unwrap_err().code(), "INVALID_ARGUMENT");
    assert_eq!(kv.lease("t", 1, 0).unwrap_err().code(), "INVALID_ARGUMENT");
    let ghost = MessageId { topic: "t".into(), seq: 999, attempt: 1 };
    assert!(!kv.ack(&ghost).unwrap());
}

const CHILD_ENV: &str = "AICO_KV_CRASH_CHILD_DIR";

/// Child half of `crash_between_lease_and_ack_redelivers`: leases, then dies without
/// closing anything (abort: no destructors, no flush).
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let folder = Folder::open(dir.as_ref(), PASSWORD, false, None).unwrap();
    let kv = KvStore::open(&folder.dir().join("kv"), folder.store_key(Store::Rocksdb), KvOptions::default()).unwrap();
    let leased = kv.lease("jobs", 2, 3_600_000).unwrap();
    assert_eq!(leased.len(), 2);
    std::process::abort();
}

#[test]
fn crash_between_lease_and_ack_redelivers() {
    let fx = Fixture::new();
    let kv = fx.open();
    for p in ["j1", "j2", "j3"] {
        kv.enqueue("jobs", p.as_bytes(), EnqueueOptions::default()).unwrap();
    }
    kv.close().unwrap();

    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, fx.folder.dir())
        .output()
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert_eq!(child.status.signal(), Some(6), "the child should abort after leasing: {stderr}");
    }
    assert!(!child.status.success());

    let kv = fx.open();
    let again = kv.lease("jobs", 10, 60_000).unwrap();
    assert_eq!(payloads(&again), ["j1", "j2", "j3"], "crashed leases come back first, in order");
    assert_eq!(again.iter().map(|m| m.id.attempt).collect::<Vec<_>>(), [2, 2, 1]);
}
