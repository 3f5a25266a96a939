//! Renders a task's events and report. On a terminal: a progress bar per pass (with ETA) and
//! the notes above it; on anything else only the data line of a run, notes of tasks other
//! than training, and warnings, so logs stay clean. Reports go to stdout: as text lines, or
//! as JSON with `--json`.

use std::io::IsTerminal;

use dcgan::data::download::Locations;
use dcgan::tasks::{Event, Events};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

pub struct Ui {
    /// Where named data sets and fetched files are.
    pub locations: Locations,
    /// `--background`, when given.
    pub background_arg: Option<dcgan::config::Background>,
    terminal: bool,
    bar: Option<ProgressBar>,
    /// Training is under way: notes (checkpoints written) only on a terminal.
    training: bool,
    /// During training: the newest scores, kept in the bar's message.
    scores: String,
    /// During training: the pass in progress inside a step (an evaluation), shown in the bar's
    /// message instead of a bar of its own.
    inner: Option<String>,
}

fn bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}

impl Ui {
    pub fn new(locations: Locations, background: Option<dcgan::config::Background>) -> Self {
        Self {
            locations,
            background_arg: background,
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            training: false,
            scores: String::new(),
            inner: None,
        }
    }

    /// What images with transparency are composited over: `--background`, else white.
    pub fn background(&self) -> dcgan::config::Background {
        self.background_arg.unwrap_or_default()
    }

    /// A `--data` value with a named data set resolved to its folder (downloaded if need be,
    /// saying so first).
    pub fn data(&mut self, spec: &str) -> dcgan::Result<String> {
        let locations = self.locations.clone();
        dcgan::data::download::resolve(spec, &locations, self)
    }

    fn note(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => crate::errln!("{text}"),
        }
    }

    /// Print the report: as pretty JSON, or as the lines `text` makes of it.
    pub fn report<R: Serialize>(
        &mut self,
        report: &R,
        json: bool,
        text: impl Fn(&R) -> Vec<String>,
    ) {
        self.clear();
        if json {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(report).expect("reports serialise")
            );
        } else {
            for line in text(report) {
                crate::outln!("{line}");
            }
        }
    }

    pub fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Events for Ui {
    fn emit(&mut self, event: Event) {
        match event {
            // A pass inside training (an evaluation's images) is shown in the training bar.
            Event::Begin { what, .. } if self.training => self.inner = Some(what),
            Event::Progress { done, total } if self.training => {
                if let (Some(b), Some(what)) = (&self.bar, &self.inner) {
                    b.set_message(format!("evaluating: {what} {done}/{total}"));
                }
            }
            Event::End if self.training => self.inner = None,
            Event::Begin { what, total } => {
                self.clear();
                if self.terminal {
                    let b =
                        bar("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}, ETA {eta}");
                    b.set_length(total);
                    b.set_message(what);
                    self.bar = Some(b);
                }
            }
            Event::Progress { done, total } => {
                if let Some(b) = &self.bar {
                    b.set_length(total);
                    b.set_position(done);
                }
            }
            Event::End => self.clear(),
            Event::TrainStart {
                data,
                first_step,
                last_step,
                ..
            } => {
                self.clear();
                self.training = true;
                if self.terminal {
                    let b = bar(
                        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} steps, ETA {eta} {msg}",
                    );
                    b.set_length(last_step);
                    b.set_position(first_step);
                    b.reset_eta();
                    self.bar = Some(b);
                }
                self.note(&format!("data: {data}"));
            }
            Event::TrainStep(r) => {
                if let Some(fid) = r.fid {
                    self.scores = format!(
                        " | FID {fid:.1}{} @{}",
                        r.kid.map(|k| format!(" KID {k:.4}")).unwrap_or_default(),
                        r.step
                    );
                }
                if let Some(b) = &self.bar {
                    b.set_position(r.step);
                    b.set_message(format!(
                        "epoch {} | loss D {:.3} G {:.3} | D(x) {:.2} D(G(z)) {:.2} | {:.0} img/s{}",
                        r.epoch + 1,
                        r.loss_d,
                        r.loss_g,
                        r.d_real,
                        r.d_fake,
                        r.images_per_second,
                        self.scores
                    ));
                }
            }
            Event::Info(text) => {
                if self.terminal || !self.training {
                    self.note(&text);
                }
            }
            Event::Warning(text) => {
                if self.terminal {
                    self.note(&text);
                } else {
                    crate::errln!("dcgan: warning: {text}");
                }
            }
        }
    }
}
