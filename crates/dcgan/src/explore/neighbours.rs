//! The memorisation check: for generated samples, the nearest training images in pixel space
//! and in D's feature space (its last convolutional block, BatchNorm on running statistics). A
//! sample whose nearest training image is a near copy in both is memorised.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use crate::Result;
use crate::data::{Dataset, Loader, Transform};
use crate::model::{BnMode, Discriminator};

#[derive(Serialize, Clone, Debug, Default)]
/// A sample's nearest training images, in pixels and in D's features.
pub struct Nearest {
    /// (item index, Euclidean distance), nearest first.
    pub pixel: Vec<(usize, f32)>,
    /// (item index, Euclidean distance in D's last feature map), nearest first.
    pub feature: Vec<(usize, f32)>,
}

fn flat_features(d: &Discriminator, x: Tensor<4>) -> Vec<f32> {
    let f = d.features(x, BnMode::Eval).pop().expect("D has blocks");
    f.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

fn push(list: &mut Vec<(usize, f32)>, item: usize, dist: f32, k: usize) {
    if list.len() < k || dist < list[list.len() - 1].1 {
        list.push((item, dist));
        list.sort_by(|a, b| a.1.total_cmp(&b.1));
        list.truncate(k);
    }
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Where to look: the first `limit` items of `dataset`, prepared by `transform` (the model's
/// size and channels), keeping the `k` nearest.
#[derive(Clone)]
pub struct Search {
    /// The data set searched.
    pub dataset: Arc<dyn Dataset>,
    /// How its items are prepared (the model's size and channels).
    pub transform: Transform,
    /// Neighbours kept per sample.
    pub k: usize,
    /// Items searched: the first `limit` of the data set.
    pub limit: usize,
}

/// The `search.k` nearest items to each of the `n` `samples` (`[n, c, s, s]` in [−1, 1], already
/// at the model's size), in pixels and in D's features.
pub fn nearest(
    d: &Discriminator,
    samples: &[f32],
    n: usize,
    search: &Search,
    device: &Device,
) -> Result<Vec<Nearest>> {
    let Search {
        dataset,
        transform,
        k,
        limit,
    } = search.clone();
    let (c, s) = (transform.channels, transform.size);
    let per = c * s * s;
    let sample_feats = flat_features(
        d,
        Tensor::from_data(TensorData::new(samples.to_vec(), [n, c, s, s]), device),
    );
    let fper = sample_feats.len() / n;
    let total = dataset.len().min(limit);
    let batch = 128.min(total.max(1));
    let mut out = vec![Nearest::default(); n];
    for b in Loader::sequential(dataset, total, batch, transform)? {
        let b = b?;
        if b.count == 0 {
            continue;
        }
        let feats = flat_features(
            d,
            Tensor::from_data(
                TensorData::new(b.images.clone(), [b.count, c, s, s]),
                device,
            ),
        );
        for (j, &item) in b.items.iter().enumerate() {
            let img = &b.images[j * per..(j + 1) * per];
            let f = &feats[j * fper..(j + 1) * fper];
            for (q, near) in out.iter_mut().enumerate() {
                push(
                    &mut near.pixel,
                    item,
                    sq_dist(&samples[q * per..(q + 1) * per], img).sqrt(),
                    k,
                );
                push(
                    &mut near.feature,
                    item,
                    sq_dist(&sample_feats[q * fper..(q + 1) * fper], f).sqrt(),
                    k,
                );
            }
        }
    }
    Ok(out)
}
