//! all-MiniLM-L6-v2 loaded from a local directory (`config.json`, `vocab.txt`,
//! `model.safetensors`): each file is read once, bounded in size, and its bytes are checked
//! against the committed SHA-256 manifest before they are parsed.

use std::io::Read;
use std::path::Path;

use super::bert::{Bert, BertConfig};
use super::json;
use super::manifest;
use super::safetensors::SafeTensors;
use super::wordpiece::WordPiece;
use crate::{Error, Result};

/// Word pieces per text, `[CLS]` and `[SEP]` included: the model's `max_seq_length` (its
/// sentence-transformers configuration); the rest of a longer text is not read.
pub const MAX_TOKENS: usize = 256;
/// The model's name, as sentence-transformers publishes it.
pub const MODEL_ID: &str = "all-MiniLM-L6-v2";
/// Texts per `embed` call (a bound on the work one call can ask for).
pub const MAX_BATCH: usize = 4096;

pub struct MiniLm {
    tokenizer: WordPiece,
    bert: Bert,
}

/// Reads `dir/name` (at most `max` bytes) and checks it against the manifest.
fn read_verified(dir: &Path, name: &str, max: u64) -> Result<Vec<u8>> {
    let path = dir.join(name);
    let file = std::fs::File::open(&path).map_err(|e| Error::io(format!("model file {}", path.display()), e))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| Error::io(format!("model file {}", path.display()), e))?;
    if bytes.len() as u64 > max {
        return Err(Error::Corrupt(format!("model file {name} is larger than {max} bytes")));
    }
    manifest::verify(name, &bytes)?;
    Ok(bytes)
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::Corrupt(format!("model file {name} is not UTF-8")))
}

impl MiniLm {
    /// Loads and verifies the model in `dir`. Missing files are `IO`; files that differ from the
    /// manifest, or that do not parse, are `CORRUPT`.
    pub fn load(dir: &Path) -> Result<MiniLm> {
        let config = utf8("config.json", read_verified(dir, "config.json", 1 << 20)?)?;
        let config = json::parse(&config).map_err(|e| Error::Corrupt(format!("config.json: {e}")))?;
        let cfg = BertConfig::from_json(&config)?;
        let vocab = utf8("vocab.txt", read_verified(dir, "vocab.txt", 16 << 20)?)?;
        let tokenizer = WordPiece::from_vocab(&vocab)?;
        if tokenizer.len() > cfg.vocab_size {
            return Err(Error::Corrupt(format!("vocab.txt has {} pieces, config.json {}", tokenizer.len(), cfg.vocab_size)));
        }
        if cfg.max_position_embeddings < MAX_TOKENS {
            return Err(Error::Corrupt(format!("the model has {} positions, {MAX_TOKENS} are needed", cfg.max_position_embeddings)));
        }
        let weights = read_verified(dir, "model.safetensors", 1 << 30)?;
        let bert = Bert::from_safetensors(cfg, &SafeTensors::parse(&weights)?)?;
        Ok(MiniLm { tokenizer, bert })
    }

    /// Length of every vector (384).
    pub fn dimension(&self) -> usize {
        self.bert.config().hidden_size
    }

    /// The token ids the model sees for `text`: `[CLS] … [SEP]`, at most [`MAX_TOKENS`].
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, MAX_TOKENS)
    }

    /// One L2-normalised vector per text, in order.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        if texts.len() > MAX_BATCH {
            return Err(Error::invalid(format!("{} texts in one call (at most {MAX_BATCH})", texts.len())));
        }
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokenize(t.as_ref())).collect();
        self.bert.embed(&ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_io_and_a_foreign_config_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let err = MiniLm::load(&tmp.path().join("absent")).err().unwrap();
        assert_eq!(err.code(), "IO", "{err}");
        std::fs::write(tmp.path().join("config.json"), br#"{"model_type":"bert"}"#).unwrap();
        let err = MiniLm::load(tmp.path()).err().unwrap();
        assert_eq!(err.code(), "CORRUPT", "{err}");
        assert!(err.to_string().contains("config.json"), "{err}");
    }
}
