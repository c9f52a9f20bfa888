//! Argon2id password hashing into the key-encryption key.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Argon2id cost parameters, stored in the key file so that later opens use the same ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// Floor enforced for new key files: 64 MiB, t=3 (OWASP recommends at least 19 MiB, t=2).
    pub const MIN_MEMORY_KIB: u32 = 64 * 1024;
    pub const MIN_ITERATIONS: u32 = 3;
    /// Upper bounds that protect `open` against a key file asking for absurd work.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    pub const MAX_ITERATIONS: u32 = 64;
    pub const MAX_PARALLELISM: u32 = 16;

    pub const DEFAULT: KdfParams = KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 };

    /// Checks parameters requested for a new key file.
    pub fn validate_new(&self) -> Result<()> {
        if self.memory_kib < Self::MIN_MEMORY_KIB || self.iterations < Self::MIN_ITERATIONS {
            return Err(Error::invalid(format!(
                "Argon2id parameters too weak: need memory >= {} KiB and iterations >= {}",
                Self::MIN_MEMORY_KIB,
                Self::MIN_ITERATIONS
            )));
        }
        self.validate_stored().map_err(|e| Error::invalid(e.to_string()))
    }

    /// Checks parameters read from a key file (bounded so a tampered file cannot hang us).
    pub fn validate_stored(&self) -> Result<()> {
        if self.memory_kib < 8 * self.parallelism.max(1)
            || self.memory_kib > Self::MAX_MEMORY_KIB
            || self.iterations == 0
            || self.iterations > Self::MAX_ITERATIONS
            || self.parallelism == 0
            || self.parallelism > Self::MAX_PARALLELISM
        {
            return Err(Error::Corrupt(format!("key file has out-of-range Argon2id parameters {self:?}")));
        }
        Ok(())
    }

    /// Derives a 256-bit key from `password` and `salt`.
    pub fn derive(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| Error::invalid(format!("Argon2id parameters: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon.hash_password_into(password, salt, out.as_mut()).map_err(|e| Error::Internal(format!("Argon2id failed: {e}")))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}
