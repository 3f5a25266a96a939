//! "Forgetting to draw" objects (paper §6.1, Fig. 6): a logistic regression on G's
//! second-highest convolutional layer separates the positions inside hand-drawn boxes around an
//! object from random positions elsewhere in the same images; every feature map with a positive
//! weight is then dropped at every position, and the same latents are drawn again without them.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::model::{BnMode, Generator};
use crate::rng::Stream;
use crate::{Error, Result};

/// A box drawn on sample `sample` of a sheet: pixels `x0..x1` × `y0..y1` (end exclusive).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
pub struct ObjectBox {
    /// Index of the sample on the sheet.
    pub sample: usize,
    #[serde(rename = "box")]
    /// `[x0, y0, x1, y1]`, pixels, end exclusive.
    pub rect: [u32; 4],
}

/// Read `[{"sample": 3, "box": [x0, y0, x1, y1]}, ...]` and check it against the sheet.
pub fn read_boxes(path: &Path, samples: usize, size: usize) -> Result<Vec<ObjectBox>> {
    use crate::error::IoContext;
    let text = std::fs::read_to_string(path).at(path)?;
    let boxes: Vec<ObjectBox> = serde_json::from_str(&text).map_err(|e| {
        Error::format(
            path,
            format!("expected [{{\"sample\": N, \"box\": [x0, y0, x1, y1]}}, ...]: {e}"),
        )
    })?;
    if boxes.is_empty() {
        return Err(Error::format(path, "holds no boxes"));
    }
    for (i, b) in boxes.iter().enumerate() {
        let [x0, y0, x1, y1] = b.rect;
        if b.sample >= samples {
            return Err(Error::format(
                path,
                format!(
                    "box {i}: sample {} is not on the sheet of {samples}",
                    b.sample
                ),
            ));
        }
        if x0 >= x1 || y0 >= y1 || x1 as usize > size || y1 as usize > size {
            return Err(Error::format(
                path,
                format!(
                    "box {i}: {:?} is not a rectangle inside the {size}×{size} image",
                    b.rect
                ),
            ));
        }
    }
    Ok(boxes)
}

#[derive(Serialize, Clone, Debug)]
/// The logistic regression that finds the feature maps drawing an object (paper §6.1).
pub struct ForgetModel {
    /// One weight per feature map of the layer.
    pub weights: Vec<f64>,
    /// Feature maps with a positive weight: the ones dropped.
    pub dropped: Vec<usize>,
    /// Positions inside the boxes used for training.
    pub positives: usize,
    /// Positions outside the boxes used for training.
    pub negatives: usize,
    /// Fraction of the training positions the regression classifies right.
    pub train_accuracy: f64,
}

/// What the regression learns from: samples' latents (`n × latent_dim`), the boxes drawn on
/// their images (`image_size` pixels a side), and how many positions outside the boxes to draw
/// per position inside (from `seed`).
#[derive(Clone, Copy, Debug)]
pub struct Examples<'a> {
    /// Latents of the samples, `n × latent_dim`.
    pub latents: &'a [f32],
    /// Latent dimension.
    pub latent_dim: usize,
    /// Boxes drawn on the samples.
    pub boxes: &'a [ObjectBox],
    /// Side of the images, in pixels.
    pub image_size: usize,
    /// Positions outside the boxes drawn for each position inside.
    pub negatives_per_positive: usize,
    /// Seed of those draws.
    pub seed: u64,
}

/// Fit the regression on G's hidden-layer activations at the examples' positions.
pub fn fit(g: &Generator, examples: &Examples, device: &Device) -> Result<ForgetModel> {
    let Examples {
        latents,
        latent_dim,
        boxes,
        image_size,
        negatives_per_positive,
        seed,
    } = *examples;
    let n = latents.len() / latent_dim;
    let z = Tensor::<2>::from_data(TensorData::new(latents.to_vec(), [n, latent_dim]), device);
    let h = g.hidden(z, BnMode::Eval); // [n, C, r, r]
    let [_, c, r, _] = h.dims();
    let act = h
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    let cell = image_size as f64 / r as f64;
    // A position belongs to a box when its cell's centre, in pixels, lies inside it.
    let inside = |b: &ObjectBox, py: usize, px: usize| {
        let (cx, cy) = ((px as f64 + 0.5) * cell, (py as f64 + 0.5) * cell);
        let [x0, y0, x1, y1] = b.rect.map(|v| v as f64);
        cx >= x0 && cx < x1 && cy >= y0 && cy < y1
    };
    let feature = |s: usize, py: usize, px: usize| -> Vec<f64> {
        (0..c)
            .map(|k| act[((s * c + k) * r + py) * r + px] as f64)
            .collect()
    };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut labels: Vec<bool> = Vec::new();
    let mut rng = Stream::ForgetNegatives.rng(seed);
    let mut samples: Vec<usize> = boxes.iter().map(|b| b.sample).collect();
    samples.sort();
    samples.dedup();
    for &s in &samples {
        let mine: Vec<&ObjectBox> = boxes.iter().filter(|b| b.sample == s).collect();
        let mut outside = Vec::new();
        let mut positives = 0;
        for py in 0..r {
            for px in 0..r {
                if mine.iter().any(|b| inside(b, py, px)) {
                    rows.push(feature(s, py, px));
                    labels.push(true);
                    positives += 1;
                } else {
                    outside.push((py, px));
                }
            }
        }
        for _ in 0..(positives * negatives_per_positive).min(outside.len()) {
            let k = rng.random_range(0..outside.len());
            let (py, px) = outside.swap_remove(k);
            rows.push(feature(s, py, px));
            labels.push(false);
        }
    }
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(Error::Data(format!(
            "the boxes give {positives} positions inside and {negatives} outside; both are needed (boxes too small or covering whole images?)"
        )));
    }
    let records = Array2::from_shape_vec((rows.len(), c), rows.concat()).expect("rectangular");
    let targets = Array1::from_vec(labels);
    let data = Dataset::new(records, targets);
    let model = LogisticRegression::default()
        .max_iterations(300)
        .fit(&data)
        .map_err(|e| Error::Data(format!("logistic regression failed: {e}")))?;
    let predicted = model.predict(&data);
    let correct = predicted
        .iter()
        .zip(data.targets().iter())
        .filter(|(a, b)| a == b)
        .count();
    let weights: Vec<f64> = model.params().to_vec();
    let dropped = weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0.0)
        .map(|(i, _)| i)
        .collect();
    Ok(ForgetModel {
        weights,
        dropped,
        positives,
        negatives,
        train_accuracy: correct as f64 / data.nsamples() as f64,
    })
}

/// Images of `latents` with the `dropped` feature maps zeroed, `[n, c, s, s]`.
pub fn render_without(
    g: &Generator,
    latents: &[f32],
    latent_dim: usize,
    dropped: &[usize],
    width: usize,
    device: &Device,
) -> Vec<f32> {
    let mut keep = vec![1f32; width];
    for &d in dropped {
        keep[d] = 0.0;
    }
    let keep = Tensor::<1>::from_data(TensorData::new(keep, [width]), device);
    let n = latents.len() / latent_dim;
    let z = Tensor::<2>::from_data(TensorData::new(latents.to_vec(), [n, latent_dim]), device);
    g.forward_keeping(z, BnMode::Eval, keep)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

/// Load G and the latents of a sheet.
pub fn generator(ckpt: &Checkpoint, device: &Device) -> Result<Generator> {
    ckpt.unconditional_generator(device, "forget")
}
