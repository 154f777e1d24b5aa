//! Gradient, adjoint and input-checking tests of the tch measurements. Parity with the
//! core's `measure` on random images lives in the `tests` crate.

use super::*;
use ambient_core::measure::{Interpolation, MeasurementParams};
use ambient_core::sampler::Sampler;

/// Builds every operator the host implements for `shape`, with parameters that make each
/// one non-trivial on a small image, and the bilinear rotations too.
fn operators(shape: Shape) -> Vec<Operator> {
    let params = MeasurementParams {
        p: 0.4,
        patch: 3,
        kernel_size: 3,
        projections: 5,
        ..MeasurementParams::default()
    };
    let bilinear = MeasurementParams {
        interpolation: Interpolation::Bilinear,
        ..params
    };
    let mut ops: Vec<Operator> = MeasurementKind::ALL
        .into_iter()
        .map(|kind| Operator::new(kind, shape, &params).unwrap())
        .collect();
    for kind in [
        MeasurementKind::PadRotateProject,
        MeasurementKind::PadRotateProjectTheta,
    ] {
        ops.push(Operator::new(kind, shape, &bilinear).unwrap());
    }
    ops
}

/// Values uniform in `[-1, 1)` from the core's sampler, so every run uses the same data.
fn random_values(seed: u64, n: usize) -> Vec<f32> {
    let mut sampler = Sampler::new(seed);
    (0..n).map(|_| 2.0 * sampler.uniform() - 1.0).collect()
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(&t.flatten(0, -1)).unwrap()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

fn abs_dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) * f64::from(*y)).abs())
        .sum()
}

fn image_tensor(values: &[f32], batch: i64, shape: Shape) -> Tensor {
    let [c, h, w] = shape_dims(shape);
    Tensor::from_slice(values).view([batch, c, h, w])
}

/// Returns `(<f(x), v>, ∂<f(x), v>/∂x)`, the gradient by autograd.
fn loss_and_gradient(m: &TchMeasurement, x: &[f32], v: &[f32], theta: &Theta) -> (f64, Vec<f32>) {
    let shape = m.operator().input_shape();
    let x = image_tensor(x, theta.batch() as i64, shape).set_requires_grad(true);
    let y = m.apply(&x, theta).unwrap();
    let v_tensor = Tensor::from_slice(v).view(y.size().as_slice());
    let loss = (&y * &v_tensor).sum(Kind::Float);
    loss.backward();
    (dot(&to_vec(&y), v), to_vec(&x.grad()))
}

#[test]
fn gradients_match_finite_differences() {
    let shapes = [Shape::new(1, 6, 6), Shape::new(2, 5, 6)];
    for shape in shapes {
        for op in operators(shape) {
            let m = TchMeasurement::new(op);
            let n = shape.checked_len().unwrap();
            let theta = m.sample_theta(17, 2, Device::Cpu).unwrap();
            let x = random_values(1, 2 * n);
            let out_len = 2 * m.operator().output_len();
            let v = random_values(2, out_len);
            let (_, gradient) = loss_and_gradient(&m, &x, &v, &theta);

            // f is linear in x, so a central difference has no truncation error. The step h
            // only has to be large enough that f32 rounding of y stays below the tolerance.
            let h = 0.25f32;
            for j in 0..x.len() {
                let mut plus = x.clone();
                plus[j] += h;
                let mut minus = x.clone();
                minus[j] -= h;
                let y_plus = to_vec(&m.apply(&image_tensor(&plus, 2, shape), &theta).unwrap());
                let y_minus = to_vec(&m.apply(&image_tensor(&minus, 2, shape), &theta).unwrap());
                let difference = (dot(&y_plus, &v) - dot(&y_minus, &v)) / f64::from(2.0 * h);
                let tolerance = 1e-4 * (1.0 + difference.abs());
                assert!(
                    (difference - f64::from(gradient[j])).abs() <= tolerance,
                    "{} {shape:?} value {j}: finite difference {difference}, autograd {}",
                    m.operator().kind().name(),
                    gradient[j]
                );
            }
        }
    }
}

#[test]
fn autograd_is_the_adjoint() {
    let shape = Shape::new(3, 7, 5);
    for op in operators(shape) {
        let m = TchMeasurement::new(op);
        let n = shape.checked_len().unwrap();
        let batch = 4;
        let theta = m.sample_theta(99, batch, Device::Cpu).unwrap();
        let x = random_values(3, batch * n);
        let v = random_values(4, batch * m.operator().output_len());
        let (forward, adjoint_v) = loss_and_gradient(&m, &x, &v, &theta);

        // f(x) = Ax + f(0), where f(0) is the noise of Convolve+Noise and zero otherwise,
        // so <f(x) - f(0), v> and <x, Aᵀv> agree up to f32 rounding of either sum's terms.
        let zero = vec![0.0; x.len()];
        let offset = to_vec(
            &m.apply(&image_tensor(&zero, batch as i64, shape), &theta)
                .unwrap(),
        );
        let linear = forward - dot(&offset, &v);
        let backward = dot(&x, &adjoint_v);
        let tolerance = 1e-5 * (abs_dot(&x, &adjoint_v) + 1.0);
        assert!(
            (linear - backward).abs() <= tolerance,
            "{}: <f(x) - f(0), v> = {linear}, <x, Aᵀv> = {backward}",
            m.operator().kind().name()
        );
    }
}

#[test]
fn sample_theta_draws_each_image_with_its_seed() {
    let shape = Shape::new(2, 4, 5);
    for op in operators(shape) {
        let m = TchMeasurement::new(op);
        let theta = m.sample_theta(5, 3, Device::Cpu).unwrap();
        let len = m.operator().theta_len();
        assert_eq!(theta.values().size(), vec![3, len as i64]);
        let rows = to_vec(theta.values());
        for i in 0..3 {
            let mut expected = vec![0.0; len];
            m.operator()
                .theta(image_seed(5, i as u64), &mut expected)
                .unwrap();
            assert_eq!(rows[i * len..(i + 1) * len], expected[..], "image {i}");
        }
    }
}

#[test]
fn output_shape_matches_output_len() {
    let shape = Shape::new(2, 6, 4);
    for op in operators(shape) {
        let m = TchMeasurement::new(op);
        let theta = m.sample_theta(1, 2, Device::Cpu).unwrap();
        let x = Tensor::zeros([2, 2, 6, 4], (Kind::Float, Device::Cpu));
        let y = m.apply(&x, &theta).unwrap();
        let mut expected = vec![2];
        expected.extend(m.output_shape());
        assert_eq!(y.size(), expected, "{}", m.operator().kind().name());
        let len: i64 = m.output_shape().iter().product();
        assert_eq!(len as usize, m.operator().output_len());
    }
}

#[test]
fn apply_rejects_wrong_shapes() {
    let shape = Shape::new(1, 6, 6);
    for op in operators(shape) {
        let m = TchMeasurement::new(op);
        let theta = m.sample_theta(1, 2, Device::Cpu).unwrap();
        let bad_shapes: [&[i64]; 5] = [
            &[2, 1, 6, 5],
            &[2, 2, 6, 6],
            &[3, 1, 6, 6],
            &[2, 36],
            &[2, 1, 6, 6, 1],
        ];
        for bad in bad_shapes {
            let x = Tensor::zeros(bad, (Kind::Float, Device::Cpu));
            match m.apply(&x, &theta) {
                Err(MeasureError::Shape {
                    what,
                    expected,
                    actual,
                }) => {
                    assert_eq!(what, "x");
                    assert_eq!(expected, vec![2, 1, 6, 6]);
                    assert_eq!(actual, bad.to_vec());
                }
                other => panic!("shape {bad:?}: {other:?}"),
            }
        }
    }
}

#[test]
fn apply_rejects_undefined_tensor() {
    let m = TchMeasurement::new(operators(Shape::new(1, 4, 4)).remove(0));
    let theta = m.sample_theta(1, 1, Device::Cpu).unwrap();
    assert!(matches!(
        m.apply(&Tensor::new(), &theta),
        Err(MeasureError::Undefined { what: "x" })
    ));
}

#[test]
fn apply_rejects_other_element_types() {
    let m = TchMeasurement::new(operators(Shape::new(1, 4, 4)).remove(0));
    let theta = m.sample_theta(1, 1, Device::Cpu).unwrap();
    let x = Tensor::zeros([1, 1, 4, 4], (Kind::Double, Device::Cpu));
    assert!(matches!(
        m.apply(&x, &theta),
        Err(MeasureError::Kind {
            expected: Kind::Float,
            actual: Kind::Double,
            ..
        })
    ));
}

#[test]
fn apply_rejects_theta_of_another_operator() {
    let ops = operators(Shape::new(1, 4, 4));
    let first = TchMeasurement::new(ops[0].clone());
    let second = TchMeasurement::new(ops[1].clone());
    let theta = second.sample_theta(1, 1, Device::Cpu).unwrap();
    let x = Tensor::zeros([1, 1, 4, 4], (Kind::Float, Device::Cpu));
    assert!(matches!(
        first.apply(&x, &theta),
        Err(MeasureError::ThetaMismatch { .. })
    ));
}

#[test]
fn theta_from_values_rejects_wrong_length() {
    for op in operators(Shape::new(1, 4, 4)) {
        let m = TchMeasurement::new(op);
        let len = m.operator().theta_len();
        let values = vec![0.0; 2 * len + 1];
        assert!(matches!(
            m.theta_from_values(&values, 2, Device::Cpu),
            Err(MeasureError::Core(
                ambient_core::measure::MeasureError::LengthMismatch { .. }
            ))
        ));
    }
}

#[test]
fn empty_batch_gives_empty_measurement() {
    for op in operators(Shape::new(1, 4, 4)) {
        let m = TchMeasurement::new(op);
        let theta = m.sample_theta(1, 0, Device::Cpu).unwrap();
        let x = Tensor::zeros([0, 1, 4, 4], (Kind::Float, Device::Cpu));
        let y = m.apply(&x, &theta).unwrap();
        assert_eq!(y.size()[0], 0);
    }
}

#[test]
fn apply_rejects_theta_of_other_parameters() {
    let shape = Shape::new(1, 6, 6);
    let params = |patch| MeasurementParams {
        patch,
        ..MeasurementParams::default()
    };
    let two = TchMeasurement::new(
        Operator::new(MeasurementKind::ExtractPatch, shape, &params(2)).unwrap(),
    );
    let three = TchMeasurement::new(
        Operator::new(MeasurementKind::ExtractPatch, shape, &params(3)).unwrap(),
    );
    let theta = three.sample_theta(1, 1, Device::Cpu).unwrap();
    let x = Tensor::zeros([1, 1, 6, 6], (Kind::Float, Device::Cpu));
    assert!(matches!(
        two.apply(&x, &theta),
        Err(MeasureError::ThetaMismatch { .. })
    ));
}

#[test]
fn theta_from_values_rejects_bad_patch_corner() {
    // A 6×5 image with k = 3: corners (i, j) must be whole numbers in 0..=3 and 0..=2.
    let params = MeasurementParams {
        patch: 3,
        ..MeasurementParams::default()
    };
    let op = Operator::new(MeasurementKind::ExtractPatch, Shape::new(1, 6, 5), &params).unwrap();
    let m = TchMeasurement::new(op);
    let bad: [([f32; 2], usize); 6] = [
        ([1.5, 0.0], 0),
        ([-1.0, 0.0], 0),
        ([4.0, 0.0], 0),
        ([0.0, 3.0], 1),
        ([f32::NAN, 0.0], 0),
        ([0.0, f32::INFINITY], 1),
    ];
    for (corner, position) in bad {
        match m.theta_from_values(&corner, 1, Device::Cpu) {
            Err(MeasureError::InvalidTheta { index, .. }) => {
                assert_eq!(index, position, "corner {corner:?}")
            }
            other => panic!("corner {corner:?}: {other:?}"),
        }
    }
    assert!(m.theta_from_values(&[3.0, 2.0], 1, Device::Cpu).is_ok());
}

#[test]
fn extract_patch_by_hand() {
    // 1×4×4 image with values 1..=16 and k = 2 at corner (2, 1): the patch [[10, 11],
    // [14, 15]] lands one row and one column in from the top-left, as the core places it.
    let params = MeasurementParams {
        patch: 2,
        ..MeasurementParams::default()
    };
    let op = Operator::new(MeasurementKind::ExtractPatch, Shape::new(1, 4, 4), &params).unwrap();
    let m = TchMeasurement::new(op);
    let theta = m.theta_from_values(&[2.0, 1.0], 1, Device::Cpu).unwrap();
    let x: Vec<f32> = (1..=16).map(|v| v as f32).collect();
    let y = m
        .apply(&image_tensor(&x, 1, Shape::new(1, 4, 4)), &theta)
        .unwrap();
    #[rustfmt::skip]
    let expected = [
        0.0, 0.0, 0.0, 0.0,
        0.0, 10.0, 11.0, 0.0,
        0.0, 14.0, 15.0, 0.0,
        0.0, 0.0, 0.0, 0.0,
    ];
    assert_eq!(to_vec(&y), expected);
}

#[test]
fn rotation_by_zero_sums_rows() {
    // Angle 0 is the identity map, so each projection value is the sum of one padded row:
    // rows of zeros for the padding, then 1+2+3 and 4+5+6, each followed by the angle.
    let params = MeasurementParams {
        pad: Some(1),
        angles: 1,
        ..MeasurementParams::default()
    };
    for interpolation in [Interpolation::Nearest, Interpolation::Bilinear] {
        let params = MeasurementParams {
            interpolation,
            ..params
        };
        let kind = MeasurementKind::PadRotateProjectTheta;
        let op = Operator::new(kind, Shape::new(1, 2, 3), &params).unwrap();
        let m = TchMeasurement::new(op);
        let theta = m.theta_from_values(&[0.0], 1, Device::Cpu).unwrap();
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let y = m
            .apply(&image_tensor(&x, 1, Shape::new(1, 2, 3)), &theta)
            .unwrap();
        assert_eq!(to_vec(&y), [0.0, 6.0, 15.0, 0.0, 0.0], "{interpolation:?}");
    }
}

#[test]
fn parallel_theta_equals_core_theta() {
    // 4 images × 100 × 784 Gaussian values is enough work for fill_rows to use several
    // threads on a machine that has them.
    let params = MeasurementParams::default();
    let kind = MeasurementKind::GaussianProjection;
    let op = Operator::new(kind, Shape::new(1, 28, 28), &params).unwrap();
    let m = TchMeasurement::new(op);
    let seeds = [3, 1, 4, 1];
    let theta = m.theta_from_seeds(&seeds, Device::Cpu).unwrap();
    let len = m.operator().theta_len();
    let rows = to_vec(theta.values());
    for (i, seed) in seeds.into_iter().enumerate() {
        let mut expected = vec![0.0; len];
        m.operator().theta(seed, &mut expected).unwrap();
        assert!(rows[i * len..(i + 1) * len] == expected[..], "image {i}");
    }
}
