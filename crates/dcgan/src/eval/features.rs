//! D's features for classification (paper §5.1): every convolutional layer's output (after its
//! activation), max-pooled to a 4×4 grid, flattened and concatenated: 16·Σ channels values an
//! image (28,672 for the paper's ImageNet-32 D with 128, 128, 256, 256, 512, 512 channels).
//! BatchNorm runs on statistics re-estimated over the data first, as the authors' released SVHN
//! script does: the average of the batch statistics over the data set.

use std::sync::Arc;

use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::Result;
use crate::data::{Dataset, Loader, Transform};
use crate::model::{BnMode, Discriminator};
use crate::progress::{Events, Pass};

/// Every item of `ds` once, in order, in batches.
fn batches(ds: Arc<dyn Dataset>, t: Transform, batch: usize) -> Result<Loader> {
    Loader::sequential(ds, usize::MAX, batch, t)
}

/// Replace D's running BatchNorm statistics by the average of its batch statistics over `ds`
/// (at most `max_batches` batches; in each, every layer normalises with the batch's own
/// statistics, as in training).
pub fn reestimate_batchnorm(
    d: &Discriminator,
    ds: Arc<dyn Dataset>,
    t: Transform,
    batch: usize,
    max_batches: usize,
    device: &Device,
) -> Result<usize> {
    let mut d = d.clone();
    let mut seen = 0;
    for (k, b) in batches(ds, t, batch)?.enumerate() {
        if k >= max_batches {
            break;
        }
        let b = b?;
        if b.count < 2 {
            continue;
        }
        // Momentum 1/(k+1) makes the running value the mean of the k+1 batch values.
        for block in d.blocks.iter_mut() {
            if let Some(norm) = block.norm.as_mut() {
                norm.momentum = 1.0 / (seen as f64 + 1.0);
            }
        }
        let x = Tensor::<4>::from_data(
            TensorData::new(b.images, [b.count, t.channels, t.size, t.size]),
            device,
        );
        let _ = d.features(x, BnMode::Train).pop().map(|f| f.into_data());
        seen += 1;
    }
    // The RunningStates are shared with the caller's D (clones share them).
    Ok(seen)
}

/// Max-pool each block output to 4×4 and concatenate: `[b, 16·Σ channels]`.
pub fn pooled(d: &Discriminator, x: Tensor<4>) -> Tensor<2> {
    let [b, ..] = x.dims();
    let parts: Vec<Tensor<2>> = d
        .features(x, BnMode::Eval)
        .into_iter()
        .map(|f| {
            let [_, c, h, w] = f.dims();
            let f = if h > 4 {
                max_pool2d(f, MaxPoolOptions::new([h / 4, w / 4]))
            } else {
                f
            };
            f.reshape([b, c * 16])
        })
        .collect();
    Tensor::cat(parts, 1)
}

/// Features and labels (−1 for unlabelled or unreadable items) of every item of `ds`, reported
/// as a pass over `what`.
pub fn extract(
    d: &Discriminator,
    ds: Arc<dyn Dataset>,
    t: Transform,
    batch: usize,
    device: &Device,
    events: &mut dyn Events,
    what: &str,
) -> Result<(usize, Vec<f32>, Vec<i64>)> {
    let n = ds.len();
    let mut pass = Pass::begin(events, what, n);
    let mut dim = 0;
    let mut feats: Vec<Option<Vec<f32>>> = vec![None; n];
    let mut labels = vec![-1i64; n];
    let mut done = 0;
    for b in batches(ds.clone(), t, batch)? {
        let b = b?;
        if b.count == 0 {
            continue;
        }
        let x = Tensor::<4>::from_data(
            TensorData::new(b.images, [b.count, t.channels, t.size, t.size]),
            device,
        );
        let f = pooled(d, x);
        dim = f.dims()[1];
        let v = f
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        for (j, &item) in b.items.iter().enumerate() {
            feats[item] = Some(v[j * dim..(j + 1) * dim].to_vec());
            labels[item] = b.labels[j].map(|l| l as i64).unwrap_or(-1);
            done += 1;
        }
        pass.advance(done);
    }
    let flat = feats
        .into_iter()
        .flat_map(|f| f.unwrap_or_else(|| vec![0.0; dim]))
        .collect();
    Ok((dim, flat, labels))
}
