//! Typed views of the caller's scratch bytes.

use core::ops::Range;

/// Element types that scratch may be viewed as: plain numbers, valid for every bit pattern.
pub(crate) trait Plain: Copy + Default {}
impl Plain for f32 {}
impl Plain for i8 {}
impl Plain for i16 {}
impl Plain for i32 {}

/// Views `bytes` as a slice of `T`, dropping a tail shorter than one element. Returns an
/// empty slice when `bytes` is not aligned for `T` (callers check the alignment first).
pub(crate) fn cast_mut<T: Plain>(bytes: &mut [u8]) -> &mut [T] {
    // SAFETY: `T` is a plain number type for which every bit pattern is valid, and
    // `align_to_mut` only returns correctly aligned, in-bounds middle slices.
    let (head, body, _) = unsafe { bytes.align_to_mut::<T>() };
    if head.is_empty() {
        body
    } else {
        &mut []
    }
}

/// A buffer split around one exclusively borrowed range, so a layer can read its inputs
/// from other slots while writing its output slot.
pub(crate) struct Split<'b, T> {
    before: &'b [T],
    pub(crate) out: &'b mut [T],
    after: &'b [T],
    out_start: usize,
    out_end: usize,
}

impl<'b, T> Split<'b, T> {
    pub(crate) fn new(buf: &'b mut [T], out: Range<usize>) -> Self {
        let (before, rest) = buf.split_at_mut(out.start);
        let (mid, after) = rest.split_at_mut(out.end - out.start);
        Self {
            before,
            out: mid,
            after,
            out_start: out.start,
            out_end: out.end,
        }
    }

    /// Returns a range that does not overlap the output range.
    pub(crate) fn get(&self, r: Range<usize>) -> &'b [T] {
        if r.end <= self.out_start {
            &self.before[r]
        } else {
            &self.after[r.start - self.out_end..r.end - self.out_end]
        }
    }
}
