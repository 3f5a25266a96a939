//! Evaluation (paper §5): D's features as a representation.

pub mod features;
pub mod fid;
pub mod inception;
pub mod kmeans;
pub mod protocol;
pub mod svm;
