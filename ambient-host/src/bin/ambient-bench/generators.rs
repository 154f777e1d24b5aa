//! Generator inference: the core (f32 on both GEMM routes, int8) against the tch module,
//! on the same weights, single thread.

use ambient_core::format::Op;
use ambient_core::nn::{GemmRoute, Model};
use ambient_core::Shape;
use ambient_host::export::arch::graph_of;
use ambient_host::export::latents::{Latents, CALIBRATION_BATCH, CALIBRATION_SEED};
use ambient_host::export::{lower, BatchNormFolding, WeightDtype};
use ambient_host::model::GeneratorArch;
use anyhow::{Context, Result};
use tch::nn::VarStore;
use tch::Device;

use crate::cpu::Cpu;
use crate::timing::Budget;

/// One generator: its tch module and its exported files.
struct Subject {
    name: &'static str,
    arch: GeneratorArch,
    generator: Box<dyn ambient_host::model::Generator>,
    _vars: VarStore,
    f32_file: Vec<u8>,
    int8_file: Vec<u8>,
}

impl Subject {
    /// Builds `arch` with weights from torch's generator seeded 0, and exports it.
    fn new(name: &'static str, arch: GeneratorArch) -> Result<Self> {
        tch::manual_seed(0);
        let vars = VarStore::new(Device::Cpu);
        let generator = arch.build(vars.root() / "gen", Shape::new(1, 28, 28))?;
        let graph = graph_of(arch, &vars.variables())?;
        let model = lower(&graph, BatchNormFolding::Fold)?;
        let calibration = latents(arch, CALIBRATION_BATCH, CALIBRATION_SEED);
        Ok(Self {
            name,
            arch,
            f32_file: model.encode(WeightDtype::F32, &calibration)?,
            int8_file: model.encode(WeightDtype::Int8, &calibration)?,
            generator,
            _vars: vars,
        })
    }
}

fn latents(arch: GeneratorArch, count: usize, seed: u64) -> Latents {
    let (dim, distribution) = arch.latent();
    Latents::draw(distribution, count, dim as usize, 0, seed)
}

/// Returns the multiply-adds of one image through the model's dense and convolution
/// layers.
fn macs(model: &Model<'_>) -> u64 {
    let volume = |s: Shape| (s.channels * s.height * s.width) as u64;
    model
        .layers()
        .iter()
        .map(|l| match l.op {
            Op::Dense { out_features } => volume(l.in_shape) * out_features as u64,
            Op::Conv2d(p) => {
                volume(l.out_shape) * (l.in_shape.channels * p.kernel.0 * p.kernel.1) as u64
            }
            Op::ConvTranspose2d(p) => {
                volume(l.in_shape) * (l.out_shape.channels * p.kernel.0 * p.kernel.1) as u64
            }
            _ => 0,
        })
        .sum()
}

/// A 16-byte-aligned scratch buffer.
struct Scratch(Vec<u128>);

impl Scratch {
    fn new(len: usize) -> Self {
        Self(vec![0u128; len.div_ceil(16)])
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: u128 storage viewed as bytes; u8 has no alignment or validity needs.
        unsafe {
            std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<u8>(), self.0.len() * 16)
        }
    }
}

/// Returns the seconds per batch of the core on `file` with `route`, and its output.
fn time_core(
    file: &[u8],
    route: GemmRoute,
    z: &Latents,
    budget: &Budget,
) -> Result<(f64, Vec<f32>)> {
    let mut model = Model::parse(file)?;
    model.set_gemm_route(route);
    let mut scratch = Scratch::new(model.scratch_len(z.count)?);
    let mut out = vec![0f32; z.count * model.output_len()];
    model.generate(&z.z, None, &mut out, scratch.bytes())?;
    let seconds = budget.seconds_per_call(|| {
        model
            .generate(&z.z, None, &mut out, scratch.bytes())
            .map(|()| out[0])
    });
    Ok((seconds, out))
}

/// Prints the generator table and returns the memory table's rows.
pub fn run(cpu: &Cpu, budget: &Budget) -> Result<Vec<String>> {
    tch::set_num_threads(1);
    let subjects = [
        Subject::new("CPU preset (DCGAN 28)", GeneratorArch::Dcgan28)?,
        Subject::new("paper MNIST (WGAN-GP 28)", GeneratorArch::Wgan28)?,
    ];
    println!("| generator | batch | implementation | µs / batch | images / s | GFLOP/s | % of peak | speed vs libtorch |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    let mut memory = Vec::new();
    for s in &subjects {
        let flops = 2.0 * macs(&Model::parse(&s.f32_file)?) as f64;
        for batch in [1usize, 64] {
            let z = latents(s.arch, batch, 0xbe9c_0000 + batch as u64);
            let zt = z.z_tensor()?;
            let torch =
                budget.seconds_per_call(|| tch::no_grad(|| s.generator.forward(&zt, false)));
            let reference = tch::no_grad(|| s.generator.forward(&zt, false));
            let reference = Vec::<f32>::try_from(reference.flatten(0, -1)).context("tch output")?;
            let mut rows = vec![("libtorch (tch), no_grad".to_string(), torch)];
            let cases: [(&str, &[u8], GemmRoute); 3] = [
                ("core f32, blocked GEMM", &s.f32_file, GemmRoute::Blocked),
                (
                    "core f32, matrixmultiply",
                    &s.f32_file,
                    GemmRoute::MatrixMultiply,
                ),
                ("core int8", &s.int8_file, GemmRoute::Blocked),
            ];
            for (name, file, route) in cases {
                let (seconds, out) = time_core(file, route, &z, budget)?;
                let worst = out
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                rows.push((format!("{name} (max err {worst:.1e})"), seconds));
            }
            for (name, seconds) in rows {
                let gflops = flops * batch as f64 / seconds / 1e9;
                println!(
                    "| {} | {batch} | {name} | {:.1} | {:.0} | {gflops:.2} | {:.1} % | {:.2}× |",
                    s.name,
                    seconds * 1e6,
                    batch as f64 / seconds,
                    100.0 * gflops / cpu.peak_gflops(),
                    torch / seconds,
                );
            }
        }
        for (dtype, file) in [("f32", &s.f32_file), ("int8", &s.int8_file)] {
            let model = Model::parse(file)?;
            memory.push(format!(
                "| {} | {dtype} | {} | {} | {} | {:.1} M |",
                s.name,
                file.len(),
                model.scratch_len(1)?,
                model.scratch_len(64)?,
                flops / 2e6,
            ));
        }
    }
    Ok(memory)
}
