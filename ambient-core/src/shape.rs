//! Image shapes.

/// The shape of one image, `[channels, height, width]`, stored channel-major (all of
/// channel 0 row by row, then channel 1, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Number of channels (1 for MNIST, 3 for colour).
    pub channels: usize,
    /// Number of rows.
    pub height: usize,
    /// Number of columns.
    pub width: usize,
}

impl Shape {
    /// Creates a shape from its three extents.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Returns the number of values in one image, or `None` when it overflows `usize`.
    pub fn checked_len(&self) -> Option<usize> {
        self.channels
            .checked_mul(self.height)?
            .checked_mul(self.width)
    }

    /// Returns the number of pixels in one channel, or `None` when it overflows `usize`.
    pub fn checked_plane(&self) -> Option<usize> {
        self.height.checked_mul(self.width)
    }

    /// Returns whether any extent is zero.
    pub fn is_empty(&self) -> bool {
        self.channels == 0 || self.height == 0 || self.width == 0
    }
}
