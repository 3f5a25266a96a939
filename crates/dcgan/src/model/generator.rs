//! G: z → image in [−1, 1].
//!
//! Kernel 4 (pytorch/examples, generalised): ConvT(nz → C, k4 s1 p0) to a 4×4 map, then
//! ConvT(k4 s2 p1) layers halving the channels, each with BatchNorm + ReLU, then
//! ConvT(→ nc, k4 s2 p1) + Tanh. C = ngf·2^(k−1) for image size 4·2^k.
//!
//! Kernel 5 (the authors' Theano code): a dense projection of z to C·4·4 with BatchNorm + ReLU,
//! reshaped to a 4×4 map, then ConvT(k5 s2 p2, output padding 1) layers.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::layers::{BatchNorm, BnMode, ConvT, Dense};
use crate::config::ModelConfig;
use crate::kernels;
use crate::rng::Stream;

#[derive(Module, Debug)]
pub struct UpBlock {
    pub conv: ConvT,
    pub norm: BatchNorm,
}

#[derive(Module, Debug)]
pub struct Generator {
    /// Kernel-4 layout: z as a 1×1 map through a transposed convolution.
    pub project_conv: Option<ConvT>,
    /// Kernel-5 layout: a dense projection of z.
    pub project_dense: Option<Dense>,
    pub project_norm: BatchNorm,
    pub blocks: Vec<UpBlock>,
    pub output: ConvT,
    pub latent_dim: usize,
    pub base_channels: usize,
}

impl Generator {
    /// A freshly initialised G; weights drawn from `seed`'s init stream.
    pub fn new(cfg: &ModelConfig, seed: u64, device: &Device) -> Self {
        let rng = &mut Stream::GeneratorInit.rng(seed);
        let k = cfg.upsamplings();
        let c0 = cfg.generator_width << (k - 1);
        let (eps, mom) = (cfg.batch_norm_eps, cfg.batch_norm_momentum);
        let (kernel, pad, out_pad) = match cfg.kernel_size {
            4 => (4, 1, 0),
            _ => (5, 2, 1),
        };
        let (project_conv, project_dense, project_norm) = if cfg.kernel_size == 4 {
            let conv = ConvT::new(cfg.latent_dim, c0, 4, 1, 0, 0, rng, device);
            (Some(conv), None, BatchNorm::new(c0, eps, mom, rng, device))
        } else {
            let dense = Dense::new(cfg.latent_dim, c0 * 16, rng, device);
            (
                None,
                Some(dense),
                BatchNorm::new(c0 * 16, eps, mom, rng, device),
            )
        };
        let blocks = (1..k)
            .map(|i| {
                let cin = c0 >> (i - 1);
                let conv = ConvT::new(cin, cin / 2, kernel, 2, pad, out_pad, rng, device);
                UpBlock {
                    conv,
                    norm: BatchNorm::new(cin / 2, eps, mom, rng, device),
                }
            })
            .collect();
        let last = cfg.generator_width;
        let output = ConvT::new(last, cfg.channels, kernel, 2, pad, out_pad, rng, device);
        Self {
            project_conv,
            project_dense,
            project_norm,
            blocks,
            output,
            latent_dim: cfg.latent_dim,
            base_channels: c0,
        }
    }

    /// `z`: `[batch, nz]` → `[batch, nc, size, size]` in [−1, 1].
    pub fn forward(&self, z: Tensor<2>, mode: BnMode) -> Tensor<4> {
        kernels::tanh(self.output.forward(self.hidden(z, mode)))
    }

    /// As [`Generator::forward`], with the feature maps of the last hidden layer multiplied by
    /// `keep` (`[ngf]`, 1 keeps a map, 0 drops it at every position): the paper's §6.1.
    pub fn forward_keeping(&self, z: Tensor<2>, mode: BnMode, keep: Tensor<1>) -> Tensor<4> {
        let [c] = keep.dims();
        let h = self.hidden(z, mode).mul(keep.reshape([1, c, 1, 1]));
        kernels::tanh(self.output.forward(h))
    }

    /// The last hidden layer's activations (after BatchNorm + ReLU), the input of the output
    /// layer: G's "second-highest convolutional layer", `[batch, ngf, size/2, size/2]`.
    pub fn hidden(&self, z: Tensor<2>, mode: BnMode) -> Tensor<4> {
        let [batch, _] = z.dims();
        let mut x = if let Some(conv) = &self.project_conv {
            let x = conv.forward(z.reshape([batch, self.latent_dim, 1, 1])); // [b, C, 4, 4]
            self.project_norm.forward_act(x, mode, 0.0) // ReLU
        } else {
            let dense = self.project_dense.as_ref().expect("G has a projection");
            let x = self.project_norm.forward_act(dense.forward(z), mode, 0.0); // [b, C·16]
            x.reshape([batch, self.base_channels, 4, 4])
        };
        for block in &self.blocks {
            x = block.norm.forward_act(block.conv.forward(x), mode, 0.0); // [b, C/2^i, 4·2^i, ..]
        }
        x // [b, ngf, size/2, size/2]
    }
}
