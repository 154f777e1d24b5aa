//! The ResNet ACWGAN-GP for 32×32 colour images (CIFAR-10) of the AmbientGAN reference code,
//! which follows Gulrajani et al.'s WGAN-GP ResNet with an auxiliary classifier.
//!
//! Generator: z (128, N(0, I)) and a class → dense 128·4·4 → reshape (128, 4, 4) → three
//! up-blocks (4 → 8 → 16 → 32) → batch norm → ReLU → conv 3×3 to C channels → tanh. An
//! up-block is conditional batch norm → ReLU → nearest 2× upsampling → conv 3×3 →
//! conditional batch norm → ReLU → conv 3×3, added to a shortcut of nearest 2× upsampling
//! → conv 1×1. Conditional batch norm shares the running statistics and has γ and β per
//! class.
//!
//! Discriminator (critic, no normalisation): a first block conv 3×3 → ReLU → conv 3×3 →
//! 2×2 mean pool with a shortcut mean pool → conv 1×1 (32 → 16); a down-block ReLU → conv
//! 3×3 → ReLU → conv 3×3 → mean pool with a shortcut conv 1×1 → mean pool (16 → 8); two
//! blocks ReLU → conv 3×3 → ReLU → conv 3×3 with an identity shortcut; ReLU → the mean over
//! the image → dense 1 (the critic score) and dense 10 (the class logits). All widths are
//! 128. Weights use libtorch's default initialisation.

use tch::nn::{self, Init, Module, ModuleT};
use tch::{Kind, Tensor};

use super::conditioning::cycle_labels;
use super::ModelError;

/// The latent size.
pub const LATENT: i64 = 128;

/// The number of classes (CIFAR-10's).
pub const CLASSES: i64 = 10;

/// The channels of every hidden layer.
pub const DIM: i64 = 128;

fn conv(path: nn::Path, inputs: i64, outputs: i64, kernel: i64) -> nn::Conv2D {
    let config = nn::ConvConfig {
        padding: kernel / 2,
        ..Default::default()
    };
    nn::conv2d(path, inputs, outputs, kernel, config)
}

fn upsample(x: &Tensor) -> Tensor {
    let size = x.size();
    x.upsample_nearest2d([2 * size[2], 2 * size[3]], 2.0, 2.0)
}

fn mean_pool(x: &Tensor) -> Tensor {
    x.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None)
}

/// Batch normalisation with γ and β per class; variables `running_mean`, `running_var`,
/// `gamma` and `beta` (`[classes, channels]`) under its path.
#[derive(Debug)]
struct CondBatchNorm {
    norm: nn::BatchNorm,
    gamma: Tensor,
    beta: Tensor,
}

impl CondBatchNorm {
    fn new(path: nn::Path, channels: i64, classes: i64) -> Self {
        let config = nn::BatchNormConfig {
            affine: false,
            ..Default::default()
        };
        Self {
            norm: nn::batch_norm2d(&path, channels, config),
            gamma: path.var("gamma", &[classes, channels], Init::Const(1.0)),
            beta: path.var("beta", &[classes, channels], Init::Const(0.0)),
        }
    }

    fn forward(&self, x: &Tensor, labels: &Tensor, train: bool) -> Tensor {
        let size = x.size();
        let shape = [size[0], size[1], 1, 1];
        let gamma = self.gamma.index_select(0, labels).view(shape);
        let beta = self.beta.index_select(0, labels).view(shape);
        self.norm.forward_t(x, train) * gamma + beta
    }
}

/// A generator up-block; variables `bn1`, `conv1`, `bn2`, `conv2`, `shortcut`.
#[derive(Debug)]
struct UpBlock {
    bn1: CondBatchNorm,
    conv1: nn::Conv2D,
    bn2: CondBatchNorm,
    conv2: nn::Conv2D,
    shortcut: nn::Conv2D,
}

impl UpBlock {
    fn new(path: nn::Path) -> Self {
        Self {
            bn1: CondBatchNorm::new(&path / "bn1", DIM, CLASSES),
            conv1: conv(&path / "conv1", DIM, DIM, 3),
            bn2: CondBatchNorm::new(&path / "bn2", DIM, CLASSES),
            conv2: conv(&path / "conv2", DIM, DIM, 3),
            shortcut: conv(&path / "shortcut", DIM, DIM, 1),
        }
    }

    fn forward(&self, x: &Tensor, labels: &Tensor, train: bool) -> Tensor {
        let h = self.bn1.forward(x, labels, train).relu();
        let h = self.conv1.forward(&upsample(&h));
        let h = self.bn2.forward(&h, labels, train).relu();
        let h = self.conv2.forward(&h);
        self.shortcut.forward(&upsample(x)) + h
    }
}

/// The generator; variables `fc`, `block1` to `block3`, `bn` and `out` under its path.
#[derive(Debug)]
pub struct Generator {
    fc: nn::Linear,
    blocks: Vec<UpBlock>,
    bn: nn::BatchNorm,
    out: nn::Conv2D,
}

impl Generator {
    /// Creates the generator's variables under `path` for images with `channels` channels.
    pub fn new(path: nn::Path, channels: i64) -> Self {
        let norm = nn::BatchNormConfig {
            ws_init: Init::Const(1.0),
            ..Default::default()
        };
        Self {
            fc: nn::linear(&path / "fc", LATENT, DIM * 4 * 4, Default::default()),
            blocks: (1..=3)
                .map(|i| UpBlock::new(&path / format!("block{i}")))
                .collect(),
            bn: nn::batch_norm2d(&path / "bn", DIM, norm),
            out: conv(&path / "out", DIM, channels, 3),
        }
    }
}

impl super::Generator for Generator {
    fn forward(&self, z: &Tensor, train: bool) -> Tensor {
        let labels = cycle_labels(z.size()[0], CLASSES, z.device());
        self.forward_labeled(z, &labels, train)
    }

    fn classes(&self) -> i64 {
        CLASSES
    }

    fn forward_labeled(&self, z: &Tensor, labels: &Tensor, train: bool) -> Tensor {
        let mut x = self.fc.forward(z).view([-1, DIM, 4, 4]);
        for block in &self.blocks {
            x = block.forward(&x, labels, train);
        }
        let x = self.bn.forward_t(&x, train).relu();
        self.out.forward(&x).tanh()
    }
}

/// A critic block: two 3×3 convolutions, with `first` the block that reads the image
/// (no ReLU before its first convolution) and `down` a mean pool after both branches.
#[derive(Debug)]
struct CriticBlock {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    shortcut: Option<nn::Conv2D>,
    first: bool,
    down: bool,
}

impl CriticBlock {
    fn new(path: nn::Path, inputs: i64, first: bool, down: bool) -> Self {
        Self {
            conv1: conv(&path / "conv1", inputs, DIM, 3),
            conv2: conv(&path / "conv2", DIM, DIM, 3),
            shortcut: down.then(|| conv(&path / "shortcut", inputs, DIM, 1)),
            first,
            down,
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let h = if self.first {
            x.shallow_clone()
        } else {
            x.relu()
        };
        let h = self.conv2.forward(&self.conv1.forward(&h).relu());
        let h = if self.down { mean_pool(&h) } else { h };
        let shortcut = match (&self.shortcut, self.first) {
            (Some(c), true) => c.forward(&mean_pool(x)),
            (Some(c), false) => mean_pool(&c.forward(x)),
            (None, _) => x.shallow_clone(),
        };
        shortcut + h
    }
}

/// The critic with its auxiliary classifier; variables `block1` to `block4`, `score` and
/// `classes` under its path.
#[derive(Debug)]
pub struct Discriminator {
    blocks: Vec<CriticBlock>,
    score: nn::Linear,
    classifier: nn::Linear,
}

impl Discriminator {
    /// Creates the critic's variables under `path` for input `[C, H, W]` with H and W at
    /// least 4 and divisible by 4.
    pub fn new(path: nn::Path, input: &[i64]) -> Result<Self, ModelError> {
        let shape_error = || ModelError::InputShape {
            shape: input.to_vec(),
            reason: "the ResNet critic takes [C, H, W] with H and W positive multiples of 4",
        };
        let &[channels, height, width] = input else {
            return Err(shape_error());
        };
        if height < 4 || width < 4 || height % 4 != 0 || width % 4 != 0 {
            return Err(shape_error());
        }
        let blocks = vec![
            CriticBlock::new(&path / "block1", channels, true, true),
            CriticBlock::new(&path / "block2", DIM, false, true),
            CriticBlock::new(&path / "block3", DIM, false, false),
            CriticBlock::new(&path / "block4", DIM, false, false),
        ];
        Ok(Self {
            blocks,
            score: nn::linear(&path / "score", DIM, 1, Default::default()),
            classifier: nn::linear(&path / "classes", DIM, CLASSES, Default::default()),
        })
    }

    fn features(&self, y: &Tensor) -> Tensor {
        let mut x = y.shallow_clone();
        for block in &self.blocks {
            x = block.forward(&x);
        }
        x.relu().mean_dim([2i64, 3].as_slice(), false, Kind::Float)
    }
}

impl super::Discriminator for Discriminator {
    fn forward(&self, y: &Tensor) -> Tensor {
        self.score.forward(&self.features(y))
    }

    fn forward_with_classes(&self, y: &Tensor) -> (Tensor, Option<Tensor>) {
        let features = self.features(y);
        (
            self.score.forward(&features),
            Some(self.classifier.forward(&features)),
        )
    }
}
