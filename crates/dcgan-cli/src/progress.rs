//! Renders the library's progress reports: a progress bar with ETA on a terminal; on anything
//! else only warnings, so logs stay clean.

use std::io::IsTerminal;

use dcgan::train::{LogRecord, Observer, RunInfo};
use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps, ETA {eta} {msg}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            bar
        });
        Self { bar }
    }
}

impl Observer for Progress {
    fn start(&mut self, info: &RunInfo) {
        match &self.bar {
            Some(bar) => {
                bar.println(format!("data: {}", info.data));
                bar.set_length(info.last_step);
                bar.set_position(info.first_step);
                bar.reset_eta();
            }
            None => eprintln!("data: {}", info.data),
        }
    }

    fn step(&mut self, r: &LogRecord) {
        if let Some(bar) = &self.bar {
            bar.set_position(r.step);
            bar.set_message(format!(
                "epoch {} | loss D {:.3} G {:.3} | D(x) {:.2} D(G(z)) {:.2} | {:.0} img/s",
                r.epoch + 1,
                r.loss_d,
                r.loss_g,
                r.d_real,
                r.d_fake,
                r.images_per_second
            ));
        }
    }

    fn message(&mut self, text: &str) {
        let warning = text.starts_with("skipped");
        match &self.bar {
            Some(bar) => bar.println(text),
            None if warning => eprintln!("dcgan: warning: {text}"),
            None => {}
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A bar for a pass over `what` (features, FID images) on a terminal; nothing otherwise.
/// Returns the callback the library's passes take: `(done, total)`.
pub fn counter(what: &str) -> impl FnMut(usize, usize) {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}, ETA {eta}",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    });
    move |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done >= total {
                bar.finish_and_clear();
            }
        }
    }
}
