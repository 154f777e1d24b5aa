//! Value-stability tests: the θ each operator draws for seed 42 on a 2×4×4 image is
//! pinned, so a change of sampling (generator, order of draws, integer-to-float map) fails
//! here. Such a change breaks every recorded measurement file and must be deliberate:
//! update these values only together with the record format's version.
//!
//! The values were produced by this implementation and cross-checked with an independent
//! Python replay of the documented draws (PCG32 as in the PCG reference code, the uniform,
//! `below` and angle maps in NumPy `float32`). The replay agrees to the bit on the masks,
//! corners and angles, and on the Gaussian draws except the eighth, where NumPy's `float32`
//! `log` and `cos` (not `libm`) differ by one ulp.

use std::vec;
use std::vec::Vec;

use super::*;

const SEED: u64 = 42;

fn theta(kind: MeasurementKind) -> Vec<f32> {
    let shape = Shape::new(2, 4, 4);
    let params = MeasurementParams {
        p: 0.5,
        patch: 2,
        kernel_size: 3,
        noise_std: 0.1,
        angles: 3,
        projections: 2,
        ..MeasurementParams::default()
    };
    let op = Operator::new(kind, shape, &params).unwrap();
    let mut theta = vec![0.0; op.theta_len()];
    op.theta(SEED, &mut theta).unwrap();
    theta
}

/// Packs a mask of 32 values into bits, bit `i` set when value `i` is not zero.
fn kept_bits(mask: &[f32]) -> u32 {
    assert_eq!(mask.len(), 32);
    mask.iter()
        .enumerate()
        .filter(|(_, &m)| m != 0.0)
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

fn to_bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn mask_draws_are_stable() {
    let cases = [
        (MeasurementKind::BlockPixels, 0xc9d3_8224, 2.0),
        (MeasurementKind::DropRow, 0x00f0_0f00, 2.0),
        (MeasurementKind::DropCol, 0x2222_4444, 2.0),
        (MeasurementKind::DropRowCol, 0x0080_0200, 4.0),
    ];
    for (kind, bits, scale) in cases {
        let mask = theta(kind);
        assert_eq!(kept_bits(&mask), bits, "{kind:?}: {mask:?}");
        assert!(mask.iter().all(|&m| m == 0.0 || m == scale), "{kind:?}");
    }
}

#[test]
fn patch_corners_are_stable() {
    let op = BlockPatch::new(Shape::new(2, 4, 4), 2).unwrap();
    let corners: Vec<(usize, usize)> = (0..8).map(|seed| op.position(seed)).collect();
    let pinned = [
        (0, 1),
        (2, 2),
        (2, 2),
        (1, 2),
        (2, 0),
        (1, 0),
        (1, 2),
        (2, 0),
    ];
    assert_eq!(corners, pinned);

    // Seed 42 draws the corner (1, 0): the patch covers values 4, 5, 8 and 9 of each
    // channel.
    let patch_bits = 0x0330_0330;
    assert_eq!(kept_bits(&theta(MeasurementKind::BlockPatch)), !patch_bits);
    assert_eq!(kept_bits(&theta(MeasurementKind::KeepPatch)), patch_bits);
    assert_eq!(theta(MeasurementKind::ExtractPatch), [1.0, 0.0]);
}

#[test]
fn noise_draws_are_stable() {
    let noise = theta(MeasurementKind::ConvolveNoise);
    let pinned = [
        0x3c34_c7db,
        0x3c97_6053,
        0xbe18_d273,
        0xbd90_ae74,
        0xbdf8_839f,
        0x3e05_b01c,
        0xbde6_d8d2,
        0xbd76_3cc8,
    ];
    assert_eq!(to_bits(&noise[..8]), pinned);
}

#[test]
fn angles_are_stable() {
    // -0.36351526, -1.6572697, 2.8505323 radians.
    let pinned = [0xbeba_1eac, 0xbfd4_216a, 0x4036_6f1f];
    assert_eq!(to_bits(&theta(MeasurementKind::PadRotateProject)), pinned);
    assert_eq!(
        to_bits(&theta(MeasurementKind::PadRotateProjectTheta)),
        pinned
    );
}

#[test]
fn gaussian_vectors_are_stable() {
    let vectors = theta(MeasurementKind::GaussianProjection);
    assert_eq!(vectors.len(), 64);
    let pinned = [
        0x3de1_f9d2,
        0x3e3d_3867,
        0xbfbf_070f,
        0xbf34_da11,
        0xbf9b_5243,
        0x3fa7_1c23,
        0xbf90_4783,
        0xbf19_e5fd,
    ];
    assert_eq!(to_bits(&vectors[..8]), pinned);
}
