//! D: image → logit of "real".
//!
//! Kernel 4: Conv(k4 s2 p1) layers doubling the channels with LeakyReLU(0.2), no BatchNorm on
//! the first, BatchNorm on the others, down to a 4×4 map; then Conv(→ 1, k4 s1 p0). Kernel 5
//! (the authors' code): Conv(k5 s2 p2) layers, then a dense layer on the flattened 4×4 map.
//! The sigmoid is applied by the loss (binary cross-entropy on logits is the same function,
//! computed without overflow) or by [`Discriminator::probabilities`].

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use super::layers::{BatchNorm, BnMode, Conv, Dense};
use super::leaky_relu;
use crate::config::ModelConfig;
use crate::rng::Stream;

#[derive(Module, Debug)]
pub struct DownBlock {
    pub conv: Conv,
    pub norm: Option<BatchNorm>,
}

#[derive(Module, Debug)]
pub struct Discriminator {
    pub blocks: Vec<DownBlock>,
    /// Kernel-4 layout.
    pub output_conv: Option<Conv>,
    /// Kernel-5 layout.
    pub output_dense: Option<Dense>,
    pub leaky_slope: f64,
}

impl Discriminator {
    pub fn new(cfg: &ModelConfig, seed: u64, device: &Device) -> Self {
        // A stream of its own, so G's and D's initial weights do not depend on each other's sizes.
        let rng = &mut Stream::DiscriminatorInit.rng(seed);
        let k = cfg.upsamplings();
        let (kernel, pad) = if cfg.kernel_size == 4 { (4, 1) } else { (5, 2) };
        let (eps, mom) = (cfg.batch_norm_eps, cfg.batch_norm_momentum);
        let blocks = (0..k)
            .map(|i| {
                let cin = if i == 0 {
                    cfg.channels
                } else {
                    cfg.discriminator_width << (i - 1)
                };
                let cout = cfg.discriminator_width << i;
                DownBlock {
                    conv: Conv::new(cin, cout, kernel, 2, pad, rng, device),
                    norm: (i > 0).then(|| BatchNorm::new(cout, eps, mom, rng, device)),
                }
            })
            .collect();
        let top = cfg.discriminator_width << (k - 1);
        let (output_conv, output_dense) = if cfg.kernel_size == 4 {
            (Some(Conv::new(top, 1, 4, 1, 0, rng, device)), None)
        } else {
            (None, Some(Dense::new(top * 16, 1, rng, device)))
        };
        Self {
            blocks,
            output_conv,
            output_dense,
            leaky_slope: cfg.leaky_slope,
        }
    }

    /// Every block's activation (after LeakyReLU), shallowest first: the features of §5.1.
    pub fn features(&self, x: Tensor<4>, mode: BnMode) -> Vec<Tensor<4>> {
        let mut out = Vec::with_capacity(self.blocks.len());
        let mut x = x;
        for block in &self.blocks {
            let h = block.conv.forward(x);
            x = match &block.norm {
                Some(norm) => norm.forward_act(h, mode, self.leaky_slope),
                None => leaky_relu(h, self.leaky_slope),
            };
            out.push(x.clone());
        }
        out
    }

    /// `x`: `[batch, nc, size, size]` in [−1, 1] → logits `[batch]`.
    pub fn forward(&self, x: Tensor<4>, mode: BnMode) -> Tensor<1> {
        let [batch, ..] = x.dims();
        let mut x = x;
        for block in &self.blocks {
            let h = block.conv.forward(x); // [b, ndf·2^i, size/2^(i+1), ..]
            x = match &block.norm {
                Some(norm) => norm.forward_act(h, mode, self.leaky_slope),
                None => leaky_relu(h, self.leaky_slope),
            };
        }
        match (&self.output_conv, &self.output_dense) {
            (Some(conv), _) => conv.forward(x).reshape([batch]), // [b, 1, 1, 1] → [b]
            (None, Some(dense)) => dense.forward(x.flatten(1, 3)).reshape([batch]),
            (None, None) => unreachable!("D has an output layer"),
        }
    }

    /// D(x) as probabilities.
    pub fn probabilities(&self, x: Tensor<4>, mode: BnMode) -> Tensor<1> {
        sigmoid(self.forward(x, mode))
    }
}
