//! The model's dense layers (`out = x · Wᵀ + b`), with `W` packed once at load for an
//! outer-product kernel, as BLAS libraries do: each panel holds 16 outputs' weights
//! interleaved by input index, so one step over `k` loads two AVX registers of weights and
//! broadcasts one input per row into 12 accumulators (6 rows × 16 outputs). Every load then
//! feeds 1.5 FMAs (the dot-product kernel in `matmul.rs` feeds 1.3, and needs horizontal
//! sums per output), and no output is reduced across lanes.
//!
//! On x86-64 with AVX2 and FMA (checked at run time); elsewhere a portable loop over the same
//! layout, which the compiler vectorises over the 16 outputs.

/// Outputs per panel (two 8-lane registers).
const NR: usize = 16;
/// Rows per micro-tile: 6 × 2 accumulators + 2 weight registers + 1 broadcast of 16 registers.
const MR: usize = 6;
/// Rows per block: 48 rows of up to 1,536 inputs (288 KiB) stay in L2 while a panel (96 KiB) is used.
const MC: usize = 48;

/// A dense layer's weights (m outputs × k inputs, PyTorch's `Linear` layout at load) and bias.
pub(crate) struct PackedLinear {
    m: usize,
    k: usize,
    /// Panel p, input i, lane j: `W[p·16 + j][i]` (zero past `m`).
    panels: Vec<f32>,
    /// The bias, zero-padded to whole panels.
    bias: Vec<f32>,
}

impl PackedLinear {
    /// Packs `w` (row-major m × k) and `bias` (m).
    pub(crate) fn new(w: &[f32], m: usize, k: usize, bias: &[f32]) -> PackedLinear {
        assert!(w.len() >= m * k && bias.len() >= m, "PackedLinear: operand shapes");
        let np = m.div_ceil(NR);
        let mut panels = vec![0f32; np * k * NR];
        for p in 0..np {
            for j in 0..NR.min(m - p * NR) {
                let row = &w[(p * NR + j) * k..][..k];
                for (i, &v) in row.iter().enumerate() {
                    panels[(p * k + i) * NR + j] = v;
                }
            }
        }
        let mut padded = vec![0f32; np * NR];
        padded[..m].copy_from_slice(&bias[..m]);
        PackedLinear { m, k, panels, bias: padded }
    }

    /// `out[r·m + o] = bias[o] + Σ_i x[r·k + i] · W[o][i]` for `rows` rows of `x`.
    pub(crate) fn apply(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        let (m, k) = (self.m, self.k);
        // These bounds make every pointer offset in the kernel below in range.
        assert!(x.len() >= rows * k && out.len() >= rows * m, "PackedLinear::apply: operand shapes");
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has the features the kernel is compiled for; shapes checked above.
                unsafe { avx::apply(self, x, rows, out) };
                return;
            }
        }
        self.apply_portable(x, rows, out);
    }

    fn apply_portable(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        let (m, k) = (self.m, self.k);
        for p in 0..m.div_ceil(NR) {
            let panel = &self.panels[p * k * NR..][..k * NR];
            let width = NR.min(m - p * NR);
            for r in 0..rows {
                let mut acc = [0f32; NR];
                acc.copy_from_slice(&self.bias[p * NR..][..NR]);
                for (i, &xv) in x[r * k..][..k].iter().enumerate() {
                    for (a, &wv) in acc.iter_mut().zip(&panel[i * NR..][..NR]) {
                        *a += xv * wv;
                    }
                }
                out[r * m + p * NR..][..width].copy_from_slice(&acc[..width]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    use super::{PackedLinear, MC, MR, NR};

    /// Caller guarantees AVX2 + FMA, `x.len() >= rows·k`, `out.len() >= rows·m`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn apply(l: &PackedLinear, x: &[f32], rows: usize, out: &mut [f32]) {
        let (m, k) = (l.m, l.k);
        let (xp, op) = (x.as_ptr(), out.as_mut_ptr());
        for r0 in (0..rows).step_by(MC) {
            let r1 = (r0 + MC).min(rows);
            for p in 0..m.div_ceil(NR) {
                let o0 = p * NR;
                let panel = l.panels.as_ptr().add(p * k * NR);
                let bias = l.bias.as_ptr().add(o0);
                let width = NR.min(m - o0);
                let mut r = r0;
                while r < r1 {
                    let n = MR.min(r1 - r);
                    let xr = xp.add(r * k);
                    if width == NR {
                        tile_n(n, xr, k, panel, bias, op.add(r * m + o0), m);
                    } else {
                        // The last, partial panel: through a scratch tile, then its valid columns.
                        let mut t = [0f32; MR * NR];
                        tile_n(n, xr, k, panel, bias, t.as_mut_ptr(), NR);
                        for i in 0..n {
                            std::ptr::copy_nonoverlapping(t.as_ptr().add(i * NR), op.add((r + i) * m + o0), width);
                        }
                    }
                    r += n;
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_n(n: usize, x: *const f32, k: usize, panel: *const f32, bias: *const f32, out: *mut f32, ldo: usize) {
        match n {
            6 => tile::<6>(x, k, panel, bias, out, ldo),
            5 => tile::<5>(x, k, panel, bias, out, ldo),
            4 => tile::<4>(x, k, panel, bias, out, ldo),
            3 => tile::<3>(x, k, panel, bias, out, ldo),
            2 => tile::<2>(x, k, panel, bias, out, ldo),
            _ => tile::<1>(x, k, panel, bias, out, ldo),
        }
    }

    /// R rows × 16 outputs: `out[i·ldo + j] = bias[j] + Σ_kk x[i·k + kk] · panel[kk·16 + j]`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile<const R: usize>(x: *const f32, k: usize, panel: *const f32, bias: *const f32, out: *mut f32, ldo: usize) {
        let mut lo = [_mm256_loadu_ps(bias); R];
        let mut hi = [_mm256_loadu_ps(bias.add(8)); R];
        for kk in 0..k {
            let w0 = _mm256_loadu_ps(panel.add(kk * NR));
            let w1 = _mm256_loadu_ps(panel.add(kk * NR + 8));
            for i in 0..R {
                let a = _mm256_broadcast_ss(&*x.add(i * k + kk));
                lo[i] = _mm256_fmadd_ps(a, w0, lo[i]);
                hi[i] = _mm256_fmadd_ps(a, w1, hi[i]);
            }
        }
        for i in 0..R {
            _mm256_storeu_ps(out.add(i * ldo), lo[i]);
            _mm256_storeu_ps(out.add(i * ldo + 8), hi[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::matmul::testing::{naive, values};
    use super::*;

    #[test]
    fn matches_a_naive_product_on_every_shape_remainder() {
        let mut next = values(11);
        // Rows around MR and MC, outputs around NR, the model's own shapes.
        for &(rows, k, m) in &[(1, 1, 1), (5, 13, 3), (6, 8, 16), (7, 31, 17), (49, 384, 40), (100, 384, 1152), (13, 1536, 384)] {
            let x: Vec<f32> = (0..rows * k).map(|_| next()).collect();
            let w: Vec<f32> = (0..m * k).map(|_| next()).collect();
            let b: Vec<f32> = (0..m).map(|_| next()).collect();
            let want = naive(&x, rows, k, &w, m, &b);
            let l = PackedLinear::new(&w, m, k, &b);
            let mut fast = vec![f32::NAN; rows * m];
            l.apply(&x, rows, &mut fast);
            let mut portable = vec![f32::NAN; rows * m];
            l.apply_portable(&x, rows, &mut portable);
            for (i, ((g, p), e)) in fast.iter().zip(&portable).zip(&want).enumerate() {
                assert!((g - e).abs() < 1e-3 && (p - e).abs() < 1e-3, "shape {rows}x{k}x{m}, output {i}: {g} / {p} vs {e}");
            }
        }
    }
}
