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
pub mod generate;
pub mod interop;
pub mod sample;
pub mod train;
pub mod web;

use std::path::Path;

pub use crate::config::MAX_IMAGES;
pub(crate) use crate::config::{at_least, at_least_one, at_most, in_range};
pub use crate::progress::{Event, Events, Quiet};
use crate::{Error, Result};

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
