//! The presets' models: shapes, value ranges, variable names, the TF `SAME` deconvolution
//! they rely on, and the checkpointable Adam against libtorch's.

use ambient_core::Shape;
use ambient_host::model::{DiscriminatorArch, GeneratorArch, ModelError, Preset};
use ambient_host::train::adam::Adam;
use tch::nn::{self, Module, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

fn names(vars: &VarStore) -> Vec<String> {
    let mut names: Vec<String> = vars.variables().into_keys().collect();
    names.sort();
    names
}

#[test]
fn dcgan_shapes_and_names() {
    tch::manual_seed(1);
    let gen_vars = VarStore::new(Device::Cpu);
    let generator = GeneratorArch::Dcgan28
        .build(gen_vars.root() / "gen", Shape::new(1, 28, 28))
        .unwrap();
    let z = Tensor::randn([5, 64], (Kind::Float, Device::Cpu));
    let x = generator.forward(&z, true);
    assert_eq!(x.size(), vec![5, 1, 28, 28]);
    assert!(x.min().double_value(&[]) >= 0.0);
    assert!(x.max().double_value(&[]) <= 1.0);
    assert_eq!(
        names(&gen_vars),
        [
            "gen.bn0.bias",
            "gen.bn0.running_mean",
            "gen.bn0.running_var",
            "gen.bn0.weight",
            "gen.bn1.bias",
            "gen.bn1.running_mean",
            "gen.bn1.running_var",
            "gen.bn1.weight",
            "gen.fc.bias",
            "gen.fc.weight",
            "gen.up1.bias",
            "gen.up1.weight",
            "gen.up2.bias",
            "gen.up2.weight",
        ]
    );

    let disc_vars = VarStore::new(Device::Cpu);
    let arch = DiscriminatorArch::for_input(Preset::Cpu, &[1, 28, 28]).unwrap();
    assert_eq!(arch, DiscriminatorArch::DcganConv);
    let discriminator = arch
        .build(disc_vars.root() / "disc", &[1, 28, 28], false)
        .unwrap();
    assert_eq!(discriminator.forward(&x).size(), vec![5, 1]);
    let vars = disc_vars.variables();
    assert_eq!(vars["disc.fc.weight"].size(), vec![1, 128 * 7 * 7]);
    assert_eq!(vars["disc.conv2.weight"].size(), vec![128, 64, 4, 4]);
}

#[test]
fn wgan_shapes_and_names() {
    tch::manual_seed(2);
    let gen_vars = VarStore::new(Device::Cpu);
    let generator = GeneratorArch::Wgan28
        .build(gen_vars.root() / "gen", Shape::new(1, 28, 28))
        .unwrap();
    let z = Tensor::rand([3, 128], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
    let x = generator.forward(&z, true);
    assert_eq!(x.size(), vec![3, 1, 28, 28]);
    let vars = gen_vars.variables();
    assert_eq!(vars["gen.fc.weight"].size(), vec![4096, 128]);
    assert_eq!(vars["gen.up1.weight"].size(), vec![256, 128, 5, 5]);
    assert_eq!(vars["gen.up3.weight"].size(), vec![64, 1, 5, 5]);
    assert_eq!(vars.len(), 8);

    let disc_vars = VarStore::new(Device::Cpu);
    let discriminator = DiscriminatorArch::WganConv
        .build(disc_vars.root() / "disc", &[1, 28, 28], false)
        .unwrap();
    assert_eq!(discriminator.forward(&x).size(), vec![3, 1]);
    // 28 → 14 → 7 → 4 with TF SAME padding, so the dense layer takes 256·4·4 inputs.
    assert_eq!(
        disc_vars.variables()["disc.fc.weight"].size(),
        vec![1, 4096]
    );
}

#[test]
fn one_dimensional_input_uses_dense_discriminator() {
    for preset in [Preset::Cpu, Preset::Paper] {
        let arch = DiscriminatorArch::for_input(preset, &[80]).unwrap();
        assert_eq!(arch, DiscriminatorArch::FullyConnected);
        for batch_norm in [false, true] {
            let vars = VarStore::new(Device::Cpu);
            let d = arch.build(vars.root() / "disc", &[80], batch_norm).unwrap();
            let y = Tensor::randn([4, 80], (Kind::Float, Device::Cpu));
            assert_eq!(d.forward(&y).size(), vec![4, 1]);
        }
    }
}

#[test]
fn unsupported_shapes_rejected() {
    let vars = VarStore::new(Device::Cpu);
    let err = GeneratorArch::Dcgan28
        .build(vars.root() / "gen", Shape::new(3, 64, 64))
        .unwrap_err();
    assert!(matches!(err, ModelError::ImageShape { shape: [3, 64, 64] }));
    assert!(DiscriminatorArch::for_input(Preset::Cpu, &[1, 2]).is_err());
    let small = DiscriminatorArch::DcganConv.build(vars.root() / "disc", &[1, 2, 2], false);
    assert!(matches!(small, Err(ModelError::InputShape { .. })));
}

#[test]
fn padded_deconv_then_crop_is_tf_same() {
    // TF conv2d_transpose, k = 5, s = 2, SAME: out[r][c] += in[i][j] · w[r − 2i + 1][c − 2j + 1].
    // A delta input at (1, 2) must therefore place the kernel with its (1, 1) tap at
    // (2·1, 2·2) = (2, 4), after a padding-1 transposed convolution cropped to 2n.
    let vars = VarStore::new(Device::Cpu);
    let config = nn::ConvTransposeConfig {
        stride: 2,
        padding: 1,
        bias: false,
        ..Default::default()
    };
    let layer = nn::conv_transpose2d(vars.root() / "up", 1, 1, 5, config);
    let taps: Vec<f32> = (0..25).map(|v| v as f32 + 1.0).collect();
    let mut weight = layer.ws.shallow_clone();
    tch::no_grad(|| weight.copy_(&Tensor::from_slice(&taps).view([1, 1, 5, 5])));
    let input = Tensor::zeros([1, 1, 4, 4], (Kind::Float, Device::Cpu));
    let _ = input.get(0).get(0).get(1).get(2).fill_(1.0);

    let out = layer.forward(&input).narrow(2, 0, 8).narrow(3, 0, 8);
    assert_eq!(out.size(), vec![1, 1, 8, 8]);
    for r in 0..8i64 {
        for c in 0..8i64 {
            let (t, s) = (r - 2 + 1, c - 4 + 1);
            let expected = if (0..5).contains(&t) && (0..5).contains(&s) {
                (t * 5 + s + 1) as f64
            } else {
                0.0
            };
            let got = out.double_value(&[0, 0, r, c]);
            assert_eq!(got, expected, "out[{r}][{c}]");
        }
    }
}

#[test]
fn adam_matches_libtorch() {
    tch::manual_seed(3);
    let ours_vars = VarStore::new(Device::Cpu);
    let ours_layer = nn::linear(ours_vars.root() / "fc", 6, 3, Default::default());
    let mut theirs_vars = VarStore::new(Device::Cpu);
    let theirs_layer = nn::linear(theirs_vars.root() / "fc", 6, 3, Default::default());
    theirs_vars.copy(&ours_vars).unwrap();
    let initial = ours_vars.variables()["fc.weight"].copy();

    let mut ours = Adam::new(&ours_vars, 1e-2, 0.5, 0.999, 1e-8);
    let mut theirs = nn::Adam {
        beta1: 0.5,
        beta2: 0.999,
        wd: 0.0,
        eps: 1e-8,
        amsgrad: false,
    }
    .build(&theirs_vars, 1e-2)
    .unwrap();

    for _ in 0..7 {
        let x = Tensor::randn([8, 6], (Kind::Float, Device::Cpu));
        let target = Tensor::randn([8, 3], (Kind::Float, Device::Cpu));
        let loss = (ours_layer.forward(&x) - &target)
            .square()
            .mean(Kind::Float);
        ours.zero_grad();
        loss.backward();
        ours.step().unwrap();
        let loss = (theirs_layer.forward(&x) - &target)
            .square()
            .mean(Kind::Float);
        theirs.zero_grad();
        loss.backward();
        theirs.step();
    }
    assert_eq!(ours.steps(), 7);
    let (a, b) = (ours_vars.variables(), theirs_vars.variables());
    for name in ["fc.weight", "fc.bias"] {
        let diff = (&a[name] - &b[name]).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{name} differs by {diff}");
    }
    let moved = (&a["fc.weight"] - &initial).abs().max().double_value(&[]);
    assert!(moved > 1e-3, "the weights moved by only {moved}");
}
