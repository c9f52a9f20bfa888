//! OS randomness.

use crate::error::{Error, Result};

pub fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|e| Error::Internal(format!("OS random source failed: {e}")))
}
