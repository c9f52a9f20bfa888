//! Progress of a long operation (backup, restore, key rotation), shared with the caller's
//! thread: the worker updates it, the caller polls it. No callback crosses threads.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Phase name, work done and total work (bytes or records, per phase).
#[derive(Debug, Default)]
pub struct Progress {
    phase: Mutex<&'static str>,
    done: AtomicU64,
    total: AtomicU64,
}

/// A copy of [`Progress`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters `phase` with `total` units of work, none done.
    pub fn phase(&self, phase: &'static str, total: u64) {
        *self.phase.lock() = phase;
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_done(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot { phase: *self.phase.lock(), done: self.done.load(Ordering::Relaxed), total: self.total.load(Ordering::Relaxed) }
    }
}
