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

/// The families of streams; each owns the top byte of ChaCha's 64-bit stream id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Purpose {
    /// Initial weights.
    Init = 1,
    /// The order of the training data.
    DataOrder = 2,
    /// Training latents.
    Latent = 3,
    /// A run's fixed noise.
    FixedNoise = 4,
    /// Latents of samples drawn after training.
    Sample = 5,
    /// Latents and subsets drawn by evaluation (FID, KID, classifier splits).
    Evaluation = 6,
    /// The de-duplication autoencoder: its weights, data order and corruption noise.
    Dedup = 7,
    /// Synthetic inputs of `dcgan bench` and `dcgan data preview`'s pick of items.
    Tools = 8,
    /// Draws of what the recipe adds to the paper's (extra D steps, augmentation).
    Recipe = 9,
}

/// Stream indices stay below this, so no index reaches into the next purpose's byte.
const INDEX_LIMIT: u64 = 1 << 56;

/// The registry of random streams: every random draw in the library names one of these.
///
/// A stream is `(seed, purpose, index)`; a variant owns a block of indices `[base, base + span)`
/// of one purpose (see [`Stream::block`]), and `stream_blocks_do_not_overlap` checks that no two
/// variants' blocks meet, so two uses can never draw the same numbers from one seed. The
/// `(purpose, index)` values of the variants that existed before the registry are kept, so runs,
/// samples and figures made earlier are reproduced bit for bit. Add a variant here (and to
/// `Stream::every`, which its test checks) for a new use; never reuse another's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// G's initial weights (model/generator.rs).
    GeneratorInit,
    /// D's initial weights; a stream of its own, so G's and D's do not depend on each other's sizes.
    DiscriminatorInit,
    /// The order of the training data in `epoch`.
    DataOrder {
        /// The epoch.
        epoch: u64,
    },
    /// The latents of training step `step` (steps count from 0 over the whole run).
    TrainLatents {
        /// The step.
        step: u64,
    },
    /// With `--d-steps N`, the latents of D step `d_step` (0-based, below N − 1) of training
    /// step `step`; the last D step and the G step use [`Stream::TrainLatents`], so N = 1 draws
    /// exactly what the paper's recipe draws.
    ExtraDLatents {
        /// The training step (counted from 0).
        step: u64,
        /// The D step within it.
        d_step: u64,
    },
    /// With `--augment`, the draws of pass `call` through D of training step `step`
    /// (`train::augment::Pass`: 2d real and 2d + 1 generated in D step d, 255 in the G step).
    Augment {
        /// The training step (counted from 0).
        step: u64,
        /// The pass.
        call: u64,
    },
    /// The fixed noise of a run's sample grids.
    FixedNoise,
    /// `dcgan sample`'s latents (and the samples of `neighbours`).
    SampleLatents,
    /// `arithmetic`: the neighbours Y + U(−noise, noise) of a result.
    ArithmeticNeighbours,
    /// `arithmetic`: the random samples moved along the turn vector.
    TurnBases,
    /// `forget`: the random negative positions of the logistic regression.
    ForgetNegatives,
    /// `interpolate`: the random points of walk `walk`.
    WalkPoints {
        /// The walk.
        walk: u64,
    },
    /// FID: the latents of the generated images.
    FidLatents,
    /// FID: the random subset of a data set larger than the asked count.
    FidSubset,
    /// KID: its random subsets.
    KidSubsets,
    /// K-means baseline: the patches the dictionary is fitted on.
    KMeansPatches,
    /// K-means baseline: the initial centroids.
    KMeansInit,
    /// `eval svm --train-limit/--test-limit`: the random subset kept of a data set.
    EvalSubset,
    /// The SVM's coordinate order for class `class` (one-vs-rest).
    SvmOrder {
        /// The class.
        class: u64,
    },
    /// Full-label protocol: the validation split.
    ValidationSplit,
    /// Few-label protocol: the validation split.
    FewLabelsSplit,
    /// Few-label protocol: the labelled examples of draw `draw`.
    FewLabelsDraw {
        /// The draw.
        draw: u64,
    },
    /// De-duplication: the autoencoder's initial weights.
    DedupInit,
    /// De-duplication: the autoencoder's data order in `epoch`.
    DedupOrder {
        /// The epoch.
        epoch: u64,
    },
    /// De-duplication: the corruption noise and dropout of batch `batch` (counted over all epochs).
    DedupNoise {
        /// The batch.
        batch: u64,
    },
    /// De-duplication evaluation: which images are copied and how.
    DedupPlant,
    /// Near-duplicate search: the validation copies its threshold is chosen on.
    DedupCalibration,
    /// Near-duplicate search: the random hyperplanes of its binary codes.
    DedupProjection,
    /// `dcgan data preview`: the items shown.
    PreviewOrder,
    /// `dcgan bench`: the synthetic images and latents of step `step`.
    BenchInputs {
        /// The step.
        step: u64,
    },
}

impl Stream {
    /// The purpose, first index and number of indices this stream's variant owns.
    pub fn block(&self) -> (Purpose, u64, u64) {
        use Purpose as P;
        use Stream::*;
        const MANY: u64 = 1 << 40;
        match *self {
            GeneratorInit => (P::Init, 0, 1),
            DiscriminatorInit => (P::Init, 1, 1),
            DataOrder { .. } => (P::DataOrder, 0, INDEX_LIMIT),
            TrainLatents { .. } => (P::Latent, 0, INDEX_LIMIT),
            FixedNoise => (P::FixedNoise, 0, 1),
            SampleLatents => (P::Sample, 0, 1),
            ArithmeticNeighbours => (P::Sample, 77, 1),
            TurnBases => (P::Sample, 88, 1),
            ForgetNegatives => (P::Sample, 606, 1),
            WalkPoints { .. } => (P::Sample, 1000, MANY),
            FidLatents => (P::Evaluation, 0, 1),
            KidSubsets => (P::Evaluation, 1, 1),
            FidSubset => (P::Evaluation, 2, 1),
            KMeansPatches => (P::Evaluation, 3, 1),
            EvalSubset => (P::Evaluation, 4, 1),
            KMeansInit => (P::Evaluation, 5, 1),
            ValidationSplit => (P::Evaluation, 10, 1),
            FewLabelsSplit => (P::Evaluation, 11, 1),
            SvmOrder { .. } => (P::Evaluation, 100, 900),
            FewLabelsDraw { .. } => (P::Evaluation, 1000, MANY),
            DedupInit => (P::Dedup, 0, 1),
            DedupPlant => (P::Dedup, 1, 1),
            DedupCalibration => (P::Dedup, 2, 1),
            DedupProjection => (P::Dedup, 3, 1),
            DedupOrder { .. } => (P::Dedup, 1 << 50, MANY),
            DedupNoise { .. } => (P::Dedup, 1 << 51, INDEX_LIMIT - (1 << 51)),
            PreviewOrder => (P::Tools, 0, 1),
            BenchInputs { .. } => (P::Tools, 1 << 50, MANY),
            ExtraDLatents { .. } => (P::Recipe, 0, 1 << 55),
            Augment { .. } => (P::Recipe, 1 << 55, 1 << 55),
        }
    }

    /// The index within the block: the variant's counter, if it has one.
    fn offset(&self) -> u64 {
        use Stream::*;
        match *self {
            DataOrder { epoch } | DedupOrder { epoch } => epoch,
            TrainLatents { step } | BenchInputs { step } => step,
            WalkPoints { walk } => walk,
            SvmOrder { class } => class,
            FewLabelsDraw { draw } => draw,
            DedupNoise { batch } => batch,
            ExtraDLatents { step, d_step } => step * 128 + d_step,
            Augment { step, call } => step * 256 + call,
            _ => 0,
        }
    }

    /// `(purpose, index)` of this stream. A counter past its block's end wraps around inside the
    /// block (2^40 walks or draws, or 900 classes, are far beyond any use), so a stream never
    /// leaves its block.
    pub fn id(&self) -> (Purpose, u64) {
        let (purpose, base, span) = self.block();
        (purpose, base + self.offset() % span)
    }

    /// The random generator of this stream for `seed`.
    pub fn rng(&self, seed: u64) -> ChaCha8Rng {
        let (purpose, index) = self.id();
        stream(seed, purpose, index)
    }

    /// One instance of every variant (for the registry's own test).
    #[cfg(test)]
    fn every() -> Vec<Stream> {
        use Stream::*;
        vec![
            GeneratorInit,
            DiscriminatorInit,
            DataOrder { epoch: 0 },
            TrainLatents { step: 0 },
            ExtraDLatents { step: 0, d_step: 0 },
            Augment { step: 0, call: 0 },
            FixedNoise,
            SampleLatents,
            ArithmeticNeighbours,
            TurnBases,
            ForgetNegatives,
            WalkPoints { walk: 0 },
            FidLatents,
            FidSubset,
            KidSubsets,
            KMeansPatches,
            KMeansInit,
            EvalSubset,
            SvmOrder { class: 0 },
            ValidationSplit,
            FewLabelsSplit,
            FewLabelsDraw { draw: 0 },
            DedupInit,
            DedupOrder { epoch: 0 },
            DedupNoise { batch: 0 },
            DedupPlant,
            DedupCalibration,
            DedupProjection,
            PreviewOrder,
            BenchInputs { step: 0 },
        ]
    }
}

/// The random generator for `(seed, purpose, index)`. Library code names a [`Stream`] instead;
/// this is the primitive under it.
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

/// The order of `n` items in training epoch `epoch` (Fisher–Yates with the epoch's own stream).
pub fn permutation(seed: u64, epoch: u64, n: usize) -> Vec<usize> {
    shuffled(Stream::DataOrder { epoch }, seed, n)
}

/// `0..n` shuffled by `stream` of `seed`.
pub(crate) fn shuffled(stream: Stream, seed: u64, n: usize) -> Vec<usize> {
    use rand::seq::SliceRandom;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut stream.rng(seed));
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
    fn stream_blocks_do_not_overlap() {
        let every = Stream::every();
        for (i, a) in every.iter().enumerate() {
            let (pa, ba, sa) = a.block();
            assert!(
                sa >= 1 && ba + sa <= INDEX_LIMIT,
                "{a:?} leaves its purpose"
            );
            for b in &every[i + 1..] {
                let (pb, bb, sb) = b.block();
                assert!(
                    pa != pb || ba + sa <= bb || bb + sb <= ba,
                    "{a:?} and {b:?} share stream indices"
                );
            }
        }
        // Every variant is listed once (a variant missing from `every` would go unchecked).
        let kinds: std::collections::HashSet<_> =
            every.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), every.len());
    }

    #[test]
    fn counters_stay_inside_their_block() {
        for s in [
            Stream::WalkPoints { walk: u64::MAX },
            Stream::SvmOrder { class: 5000 },
            Stream::DedupNoise { batch: u64::MAX },
            Stream::DataOrder { epoch: u64::MAX },
        ] {
            let (p, base, span) = s.block();
            let (q, index) = s.id();
            assert_eq!(p, q);
            assert!((base..base + span).contains(&index), "{s:?}: {index}");
        }
    }

    #[test]
    fn registry_keeps_the_streams_of_earlier_runs() {
        // Runs, samples and figures made before the registry must be reproduced bit for bit.
        let same = |s: Stream, p: Purpose, i: u64| {
            assert_eq!(
                normal(&mut s.rng(9), 4, 0.0, 1.0),
                normal(&mut stream(9, p, i), 4, 0.0, 1.0),
                "{s:?}"
            )
        };
        same(Stream::GeneratorInit, Purpose::Init, 0);
        same(Stream::DiscriminatorInit, Purpose::Init, 1);
        same(Stream::DataOrder { epoch: 3 }, Purpose::DataOrder, 3);
        same(Stream::TrainLatents { step: 17 }, Purpose::Latent, 17);
        same(Stream::FixedNoise, Purpose::FixedNoise, 0);
        same(Stream::SampleLatents, Purpose::Sample, 0);
        same(Stream::WalkPoints { walk: 2 }, Purpose::Sample, 1002);
        same(Stream::FewLabelsDraw { draw: 5 }, Purpose::Evaluation, 1005);
        same(Stream::SvmOrder { class: 3 }, Purpose::Evaluation, 103);
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
