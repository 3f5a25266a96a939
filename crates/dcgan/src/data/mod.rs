//! Data: where images come from, how they are prepared, and how batches reach the training step.
//!
//! The modules form layers, each using only those above it in this list:
//! - [`dataset`]: the [`Dataset`] trait, [`Subset`], image decoding with size limits;
//! - [`alpha`]: images with transparency composited over a [`Background`];
//! - [`transform`]: shorter side resized to the model size, centre crop, grey ↔ RGB, pixels to
//!   [−1, 1] (paper §4);
//! - readers: [`source`] (image folders, MNIST-style IDX files, CIFAR-10 binaries), [`lmdb`]
//!   (LSUN's LMDB databases), [`svhn`] (SVHN's MATLAB `.mat` files), [`pixels`] (8-bit images
//!   held in memory, from NumPy);
//! - [`loader`]: batches decoded in parallel on their own threads, ahead of the training step;
//! - [`download`]: named data sets fetched and verified; [`tools`]: info, preview, export;
//! - [`open`](mod@open): a `--data` value to a reader, and a run's data without the items a
//!   de-duplication report ([`crate::dedup`]) excludes.

pub mod alpha;
pub mod dataset;
pub mod download;
pub mod lmdb;
pub mod loader;
pub mod open;
pub mod pixels;
pub mod source;
pub mod svhn;
pub mod tools;
pub mod transform;

pub use alpha::Background;
pub use dataset::{Dataset, Fingerprint, ItemError, Subset, natural_channels};
pub use loader::{Batch, Loader};
pub use open::{Exclusions, open, open_config};
pub use pixels::Pixels;
pub use transform::Transform;
