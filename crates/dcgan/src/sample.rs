//! Sampling from a trained generator.

use std::path::Path;

use burn::tensor::Device;

use crate::checkpoint::Checkpoint;
use crate::io::{HostTensor, npy};
use crate::model::{BnMode, inference};
use crate::rng::{self, Stream};
use crate::{Error, Result};

/// Which classes a conditional G draws in [`sample`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClassChoice {
    /// One row per class, a column per latent (the same latent down each column).
    #[default]
    Rows,
    /// Every image of this class.
    One(usize),
    /// `n` images, their classes 0, 1, …, K−1, 0, 1, … in turn.
    Cycle,
}

/// What [`sample`] drew.
#[derive(Clone, Debug)]
pub struct Drawn {
    /// Images `[n, c, s, s]` in [−1, 1].
    pub images: Vec<f32>,
    /// Their latents `[n, nz]`.
    pub latents: Vec<f32>,
    /// Their classes (a conditional G), else empty.
    pub labels: Vec<usize>,
    /// Images per row a grid of them should have (0: a square grid).
    pub per_row: usize,
}

/// Samples from the checkpoint's G with latents drawn from `seed`: `n` of them from an
/// unconditional G or, from a conditional one, of one class ([`ClassChoice::One`]) or of the
/// classes in turn ([`ClassChoice::Cycle`]); a conditional G's [`ClassChoice::Rows`] draws `per_row` latents (0: ⌈√n⌉) and shows each in every class.
pub fn sample(
    ckpt: &Checkpoint,
    n: usize,
    seed: u64,
    classes: ClassChoice,
    per_row: usize,
    mode: BnMode,
    device: &Device,
) -> Result<Drawn> {
    if n == 0 {
        return Err(Error::config("sample count", 0, "must be positive"));
    }
    let m = ckpt.model();
    let k = m.class_count();
    if let ClassChoice::One(c) = classes {
        check_class(m, c)?;
    }
    let g = ckpt.generator(device)?;
    let draw = |count| {
        rng::latents(
            &mut Stream::SampleLatents.rng(seed),
            count,
            m.latent_dim,
            m.latent_distribution,
        )
    };
    let (latents, labels, per_row) = match classes {
        _ if k == 0 => (draw(n), Vec::new(), per_row),
        ClassChoice::One(c) => (draw(n), vec![c; n], per_row),
        ClassChoice::Cycle => (draw(n), inference::cycled_labels(0, n, k), per_row),
        ClassChoice::Rows => {
            let cols = if per_row == 0 {
                (n as f64).sqrt().ceil() as usize
            } else {
                per_row
            };
            let (z, y) = inference::class_rows(&draw(cols), m.latent_dim, k, cols);
            (z, y, cols)
        }
    };
    let chunk = if mode == BnMode::Eval {
        256
    } else {
        labels.len().max(n)
    };
    let images = inference::generate_labelled(&g, &latents, &labels, mode, chunk, device);
    Ok(Drawn {
        images,
        latents,
        labels,
        per_row,
    })
}

/// `class` is one of a conditional model's classes.
pub fn check_class(m: &crate::config::ModelConfig, class: usize) -> Result<()> {
    let k = m.class_count();
    if k == 0 {
        return Err(Error::config(
            "class",
            class,
            "this model is not class-conditional (it was trained without --conditional)",
        ));
    }
    if class >= k {
        return Err(Error::config(
            "class",
            class,
            format!(
                "must be below {k}, the model's number of classes ({})",
                m.classes.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The classes of `n` latents for a conditional model, read from `path` (`.npy` of N integers);
/// None for an unconditional model. Labels are required for a conditional model and refused
/// for another.
pub fn read_labels_for(
    ckpt: &Checkpoint,
    path: Option<&Path>,
    n: usize,
) -> Result<Option<Vec<usize>>> {
    match (ckpt.model().class_count(), path) {
        (0, None) => Ok(None),
        (0, Some(p)) => Err(Error::format(
            p,
            "labels were given, but this model is not class-conditional (it was trained without --conditional)",
        )),
        (k, None) => Err(Error::format(
            &ckpt.path,
            format!(
                "is a class-conditional model ({k} classes): give --labels, a .npy of one class per latent"
            ),
        )),
        (k, Some(p)) => Ok(Some(npy::read_labels(p, Some(n), k)?)),
    }
}

/// G's raw output for latents read from a `.npy` file, with the classes read from `labels` for
/// a conditional G: (count, images `[n, c, s, s]`).
pub(crate) fn generate_from_file(
    ckpt: &Checkpoint,
    latents: &Path,
    labels: Option<&Path>,
    mode: BnMode,
    device: &Device,
) -> Result<(usize, Vec<f32>)> {
    let m = ckpt.model();
    let (n, z) = npy::read_latents(latents, m.latent_dim)?;
    if mode != BnMode::Eval && n < 2 {
        return Err(Error::format(
            latents,
            "batch statistics need at least 2 latents",
        ));
    }
    let labels = read_labels_for(ckpt, labels, n)?.unwrap_or_default();
    let g = ckpt.generator(device)?;
    let chunk = if mode == BnMode::Eval { 256 } else { n };
    Ok((
        n,
        inference::generate_labelled(&g, &z, &labels, mode, chunk, device),
    ))
}

/// Save images `[n, c, s, s]` as a `.npy` array.
pub(crate) fn save_npy(
    path: &Path,
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
) -> Result<()> {
    npy::write(
        path,
        &HostTensor::new(vec![n, channels, size, size], images.to_vec()),
    )
}

/// Save each image as `dir/000000.png`, ...
pub(crate) fn save_pngs(
    dir: &Path,
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
) -> Result<()> {
    use crate::error::IoContext;
    std::fs::create_dir_all(dir).at(dir)?;
    let per = channels * size * size;
    for i in 0..n {
        let img = crate::data::transform::to_image(&images[i * per..(i + 1) * per], channels, size);
        crate::viz::grid::save_png(&dir.join(format!("{i:06}.png")), &img)?;
    }
    Ok(())
}
