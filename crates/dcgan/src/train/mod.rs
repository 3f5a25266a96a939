//! Training (paper §4).

pub mod adam;
pub mod step;

pub use adam::Adam;
pub use step::{Gan, StepStats};
