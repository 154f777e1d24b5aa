//! Drawing on an RGB image: thick lines, rectangles, markers and bitmap text. Everything is
//! clipped to the image, so callers may draw partly outside it.

use image::{Rgb, RgbImage};

use super::font::{pixel, text_width, ADVANCE, BODY_HEIGHT, GLYPH_HEIGHT, GLYPH_WIDTH};

/// A colour.
pub type Colour = Rgb<u8>;

/// Black.
pub const BLACK: Colour = Rgb([0, 0, 0]);
/// Light grey for grid lines.
pub const GRID_GREY: Colour = Rgb([225, 225, 225]);

/// The shape of a data marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// A filled disc.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond.
    Diamond,
}

/// An image being drawn on.
#[derive(Debug)]
pub struct Canvas {
    image: RgbImage,
}

impl Canvas {
    /// Creates a white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            image: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
        }
    }

    /// Returns the drawn image.
    pub fn into_image(self) -> RgbImage {
        self.image
    }

    /// Sets one pixel, ignoring positions outside the image.
    pub fn put(&mut self, x: i64, y: i64, colour: Colour) {
        let inside =
            x >= 0 && y >= 0 && x < self.image.width().into() && y < self.image.height().into();
        if inside {
            self.image.put_pixel(x as u32, y as u32, colour);
        }
    }

    /// Fills the rectangle with corners (`x0`, `y0`) and (`x1`, `y1`), both included.
    pub fn fill_rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: Colour) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.put(x, y, colour);
            }
        }
    }

    /// Draws a line `width` pixels thick (Bresenham's algorithm, each point a square).
    pub fn line(&mut self, from: (i64, i64), to: (i64, i64), width: i64, colour: Colour) {
        let (mut x, mut y) = from;
        let (dx, dy) = ((to.0 - x).abs(), -(to.1 - y).abs());
        let (sx, sy) = (if x < to.0 { 1 } else { -1 }, if y < to.1 { 1 } else { -1 });
        let (low, high) = (-(width - 1) / 2, width / 2);
        let mut error = dx + dy;
        loop {
            self.fill_rect(x + low, y + low, x + high, y + high, colour);
            if (x, y) == to {
                break;
            }
            let doubled = 2 * error;
            if doubled >= dy {
                error += dy;
                x += sx;
            }
            if doubled <= dx {
                error += dx;
                y += sy;
            }
        }
    }

    /// Draws a marker of half-size `r` centred on (`x`, `y`).
    pub fn marker(&mut self, x: i64, y: i64, r: i64, shape: Marker, colour: Colour) {
        for dy in -r..=r {
            for dx in -r..=r {
                let inside = match shape {
                    Marker::Circle => dx * dx + dy * dy <= r * r,
                    Marker::Square => true,
                    Marker::Diamond => dx.abs() + dy.abs() <= r,
                    // Rows widen from the apex (dy = -r) to the base (dy = r).
                    Marker::Triangle => 2 * dx.abs() <= dy + r,
                };
                if inside {
                    self.put(x + dx, y + dy, colour);
                }
            }
        }
    }

    /// Draws `text` with its top-left corner at (`x`, `y`), each font pixel a square of
    /// `scale` image pixels.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: u32, colour: Colour) {
        let s = i64::from(scale);
        for (i, c) in text.chars().enumerate() {
            let left = x + (i as i64) * i64::from(ADVANCE) * s;
            for row in 0..GLYPH_HEIGHT {
                for column in 0..GLYPH_WIDTH {
                    if pixel(c, column, row) {
                        let (px, py) = (left + i64::from(column) * s, y + i64::from(row) * s);
                        self.fill_rect(px, py, px + s - 1, py + s - 1, colour);
                    }
                }
            }
        }
    }
}

/// Returns the width in image pixels of `text` at `scale`.
pub fn text_pixels(text: &str, scale: u32) -> i64 {
    i64::from(text_width(text) * scale)
}

/// Returns the height in image pixels of text at `scale` above its baseline. The
/// descenders of g, j, p, q and y reach below it.
pub fn text_height(scale: u32) -> i64 {
    i64::from(BODY_HEIGHT * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_covers_both_ends() {
        let mut canvas = Canvas::new(10, 10);
        canvas.line((1, 1), (8, 5), 1, BLACK);
        let image = canvas.into_image();
        assert_eq!(*image.get_pixel(1, 1), BLACK);
        assert_eq!(*image.get_pixel(8, 5), BLACK);
        assert_ne!(*image.get_pixel(8, 1), BLACK);
    }

    #[test]
    fn drawing_outside_is_clipped() {
        let mut canvas = Canvas::new(4, 4);
        canvas.line((-10, -10), (20, 20), 3, BLACK);
        canvas.marker(-1, 2, 3, Marker::Circle, BLACK);
        canvas.text(2, 2, "wide text", 2, BLACK);
        let image = canvas.into_image();
        assert_eq!(*image.get_pixel(3, 3), BLACK);
    }

    #[test]
    fn triangle_is_wider_at_the_base() {
        let mut canvas = Canvas::new(9, 9);
        canvas.marker(4, 4, 4, Marker::Triangle, BLACK);
        let image = canvas.into_image();
        let row_width = |y| (0..9).filter(|&x| *image.get_pixel(x, y) == BLACK).count();
        assert_eq!(row_width(0), 1);
        assert_eq!(row_width(8), 9);
    }
}
