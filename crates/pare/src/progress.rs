//! Progress a person can follow: on a terminal, a bar per phase that can take a while
//! (bytes read of the total, probes sent, what the app is being waited for); plain
//! `pare: PHASE…` lines when stderr is not a terminal; nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pare_minify::{Phase, Reporter};

/// How much to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// Bars on a terminal.
    Bars,
    /// A line per phase.
    Lines,
    Nothing,
}

impl Show {
    /// Bars when stderr is a terminal, else lines; nothing when asked to be quiet
    /// (`--quiet`, or a verb whose output would mix with them).
    pub fn choose(quiet: bool) -> Show {
        if quiet {
            Show::Nothing
        } else if std::io::stderr().is_terminal() {
            Show::Bars
        } else {
            Show::Lines
        }
    }
}

/// The build's reporter.
pub struct Terminal {
    show: Show,
    bar: Mutex<Option<(Phase, ProgressBar)>>,
}

impl Terminal {
    pub fn new(show: Show) -> Terminal {
        Terminal {
            show,
            bar: Mutex::new(None),
        }
    }

    fn with_bar(&self, phase: Phase, f: impl FnOnce(&ProgressBar)) {
        if let Some((current, bar)) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && *current == phase
        {
            f(bar);
        }
    }
}

/// A spinner with the phase's name, for a phase whose length is not known yet.
fn spinner(phase: Phase) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:>9} {wide_msg} {elapsed:>4}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(phase.name());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

impl Reporter for Terminal {
    fn phase(&self, phase: Phase) {
        match self.show {
            Show::Nothing => {}
            Show::Lines => say!("pare: {}…", phase.name()),
            Show::Bars => {
                let mut current = self.bar.lock().unwrap_or_else(|p| p.into_inner());
                // The reference runs go on beside `assemble`: their bar gives way.
                if let Some((_, bar)) = current.take() {
                    bar.finish_and_clear();
                }
                *current = Some((phase, spinner(phase)));
            }
        }
    }

    fn note(&self, text: &str) {
        if self.show == Show::Nothing {
            return;
        }
        let guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some((_, bar)) => bar.suspend(|| say!("pare: {text}")),
            None => say!("pare: {text}"),
        }
    }

    fn wait_for_user(&self, prompt: &str) {
        let ask = || {
            say!("pare: {prompt}");
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        };
        let guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some((_, bar)) => bar.suspend(ask),
            None => ask(),
        }
    }

    fn status(&self, phase: Phase, text: &str) {
        self.with_bar(phase, |bar| bar.set_message(text.to_owned()));
    }

    fn advance(&self, phase: Phase, done: u64, total: u64) {
        self.with_bar(phase, |bar| {
            if total > 0 && bar.length() != Some(total) {
                bar.set_length(total);
                let template = if phase == Phase::Read {
                    "  {prefix:>9} [{bar:30}] {bytes}/{total_bytes} {wide_msg} {elapsed:>4}"
                } else {
                    "  {prefix:>9} [{bar:30}] {pos}/{len} {wide_msg} {elapsed:>4}"
                };
                bar.set_style(
                    ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
            }
            bar.set_position(done);
        });
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if let Some((_, bar)) = self.bar.lock().unwrap_or_else(|p| p.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// Reading an image with a bar of the bytes read on a terminal (`pare xray`, `sbom`,
/// `scan` on big images): `options` with a progress callback that feeds it, and the
/// bar, cleared when dropped.
pub fn reading(
    globals: &crate::globals::Globals,
    reference: &pare_image::ImageRef,
    options: pare_image::ReadOptions,
) -> (pare_image::ReadOptions, ReadBar) {
    if Show::choose(globals.quiet) != Show::Bars {
        return (options, ReadBar(None));
    }
    let total = pare_image::expected_read_size(&globals.read, reference);
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("  reading [{bar:30}] {bytes}/{total_bytes} {elapsed:>4}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let fed = bar.clone();
    // The total is the engine's or the store's figure for the layers, which a read
    // can pass (an engine counts its files' bytes, a read the tar stream around
    // them): past it, the bar's end moves with the read instead of showing more
    // than 100%.
    let options = pare_image::ReadOptions {
        progress: Some(std::sync::Arc::new(move |n| {
            fed.inc(n);
            if fed.length().is_some_and(|total| fed.position() > total) {
                fed.set_length(fed.position());
            }
        })),
        ..options
    };
    (options, ReadBar(Some(bar)))
}

/// A read's bar; cleared when dropped.
pub struct ReadBar(Option<ProgressBar>);

impl Drop for ReadBar {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
