//! `Statement.iterate()`: rows read lazily, a batch at a time. A thread of its own runs the
//! statement on a pooled reader and hands batches over a channel of one slot, so at most one
//! batch is read ahead of the consumer and a query of a million rows never sits in memory. The
//! reader stays checked out until the rows end or the cursor closes (`close()`, a `break` out of
//! the loop, the layer's close, or garbage collection); closing joins the thread, so the
//! connection is back in the pool when `close()` returns.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use aico_data_core::sql::{OwnedRows, Params, RowSink, RowView, SqlStore, Wait};
use aico_data_core::Error;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use parking_lot::Mutex;

use crate::convert::RowShape;
use crate::error::OrThrow;
use crate::sql::{SqlOut, SqlOutJs};

/// Rows per batch: one native call and one channel hand-off per 256 rows.
const BATCH: usize = 256;

type Batch = aico_data_core::Result<OwnedRows>;

/// Sends every `BATCH` rows; stops the statement when the consumer is gone.
struct BatchSink {
    tx: SyncSender<Batch>,
    cur: OwnedRows,
    store: Arc<SqlStore>,
}

impl RowSink for BatchSink {
    fn columns(&mut self, names: &[&str]) -> aico_data_core::Result<()> {
        self.cur.columns(names)
    }

    fn row(&mut self, row: &dyn RowView) -> aico_data_core::Result<bool> {
        self.cur.row(row)?;
        if self.cur.rows.len() < BATCH {
            return Ok(true);
        }
        let next = OwnedRows { columns: self.cur.columns.clone(), ..Default::default() };
        let full = std::mem::replace(&mut self.cur, next);
        // A closed store or a consumer that went away: stop stepping, release the reader.
        Ok(!self.store.is_closed() && self.tx.send(Ok(full)).is_ok())
    }
}

#[napi]
pub struct NativeCursor {
    rx: Arc<Mutex<Option<Receiver<Batch>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    shape: RowShape,
}

impl NativeCursor {
    pub(crate) fn open(store: Arc<SqlStore>, sql: String, params: Params, shape: RowShape) -> Result<Self> {
        let (tx, rx) = sync_channel::<Batch>(1);
        let thread = std::thread::Builder::new()
            .name("aico-sql-cursor".into())
            .spawn(move || {
                let mut sink = BatchSink { tx: tx.clone(), cur: OwnedRows::default(), store: store.clone() };
                let res = store.query(&sql, &params, &mut sink, Wait::Block);
                let last = match res {
                    Ok(()) => Ok(std::mem::take(&mut sink.cur)),
                    Err(e) => Err(e),
                };
                // The last (maybe partial) batch or the error; then the channel closes: the end.
                let _ = tx.send(last);
            })
            .map_err(|e| Error::Io(format!("cannot start a cursor thread: {e}")))
            .or_throw()?;
        Ok(NativeCursor { rx: Arc::new(Mutex::new(Some(rx))), thread: Mutex::new(Some(thread)), shape })
    }

    fn shut(&self) {
        // Dropping the receiver fails the thread's next send, which stops the statement.
        self.rx.lock().take();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

/// The next batch, or `None` at the end (and after `close()`).
fn next_batch(rx: &Mutex<Option<Receiver<Batch>>>) -> aico_data_core::Result<Option<OwnedRows>> {
    let guard = rx.lock();
    let Some(r) = guard.as_ref() else { return Ok(None) };
    match r.recv() {
        Ok(Ok(rows)) => Ok(Some(rows)),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None), // the thread sent its last batch and ended
    }
}

#[napi]
impl NativeCursor {
    /// The next batch of rows (an array, possibly empty), or `null` when the rows ended.
    #[napi(ts_return_type = "unknown[] | null")]
    pub fn next(&self) -> Result<Option<SqlOutJs>> {
        let batch = next_batch(&self.rx).or_throw()?;
        Ok(batch.map(|rows| SqlOutJs(SqlOut::Rows(rows, self.shape, false))))
    }

    /// `next()` off the JS thread.
    #[napi(ts_return_type = "Promise<unknown[] | null>")]
    pub fn next_async(&self) -> AsyncTask<NextTask> {
        AsyncTask::new(NextTask { rx: self.rx.clone(), shape: self.shape })
    }

    /// Stops reading and gives the reader connection back (idempotent).
    #[napi]
    pub fn close(&self) {
        self.shut();
    }
}

impl Drop for NativeCursor {
    fn drop(&mut self) {
        self.shut();
    }
}

pub struct NextTask {
    rx: Arc<Mutex<Option<Receiver<Batch>>>>,
    shape: RowShape,
}

impl Task for NextTask {
    type Output = Option<OwnedRows>;
    type JsValue = Option<SqlOutJs>;

    fn compute(&mut self) -> Result<Self::Output> {
        next_batch(&self.rx).or_throw()
    }

    fn resolve(&mut self, _env: Env, out: Self::Output) -> Result<Self::JsValue> {
        Ok(out.map(|rows| SqlOutJs(SqlOut::Rows(rows, self.shape, false))))
    }
}
