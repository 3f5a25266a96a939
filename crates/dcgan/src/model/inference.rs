//! Running G on latents held on the host: what sampling, FID, the §6 tools and training's sample
//! grids all do. It lives with the model, below training, so none of them depends on the loop.

use burn::tensor::{Device, Tensor, TensorData};

use super::{BnMode, Generator};

/// G's images of `z` (`[n, nz]` row-major) on the host, `[n, c, s, s]`, as one batch.
pub fn generate(
    g: &Generator,
    z: &[f32],
    latent_dim: usize,
    mode: BnMode,
    device: &Device,
) -> Vec<f32> {
    let n = z.len() / latent_dim;
    let z = Tensor::<2>::from_data(TensorData::new(z.to_vec(), [n, latent_dim]), device);
    super::host_vec(g.forward(z, mode))
}

/// In inference mode, in batches of `chunk` latents so memory stays bounded (each image depends
/// on its own latent only); with batch statistics the whole set is one batch (its statistics
/// are the point).
pub fn generate_chunked(
    g: &Generator,
    z: &[f32],
    latent_dim: usize,
    mode: BnMode,
    chunk: usize,
    device: &Device,
) -> Vec<f32> {
    if mode != BnMode::Eval {
        return generate(g, z, latent_dim, mode, device);
    }
    z.chunks(chunk.max(1) * latent_dim)
        .flat_map(|c| generate(g, c, latent_dim, mode, device))
        .collect()
}
