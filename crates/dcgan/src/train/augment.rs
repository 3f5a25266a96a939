//! Differentiable augmentation (DiffAugment, Zhao et al., NeurIPS 2020): the same random
//! transformations applied to every image D sees, real or generated, in both half-steps, with
//! gradients flowing through them to G, so D cannot memorise a small data set and G is not
//! taught to draw the augmentations.
//!
//! The three policies, on images in [−1, 1], one draw per image (as in the authors' code):
//! - `color`: brightness x + (u₁ − ½); then saturation (x − m_c)·2u₂ + m_c with m_c the mean
//!   over channels at each pixel; then contrast (x − m)·(u₃ + ½) + m with m the image's mean;
//!   u₁, u₂, u₃ ~ U[0, 1).
//! - `translation`: a shift by whole pixels (t_y, t_x), each in [−⌊side/8 + ½⌋, ⌊side/8 + ½⌋];
//!   what comes in from outside is 0.
//! - `cutout`: a square of side ⌊side/2 + ½⌋ set to 0, centred (rounding down for an even side)
//!   at a position (o_y, o_x) in [0, side] (even square) or [0, side − 1] (odd), clipped to the
//!   image.
//!
//! The draws come from the stream registry (`rng::Stream::Augment`), keyed by step and by which
//! of the iteration's passes through D they serve, so a resumed run draws what the
//! uninterrupted one drew.

use burn::tensor::{Int, Tensor, TensorData};
use rand::Rng;

pub use crate::config::Augmentation;

/// The random values of one pass of a batch through the policies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draws {
    /// Per image: brightness, saturation and contrast draws in [0, 1) (`color`).
    pub color: Option<Vec<[f32; 3]>>,
    /// Per image: the shift (rows, columns) (`translation`).
    pub translation: Option<Vec<[i64; 2]>>,
    /// Per image: the square's position (row, column) (`cutout`).
    pub cutout: Option<Vec<[i64; 2]>>,
}

/// The shift limit of `translation` and the square's side of `cutout` for an image side.
fn translation_limit(side: usize) -> i64 {
    (side as f64 * 0.125 + 0.5) as i64
}

fn cutout_side(side: usize) -> usize {
    (side as f64 * 0.5 + 0.5) as usize
}

impl Draws {
    /// Draw for `batch` square images of `side` pixels: per policy, per image in order.
    pub fn sample(
        policies: &[Augmentation],
        batch: usize,
        side: usize,
        rng: &mut impl Rng,
    ) -> Self {
        let mut d = Draws::default();
        for p in policies {
            match p {
                Augmentation::Color => {
                    d.color = Some(
                        (0..batch)
                            .map(|_| [rng.random(), rng.random(), rng.random()])
                            .collect(),
                    );
                }
                Augmentation::Translation => {
                    let s = translation_limit(side);
                    d.translation = Some(
                        (0..batch)
                            .map(|_| [rng.random_range(-s..=s), rng.random_range(-s..=s)])
                            .collect(),
                    );
                }
                Augmentation::Cutout => {
                    let c = cutout_side(side);
                    let hi = (side + 1 - c % 2) as i64; // exclusive
                    d.cutout = Some(
                        (0..batch)
                            .map(|_| [rng.random_range(0..hi), rng.random_range(0..hi)])
                            .collect(),
                    );
                }
            }
        }
        d
    }

    /// `x` `[b, c, s, s]` with these draws applied (color, then translation, then cutout),
    /// differentiable in `x`.
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let device = x.device();
        let per_image =
            |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [b, 1, 1, 1]), &device);
        let mut x = x;
        if let Some(col) = &self.color {
            let brightness = per_image(col.iter().map(|u| u[0] - 0.5).collect());
            x = x.add(brightness);
            let m = x.clone().mean_dim(1); // [b, 1, h, w]
            let saturation = per_image(col.iter().map(|u| u[1] * 2.0).collect());
            x = x.sub(m.clone()).mul(saturation).add(m);
            let m = x
                .clone()
                .reshape([b, c * h * w])
                .mean_dim(1)
                .reshape([b, 1, 1, 1]);
            let contrast = per_image(col.iter().map(|u| u[2] + 0.5).collect());
            x = x.sub(m.clone()).mul(contrast).add(m);
        }
        if let Some(shift) = &self.translation {
            // out[i, j] = x[i + t_y, j + t_x] inside the image, else 0: a gather of the
            // flattened image with a 0/1 mask for what comes from outside.
            let n = c * h * w;
            let mut index = Vec::with_capacity(b * n);
            let mut keep = Vec::with_capacity(b * n);
            for t in shift {
                for ch in 0..c {
                    for i in 0..h as i64 {
                        for j in 0..w as i64 {
                            let (si, sj) = (i + t[0], j + t[1]);
                            let inside = (0..h as i64).contains(&si) && (0..w as i64).contains(&sj);
                            index.push(if inside {
                                (ch * h * w) as i64 + si * w as i64 + sj
                            } else {
                                0
                            });
                            keep.push(if inside { 1.0f32 } else { 0.0 });
                        }
                    }
                }
            }
            let index = Tensor::<2, Int>::from_data(TensorData::new(index, [b, n]), &device);
            let keep = Tensor::<2>::from_data(TensorData::new(keep, [b, n]), &device);
            x = x
                .reshape([b, n])
                .gather(1, index)
                .mul(keep)
                .reshape([b, c, h, w]);
        }
        if let Some(pos) = &self.cutout {
            let side = cutout_side(h) as i64;
            let mut mask = vec![1.0f32; b * h * w];
            for (k, o) in pos.iter().enumerate() {
                let rows = (o[0] - side / 2).max(0)..(o[0] - side / 2 + side).min(h as i64);
                for i in rows {
                    let cols = (o[1] - side / 2).max(0)..(o[1] - side / 2 + side).min(w as i64);
                    for j in cols {
                        mask[k * h * w + i as usize * w + j as usize] = 0.0;
                    }
                }
            }
            let mask = Tensor::<4>::from_data(TensorData::new(mask, [b, 1, h, w]), &device);
            x = x.mul(mask);
        }
        x
    }
}

/// The policies of a run, with the seed its draws come from.
#[derive(Clone, Debug)]
pub struct Augmenter {
    /// The policies, in the order applied.
    pub policies: Vec<Augmentation>,
    /// The run's seed.
    pub seed: u64,
}

/// Which pass through D within a training step a batch's draws serve.
#[derive(Clone, Copy, Debug)]
pub enum Pass {
    /// The real batch of D step `d`.
    Real(u64),
    /// The generated batch of D step `d`.
    Fake(u64),
    /// The generated batch of the G step.
    Generator,
}

impl Augmenter {
    /// `x` augmented with the draws of `pass` of training step `step` (counted from 0).
    pub fn apply(&self, x: Tensor<4>, step: u64, pass: Pass) -> Tensor<4> {
        let [b, _, side, _] = x.dims();
        let call = match pass {
            Pass::Real(d) => d * 2,
            Pass::Fake(d) => d * 2 + 1,
            Pass::Generator => 255,
        };
        let mut rng = crate::rng::Stream::Augment { step, call }.rng(self.seed);
        Draws::sample(&self.policies, b, side, &mut rng).apply(x)
    }
}
