//! Guided backpropagation (Springenberg et al., 2015) on D (paper §6.2, Fig. 5): for a feature of
//! D's last convolutional layer, the images that activate it most and the input pattern each
//! response comes from.
//!
//! The backward pass is written out here, on the inference device, rather than taken from
//! autodiff: guided backpropagation changes the activation's backward rule (a gradient passes
//! only where the forward input was positive *and* the gradient is positive), which burn's
//! autodiff cannot be told. With `guided = false` the same code uses the true LeakyReLU
//! derivative and equals autodiff's gradient (tested). BatchNorm uses running statistics.

use std::sync::Arc;

use burn::tensor::module::conv_transpose2d;
use burn::tensor::ops::ConvTransposeOptions;
use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use crate::Result;
use crate::data::{Dataset, Loader, Transform};
use crate::model::{BnMode, Discriminator};

/// Per image: (channel f at the position where it is largest, that value).
fn argmax_positions(a: &Tensor<4>, feature: usize) -> Vec<(usize, f32)> {
    let [n, _, h, w] = a.dims();
    let ch = a.clone().slice([0..n, feature..feature + 1, 0..h, 0..w]);
    let v = ch
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32");
    (0..n)
        .map(|i| {
            let s = &v[i * h * w..(i + 1) * h * w];
            let (p, m) =
                s.iter().enumerate().fold(
                    (0, f32::MIN),
                    |acc, (j, &x)| if x > acc.1 { (j, x) } else { acc },
                );
            (p, m)
        })
        .collect()
}

/// The gradient of feature `feature` of D's last block (at each image's strongest position) with
/// respect to the images `x` `[n, c, s, s]`; guided or plain.
pub fn backprop(d: &Discriminator, x: Tensor<4>, feature: usize, guided: bool) -> Tensor<4> {
    let device = x.device();
    // Forward, keeping each block's input and pre-activation.
    let mut inputs = Vec::new();
    let mut pre = Vec::new();
    let mut a = x;
    for block in &d.blocks {
        inputs.push(a.clone());
        let mut h = block.conv.forward(a);
        if let Some(norm) = &block.norm {
            h = norm.forward(h, BnMode::Eval);
        }
        pre.push(h.clone());
        a = crate::model::leaky_relu(h, d.leaky_slope);
    }
    let [n, c, hh, ww] = a.dims();
    let mut seed = vec![0f32; n * c * hh * ww];
    for (i, (p, _)) in argmax_positions(&a, feature).into_iter().enumerate() {
        seed[((i * c) + feature) * hh * ww + p] = 1.0;
    }
    let mut g = Tensor::<4>::from_data(TensorData::new(seed, [n, c, hh, ww]), &device);
    for (i, block) in d.blocks.iter().enumerate().rev() {
        let h = &pre[i];
        let negative = h.clone().lower_equal_elem(0.0);
        g = if guided {
            let g = g.clone().mask_fill(g.lower_equal_elem(0.0), 0.0);
            g.mask_fill(negative, 0.0)
        } else {
            let pos = g.clone().mask_fill(negative.clone(), 0.0);
            let neg = g
                .mask_fill(negative.bool_not(), 0.0)
                .mul_scalar(d.leaky_slope);
            pos.add(neg)
        };
        if let Some(norm) = &block.norm {
            let [ch] = norm.gamma.dims();
            let scale = norm.gamma.val().div(
                norm.running_var
                    .value()
                    .to_device(&device)
                    .add_scalar(norm.eps)
                    .sqrt(),
            );
            g = g.mul(scale.reshape([1, ch, 1, 1]));
        }
        let w = block.conv.weight.val(); // [out, in, k, k]: as a transposed conv it maps out → in
        let [_, _, k, _] = w.dims();
        let (s, p) = (block.conv.stride, block.conv.padding);
        let [_, _, hin, _] = inputs[i].dims();
        let [_, _, hout, _] = g.dims();
        let out_pad = hin - ((hout - 1) * s + k - 2 * p);
        g = conv_transpose2d(
            g,
            w,
            None,
            ConvTransposeOptions::new([s, s], [p, p], [out_pad, out_pad], [1, 1], 1),
        );
    }
    g
}

/// One feature's strongest images in a data set.
#[derive(Serialize, Clone, Debug)]
pub struct TopImages {
    /// Index of the feature map (channel) in the layer.
    pub feature: usize,
    /// (item index, activation), strongest first.
    pub items: Vec<(usize, f32)>,
}

/// For features `0..features` of D's last block, the `top` items of `dataset` (its first `limit`)
/// with the largest activation.
pub(crate) fn top_images(
    d: &Discriminator,
    dataset: Arc<dyn Dataset>,
    transform: Transform,
    features: usize,
    top: usize,
    limit: usize,
    device: &Device,
) -> Result<Vec<TopImages>> {
    let n = dataset.len().min(limit);
    let batch = 64.min(n.max(1));
    let mut best: Vec<Vec<(usize, f32)>> = vec![Vec::new(); features];
    let loader = Loader::sequential(dataset, n, batch, transform)?;
    let s = transform.size;
    for b in loader {
        let b = b?;
        if b.count == 0 {
            continue;
        }
        let x = Tensor::<4>::from_data(
            TensorData::new(b.images, [b.count, transform.channels, s, s]),
            device,
        );
        let feats = d.features(x, BnMode::Eval);
        let last = feats.last().expect("D has blocks");
        for (f, list) in best
            .iter_mut()
            .enumerate()
            .take(features.min(last.dims()[1]))
        {
            for (j, (_, v)) in argmax_positions(last, f).into_iter().enumerate() {
                let item = b.items[j];
                if !list.iter().any(|(i, _)| *i == item) {
                    list.push((item, v));
                }
            }
            list.sort_by(|a, b| b.1.total_cmp(&a.1));
            list.truncate(top);
        }
    }
    Ok(best
        .into_iter()
        .enumerate()
        .map(|(feature, items)| TopImages { feature, items })
        .collect())
}

/// Scale a gradient image to [−1, 1] for display: its largest |value| becomes ±1, zero stays grey.
pub fn normalise(g: &[f32]) -> Vec<f32> {
    let m = g.iter().fold(0f32, |a, v| a.max(v.abs())).max(1e-12);
    g.iter().map(|v| v / m).collect()
}
