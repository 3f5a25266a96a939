//! G: z → image in [−1, 1], built from [`ModelConfig::generator_plan`] (which describes both
//! layouts: pytorch/examples' kernel 4 and the authors' kernel 5).

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::layers::{BatchNorm, BnMode, ConvT, Dense};
use crate::config::{Layer, LayerKind, ModelConfig};
use crate::kernels;
use crate::rng::Stream;

/// One hidden layer of G: a stride-2 transposed convolution, BatchNorm, ReLU.
#[derive(Module, Debug)]
pub struct UpBlock {
    /// The transposed convolution.
    pub conv: ConvT,
    /// Its BatchNorm.
    pub norm: BatchNorm,
}

/// G: z → image in [−1, 1] (paper §3: no pooling, no hidden dense layers, BatchNorm, ReLU, tanh).
#[derive(Module, Debug)]
pub struct Generator {
    /// Kernel-4 layout: z as a 1×1 map through a transposed convolution.
    pub project_conv: Option<ConvT>,
    /// Kernel-5 layout: a dense projection of z.
    pub project_dense: Option<Dense>,
    /// The projection's BatchNorm.
    pub project_norm: BatchNorm,
    /// The hidden layers, widest first.
    pub blocks: Vec<UpBlock>,
    /// The output layer (tanh follows, no BatchNorm).
    pub output: ConvT,
    /// Size of z.
    pub latent_dim: usize,
    /// Classes of a conditional G (0: unconditional); its input is z then the class one-hot.
    pub classes: usize,
    /// Channels of the 4×4 map the projection makes.
    pub base_channels: usize,
}

impl Generator {
    /// A freshly initialised G of [`ModelConfig::generator_plan`]; weights drawn from `seed`'s
    /// init stream, layer by layer (each weight, then its BatchNorm).
    pub fn new(cfg: &ModelConfig, seed: u64, device: &Device) -> Self {
        let rng = &mut Stream::GeneratorInit.rng(seed);
        let (eps, mom) = (cfg.batch_norm_eps, cfg.batch_norm_momentum);
        let norm = |layer: &Layer, rng: &mut _| {
            let (_, features) = layer
                .norm
                .as_ref()
                .expect("G's hidden layers have BatchNorm");
            BatchNorm::new(*features, eps, mom, rng, device)
        };
        let plan = cfg.generator_plan();
        let (project, rest) = plan.split_first().expect("G has layers");
        let (output, hidden) = rest.split_last().expect("G has an output layer");
        let (project_conv, project_dense) = match project.kind {
            LayerKind::Dense => (None, Some(Dense::new(project, rng, device))),
            _ => (Some(ConvT::new(project, rng, device)), None),
        };
        let project_norm = norm(project, rng);
        let blocks = hidden
            .iter()
            .map(|layer| UpBlock {
                conv: ConvT::new(layer, rng, device),
                norm: norm(layer, rng),
            })
            .collect();
        Self {
            project_conv,
            project_dense,
            project_norm,
            blocks,
            output: ConvT::new(output, rng, device),
            latent_dim: cfg.latent_dim,
            classes: cfg.class_count(),
            base_channels: output_of_projection(project),
        }
    }

    /// G's input width: `nz`, plus the classes of a conditional G.
    pub fn input_dim(&self) -> usize {
        self.latent_dim + self.classes
    }

    /// `z`: `[batch, nz]` (a conditional G: `[batch, nz + K]`, each latent followed by its class
    /// one-hot, see [`super::inference::conditioned`]) → `[batch, nc, size, size]` in [−1, 1].
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
            let x = conv.forward(z.reshape([batch, self.input_dim(), 1, 1])); // [b, C, 4, 4]
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

/// The channels of the 4×4 map the projection makes (a dense projection's features / 16).
fn output_of_projection(project: &Layer) -> usize {
    match project.kind {
        LayerKind::Dense => project.out_channels / 16,
        _ => project.out_channels,
    }
}
