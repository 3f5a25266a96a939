#![warn(missing_docs)]
//! # dcgan
//!
//! A Rust implementation of *Unsupervised Representation Learning with Deep Convolutional
//! Generative Adversarial Networks* (Radford, Metz & Chintala, ICLR 2016) on burn 0.22.
//!
//! ## Modules, in layers
//!
//! Each module uses only modules on the lines above it: `tests/layout.rs` reads this picture
//! and checks every `crate::` and `super::` reference of the source against it (and that the
//! modules of each folder form no cycle).
//!
//! ```text
//! error                        one error type
//! config                       the configurations, and G's and D's layer plan
//! io rng device latent stats progress kernels
//!                              files; every random draw (rng::Stream); compute devices; latent
//!                              walks; statistics; the event type; the CPU kernels
//! model optim                  G and D by the paper's guidelines (§3); Adam with PyTorch's update
//! data                         dataset trait → readers (folders, IDX, CIFAR, LMDB, SVHN) → loader
//! checkpoint viz dedup web     a run in one file; grids, GIFs, plots; de-duplication (§4.1.1);
//!                              G for the browser (model.json)
//! train                        the half-steps (§4) and the loop over a run directory
//! eval explore sample interop bench
//!                              evaluation (§5); the §6 tools; sampling; PyTorch state dicts; speed
//! tasks                        every command: Config → validate() → run(config, events) → Report
//! ```
//!
//! - [`config`]: the model, optimiser, data and training configuration (saved with every run).
//! - [`kernels`]: this project's CPU kernels (convolutions, BatchNorm with its activation,
//!   tanh, Adam) with their backward passes, through burn's backend-extension point.
//! - [`model`]: the generator and discriminator by the paper's architecture guidelines (§3).
//! - [`optim`], [`checkpoint`], [`train`]: the training recipe (§4): Adam, checkpoints that
//!   resume exactly, one function per GAN half-step.
//! - [`data`]: image folders, MNIST-style IDX files, CIFAR-10 binaries, LSUN's LMDB, SVHN; a
//!   parallel prefetching loader.
//! - [`dedup`]: the paper's de-duplication (§4.1.1) and a near-duplicate search.
//! - [`io`]: safetensors, PyTorch state dicts and TorchScript, `.npy` files, atomic writes.
//! - [`viz`]: sample grids, animated GIFs and loss curves.
//! - [`latent`], [`explore`]: the paper's §6 — latent walks, vector arithmetic, guided
//!   backpropagation on D, "forgetting to draw" objects, nearest training images.
//! - [`eval`], [`stats`]: D's features with linear SVMs, the K-means baseline, FID and KID (§5).
//! - [`bench`](mod@bench): speed and memory measurements, and a per-operation profile of the training step.
//! - [`rng`]: every random draw as a pure function of (seed, stream).
//! - [`progress`]: the one event type every part reports progress through.
//! - [`web`]: `model.json` and G's weights for the browser page, written and read by the same
//!   code.
//! - [`tasks`]: the commands of the `dcgan` tool, as library calls any front end can make.
//!
//! ## Features
//!
//! - `host` (default): everything above. Without it the crate is [`config`], [`error`], [`rng`],
//!   [`model`] on burn's own operations ([`kernels`] routes there), [`io`]'s safetensors and
//!   named tensors, and [`web`]: what `crates/dcgan-web` builds for `wasm32-unknown-unknown`,
//!   with no C code and no threads.
//! - `cuda`, `wgpu`: burn's GPU backends (with `host`).

#[cfg(feature = "host")]
pub mod bench;
#[cfg(feature = "host")]
pub mod checkpoint;
pub mod config;
#[cfg(feature = "host")]
pub mod data;
#[cfg(feature = "host")]
pub mod dedup;
#[cfg(feature = "host")]
pub mod device;
pub mod error;
#[cfg(feature = "host")]
pub mod eval;
#[cfg(feature = "host")]
pub mod explore;
#[cfg(feature = "host")]
pub mod interop;
pub mod io;
pub mod kernels;
#[cfg(feature = "host")]
pub mod latent;
pub mod model;
#[cfg(feature = "host")]
pub mod optim;
#[cfg(feature = "host")]
pub mod progress;
pub mod rng;
#[cfg(feature = "host")]
pub mod sample;
#[cfg(feature = "host")]
pub mod stats;
#[cfg(feature = "host")]
pub mod tasks;
#[cfg(feature = "host")]
pub mod train;
#[cfg(feature = "host")]
pub mod viz;
pub mod web;

pub use error::{Error, Result};
