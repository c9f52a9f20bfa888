//! The durable queue, kept in the `queue` namespace.
//!
//! Keys (plaintext, so that a topic's messages sort in order):
//! - `m` || topic || 0x00 || seq (u64 BE) -> message record (format 2, time = visible at)
//! - `l` || topic || 0x00 || seq          -> empty: lease index (lease taken, not yet settled)
//! - `d` || topic || 0x00 || seq          -> dead-letter record (format 2, time = died at)
//!
//! The sealed body is `attempts u32 || max_attempts u32 || enqueued_at u64 || leased u8 ||
//! payload`. `seq` comes from one counter (sealed in the metadata as `queue/next-seq`,
//! written in the same batch as each message), so a topic's order is its enqueue order.
//!
//! Delivery is at least once: `lease` hides a message for `visibility_ms` and counts an
//! attempt; `ack` deletes it; a message not acked in time is delivered again. Only one
//! process can open the store for writing, so at open every lease still recorded belongs to
//! a process that died (or closed without settling): those messages become visible at once,
//! their attempt counted. A message delivered `max_attempts` times without an ack moves to
//! the dead-letter list instead of being delivered again.

use rocksdb::{ReadOptions, WriteBatch, DB};

use super::errors::{check_topic, check_value, map_rocks};
use super::iter::prefix_end;
use super::namespaces::{meta_get, meta_put, QUEUE_NAMESPACE};
use super::seal::{header, FORMAT_QUEUE};
use super::store::KvStore;
use super::ttl::{now_ms, whole_ms};
use crate::error::{Error, Result};

const MESSAGE: u8 = b'm';
const LEASE: u8 = b'l';
const DEAD: u8 = b'd';
const NEXT_SEQ_KEY: &[u8] = b"queue/next-seq";
const STATE_LEN: usize = 17;

/// In-memory queue state, guarded by the queue mutex (which also serialises queue writes,
/// so a lease never races an enqueue of the same topic).
#[derive(Debug, Default)]
pub(crate) struct QueueState {
    next_seq: u64,
}

/// Identifies one delivery of one message: `ack`, `nack` and `extend` act only while the
/// message is still at that delivery (a stale id, from a lease that expired and was
/// redelivered, is refused with `false`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId {
    pub topic: String,
    pub seq: u64,
    pub attempt: u32,
}

impl std::fmt::Display for MessageId {
    /// `<topic>#<seq>.<attempt>`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}.{}", self.topic, self.seq, self.attempt)
    }
}

impl MessageId {
    pub fn parse(s: &str) -> Result<MessageId> {
        let bad = || Error::invalid(format!("{s:?} is not a queue message id (<topic>#<seq>.<attempt>)"));
        let (topic, rest) = s.rsplit_once('#').ok_or_else(bad)?;
        let (seq, attempt) = rest.split_once('.').ok_or_else(bad)?;
        check_topic(topic)?;
        Ok(MessageId { topic: topic.to_string(), seq: seq.parse().map_err(|_| bad())?, attempt: attempt.parse().map_err(|_| bad())? })
    }
}

/// Options of one enqueue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnqueueOptions {
    /// Invisible for this long after the enqueue.
    pub delay_ms: u64,
    /// Overrides the store's `QueueOptions::max_attempts`.
    pub max_attempts: Option<u32>,
}

impl EnqueueOptions {
    /// From the API's numbers: `delayMs` absent -> at once, else [`whole_ms`].
    pub fn parse(delay_ms: Option<f64>, max_attempts: Option<u32>) -> Result<EnqueueOptions> {
        Ok(EnqueueOptions { delay_ms: delay_ms.map(|d| whole_ms(d, "delayMs")).transpose()?.unwrap_or(0), max_attempts })
    }
}

/// A message handed out by `lease`.
#[derive(Debug, Clone)]
pub struct Leased {
    pub id: MessageId,
    pub payload: Vec<u8>,
    pub enqueued_at: u64,
    /// Visible again (redelivered) after this Unix time in ms unless acked.
    pub lease_until: u64,
}

/// A message in the dead-letter list.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub topic: String,
    pub seq: u64,
    pub attempts: u32,
    pub payload: Vec<u8>,
    pub enqueued_at: u64,
    pub died_at: u64,
}

/// Message counts of a topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Visible now.
    pub ready: u64,
    /// Leased, or delayed (by enqueue or nack).
    pub waiting: u64,
    pub dead: u64,
}

#[derive(Debug, Clone, Copy)]
struct MsgState {
    attempts: u32,
    max_attempts: u32,
    enqueued_at: u64,
    leased: bool,
}

impl MsgState {
    fn encode(&self) -> [u8; STATE_LEN] {
        let mut b = [0u8; STATE_LEN];
        b[0..4].copy_from_slice(&self.attempts.to_be_bytes());
        b[4..8].copy_from_slice(&self.max_attempts.to_be_bytes());
        b[8..16].copy_from_slice(&self.enqueued_at.to_be_bytes());
        b[16] = self.leased as u8;
        b
    }

    fn decode(b: &[u8]) -> Result<MsgState> {
        if b.len() < STATE_LEN {
            return Err(Error::Corrupt("queue message state is truncated".into()));
        }
        Ok(MsgState {
            attempts: u32::from_be_bytes(b[0..4].try_into().expect("4")),
            max_attempts: u32::from_be_bytes(b[4..8].try_into().expect("4")),
            enqueued_at: u64::from_be_bytes(b[8..16].try_into().expect("8")),
            leased: b[16] != 0,
        })
    }

    fn exhausted(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

fn topic_prefix(kind: u8, topic: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic.len() + 10);
    k.push(kind);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k
}

fn msg_key(kind: u8, topic: &str, seq: u64) -> Vec<u8> {
    let mut k = topic_prefix(kind, topic);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Splits a queue key into (topic, seq).
fn parse_key(key: &[u8]) -> Result<(String, u64)> {
    let bad = || Error::Corrupt("malformed queue key".into());
    if key.len() < 10 || key[key.len() - 9] != 0 {
        return Err(bad());
    }
    let topic = std::str::from_utf8(&key[1..key.len() - 9]).map_err(|_| bad())?.to_string();
    let seq = u64::from_be_bytes(key[key.len() - 8..].try_into().expect("8"));
    Ok((topic, seq))
}

/// Visits every `(key, value)` whose key starts with `prefix`, in order, until `f` says stop.
fn visit(db: &DB, cf: &rocksdb::ColumnFamily, prefix: &[u8], mut f: impl FnMut(&[u8], &[u8]) -> Result<bool>) -> Result<()> {
    let mut ro = ReadOptions::default();
    ro.set_iterate_lower_bound(prefix.to_vec());
    if let Some(end) = prefix_end(prefix) {
        ro.set_iterate_upper_bound(end);
    }
    let mut it = db.raw_iterator_cf_opt(cf, ro);
    it.seek_to_first();
    while let Some((k, v)) = it.item() {
        if !f(k, v)? {
            return Ok(());
        }
        it.next();
    }
    it.status().map_err(map_rocks)
}

impl KvStore {
    fn seal_message(&self, key: &[u8], time: u64, state: &MsgState, payload: &[u8]) -> Result<Vec<u8>> {
        self.sealer.seal(FORMAT_QUEUE, time, QUEUE_NAMESPACE, key, &[&state.encode(), payload])
    }

    fn open_message(&self, key: &[u8], stored: &[u8]) -> Result<(MsgState, Vec<u8>)> {
        let (format, opened) = self.sealer.open(stored, QUEUE_NAMESPACE, key)?;
        if format != FORMAT_QUEUE {
            return Err(Error::Corrupt(format!("queue record has format {format}")));
        }
        let state = MsgState::decode(opened.bytes())?;
        Ok((state, opened.bytes()[STATE_LEN..].to_vec()))
    }

    /// Loads the sequence counter and releases the leases of a previous run (see module docs).
    pub(crate) fn load_queue(&self) -> Result<()> {
        let mut q = self.queue.lock();
        let writable = self.access() == super::store::Access::Primary;
        self.with(|o| {
            q.next_seq = match meta_get(&o.db, &self.sealer, NEXT_SEQ_KEY)? {
                Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| Error::Corrupt("queue counter".into()))?),
                None => 1,
            };
            if !writable {
                return Ok(());
            }
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let now = now_ms();
            let mut batch = WriteBatch::default();
            visit(&o.db, cf, &[LEASE], |lease_key, _| {
                let mkey = [&[MESSAGE][..], &lease_key[1..]].concat();
                if let Some(stored) = o.db.get_pinned_cf(cf, &mkey).map_err(map_rocks)? {
                    let (mut state, payload) = self.open_message(&mkey, &stored)?;
                    if state.leased {
                        state.leased = false;
                        batch.put_cf(cf, &mkey, self.seal_message(&mkey, now, &state, &payload)?);
                    }
                }
                batch.delete_cf(cf, lease_key);
                Ok(true)
            })?;
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))
        })
    }

    /// Appends `payloads` to `topic` (one atomic write); returns their sequence numbers.
    pub fn enqueue_many<P: AsRef<[u8]>>(&self, topic: &str, payloads: &[P], opts: EnqueueOptions) -> Result<Vec<u64>> {
        check_topic(topic)?;
        for p in payloads {
            check_value(p.as_ref())?;
        }
        if opts.max_attempts == Some(0) {
            return Err(Error::invalid("maxAttempts must be at least 1"));
        }
        let mut q = self.queue.lock();
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let now = now_ms();
            let state = MsgState {
                attempts: 0,
                max_attempts: opts.max_attempts.unwrap_or(self.queue_opts.max_attempts),
                enqueued_at: now,
                leased: false,
            };
            let visible = now.saturating_add(opts.delay_ms);
            let mut batch = WriteBatch::default();
            let mut seqs = Vec::with_capacity(payloads.len());
            for (i, p) in payloads.iter().enumerate() {
                let seq = q.next_seq + i as u64;
                let key = msg_key(MESSAGE, topic, seq);
                batch.put_cf(cf, &key, self.seal_message(&key, visible, &state, p.as_ref())?);
                seqs.push(seq);
            }
            let next = q.next_seq + payloads.len() as u64;
            meta_put(&o.db, &mut batch, &self.sealer, NEXT_SEQ_KEY, &next.to_be_bytes())?;
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))?;
            q.next_seq = next;
            Ok(seqs)
        })
    }

    pub fn enqueue(&self, topic: &str, payload: &[u8], opts: EnqueueOptions) -> Result<u64> {
        Ok(self.enqueue_many(topic, &[payload], opts)?[0])
    }

    /// Leases up to `max` visible messages of `topic`, oldest first, hiding them for
    /// `visibility_ms`. Messages out of attempts move to the dead-letter list on the way.
    pub fn lease(&self, topic: &str, max: usize, visibility_ms: u64) -> Result<Vec<Leased>> {
        check_topic(topic)?;
        if max == 0 || visibility_ms == 0 {
            return Err(Error::invalid("lease needs at least 1 message and a visibility timeout of at least 1 ms"));
        }
        let _q = self.queue.lock();
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let now = now_ms();
            let lease_until = now.saturating_add(visibility_ms);
            let mut batch = WriteBatch::default();
            let mut out = Vec::new();
            visit(&o.db, cf, &topic_prefix(MESSAGE, topic), |key, stored| {
                if header(stored)?.1 > now {
                    return Ok(true);
                }
                let (mut state, payload) = self.open_message(key, stored)?;
                let (_, seq) = parse_key(key)?;
                if state.exhausted() {
                    self.bury(o, &mut batch, topic, seq, key, state, &payload, now)?;
                    return Ok(true);
                }
                state.attempts += 1;
                state.leased = true;
                batch.put_cf(cf, key, self.seal_message(key, lease_until, &state, &payload)?);
                batch.put_cf(cf, msg_key(LEASE, topic, seq), []);
                out.push(Leased {
                    id: MessageId { topic: topic.to_string(), seq, attempt: state.attempts },
                    payload,
                    enqueued_at: state.enqueued_at,
                    lease_until,
                });
                Ok(out.len() < max)
            })?;
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))?;
            Ok(out)
        })
    }

    /// Moves a message to the dead-letter list (in `batch`).
    #[allow(clippy::too_many_arguments)]
    fn bury(
        &self,
        o: &super::store::Open,
        batch: &mut WriteBatch,
        topic: &str,
        seq: u64,
        key: &[u8],
        mut state: MsgState,
        payload: &[u8],
        now: u64,
    ) -> Result<()> {
        let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
        state.leased = false;
        let dkey = msg_key(DEAD, topic, seq);
        batch.put_cf(cf, &dkey, self.seal_message(&dkey, now, &state, payload)?);
        batch.delete_cf(cf, key);
        batch.delete_cf(cf, msg_key(LEASE, topic, seq));
        Ok(())
    }

    /// Settles delivery `id`: `Ack` deletes the message, `Nack(delay)` makes it visible
    /// again after `delay` ms (or dead-letters it when out of attempts), `Extend(ms)` keeps
    /// it hidden for `ms` more. False when `id` is not the message's current delivery.
    pub fn settle(&self, id: &MessageId, how: Settle) -> Result<bool> {
        check_topic(&id.topic)?;
        let _q = self.queue.lock();
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let key = msg_key(MESSAGE, &id.topic, id.seq);
            let Some(stored) = o.db.get_pinned_cf(cf, &key).map_err(map_rocks)? else { return Ok(false) };
            let (mut state, payload) = self.open_message(&key, &stored)?;
            if state.attempts != id.attempt || !state.leased {
                return Ok(false);
            }
            let now = now_ms();
            let lease_key = msg_key(LEASE, &id.topic, id.seq);
            let mut batch = WriteBatch::default();
            match how {
                Settle::Ack => {
                    batch.delete_cf(cf, &key);
                    batch.delete_cf(cf, &lease_key);
                }
                Settle::Nack { .. } if state.exhausted() => self.bury(o, &mut batch, &id.topic, id.seq, &key, state, &payload, now)?,
                Settle::Nack { delay_ms } => {
                    state.leased = false;
                    batch.put_cf(cf, &key, self.seal_message(&key, now.saturating_add(delay_ms), &state, &payload)?);
                    batch.delete_cf(cf, &lease_key);
                }
                Settle::Extend { visibility_ms } => {
                    batch.put_cf(cf, &key, self.seal_message(&key, now.saturating_add(visibility_ms), &state, &payload)?);
                }
            }
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))?;
            Ok(true)
        })
    }

    pub fn ack(&self, id: &MessageId) -> Result<bool> {
        self.settle(id, Settle::Ack)
    }

    /// Up to `limit` dead letters of `topic`, oldest first.
    pub fn dead_letters(&self, topic: &str, limit: usize) -> Result<Vec<DeadLetter>> {
        check_topic(topic)?;
        self.with(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let mut out = Vec::new();
            visit(&o.db, cf, &topic_prefix(DEAD, topic), |key, stored| {
                let (state, payload) = self.open_message(key, stored)?;
                let (topic, seq) = parse_key(key)?;
                out.push(DeadLetter {
                    topic,
                    seq,
                    attempts: state.attempts,
                    payload,
                    enqueued_at: state.enqueued_at,
                    died_at: header(stored)?.1,
                });
                Ok(out.len() < limit)
            })?;
            Ok(out)
        })
    }

    /// Moves every dead letter of `topic` back into the queue with fresh attempts, in
    /// their original order. Returns how many moved.
    pub fn redrive(&self, topic: &str) -> Result<u64> {
        check_topic(topic)?;
        let _q = self.queue.lock();
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let now = now_ms();
            let mut batch = WriteBatch::default();
            let mut moved = 0;
            visit(&o.db, cf, &topic_prefix(DEAD, topic), |dkey, stored| {
                let (mut state, payload) = self.open_message(dkey, stored)?;
                state.attempts = 0;
                let mkey = [&[MESSAGE][..], &dkey[1..]].concat();
                batch.put_cf(cf, &mkey, self.seal_message(&mkey, now, &state, &payload)?);
                batch.delete_cf(cf, dkey);
                moved += 1;
                Ok(true)
            })?;
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))?;
            Ok(moved)
        })
    }

    /// Counts `topic`'s messages from their plaintext headers (nothing is decrypted).
    pub fn depth(&self, topic: &str) -> Result<QueueDepth> {
        check_topic(topic)?;
        self.with(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let now = now_ms();
            let mut d = QueueDepth::default();
            visit(&o.db, cf, &topic_prefix(MESSAGE, topic), |_, stored| {
                if header(stored)?.1 > now {
                    d.waiting += 1;
                } else {
                    d.ready += 1;
                }
                Ok(true)
            })?;
            visit(&o.db, cf, &topic_prefix(DEAD, topic), |_, _| {
                d.dead += 1;
                Ok(true)
            })?;
            Ok(d)
        })
    }
}

/// How [`KvStore::settle`] settles a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    Ack,
    Nack { delay_ms: u64 },
    Extend { visibility_ms: u64 },
}

impl Settle {
    /// `how` ('ack', 'nack' or 'extend') and its optional `ms` as the API takes them: a nack
    /// is visible again after `ms` (default at once), an extend hides the message `ms` longer
    /// and needs at least 1 ms. `ms` is checked by [`whole_ms`] whatever `how` is.
    pub fn parse(how: &str, ms: Option<f64>) -> Result<Settle> {
        let m = ms.map(|x| whole_ms(x, "ms")).transpose()?;
        match how {
            "ack" => Ok(Settle::Ack),
            "nack" => Ok(Settle::Nack { delay_ms: m.unwrap_or(0) }),
            "extend" => match m {
                Some(v) if v > 0 => Ok(Settle::Extend { visibility_ms: v }),
                _ => Err(Error::invalid("extend needs a visibility timeout of at least 1 ms")),
            },
            other => Err(Error::invalid(format!("settle takes 'ack', 'nack' or 'extend', not {other:?}"))),
        }
    }
}

/// `<topic>#<seq>` of a raw message key (repair reports lost messages by it); `None` for other
/// queue records (leases, dead-letter marks) or a malformed key.
pub(crate) fn message_ref(key: &[u8]) -> Option<String> {
    if key.first() != Some(&MESSAGE) {
        return None;
    }
    parse_key(key).ok().map(|(topic, seq)| format!("{topic}#{seq}"))
}

impl KvStore {
    /// Repair's check of the queue: opens every message record; those that no longer open
    /// (damaged bytes RocksDB's repair kept) are deleted with their lease and dead-letter marks.
    /// Returns (messages kept, refs of the messages dropped).
    pub(crate) fn salvage_queue(&self) -> Result<(u64, Vec<String>)> {
        let _q = self.queue.lock();
        self.with_writable(|o| {
            let (cf, _) = o.any_cf(QUEUE_NAMESPACE)?;
            let mut kept = 0u64;
            let mut dropped = Vec::new();
            let mut batch = WriteBatch::default();
            visit(&o.db, cf, &[MESSAGE], |key, stored| {
                if self.open_message(key, stored).is_ok() {
                    kept += 1;
                } else {
                    batch.delete_cf(cf, key);
                    for kind in [LEASE, DEAD] {
                        batch.delete_cf(cf, [&[kind][..], &key[1..]].concat());
                    }
                    dropped.push(message_ref(key).unwrap_or_else(|| hex::encode(key)));
                }
                Ok(true)
            })?;
            o.db.write_opt(batch, &self.write_opts).map_err(|e| self.note_write_error(e))?;
            Ok((kept, dropped))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys() {
        let id = MessageId { topic: "a#b".into(), seq: 42, attempt: 3 };
        assert_eq!(id.to_string(), "a#b#42.3");
        assert_eq!(MessageId::parse(&id.to_string()).unwrap(), id);
        for bad in ["", "x", "t#1", "t#a.1", "#1.1"] {
            assert_eq!(MessageId::parse(bad).unwrap_err().code(), "INVALID_ARGUMENT", "{bad:?}");
        }
        let k = msg_key(MESSAGE, "topic", 7);
        assert_eq!(parse_key(&k).unwrap(), ("topic".to_string(), 7));
        let s = MsgState { attempts: 2, max_attempts: 5, enqueued_at: 99, leased: true };
        let d = MsgState::decode(&s.encode()).unwrap();
        assert_eq!((d.attempts, d.max_attempts, d.enqueued_at, d.leased), (2, 5, 99, true));
    }

    #[test]
    fn settle_parsing() {
        assert_eq!(Settle::parse("ack", None).unwrap(), Settle::Ack);
        assert_eq!(Settle::parse("ack", Some(5.0)).unwrap(), Settle::Ack);
        assert_eq!(Settle::parse("nack", None).unwrap(), Settle::Nack { delay_ms: 0 });
        assert_eq!(Settle::parse("nack", Some(10.5)).unwrap(), Settle::Nack { delay_ms: 11 });
        assert_eq!(Settle::parse("extend", Some(0.1)).unwrap(), Settle::Extend { visibility_ms: 1 });
        let msg = |how: &str, ms: Option<f64>| {
            let e = Settle::parse(how, ms).unwrap_err();
            assert_eq!(e.code(), "INVALID_ARGUMENT");
            e.to_string()
        };
        assert_eq!(msg("extend", None), "invalid argument: extend needs a visibility timeout of at least 1 ms");
        assert_eq!(msg("extend", Some(0.0)), "invalid argument: extend needs a visibility timeout of at least 1 ms");
        assert_eq!(msg("drop", None), "invalid argument: settle takes 'ack', 'nack' or 'extend', not \"drop\"");
        assert_eq!(msg("ack", Some(-1.0)), "invalid argument: ms must be a non-negative finite number");
        assert_eq!(msg("nack", Some(f64::NAN)), "invalid argument: ms must be a non-negative finite number");
    }

    #[test]
    fn enqueue_options_parsing() {
        assert_eq!(EnqueueOptions::parse(None, None).unwrap(), EnqueueOptions { delay_ms: 0, max_attempts: None });
        assert_eq!(EnqueueOptions::parse(Some(1.5), Some(3)).unwrap(), EnqueueOptions { delay_ms: 2, max_attempts: Some(3) });
        let e = EnqueueOptions::parse(Some(-1.0), None).unwrap_err();
        assert_eq!(e.to_string(), "invalid argument: delayMs must be a non-negative finite number");
    }
}
