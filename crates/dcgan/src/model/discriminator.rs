//! D: image → logit of "real", built from [`ModelConfig::discriminator_plan`] (both layouts).
//! The sigmoid is applied by the loss (binary cross-entropy on logits is the same function,
//! computed without overflow) or by [`Discriminator::probabilities`].

use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};

use super::layers::{BatchNorm, BnMode, Conv, Dense, WEIGHT_STD};
use super::leaky_relu;
use crate::config::{LayerKind, ModelConfig};
use crate::rng::Stream;

/// One layer of D: a stride-2 convolution, BatchNorm (not on the first), LeakyReLU.
#[derive(Module, Debug)]
pub struct DownBlock {
    /// The convolution.
    pub conv: Conv,
    /// Its BatchNorm (none on the input layer).
    pub norm: Option<BatchNorm>,
}

/// D: image → logit (paper §3: strided convolutions, BatchNorm, LeakyReLU).
#[derive(Module, Debug)]
pub struct Discriminator {
    /// The layers, input first.
    pub blocks: Vec<DownBlock>,
    /// Kernel-4 layout.
    pub output_conv: Option<Conv>,
    /// Kernel-5 layout.
    pub output_dense: Option<Dense>,
    /// A conditional D's class embedding `[K, C]` (C: the last hidden layer's width): the
    /// projection term ⟨embedding(y), Σ_positions h⟩ is added to the logit (Miyato & Koyama
    /// 2018). None for the paper's unconditional D.
    pub embedding: Option<Param<Tensor<2>>>,
    /// Negative slope of the LeakyReLU.
    pub leaky_slope: f64,
}

impl Discriminator {
    /// A freshly initialised D of [`ModelConfig::discriminator_plan`]; weights drawn from
    /// `seed`'s init stream, layer by layer (each weight, then its BatchNorm).
    pub fn new(cfg: &ModelConfig, seed: u64, device: &Device) -> Self {
        // A stream of its own, so G's and D's initial weights do not depend on each other's sizes.
        let rng = &mut Stream::DiscriminatorInit.rng(seed);
        let (eps, mom) = (cfg.batch_norm_eps, cfg.batch_norm_momentum);
        let plan = cfg.discriminator_plan();
        let (output, hidden) = plan.split_last().expect("D has an output layer");
        let blocks = hidden
            .iter()
            .map(|layer| {
                let conv = Conv::new(layer, rng, device);
                let norm = layer
                    .norm
                    .as_ref()
                    .map(|(_, features)| BatchNorm::new(*features, eps, mom, rng, device));
                DownBlock { conv, norm }
            })
            .collect();
        let (output_conv, output_dense) = match output.kind {
            LayerKind::Dense => (None, Some(Dense::new(output, rng, device))),
            _ => (Some(Conv::new(output, rng, device)), None),
        };
        // Drawn last, so an unconditional D's weights are those of a seed whatever the classes.
        let embedding = (cfg.class_count() > 0).then(|| {
            let shape = [cfg.class_count(), cfg.discriminator_top()];
            let values = crate::rng::normal(rng, shape[0] * shape[1], 0.0, WEIGHT_STD);
            Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
        });
        Self {
            blocks,
            output_conv,
            output_dense,
            embedding,
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

    /// `x`: `[batch, nc, size, size]` in [−1, 1] → logits `[batch]`. A conditional D scores
    /// without its class term here (the class-agnostic part of its logit); see
    /// [`Discriminator::forward_labelled`].
    pub fn forward(&self, x: Tensor<4>, mode: BnMode) -> Tensor<1> {
        self.forward_labelled(x, mode, None)
    }

    /// As [`Discriminator::forward`]; a conditional D given `labels` (one-hot, `[batch, K]`)
    /// adds the projection term ⟨embedding·y, Σ_{positions} h⟩ of its last hidden layer h.
    pub fn forward_labelled(
        &self,
        x: Tensor<4>,
        mode: BnMode,
        labels: Option<Tensor<2>>,
    ) -> Tensor<1> {
        let [batch, ..] = x.dims();
        let mut x = x;
        for block in &self.blocks {
            let h = block.conv.forward(x); // [b, ndf·2^i, size/2^(i+1), ..]
            x = match &block.norm {
                Some(norm) => norm.forward_act(h, mode, self.leaky_slope),
                None => leaky_relu(h, self.leaky_slope),
            };
        }
        let projection = match (&self.embedding, labels) {
            (Some(e), Some(y)) => {
                let [_, c, ..] = x.dims();
                let pooled = x.clone().sum_dim(3).sum_dim(2).reshape([batch, c]); // Σ over positions
                let class = y.matmul(e.val()); // [b, C]: each image's class embedding
                Some(class.mul(pooled).sum_dim(1).reshape([batch]))
            }
            _ => None,
        };
        let logit = match (&self.output_conv, &self.output_dense) {
            (Some(conv), _) => conv.forward(x).reshape([batch]), // [b, 1, 1, 1] → [b]
            (None, Some(dense)) => dense.forward(x.flatten(1, 3)).reshape([batch]),
            (None, None) => unreachable!("D has an output layer"),
        };
        match projection {
            Some(p) => logit.add(p),
            None => logit,
        }
    }

    /// D(x) as probabilities.
    pub fn probabilities(&self, x: Tensor<4>, mode: BnMode) -> Tensor<1> {
        sigmoid(self.forward(x, mode))
    }
}
