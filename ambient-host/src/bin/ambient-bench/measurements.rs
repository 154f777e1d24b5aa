//! Measurement operators: the core's `measure_batch` (θ drawn on the fly) against the tch
//! operators, which draw θ with the core's sampler, build it as tensors and apply it.

use ambient_core::measure::{
    measure_batch, Measurement, MeasurementKind, MeasurementParams, Operator,
};
use ambient_core::Shape;
use ambient_host::measure::TchMeasurement;
use anyhow::Result;
use tch::{Device, Tensor};

use crate::timing::Budget;

/// Uniform values in `[0, 1)` from a fixed linear congruential sequence.
fn image_values(n: usize) -> Vec<f32> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// Prints the measurement table: images per second of the core, of tch (θ and apply) and
/// of tch's apply alone.
pub fn run(budget: &Budget) -> Result<()> {
    tch::set_num_threads(1);
    println!("| operator | image | batch | core img/s | tch img/s (θ + apply) | tch img/s (apply) | core vs tch |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let params = MeasurementParams::default();
    for kind in MeasurementKind::ALL {
        for shape in [Shape::new(1, 28, 28), Shape::new(3, 64, 64)] {
            let op = Operator::new(kind, shape, &params)?;
            let tch_op = TchMeasurement::new(op.clone());
            for batch in [1usize, 64] {
                let n = shape.channels * shape.height * shape.width;
                let x = image_values(batch * n);
                let mut y = vec![0f32; batch * op.output_len()];
                let core =
                    budget.seconds_per_call(|| measure_batch(&op, &x, 7, &mut y).map(|()| y[0]));

                let dims = [
                    batch as i64,
                    shape.channels as i64,
                    shape.height as i64,
                    shape.width as i64,
                ];
                let xt = Tensor::from_slice(&x).view(dims);
                let full = budget.seconds_per_call(|| {
                    tch::no_grad(|| -> Result<Tensor> {
                        let theta = tch_op.sample_theta(7, batch, Device::Cpu)?;
                        Ok(tch_op.apply(&xt, &theta)?)
                    })
                });
                let theta = tch_op.sample_theta(7, batch, Device::Cpu)?;
                let apply = budget.seconds_per_call(|| tch::no_grad(|| tch_op.apply(&xt, &theta)));
                println!(
                    "| {} | {}×{}×{} | {batch} | {:.0} | {:.0} | {:.0} | {:.1}× |",
                    kind.name(),
                    shape.channels,
                    shape.height,
                    shape.width,
                    batch as f64 / core,
                    batch as f64 / full,
                    batch as f64 / apply,
                    full / core,
                );
            }
        }
    }
    Ok(())
}
