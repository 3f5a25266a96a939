//! Data: where images come from, how they are prepared, and how batches reach the training step.
//!
//! - [`source`]: image folders (recursive, class sub-folders give labels as torchvision's
//!   ImageFolder does), MNIST-style IDX files (plain or gzip), CIFAR-10 binary batches.
//! - [`lmdb`]: LSUN's LMDB databases.
//! - [`svhn`]: SVHN's MATLAB `.mat` files.
//! - [`transform`]: shorter side resized to the model size, centre crop, grey ↔ RGB, pixels to
//!   [−1, 1] (paper §4).
//! - [`loader`]: batches decoded in parallel on their own threads, ahead of the training step.

pub mod dedup;
pub mod download;
pub mod lmdb;
pub mod loader;
pub mod source;
pub mod svhn;
pub mod tools;
pub mod transform;

pub use loader::{Batch, Loader};
pub use source::{Dataset, ItemError, Subset, natural_channels, open, open_config};
pub use transform::Transform;
