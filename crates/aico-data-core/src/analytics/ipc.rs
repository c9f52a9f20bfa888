//! Arrow IPC streams: the bytes `queryArrow` returns, and the payload of snapshot frames.

use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow_ipc::CompressionType;
use duckdb::arrow::array::RecordBatch;
use duckdb::arrow::datatypes::Schema;

use crate::error::{Error, Result};

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("arrow ipc: {e}"))
}

/// Writes record batches as one Arrow IPC stream (schema, batches, end marker).
pub(crate) struct IpcStream {
    writer: StreamWriter<Vec<u8>>,
}

impl IpcStream {
    /// `compress`: LZ4-frame body compression (snapshots). Off for `queryArrow`, so every
    /// Arrow reader can open the bytes.
    pub(crate) fn new(schema: &Schema, compress: bool) -> Result<IpcStream> {
        let mut opts = IpcWriteOptions::default();
        if compress {
            opts = opts.try_with_compression(Some(CompressionType::LZ4_FRAME)).map_err(internal)?;
        }
        Ok(IpcStream { writer: StreamWriter::try_new_with_options(Vec::new(), schema, opts).map_err(internal)? })
    }

    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch).map_err(internal)
    }

    /// Bytes written so far.
    pub(crate) fn len(&mut self) -> usize {
        self.writer.get_mut().len()
    }

    pub(crate) fn finish(mut self) -> Result<Vec<u8>> {
        self.writer.finish().map_err(internal)?;
        self.writer.into_inner().map_err(internal)
    }
}

/// Reads every batch of one IPC stream. Malformed bytes are `CORRUPT`.
pub(crate) fn read_stream(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(bytes, None).map_err(|e| Error::Corrupt(format!("arrow ipc: {e}")))?;
    reader.map(|b| b.map_err(|e| Error::Corrupt(format!("arrow ipc: {e}")))).collect()
}
