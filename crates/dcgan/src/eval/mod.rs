//! Evaluation (paper §5) and sample quality:
//! - [`features`]: D's features of every layer, max-pooled to 4×4 (§5.1);
//! - [`svm`], [`protocol`]: the linear L2-SVM and the paper's full-label and few-label protocols;
//! - [`kmeans`]: Coates & Ng's single-layer K-means baseline;
//! - [`inception`], [`fid`]: the FID Inception-v3 network (its input in each FID mode), FID and
//!   KID;
//! - [`prdc`]: precision, recall, density and coverage on the same features;
//! - [`per_class`]: a class-conditional G's per-class FID and classifier accuracy;
//! - [`measure`], [`fid_cache`], [`training`]: a set measured for FID (from statistics, the
//!   cache or images) and two sets scored, as `dcgan fid` and `train --eval-every` both do.

pub mod features;
pub mod fid;
pub mod fid_cache;
pub mod inception;
pub mod kmeans;
pub mod measure;
pub mod per_class;
pub mod prdc;
pub mod protocol;
pub mod svm;
pub mod training;
