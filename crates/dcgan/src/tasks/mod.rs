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
//!
//! ```no_run
//! use dcgan::tasks::{Quiet, sample::{self, SampleConfig}};
//! let report = sample::sample(
//!     SampleConfig { checkpoint: "runs/x".into(), out: "grid.png".into(), ..Default::default() },
//!     &mut Quiet,
//! )?;
//! println!("wrote {}", report.grid.display());
//! # Ok::<(), dcgan::Error>(())
//! ```

pub mod bench;
pub mod data;
pub mod eval;
pub mod explore;
pub mod features;
pub mod fid;
pub mod interop;
pub mod sample;
pub mod serve;
pub mod train;
pub mod web;

use std::path::Path;

pub use crate::progress::{Event, Events, Quiet};
use crate::{Error, Result};

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
