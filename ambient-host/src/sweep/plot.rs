//! A line plot of score against a measurement's strength, one line per mode, drawn into a
//! PNG with the crate's own canvas and bitmap font. It has a frame with ticks and grid
//! lines, a line and markers per series, error bars for the spread over seeds, and a
//! legend.

use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgb};

use super::canvas::{text_height, text_pixels, Canvas, Colour, Marker, BLACK, GRID_GREY};

/// A point of a series: the strength, the mean score, and the spread (the half-length of
/// the error bar; 0 draws none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Horizontal value.
    pub x: f64,
    /// Vertical value.
    pub y: f64,
    /// Half-length of the error bar.
    pub spread: f64,
}

/// One line of the plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The legend's label.
    pub label: String,
    /// The points; they are joined in order of `x`.
    pub points: Vec<Point>,
}

/// A plot.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// The title above the frame.
    pub title: String,
    /// The horizontal axis's label.
    pub x_label: String,
    /// The vertical axis's label.
    pub y_label: String,
    /// The lowest vertical value shown (the axis starts here unless data is lower).
    pub y_floor: f64,
    /// The vertical axis reaches at least this value.
    pub y_ceiling: f64,
    /// The lines.
    pub series: Vec<Series>,
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 560;
const LEFT: i64 = 80;
const TOP: i64 = 60;
const RIGHT: i64 = 700;
const BOTTOM: i64 = 480;
const SCALE: u32 = 2;

/// Line colours, one per series, repeating after six (a colour-blind-safe-ish palette).
const PALETTE: [Colour; 6] = [
    Rgb([31, 119, 180]),
    Rgb([214, 39, 40]),
    Rgb([44, 160, 44]),
    Rgb([255, 127, 14]),
    Rgb([148, 103, 189]),
    Rgb([140, 86, 75]),
];
const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
];

/// A linear map from data values to pixel positions.
#[derive(Clone, Copy, Debug)]
struct Axis {
    lo: f64,
    hi: f64,
    from: i64,
    to: i64,
}

impl Axis {
    fn pixel(&self, value: f64) -> i64 {
        let t = (value - self.lo) / (self.hi - self.lo);
        (self.from as f64 + t * (self.to - self.from) as f64).round() as i64
    }
}

/// Draws `plot` and returns the PNG bytes.
pub fn render_png(plot: &Plot) -> Result<Vec<u8>, image::ImageError> {
    let (x_axis, x_ticks) = horizontal_axis(plot);
    let (y_axis, y_ticks) = vertical_axis(plot);
    let mut canvas = Canvas::new(WIDTH, HEIGHT);

    draw_frame(&mut canvas, &x_axis, &x_ticks, &y_axis, &y_ticks);
    draw_labels(&mut canvas, plot);
    let count = plot.series.len() as i64;
    for (i, series) in plot.series.iter().enumerate() {
        // Series at the same x are nudged apart so that their error bars stay visible.
        let dodge = (2 * i as i64 - (count - 1)) * 3;
        draw_series(&mut canvas, series, i, dodge, &x_axis, &y_axis);
    }
    draw_legend(&mut canvas, plot);

    let image = canvas.into_image();
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(png)
}

fn horizontal_axis(plot: &Plot) -> (Axis, Vec<f64>) {
    let xs = plot
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x));
    let (lo, hi) = min_max(xs).unwrap_or((0.0, 1.0));
    let (lo, hi) = if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        let pad = 0.05 * (hi - lo);
        (lo - pad, hi + pad)
    };
    let axis = Axis {
        lo,
        hi,
        from: LEFT,
        to: RIGHT,
    };
    (axis, nice_ticks(lo, hi, 6))
}

fn vertical_axis(plot: &Plot) -> (Axis, Vec<f64>) {
    let ends = plot.series.iter().flat_map(|s| {
        s.points
            .iter()
            .flat_map(|p| [p.y - p.spread, p.y + p.spread])
    });
    let (lo, hi) = min_max(ends).unwrap_or((plot.y_floor, plot.y_ceiling));
    let lo = lo.min(plot.y_floor);
    let hi = hi.max(plot.y_ceiling).max(lo + 1e-9);
    let ticks = nice_ticks(lo, hi, 5);
    // The axis ends on ticks when the ticks cover the range.
    let lo = ticks.first().copied().filter(|&t| t <= lo).unwrap_or(lo);
    let hi = ticks.last().copied().filter(|&t| t >= hi).unwrap_or(hi);
    let axis = Axis {
        lo,
        hi,
        from: BOTTOM,
        to: TOP,
    };
    (axis, ticks)
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Returns ticks at a step of 1, 2 or 5 times a power of ten, about `target` of them,
/// covering `lo..=hi` (the first at or below `lo`, the last at or above `hi`).
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    // The tolerance keeps a bound that is a multiple of the step, up to rounding, from
    // adding one more tick beyond it.
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Formats a tick with as many decimals as its step needs.
fn tick_label(value: f64, ticks: &[f64]) -> String {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let text = format!("{value:.decimals$}");
    // "-0.0" reads badly on an axis.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

fn draw_frame(canvas: &mut Canvas, x: &Axis, x_ticks: &[f64], y: &Axis, y_ticks: &[f64]) {
    let h = text_height(SCALE);
    for &t in x_ticks.iter().filter(|&&t| t >= x.lo && t <= x.hi) {
        let px = x.pixel(t);
        canvas.line((px, TOP), (px, BOTTOM), 1, GRID_GREY);
        canvas.line((px, BOTTOM), (px, BOTTOM + 6), 2, BLACK);
        let label = tick_label(t, x_ticks);
        canvas.text(
            px - text_pixels(&label, SCALE) / 2,
            BOTTOM + 12,
            &label,
            SCALE,
            BLACK,
        );
    }
    for &t in y_ticks.iter().filter(|&&t| t >= y.lo && t <= y.hi) {
        let py = y.pixel(t);
        canvas.line((LEFT, py), (RIGHT, py), 1, GRID_GREY);
        canvas.line((LEFT - 6, py), (LEFT, py), 2, BLACK);
        let label = tick_label(t, y_ticks);
        let left = LEFT - 12 - text_pixels(&label, SCALE);
        canvas.text(left, py - h / 2, &label, SCALE, BLACK);
    }
    for (a, b) in [
        ((LEFT, TOP), (RIGHT, TOP)),
        ((RIGHT, TOP), (RIGHT, BOTTOM)),
        ((RIGHT, BOTTOM), (LEFT, BOTTOM)),
        ((LEFT, BOTTOM), (LEFT, TOP)),
    ] {
        canvas.line(a, b, 2, BLACK);
    }
}

fn draw_labels(canvas: &mut Canvas, plot: &Plot) {
    let title_width = text_pixels(&plot.title, SCALE);
    canvas.text(
        (i64::from(WIDTH) - title_width) / 2,
        12,
        &plot.title,
        SCALE,
        BLACK,
    );
    canvas.text(
        LEFT - 40,
        TOP - 8 - text_height(SCALE),
        &plot.y_label,
        SCALE,
        BLACK,
    );
    let x_width = text_pixels(&plot.x_label, SCALE);
    let x_top = BOTTOM + 24 + text_height(SCALE);
    canvas.text(
        (LEFT + RIGHT - x_width) / 2,
        x_top,
        &plot.x_label,
        SCALE,
        BLACK,
    );
}

fn draw_series(canvas: &mut Canvas, series: &Series, index: usize, dodge: i64, x: &Axis, y: &Axis) {
    let colour = PALETTE[index % PALETTE.len()];
    let marker = MARKERS[index % MARKERS.len()];
    let mut points: Vec<Point> = series
        .points
        .iter()
        .copied()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .collect();
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    let at = |p: &Point| (x.pixel(p.x) + dodge, y.pixel(p.y));

    for pair in points.windows(2) {
        canvas.line(at(&pair[0]), at(&pair[1]), 2, colour);
    }
    for p in &points {
        let (px, py) = at(p);
        if p.spread > 0.0 && p.spread.is_finite() {
            let (top, bottom) = (y.pixel(p.y + p.spread), y.pixel(p.y - p.spread));
            canvas.line((px, top), (px, bottom), 2, colour);
            canvas.line((px - 5, top), (px + 5, top), 2, colour);
            canvas.line((px - 5, bottom), (px + 5, bottom), 2, colour);
        }
        canvas.marker(px, py, 5, marker, colour);
    }
}

fn draw_legend(canvas: &mut Canvas, plot: &Plot) {
    let left = RIGHT + 24;
    let row = text_height(SCALE) + 14;
    for (i, series) in plot.series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let marker = MARKERS[i % MARKERS.len()];
        let centre = TOP + 10 + i as i64 * row;
        canvas.line((left, centre), (left + 36, centre), 2, colour);
        canvas.marker(left + 18, centre, 5, marker, colour);
        let top = centre - text_height(SCALE) / 2;
        canvas.text(left + 46, top, &series.label, SCALE, BLACK);
    }
    let note_top = TOP + 10 + plot.series.len() as i64 * row;
    canvas.text(left, note_top, "bars: ± 1 std", SCALE, BLACK);
    canvas.text(left, note_top + row - 6, "over seeds", SCALE, BLACK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let ticks = nice_ticks(0.0, 10.0, 5);
        assert_eq!(ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let ticks = nice_ticks(-0.0475, 0.9975, 6);
        assert!(ticks.first().is_some_and(|&t| t <= -0.0475));
        assert!(ticks.last().is_some_and(|&t| t >= 0.9975));
        assert!((ticks[1] - ticks[0] - 0.2).abs() < 1e-12, "{ticks:?}");
    }

    #[test]
    fn tick_labels_use_the_step_decimals() {
        let ticks = [0.0, 0.2, 0.4];
        assert_eq!(tick_label(0.4, &ticks), "0.4");
        assert_eq!(tick_label(-0.0, &ticks), "0.0");
        assert_eq!(tick_label(4.0, &[0.0, 2.0]), "4");
    }

    #[test]
    fn renders_a_png() {
        let plot = Plot {
            title: "block-pixels".into(),
            x_label: "p".into(),
            y_label: "inception score".into(),
            y_floor: 0.0,
            y_ceiling: 10.0,
            series: vec![Series {
                label: "ambient".into(),
                points: vec![
                    Point {
                        x: 0.0,
                        y: 9.0,
                        spread: 0.2,
                    },
                    Point {
                        x: 0.9,
                        y: 7.5,
                        spread: 0.0,
                    },
                ],
            }],
        };
        let png = render_png(&plot).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let image = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (WIDTH, HEIGHT));
        // The first series' colour appears (its line and markers were drawn).
        assert!(image.pixels().any(|p| *p == PALETTE[0]));
    }
}
