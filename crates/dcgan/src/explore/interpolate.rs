//! Walks through latent space (paper Fig. 4: smooth transitions between 9 random points show the
//! model has not memorised; sharp ones would).

use burn::tensor::Device;

use crate::Result;
use crate::checkpoint::Checkpoint;
use crate::latent::{self, Interpolation};
use crate::rng::{self, Stream};

/// Latent walks and G's images along them.
pub struct Walks {
    /// Latents of every walk, concatenated: `walks × length × nz`.
    pub latents: Vec<f32>,
    /// Their images, `walks × length × [c, s, s]`.
    pub images: Vec<f32>,
    /// Number of walks.
    pub walks: usize,
    /// Images per walk: (points − 1)·steps + 1.
    pub length: usize,
}

/// Which walks to take: `walks` walks through `points` latent points each, `steps` intervals
/// between consecutive points. The points are `given` (one walk through them) or drawn from
/// `seed`.
#[derive(Clone, Debug)]
pub struct WalkPlan {
    /// Latent points to walk through (`points × nz`), instead of drawn ones.
    pub given: Option<Vec<f32>>,
    /// Number of walks (1 when the points are given).
    pub walks: usize,
    /// Latent points a walk passes through.
    pub points: usize,
    /// Intervals between consecutive points.
    pub steps: usize,
    /// Straight lines or great circles.
    pub how: Interpolation,
    /// Seed of the drawn points.
    pub seed: u64,
}

/// The walks of `plan` through G's latent space, and G's images along them.
pub fn walks(ckpt: &Checkpoint, plan: &WalkPlan, device: &Device) -> Result<Walks> {
    let WalkPlan {
        given,
        walks,
        points,
        steps,
        how,
        seed,
    } = plan.clone();
    let m = ckpt.model();
    let dim = m.latent_dim;
    let g = ckpt.unconditional_generator(device, "interpolate")?;
    let point_sets: Vec<Vec<f32>> = match given {
        Some(p) => vec![p],
        None => (0..walks)
            .map(|w| {
                rng::latents(
                    &mut Stream::WalkPoints { walk: w as u64 }.rng(seed),
                    points,
                    dim,
                    m.latent_distribution,
                )
            })
            .collect(),
    };
    let mut all = Vec::new();
    let mut length = 0;
    for p in &point_sets {
        if p.len() / dim < 2 {
            return Err(crate::Error::config(
                "points",
                p.len() / dim,
                "a walk needs at least 2 points",
            ));
        }
        let w = latent::walk(p, dim, steps.max(1), how);
        length = w.len() / dim;
        all.extend(w);
    }
    let images = super::render(&g, &all, dim, device);
    Ok(Walks {
        latents: all,
        images,
        walks: point_sets.len(),
        length,
    })
}
