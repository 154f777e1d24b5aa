//! Every measurement operator at batch 1 through `measure_batch` (θ drawn on the fly), on
//! one 1×28×28 and one 3×64×64 image with the default parameters. `ambient-bench` compares
//! the same cases with tch. This bench needs no libtorch, so a profile of it contains only
//! the core: `cargo bench -p ambient-core --bench measure -- --profile-time 5 NAME`.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items.

use ambient_core::measure::Measurement;
use ambient_core::measure::{measure_batch, MeasurementKind, MeasurementParams, Operator};
use ambient_core::Shape;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn bench_operators(c: &mut Criterion) {
    let params = MeasurementParams::default();
    let mut group = c.benchmark_group("measure_batch_1");
    for kind in MeasurementKind::ALL {
        for shape in [Shape::new(1, 28, 28), Shape::new(3, 64, 64)] {
            let op = Operator::new(kind, shape, &params).expect("default parameters");
            let n = shape.channels * shape.height * shape.width;
            let x: Vec<f32> = (0..n).map(|i| (i % 255) as f32 / 255.0).collect();
            let mut y = vec![0f32; op.output_len()];
            let label = format!("{}x{}x{}", shape.channels, shape.height, shape.width);
            group.throughput(Throughput::Elements(1));
            group.bench_with_input(BenchmarkId::new(kind.name(), label), &x, |b, x| {
                b.iter(|| measure_batch(&op, x, 7, &mut y).expect("measure"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_operators);
criterion_main!(benches);
