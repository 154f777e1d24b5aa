//! The crate's own cache-blocked f32 GEMM, packing into a caller buffer.
//!
//! The loop nest is the usual one of BLIS and CMSIS-style kernels: `B` is packed in blocks
//! of `KC × NC` as panels of `NR` columns, `A` in blocks of `MC × KC` as panels of `MR`
//! rows (both zero-padded at the edges), and an `MR × NR` register-tile microkernel runs
//! over each pair of panels. The microkernel is plain Rust over fixed-size arrays, which
//! LLVM turns into SIMD multiply-adds on x86-64 and into FPU code on Cortex-M. With the
//! `std` feature on x86-64 the tile is 8 × 8 and, where the CPU has AVX2 and FMA (checked
//! at run time), an AVX2 microkernel keeps the tile in eight 256-bit registers; the
//! baseline x86-64 target has neither, so plain Rust would get SSE2 multiplies and adds.

use super::{Dims, WeightSource};

/// Rows of the microkernel tile: 8 where the AVX2 microkernel may run (eight accumulators
/// hide the FMA latency), else 4 (a 4 × 8 tile fits the 32 FPU registers of a Cortex-M).
const MR: usize = if cfg!(all(feature = "std", target_arch = "x86_64")) {
    8
} else {
    4
};
/// Columns of the microkernel tile.
const NR: usize = 8;
/// Rows of `A` packed per block.
const MC: usize = 64;
/// Depth packed per block.
const KC: usize = 256;
/// Columns of `B` packed per block.
const NC: usize = 128;

fn round_up(v: usize, to: usize) -> usize {
    v.div_ceil(to) * to
}

/// Returns the number of floats of packing buffer [`gemm`] needs for `m × k` by `k × n`.
pub(crate) fn pack_len(m: usize, k: usize, n: usize) -> usize {
    let kc = k.min(KC);
    let mc = round_up(m, MR).min(MC);
    let nc = round_up(n, NR).min(NC);
    kc * (mc + nc)
}

/// Computes `C = A · B` (overwriting `C`); `pack` holds at least [`pack_len`] floats.
pub(crate) fn gemm<S: WeightSource>(d: Dims, a: &S, b: &[f32], c: &mut [f32], pack: &mut [f32]) {
    let kc_max = d.k.min(KC);
    let mc_max = round_up(d.m, MR).min(MC);
    let (pack_a, pack_b) = pack.split_at_mut(kc_max * mc_max);

    if d.k == 0 {
        for i in 0..d.m {
            for j in 0..d.n {
                c[i * d.c.rows + j * d.c.cols] = 0.0;
            }
        }
        return;
    }
    for jc in (0..d.n).step_by(NC) {
        let nb = NC.min(d.n - jc);
        for pc in (0..d.k).step_by(KC) {
            let kb = KC.min(d.k - pc);
            pack_b_block(d, b, pc, kb, jc, nb, pack_b);
            for ic in (0..d.m).step_by(MC) {
                let mb = MC.min(d.m - ic);
                pack_a_block(d, a, ic, mb, pc, kb, pack_a);
                let block = Block {
                    ic,
                    mb,
                    jc,
                    nb,
                    kb,
                    accumulate: pc > 0,
                };
                multiply_block(d, block, pack_a, pack_b, c);
            }
        }
    }
}

/// Packs `B[pc..pc+kb, jc..jc+nb]` as panels of `NR` columns: panel `p` holds, for each
/// depth index, its `NR` values contiguously.
fn pack_b_block(d: Dims, b: &[f32], pc: usize, kb: usize, jc: usize, nb: usize, out: &mut [f32]) {
    let panels = nb.div_ceil(NR);
    for p in 0..panels {
        let panel = &mut out[p * kb * NR..(p + 1) * kb * NR];
        let cols = NR.min(nb - p * NR);
        for (kk, row) in panel.chunks_exact_mut(NR).enumerate() {
            let base = (pc + kk) * d.b.rows + (jc + p * NR) * d.b.cols;
            for (j, v) in row.iter_mut().enumerate() {
                *v = if j < cols {
                    b[base + j * d.b.cols]
                } else {
                    0.0
                };
            }
        }
    }
}

/// Packs `A[ic..ic+mb, pc..pc+kb]` as panels of `MR` rows.
fn pack_a_block<S: WeightSource>(
    d: Dims,
    a: &S,
    ic: usize,
    mb: usize,
    pc: usize,
    kb: usize,
    out: &mut [f32],
) {
    let panels = mb.div_ceil(MR);
    // A column-major f32 `A` (a transposed convolution's weights) stores each panel column
    // as `MR` contiguous values, so each is copied as one run.
    let runs = a.as_slice().filter(|_| d.a.rows == 1);
    for p in 0..panels {
        let panel = &mut out[p * kb * MR..(p + 1) * kb * MR];
        let rows = MR.min(mb - p * MR);
        for (kk, col) in panel.chunks_exact_mut(MR).enumerate() {
            let base = (ic + p * MR) * d.a.rows + (pc + kk) * d.a.cols;
            if let Some(run) = runs
                .and_then(|w| w.get(base..base + MR))
                .filter(|_| rows == MR)
            {
                col.copy_from_slice(run);
                continue;
            }
            for (i, v) in col.iter_mut().enumerate() {
                *v = if i < rows {
                    a.get(base + i * d.a.rows)
                } else {
                    0.0
                };
            }
        }
    }
}

/// The position of one packed block pair in `C`.
#[derive(Clone, Copy)]
struct Block {
    ic: usize,
    mb: usize,
    jc: usize,
    nb: usize,
    kb: usize,
    /// Add to `C` (a later depth block) instead of overwriting it.
    accumulate: bool,
}

fn multiply_block(d: Dims, blk: Block, pack_a: &[f32], pack_b: &[f32], c: &mut [f32]) {
    for jp in 0..blk.nb.div_ceil(NR) {
        let pb = &pack_b[jp * blk.kb * NR..(jp + 1) * blk.kb * NR];
        let cols = NR.min(blk.nb - jp * NR);
        for ip in 0..blk.mb.div_ceil(MR) {
            let pa = &pack_a[ip * blk.kb * MR..(ip + 1) * blk.kb * MR];
            let rows = MR.min(blk.mb - ip * MR);
            let tile = microkernel(pa, pb);
            let (i0, j0) = (blk.ic + ip * MR, blk.jc + jp * NR);
            for (i, tile_row) in tile.iter().enumerate().take(rows) {
                let start = (i0 + i) * d.c.rows + j0 * d.c.cols;
                if d.c.cols == 1 && cols == NR {
                    // A whole tile row is contiguous in `C`, so it is written as one slice.
                    let row = &mut c[start..start + NR];
                    if blk.accumulate {
                        for (o, &v) in row.iter_mut().zip(tile_row) {
                            *o += v;
                        }
                    } else {
                        row.copy_from_slice(tile_row);
                    }
                    continue;
                }
                for (j, &v) in tile_row.iter().enumerate().take(cols) {
                    let at = start + j * d.c.cols;
                    if blk.accumulate {
                        c[at] += v;
                    } else {
                        c[at] = v;
                    }
                }
            }
        }
    }
}

/// Returns the `MR × NR` product of one `A` panel and one `B` panel.
#[inline(always)]
fn microkernel(pa: &[f32], pb: &[f32]) -> [[f32; NR]; MR] {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just checked to support AVX2 and FMA.
        return unsafe { avx2::microkernel(pa, pb) };
    }
    portable_microkernel(pa, pb)
}

/// The microkernel in plain Rust.
#[inline(always)]
fn portable_microkernel(pa: &[f32], pb: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    for (a, b) in pa.chunks_exact(MR).zip(pb.chunks_exact(NR)) {
        for (acc_row, &ai) in acc.iter_mut().zip(a) {
            for (acc_v, &bj) in acc_row.iter_mut().zip(b) {
                *acc_v += ai * bj;
            }
        }
    }
    acc
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use super::{MR, NR};
    use core::arch::x86_64::{
        _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_setzero_ps, _mm256_storeu_ps,
    };

    /// The `MR × NR` tile with one 256-bit accumulator per row: per depth step one load
    /// of the `B` row, `MR` broadcasts of `A` and `MR` fused multiply-adds.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn microkernel(pa: &[f32], pb: &[f32]) -> [[f32; NR]; MR] {
        const { assert!(NR == 8) };
        let depth = (pa.len() / MR).min(pb.len() / NR);
        let mut out = [[0.0f32; NR]; MR];
        // SAFETY: every load reads `NR` floats at `p * NR` of `pb` or one float at
        // `p * MR + i` of `pa` with `p < depth`, inside both slices; the stores write the
        // `NR` floats of one row of `out`.
        unsafe {
            let mut acc = [_mm256_setzero_ps(); MR];
            for p in 0..depth {
                let b = _mm256_loadu_ps(pb.as_ptr().add(p * NR));
                for (i, c) in acc.iter_mut().enumerate() {
                    let a = _mm256_broadcast_ss(&*pa.as_ptr().add(p * MR + i));
                    *c = _mm256_fmadd_ps(a, b, *c);
                }
            }
            for (row, c) in out.iter_mut().zip(acc) {
                _mm256_storeu_ps(row.as_mut_ptr(), c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Dims, Strides};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn naive(d: Dims, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = std::vec![0.0f32; d.m * d.n];
        for i in 0..d.m {
            for j in 0..d.n {
                let mut s = 0.0f64;
                for p in 0..d.k {
                    s += a[i * d.a.rows + p * d.a.cols] as f64
                        * b[p * d.b.rows + j * d.b.cols] as f64;
                }
                c[i * d.n + j] = s as f32;
            }
        }
        c
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let h = (i as u32 ^ seed).wrapping_mul(2_654_435_761).rotate_left(7);
                (h % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn check(m: usize, k: usize, n: usize, transpose_a: bool, transpose_b: bool, seed: u32) {
        let a = values(m * k, seed);
        let b = values(k * n, seed ^ 0x55);
        let d = Dims {
            m,
            k,
            n,
            a: if transpose_a {
                Strides::col_major(m)
            } else {
                Strides::row_major(k)
            },
            b: if transpose_b {
                Strides::col_major(k)
            } else {
                Strides::row_major(n)
            },
            c: Strides::row_major(n),
        };
        let mut c = std::vec![f32::NAN; m * n];
        let mut pack = std::vec![f32::NAN; pack_len(m, k, n)];
        gemm(d, &a.as_slice(), &b, &mut c, &mut pack);
        let want = naive(d, &a, &b);
        for (got, want) in c.iter().zip(&want) {
            assert!(
                (got - want).abs() <= 1e-4 * (k as f32).sqrt() + 1e-5,
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn blocked_crosses_every_block_edge() {
        // m, k and n each cross MC, KC and NC with ragged tails.
        check(MC + 3, KC + 5, NC + 7, false, false, 1);
        check(MC * 2 + 1, KC * 2 + 1, NC + 1, true, true, 2);
    }

    #[test]
    fn blocked_one_by_one() {
        check(1, 1, 1, false, false, 3);
    }

    #[test]
    fn blocked_whole_and_ragged_tiles() {
        // Rows of whole tiles take the contiguous store, the ragged last column block not.
        check(MR * 3, 7, NR * 4, false, false, 4);
        check(MR * 3, 7, NR * 4 + 3, false, true, 5);
    }

    proptest! {
        #[test]
        fn blocked_matches_naive(m in 1usize..40, k in 1usize..300, n in 1usize..40,
                                 ta: bool, tb: bool, seed: u32) {
            check(m, k, n, ta, tb, seed);
        }
    }
}
