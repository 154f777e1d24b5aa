//! Median-filter repair for dropped pixels.
//!
//! Every pixel becomes the median of the kept clean values `y/θ` in the 3×3 window around
//! it, channel by channel. Two choices differ from the reference code's `medfilt`:
//!
//! - It filters each channel on its own. The reference passes the `[H, W, C]` array to
//!   SciPy's `medfilt` with the default size 3, which also takes the median across
//!   neighbouring channels (and so mixes R, G and B).
//! - Dropped pixels are left out of the median instead of counting as zeros, and the kept
//!   values are divided by their scale `1/(1-p)`. Counting zeros makes the median 0
//!   wherever more than half of a window was dropped, which is most windows for p ≥ 0.5.
//!
//! A window with no kept value grows to 5×5, 7×7 and so on until it contains one. Only a
//! channel with no kept value at all comes back as zeros. The reference scripts never run
//! this repair, so it has no figure to match.

use ambient_core::Shape;

use super::batch::{check_theta, known_value, map_masked_planes, Layout};
use super::UnmeasureError;

/// Repairs a batch of masked measurements (`y = θ ⊙ x`, `θ = 0` where dropped) with a
/// 3×3 median of the kept values, as the module documentation describes.
pub fn median(y: &[f32], theta: &[f32], shape: Shape) -> Result<Vec<f32>, UnmeasureError> {
    let layout = Layout::new(shape, y.len())?;
    check_theta(y, theta)?;
    Ok(map_masked_planes(
        y,
        theta,
        layout.plane,
        |y, theta, out| median_plane(y, theta, &layout, out),
    ))
}

fn median_plane(y: &[f32], theta: &[f32], layout: &Layout, out: &mut [f32]) {
    let known: Vec<Option<f32>> = y
        .iter()
        .zip(theta)
        .map(|(&y, &t)| known_value(y, t))
        .collect();
    if known.iter().all(Option::is_none) {
        out.fill(0.0);
        return;
    }

    let mut window = Vec::with_capacity(9);
    for row in 0..layout.height {
        for col in 0..layout.width {
            let mut radius = 1;
            loop {
                gather_window(&known, layout, row, col, radius, &mut window);
                if !window.is_empty() {
                    break;
                }
                radius += 1;
            }
            out[row * layout.width + col] = median_of(&mut window);
        }
    }
}

/// Collects the known values within `radius` of (`row`, `col`) that lie in the plane.
fn gather_window(
    known: &[Option<f32>],
    layout: &Layout,
    row: usize,
    col: usize,
    radius: usize,
    window: &mut Vec<f32>,
) {
    window.clear();
    let rows = row.saturating_sub(radius)..(row + radius + 1).min(layout.height);
    for r in rows {
        let cols = col.saturating_sub(radius)..(col + radius + 1).min(layout.width);
        window.extend(cols.filter_map(|c| known[r * layout.width + c]));
    }
}

/// Returns the median of a non-empty list, the mean of the two middle values for an even
/// count.
fn median_of(values: &mut [f32]) -> f32 {
    values.sort_unstable_by(f32::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        0.5 * (values[mid - 1] + values[mid])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_with_holes_stays_constant() {
        // 8×8, p = 0.75 (scale 4), a checkerboard of holes plus a fully dropped 3×3 block,
        // whose centre needs the 5×5 window.
        let mut theta = vec![4.0; 64];
        for (i, t) in theta.iter_mut().enumerate() {
            let (r, c) = (i / 8, i % 8);
            if (r + c) % 2 == 0 || ((2..5).contains(&r) && (2..5).contains(&c)) {
                *t = 0.0;
            }
        }
        let y: Vec<f32> = theta.iter().map(|&t| t * 0.3).collect();
        let out = median(&y, &theta, Shape::new(1, 8, 8)).unwrap();
        for (i, &v) in out.iter().enumerate() {
            assert!((v - 0.3).abs() < 1e-6, "pixel {i}: {v}");
        }
    }

    #[test]
    fn median_rejects_outlier() {
        // A 3×3 plane with every value kept: the centre's window is the whole plane, whose
        // median is 6 although the centre is 100.
        let y = [1.0, 2.0, 3.0, 4.0, 100.0, 6.0, 7.0, 8.0, 9.0];
        let theta = [1.0; 9];
        let out = median(&y, &theta, Shape::new(1, 3, 3)).unwrap();
        assert_eq!(out[4], 6.0);

        // The window of the corner (0, 0) contains 1, 2, 4 and 100: the mean of 2 and 4.
        assert_eq!(out[0], 3.0);
    }

    #[test]
    fn channels_are_filtered_apart() {
        // Channel 0 is all 1, channel 1 all 5: mixing channels would pull values apart.
        let y: Vec<f32> = (0..18).map(|i| if i < 9 { 1.0 } else { 5.0 }).collect();
        let out = median(&y, &[1.0; 18], Shape::new(2, 3, 3)).unwrap();
        assert!(out[..9].iter().all(|&v| v == 1.0));
        assert!(out[9..].iter().all(|&v| v == 5.0));
    }

    #[test]
    fn empty_channel_becomes_zero() {
        let out = median(&[0.0; 4], &[0.0; 4], Shape::new(1, 2, 2)).unwrap();
        assert_eq!(out, [0.0; 4]);
    }
}
