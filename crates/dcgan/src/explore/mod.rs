//! The paper's §6, "Investigating and visualizing the internals of the networks", as tools:
//! latent walks (Fig. 4), vector arithmetic and the turn vector (Figs. 7, 8), guided
//! backpropagation on D (Fig. 5), "forgetting to draw" objects (Fig. 6) and a memorisation check
//! (nearest training images of samples).
//!
//! G runs with BatchNorm on its running statistics throughout, so every image is a function of
//! its own latent alone, whatever else is in the batch.

pub mod arithmetic;
pub mod forget;
pub mod guided;
pub mod interpolate;
pub mod neighbours;

use burn::tensor::Device;

use crate::model::{BnMode, Generator};

/// Images `[n, c, s, s]` of latents `z` (`[n, nz]` row-major), in chunks.
pub fn render(g: &Generator, z: &[f32], latent_dim: usize, device: &Device) -> Vec<f32> {
    crate::model::inference::generate_chunked(g, z, latent_dim, BnMode::Eval, 128, device)
}

/// Parse "3,7,12" into indices, checking them against `count`.
pub(crate) fn parse_indices(
    text: &str,
    count: usize,
    what: &'static str,
) -> crate::Result<Vec<usize>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let i: usize = part
            .parse()
            .map_err(|_| crate::Error::config(what, part, "is not an index"))?;
        if i >= count {
            return Err(crate::Error::config(
                what,
                i,
                format!(
                    "is out of range: the sheet holds {count} latents (0..{})",
                    count - 1
                ),
            ));
        }
        out.push(i);
    }
    if out.is_empty() {
        return Err(crate::Error::config(
            what,
            format!("{text:?}"),
            "lists no index",
        ));
    }
    Ok(out)
}
