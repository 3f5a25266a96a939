//! # dcgan
//!
//! A Rust implementation of *Unsupervised Representation Learning with Deep Convolutional
//! Generative Adversarial Networks* (Radford, Metz & Chintala, ICLR 2016) on burn 0.22.
//!
//! - [`config`]: the model, optimiser, data and training configuration (saved with every run).
//! - [`model`]: the generator and discriminator by the paper's architecture guidelines (§3).
//! - [`train`]: the training recipe (§4): one function per GAN half-step, Adam, checkpoints.
//! - [`data`]: image folders, MNIST-style IDX files, CIFAR-10 binaries; a parallel prefetching loader.
//! - [`io`]: safetensors checkpoints, PyTorch state-dict import/export, `.npy` latents.
//! - [`viz`]: sample grids, animated GIFs and loss curves.
//! - [`latent`], [`explore`]: the paper's §6 — latent walks, vector arithmetic, guided
//!   backpropagation on D, "forgetting to draw" objects, nearest training images.
//! - [`eval`]: D's features with linear SVMs, the K-means baseline, FID and KID (§5).
//! - [`bench`]: speed and memory measurements, and a per-operation profile of the training step.
//! - [`rng`]: every random draw as a pure function of (seed, purpose, index).

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
pub mod rng;
pub mod sample;
pub mod stats;
pub mod tasks;
pub mod train;
pub mod viz;

pub use error::{Error, Result};
