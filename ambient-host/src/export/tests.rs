//! Hand-computed cases of batch-norm folding, lowering, comparison and latents.

use ambient_core::format::{Op, ValueRange};
use ambient_core::nn::Model;
use ambient_core::Shape;
use tch::Tensor;

use super::check::{bound, Comparison, RELATIVE_FLOOR};
use super::latents::Latents;
use super::{lower, BatchNormFolding, BatchNormStats, FloatModel, Graph, Node, WeightDtype};
use crate::model::LatentDistribution;

fn t(values: &[f32], dims: &[i64]) -> Tensor {
    Tensor::from_slice(values).view(dims)
}

/// Channel 0: scale 4 / sqrt(3 + 1) = 2, shift 0.5 − 1 · 2 = −1.5. Channel 1: scale
/// 1 / sqrt(0 + 1) = 1, shift 0 − (−2) · 1 = 2. Every value is exact in f32.
fn two_channel_bn() -> Node {
    Node::BatchNorm(BatchNormStats {
        gamma: t(&[4.0, 1.0], &[2]),
        beta: t(&[0.5, 0.0], &[2]),
        mean: t(&[1.0, -2.0], &[2]),
        var: t(&[3.0, 0.0], &[2]),
        eps: 1.0,
    })
}

fn dense(weight: &[f32], out: i64, bias: &[f32]) -> Node {
    let inputs = weight.len() as i64 / out;
    Node::Dense {
        weight: t(weight, &[out, inputs]),
        bias: Some(t(bias, &[out])),
    }
}

fn lowered(graph: &Graph, folding: BatchNormFolding) -> FloatModel {
    lower(graph, folding).unwrap()
}

#[test]
fn fold_into_dense() {
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(two_channel_bn());
    let m = lowered(&g, BatchNormFolding::Fold);
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].op, Op::Dense { out_features: 2 });
    // Row 0 times 2, row 1 times 1; b = b · scale + shift.
    assert_eq!(
        m.layers[0].tensors[0].as_deref(),
        Some(&[2.0, 4.0, 3.0, 4.0][..])
    );
    assert_eq!(m.layers[0].tensors[1].as_deref(), Some(&[-0.5, 1.0][..]));
}

#[test]
fn keep_leaves_batch_norm_layer() {
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(two_channel_bn());
    let m = lowered(&g, BatchNormFolding::Keep);
    assert_eq!(m.layers.len(), 2);
    assert_eq!(m.layers[1].op, Op::BatchNorm);
    assert_eq!(m.layers[1].input, 1);
    assert_eq!(m.layers[1].tensors[0].as_deref(), Some(&[2.0, 1.0][..]));
    assert_eq!(m.layers[1].tensors[1].as_deref(), Some(&[-1.5, 2.0][..]));
}

#[test]
fn fold_through_reshape() {
    // Dense features 0, 1 are channel 0 of the [2, 1, 2] reshape, features 2, 3 channel 1.
    let mut g = Graph::new(1, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 1.0, 1.0, 1.0], 4, &[1.0, 0.0, 1.0, 0.0]));
    g.push(Node::Reshape(Shape::new(2, 1, 2)));
    g.push(two_channel_bn());
    let m = lowered(&g, BatchNormFolding::Fold);
    let ops: Vec<Op> = m.layers.iter().map(|l| l.op).collect();
    let reshape = Op::Reshape {
        shape: Shape::new(2, 1, 2),
    };
    assert_eq!(ops, vec![Op::Dense { out_features: 4 }, reshape]);
    assert_eq!(
        m.layers[0].tensors[0].as_deref(),
        Some(&[2.0, 2.0, 1.0, 1.0][..])
    );
    assert_eq!(
        m.layers[0].tensors[1].as_deref(),
        Some(&[0.5, -1.5, 3.0, 2.0][..])
    );
}

#[test]
fn fold_into_conv_transpose() {
    // Weight [in 2, out 2, 1, 1]: entry (i, o) scales by channel o's scale.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(Node::Reshape(Shape::new(2, 1, 1)));
    g.push(Node::ConvTranspose2d {
        weight: t(&[1.0, 2.0, 3.0, 4.0], &[2, 2, 1, 1]),
        bias: None,
        stride: (1, 1),
        padding: (0, 0),
        output_padding: (0, 0),
    });
    g.push(two_channel_bn());
    let m = lowered(&g, BatchNormFolding::Fold);
    assert_eq!(m.layers.len(), 2);
    assert_eq!(
        m.layers[1].tensors[0].as_deref(),
        Some(&[2.0, 2.0, 6.0, 4.0][..])
    );
    assert_eq!(m.layers[1].tensors[1].as_deref(), Some(&[-1.5, 2.0][..]));
}

#[test]
fn no_fold_after_activation() {
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Relu);
    g.push(two_channel_bn());
    let m = lowered(&g, BatchNormFolding::Fold);
    let ops: Vec<Op> = m.layers.iter().map(|l| l.op).collect();
    assert_eq!(
        ops,
        vec![Op::Dense { out_features: 2 }, Op::Relu, Op::BatchNorm]
    );
    assert_eq!(
        m.layers[0].tensors[0].as_deref(),
        Some(&[1.0, 2.0, 3.0, 4.0][..])
    );
}

#[test]
fn no_fold_when_value_shared() {
    // dense → bn → add(dense output): the dense output is read twice, so the batch norm
    // stays, and the add's operand is renumbered to the core's value of the dense output.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    let d = g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(two_channel_bn());
    g.push(Node::Add { other: d });
    let m = lowered(&g, BatchNormFolding::Fold);
    let ops: Vec<Op> = m.layers.iter().map(|l| l.op).collect();
    assert_eq!(
        ops,
        vec![
            Op::Dense { out_features: 2 },
            Op::BatchNorm,
            Op::Add { other: 1 }
        ]
    );
}

#[test]
fn add_renumbered_after_fold() {
    // dense → bn (folded) → relu → add(bn output): graph value 2 is core value 1.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    let bn = g.push(two_channel_bn());
    g.push(Node::Relu);
    g.push(Node::Add { other: bn });
    let m = lowered(&g, BatchNormFolding::Fold);
    let ops: Vec<Op> = m.layers.iter().map(|l| l.op).collect();
    let expected = vec![
        Op::Dense { out_features: 2 },
        Op::Relu,
        Op::Add { other: 1 },
    ];
    assert_eq!(ops, expected);
    assert_eq!(m.layers[1].input, 1);
    assert_eq!(m.layers[2].input, 2);
}

#[test]
fn mismatched_batch_norm_is_error() {
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, &[0.0; 3]));
    g.push(two_channel_bn());
    let e = lower(&g, BatchNormFolding::Fold).unwrap_err();
    assert!(e.to_string().contains("layer 1"), "{e}");
}

#[test]
fn core_runs_folded_dense() {
    // z = (1, 1): dense gives (3, 7) + (0.5, −1) = (3.5, 6); the batch norm maps them to
    // 3.5 · 2 − 1.5 = 5.5 and 6 · 1 + 2 = 8.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(two_channel_bn());
    let bytes = lowered(&g, BatchNormFolding::Fold).to_bytes(false).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let latents = Latents {
        count: 1,
        z: vec![1.0, 1.0],
        labels: None,
    };
    let out = super::generate::generate(&model, &latents).unwrap();
    assert_eq!(out, vec![5.5, 8.0]);
    let reference = g.forward(&latents.z_tensor().unwrap(), None).unwrap();
    assert_eq!(Vec::<f32>::try_from(reference.flatten(0, -1)).unwrap(), out);
}

#[test]
fn comparison_hand_values() {
    let c = Comparison::of(&[1.0, 0.5, 0.0], &[1.5, 0.25, 0.0005]);
    assert_eq!(c.values, 3);
    assert_eq!(c.max_abs, 0.5);
    assert!((c.mean_abs - 0.7505 / 3.0).abs() < 1e-6, "{}", c.mean_abs);
    // 0.25 / 0.25 = 1 beats 0.5 / 1.5; 0.0005 / max(0.0005, floor) = 0.5.
    assert_eq!(c.max_rel, 1.0);
    assert_eq!(c.max_reference, 1.5);
    assert_eq!(RELATIVE_FLOOR, 1e-3);
}

#[test]
fn comparison_nan_is_infinite() {
    let c = Comparison::of(&[f32::NAN], &[0.5]);
    assert_eq!(c.max_abs, f32::INFINITY);
    assert_eq!(c.max_rel, f32::INFINITY);
    assert_eq!(c.mean_abs, f32::INFINITY);
    let c = Comparison::of(&[0.5], &[0.5, 0.5]);
    assert_eq!(c.max_abs, f32::INFINITY);
}

#[test]
fn bound_scales_with_range() {
    let mut g = Graph::new(2, 0, ValueRange::MinusOneOne);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Tanh);
    let bytes = lowered(&g, BatchNormFolding::Fold).to_bytes(false).unwrap();
    let model = Model::parse(&bytes).unwrap();
    let f32_bound = bound(WeightDtype::F32, &model, 0.9);
    assert_eq!(f32_bound.value, 2.0 * super::check::F32_BOUND);
    assert_eq!(
        bound(WeightDtype::F16, &model, 0.9).value,
        2.0 * super::check::F16_BOUND
    );
}

#[test]
fn latents_are_fixed() {
    let a = Latents::draw(LatentDistribution::Uniform, 5, 3, 2, 7);
    let b = Latents::draw(LatentDistribution::Uniform, 5, 3, 2, 7);
    assert_eq!(a, b);
    assert_eq!(a.z.len(), 15);
    assert!(a.z.iter().all(|v| (-1.0..1.0).contains(v)));
    assert_eq!(a.labels, Some(vec![0, 1, 0, 1, 0]));
    let c = Latents::draw(LatentDistribution::Normal, 5, 3, 0, 8);
    assert_ne!(a.z, c.z);
    assert_eq!(c.labels, None);
}

/// Parses the f32 file of `graph` and narrows `ranges` as the int8 export does.
fn clamped(graph: &Graph, mut ranges: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    let bytes = lowered(graph, BatchNormFolding::Fold)
        .to_bytes(false)
        .unwrap();
    let model = Model::parse(&bytes).unwrap();
    super::calibrate::narrow_ranges(model.layers(), &mut ranges);
    ranges
}

#[test]
fn clamp_before_sigmoid_and_tanh() {
    let mut g = Graph::new(2, 0, ValueRange::ZeroOne);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Sigmoid);
    let ranges = clamped(&g, vec![(-1.0, 1.0), (-38.0, 3.0), (0.0, 1.0)]);
    assert_eq!(ranges, vec![(-1.0, 1.0), (-8.0, 3.0), (0.0, 1.0)]);

    // Through a crop (which keeps its input's quantisation) to the layer before it.
    let mut g = Graph::new(4, 0, ValueRange::MinusOneOne);
    g.push(Node::Reshape(Shape::new(1, 2, 2)));
    g.push(Node::Conv2d {
        weight: t(&[1.0], &[1, 1, 1, 1]),
        bias: None,
        stride: (1, 1),
        padding: (0, 0),
    });
    g.push(Node::Crop {
        top: 0,
        bottom: 1,
        left: 0,
        right: 1,
    });
    g.push(Node::Tanh);
    let ranges = clamped(&g, vec![(-1.0, 1.0); 5]);
    assert_eq!(
        ranges[2],
        (-1.0, 1.0),
        "a range inside the clamp is unchanged"
    );
    let ranges = clamped(
        &g,
        vec![
            (-1.0, 1.0),
            (-9.0, 9.0),
            (-9.0, 9.0),
            (-9.0, 9.0),
            (-1.0, 1.0),
        ],
    );
    assert_eq!(
        ranges[2],
        (-4.0, 4.0),
        "the convolution's output is narrowed"
    );
    assert_eq!(ranges[1], (-9.0, 9.0), "the reshape of the input is not");
}

#[test]
fn no_clamp_when_shared_or_beyond() {
    // The dense output is read by the sigmoid and by the add: not narrowed.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    let d = g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Sigmoid);
    g.push(Node::Add { other: d });
    let ranges = clamped(
        &g,
        vec![(-1.0, 1.0), (-20.0, 20.0), (0.0, 1.0), (-20.0, 21.0)],
    );
    assert_eq!(ranges[1], (-20.0, 20.0));

    // A range wholly above the clamp is left as measured.
    let mut g = Graph::new(2, 0, ValueRange::ZeroOne);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Sigmoid);
    let ranges = clamped(&g, vec![(-1.0, 1.0), (10.0, 20.0), (0.0, 1.0)]);
    assert_eq!(ranges[1], (10.0, 20.0));
}

#[test]
fn narrow_before_relu_to_non_negative() {
    // dense -> reshape -> ReLU: the dense output is narrowed through the reshape.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Reshape(Shape::new(2, 1, 1)));
    g.push(Node::Relu);
    let ranges = clamped(&g, vec![(-1.0, 1.0), (-3.0, 5.0), (-3.0, 5.0), (0.0, 5.0)]);
    assert_eq!(
        ranges[1],
        (0.0, 5.0),
        "the dense output keeps its positive part"
    );
    assert_eq!(ranges[2], (-3.0, 5.0), "the reshape is not narrowed itself");

    // A value wholly below 0 is left as measured.
    let ranges = clamped(
        &g,
        vec![(-1.0, 1.0), (-3.0, -1.0), (-3.0, -1.0), (0.0, 0.0)],
    );
    assert_eq!(ranges[1], (-3.0, -1.0));
}

#[test]
fn value_errors_of_quantised_dense() {
    // y = relu(W z + b) with W = [[1, 2], [3, 4]]: every value is compared, and the error
    // of each is within its own rounding plus what the latent's 16-bit rounding adds.
    let mut g = Graph::new(2, 0, ValueRange::Unbounded);
    g.push(dense(&[1.0, 2.0, 3.0, 4.0], 2, &[0.5, -1.0]));
    g.push(Node::Relu);
    let model = lowered(&g, BatchNormFolding::Fold);
    let latents = Latents::draw(LatentDistribution::Normal, 64, 2, 0, 3);
    let int8 = model.encode(WeightDtype::Int8, &latents).unwrap();
    let float = model.to_bytes(false).unwrap();
    let (float, int8) = (Model::parse(&float).unwrap(), Model::parse(&int8).unwrap());
    let errors = super::layer_error::value_errors(&float, &int8, &latents).unwrap();

    let values: Vec<usize> = errors.iter().map(|e| e.value).collect();
    assert_eq!(
        values,
        vec![1, 2],
        "a 16-bit latent is not observed as value 0"
    );
    assert_eq!(errors[0].operation, "dense 2");
    assert_eq!(errors[1].operation, "relu");
    // Half an output step of rounding, plus two weights each off by at most half their
    // step (at most 4 / 127 / 2) times the largest |z|, plus 1e-3 for the 16-bit latent.
    let max_z = latents.z.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    for e in &errors {
        assert!(e.step > 0.0);
        assert!(e.max_abs_in_range <= e.max_abs);
        assert!(e.mean_abs <= e.max_abs);
        let bound = e.step / 2.0 + 2.0 * (4.0 / 254.0) * max_z + 1e-3;
        assert!(e.max_abs_in_range <= bound, "{e:?} above {bound}");
    }
}
