//! Parity of generators run by `ambient-core` with the same generators run in tch.
//!
//! Each case draws a small random generator: a chain of the layer kinds the core supports
//! (dense, convolution and transposed convolution with random kernel, stride, padding and
//! output padding, batch norm where it folds and where it cannot, conditional batch norm,
//! every activation, crop, reshape, nearest upsampling, residual add, class
//! concatenation), with random weights and batch-norm statistics. The host's exporter
//! lowers it (batch norms folded, or all kept) and writes it through the core's writer;
//! the core's output is compared with libtorch's on the same latent vectors and labels.
//!
//! f32 is held to a tight tolerance of float rounding (see [`f32_tolerance`]); int8 to
//! the exporter's documented bound, in quantisation steps of the output.

use ambient_core::format::ValueRange;
use ambient_core::nn::{GemmRoute, Model};
use ambient_core::Shape;
use ambient_host::export::check::{bound, Comparison};
use ambient_host::export::generate::generate;
use ambient_host::export::latents::Latents;
use ambient_host::export::{
    lower, BatchNormFolding, BatchNormStats, CondBatchNormStats, Graph, Node, WeightDtype,
};
use ambient_host::model::LatentDistribution;
use proptest::prelude::*;
use tch::Tensor;

/// The largest activation a random generator may have, in values per image.
const MAX_ELEMENTS: usize = 1200;

/// SplitMix64, for the weights of a case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Draws a value uniform in `[-scale, scale)`.
    fn uniform(&mut self, scale: f32) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0) * scale
    }

    fn tensor(&mut self, dims: &[i64], scale: f32, offset: f32) -> Tensor {
        let n: i64 = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|_| offset + self.uniform(scale)).collect();
        Tensor::from_slice(&v).view(dims)
    }
}

/// One step of a random generator; parameters are reduced to valid ones for the shape
/// the step meets.
#[derive(Clone, Debug)]
enum Step {
    Dense {
        out: usize,
    },
    ToImage {
        channels: usize,
        side: usize,
    },
    Conv {
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    ConvT {
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        output_padding: usize,
    },
    BatchNorm,
    CondBatchNorm,
    Relu,
    LeakyRelu {
        slope: f32,
    },
    Tanh,
    Sigmoid,
    Crop {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
    Upsample,
    Residual,
    ConcatClass,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1usize..24).prop_map(|out| Step::Dense { out }),
        (1usize..4, 1usize..6).prop_map(|(channels, side)| Step::ToImage { channels, side }),
        (1usize..5, 1usize..5, 1usize..3, 0usize..3).prop_map(|(out, kernel, stride, padding)| {
            Step::Conv {
                out,
                kernel,
                stride,
                padding,
            }
        }),
        (1usize..5, 1usize..5, 1usize..4, 0usize..3, 0usize..3).prop_map(
            |(out, kernel, stride, padding, output_padding)| Step::ConvT {
                out,
                kernel,
                stride,
                padding,
                output_padding,
            }
        ),
        Just(Step::BatchNorm),
        Just(Step::CondBatchNorm),
        Just(Step::Relu),
        (0.0f32..0.5).prop_map(|slope| Step::LeakyRelu { slope }),
        Just(Step::Tanh),
        Just(Step::Sigmoid),
        (0usize..2, 0usize..2, 0usize..2, 0usize..2).prop_map(|(top, bottom, left, right)| {
            Step::Crop {
                top,
                bottom,
                left,
                right,
            }
        }),
        Just(Step::Upsample),
        Just(Step::Residual),
        Just(Step::ConcatClass),
    ]
}

/// A random generator: its latent size, classes, steps, output activation and the seed
/// of its weights.
#[derive(Clone, Debug)]
struct Recipe {
    latent: usize,
    classes: usize,
    steps: Vec<Step>,
    output: Step,
    seed: u64,
}

/// Random recipes of up to `max_steps` steps; `bounded` restricts the output activation to
/// sigmoid and tanh, as a generator's is.
fn recipe(max_steps: usize, bounded: bool) -> impl Strategy<Value = Recipe> {
    let output = if bounded {
        prop_oneof![Just(Step::Sigmoid), Just(Step::Tanh)].boxed()
    } else {
        prop_oneof![Just(Step::Sigmoid), Just(Step::Tanh), Just(Step::Relu)].boxed()
    };
    (
        1usize..12,
        prop_oneof![Just(0usize), 1usize..4],
        prop::collection::vec(step(), 1..max_steps),
        output,
        any::<u64>(),
    )
        .prop_map(|(latent, classes, steps, output, seed)| Recipe {
            latent,
            classes,
            steps,
            output,
            seed,
        })
}

/// Builds a graph from a recipe, tracking the shape of the newest value and skipping
/// steps that do not apply to it.
struct Builder {
    graph: Graph,
    shape: Shape,
    rng: Rng,
}

impl Builder {
    fn new(r: &Recipe) -> Self {
        let range = match r.output {
            Step::Sigmoid => ValueRange::ZeroOne,
            Step::Tanh => ValueRange::MinusOneOne,
            _ => ValueRange::Unbounded,
        };
        Self {
            graph: Graph::new(r.latent, r.classes, range),
            shape: Shape::new(r.latent, 1, 1),
            rng: Rng(r.seed),
        }
    }

    fn len(&self) -> usize {
        self.shape.checked_len().unwrap()
    }

    fn push(&mut self, node: Node, shape: Shape) -> usize {
        self.shape = shape;
        self.graph.push(node)
    }

    fn heavy_weight(&mut self, dims: &[i64], fan_in: usize) -> Tensor {
        self.rng
            .tensor(dims, 1.5 / (fan_in.max(1) as f32).sqrt(), 0.0)
    }

    fn dense(&mut self, out: usize) {
        let n = self.len();
        let weight = self.heavy_weight(&[out as i64, n as i64], n);
        let bias = Some(self.rng.tensor(&[out as i64], 0.1, 0.0));
        self.push(Node::Dense { weight, bias }, Shape::new(out, 1, 1));
    }

    fn conv(&mut self, out: usize, k: usize, s: usize, p: usize) -> bool {
        let Shape {
            channels: c,
            height: h,
            width: w,
        } = self.shape;
        if h + 2 * p < k || w + 2 * p < k {
            return false;
        }
        let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let weight = self.heavy_weight(&[out as i64, c as i64, k as i64, k as i64], c * k * k);
        let bias = (self.rng.next() % 4 != 0).then(|| self.rng.tensor(&[out as i64], 0.1, 0.0));
        let node = Node::Conv2d {
            weight,
            bias,
            stride: (s, s),
            padding: (p, p),
        };
        self.push(node, Shape::new(out, oh, ow));
        true
    }

    fn conv_t(&mut self, out: usize, k: usize, s: usize, p: usize, op: usize) -> bool {
        let Shape {
            channels: c,
            height: h,
            width: w,
        } = self.shape;
        let op = op.min(s - 1);
        let (fh, fw) = ((h - 1) * s + k + op, (w - 1) * s + k + op);
        if fh <= 2 * p || fw <= 2 * p {
            return false;
        }
        let (oh, ow) = (fh - 2 * p, fw - 2 * p);
        let weight = self.heavy_weight(&[c as i64, out as i64, k as i64, k as i64], c * k * k);
        let bias = Some(self.rng.tensor(&[out as i64], 0.1, 0.0));
        let node = Node::ConvTranspose2d {
            weight,
            bias,
            stride: (s, s),
            padding: (p, p),
            output_padding: (op, op),
        };
        self.push(node, Shape::new(out, oh, ow));
        true
    }

    fn stats(&mut self, rows: Option<usize>) -> (Tensor, Tensor, Tensor, Tensor) {
        let c = self.shape.channels as i64;
        let table: Vec<i64> = rows.map_or(vec![c], |r| vec![r as i64, c]);
        let gamma = self.rng.tensor(&table, 0.5, 1.0);
        let beta = self.rng.tensor(&table, 0.2, 0.0);
        let mean = self.rng.tensor(&[c], 0.5, 0.0);
        let var = self.rng.tensor(&[c], 0.5, 1.0);
        (gamma, beta, mean, var)
    }

    fn apply(&mut self, step: &Step, classes: usize) {
        let s = self.shape;
        let fits = |n: usize| n <= MAX_ELEMENTS;
        match *step {
            Step::Dense { out } => self.dense(out),
            Step::ToImage { channels, side } => {
                self.dense(channels * side * side);
                self.push(
                    Node::Reshape(Shape::new(channels, side, side)),
                    Shape::new(channels, side, side),
                );
            }
            Step::Conv {
                out,
                kernel,
                stride,
                padding,
            } => {
                self.conv(out, kernel, stride, padding);
            }
            Step::ConvT {
                out,
                kernel,
                stride,
                padding,
                output_padding,
            } => {
                let grown = s.channels.max(out)
                    * (s.height * stride + kernel)
                    * (s.width * stride + kernel);
                if fits(grown) {
                    self.conv_t(out, kernel, stride, padding, output_padding);
                }
            }
            Step::BatchNorm => {
                let (gamma, beta, mean, var) = self.stats(None);
                let stats = BatchNormStats {
                    gamma,
                    beta,
                    mean,
                    var,
                    eps: 1e-5,
                };
                self.push(Node::BatchNorm(stats), s);
            }
            Step::CondBatchNorm if classes > 0 => {
                let (gamma, beta, mean, var) = self.stats(Some(classes));
                let stats = CondBatchNormStats {
                    gamma,
                    beta,
                    mean,
                    var,
                    eps: 1e-5,
                };
                self.push(Node::CondBatchNorm(stats), s);
            }
            Step::Relu => {
                self.push(Node::Relu, s);
            }
            Step::LeakyRelu { slope } => {
                self.push(Node::LeakyRelu { slope }, s);
            }
            Step::Tanh => {
                self.push(Node::Tanh, s);
            }
            Step::Sigmoid => {
                self.push(Node::Sigmoid, s);
            }
            Step::Crop {
                top,
                bottom,
                left,
                right,
            } if top + bottom < s.height && left + right < s.width => {
                let out = Shape::new(s.channels, s.height - top - bottom, s.width - left - right);
                let node = Node::Crop {
                    top,
                    bottom,
                    left,
                    right,
                };
                self.push(node, out);
            }
            Step::Upsample if fits(4 * self.len()) => {
                self.push(
                    Node::Upsample2x,
                    Shape::new(s.channels, 2 * s.height, 2 * s.width),
                );
            }
            Step::Residual => {
                // x → conv 3×3 (same shape) → ReLU → + x, with the shortcut reading x.
                let x = self.graph.layers.len();
                if self.conv(s.channels, 3, 1, 1) {
                    self.push(Node::Relu, s);
                    self.push(Node::Add { other: x }, s);
                }
            }
            Step::ConcatClass if classes > 0 => {
                self.push(
                    Node::ConcatClass,
                    Shape::new(s.channels + classes, s.height, s.width),
                );
            }
            _ => {}
        }
    }
}

/// Builds the graph of `r`: a dense layer to start (so that every graph has weights), the
/// steps, then the output activation.
fn build(r: &Recipe) -> Graph {
    let mut b = Builder::new(r);
    b.dense(1 + (r.seed % 16) as usize);
    for step in &r.steps {
        b.apply(step, r.classes);
    }
    b.apply(&r.output, r.classes);
    b.graph
}

fn latents(graph: &Graph, count: usize, seed: u64) -> Latents {
    Latents::draw(
        LatentDistribution::Normal,
        count,
        graph.latent,
        graph.classes,
        seed,
    )
}

/// Runs the graph in tch on `latents` and returns the flat output.
fn reference(graph: &Graph, latents: &Latents) -> Vec<f32> {
    let z = latents.z_tensor().unwrap();
    let labels = latents.labels_tensor();
    let out = graph.forward(&z, labels.as_ref()).unwrap();
    Vec::<f32>::try_from(&out.flatten(0, -1)).unwrap()
}

/// Returns the f32 tolerance, `1e-5 · (1 + max |tch|)`. Core and libtorch sum in different
/// orders and the folded batch norm rounds once more, so values differ by float rounding
/// of the magnitudes the chain went through. Over 4,000 random graphs (both foldings, two
/// GEMM routes) the largest error was `2.7e-7 · (1 + max |tch|)`, so the tolerance leaves a
/// factor of about 40.
fn f32_tolerance(max_reference: f32) -> f32 {
    1e-5 * (1.0 + max_reference)
}

fn check_f32(r: &Recipe, folding: BatchNormFolding) -> Result<(), TestCaseError> {
    let graph = build(r);
    let batch = latents(&graph, 3, r.seed ^ 1);
    let want = reference(&graph, &batch);
    let bytes = lower(&graph, folding).unwrap().to_bytes(false).unwrap();
    let mut model = Model::parse(&bytes).unwrap();
    for route in [GemmRoute::Blocked, GemmRoute::MatrixMultiply] {
        model.set_gemm_route(route);
        let got = generate(&model, &batch).unwrap();
        let c = Comparison::of(&got, &want);
        let tolerance = f32_tolerance(c.max_reference);
        prop_assert!(
            c.max_abs <= tolerance,
            "{route:?}: largest error {} above {tolerance}, {} layers",
            c.max_abs,
            graph.layers.len()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn f32_folded_matches_tch(r in recipe(8, false)) {
        check_f32(&r, BatchNormFolding::Fold)?;
    }

    #[test]
    fn f32_unfolded_matches_tch(r in recipe(8, false)) {
        check_f32(&r, BatchNormFolding::Keep)?;
    }

    #[test]
    fn int8_within_bound_of_tch(r in recipe(5, true)) {
        let graph = build(&r);
        // The check batch is the start of the calibration batch, so no value of it lies
        // outside its calibrated range: saturation on fresh inputs is a property of the
        // calibration, not of the integer arithmetic this test checks.
        let calibration = latents(&graph, 64, r.seed ^ 2);
        let batch = Latents {
            count: 8,
            z: calibration.z[..8 * graph.latent].to_vec(),
            labels: calibration.labels.as_ref().map(|l| l[..8].to_vec()),
        };
        let want = reference(&graph, &batch);
        let float = lower(&graph, BatchNormFolding::Fold).unwrap();
        let bytes = float.encode(WeightDtype::Int8, &calibration).unwrap();
        let model = Model::parse(&bytes).unwrap();
        let got = generate(&model, &batch).unwrap();
        let c = Comparison::of(&got, &want);
        let b = bound(WeightDtype::Int8, &model, c.max_reference);
        prop_assert!(
            c.max_abs <= b.value,
            "largest error {} above {} ({})",
            c.max_abs,
            b.value,
            b.basis
        );
    }
}
