//! The plaintext inside the sealed chunks: a flat sequence of named files.
//!
//! ```text
//! entry = 'F' || name length (u16) || name (UTF-8) || size (u64) || bytes
//! end   = 'Z'
//! ```
//! Names are relative paths of plain segments (`aico.db`, `kv/000012.sst`); anything that
//! could escape the restore folder is refused even though the stream is authenticated.

use std::io::{Read, Write};

use crate::error::{Error, Result};

pub(crate) const TAG_FILE: u8 = b'F';
pub(crate) const TAG_END: u8 = b'Z';

pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name.split('/').all(|seg| {
            !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if ok {
        Ok(())
    } else {
        Err(Error::Corrupt(format!("backup entry has an unsafe name {name:?}")))
    }
}

pub(crate) fn write_entry_header(w: &mut impl Write, name: &str, size: u64) -> Result<()> {
    check_name(name).map_err(|_| Error::invalid(format!("unsafe entry name {name:?}")))?;
    w.write_all(&[TAG_FILE])?;
    w.write_all(&(name.len() as u16).to_le_bytes())?;
    w.write_all(name.as_bytes())?;
    w.write_all(&size.to_le_bytes())?;
    Ok(())
}

/// Reads the next entry's `(name, size)`, or `None` at the end marker.
pub(crate) fn read_entry_header(r: &mut impl Read) -> std::io::Result<Option<(String, u64)>> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    match tag[0] {
        TAG_END => Ok(None),
        TAG_FILE => {
            let mut len = [0u8; 2];
            r.read_exact(&mut len)?;
            let mut name = vec![0u8; u16::from_le_bytes(len) as usize];
            r.read_exact(&mut name)?;
            let mut size = [0u8; 8];
            r.read_exact(&mut size)?;
            let name =
                String::from_utf8(name).map_err(|_| super::container::into_io(Error::Corrupt("backup entry name is not UTF-8".into())))?;
            check_name(&name).map_err(super::container::into_io)?;
            Ok(Some((name, u64::from_le_bytes(size))))
        }
        other => Err(super::container::into_io(Error::Corrupt(format!("unknown backup entry tag {other}")))),
    }
}
