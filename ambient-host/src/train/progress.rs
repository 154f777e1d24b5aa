//! Progress on stderr: a bar with the step rate and the losses on a terminal, plain log
//! lines every few steps otherwise (CI logs, files, pipes).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressKind {
    /// A bar when stderr is a terminal, log lines otherwise.
    Auto,
    /// Log lines only.
    Lines,
    /// Nothing.
    Quiet,
}

/// The progress of one run.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: bool,
    log_every: u64,
    total: u64,
    first_step: u64,
    started: Instant,
}

impl Progress {
    /// Starts showing progress from `done` completed steps of `total`.
    pub fn start(kind: ProgressKind, done: u64, total: u64, log_every: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (kind == ProgressKind::Auto && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} {per_sec} eta {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_position(done);
            bar.reset_eta();
            bar
        });
        Self {
            lines: kind == ProgressKind::Lines || (kind == ProgressKind::Auto && !terminal),
            bar,
            log_every: log_every.max(1),
            total,
            first_step: done,
            started: Instant::now(),
        }
    }

    /// Reports step `step` with a short summary of its losses.
    pub fn step(&mut self, step: u64, summary: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
            if step % 10 == 0 || step == self.total {
                bar.set_message(summary());
            }
        } else if self.lines && (step % self.log_every == 0 || step == self.total) {
            let elapsed = self.started.elapsed().as_secs_f64();
            let rate = (step - self.first_step) as f64 / elapsed.max(1e-9);
            eprintln!(
                "step {step}/{total} {summary} {rate:.1} steps/s",
                total = self.total,
                summary = summary()
            );
        }
    }

    /// Prints a message without breaking the bar.
    pub fn message(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None if self.lines => eprintln!("{text}"),
            None => {}
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
