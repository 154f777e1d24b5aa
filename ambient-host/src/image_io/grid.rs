//! PNG grids of image batches.

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use tch::{Device, Kind, Tensor};

use super::ImageIoError;

/// The grey level (of 255) of the 2-pixel border between grid cells; mid-grey, so that
/// black dropped pixels and white kept ones both stand out from it.
pub const GRID_BORDER: u8 = 128;

const GAP: usize = 2;

/// Encodes a batch `[N, C, H, W]` as a PNG grid with `columns` images per row.
///
/// Values are clamped to `[0, 1]` (the MNIST model range) and mapped to 0-255. One channel
/// gives a greyscale PNG, three an RGB one; other channel counts show channel 0.
pub fn grid_png(images: &Tensor, columns: usize) -> Result<Vec<u8>, ImageIoError> {
    let size = images.size();
    let &[count, channels, height, width] = size.as_slice() else {
        return Err(ImageIoError::Shape {
            shape: size,
            reason: "a grid needs [N, C, H, W]",
        });
    };
    if count < 1 || channels < 1 || height < 1 || width < 1 || columns == 0 {
        return Err(ImageIoError::Shape {
            shape: size,
            reason: "a grid needs at least one image of at least one pixel",
        });
    }
    let planes = if channels == 3 { 3 } else { 1 };
    let bytes = to_bytes(&images.f_narrow(1, 0, planes)?)?;

    let (count, height, width) = (count as usize, height as usize, width as usize);
    let planes = planes as usize;
    let columns = columns.min(count);
    let rows = count.div_ceil(columns);
    let grid_w = GAP + columns * (width + GAP);
    let grid_h = GAP + rows * (height + GAP);
    let mut grid = vec![GRID_BORDER; grid_w * grid_h * planes];
    for n in 0..count {
        let (top, left) = (
            GAP + (n / columns) * (height + GAP),
            GAP + (n % columns) * (width + GAP),
        );
        for c in 0..planes {
            for y in 0..height {
                for x in 0..width {
                    let src = ((n * planes + c) * height + y) * width + x;
                    let dst = ((top + y) * grid_w + left + x) * planes + c;
                    grid[dst] = bytes[src];
                }
            }
        }
    }
    encode(&grid, grid_w as u32, grid_h as u32, planes)
}

fn to_bytes(images: &Tensor) -> Result<Vec<u8>, ImageIoError> {
    let bytes = images
        .f_detach()?
        .f_to_device(Device::Cpu)?
        .f_clamp(0.0, 1.0)?
        .f_mul_scalar(255.0)?
        .f_round()?
        .f_to_kind(Kind::Uint8)?
        .f_contiguous()?
        .f_flatten(0, -1)?;
    Ok(Vec::<u8>::try_from(&bytes)?)
}

fn encode(pixels: &[u8], width: u32, height: u32, planes: usize) -> Result<Vec<u8>, ImageIoError> {
    let color = if planes == 3 {
        ExtendedColorType::Rgb8
    } else {
        ExtendedColorType::L8
    };
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(pixels, width, height, color)?;
    Ok(out)
}
