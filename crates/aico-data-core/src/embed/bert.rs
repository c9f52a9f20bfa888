//! The BERT encoder's forward pass, and its configuration and weights.
//!
//! Each sentence is run at its own length (no padding, so no attention mask is needed and mean
//! pooling is over exactly its tokens); the dense layers of all sentences of a batch run as
//! one product, the attention per sentence and head. Then the sentence-transformers head of
//! all-MiniLM-L6-v2: mean over the tokens, L2 normalisation.

use super::json::Json;
use super::matmul::dot;
use super::packed::PackedLinear;
use super::safetensors::SafeTensors;
use crate::{Error, Result};

/// Tokens per forward chunk: bounds the activations (the FFN's is tokens × 1,536 floats, 24 MiB).
const CHUNK_TOKENS: usize = 4096;

/// The fields of a BERT `config.json` the forward pass uses, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f32,
}

impl BertConfig {
    pub(crate) fn from_json(v: &Json) -> Result<BertConfig> {
        let bad = |m: String| Error::Corrupt(format!("config.json: {m}"));
        let int = |k: &str, max: u64| -> Result<usize> {
            match v.get(k).and_then(Json::as_u64) {
                Some(n) if n >= 1 && n <= max => Ok(n as usize),
                _ => Err(bad(format!("{k} must be an integer in 1..={max}"))),
            }
        };
        for (k, want) in [("model_type", "bert"), ("hidden_act", "gelu"), ("position_embedding_type", "absolute")] {
            match v.get(k).and_then(Json::as_str) {
                Some(s) if s == want => {}
                None if k == "position_embedding_type" => {}
                other => return Err(bad(format!("{k} is {other:?}, only {want:?} is supported"))),
            }
        }
        let c = BertConfig {
            vocab_size: int("vocab_size", 1_000_000)?,
            hidden_size: int("hidden_size", 8192)?,
            num_hidden_layers: int("num_hidden_layers", 64)?,
            num_attention_heads: int("num_attention_heads", 128)?,
            intermediate_size: int("intermediate_size", 32_768)?,
            max_position_embeddings: int("max_position_embeddings", 8192)?,
            type_vocab_size: int("type_vocab_size", 16)?,
            layer_norm_eps: match v.get("layer_norm_eps").and_then(Json::as_f64) {
                Some(e) if e > 0.0 && e < 1.0 => e as f32,
                _ => return Err(bad("layer_norm_eps must be a number in (0, 1)".into())),
            },
        };
        if !c.hidden_size.is_multiple_of(c.num_attention_heads) {
            return Err(bad(format!("hidden_size {} is not a multiple of num_attention_heads {}", c.hidden_size, c.num_attention_heads)));
        }
        Ok(c)
    }
}

struct Layer {
    /// Query, key and value projections stacked: (3·hidden) × hidden, one product for all three.
    qkv: PackedLinear,
    attn_out: PackedLinear,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    ffn_in: PackedLinear,
    ffn_out: PackedLinear,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
}

pub struct Bert {
    cfg: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    /// Row 0 of the token type embeddings (single-sentence input).
    token_type0: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
}

impl Bert {
    /// Copies the weights out of `st`, checking every tensor's presence and shape.
    pub(crate) fn from_safetensors(cfg: BertConfig, st: &SafeTensors) -> Result<Bert> {
        let (h, f) = (cfg.hidden_size, cfg.intermediate_size);
        let e = |n: &str, s: &[usize]| st.f32(&format!("embeddings.{n}"), s);
        let mut token_type0 = e("token_type_embeddings.weight", &[cfg.type_vocab_size, h])?;
        token_type0.truncate(h);
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let t = |n: &str, s: &[usize]| st.f32(&format!("encoder.layer.{l}.{n}"), s);
            let mut qkv_w = t("attention.self.query.weight", &[h, h])?;
            qkv_w.extend(t("attention.self.key.weight", &[h, h])?);
            qkv_w.extend(t("attention.self.value.weight", &[h, h])?);
            let mut qkv_b = t("attention.self.query.bias", &[h])?;
            qkv_b.extend(t("attention.self.key.bias", &[h])?);
            qkv_b.extend(t("attention.self.value.bias", &[h])?);
            let dense = |w: &str, b: &str, m: usize, k: usize| -> Result<PackedLinear> {
                Ok(PackedLinear::new(&t(w, &[m, k])?, m, k, &t(b, &[m])?))
            };
            layers.push(Layer {
                qkv: PackedLinear::new(&qkv_w, 3 * h, h, &qkv_b),
                attn_out: dense("attention.output.dense.weight", "attention.output.dense.bias", h, h)?,
                ln1_g: t("attention.output.LayerNorm.weight", &[h])?,
                ln1_b: t("attention.output.LayerNorm.bias", &[h])?,
                ffn_in: dense("intermediate.dense.weight", "intermediate.dense.bias", f, h)?,
                ffn_out: dense("output.dense.weight", "output.dense.bias", h, f)?,
                ln2_g: t("output.LayerNorm.weight", &[h])?,
                ln2_b: t("output.LayerNorm.bias", &[h])?,
            });
        }
        Ok(Bert {
            word: e("word_embeddings.weight", &[cfg.vocab_size, h])?,
            position: e("position_embeddings.weight", &[cfg.max_position_embeddings, h])?,
            token_type0,
            emb_ln_g: e("LayerNorm.weight", &[h])?,
            emb_ln_b: e("LayerNorm.bias", &[h])?,
            layers,
            cfg,
        })
    }

    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// Mean-pooled, L2-normalised sentence vectors, one per id sequence. Every sequence must be
    /// non-empty, at most `max_position_embeddings` long, with ids below `vocab_size`.
    pub fn embed(&self, batch: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        for ids in batch {
            if ids.is_empty() || ids.len() > self.cfg.max_position_embeddings {
                return Err(Error::invalid(format!(
                    "a sequence has {} tokens (1..={} accepted)",
                    ids.len(),
                    self.cfg.max_position_embeddings
                )));
            }
            if let Some(&id) = ids.iter().find(|&&id| id as usize >= self.cfg.vocab_size) {
                return Err(Error::invalid(format!("token id {id} is outside the vocabulary")));
            }
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut start = 0;
        while start < batch.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < batch.len() && (end == start || tokens + batch[end].len() <= CHUNK_TOKENS) {
                tokens += batch[end].len();
                end += 1;
            }
            out.extend(self.forward(&batch[start..end]));
            start = end;
        }
        Ok(out)
    }

    fn forward(&self, batch: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let h = self.cfg.hidden_size;
        let f = self.cfg.intermediate_size;
        let eps = self.cfg.layer_norm_eps;
        let t: usize = batch.iter().map(Vec::len).sum();
        let mut x = vec![0f32; t * h];
        let mut row = 0;
        for ids in batch {
            for (p, &id) in ids.iter().enumerate() {
                let (w, pe) = (&self.word[id as usize * h..][..h], &self.position[p * h..][..h]);
                let xr = &mut x[row * h..][..h];
                for i in 0..h {
                    xr[i] = w[i] + pe[i] + self.token_type0[i];
                }
                layer_norm(xr, &self.emb_ln_g, &self.emb_ln_b, eps);
                row += 1;
            }
        }
        let mut qkv = vec![0f32; t * 3 * h];
        let mut ctx = vec![0f32; t * h];
        let mut tmp = vec![0f32; t * h];
        let mut inter = vec![0f32; t * f];
        for layer in &self.layers {
            layer.qkv.apply(&x, t, &mut qkv);
            let mut offset = 0;
            for ids in batch {
                self.attention(&qkv, offset, ids.len(), &mut ctx);
                offset += ids.len();
            }
            layer.attn_out.apply(&ctx, t, &mut tmp);
            residual_norm(&mut x, &tmp, h, &layer.ln1_g, &layer.ln1_b, eps);
            layer.ffn_in.apply(&x, t, &mut inter);
            gelu_in_place(&mut inter);
            layer.ffn_out.apply(&inter, t, &mut tmp);
            residual_norm(&mut x, &tmp, h, &layer.ln2_g, &layer.ln2_b, eps);
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut offset = 0;
        for ids in batch {
            let mut v = vec![0f64; h];
            for r in offset..offset + ids.len() {
                v.iter_mut().zip(&x[r * h..][..h]).for_each(|(a, b)| *a += *b as f64);
            }
            offset += ids.len();
            let n = ids.len() as f64;
            let norm = v.iter().map(|a| (a / n) * (a / n)).sum::<f64>().sqrt().max(1e-12);
            out.push(v.iter().map(|a| (a / n / norm) as f32).collect());
        }
        out
    }

    /// Self-attention of one sentence (rows `offset..offset+len` of `qkv`) into `ctx`.
    fn attention(&self, qkv: &[f32], offset: usize, len: usize, ctx: &mut [f32]) {
        let (h, heads) = (self.cfg.hidden_size, self.cfg.num_attention_heads);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features the function is compiled for.
                unsafe { attention_avx(qkv, offset, len, h, heads, ctx) };
                return;
            }
        }
        attention_rows(qkv, offset, len, h, heads, ctx);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn attention_avx(qkv: &[f32], offset: usize, len: usize, h: usize, heads: usize, ctx: &mut [f32]) {
    attention_rows(qkv, offset, len, h, heads, ctx)
}

/// The body of [`Bert::attention`], inlined into a baseline and an AVX2 copy of itself. For each
/// head and query row: the scores against every key row, their softmax, and the weighted sum
/// of the value rows. Each query, key and value of a head is a contiguous slice of its `qkv`
/// row, so nothing is gathered or transposed.
#[inline(always)]
fn attention_rows(qkv: &[f32], offset: usize, len: usize, h: usize, heads: usize, ctx: &mut [f32]) {
    let d = h / heads;
    let scale = 1.0 / (d as f32).sqrt();
    let row = |i: usize, part: usize, head: usize| &qkv[(offset + i) * 3 * h + part * h + head * d..][..d];
    let mut scores = vec![0f32; len];
    for head in 0..heads {
        for i in 0..len {
            let q = row(i, 0, head);
            for (j, s) in scores.iter_mut().enumerate() {
                *s = dot(q, row(j, 1, head)) * scale;
            }
            softmax(&mut scores);
            let out = &mut ctx[(offset + i) * h + head * d..][..d];
            out.fill(0.0);
            for (j, &p) in scores.iter().enumerate() {
                out.iter_mut().zip(row(j, 2, head)).for_each(|(o, v)| *o += p * v);
            }
        }
    }
}

fn softmax(s: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if s.len() >= 8 && std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { avx_gelu::softmax(s) };
            return;
        }
    }
    softmax_scalar(s);
}

fn softmax_scalar(s: &mut [f32]) {
    let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for v in s.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    s.iter_mut().for_each(|v| *v /= sum);
}

/// Σ f(v) with eight independent partial sums (a single running f32 sum is not vectorised).
fn sum8(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for l in 0..8 {
            acc[l] += f(c[l]);
        }
    }
    acc.iter().sum::<f32>() + chunks.remainder().iter().map(|&v| f(v)).sum::<f32>()
}

fn layer_norm(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = sum8(x, |v| v) / n;
    let var = sum8(x, |v| (v - mean) * (v - mean)) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for i in 0..x.len() {
        x[i] = (x[i] - mean) * inv * g[i] + b[i];
    }
}

/// `x = LayerNorm(x + y)`, row by row.
fn residual_norm(x: &mut [f32], y: &[f32], h: usize, g: &[f32], b: &[f32], eps: f32) {
    for (xr, yr) in x.chunks_exact_mut(h).zip(y.chunks_exact(h)) {
        xr.iter_mut().zip(yr).for_each(|(a, b)| *a += b);
        layer_norm(xr, g, b, eps);
    }
}

/// [`gelu`] over a slice: eight lanes at a time on x86-64 with AVX2 and FMA (the same formula,
/// with `exp` by a polynomial), where libm's scalar `expf` would cost as much as the products.
fn gelu_in_place(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { avx_gelu::gelu_in_place(v) };
            return;
        }
    }
    v.iter_mut().for_each(|x| *x = gelu(*x));
}

#[cfg(target_arch = "x86_64")]
mod avx_gelu {
    use std::arch::x86_64::*;

    /// `e^x` for x <= 0 (the only arguments here: -a²), relative error below 2e-7: x = n·ln 2 + r
    /// with |r| <= ln2/2, e^r by its degree-6 Taylor polynomial, 2^n through the exponent bits.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn exp_nonpositive(x: __m256) -> __m256 {
        let x = _mm256_max_ps(x, _mm256_set1_ps(-87.0)); // below: 0 to f32 precision anyway
        let n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        // ln 2 split in two so that n·ln2 is exact enough (Cody-Waite).
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.0 / 720.0);
        for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
        _mm256_mul_ps(p, scale)
    }

    /// Softmax of a row of at least eight scores: max, `exp(v - max)` (<= 0: the polynomial
    /// above), sum, scale; the last partial group of eight through an overlapping load.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn softmax(s: &mut [f32]) {
        let n = s.len();
        let p = s.as_mut_ptr();
        let last = n - 8; // the final eight, overlapping the previous group when n % 8 != 0
        let mut mx = _mm256_loadu_ps(p.add(last));
        let mut i = 0;
        while i < last {
            mx = _mm256_max_ps(mx, _mm256_loadu_ps(p.add(i)));
            i += 8;
        }
        let m = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
        let max = _mm256_set1_ps(_mm_cvtss_f32(m));
        let mut sum = 0f32;
        let mut i = 0;
        while i + 8 <= n {
            let e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(p.add(i)), max));
            _mm256_storeu_ps(p.add(i), e);
            sum += hsum(e);
            i += 8;
        }
        for v in &mut s[i..] {
            *v = (*v - _mm_cvtss_f32(m)).exp();
            sum += *v;
        }
        let inv = 1.0 / sum;
        s.iter_mut().for_each(|v| *v *= inv);
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)))
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gelu_in_place(v: &mut [f32]) {
        let mut chunks = v.chunks_exact_mut(8);
        let sign = _mm256_set1_ps(-0.0);
        let one = _mm256_set1_ps(1.0);
        for c in &mut chunks {
            let x = _mm256_loadu_ps(c.as_ptr());
            let z = _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
            let a = _mm256_andnot_ps(sign, z);
            let t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.327_591_1), a, one));
            let mut poly = _mm256_set1_ps(1.061_405_4);
            for k in [-1.453_152, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
                poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(k));
            }
            poly = _mm256_mul_ps(poly, t);
            let e = exp_nonpositive(_mm256_xor_ps(_mm256_mul_ps(a, a), sign));
            let erf_abs = _mm256_fnmadd_ps(poly, e, one);
            let erf = _mm256_or_ps(erf_abs, _mm256_and_ps(z, sign)); // copysign: erf_abs >= 0
            let y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5), x), _mm256_add_ps(one, erf));
            _mm256_storeu_ps(c.as_mut_ptr(), y);
        }
        chunks.into_remainder().iter_mut().for_each(|x| *x = super::gelu(*x));
    }
}

/// BERT's exact GELU, `x · Φ(x)`, with erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7).
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-a * a).exp();
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_and_gelu_match_known_values() {
        for (x, want) in [(0.0f32, 0.0f32), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (-2.0, -0.995_322_3), (4.0, 0.999_999_98)] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((gelu(-3.0) + 0.004_049_7).abs() < 1e-6);
    }

    #[test]
    fn the_vectorised_softmax_matches_the_scalar_one() {
        for n in [8, 9, 15, 16, 23, 64, 257] {
            let row: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32 - 5.0) * 1.7).collect();
            let (mut fast, mut slow) = (row.clone(), row.clone());
            softmax(&mut fast);
            softmax_scalar(&mut slow);
            assert!((fast.iter().sum::<f32>() - 1.0).abs() < 1e-5, "n = {n}");
            for (f, s) in fast.iter().zip(&slow) {
                assert!((f - s).abs() <= 1e-6 + 2e-6 * s, "n = {n}: {f} vs {s}");
            }
        }
    }

    #[test]
    fn the_vectorised_gelu_matches_the_scalar_one() {
        // -12..12 in steps of 1/64, plus a tail that is not a multiple of eight lanes.
        let xs: Vec<f32> = (-768..=768).map(|i| i as f32 / 64.0).chain([1e-8, -1e-8, 30.0, -30.0, 0.1]).collect();
        let mut v = xs.clone();
        gelu_in_place(&mut v);
        for (x, got) in xs.iter().zip(&v) {
            let want = gelu(*x);
            assert!((got - want).abs() <= 2e-6 * want.abs().max(1.0), "gelu({x}) = {got}, scalar {want}");
        }
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let mut x = [1.0f32, 2.0, 3.0, 4.0];
        layer_norm(&mut x, &[1.0; 4], &[0.5; 4], 1e-12);
        assert!((x.iter().sum::<f32>() - 2.0).abs() < 1e-5);
        assert!((x[3] - 0.5 - 1.341_640_8).abs() < 1e-5);
    }

    #[test]
    fn refuses_configs_it_cannot_run() {
        let base = r#"{"model_type":"bert","hidden_act":"gelu","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":16,"type_vocab_size":2,"layer_norm_eps":1e-12}"#;
        assert!(BertConfig::from_json(&super::super::json::parse(base).unwrap()).is_ok());
        for (from, to) in [
            ("\"gelu\"", "\"relu\""),
            ("\"num_attention_heads\":2", "\"num_attention_heads\":3"),
            ("\"hidden_size\":8", "\"hidden_size\":0"),
            ("1e-12", "-1"),
        ] {
            let cfg = super::super::json::parse(&base.replace(from, to)).unwrap();
            assert_eq!(BertConfig::from_json(&cfg).err().map(|e| e.code()), Some("CORRUPT"), "{to}");
        }
    }
}
