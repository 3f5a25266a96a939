//! Training (paper §4): the half-steps, Adam, checkpoints and the loop that ties them to a run
//! directory.

pub mod augment;
pub mod ema;
pub mod evaluate;
pub mod observer;
pub mod run;
pub mod step;

pub use ema::Ema;
pub use evaluate::{Evaluate, Scores};
pub use observer::LogRecord;
pub use run::{Summary, conditional_classes, resume, train};
pub use step::{Gan, StepInput, StepStats};
