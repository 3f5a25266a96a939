//! Vector arithmetic on latents (paper §6.3, Fig. 7): a concept is the mean latent of a few
//! exemplars (the paper averages 3, since single samples were unstable); an expression such as
//! `smiling woman − neutral woman + neutral man` combines concepts; the result Y is shown with
//! neighbours Y + U(−0.25, 0.25), and the same arithmetic in pixel space beside it. The turn vector
//! (Fig. 8): mean of left-facing latents minus mean of right-facing ones, added in steps.

use burn::tensor::Device;
use rand::Rng;
use serde::Serialize;

use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::latent::{Expression, mean_of};
use crate::rng::Stream;

/// A concept: its name and exemplar latents (`n × nz`).
#[derive(Clone, Debug)]
pub struct Concept {
    /// Its name, as written in expressions.
    pub name: String,
    /// Exemplar latents, `n × nz`, row-major.
    pub exemplars: Vec<f32>,
}

#[derive(Serialize, Clone, Debug)]
/// Vector arithmetic on concept means (paper §6.3.2) and the images of the figure.
pub struct ArithmeticResult {
    /// Latent dimension (nz).
    pub latent_dim: usize,
    /// Per concept in the expression's order: its mean latent.
    pub concept_means: Vec<(String, Vec<f32>)>,
    /// Y = the expression on the concept means.
    pub result: Vec<f32>,
    /// Y + U(−noise, noise), `neighbours × nz`.
    pub neighbours: Vec<f32>,
    #[serde(skip)]
    /// The figure's rows of images, each image `image_len` values.
    pub rows: Vec<Vec<f32>>,
    #[serde(skip)]
    /// Values in one image (`channels × size × size`).
    pub image_len: usize,
}

/// Evaluate `expr` over `concepts`; images for the figure: one row per concept (its exemplars,
/// then G(mean)), the result row (G(Y), then its neighbours), and the pixel-space row (each
/// concept's mean exemplar image, then the expression on those images).
pub fn arithmetic(
    ckpt: &Checkpoint,
    concepts: &[Concept],
    expr: &Expression,
    neighbours: usize,
    noise: f32,
    seed: u64,
    device: &Device,
) -> Result<ArithmeticResult> {
    let m = ckpt.model();
    let dim = m.latent_dim;
    let g = ckpt.unconditional_generator(device, "arithmetic")?;
    let find = |name: &str| concepts.iter().find(|c| c.name == name);
    let mean = |c: &Concept| {
        mean_of(
            &c.exemplars,
            dim,
            &(0..c.exemplars.len() / dim).collect::<Vec<_>>(),
        )
    };
    let result = expr.evaluate(&|n| find(n).map(mean))?;
    let mut r = Stream::ArithmeticNeighbours.rng(seed);
    let neighbour_latents: Vec<f32> = (0..neighbours)
        .flat_map(|_| {
            result
                .iter()
                .map(|v| v + r.random_range(-noise..=noise))
                .collect::<Vec<_>>()
        })
        .collect();
    let per = m.channels * m.image_size * m.image_size;
    let render = |z: &[f32]| super::render(&g, z, dim, device);
    let mut rows = Vec::new();
    let mut concept_means = Vec::new();
    let mut pixel_means: Vec<(f32, Vec<f32>)> = Vec::new();
    for (sign, name) in &expr.terms {
        let c = find(name).expect("evaluate checked the names");
        let mu = mean(c);
        let ex_images = render(&c.exemplars);
        let n = c.exemplars.len() / dim;
        let pix: Vec<f32> = (0..per)
            .map(|p| (0..n).map(|i| ex_images[i * per + p]).sum::<f32>() / n as f32)
            .collect();
        let mut row = ex_images;
        row.extend(render(&mu));
        rows.push(row);
        pixel_means.push((*sign, pix));
        concept_means.push((name.clone(), mu));
    }
    let mut result_row = render(&result);
    result_row.extend(render(&neighbour_latents));
    rows.push(result_row);
    let mut pixel_row: Vec<f32> = pixel_means.iter().flat_map(|(_, p)| p.clone()).collect();
    let pixel_result: Vec<f32> = (0..per)
        .map(|p| {
            pixel_means
                .iter()
                .map(|(s, img)| s * img[p])
                .sum::<f32>()
                .clamp(-1.0, 1.0)
        })
        .collect();
    pixel_row.extend(pixel_result);
    rows.push(pixel_row);
    Ok(ArithmeticResult {
        latent_dim: dim,
        concept_means,
        result,
        neighbours: neighbour_latents,
        rows,
        image_len: per,
    })
}

/// Rows of images of `bases` (`k × nz`) moved along `turn` (mean(left) − mean(right)):
/// z + α·turn for `steps` values of α evenly from −`reach` to +`reach`.
pub fn turn(
    ckpt: &Checkpoint,
    left: &[f32],
    right: &[f32],
    bases: &[f32],
    steps: usize,
    reach: f32,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let dim = ckpt.model().latent_dim;
    let g = ckpt.unconditional_generator(device, "arithmetic")?;
    let all = |z: &[f32]| (0..z.len() / dim).collect::<Vec<_>>();
    let v: Vec<f32> = mean_of(left, dim, &all(left))
        .iter()
        .zip(mean_of(right, dim, &all(right)))
        .map(|(a, b)| a - b)
        .collect();
    let mut latents = Vec::new();
    for b in bases.chunks(dim) {
        for s in 0..steps {
            let alpha = if steps == 1 {
                0.0
            } else {
                -reach + 2.0 * reach * s as f32 / (steps - 1) as f32
            };
            latents.extend(b.iter().zip(&v).map(|(x, d)| x + alpha * d));
        }
    }
    let images = super::render(&g, &latents, dim, device);
    Ok((v, images))
}
