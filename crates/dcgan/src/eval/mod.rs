//! Evaluation (paper §5): D's features as a representation.

pub mod features;
