//! Properties every operator shares, checked through [`Operator`] for every kind.

use std::vec;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::sampler::image_seed;

fn shapes() -> impl Strategy<Value = Shape> {
    (1usize..=3, 1usize..=8, 1usize..=8).prop_map(|(c, h, w)| Shape::new(c, h, w))
}

/// Parameters every kind accepts for `shape`.
fn params_for(shape: Shape) -> MeasurementParams {
    MeasurementParams {
        p: 0.5,
        patch: (shape.height.min(shape.width) / 2).max(1),
        kernel_size: 3,
        noise_std: 0.2,
        angles: 2,
        projections: 5,
        ..MeasurementParams::default()
    }
}

fn build(kind: MeasurementKind, shape: Shape, params: &MeasurementParams) -> Operator {
    match Operator::new(kind, shape, params) {
        Ok(op) => op,
        Err(e) => panic!("{kind:?} on {shape:?}: {e}"),
    }
}

fn ramp(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.3)
        .collect()
}

fn image_len(op: &Operator) -> usize {
    op.input_shape().checked_len().unwrap()
}

/// Applies `f_θ` to `x` from an explicit θ, written independently of each operator's
/// `measure` (from its documented θ layout), with the same summation orders.
fn apply_theta(op: &Operator, theta: &[f32], x: &[f32]) -> Vec<f32> {
    match op {
        Operator::BlockPixels(_)
        | Operator::DropLines(_)
        | Operator::BlockPatch(_)
        | Operator::KeepPatch(_) => theta.iter().zip(x).map(|(t, v)| t * v).collect(),
        Operator::ExtractPatch(op) => apply_extract(op, theta, x),
        Operator::ConvolveNoise(op) => apply_blur(op, theta, x),
        Operator::PadRotateProject(op) => apply_rotation(op, theta, x),
        Operator::GaussianProjection(_) => theta
            .chunks_exact(x.len())
            .map(|row| row.iter().zip(x).fold(0.0, |sum, (t, v)| sum + t * v))
            .collect(),
    }
}

fn apply_extract(op: &ExtractPatch, theta: &[f32], x: &[f32]) -> Vec<f32> {
    let Shape {
        channels,
        height,
        width,
    } = op.input_shape();
    let k = op.patch();
    let (top, left) = (theta[0] as usize, theta[1] as usize);
    let (out_top, out_left) = ((height - k) / 2, (width - k) / 2);
    let mut y = vec![0.0; x.len()];
    for c in 0..channels {
        for a in 0..k {
            for b in 0..k {
                let from = (c * height + top + a) * width + left + b;
                let to = (c * height + out_top + a) * width + out_left + b;
                y[to] = x[from];
            }
        }
    }
    y
}

fn apply_blur(op: &ConvolveNoise, theta: &[f32], x: &[f32]) -> Vec<f32> {
    let Shape {
        channels,
        height,
        width,
    } = op.input_shape();
    let size = op.kernel_size();
    let mut kernel = vec![0.0; size * size];
    op.kernel_2d(&mut kernel).unwrap();

    // Zero-pad each channel by the radius, then correlate with the kernel.
    let radius = size / 2;
    let (ph, pw) = (height + 2 * radius, width + 2 * radius);
    let mut y = vec![0.0; x.len()];
    for c in 0..channels {
        let mut padded = vec![0.0; ph * pw];
        for r in 0..height {
            for q in 0..width {
                padded[(r + radius) * pw + q + radius] = x[(c * height + r) * width + q];
            }
        }
        for r in 0..height {
            for q in 0..width {
                let mut sum = 0.0;
                for a in 0..size {
                    for b in 0..size {
                        // Taps in the padding are skipped by `measure`; here they add 0.
                        sum += kernel[a * size + b] * padded[(r + a) * pw + q + b];
                    }
                }
                let i = (c * height + r) * width + q;
                y[i] = sum + theta[i];
            }
        }
    }
    y
}

fn apply_rotation(op: &PadRotateProject, theta: &[f32], x: &[f32]) -> Vec<f32> {
    let Shape {
        channels,
        height,
        width,
    } = op.input_shape();
    let (ph, pw, pad) = (op.padded_height(), op.padded_width(), op.pad());
    let mut padded = vec![0.0; channels * ph * pw];
    for c in 0..channels {
        for r in 0..height {
            for q in 0..width {
                padded[(c * ph + r + pad) * pw + q + pad] = x[(c * height + r) * width + q];
            }
        }
    }
    let read = |c: usize, index: i32| match usize::try_from(index) {
        Ok(i) => padded[c * ph * pw + i],
        Err(_) => 0.0,
    };

    let mut y = Vec::new();
    for &angle in theta {
        let mut rotated = vec![0.0; channels * ph * pw];
        match op.interpolation() {
            Interpolation::Nearest => {
                let mut map = vec![0; ph * pw];
                op.nearest_map(angle, &mut map).unwrap();
                for c in 0..channels {
                    for (pixel, &source) in map.iter().enumerate() {
                        rotated[c * ph * pw + pixel] = read(c, source);
                    }
                }
            }
            Interpolation::Bilinear => {
                let mut index = vec![0; 4 * ph * pw];
                let mut weight = vec![0.0; 4 * ph * pw];
                op.bilinear_map(angle, &mut index, &mut weight).unwrap();
                for c in 0..channels {
                    for pixel in 0..ph * pw {
                        let taps = (4 * pixel..4 * pixel + 4).map(|t| (index[t], weight[t]));
                        let value = taps.fold(0.0, |sum, (i, w)| sum + w * read(c, i));
                        rotated[c * ph * pw + pixel] = value;
                    }
                }
            }
        }
        for r in 0..ph {
            for c in 0..channels {
                let row = &rotated[(c * ph + r) * pw..(c * ph + r + 1) * pw];
                y.push(row.iter().fold(0.0, |sum, v| sum + v));
            }
        }
        if op.with_theta() {
            y.push(angle);
        }
    }
    y
}

fn theta_of(op: &Operator, seed: u64) -> Vec<f32> {
    let mut theta = vec![0.0; op.theta_len()];
    op.theta(seed, &mut theta).unwrap();
    theta
}

fn mismatch(what: &'static str, expected: usize, actual: usize) -> MeasureError {
    MeasureError::LengthMismatch {
        what,
        expected,
        actual,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn measure_equals_theta_then_apply(
        shape in shapes(),
        seed: u64,
        bilinear: bool,
        rescale: bool,
        per_channel: bool,
    ) {
        let mut params = params_for(shape);
        params.rescale = rescale;
        params.per_channel = per_channel;
        if bilinear {
            params.interpolation = Interpolation::Bilinear;
        }
        for kind in MeasurementKind::ALL {
            let op = build(kind, shape, &params);
            let x = ramp(image_len(&op));
            let mut y = vec![f32::NAN; op.output_len()];
            op.measure(&x, seed, &mut y).unwrap();
            let expected = apply_theta(&op, &theta_of(&op, seed), &x);
            prop_assert_eq!(&y, &expected, "{:?}", kind);
        }
    }

    #[test]
    fn same_seed_gives_same_theta(shape in shapes(), seed: u64) {
        let params = params_for(shape);
        for kind in MeasurementKind::ALL {
            let op = build(kind, shape, &params);
            prop_assert_eq!(theta_of(&op, seed), theta_of(&op, seed), "{:?}", kind);
            let x = ramp(image_len(&op));
            let mut first = vec![0.0; op.output_len()];
            let mut second = vec![1.0; op.output_len()];
            op.measure(&x, seed, &mut first).unwrap();
            op.measure(&x, seed, &mut second).unwrap();
            prop_assert_eq!(first, second, "{:?}", kind);
        }
    }

    // Every kind here makes many independent draws on a 3×16×16 image. Two different seeds
    // give equal θ with probability at most 2^-48, because Drop-Row and Drop-Col make 48
    // fair draws and Pad-Rotate-Project two 24-bit angles. A failure means the seeding is
    // broken. The patch kinds have too few corners for this; see patch_positions_vary.
    #[test]
    fn different_seed_gives_different_theta(seed: u64, offset in 1u64..u64::MAX) {
        let shape = Shape::new(3, 16, 16);
        let params = params_for(shape);
        let other = seed.wrapping_add(offset);
        for kind in MeasurementKind::ALL {
            if matches!(
                kind,
                MeasurementKind::BlockPatch
                    | MeasurementKind::KeepPatch
                    | MeasurementKind::ExtractPatch
            ) {
                continue;
            }
            let op = build(kind, shape, &params);
            prop_assert_ne!(theta_of(&op, seed), theta_of(&op, other), "{:?}", kind);
        }
    }

    #[test]
    fn wrong_lengths_are_errors(shape in shapes(), delta in 1usize..4, longer: bool) {
        let params = params_for(shape);
        let wrong = |n: usize| if longer { n + delta } else { n.saturating_sub(delta) };
        for kind in MeasurementKind::ALL {
            let op = build(kind, shape, &params);
            let (n_x, n_y, n_theta) = (image_len(&op), op.output_len(), op.theta_len());
            let x = vec![0.5; n_x];

            let mut y = vec![0.0; n_y];
            let bad_x = vec![0.5; wrong(n_x)];
            let got = op.measure(&bad_x, 1, &mut y);
            prop_assert_eq!(got, Err(mismatch("x", n_x, wrong(n_x))), "{:?}", kind);

            let mut bad_y = vec![0.0; wrong(n_y)];
            let got = op.measure(&x, 1, &mut bad_y);
            prop_assert_eq!(got, Err(mismatch("y", n_y, wrong(n_y))), "{:?}", kind);

            let mut bad_theta = vec![0.0; wrong(n_theta)];
            let got = op.theta(1, &mut bad_theta);
            prop_assert_eq!(got, Err(mismatch("theta", n_theta, wrong(n_theta))), "{:?}", kind);
        }
    }

    // Each of the n = 16·C·H·W mask draws keeps its value with probability 1 - p (to
    // within 2^-24, the uniform's resolution), so the kept count is Binomial(n, 1 - p) with
    // standard deviation √(n p (1-p)). Six of them plus one for the resolution is a bound
    // that a correct sampler exceeds with probability about 2·10^-9 per case.
    #[test]
    fn block_pixels_keeps_about_1_minus_p(
        shape in shapes(),
        p in 0.0f32..0.99,
        batch_seed: u64,
    ) {
        let op = BlockPixels::new(shape, p, false, true).unwrap();
        let len = shape.checked_len().unwrap();
        let mut theta = vec![0.0; len];
        let mut kept = 0usize;
        for i in 0..16 {
            op.theta(image_seed(batch_seed, i), &mut theta).unwrap();
            kept += theta.iter().filter(|&&t| t == 1.0).count();
        }
        let n = (16 * len) as f64;
        let q = 1.0 - f64::from(p);
        let bound = 6.0 * (n * q * (1.0 - q)).sqrt() + 1.0;
        prop_assert!((kept as f64 - n * q).abs() <= bound, "kept {} of {}, p {}", kept, n, p);
    }

    #[test]
    fn keep_and_block_patch_are_complements(shape in shapes(), k_frac in 0.0f64..1.0, seed: u64) {
        let k = 1 + (k_frac * shape.height.min(shape.width) as f64) as usize;
        let k = k.min(shape.height.min(shape.width));
        let block = BlockPatch::new(shape, k).unwrap();
        let keep = KeepPatch::new(shape, k).unwrap();
        prop_assert_eq!(block.position(seed), keep.position(seed));
        let len = shape.checked_len().unwrap();
        let (mut blocked, mut kept) = (vec![0.0; len], vec![0.0; len]);
        block.theta(seed, &mut blocked).unwrap();
        keep.theta(seed, &mut kept).unwrap();
        for (b, k) in blocked.iter().zip(&kept) {
            prop_assert_eq!(b + k, 1.0);
        }
        let inside = kept.iter().filter(|&&t| t == 1.0).count();
        prop_assert_eq!(inside, shape.channels * k * k);
    }

    #[test]
    fn zero_rotation_projects_row_sums(
        shape in shapes(),
        pad in 0usize..4,
        bilinear: bool,
        values in proptest::collection::vec(-2.0f32..2.0, 192),
    ) {
        let interpolation = if bilinear { Interpolation::Bilinear } else { Interpolation::Nearest };
        let op = PadRotateProject::new(shape, Some(pad), 1, interpolation, false).unwrap();
        let Shape { channels, height, width } = shape;
        let x = &values[..channels * height * width];
        let mut y = vec![f32::NAN; op.projection_len()];
        op.project(x, 0.0, &mut y).unwrap();
        for r in 0..op.padded_height() {
            for c in 0..channels {
                let expected = match r.checked_sub(pad).filter(|&row| row < height) {
                    Some(row) => {
                        let start = (c * height + row) * width;
                        x[start..start + width].iter().fold(0.0, |sum, v| sum + v)
                    }
                    None => 0.0,
                };
                prop_assert_eq!(y[r * channels + c], expected, "row {} channel {}", r, c);
            }
        }
    }

    // The kernel weights sum to 1 up to rounding: size² products, each within about
    // 3·2^-24 relative, so 1e-5 relative bounds the sum for sizes up to 15.
    #[test]
    fn blur_preserves_interior_impulse_sum(
        half in 0usize..8,
        sigma in 0.3f32..5.0,
        value in -10.0f32..10.0,
        offset in (0usize..4, 0usize..4),
    ) {
        let size = 2 * half + 1;
        let side = size + 4;
        let op = ConvolveNoise::new(Shape::new(1, side, side), size, sigma, 0.0).unwrap();
        let mut x = vec![0.0; side * side];
        // Rows and columns half..half + 4 are at least `half` pixels from every border.
        x[(half + offset.0) * side + half + offset.1] = value;
        let mut y = vec![0.0; side * side];
        op.measure(&x, 0, &mut y).unwrap();
        let total: f64 = y.iter().map(|&v| f64::from(v)).sum();
        prop_assert!((total - f64::from(value)).abs() <= 1e-5 * f64::from(value.abs()));
    }

    // Arbitrary parameters never panic: construction gives an operator or a typed error,
    // and an operator measures any image of its shape.
    #[test]
    fn arbitrary_parameters_never_panic(
        shape in (0usize..4, 0usize..7, 0usize..7),
        p in any::<f32>(),
        patch in 0usize..9,
        kernel_size in 0usize..70,
        sigma in any::<f32>(),
        noise_std in any::<f32>(),
        pad in proptest::option::of(0usize..4),
        angles in 0usize..3,
        projections in 0usize..4,
        seed: u64,
    ) {
        let shape = Shape::new(shape.0, shape.1, shape.2);
        let params = MeasurementParams {
            p, patch, kernel_size, sigma, noise_std, pad, angles, projections,
            ..MeasurementParams::default()
        };
        for kind in MeasurementKind::ALL {
            let Ok(op) = Operator::new(kind, shape, &params) else {
                continue;
            };
            prop_assert_eq!(op.kind(), kind);
            let x = ramp(image_len(&op));
            let mut y = vec![0.0; op.output_len()];
            prop_assert!(op.measure(&x, seed, &mut y).is_ok());
            prop_assert!(op.theta(seed, &mut vec![0.0; op.theta_len()]).is_ok());
        }
    }
}

#[test]
fn patch_positions_vary() {
    // 841 corners on a 32×32 image with k = 4: 200 seeds give about 178 distinct corners
    // when the seed drives the draw; a constant draw would give 1.
    let op = ExtractPatch::new(Shape::new(1, 32, 32), 4).unwrap();
    let mut corners: Vec<(usize, usize)> = (0..200).map(|seed| op.position(seed)).collect();
    corners.sort_unstable();
    corners.dedup();
    assert!(corners.len() > 150, "{} distinct corners", corners.len());
}

#[test]
fn operator_builds_every_kind() {
    let shape = Shape::new(1, 4, 4);
    let params = params_for(shape);
    for kind in MeasurementKind::ALL {
        let op = build(kind, shape, &params);
        assert_eq!(op.kind(), kind);
        assert_eq!(op.input_shape(), shape);
    }
    let lens = |kind| {
        let op = build(kind, Shape::new(3, 28, 28), &MeasurementParams::default());
        (op.output_len(), op.theta_len())
    };
    assert_eq!(lens(MeasurementKind::BlockPixels), (2352, 2352));
    assert_eq!(lens(MeasurementKind::DropRowCol), (2352, 2352));
    assert_eq!(lens(MeasurementKind::ExtractPatch), (2352, 2));
    assert_eq!(lens(MeasurementKind::ConvolveNoise), (2352, 2352));
    // 28 + 2·6 = 40 rows, 3 channels, 2 angles (plus one angle each with θ).
    assert_eq!(lens(MeasurementKind::PadRotateProject), (240, 2));
    assert_eq!(lens(MeasurementKind::PadRotateProjectTheta), (242, 2));
    assert_eq!(lens(MeasurementKind::GaussianProjection), (100, 235_200));
}

#[test]
fn operator_rejects_invalid_parameters() {
    let shape = Shape::new(1, 4, 4);
    let with = |change: fn(&mut MeasurementParams)| {
        let mut params = params_for(shape);
        change(&mut params);
        params
    };
    let cases: [(MeasurementKind, MeasurementParams, MeasureError); 9] = [
        (
            MeasurementKind::BlockPixels,
            with(|p| p.p = 1.0),
            MeasureError::InvalidProbability { value: 1.0 },
        ),
        (
            MeasurementKind::DropRowCol,
            with(|p| p.p = -0.25),
            MeasureError::InvalidProbability { value: -0.25 },
        ),
        (
            MeasurementKind::BlockPatch,
            with(|p| p.patch = 5),
            MeasureError::InvalidPatch {
                patch: 5,
                height: 4,
                width: 4,
            },
        ),
        (
            MeasurementKind::ExtractPatch,
            with(|p| p.patch = 0),
            MeasureError::InvalidPatch {
                patch: 0,
                height: 4,
                width: 4,
            },
        ),
        (
            MeasurementKind::ConvolveNoise,
            with(|p| p.kernel_size = 4),
            MeasureError::InvalidKernelSize { size: 4 },
        ),
        (
            MeasurementKind::ConvolveNoise,
            with(|p| p.kernel_size = 0),
            MeasureError::InvalidKernelSize { size: 0 },
        ),
        (
            MeasurementKind::PadRotateProject,
            with(|p| p.angles = 0),
            MeasureError::ZeroCount { name: "angles" },
        ),
        (
            MeasurementKind::PadRotateProjectTheta,
            with(|p| p.angles = 0),
            MeasureError::ZeroCount { name: "angles" },
        ),
        (
            MeasurementKind::GaussianProjection,
            with(|p| p.projections = 0),
            MeasureError::ZeroCount { name: "m" },
        ),
    ];
    for (kind, params, error) in cases {
        assert_eq!(Operator::new(kind, shape, &params), Err(error), "{kind:?}");
    }
}

#[test]
fn batch_uses_one_seed_per_image() {
    let shape = Shape::new(1, 4, 4);
    let op = build(
        MeasurementKind::PadRotateProjectTheta,
        shape,
        &params_for(shape),
    );
    let x = ramp(48);
    let mut y = vec![0.0; 3 * op.output_len()];
    measure_batch(&op, &x, 99, &mut y).unwrap();
    for i in 0..3 {
        let mut single = vec![0.0; op.output_len()];
        op.measure(
            &x[16 * i..16 * (i + 1)],
            image_seed(99, i as u64),
            &mut single,
        )
        .unwrap();
        let n = op.output_len();
        assert_eq!(y[n * i..n * (i + 1)], single[..], "image {i}");
    }
}
