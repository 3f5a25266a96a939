//! # dcgan
//!
//! A Rust implementation of *Unsupervised Representation Learning with Deep Convolutional
//! Generative Adversarial Networks* (Radford, Metz & Chintala, ICLR 2016) on burn 0.22.
//!
//! ## Modules, in layers
//!
//! Each module uses only modules on the lines above it; `tests/layout.rs` checks that the graph
//! of `crate::` and `super::` references has no cycle.
//!
//! ```text
//! error config device io latent stats progress kernels
//!              foundations (rng uses config)
//! rng          every random draw, named in one registry of streams (rng::Stream)
//! model        G and D by the paper's guidelines (§3), their layers, inference (generate)
//! optim        Adam with PyTorch's update, on the kernels
//! checkpoint   a run's weights, optimiser moments, config and counters in one file
//! data         dataset trait → readers (folders, IDX, CIFAR, LMDB, SVHN) → loader, dedup → open
//! viz          sample grids, GIFs, loss plots
//! train        the half-steps (§4) and the loop over a run directory
//! eval explore sample interop bench
//!              SVM and K-means evaluation, FID/KID (§5); the §6 tools; sampling; PyTorch
//!              state dicts; speed and memory
//! tasks        every command: Config → validate() → run(config, events) → Report
//! ```
//!
//! - [`config`]: the model, optimiser, data and training configuration (saved with every run).
//! - [`kernels`]: this project's CPU kernels (convolutions, BatchNorm with its activation,
//!   tanh, Adam) with their backward passes, through burn's backend-extension point.
//! - [`model`]: the generator and discriminator by the paper's architecture guidelines (§3).
//! - [`optim`], [`checkpoint`], [`train`]: the training recipe (§4): Adam, checkpoints that
//!   resume exactly, one function per GAN half-step.
//! - [`data`]: image folders, MNIST-style IDX files, CIFAR-10 binaries, LSUN's LMDB, SVHN; a
//!   parallel prefetching loader; the paper's de-duplication.
//! - [`io`]: safetensors, PyTorch state dicts and TorchScript, `.npy` files, atomic writes.
//! - [`viz`]: sample grids, animated GIFs and loss curves.
//! - [`latent`], [`explore`]: the paper's §6 — latent walks, vector arithmetic, guided
//!   backpropagation on D, "forgetting to draw" objects, nearest training images.
//! - [`eval`], [`stats`]: D's features with linear SVMs, the K-means baseline, FID and KID (§5).
//! - [`bench`]: speed and memory measurements, and a per-operation profile of the training step.
//! - [`rng`]: every random draw as a pure function of (seed, stream).
//! - [`progress`]: the one event type every part reports progress through.
//! - [`tasks`]: the commands of the `dcgan` tool, as library calls any front end can make.

pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod explore;
pub mod interop;
pub mod io;
pub mod kernels;
pub mod latent;
pub mod model;
pub mod optim;
pub mod progress;
pub mod rng;
pub mod sample;
pub mod stats;
pub mod tasks;
pub mod train;
pub mod viz;

pub use error::{Error, Result};
