//! The one matrix product the model needs: `out = x · wᵀ + bias`, with `x` row-major
//! (rows × k) and `w` row-major (m × k), the layout of PyTorch's `Linear` weights. Every output
//! is then a dot product of two contiguous rows, so no transposition is needed.
//!
//! On x86-64 with AVX2 and FMA (checked at run time: the binary itself targets baseline x86-64)
//! a register-tiled kernel computes a 4 × 2 block of outputs per pass over k, eight lanes at a
//! time; elsewhere a portable kernel with eight independent accumulators, which the compiler
//! vectorises. Rows are taken in blocks so that a block of `x` stays in cache while all of `w`
//! streams past it.

/// Rows of `x` per block: 64 rows of 1,536 floats are 384 KiB, within a core's L2.
const ROW_BLOCK: usize = 64;

/// `out[r * m + o] = bias[o] + Σ_i x[r * k + i] · w[o * k + i]`.
pub(crate) fn linear(x: &[f32], rows: usize, k: usize, w: &[f32], m: usize, bias: Option<&[f32]>, out: &mut [f32]) {
    // These bounds make every pointer offset in the kernels below in range.
    assert!(x.len() >= rows * k && w.len() >= m * k && out.len() >= rows * m, "linear: operand shapes");
    assert!(bias.is_none_or(|b| b.len() >= m), "linear: bias shape");
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for; shapes checked above.
            unsafe { avx::linear(x, rows, k, w, m, out) };
            add_bias(out, rows, m, bias);
            return;
        }
    }
    for r in 0..rows {
        let xr = &x[r * k..(r + 1) * k];
        for o in 0..m {
            out[r * m + o] = dot(xr, &w[o * k..(o + 1) * k]);
        }
    }
    add_bias(out, rows, m, bias);
}

fn add_bias(out: &mut [f32], rows: usize, m: usize, bias: Option<&[f32]>) {
    if let Some(b) = bias {
        for row in out[..rows * m].chunks_exact_mut(m) {
            row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
        }
    }
}

/// Dot product with eight independent partial sums (vectorisable without reassociation).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{dot, ROW_BLOCK};

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_hadd_ps(s, s);
        _mm_cvtss_f32(_mm_hadd_ps(s, s))
    }

    /// Caller guarantees AVX2 + FMA and `x.len() >= rows*k`, `w.len() >= m*k`, `out.len() >= rows*m`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn linear(x: &[f32], rows: usize, k: usize, w: &[f32], m: usize, out: &mut [f32]) {
        let k8 = k / 8 * 8;
        let (xp, wp, op) = (x.as_ptr(), w.as_ptr(), out.as_mut_ptr());
        for r0 in (0..rows).step_by(ROW_BLOCK) {
            let r1 = (r0 + ROW_BLOCK).min(rows);
            let full_rows = r0 + (r1 - r0) / 4 * 4;
            let mut o = 0;
            while o + 2 <= m {
                let w0 = wp.add(o * k);
                let w1 = wp.add((o + 1) * k);
                let mut r = r0;
                while r < full_rows {
                    let xs = [xp.add(r * k), xp.add((r + 1) * k), xp.add((r + 2) * k), xp.add((r + 3) * k)];
                    let mut acc = [_mm256_setzero_ps(); 8];
                    let mut i = 0;
                    while i < k8 {
                        let a = _mm256_loadu_ps(w0.add(i));
                        let b = _mm256_loadu_ps(w1.add(i));
                        for j in 0..4 {
                            let v = _mm256_loadu_ps(xs[j].add(i));
                            acc[2 * j] = _mm256_fmadd_ps(v, a, acc[2 * j]);
                            acc[2 * j + 1] = _mm256_fmadd_ps(v, b, acc[2 * j + 1]);
                        }
                        i += 8;
                    }
                    for j in 0..4 {
                        let (mut s0, mut s1) = (hsum(acc[2 * j]), hsum(acc[2 * j + 1]));
                        for t in k8..k {
                            let v = *xs[j].add(t);
                            s0 += v * *w0.add(t);
                            s1 += v * *w1.add(t);
                        }
                        *op.add((r + j) * m + o) = s0;
                        *op.add((r + j) * m + o + 1) = s1;
                    }
                    r += 4;
                }
                o += 2;
            }
            // The leftover rows (< 4 per block) and the leftover output column (m odd).
            for r in full_rows..r1 {
                for o in 0..m {
                    *op.add(r * m + o) = dot(&x[r * k..(r + 1) * k], &w[o * k..(o + 1) * k]);
                }
            }
            if m % 2 == 1 {
                for r in r0..full_rows {
                    *op.add(r * m + m - 1) = dot(&x[r * k..(r + 1) * k], &w[(m - 1) * k..m * k]);
                }
            }
        }
    }
}

/// The reference both kernels are tested against, and the inputs they are tested on.
#[cfg(test)]
pub(super) mod testing {
    /// `out = x · wᵀ + bias` in f64, rounded once.
    pub(in crate::embed) fn naive(x: &[f32], rows: usize, k: usize, w: &[f32], m: usize, bias: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; rows * m];
        for r in 0..rows {
            for o in 0..m {
                out[r * m + o] = bias[o] + (0..k).map(|i| x[r * k + i] as f64 * w[o * k + i] as f64).sum::<f64>() as f32;
            }
        }
        out
    }

    /// Deterministic values in [-0.5, 0.5) (a linear congruential generator).
    pub(in crate::embed) fn values(seed: u32) -> impl FnMut() -> f32 {
        let mut s = seed;
        move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{naive, values};
    use super::*;

    #[test]
    fn matches_a_naive_product_on_every_shape_remainder() {
        let mut next = values(7);
        for &(rows, k, m) in &[(1, 1, 1), (5, 13, 3), (4, 8, 2), (70, 384, 7), (9, 31, 10), (131, 40, 5)] {
            let x: Vec<f32> = (0..rows * k).map(|_| next()).collect();
            let w: Vec<f32> = (0..m * k).map(|_| next()).collect();
            let b: Vec<f32> = (0..m).map(|_| next()).collect();
            let mut out = vec![f32::NAN; rows * m];
            linear(&x, rows, k, &w, m, Some(&b), &mut out);
            let want = naive(&x, rows, k, &w, m, &b);
            for (i, (g, e)) in out.iter().zip(&want).enumerate() {
                assert!((g - e).abs() < 1e-4, "shape {rows}x{k}x{m}, output {i}: {g} vs {e}");
            }
        }
    }
}
