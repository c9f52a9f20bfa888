//! Events the analytics store reports instead of failing: a snapshot that was rejected and
//! rebuilt, change tracking installed, pruning that could not run. The TypeScript layer
//! drains and logs them.

use std::collections::VecDeque;

use parking_lot::Mutex;

use super::time::now_micros;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventLevel {
    Info,
    Warn,
}

impl EventLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            EventLevel::Info => "info",
            EventLevel::Warn => "warn",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsEvent {
    pub at_ms: i64,
    pub level: EventLevel,
    /// Stable identifier, e.g. `snapshot_rejected`.
    pub kind: &'static str,
    pub message: String,
}

/// A bounded queue of events (the oldest are dropped past the bound).
#[derive(Default)]
pub(crate) struct EventLog {
    events: Mutex<VecDeque<AnalyticsEvent>>,
}

const MAX_EVENTS: usize = 256;

impl EventLog {
    pub(crate) fn push(&self, level: EventLevel, kind: &'static str, message: impl Into<String>) {
        let mut q = self.events.lock();
        if q.len() == MAX_EVENTS {
            q.pop_front();
        }
        q.push_back(AnalyticsEvent { at_ms: now_micros() / 1000, level, kind, message: message.into() });
    }

    pub(crate) fn take(&self) -> Vec<AnalyticsEvent> {
        self.events.lock().drain(..).collect()
    }
}
