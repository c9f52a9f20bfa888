//! The SHA-256 manifest of the model files, committed beside this module
//! (`all-MiniLM-L6-v2.sha256`, sha256sum's format) and compiled in: a model directory is
//! trusted only for files whose bytes hash to it.

use sha2::{Digest, Sha256};

use crate::{Error, Result};

const MANIFEST: &str = include_str!("all-MiniLM-L6-v2.sha256");

/// The expected digest of `file` (a path relative to the model directory), if the manifest lists it.
pub(crate) fn expected(file: &str) -> Option<&'static str> {
    MANIFEST.lines().filter(|l| !l.starts_with('#')).find_map(|l| l.split_once("  ").filter(|(_, name)| *name == file).map(|(hex, _)| hex))
}

/// `CORRUPT` unless `bytes` hash to the manifest's digest for `file`.
pub(crate) fn verify(file: &str, bytes: &[u8]) -> Result<()> {
    let want = expected(file).ok_or_else(|| Error::Internal(format!("the model manifest does not list {file}")))?;
    let got = hex::encode(Sha256::digest(bytes));
    if got != want {
        return Err(Error::Corrupt(format!(
            "model file {file}: SHA-256 {got} is not the manifest's {want} (replaced or damaged; fetch it again)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_files_the_core_reads_and_refuses_other_bytes() {
        for f in ["config.json", "vocab.txt", "model.safetensors"] {
            assert_eq!(expected(f).map(str::len), Some(64), "{f}");
        }
        assert_eq!(expected("nope.bin"), None);
        assert_eq!(verify("config.json", b"{}").unwrap_err().code(), "CORRUPT");
    }
}
