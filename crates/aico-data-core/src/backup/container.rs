//! The backup container: a plaintext header, then a stream of sealed chunks.
//!
//! ```text
//! header (248 bytes, little-endian)
//!   0   8  magic "AICOBAK\0"          8  2  format version (1)     10  2  reserved (0)
//!  12   4  chunk size (plaintext bytes per chunk)
//!  16  16  key id of the data key     32 16  backup id (random)     48  8  created, Unix ms
//!  56 160  the folder's key file (wrapped data key, salt, Argon2id parameters)
//! 216  32  SHA-256 of bytes 0..216
//! chunk i  = sealed length (u32) || keys::seal(K, plaintext_i, aad_i)
//! aad_i    = SHA-256(header) || i (u64) || final (u8: 1 on the last chunk, else 0)
//! K        = HKDF-SHA256(DEK, salt = key id, info = "aico-data/v1/backup/<backup id hex>")
//! ```
//!
//! Each chunk has its own random 192-bit nonce. Binding the index orders the chunks (a swap
//! or a repeat fails), binding the final flag detects truncation at a chunk boundary (the
//! stream must end with a chunk sealed as final, and nothing may follow it), and binding the
//! header hash ties every chunk to this header (another key file or key id fails). The
//! header checksum separates a damaged file (`CORRUPT`) from a wrong password.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::keys::{self, StoreKey};

pub(crate) const MAGIC: &[u8; 8] = b"AICOBAK\0";
pub(crate) const FORMAT_VERSION: u16 = 1;
pub(crate) const KEYFILE_LEN: usize = 160;
pub(crate) const HEADER_LEN: usize = 248;
const BODY_END: usize = 216;
/// Plaintext bytes per chunk.
pub(crate) const CHUNK_SIZE: u32 = 1 << 20;
const MAX_CHUNK_SIZE: u32 = 16 << 20;

/// The parsed header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub chunk_size: u32,
    pub key_id: [u8; 16],
    pub backup_id: [u8; 16],
    pub created_ms: u64,
    pub key_file: [u8; KEYFILE_LEN],
}

impl Header {
    pub(crate) fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[12..16].copy_from_slice(&self.chunk_size.to_le_bytes());
        b[16..32].copy_from_slice(&self.key_id);
        b[32..48].copy_from_slice(&self.backup_id);
        b[48..56].copy_from_slice(&self.created_ms.to_le_bytes());
        b[56..BODY_END].copy_from_slice(&self.key_file);
        let digest = Sha256::digest(&b[..BODY_END]);
        b[BODY_END..].copy_from_slice(&digest);
        b
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Result<Header> {
        if b.len() < HEADER_LEN {
            return Err(Error::Corrupt(format!("backup file is {} bytes, shorter than its header", b.len())));
        }
        if &b[..8] != MAGIC {
            return Err(Error::Corrupt("not an aico-data backup (bad magic)".into()));
        }
        if Sha256::digest(&b[..BODY_END]).as_slice() != &b[BODY_END..HEADER_LEN] {
            return Err(Error::Corrupt("backup header checksum mismatch (damaged or altered)".into()));
        }
        let version = u16::from_le_bytes([b[8], b[9]]);
        if version != FORMAT_VERSION {
            return Err(Error::Corrupt(format!("unsupported backup format version {version}")));
        }
        let chunk_size = u32::from_le_bytes(b[12..16].try_into().unwrap());
        if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
            return Err(Error::Corrupt(format!("backup chunk size {chunk_size} out of range")));
        }
        Ok(Header {
            chunk_size,
            key_id: b[16..32].try_into().unwrap(),
            backup_id: b[32..48].try_into().unwrap(),
            created_ms: u64::from_le_bytes(b[48..56].try_into().unwrap()),
            key_file: b[56..BODY_END].try_into().unwrap(),
        })
    }

    pub(crate) fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.to_bytes()).into()
    }
}

fn chunk_aad(header_hash: &[u8; 32], index: u64, last: bool) -> [u8; 41] {
    let mut aad = [0u8; 41];
    aad[..32].copy_from_slice(header_hash);
    aad[32..40].copy_from_slice(&index.to_le_bytes());
    aad[40] = last as u8;
    aad
}

/// Seals what is written into chunks; [`ChunkWriter::finish`] seals the final chunk.
pub(crate) struct ChunkWriter<W: Write> {
    out: W,
    key: StoreKey,
    header_hash: [u8; 32],
    buf: zeroize::Zeroizing<Vec<u8>>,
    chunk_size: usize,
    index: u64,
    written: u64,
}

impl<W: Write> ChunkWriter<W> {
    pub(crate) fn new(mut out: W, header: &Header, key: StoreKey) -> Result<Self> {
        out.write_all(&header.to_bytes())?;
        Ok(ChunkWriter {
            out,
            key,
            header_hash: header.hash(),
            buf: zeroize::Zeroizing::new(Vec::with_capacity(header.chunk_size as usize)),
            chunk_size: header.chunk_size as usize,
            index: 0,
            written: HEADER_LEN as u64,
        })
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let sealed = keys::seal(self.key.bytes(), &self.buf, &chunk_aad(&self.header_hash, self.index, last)).map_err(io::Error::other)?;
        self.out.write_all(&(sealed.len() as u32).to_le_bytes())?;
        self.out.write_all(&sealed)?;
        self.written += 4 + sealed.len() as u64;
        self.index += 1;
        zeroize::Zeroize::zeroize(&mut *self.buf);
        self.buf.clear();
        Ok(())
    }

    /// Seals the last chunk (possibly empty) and returns the sink and the bytes written.
    pub(crate) fn finish(mut self) -> Result<(W, u64)> {
        self.seal_chunk(true)?;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

impl<W: Write> Write for ChunkWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.chunk_size - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == self.chunk_size {
            self.seal_chunk(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens chunks as they are read. Any failure is `CORRUPT`: a tampered, reordered or
/// truncated stream, trailing bytes, or chunks sealed under another key.
pub(crate) struct ChunkReader<R: Read> {
    input: R,
    key: StoreKey,
    header_hash: [u8; 32],
    max_sealed: usize,
    buf: zeroize::Zeroizing<Vec<u8>>,
    pos: usize,
    index: u64,
    done: bool,
    /// Bytes consumed from `input` (for progress).
    pub(crate) consumed: u64,
}

impl<R: Read> ChunkReader<R> {
    pub(crate) fn new(input: R, header: &Header, key: StoreKey) -> Self {
        ChunkReader {
            input,
            key,
            header_hash: header.hash(),
            max_sealed: header.chunk_size as usize + keys::aead::OVERHEAD,
            buf: zeroize::Zeroizing::new(Vec::new()),
            pos: 0,
            index: 0,
            done: false,
            consumed: HEADER_LEN as u64,
        }
    }

    fn next_chunk(&mut self) -> Result<()> {
        let mut len = [0u8; 4];
        read_exact_or_truncated(&mut self.input, &mut len)?;
        let len = u32::from_le_bytes(len) as usize;
        if len < keys::aead::OVERHEAD || len > self.max_sealed {
            return Err(Error::Corrupt(format!("backup chunk {} has an impossible length {len}", self.index)));
        }
        let mut sealed = vec![0u8; len];
        read_exact_or_truncated(&mut self.input, &mut sealed)?;
        self.consumed += 4 + len as u64;
        let plain = match keys::open(self.key.bytes(), &sealed, &chunk_aad(&self.header_hash, self.index, false)) {
            Ok(p) => p,
            Err(_) => {
                let p = keys::open(self.key.bytes(), &sealed, &chunk_aad(&self.header_hash, self.index, true)).map_err(|_| {
                    Error::Corrupt(format!(
                        "backup chunk {} failed authentication (tampered, reordered, or from another backup)",
                        self.index
                    ))
                })?;
                self.done = true;
                let mut extra = [0u8; 1];
                if self.input.read(&mut extra)? != 0 {
                    return Err(Error::Corrupt("bytes follow the final chunk of the backup".into()));
                }
                p
            }
        };
        self.index += 1;
        self.buf = zeroize::Zeroizing::new(plain);
        self.pos = 0;
        Ok(())
    }
}

fn read_exact_or_truncated(r: &mut impl Read, buf: &mut [u8]) -> Result<()> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::Corrupt("the backup is truncated (its final chunk is missing)".into()),
        _ => Error::io("reading the backup", e),
    })
}

impl<R: Read> Read for ChunkReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.next_chunk().map_err(into_io)?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Carries a core error through `io::Read`/`io::Write` (recovered by [`from_io`]).
pub(crate) fn into_io(e: Error) -> io::Error {
    io::Error::other(e)
}

/// The core error inside an `io::Error` made by [`into_io`], or an `IO` error.
pub(crate) fn from_io(e: io::Error, context: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return *e.into_inner().unwrap().downcast::<Error>().unwrap();
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return Error::Corrupt("the backup is truncated".into());
    }
    Error::io(context, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header { chunk_size: 64, key_id: [1; 16], backup_id: [2; 16], created_ms: 3, key_file: [4; KEYFILE_LEN] }
    }

    fn sealed(data: &[u8]) -> Vec<u8> {
        let mut w = ChunkWriter::new(Vec::new(), &header(), StoreKey::from_bytes([5; 32])).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap().0
    }

    fn open_all(bytes: &[u8]) -> Result<Vec<u8>> {
        let h = Header::from_bytes(bytes)?;
        let mut r = ChunkReader::new(&bytes[HEADER_LEN..], &h, StoreKey::from_bytes([5; 32]));
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(|e| from_io(e, "test"))?;
        Ok(out)
    }

    #[test]
    fn roundtrip_tamper_truncate() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let bytes = sealed(&data);
        assert_eq!(open_all(&bytes).unwrap(), data);
        assert_eq!(open_all(&sealed(b"")).unwrap(), b"");
        // every truncation point fails
        for cut in [HEADER_LEN, HEADER_LEN + 3, HEADER_LEN + 4 + 64 + 41, bytes.len() - 1] {
            assert_eq!(open_all(&bytes[..cut]).unwrap_err().code(), "CORRUPT", "cut at {cut}");
        }
        // a flipped bit anywhere fails
        for i in (0..bytes.len()).step_by(37) {
            let mut t = bytes.clone();
            t[i] ^= 0x10;
            assert!(open_all(&t).is_err(), "flip at {i} undetected");
        }
        // trailing bytes
        let mut t = bytes.clone();
        t.push(0);
        assert_eq!(open_all(&t).unwrap_err().code(), "CORRUPT");
        // the plaintext never appears
        assert!(!bytes.windows(16).any(|w| w == &data[100..116]));
    }
}
