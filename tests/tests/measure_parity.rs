//! Parity of the host's tch measurements with the core's `measure`, on random images,
//! parameters and seeds.
//!
//! The core measures a batch with `measure_batch` (image `i` with seed
//! `image_seed(batch_seed, i)`), the host with `sample_theta` and `apply` on the CPU. The
//! masks, Extract-Patch and both rotations (nearest and bilinear) must agree exactly: the
//! host gathers the core's maps and sums in the core's order. "Exactly" is IEEE equality,
//! which is bit equality except that a zero may carry either sign (the host's `x · 0` is −0
//! for a negative `x` where the core writes +0). Convolve+Noise and Gaussian-Projection
//! sum in a different order, so they are held to the standard worst-case bound on f32
//! summation error, derived at each check.

use ambient_core::measure::{
    measure_batch, Interpolation, Measurement, MeasurementKind, MeasurementParams, Operator,
};
use ambient_core::sampler::image_seed;
use ambient_core::Shape;
use ambient_host::measure::TchMeasurement;
use proptest::prelude::*;
use tch::{Device, Tensor};

/// Unit roundoff of f32.
const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;

/// One random case: an image batch of a random shape, and the seed of its θ.
#[derive(Clone, Debug)]
struct Batch {
    shape: Shape,
    images: Vec<f32>,
    batch_seed: u64,
}

impl Batch {
    fn len(&self) -> usize {
        self.images.len() / self.shape.checked_len().unwrap()
    }
}

/// Batches of 1 to 3 images with 1 to 3 channels and sides of 1 to 12, values in
/// `[-1, 1]` (the colour data sets' range, so negative values are covered too).
fn batches(min_side: usize) -> impl Strategy<Value = Batch> {
    (
        1usize..=3,
        min_side..=12,
        min_side..=12,
        1usize..=3,
        any::<u64>(),
    )
        .prop_flat_map(|(channels, height, width, batch, batch_seed)| {
            let shape = Shape::new(channels, height, width);
            let len = batch * channels * height * width;
            prop::collection::vec(-1.0f32..=1.0, len).prop_map(move |images| Batch {
                shape,
                images,
                batch_seed,
            })
        })
}

/// Returns the core's and the host's measurements of `batch` with `op`.
fn measure_both(op: &Operator, batch: &Batch) -> (Vec<f32>, Vec<f32>) {
    let n = batch.len();
    let mut core = vec![0.0; n * op.output_len()];
    measure_batch(op, &batch.images, batch.batch_seed, &mut core).unwrap();

    let host = TchMeasurement::new(op.clone());
    let theta = host.sample_theta(batch.batch_seed, n, Device::Cpu).unwrap();
    let Shape {
        channels,
        height,
        width,
    } = batch.shape;
    let x = Tensor::from_slice(&batch.images).view([
        n as i64,
        channels as i64,
        height as i64,
        width as i64,
    ]);
    let y = host.apply(&x, &theta).unwrap();
    let mut expected_shape = vec![n as i64];
    expected_shape.extend(host.output_shape());
    assert_eq!(y.size(), expected_shape);
    let host_values = Vec::<f32>::try_from(&y.flatten(0, -1)).unwrap();
    (core, host_values)
}

fn assert_exact(op: &Operator, core: &[f32], host: &[f32]) -> Result<(), TestCaseError> {
    prop_assert_eq!(core.len(), host.len());
    for (i, (c, h)) in core.iter().zip(host).enumerate() {
        prop_assert!(
            c == h,
            "{} value {}: core {:e}, host {:e}",
            op.kind().name(),
            i,
            c,
            h
        );
    }
    Ok(())
}

/// Returns `γ_n = n·u / (1 - n·u)`, the relative bound on the error of any f32 sum of `n`
/// terms, in any order, against the exact sum of the absolute values.
fn gamma(n: usize) -> f64 {
    let nu = n as f64 * UNIT_ROUNDOFF;
    nu / (1.0 - nu)
}

/// Returns, per output value of Convolve+Noise, `Σ |w·x| + |noise|` over the taps inside
/// the image, the sum that bounds the rounding error of either side.
fn blur_abs_sums(op: &Operator, batch: &Batch) -> Vec<f64> {
    let Operator::ConvolveNoise(blur) = op else {
        panic!("not Convolve+Noise");
    };
    let size = blur.kernel_size();
    let mut kernel = vec![0.0; size * size];
    blur.kernel_2d(&mut kernel).unwrap();
    let Shape {
        channels,
        height,
        width,
    } = batch.shape;
    let plane = height * width;
    let radius = (size / 2) as isize;
    let mut sums = Vec::with_capacity(batch.images.len());
    for b in 0..batch.len() {
        let mut noise = vec![0.0; op.theta_len()];
        op.theta(image_seed(batch.batch_seed, b as u64), &mut noise)
            .unwrap();
        for c in 0..channels {
            let image = &batch.images[(b * channels + c) * plane..][..plane];
            for r in 0..height as isize {
                for col in 0..width as isize {
                    let mut sum =
                        f64::from(noise[c * plane + (r as usize) * width + col as usize]).abs();
                    for a in -radius..=radius {
                        for d in -radius..=radius {
                            let (sr, sc) = (r + a, col + d);
                            if sr < 0 || sc < 0 || sr >= height as isize || sc >= width as isize {
                                continue;
                            }
                            let w = kernel[((a + radius) as usize) * size + (d + radius) as usize];
                            let value = image[sr as usize * width + sc as usize];
                            sum += f64::from(w * value).abs();
                        }
                    }
                    sums.push(sum);
                }
            }
        }
    }
    sums
}

fn config() -> ProptestConfig {
    // Each case makes a few tch calls; 32 cases per operator family keep the file quick.
    ProptestConfig::with_cases(32)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn masks_match_core_exactly(
        batch in batches(1),
        kind in prop::sample::select(vec![
            MeasurementKind::BlockPixels,
            MeasurementKind::DropRow,
            MeasurementKind::DropCol,
            MeasurementKind::DropRowCol,
            MeasurementKind::BlockPatch,
            MeasurementKind::KeepPatch,
        ]),
        p in 0.0f32..0.95,
        rescale in any::<bool>(),
        per_channel in any::<bool>(),
        patch_fraction in 0.0f64..1.0,
    ) {
        let side = batch.shape.height.min(batch.shape.width);
        let params = MeasurementParams {
            p,
            rescale,
            per_channel,
            patch: 1 + (patch_fraction * side as f64) as usize % side,
            ..MeasurementParams::default()
        };
        let op = Operator::new(kind, batch.shape, &params).unwrap();
        let (core, host) = measure_both(&op, &batch);
        assert_exact(&op, &core, &host)?;
    }

    #[test]
    fn extract_patch_matches_core_exactly(batch in batches(1), patch_fraction in 0.0f64..1.0) {
        let side = batch.shape.height.min(batch.shape.width);
        let params = MeasurementParams {
            patch: 1 + (patch_fraction * side as f64) as usize % side,
            ..MeasurementParams::default()
        };
        let op = Operator::new(MeasurementKind::ExtractPatch, batch.shape, &params).unwrap();
        let (core, host) = measure_both(&op, &batch);
        assert_exact(&op, &core, &host)?;
    }

    #[test]
    fn rotations_match_core_exactly(
        batch in batches(1),
        with_theta in any::<bool>(),
        bilinear in any::<bool>(),
        pad in prop::option::of(0usize..=4),
        angles in 1usize..=3,
    ) {
        let kind = if with_theta {
            MeasurementKind::PadRotateProjectTheta
        } else {
            MeasurementKind::PadRotateProject
        };
        let interpolation = if bilinear {
            Interpolation::Bilinear
        } else {
            Interpolation::Nearest
        };
        let params = MeasurementParams {
            pad,
            angles,
            interpolation,
            ..MeasurementParams::default()
        };
        let op = Operator::new(kind, batch.shape, &params).unwrap();
        let (core, host) = measure_both(&op, &batch);
        assert_exact(&op, &core, &host)?;
    }

    #[test]
    fn blur_matches_core_within_rounding(
        batch in batches(1),
        radius in 0usize..=3,
        sigma in 0.3f32..3.0,
        noise_std in prop::sample::select(vec![0.0f32, 0.1, 0.5]),
    ) {
        let size = 2 * radius + 1;
        let params = MeasurementParams {
            kernel_size: size,
            sigma,
            noise_std,
            ..MeasurementParams::default()
        };
        let op = Operator::new(MeasurementKind::ConvolveNoise, batch.shape, &params).unwrap();
        let (core, host) = measure_both(&op, &batch);
        let sums = blur_abs_sums(&op, &batch);

        // Each output is a dot product of at most size² weights with pixels, plus the
        // noise: n = size² + 1 terms. Both sides multiply the same weights (the core's
        // `kernel_2d`), and the standard bound for a dot product of n terms, the rounding
        // of the products included, is γ(n) times the sum of the terms' magnitudes, in any
        // order. The two sides therefore differ by at most twice that.
        let bound = 2.0 * gamma(size * size + 1);
        prop_assert_eq!(core.len(), host.len());
        for (i, ((c, h), sum)) in core.iter().zip(&host).zip(&sums).enumerate() {
            let difference = (f64::from(*c) - f64::from(*h)).abs();
            prop_assert!(
                difference <= bound * sum,
                "value {}: core {:e}, host {:e}, bound {:e}", i, c, h, bound * sum
            );
        }
    }

    #[test]
    fn gaussian_projection_matches_core_within_rounding(
        batch in batches(1),
        projections in 1usize..=20,
    ) {
        let params = MeasurementParams {
            projections,
            ..MeasurementParams::default()
        };
        let op = Operator::new(MeasurementKind::GaussianProjection, batch.shape, &params)
            .unwrap();
        let Operator::GaussianProjection(projection) = &op else {
            panic!("not Gaussian-Projection");
        };
        let (core, host) = measure_both(&op, &batch);

        // The core states its dot product's bound, γ_n · Σ_j |θ_ij x_j|; the host's matrix
        // product obeys the same bound in any order, so the two differ by at most twice it.
        let n = batch.shape.checked_len().unwrap();
        let mut theta = vec![0.0; op.theta_len()];
        for b in 0..batch.len() {
            op.theta(image_seed(batch.batch_seed, b as u64), &mut theta).unwrap();
            let x = &batch.images[b * n..][..n];
            for (i, row) in theta.chunks_exact(n).enumerate() {
                let abs_sum: f64 = row
                    .iter()
                    .zip(x)
                    .map(|(t, v)| (f64::from(*t) * f64::from(*v)).abs())
                    .sum();
                let bound = 2.0 * projection.error_bound(abs_sum);
                let (c, h) = (core[b * projections + i], host[b * projections + i]);
                let difference = (f64::from(c) - f64::from(h)).abs();
                prop_assert!(
                    difference <= bound,
                    "image {} projection {}: core {:e}, host {:e}, bound {:e}", b, i, c, h, bound
                );
            }
        }
    }
}

/// The MNIST shape with the default parameters of every measurement (p = 0.9, k = 14, a 5×5
/// blur with σ = 1, 2 angles, 100 projections), once each.
#[test]
fn mnist_defaults_match_core() {
    let shape = Shape::new(1, 28, 28);
    let batch = Batch {
        shape,
        images: (0..2 * 784)
            .map(|i| ((i * 37) % 256) as f32 / 255.0)
            .collect(),
        batch_seed: 2024,
    };
    for kind in MeasurementKind::ALL {
        let op = Operator::new(kind, shape, &MeasurementParams::default()).unwrap();
        let (core, host) = measure_both(&op, &batch);
        assert_eq!(core.len(), host.len(), "{}", kind.name());
        for (i, (c, h)) in core.iter().zip(&host).enumerate() {
            let exact = !matches!(
                kind,
                MeasurementKind::ConvolveNoise | MeasurementKind::GaussianProjection
            );
            // For the two summing operators a loose absolute bound suffices here, because
            // the property tests above check their rigorous bounds: pixel values are in
            // [0, 1], and 784 Gaussian terms sum to magnitudes far below 1e3.
            let tolerance = if exact { 0.0 } else { 1e-3 };
            assert!(
                (c - h).abs() <= tolerance,
                "{} value {i}: core {c}, host {h}",
                kind.name()
            );
        }
    }
}

/// A training-sized batch (64 MNIST images), large enough that the host builds θ and the
/// rotation and patch index maps on several threads where the machine has them.
#[test]
fn training_batch_matches_core_exactly() {
    let shape = Shape::new(1, 28, 28);
    let batch = Batch {
        shape,
        images: (0..64 * 784)
            .map(|i| ((i * 53) % 251) as f32 / 250.0)
            .collect(),
        batch_seed: 77,
    };
    let bilinear = MeasurementParams {
        interpolation: Interpolation::Bilinear,
        ..MeasurementParams::default()
    };
    let cases = [
        (MeasurementKind::BlockPixels, MeasurementParams::default()),
        (MeasurementKind::ExtractPatch, MeasurementParams::default()),
        (
            MeasurementKind::PadRotateProject,
            MeasurementParams::default(),
        ),
        (MeasurementKind::PadRotateProjectTheta, bilinear),
    ];
    for (kind, params) in cases {
        let op = Operator::new(kind, shape, &params).unwrap();
        let (core, host) = measure_both(&op, &batch);
        assert_eq!(core.len(), host.len(), "{}", kind.name());
        for (i, (c, h)) in core.iter().zip(&host).enumerate() {
            assert!(c == h, "{} value {i}: core {c}, host {h}", kind.name());
        }
    }
}
