//! The rotation journal: a small text file naming the phase reached and both key ids. It
//! holds no secret (key ids are public); the next data key waits, wrapped like the current
//! one, in its own key file beside it.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil;

/// Journal file name inside the data folder.
pub const STATE_FILE: &str = "rotation.state";
const MAGIC: &str = "aico-rotation/1";

/// Phases, in order. A phase is recorded once the previous one is complete and durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Copy the libSQL database under the new key, then swap the files.
    Sql = 1,
    /// Re-seal every RocksDB record.
    Kv = 2,
    /// Drop derived data sealed under the old key (analytics snapshot, Chroma folder).
    Derived = 3,
    /// Install the next key file as the key file.
    Commit = 4,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Sql => "sql",
            Phase::Kv => "kv",
            Phase::Derived => "derived",
            Phase::Commit => "commit",
        }
    }

    fn parse(s: &str) -> Option<Phase> {
        Some(match s {
            "sql" => Phase::Sql,
            "kv" => Phase::Kv,
            "derived" => Phase::Derived,
            "commit" => Phase::Commit,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub phase: Phase,
    pub old_key_id: [u8; 16],
    pub new_key_id: [u8; 16],
}

impl State {
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text =
            format!("{MAGIC}\nphase={}\nold={}\nnew={}\n", self.phase.name(), hex::encode(self.old_key_id), hex::encode(self.new_key_id));
        fsutil::write_atomic(&dir.join(STATE_FILE), text.as_bytes())
    }

    pub fn read(dir: &Path) -> Result<Option<State>> {
        let text = match std::fs::read_to_string(dir.join(STATE_FILE)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("reading the key rotation journal", e)),
        };
        let bad = || Error::Corrupt(format!("the key rotation journal {STATE_FILE} is damaged"));
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(bad());
        }
        let mut field = |name: &str| -> Result<String> {
            lines.next().and_then(|l| l.strip_prefix(name)).and_then(|l| l.strip_prefix('=')).map(str::to_string).ok_or_else(bad)
        };
        let phase = Phase::parse(&field("phase")?).ok_or_else(bad)?;
        let id = |s: String| -> Result<[u8; 16]> { hex::decode(s).ok().and_then(|v| v.try_into().ok()).ok_or_else(bad) };
        let old_key_id = id(field("old")?)?;
        let new_key_id = id(field("new")?)?;
        Ok(Some(State { phase, old_key_id, new_key_id }))
    }
}
