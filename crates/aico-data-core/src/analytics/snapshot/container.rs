//! The sealed snapshot file: a sequence of frames, each sealed on its own with
//! XChaCha20-Poly1305 under the DuckDB store key.
//!
//! ```text
//! file   = MAGIC (8) || snapshot id (16, random) || frame*
//! frame  = length (u32 LE) || keys::seal(key, kind (1) || payload, aad)
//! aad    = "aico-data/analytics-snapshot/v1" || snapshot id || frame index (u64 LE)
//! ```
//!
//! The frame index in the associated data stops reordering, dropping or repeating frames;
//! the snapshot id stops splicing frames of two snapshots; the last frame must be `End`,
//! which stops truncation. Nothing but the magic, the random id and frame lengths is in
//! the clear.

use std::io::{Read, Write};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::{self, StoreKey};

pub(crate) const MAGIC: &[u8; 8] = b"AICOASN1";
const AAD_PREFIX: &[u8] = b"aico-data/analytics-snapshot/v1";
/// Frames larger than this are refused on read (a tampered length must not allocate GBs).
const MAX_FRAME: usize = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameKind {
    /// UTF-8 `key=value` lines: format version, creation time.
    Meta = 1,
    /// Starts a table: `name \n fingerprint`.
    Table = 2,
    /// One Arrow IPC stream with rows of the current table.
    Data = 3,
    /// Last frame: the number of frames before it (u64 LE).
    End = 4,
}

impl FrameKind {
    fn from_byte(b: u8) -> Result<FrameKind> {
        Ok(match b {
            1 => FrameKind::Meta,
            2 => FrameKind::Table,
            3 => FrameKind::Data,
            4 => FrameKind::End,
            other => return Err(Error::Corrupt(format!("snapshot frame of unknown kind {other}"))),
        })
    }
}

fn aad(id: &[u8; 16], index: u64) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_PREFIX.len() + 24);
    a.extend_from_slice(AAD_PREFIX);
    a.extend_from_slice(id);
    a.extend_from_slice(&index.to_le_bytes());
    a
}

pub(crate) struct FrameWriter<'k, W: Write> {
    out: W,
    key: &'k StoreKey,
    id: [u8; 16],
    index: u64,
    pub(crate) bytes: u64,
}

impl<'k, W: Write> FrameWriter<'k, W> {
    pub(crate) fn new(mut out: W, key: &'k StoreKey) -> Result<Self> {
        let mut id = [0u8; 16];
        crate::random::fill(&mut id)?;
        out.write_all(MAGIC)?;
        out.write_all(&id)?;
        Ok(FrameWriter { out, key, id, index: 0, bytes: 24 })
    }

    pub(crate) fn frame(&mut self, kind: FrameKind, payload: &[u8]) -> Result<()> {
        let mut pt = Zeroizing::new(Vec::with_capacity(payload.len() + 1));
        pt.push(kind as u8);
        pt.extend_from_slice(payload);
        let sealed = keys::seal(self.key.bytes(), &pt, &aad(&self.id, self.index))?;
        let len = u32::try_from(sealed.len()).map_err(|_| Error::Internal("snapshot frame over 4 GiB".into()))?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&sealed)?;
        self.index += 1;
        self.bytes += 4 + sealed.len() as u64;
        Ok(())
    }

    /// Writes the `End` frame and returns the output.
    pub(crate) fn finish(mut self) -> Result<W> {
        let count = self.index;
        self.frame(FrameKind::End, &count.to_le_bytes())?;
        Ok(self.out)
    }
}

pub(crate) struct FrameReader<'k, R: Read> {
    input: R,
    key: &'k StoreKey,
    id: [u8; 16],
    index: u64,
    ended: bool,
}

impl<'k, R: Read> FrameReader<'k, R> {
    pub(crate) fn new(mut input: R, key: &'k StoreKey) -> Result<Self> {
        let mut head = [0u8; 24];
        input.read_exact(&mut head).map_err(|_| Error::Corrupt("snapshot is shorter than its header".into()))?;
        if &head[..8] != MAGIC {
            return Err(Error::Corrupt("not an aico-data analytics snapshot (bad magic)".into()));
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&head[8..]);
        Ok(FrameReader { input, key, id, index: 0, ended: false })
    }

    /// The next frame, or `None` after `End`. Anything altered, reordered or cut off is
    /// `CORRUPT` (a snapshot sealed under another key is too: it cannot be told apart).
    pub(crate) fn next(&mut self) -> Result<Option<(FrameKind, Zeroizing<Vec<u8>>)>> {
        if self.ended {
            let mut probe = [0u8; 1];
            return match self.input.read(&mut probe)? {
                0 => Ok(None),
                _ => Err(Error::Corrupt("snapshot has bytes after its end frame".into())),
            };
        }
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).map_err(|_| Error::Corrupt(format!("snapshot truncated before frame {}", self.index)))?;
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME + keys::aead::OVERHEAD + 1 {
            return Err(Error::Corrupt(format!("snapshot frame {} claims {len} bytes", self.index)));
        }
        let mut sealed = vec![0u8; len];
        self.input.read_exact(&mut sealed).map_err(|_| Error::Corrupt(format!("snapshot truncated inside frame {}", self.index)))?;
        let pt = Zeroizing::new(keys::open(self.key.bytes(), &sealed, &aad(&self.id, self.index)).map_err(|_| {
            Error::Corrupt(format!("snapshot frame {} failed authentication (tampered, or sealed under another key)", self.index))
        })?);
        let kind = FrameKind::from_byte(*pt.first().ok_or_else(|| Error::Corrupt("empty snapshot frame".into()))?)?;
        let payload = Zeroizing::new(pt[1..].to_vec());
        if kind == FrameKind::End {
            let count = payload.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
            if count != Some(self.index) {
                return Err(Error::Corrupt("snapshot end frame does not match its frame count".into()));
            }
            self.ended = true;
            self.index += 1;
            return self.next();
        }
        self.index += 1;
        Ok(Some((kind, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &StoreKey) -> Vec<u8> {
        let mut w = FrameWriter::new(Vec::new(), key).unwrap();
        w.frame(FrameKind::Meta, b"format=1").unwrap();
        w.frame(FrameKind::Data, b"payload").unwrap();
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8], key: &StoreKey) -> Result<Vec<(FrameKind, Vec<u8>)>> {
        let mut r = FrameReader::new(bytes, key)?;
        let mut out = Vec::new();
        while let Some((k, p)) = r.next()? {
            out.push((k, p.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn round_trip_and_every_tamper_is_detected() {
        let key = StoreKey::from_bytes([3u8; 32]);
        let bytes = sample(&key);
        assert_eq!(read_all(&bytes, &key).unwrap(), vec![(FrameKind::Meta, b"format=1".to_vec()), (FrameKind::Data, b"payload".to_vec())]);
        assert!(!bytes.windows(7).any(|w| w == b"payload"), "payload in the clear");
        for i in 0..bytes.len() {
            let mut t = bytes.clone();
            t[i] ^= 0x40;
            assert_eq!(read_all(&t, &key).unwrap_err().code(), "CORRUPT", "flip at {i}");
        }
        for cut in 0..bytes.len() {
            assert!(read_all(&bytes[..cut], &key).is_err(), "truncation at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_all(&longer, &key).is_err());
        assert!(read_all(&bytes, &StoreKey::from_bytes([4u8; 32])).is_err());
    }

    #[test]
    fn frames_of_two_snapshots_cannot_be_spliced() {
        let key = StoreKey::from_bytes([3u8; 32]);
        let (a, b) = (sample(&key), sample(&key));
        let mut spliced = a[..24].to_vec();
        spliced.extend_from_slice(&b[24..]);
        assert!(read_all(&spliced, &key).is_err());
    }
}
