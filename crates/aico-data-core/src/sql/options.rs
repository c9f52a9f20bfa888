//! Options of the encrypted SQL store.

/// `PRAGMA synchronous`: NORMAL is durable across process crashes in WAL mode and may lose
/// the last commits on power loss; FULL also survives power loss, at a cost per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    #[default]
    Normal,
    Full,
}

impl Synchronous {
    /// `'normal'` or `'full'` (any case), as the API names them.
    pub fn parse(s: &str) -> crate::Result<Synchronous> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            other => Err(crate::Error::invalid(format!("synchronous must be 'normal' or 'full', not {other:?}"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqlOptions {
    /// Reader connections in the pool (the writer is extra).
    pub readers: usize,
    /// How long SQLite waits on a lock held by another process before `BUSY`.
    pub busy_timeout_ms: u32,
    /// How long a caller waits for a pooled connection before `BUSY`.
    pub acquire_timeout_ms: u32,
    pub synchronous: Synchronous,
    /// Prepared statements kept per connection.
    pub statement_cache: usize,
    /// Page cache per connection, KiB.
    pub cache_kib: u32,
}

impl Default for SqlOptions {
    fn default() -> Self {
        SqlOptions {
            readers: 4,
            busy_timeout_ms: 5000,
            acquire_timeout_ms: 5000,
            synchronous: Synchronous::Normal,
            statement_cache: 256,
            cache_kib: 8192,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synchronous_parses_the_two_modes_in_any_case_and_refuses_the_rest() {
        assert_eq!(Synchronous::parse("normal").unwrap(), Synchronous::Normal);
        assert_eq!(Synchronous::parse("FULL").unwrap(), Synchronous::Full);
        for bad in ["off", "extra", "", "full "] {
            assert_eq!(Synchronous::parse(bad).unwrap_err().code(), "INVALID_ARGUMENT", "{bad:?}");
        }
    }
}
