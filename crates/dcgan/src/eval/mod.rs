//! Evaluation (paper §5) and sample quality:
//! - [`features`]: D's features of every layer, max-pooled to 4×4 (§5.1);
//! - [`svm`], [`protocol`]: the linear L2-SVM and the paper's full-label and few-label protocols;
//! - [`kmeans`]: Coates & Ng's single-layer K-means baseline;
//! - [`inception`], [`fid`]: the FID Inception-v3 network, FID and KID.

pub mod features;
pub mod fid;
pub mod inception;
pub mod kmeans;
pub mod protocol;
pub mod svm;
