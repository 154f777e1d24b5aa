//! Filling per-image rows of θ and index maps on several threads.

use super::MeasureError;

/// Minimum number of values per thread before a second thread is started. Starting a
/// thread costs tens of microseconds, and one θ value or index entry well under one.
const MIN_VALUES_PER_THREAD: usize = 1 << 16;

/// Calls `fill(i, row)` for every row `i` of `out`, `row_len` items each, on as many
/// threads as the work, the machine and libtorch's thread count allow. `values_per_row` is the number of θ values or
/// index entries one row's `fill` writes. Stops at the first error.
pub(super) fn fill_rows<T, F>(
    out: &mut [T],
    row_len: usize,
    values_per_row: usize,
    fill: F,
) -> Result<(), MeasureError>
where
    T: Send,
    F: Fn(usize, &mut [T]) -> Result<(), MeasureError> + Sync,
{
    if row_len == 0 || out.is_empty() {
        return Ok(());
    }
    let rows = out.len() / row_len;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // libtorch's thread count is what `--threads` sets, so jobs started with `--threads 1`
    // side by side do not each spread their θ draws over every core.
    let allowed = usize::try_from(tch::get_num_threads()).map_or(1, |n| n.max(1));
    let work = rows.saturating_mul(values_per_row);
    let threads = cores
        .min(allowed)
        .min(rows)
        .min(work / MIN_VALUES_PER_THREAD)
        .max(1);
    if threads == 1 {
        return fill_sequential(out, row_len, 0, &fill);
    }

    let rows_per_thread = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for (chunk_index, chunk) in out.chunks_mut(rows_per_thread * row_len).enumerate() {
            let first_row = chunk_index * rows_per_thread;
            let fill = &fill;
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                fill_sequential(chunk, row_len, first_row, fill)
            });
            match spawned {
                Ok(handle) => handles.push(handle),
                // The chunk moved into the failed closure, so it cannot be filled here.
                Err(error) => return Err(MeasureError::ThreadSpawn(error)),
            }
        }
        for handle in handles {
            match handle.join() {
                Ok(result) => result?,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        Ok(())
    })
}

fn fill_sequential<T, F>(
    out: &mut [T],
    row_len: usize,
    first_row: usize,
    fill: &F,
) -> Result<(), MeasureError>
where
    F: Fn(usize, &mut [T]) -> Result<(), MeasureError>,
{
    for (i, row) in out.chunks_exact_mut(row_len).enumerate() {
        fill(first_row + i, row)?;
    }
    Ok(())
}
