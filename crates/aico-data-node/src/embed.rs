//! The local sentence-embedding model (all-MiniLM-L6-v2, computed by aico-data-core) as a JS
//! class. Loading (hashing and parsing 90 MB) and embedding run on the libuv pool, so a query
//! embedding never blocks the event loop.

use std::path::PathBuf;
use std::sync::Arc;

use aico_data_core::embed::MiniLm;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;

pub struct LoadMiniLmTask {
    dir: PathBuf,
}

impl Task for LoadMiniLmTask {
    type Output = MiniLm;
    type JsValue = NativeMiniLm;

    fn compute(&mut self) -> Result<MiniLm> {
        MiniLm::load(&self.dir).or_throw()
    }

    fn resolve(&mut self, _env: Env, model: MiniLm) -> Result<NativeMiniLm> {
        Ok(NativeMiniLm { model: Arc::new(model) })
    }
}

/// Loads the model folder `dir` (config.json, vocab.txt, model.safetensors), each file checked
/// against the committed SHA-256 manifest first. `IO` when a file is missing, `CORRUPT` when
/// one differs. Resolves with a `NativeMiniLm`.
#[napi(ts_return_type = "Promise<NativeMiniLm>")]
pub fn load_mini_lm(dir: String) -> AsyncTask<LoadMiniLmTask> {
    AsyncTask::new(LoadMiniLmTask { dir: PathBuf::from(dir) })
}

pub struct EmbedTask {
    model: Arc<MiniLm>,
    texts: Vec<String>,
}

impl Task for EmbedTask {
    type Output = Vec<Vec<f32>>;
    type JsValue = Vec<Float32Array>;

    fn compute(&mut self) -> Result<Vec<Vec<f32>>> {
        self.model.embed(&self.texts).or_throw()
    }

    fn resolve(&mut self, _env: Env, vectors: Vec<Vec<f32>>) -> Result<Vec<Float32Array>> {
        Ok(vectors.into_iter().map(Float32Array::new).collect())
    }
}

#[napi]
pub struct NativeMiniLm {
    model: Arc<MiniLm>,
}

#[napi]
impl NativeMiniLm {
    /// Length of every vector (384).
    #[napi(getter)]
    pub fn dimension(&self) -> u32 {
        self.model.dimension() as u32
    }

    /// Word pieces per text, `[CLS]` and `[SEP]` included; the rest of a text is not read.
    #[napi(getter)]
    pub fn max_tokens(&self) -> u32 {
        aico_data_core::embed::MAX_TOKENS as u32
    }

    /// The token ids the model sees for `text` (fast: no forward pass).
    #[napi]
    pub fn tokenize(&self, text: String) -> Uint32Array {
        Uint32Array::new(self.model.tokenize(&text))
    }

    /// One L2-normalised vector per text, computed off the JS thread.
    #[napi(ts_return_type = "Promise<Float32Array[]>")]
    pub fn embed(&self, texts: Vec<String>) -> AsyncTask<EmbedTask> {
        AsyncTask::new(EmbedTask { model: self.model.clone(), texts })
    }
}
