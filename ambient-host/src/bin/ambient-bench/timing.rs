//! Timing loops: each case runs in rounds of at least a minimum duration, and the fastest
//! round's time per call is reported, the usual way to read through the noise of a loaded
//! machine (a slower round is always another process's interference, never a faster code
//! path).

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to time each case.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Rounds per case; the fastest is kept.
    pub rounds: u32,
    /// Minimum wall time of one round.
    pub round: Duration,
}

impl Budget {
    /// Returns the seconds per call of `f`: calls it once to warm up, then in
    /// [`Budget::rounds`] rounds of at least [`Budget::round`] each.
    pub fn seconds_per_call<R>(&self, mut f: impl FnMut() -> R) -> f64 {
        black_box(f());
        let started = Instant::now();
        black_box(f());
        let once = started.elapsed().max(Duration::from_nanos(50));
        let calls = (self.round.as_secs_f64() / once.as_secs_f64())
            .ceil()
            .max(1.0) as u64;

        let mut best = f64::INFINITY;
        for _ in 0..self.rounds.max(1) {
            let started = Instant::now();
            for _ in 0..calls {
                black_box(f());
            }
            best = best.min(started.elapsed().as_secs_f64() / calls as f64);
        }
        best
    }
}
