//! Faithful output: token ids and embeddings against the reference implementation's, for the
//! sentences of `__test__/fixtures/minilm-reference.json` (made by
//! scripts/model/reference-vectors.py). Needs the model files: without them the test says why
//! and passes, unless `AICO_DATA_REQUIRE_MODEL=1` (set by CI after fetching them) makes it fail.

use std::path::PathBuf;
use std::time::Instant;

use super::json::{self, Json};
use super::model::MiniLm;

/// The model folder: `AICO_DATA_MINILM_DIR`, else scripts/model/fetch-minilm.mjs's cache.
pub(crate) fn model_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("AICO_DATA_MINILM_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/aico-data/models/all-MiniLM-L6-v2"),
    };
    if dir.join("model.safetensors").exists() {
        return Some(dir);
    }
    let why = format!("model not found at {} (run `node scripts/model/fetch-minilm.mjs`)", dir.display());
    assert!(std::env::var_os("AICO_DATA_REQUIRE_MODEL").is_none(), "AICO_DATA_REQUIRE_MODEL is set but the {why}");
    eprintln!("SKIPPED: {why}");
    None
}

struct Reference {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

/// The fixture's `sentences` (ids and vectors) and `tokenizerOnly` strings (ids alone).
fn fixture() -> (Vec<Reference>, Vec<Reference>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/fixtures/minilm-reference.json");
    let doc = json::parse(&std::fs::read_to_string(path).expect("reference fixture")).expect("fixture JSON");
    let nums = |v: &Json| v.as_array().expect("array").iter().map(|n| n.as_f64().expect("number")).collect::<Vec<f64>>();
    let list = |key: &str| -> Vec<Reference> {
        doc.get(key)
            .and_then(Json::as_array)
            .expect(key)
            .iter()
            .map(|s| Reference {
                text: s.get("text").and_then(Json::as_str).expect("text").to_string(),
                ids: nums(s.get("ids").expect("ids")).into_iter().map(|n| n as u32).collect(),
                vector: s.get("vector").map(|v| nums(v).into_iter().map(|n| n as f32).collect()).unwrap_or_default(),
            })
            .collect()
    };
    (list("sentences"), list("tokenizerOnly"))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn embed_matches_the_reference_token_ids_and_vectors() {
    let (refs, tokenizer_only) = fixture();
    assert!(refs.len() >= 50 && tokenizer_only.len() >= 100, "the fixture has {} sentences, {} strings", refs.len(), tokenizer_only.len());
    let Some(dir) = model_dir() else { return };
    let t0 = Instant::now();
    let model = MiniLm::load(&dir).expect("load the model");
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    for r in refs.iter().chain(&tokenizer_only) {
        assert_eq!(model.tokenize(&r.text), r.ids, "token ids of {:?}", r.text);
    }
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let vectors = model.embed(&texts).expect("embed");
    let mut cosines = Vec::new();
    for (r, v) in refs.iter().zip(&vectors) {
        assert_eq!(v.len(), 384);
        let c = cosine(v, &r.vector);
        assert!(c >= 0.999, "cosine {c} for {:?}", r.text);
        cosines.push(c);
    }
    let min = cosines.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = cosines.iter().sum::<f64>() / cosines.len() as f64;
    eprintln!(
        "minilm reference: {} sentences, cosine min {min:.9} (1 - min = {:.1e}) mean {mean:.9}; load {load_ms:.0} ms",
        refs.len(),
        1.0 - min
    );

    // Throughput figure for the README (printed, not asserted: the machine is shared).
    let batch: Vec<&str> = refs.iter().filter(|r| r.ids.len() <= 40).map(|r| r.text.as_str()).cycle().take(32).collect();
    model.embed(&batch).expect("warm-up");
    let t0 = Instant::now();
    let rounds = 5;
    for _ in 0..rounds {
        model.embed(&batch).expect("embed");
    }
    let s = t0.elapsed().as_secs_f64() / rounds as f64;
    eprintln!("minilm batch of 32 short sentences: {:.0} ms, {:.0} sentences/s", s * 1e3, 32.0 / s);
}

#[test]
fn a_changed_weight_byte_is_corrupt() {
    let Some(dir) = model_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    for f in ["config.json", "vocab.txt", "model.safetensors"] {
        std::fs::copy(dir.join(f), tmp.path().join(f)).expect("copy");
    }
    let path = tmp.path().join("model.safetensors");
    let mut bytes = std::fs::read(&path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).expect("write");
    let err = MiniLm::load(tmp.path()).err().expect("a changed byte must not load");
    assert_eq!(err.code(), "CORRUPT", "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}
