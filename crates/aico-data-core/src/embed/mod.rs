//! Sentence embeddings computed in the core: all-MiniLM-L6-v2 (a 6-layer BERT, 384
//! dimensions, mean pooling, L2 normalisation) with its WordPiece tokenizer, in pure Rust
//! with no dependency beyond the crate's own. See README.md beside this file for why, the
//! truncation and the threat model.
//!
//! - [`model::MiniLm`]: load a verified model directory, tokenize, embed.
//! - `wordpiece` + `normalize` (+ generated `unicode_tables`): the tokenizer.
//! - `safetensors` + `json`: the weight file's format, parsed by hand.
//! - `bert` + `packed` (the dense layers, weights packed at load) + `matmul` (the attention's dot product): the forward pass.
//! - `manifest`: the SHA-256 digests the files must have.

mod bert;
pub(crate) mod json;
mod manifest;
mod matmul;
pub mod model;
mod normalize;
mod packed;
mod safetensors;
// Generated (scripts/model/unicode-tables.py): kept as the generator writes it.
#[rustfmt::skip]
mod unicode_tables;
mod wordpiece;

#[cfg(test)]
mod reference_test;

pub use model::{MiniLm, MAX_TOKENS, MODEL_ID};
