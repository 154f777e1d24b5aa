//! Diffusion inpainting for missing regions such as Block-Patch's patch.
//!
//! Each channel's missing pixels are filled with the harmonic (Laplace) interpolant of the
//! known ones, so every missing pixel ends equal to the mean of its 4 neighbours inside the
//! image. Known neighbours act as fixed boundary values, and the image border as a
//! reflecting (zero-flux) boundary. This is the steady state of heat diffusion from the
//! region's boundary. The reference code uses OpenCV's Navier-Stokes inpainting instead,
//! which also continues edges into the hole along isophotes; the harmonic fill is the
//! smooth limit of that idea and has no radius parameter. Unlike the reference, it also
//! works in floating point on the model's range, with no round trip through 8 bits.
//!
//! The linear system is solved by successive over-relaxation, Gauss-Seidel sweeps in
//! raster order with the factor `ω = 2 / (1 + sin(π / (n + 1)))`, optimal for an
//! `n`×`n` square hole, `n` being the longer side of the missing pixels' bounding box. The
//! missing pixels start at the mean of the known ones. Sweeps stop when no pixel moves by
//! more than [`InpaintOptions::tolerance`], or after [`InpaintOptions::max_sweeps`].

use ambient_core::Shape;

use super::batch::{check_theta, check_tolerance, known_value, map_masked_planes, Layout};
use super::UnmeasureError;

/// Settings of the diffusion solver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InpaintOptions {
    /// The sweep limit per channel.
    pub max_sweeps: usize,
    /// Stop when no pixel changes by more than this in one sweep (in the model's units).
    pub tolerance: f64,
}

impl Default for InpaintOptions {
    /// At most 10,000 sweeps, tolerance 1e-7.
    fn default() -> Self {
        Self {
            max_sweeps: 10_000,
            tolerance: 1e-7,
        }
    }
}

/// Repairs a batch of masked measurements (`y = θ ⊙ x`, `θ = 0` where missing) by
/// harmonic inpainting of each channel, as the module documentation describes. A channel
/// with no known pixel comes back as zeros.
pub fn inpaint(
    y: &[f32],
    theta: &[f32],
    shape: Shape,
    options: &InpaintOptions,
) -> Result<Vec<f32>, UnmeasureError> {
    let layout = Layout::new(shape, y.len())?;
    check_theta(y, theta)?;
    check_tolerance("inpainting tolerance", options.tolerance)?;
    Ok(map_masked_planes(
        y,
        theta,
        layout.plane,
        |y, theta, out| {
            let known: Vec<Option<f64>> = y
                .iter()
                .zip(theta)
                .map(|(&y, &t)| known_value(y, t).map(f64::from))
                .collect();
            for (o, v) in out.iter_mut().zip(fill(&known, &layout, options)) {
                *o = v as f32;
            }
        },
    ))
}

/// Solves the Laplace equation on the missing pixels of one plane.
fn fill(known: &[Option<f64>], layout: &Layout, options: &InpaintOptions) -> Vec<f64> {
    let kept: Vec<f64> = known.iter().flatten().copied().collect();
    let start = if kept.is_empty() {
        0.0
    } else {
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    let mut x: Vec<f64> = known.iter().map(|k| k.unwrap_or(start)).collect();
    let missing: Vec<usize> = (0..known.len()).filter(|&i| known[i].is_none()).collect();
    if kept.is_empty() || missing.is_empty() {
        return x;
    }

    let omega = relaxation(&missing, layout);
    let w = layout.width;
    for _ in 0..options.max_sweeps {
        let mut change: f64 = 0.0;
        for &i in &missing {
            let (r, c) = (i / w, i % w);
            let mut sum = 0.0;
            let mut count = 0.0;
            let neighbours = [
                (r > 0).then(|| i - w),
                (r + 1 < layout.height).then(|| i + w),
                (c > 0).then(|| i - 1),
                (c + 1 < w).then(|| i + 1),
            ];
            for j in neighbours.into_iter().flatten() {
                sum += x[j];
                count += 1.0;
            }
            let step = omega * (sum / count - x[i]);
            x[i] += step;
            change = change.max(step.abs());
        }
        if change <= options.tolerance {
            break;
        }
    }
    x
}

/// Returns the over-relaxation factor for the bounding box of the missing pixels.
fn relaxation(missing: &[usize], layout: &Layout) -> f64 {
    let rows = missing.iter().map(|&i| i / layout.width);
    let cols = missing.iter().map(|&i| i % layout.width);
    let height = rows.clone().max().unwrap_or(0) - rows.min().unwrap_or(0) + 1;
    let width = cols.clone().max().unwrap_or(0) - cols.min().unwrap_or(0) + 1;
    let n = height.max(width) as f64;
    2.0 / (1.0 + (std::f64::consts::PI / (n + 1.0)).sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// θ of a `k`×`k` Block-Patch at (`top`, `left`) in a `side`×`side` image.
    fn patch(side: usize, k: usize, top: usize, left: usize) -> Vec<f32> {
        (0..side * side)
            .map(|i| {
                let (r, c) = (i / side, i % side);
                let inside = (top..top + k).contains(&r) && (left..left + k).contains(&c);
                if inside {
                    0.0
                } else {
                    1.0
                }
            })
            .collect()
    }

    #[test]
    fn constant_with_patch_stays_constant() {
        // Patches inside and against the corner (where the border reflects).
        for (top, left) in [(7, 7), (0, 0), (14, 10)] {
            let theta = patch(28, 14, top, left);
            let y: Vec<f32> = theta.iter().map(|&t| t * 0.6).collect();
            let out = inpaint(
                &y,
                &theta,
                Shape::new(1, 28, 28),
                &InpaintOptions::default(),
            )
            .unwrap();
            for (i, &v) in out.iter().enumerate() {
                assert!(
                    (v - 0.6).abs() < 1e-6,
                    "patch ({top}, {left}), pixel {i}: {v}"
                );
            }
        }
    }

    #[test]
    fn linear_ramp_is_restored() {
        // A plane a·row + b·col + c is discrete-harmonic, so a hole away from the border is
        // filled exactly, up to the solver's tolerance. The start (the mean) is not the ramp.
        let side = 28;
        let clean: Vec<f32> = (0..side * side)
            .map(|i| 0.02 * (i / side) as f32 - 0.015 * (i % side) as f32 + 0.3)
            .collect();
        let theta = patch(side, 14, 5, 9);
        let y: Vec<f32> = clean.iter().zip(&theta).map(|(x, t)| x * t).collect();
        let out = inpaint(
            &y,
            &theta,
            Shape::new(1, side, side),
            &InpaintOptions::default(),
        )
        .unwrap();
        for (i, (&v, &x)) in out.iter().zip(&clean).enumerate() {
            assert!((v - x).abs() < 1e-4, "pixel {i}: {v}, clean {x}");
        }
    }

    #[test]
    fn filled_pixels_are_neighbour_means() {
        // One missing pixel between 1, 2, 3 and 6 takes their mean, 3.
        let y = [0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 6.0, 0.0];
        let theta = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let out = inpaint(&y, &theta, Shape::new(1, 3, 3), &InpaintOptions::default()).unwrap();
        assert!((out[4] - 3.0).abs() < 1e-6, "{}", out[4]);
        assert_eq!(out[1], 1.0);
    }

    #[test]
    fn rescaled_kept_values_are_unscaled() {
        // Block-Pixels θ with scale 4: the known values are y / 4.
        let theta = [4.0, 0.0, 4.0, 4.0];
        let y = [2.0, 0.0, 2.0, 2.0];
        let out = inpaint(&y, &theta, Shape::new(1, 2, 2), &InpaintOptions::default()).unwrap();
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-6), "{out:?}");
    }
}
