//! Measurement cases for the C program `measure`: the case file it reads, and the values
//! `ambient-core` computes for each case, which its output must match bit for bit.

use std::collections::HashMap;
use std::fmt::Write as _;

use ambient::status::AmbientStatus;
use ambient_core::measure::{
    measure_batch, Interpolation, MeasureError, Measurement, MeasurementKind, MeasurementParams,
    Operator,
};
use ambient_core::Shape;

/// One measurement call of the C program.
pub struct Case {
    /// A unique name without spaces.
    pub name: String,
    /// The kind code, which may be one the core does not know.
    pub kind: u8,
    /// The parameters.
    pub params: MeasurementParams,
    /// The image shape.
    pub shape: Shape,
    /// The seed of the single-image call and of the batch.
    pub seed: u64,
    /// The number of images in the batch call.
    pub batch: usize,
}

impl Case {
    fn new(name: &str, kind: u8, shape: Shape, edit: impl FnOnce(&mut MeasurementParams)) -> Self {
        let mut params = MeasurementParams::default();
        edit(&mut params);
        Case {
            name: name.to_string(),
            kind,
            params,
            shape,
            seed: 0x5eed_0000 + u64::from(kind),
            batch: 3,
        }
    }

    /// Returns the case as a line of the case file (the format is in `tests/c/measure.c`).
    pub fn line(&self) -> String {
        let p = &self.params;
        let interpolation = match p.interpolation {
            Interpolation::Nearest => 0,
            _ => 1,
        };
        let mut line = String::new();
        write!(
            line,
            "{} {} {:x} {} {} {} {} {:x} {:x} {} {} {} {} {} {} {} {} {} {}",
            self.name,
            self.kind,
            p.p.to_bits(),
            u8::from(p.rescale),
            u8::from(p.per_channel),
            p.patch,
            p.kernel_size,
            p.sigma.to_bits(),
            p.noise_std.to_bits(),
            u8::from(p.pad.is_none()),
            p.pad.unwrap_or(0),
            p.angles,
            interpolation,
            p.projections,
            self.shape.channels,
            self.shape.height,
            self.shape.width,
            self.seed,
            self.batch,
        )
        .unwrap();
        line
    }
}

/// Returns every case: each kind with its defaults on a gray and a colour image, some
/// non-default parameters, and parameters the library must reject.
pub fn all() -> Vec<Case> {
    let gray = Shape::new(1, 28, 28);
    let colour = Shape::new(3, 16, 12);
    let mut cases = Vec::new();
    for kind in MeasurementKind::ALL {
        let code = kind as u8;
        cases.push(Case::new(
            &format!("{}-gray", kind.name()),
            code,
            gray,
            |_| {},
        ));
        cases.push(Case::new(
            &format!("{}-colour", kind.name()),
            code,
            colour,
            |p| p.patch = 6,
        ));
    }
    let code = |kind: MeasurementKind| kind as u8;
    cases.extend([
        Case::new(
            "block-pixels-shared-mask",
            code(MeasurementKind::BlockPixels),
            colour,
            |p| {
                p.p = 0.5;
                p.rescale = false;
                p.per_channel = false;
            },
        ),
        Case::new(
            "drop-row-col-light",
            code(MeasurementKind::DropRowCol),
            gray,
            |p| p.p = 0.3,
        ),
        Case::new(
            "convolve-wide",
            code(MeasurementKind::ConvolveNoise),
            colour,
            |p| {
                p.kernel_size = 7;
                p.sigma = 2.0;
                p.noise_std = 0.0;
            },
        ),
        Case::new(
            "rotate-bilinear",
            code(MeasurementKind::PadRotateProject),
            gray,
            |p| {
                p.interpolation = Interpolation::Bilinear;
                p.angles = 3;
                p.pad = Some(2);
            },
        ),
        Case::new(
            "projection-small",
            code(MeasurementKind::GaussianProjection),
            colour,
            |p| p.projections = 10,
        ),
        Case::new("invalid-p", code(MeasurementKind::BlockPixels), gray, |p| {
            p.p = 1.0
        }),
        Case::new(
            "invalid-patch",
            code(MeasurementKind::ExtractPatch),
            gray,
            |p| p.patch = 0,
        ),
        Case::new(
            "invalid-shape",
            code(MeasurementKind::DropCol),
            Shape::new(1, 0, 4),
            |_| {},
        ),
        Case::new("unknown-kind-0", 0, gray, |_| {}),
        Case::new("unknown-kind-12", 12, gray, |_| {}),
    ]);
    cases
}

/// Returns `len` values of the test image formula that `fill_image` in `tests/c/util.c`
/// uses: `((i * 37 + 11) % 101) / 100`, exact in `f32` on both sides.
pub fn image(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 37 + 11) % 101) as f32 / 100.0)
        .collect()
}

/// What the C program must print for one case.
pub struct Expected {
    /// The status code of `ambient_measurement_init`.
    pub init: i32,
    /// The input, output and θ lengths; `None` when the init must fail.
    pub lens: Option<[usize; 3]>,
    /// `y`, θ and the batch output, as f32 bits (empty when the init must fail).
    pub values: [(&'static str, Vec<u32>); 3],
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Computes what `ambient-core` gives for `case`.
pub fn expected(case: &Case) -> Expected {
    let op = MeasurementKind::from_code(case.kind)
        .and_then(|kind| Operator::new(kind, case.shape, &case.params));
    let op = match op {
        Ok(op) => op,
        Err(e) => return failed(e),
    };
    let n_in = case.shape.checked_len().unwrap();
    let x = image(n_in);
    let mut y = vec![0.0; op.output_len()];
    op.measure(&x, case.seed, &mut y).unwrap();
    let mut theta = vec![0.0; op.theta_len()];
    op.theta(case.seed, &mut theta).unwrap();
    let xs = image(case.batch * n_in);
    let mut ys = vec![0.0; case.batch * op.output_len()];
    measure_batch(&op, &xs, case.seed, &mut ys).unwrap();
    Expected {
        init: 0,
        lens: Some([n_in, op.output_len(), op.theta_len()]),
        values: [
            ("y", bits(&y)),
            ("theta", bits(&theta)),
            ("batch", bits(&ys)),
        ],
    }
}

fn failed(error: MeasureError) -> Expected {
    Expected {
        init: AmbientStatus::from(error) as i32,
        lens: None,
        values: [
            ("y", Vec::new()),
            ("theta", Vec::new()),
            ("batch", Vec::new()),
        ],
    }
}

/// The C program's output, by case name and line kind (`init`, `lens`, `y`, ...).
pub struct Printed(HashMap<(String, String), Vec<String>>);

impl Printed {
    /// Parses the lines `name what fields...` of the program's output.
    pub fn parse(stdout: &str) -> Self {
        let mut lines = HashMap::new();
        for line in stdout.lines() {
            let mut fields = line.split_whitespace().map(str::to_string);
            if let (Some(name), Some(what)) = (fields.next(), fields.next()) {
                lines.insert((name, what), fields.collect());
            }
        }
        Printed(lines)
    }

    /// Returns the fields of line `what` of `case`, failing when it was not printed.
    pub fn fields(&self, case: &str, what: &str) -> &[String] {
        self.0
            .get(&(case.to_string(), what.to_string()))
            .unwrap_or_else(|| panic!("the C program printed no `{what}` line for {case}"))
    }

    /// Returns whether line `what` of `case` was printed.
    pub fn has(&self, case: &str, what: &str) -> bool {
        self.0.contains_key(&(case.to_string(), what.to_string()))
    }
}

/// Parses printed hexadecimal f32 bits.
pub fn parse_bits(fields: &[String]) -> Vec<u32> {
    fields
        .iter()
        .map(|f| u32::from_str_radix(f, 16).unwrap_or_else(|_| panic!("not hex bits: {f}")))
        .collect()
}
