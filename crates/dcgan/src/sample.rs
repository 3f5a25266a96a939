//! Sampling from a trained generator.

use std::path::Path;

use burn::tensor::Device;

use crate::checkpoint::Checkpoint;
use crate::io::{HostTensor, npy};
use crate::model::{BnMode, Generator};
use crate::rng::{self, Stream};
use crate::{Error, Result};

/// `n` samples from the checkpoint's G with latents drawn from `seed`.
/// Returns (images `[n, c, s, s]`, latents `[n, nz]`).
pub fn sample(
    ckpt: &Checkpoint,
    n: usize,
    seed: u64,
    mode: BnMode,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>)> {
    if n == 0 {
        return Err(Error::config("sample count", 0, "must be positive"));
    }
    let m = ckpt.model();
    let g = ckpt.generator(device)?;
    let z = rng::latents(
        &mut Stream::SampleLatents.rng(seed),
        n,
        m.latent_dim,
        m.latent_distribution,
    );
    let images = generate_batched(&g, &z, m.latent_dim, mode, device);
    Ok((images, z))
}

/// G's raw output for latents read from a `.npy` file: (count, images `[n, c, s, s]`).
pub(crate) fn generate_from_file(
    ckpt: &Checkpoint,
    latents: &Path,
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
    let g = ckpt.generator(device)?;
    Ok((n, generate_batched(&g, &z, m.latent_dim, mode, device)))
}

/// G's output in batches of 256 in inference mode (bounded memory).
fn generate_batched(
    g: &Generator,
    z: &[f32],
    nz: usize,
    mode: BnMode,
    device: &Device,
) -> Vec<f32> {
    crate::model::inference::generate_chunked(g, z, nz, mode, 256, device)
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
