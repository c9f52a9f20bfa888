//! The dot product the attention runs on (a query row against a key row, both contiguous),
//! with eight independent partial sums, so that it vectorises without reassociation; inlined
//! into the attention's AVX2 copy, it becomes 256-bit code there.

/// `Σ a[i] · b[i]` over the common length.
#[inline(always)]
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

/// The reference the dense kernels are tested against, and the inputs they are tested on.
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
    use super::testing::values;
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_on_every_length() {
        let mut next = values(7);
        for n in 0..70 {
            let a: Vec<f32> = (0..n).map(|_| next()).collect();
            let b: Vec<f32> = (0..n).map(|_| next()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - want).abs() < 1e-5, "n = {n}");
        }
    }
}
