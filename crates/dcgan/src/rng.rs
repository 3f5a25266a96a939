//! Every random draw is a pure function of (seed, purpose, index).
//!
//! A run's random state is therefore just its counters (step, epoch), which the checkpoint
//! stores: a resumed run draws exactly the numbers the uninterrupted run would have drawn, on any
//! backend, without serialising generator internals. Draws happen on the host, so the same seed
//! gives the same initial weights on CPU and GPU.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::config::LatentDistribution;

/// What a random stream is used for; each gets an independent stream.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Purpose {
    Init = 1,
    DataOrder = 2,
    Latent = 3,
    FixedNoise = 4,
    Sample = 5,
    /// Latents and subsets drawn by evaluation (FID, KID, classifier splits).
    Evaluation = 6,
}

/// The random generator for `(seed, purpose, index)`.
pub fn stream(seed: u64, purpose: Purpose, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // ChaCha's 64-bit stream id separates purposes and indices without overlap.
    rng.set_stream(((purpose as u64) << 56) ^ index);
    rng
}

/// `n` draws from N(mean, std).
pub fn normal(rng: &mut impl Rng, n: usize, mean: f32, std: f32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let x: f32 = StandardNormal.sample(rng);
            mean + std * x
        })
        .collect()
}

/// `count` latent codes of size `dim`, row-major.
pub fn latents(rng: &mut impl Rng, count: usize, dim: usize, dist: LatentDistribution) -> Vec<f32> {
    match dist {
        LatentDistribution::Normal => normal(rng, count * dim, 0.0, 1.0),
        LatentDistribution::Uniform => (0..count * dim)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect(),
    }
}

/// The order of `n` items in `epoch` (Fisher–Yates with the epoch's own stream).
pub fn permutation(seed: u64, epoch: u64, n: usize) -> Vec<usize> {
    use rand::seq::SliceRandom;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut stream(seed, Purpose::DataOrder, epoch));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = normal(&mut stream(7, Purpose::Latent, 3), 5, 0.0, 1.0);
        let b = normal(&mut stream(7, Purpose::Latent, 3), 5, 0.0, 1.0);
        let c = normal(&mut stream(7, Purpose::Latent, 4), 5, 0.0, 1.0);
        let d = normal(&mut stream(7, Purpose::Init, 3), 5, 0.0, 1.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn normal_has_the_asked_moments() {
        let x = normal(&mut stream(1, Purpose::Init, 0), 200_000, 1.0, 0.02);
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / x.len() as f64;
        assert!((mean - 1.0).abs() < 2e-4, "mean {mean}");
        assert!((var.sqrt() - 0.02).abs() < 2e-4, "std {}", var.sqrt());
    }

    #[test]
    fn permutation_is_a_permutation_that_changes_per_epoch() {
        let p0 = permutation(3, 0, 1000);
        let p1 = permutation(3, 1, 1000);
        let mut s = p0.clone();
        s.sort();
        assert_eq!(s, (0..1000).collect::<Vec<_>>());
        assert_ne!(p0, p1);
        assert_eq!(p0, permutation(3, 0, 1000));
    }

    #[test]
    fn uniform_latents_stay_in_range() {
        let z = latents(
            &mut stream(1, Purpose::Latent, 0),
            100,
            10,
            LatentDistribution::Uniform,
        );
        assert!(z.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(z.iter().any(|&v| v < -0.9) && z.iter().any(|&v| v > 0.9));
    }
}
