//! Every command of the `dcgan` tool as a library task, in one shape:
//!
//! 1. a typed config (`XConfig`) whose `Default` holds the defaults, each with its reason;
//! 2. `XConfig::validate()`, which names the bad field and value before anything runs;
//! 3. `run(config, events)`, which does the work and reports progress through [`Event`]s;
//! 4. a serialisable report (`XReport`): what was computed and written, printed by `--json`.
//!
//! A front end (the CLI, a notebook binding, a test) fills the config, calls `run` and renders
//! the events and the report; it holds no pipeline of its own. Outside inputs (environment
//! variables, download mirrors, weight locations) are fields of the configs, resolved by the
//! front end, so a task's inputs are all in its config and its report.

pub mod bench;
pub mod data;
pub mod eval;
pub mod explore;
pub mod features;
pub mod fid;
pub mod interop;
pub mod sample;
pub mod train;

use std::path::Path;

use serde::Serialize;

use crate::train::{LogRecord, RunInfo};
use crate::{Error, Result};

/// What a running task tells its front end.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A pass over `total` units (images, batches) starts; `what` names them.
    Begin { what: String, total: u64 },
    /// `done` of the current pass's `total` units are done.
    Progress { done: u64, total: u64 },
    /// The current pass ended.
    End,
    /// Training starts or resumes: the data, the first and the last step.
    TrainStart {
        data: String,
        steps_per_epoch: u64,
        first_step: u64,
        last_step: u64,
    },
    /// One training step, as written to `log.jsonl`.
    TrainStep(LogRecord),
    /// A notable fact on the way (a phase's result, a file written): for a log, not a warning.
    Info(String),
    /// Something went wrong that the task survived (an unreadable image skipped).
    Warning(String),
}

/// Receives a task's events. Closures `FnMut(Event)` are receivers.
pub trait Events {
    fn emit(&mut self, event: Event);
}

impl<F: FnMut(Event)> Events for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// Ignores every event.
pub struct Quiet;

impl Events for Quiet {
    fn emit(&mut self, _event: Event) {}
}

/// The `(done, total)` callback the library's passes take, as `Begin`/`Progress`/`End` events.
pub(crate) fn pass<'a>(events: &'a mut dyn Events, what: &str) -> impl FnMut(usize, usize) + 'a {
    let what = what.to_string();
    let mut begun = false;
    move |done, total| {
        if !begun {
            events.emit(Event::Begin {
                what: what.clone(),
                total: total as u64,
            });
            begun = true;
        }
        events.emit(Event::Progress {
            done: done as u64,
            total: total as u64,
        });
        if done >= total {
            events.emit(Event::End);
            begun = false;
        }
    }
}

/// The training loop's observer, as events.
pub(crate) struct TrainEvents<'a>(pub &'a mut dyn Events);

impl crate::train::Observer for TrainEvents<'_> {
    fn start(&mut self, info: &RunInfo) {
        self.0.emit(Event::TrainStart {
            data: info.data.clone(),
            steps_per_epoch: info.steps_per_epoch,
            first_step: info.first_step,
            last_step: info.last_step,
        });
    }
    fn step(&mut self, record: &LogRecord) {
        self.0.emit(Event::TrainStep(record.clone()));
    }
    fn message(&mut self, text: &str) {
        if text.starts_with("skipped") {
            self.0.emit(Event::Warning(text.to_string()));
        } else {
            self.0.emit(Event::Info(text.to_string()));
        }
    }
}

/// `value` ≥ 1, or an error naming `name`.
pub(crate) fn at_least_one(name: &'static str, value: usize) -> Result<()> {
    at_least(name, value, 1)
}

/// `value` ≥ `min`, or an error naming `name`.
pub(crate) fn at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(Error::config(
            name,
            value,
            format!("must be at least {min}"),
        ));
    }
    Ok(())
}

/// `value` ≤ `max`, or an error naming `name` (guards allocations sized by a user's number).
pub(crate) fn at_most(name: &'static str, value: usize, max: usize, why: &str) -> Result<()> {
    if value > max {
        return Err(Error::config(
            name,
            value,
            format!("must be at most {max} ({why})"),
        ));
    }
    Ok(())
}

/// A finite number in `[min, max]`, or an error naming `name`.
pub(crate) fn in_range(name: &'static str, value: f64, min: f64, max: f64) -> Result<()> {
    if !(value.is_finite() && value >= min && value <= max) {
        return Err(Error::config(
            name,
            value,
            format!("must be a finite number in [{min}, {max}]"),
        ));
    }
    Ok(())
}

/// Create `dir` (and its parents).
pub(crate) fn make_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Create the folder a file will be written into.
pub(crate) fn make_parent(file: &Path) -> Result<()> {
    match file.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => make_dir(dir),
        None => Ok(()),
    }
}

/// Most images a task renders or reads in one go: bounded so that a mistyped count fails with a
/// message instead of an allocation the machine cannot make.
pub const MAX_IMAGES: usize = 1_000_000;
