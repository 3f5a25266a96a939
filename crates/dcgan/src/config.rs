//! Configuration. Raw command-line values are resolved into these structs and validated before
//! anything runs; the resolved [`RunConfig`] is written to `RUN_DIR/config.json` and embedded in
//! every checkpoint, so every later command rebuilds the networks from the run itself.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

use crate::{Error, Result};

/// Distribution of the latent code z.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LatentDistribution {
    /// N(0, 1), as pytorch/examples and most later DCGAN code.
    #[default]
    Normal,
    /// U(-1, 1), the paper's choice (§4).
    Uniform,
}

/// The architecture of G and D (paper §3, generalised as pytorch/examples does).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Side of the square images, 4·2^k: 32, 64 or 128 (any 4·2^k ≥ 16 works).
    pub image_size: usize,
    /// Image channels (`nc`): 1 grey, 3 RGB.
    pub channels: usize,
    /// Size of the latent code (`nz`); 100 in the paper.
    pub latent_dim: usize,
    /// Width of G's last hidden layer (`ngf`); layers above it double it.
    pub generator_width: usize,
    /// Width of D's first layer (`ndf`); layers below it double it.
    pub discriminator_width: usize,
    /// 4 (pytorch/examples) or 5 (the authors' Theano code: 5×5 kernels, a dense projection of z
    /// in G and a dense output layer in D).
    pub kernel_size: usize,
    /// Distribution of z.
    #[serde(default)]
    pub latent_distribution: LatentDistribution,
    /// BatchNorm epsilon (PyTorch default).
    pub batch_norm_eps: f64,
    /// BatchNorm running-statistics momentum (PyTorch default).
    pub batch_norm_momentum: f64,
    /// Negative slope of D's LeakyReLU (paper: 0.2).
    pub leaky_slope: f64,
    /// The class names of a class-conditional DCGAN (`--conditional`), in label order; empty for
    /// the paper's unconditional one. G takes the class as a one-hot vector after z (Mirza &
    /// Osindero's conditional GAN); D is conditioned by projection (Miyato & Koyama 2018): its
    /// logit gains ⟨embed(y), Σ features⟩ over its last hidden layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            image_size: 64,
            channels: 3,
            latent_dim: 100,
            generator_width: 64,
            discriminator_width: 64,
            kernel_size: 4,
            latent_distribution: LatentDistribution::Normal,
            batch_norm_eps: 1e-5,
            batch_norm_momentum: 0.1,
            leaky_slope: 0.2,
            classes: Vec::new(),
        }
    }
}

impl ModelConfig {
    /// The number of classes G and D are conditioned on; 0 for the paper's unconditional DCGAN.
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// G's input width: z, then the class as one-hot when conditional.
    pub fn generator_input(&self) -> usize {
        self.latent_dim + self.class_count()
    }

    /// Width of D's last hidden layer, the features its class projection reads.
    pub fn discriminator_top(&self) -> usize {
        self.discriminator_width << (self.upsamplings() - 1)
    }

    /// Number of stride-2 layers: image_size = 4·2^k.
    pub fn upsamplings(&self) -> usize {
        (self.image_size / 4).trailing_zeros() as usize
    }

    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        let s = self.image_size;
        if s < 16 || !s.is_multiple_of(4) || !(s / 4).is_power_of_two() {
            return Err(Error::config(
                "image size",
                s,
                "must be 4·2^k with k ≥ 2 (16, 32, 64, 128, ...)",
            ));
        }
        if s > 1024 {
            return Err(Error::config("image size", s, "must be at most 1024"));
        }
        if self.channels != 1 && self.channels != 3 {
            return Err(Error::config(
                "channels",
                self.channels,
                "must be 1 (grey) or 3 (RGB)",
            ));
        }
        if self.latent_dim == 0 {
            return Err(Error::config("latent size", 0, "must be positive"));
        }
        if self.class_count() == 1 || self.class_count() > MAX_CLASSES {
            return Err(Error::config(
                "number of classes",
                self.class_count(),
                format!("a conditional model needs 2 to {MAX_CLASSES} classes"),
            ));
        }
        if self.generator_width == 0 || self.discriminator_width == 0 {
            return Err(Error::config("width", 0, "must be positive"));
        }
        if self.generator_width > MAX_WIDTH || self.discriminator_width > MAX_WIDTH {
            return Err(Error::config(
                "width",
                self.generator_width.max(self.discriminator_width),
                format!("must be at most {MAX_WIDTH}"),
            ));
        }
        if self.kernel_size != 4 && self.kernel_size != 5 {
            return Err(Error::config(
                "kernel size",
                self.kernel_size,
                "must be 4 (pytorch/examples layout) or 5 (the authors' layout)",
            ));
        }
        if self.batch_norm_eps.is_nan()
            || self.batch_norm_eps <= 0.0
            || !(0.0..=1.0).contains(&self.batch_norm_momentum)
        {
            return Err(Error::config(
                "batch norm settings",
                format!(
                    "eps {} momentum {}",
                    self.batch_norm_eps, self.batch_norm_momentum
                ),
                "eps must be positive and momentum in [0, 1]",
            ));
        }
        let params = self.weight_count();
        if params > MAX_PARAMETERS {
            return Err(Error::config(
                "model size",
                format!("{params:.3e} parameters"),
                format!(
                    "must be at most {MAX_PARAMETERS:.0e} parameters (the weights alone would take {:.0} GiB); lower the widths or the latent size",
                    params * 4.0 / (1u64 << 30) as f64
                ),
            ));
        }
        Ok(())
    }

    /// The convolution and dense weights of G and D together (BatchNorm's few are left out),
    /// in floating point so that absurd sizes do not overflow.
    pub fn weight_count(&self) -> f64 {
        self.generator_plan()
            .iter()
            .chain(&self.discriminator_plan())
            .map(Layer::weight_count)
            .sum::<f64>()
            + (self.class_count() * self.discriminator_top()) as f64 // D's class embedding
    }

    /// G's layers, input first: the one description of G's architecture that the model, the
    /// PyTorch key layout, the weight count and the benchmark's profile read.
    ///
    /// Kernel 4 (pytorch/examples, generalised): ConvT(nz → C, k4 s1 p0) to a 4×4 map, then
    /// ConvT(k4 s2 p1) layers halving the channels, each with BatchNorm + ReLU, then
    /// ConvT(→ nc, k4 s2 p1) + Tanh; C = ngf·2^(k−1) for image size 4·2^k. Kernel 5 (the
    /// authors' Theano code): a dense projection of z to C·4·4 with BatchNorm + ReLU, reshaped
    /// to a 4×4 map, then ConvT(k5 s2 p2, output padding 1) layers.
    pub fn generator_plan(&self) -> Vec<Layer> {
        let k = self.upsamplings();
        let top = self.generator_width << (k - 1);
        let (kernel, padding, output_padding) = self.stride2_geometry();
        let first = if self.kernel_size == 4 {
            Layer {
                name: "project_conv".into(),
                kind: LayerKind::ConvTranspose,
                in_channels: self.generator_input(),
                out_channels: top,
                in_side: 1,
                out_side: 4,
                kernel: 4,
                stride: 1,
                padding: 0,
                output_padding: 0,
                norm: Some(("project_norm".into(), top)),
                activation: Activation::Relu,
            }
        } else {
            Layer {
                name: "project_dense".into(),
                kind: LayerKind::Dense,
                in_channels: self.generator_input(),
                out_channels: top * 16,
                in_side: 1,
                out_side: 4,
                kernel: 1,
                stride: 1,
                padding: 0,
                output_padding: 0,
                norm: Some(("project_norm".into(), top * 16)),
                activation: Activation::Relu,
            }
        };
        let up = |name: String, cin: usize, cout: usize, side: usize, norm, activation| Layer {
            name,
            kind: LayerKind::ConvTranspose,
            in_channels: cin,
            out_channels: cout,
            in_side: side,
            out_side: side * 2,
            kernel,
            stride: 2,
            padding,
            output_padding,
            norm,
            activation,
        };
        let mut plan = vec![first];
        for i in 0..k - 1 {
            let (cin, side) = (top >> i, 4 << i);
            plan.push(up(
                format!("blocks.{i}.conv"),
                cin,
                cin / 2,
                side,
                Some((format!("blocks.{i}.norm"), cin / 2)),
                Activation::Relu,
            ));
        }
        plan.push(up(
            "output".into(),
            self.generator_width,
            self.channels,
            self.image_size / 2,
            None,
            Activation::Tanh,
        ));
        plan
    }

    /// D's layers, input first (see [`ModelConfig::generator_plan`]). Kernel 4: Conv(k4 s2 p1)
    /// layers doubling the channels with LeakyReLU, BatchNorm on all but the first, down to a
    /// 4×4 map; then Conv(→ 1, k4 s1 p0). Kernel 5: Conv(k5 s2 p2) layers, then a dense layer
    /// on the flattened 4×4 map. The output is a logit: the sigmoid belongs to the loss.
    pub fn discriminator_plan(&self) -> Vec<Layer> {
        let k = self.upsamplings();
        let (kernel, padding, _) = self.stride2_geometry();
        let mut plan: Vec<Layer> = (0..k)
            .map(|i| {
                let cin = if i == 0 {
                    self.channels
                } else {
                    self.discriminator_width << (i - 1)
                };
                let cout = self.discriminator_width << i;
                let side = self.image_size >> i;
                Layer {
                    name: format!("blocks.{i}.conv"),
                    kind: LayerKind::Conv,
                    in_channels: cin,
                    out_channels: cout,
                    in_side: side,
                    out_side: side / 2,
                    kernel,
                    stride: 2,
                    padding,
                    output_padding: 0,
                    norm: (i > 0).then(|| (format!("blocks.{i}.norm"), cout)),
                    activation: Activation::LeakyRelu,
                }
            })
            .collect();
        let top = self.discriminator_width << (k - 1);
        plan.push(if self.kernel_size == 4 {
            Layer {
                name: "output_conv".into(),
                kind: LayerKind::Conv,
                in_channels: top,
                out_channels: 1,
                in_side: 4,
                out_side: 1,
                kernel: 4,
                stride: 1,
                padding: 0,
                output_padding: 0,
                norm: None,
                activation: Activation::Logit,
            }
        } else {
            Layer {
                name: "output_dense".into(),
                kind: LayerKind::Dense,
                in_channels: top * 16,
                out_channels: 1,
                in_side: 4,
                out_side: 1,
                kernel: 1,
                stride: 1,
                padding: 0,
                output_padding: 0,
                norm: None,
                activation: Activation::Logit,
            }
        });
        plan
    }

    /// (kernel, padding, output padding) of the stride-2 layers: 4, 1, 0 (pytorch/examples) or
    /// 5, 2, 1 (the authors' code, where the output padding makes a transposed layer double).
    fn stride2_geometry(&self) -> (usize, usize, usize) {
        if self.kernel_size == 4 {
            (4, 1, 0)
        } else {
            (5, 2, 1)
        }
    }
}

/// What a layer of G or D computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKind {
    /// A transposed convolution, weight `[in, out, k, k]` (G).
    ConvTranspose,
    /// A convolution, weight `[out, in, k, k]` (D).
    Conv,
    /// A matrix product, weight `[in, out]`: the kernel-5 layout's projection of z and D's output.
    Dense,
}

/// The activation after a layer (and its BatchNorm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// ReLU (G's hidden layers, paper §3).
    Relu,
    /// With [`ModelConfig::leaky_slope`].
    LeakyRelu,
    /// tanh (G's output layer).
    Tanh,
    /// None: D's logit (the sigmoid is part of the loss).
    Logit,
}

/// One layer of G or D, as [`ModelConfig::generator_plan`] and
/// [`ModelConfig::discriminator_plan`] describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The module path of its weight's owner (`project_conv`, `blocks.0.conv`, `output`, ...):
    /// checkpoint tensors are `<name>.weight`.
    pub name: String,
    /// What the layer does.
    pub kind: LayerKind,
    /// Input and output channels; for a dense layer, input and output features.
    pub in_channels: usize,
    /// Output channels (features, for a dense layer).
    pub out_channels: usize,
    /// Sides of the square input and output maps (a dense projection reads a vector, side 1,
    /// and its output is reshaped to 4×4; D's dense output reads the flattened 4×4 map).
    pub in_side: usize,
    /// Side of the square output map.
    pub out_side: usize,
    /// Kernel side (1 for a dense layer).
    pub kernel: usize,
    /// Convolution stride.
    pub stride: usize,
    /// Padding on each side.
    pub padding: usize,
    /// A transposed convolution's extra output rows and columns (the authors' kernel-5 layout).
    pub output_padding: usize,
    /// The BatchNorm after it: its module path and number of features.
    pub norm: Option<(String, usize)>,
    /// What follows the layer (after its BatchNorm, if any).
    pub activation: Activation,
}

impl Layer {
    /// Its weight's element count, in floating point (see [`ModelConfig::weight_count`]).
    pub fn weight_count(&self) -> f64 {
        let k2 = match self.kind {
            LayerKind::Dense => 1.0,
            _ => (self.kernel * self.kernel) as f64,
        };
        self.in_channels as f64 * self.out_channels as f64 * k2
    }
}

/// Widest G or D layer width (ngf, ndf) accepted.
const MAX_WIDTH: usize = 65_536;
/// The most classes a conditional model takes (ImageNet has 1,000; the embedding is K × width).
const MAX_CLASSES: usize = 100_000;

/// Most weights a model may have: 1e9 (4 GiB of f32, 16 GiB with Adam's moments and gradients).
const MAX_PARAMETERS: f64 = 1e9;

/// Adam, as in paper §4.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    /// 2e-4: the paper found 1e-3 too high.
    pub learning_rate: f64,
    /// 0.5: the paper found 0.9 oscillated and was unstable.
    pub beta1: f64,
    /// 0.999: Adam's default, kept by the paper.
    pub beta2: f64,
    /// 1e-8: PyTorch's default (burn's Adam defaults to 1e-5; this project writes its own Adam).
    pub epsilon: f64,
    /// D's learning rate, when it differs from `learning_rate` (`--lr-d`; TTUR, Heusel et al.
    /// 2017, trains D faster than G).
    #[serde(default)]
    pub lr_d: Option<f64>,
    /// G's learning rate, when it differs from `learning_rate` (`--lr-g`).
    #[serde(default)]
    pub lr_g: Option<f64>,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            learning_rate: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            epsilon: 1e-8,
            lr_d: None,
            lr_g: None,
        }
    }
}

impl OptimConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        for (name, lr) in [
            ("learning rate", Some(self.learning_rate)),
            ("lr-d", self.lr_d),
            ("lr-g", self.lr_g),
        ] {
            if let Some(lr) = lr
                && !(lr > 0.0 && lr.is_finite())
            {
                return Err(Error::config(name, lr, "must be positive and finite"));
            }
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::config(
                    if name == "beta1" { "beta1" } else { "beta2" },
                    b,
                    "must be in [0, 1)",
                ));
            }
        }
        Ok(())
    }
}

impl OptimConfig {
    /// G's Adam settings: `lr_g` in place of `learning_rate` when set.
    pub fn generator(&self) -> OptimConfig {
        self.with_rate(self.lr_g)
    }

    /// D's Adam settings: `lr_d` in place of `learning_rate` when set.
    pub fn discriminator(&self) -> OptimConfig {
        self.with_rate(self.lr_d)
    }

    fn with_rate(&self, rate: Option<f64>) -> OptimConfig {
        OptimConfig {
            learning_rate: rate.unwrap_or(self.learning_rate),
            lr_d: None,
            lr_g: None,
            ..self.clone()
        }
    }
}

/// The adversarial objective (`--loss`). Each is written on D's raw output (the logit).
/// Read from config.json through [`Loss::parse`], so a wrong name gets the command line's
/// message.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Loss {
    /// The paper's: binary cross-entropy, G's side non-saturating (maximise log D(G(z))).
    #[default]
    Bce,
    /// Hinge (Lim & Ye 2017, as in SNGAN/BigGAN): D minimises E[max(0, 1 − D(x))] +
    /// E[max(0, 1 + D(G(z)))], G minimises −E[D(G(z))].
    Hinge,
    /// Least squares (Mao et al. 2017, a = 0, b = c = 1): D minimises ½E[(D(x) − 1)²] +
    /// ½E[D(G(z))²], G minimises ½E[(D(G(z)) − 1)²].
    Lsgan,
}

impl Loss {
    /// Every loss, as the command line lists them.
    pub const ALL: [Loss; 3] = [Loss::Bce, Loss::Hinge, Loss::Lsgan];

    /// The name the command line and config.json use.
    pub fn name(self) -> &'static str {
        match self {
            Loss::Bce => "bce",
            Loss::Hinge => "hinge",
            Loss::Lsgan => "lsgan",
        }
    }

    /// The loss called `name`; the error lists the losses.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .ok_or_else(|| Error::config("loss", name, "must be bce, hinge or lsgan"))
    }
}

impl TryFrom<String> for Loss {
    type Error = Error;
    fn try_from(name: String) -> Result<Self> {
        Loss::parse(&name)
    }
}

/// One of DiffAugment's policies (`--augment color,translation,cutout`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Augmentation {
    /// Brightness, saturation and contrast.
    Color,
    /// A shift by up to an eighth of the side, zeros coming in.
    Translation,
    /// A square of half the side set to zero.
    Cutout,
}

impl Augmentation {
    /// Every policy, in the order they are applied.
    pub const ALL: [Augmentation; 3] = [
        Augmentation::Color,
        Augmentation::Translation,
        Augmentation::Cutout,
    ];

    /// The name the command line and config.json use.
    pub fn name(self) -> &'static str {
        match self {
            Augmentation::Color => "color",
            Augmentation::Translation => "translation",
            Augmentation::Cutout => "cutout",
        }
    }

    /// The policy called `name`; the error lists them.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                Error::config("augmentation", name, "must be color, translation or cutout")
            })
    }

    /// A comma-separated list (`color,translation`), each at most once, applied in the order
    /// of [`Augmentation::ALL`] whatever the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Self>> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let a = Self::parse(name)?;
            if out.contains(&a) {
                return Err(Error::config("augmentation", name, "is given twice"));
            }
            out.push(a);
        }
        out.sort_by_key(|a| Self::ALL.iter().position(|b| b == a));
        Ok(out)
    }
}

impl TryFrom<String> for Augmentation {
    type Error = Error;
    fn try_from(name: String) -> Result<Self> {
        Augmentation::parse(&name)
    }
}

/// An exponential moving average of G's weights (`--ema-decay`, `--ema-start`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmaConfig {
    /// After each G update from `start` on: avg ← decay·avg + (1 − decay)·G, for every weight and
    /// every BatchNorm running statistic alike. In (0, 1); 0.999 averages over about the last
    /// 1,000 steps.
    pub decay: f64,
    /// Until this step the average is a copy of G (early weights are far from later ones and
    /// would linger in the average).
    pub start: u64,
}

impl EmaConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        if !(self.decay > 0.0 && self.decay < 1.0) {
            return Err(Error::config(
                "EMA decay",
                self.decay,
                "must be between 0 and 1, both excluded (0.999 is usual)",
            ));
        }
        Ok(())
    }
}

/// What is added to the paper's recipe; the default is the paper's recipe itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecipeConfig {
    /// The adversarial objective.
    pub loss: Loss,
    /// D updates per G update (StudioGAN's DCGAN uses 2). Each D update takes its own real
    /// batch and latents; G's update reuses the last D update's fake batch, as the paper's
    /// code does with one.
    pub d_steps: u32,
    /// The averaged G, if kept.
    pub ema: Option<EmaConfig>,
    /// DiffAugment's policies applied to every batch D sees (empty: none).
    pub augment: Vec<Augmentation>,
}

impl Default for RecipeConfig {
    fn default() -> Self {
        Self {
            loss: Loss::Bce,
            d_steps: 1,
            ema: None,
            augment: Vec::new(),
        }
    }
}

impl RecipeConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.d_steps) {
            return Err(Error::config(
                "d-steps",
                self.d_steps,
                "must be between 1 and 100 D updates per G update",
            ));
        }
        if let Some(e) = &self.ema {
            e.validate()?;
        }
        for (i, a) in self.augment.iter().enumerate() {
            if self.augment[..i].contains(a) {
                return Err(Error::config("augmentation", a.name(), "is given twice"));
            }
        }
        Ok(())
    }

    /// True for the paper's recipe, with nothing added.
    pub fn is_paper(&self) -> bool {
        *self == Self::default()
    }
}

/// Where the images come from and how they are prepared.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// An image folder, an IDX file (or the folder holding one), a CIFAR-10 binary folder, or a
    /// well-known data set name (`fashion-mnist`, `mnist`).
    pub source: String,
    /// Decoding threads (0: all cores).
    pub workers: usize,
    /// Batches decoded ahead of the training step.
    pub prefetch: usize,
    /// Largest fraction of unreadable images tolerated before the run stops.
    pub max_bad_fraction: f64,
    /// A de-duplication report (`dcgan data dedup`): its duplicates are left out.
    #[serde(default)]
    pub exclude: Option<String>,
    /// What images with transparency are composited over (white for runs from before it was
    /// recorded).
    #[serde(default)]
    pub background: Background,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            source: String::new(),
            workers: 0,
            prefetch: 4,
            max_bad_fraction: 0.01,
            exclude: None,
            background: Background::WHITE,
        }
    }
}

impl DataConfig {
    /// The largest `prefetch`: batches held decoded ahead, each up to batch × 3 × side² floats.
    pub(crate) const MAX_PREFETCH: usize = 64;

    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        if self.workers > 1024 {
            return Err(Error::config(
                "workers",
                self.workers,
                "must be at most 1024 decoding threads",
            ));
        }
        if !(1..=Self::MAX_PREFETCH).contains(&self.prefetch) {
            return Err(Error::config(
                "prefetch",
                self.prefetch,
                format!(
                    "must be between 1 and {} batches decoded ahead",
                    Self::MAX_PREFETCH
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.max_bad_fraction) {
            return Err(Error::config(
                "max bad fraction",
                self.max_bad_fraction,
                "must be in [0, 1]",
            ));
        }
        Ok(())
    }
}

/// The training loop.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// 128, the paper's mini-batch size.
    pub batch_size: usize,
    /// Passes over the data.
    pub epochs: u64,
    /// Stop after this many steps in all, whatever `epochs` says.
    pub max_steps: Option<u64>,
    /// Seed of every random draw (initial weights, data order, latents).
    pub seed: u64,
    /// Write a sample grid of the fixed noise every N steps (and at every epoch's end).
    pub sample_every: u64,
    /// Write a checkpoint every N steps (and at every epoch's end).
    pub checkpoint_every: u64,
    /// Keep the newest N checkpoints (older ones are removed after a newer one is safely written).
    pub keep_checkpoints: usize,
    /// Images in the fixed-noise sample grid.
    pub sample_count: usize,
    /// Also write TensorBoard event files here: the log's scalars at every step, the
    /// evaluations, and each fixed-noise grid (`tensorboard --logdir` this folder).
    #[serde(default)]
    pub tensorboard: Option<std::path::PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            batch_size: 128,
            epochs: 5,
            max_steps: None,
            seed: 1,
            sample_every: 200,
            checkpoint_every: 200,
            keep_checkpoints: 3,
            sample_count: 64,
            tensorboard: None,
        }
    }
}

impl TrainConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config("epochs", 0, "must be at least 1"));
        }
        if self.max_steps == Some(0) {
            return Err(Error::config("max steps", 0, "must be at least 1"));
        }
        if self.batch_size > 65_536 {
            return Err(Error::config(
                "batch size",
                self.batch_size,
                "must be at most 65536",
            ));
        }
        if self.batch_size < 2 {
            return Err(Error::config(
                "batch size",
                self.batch_size,
                "must be at least 2 (BatchNorm needs two samples)",
            ));
        }
        if self.sample_every == 0 || self.checkpoint_every == 0 {
            return Err(Error::config(
                "interval",
                0,
                "sample and checkpoint intervals must be positive",
            ));
        }
        if self.keep_checkpoints == 0 {
            return Err(Error::config("keep checkpoints", 0, "must be at least 1"));
        }
        if self.sample_count == 0 {
            return Err(Error::config("sample count", 0, "must be positive"));
        }
        Ok(())
    }
}

/// How images become Inception's 299×299 input: each reference implementation's resize and
/// scaling, named as clean-fid names them. FIDs measured in different modes are not comparable.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum FidMode {
    /// pytorch-fid (and clean-fid's `legacy_pytorch`): PyTorch's bilinear `interpolate`
    /// (half-pixel centres, no antialiasing) of the float image, then `2x − 1` for x in [0, 1].
    /// The default: the implementation most published PyTorch figures come from.
    #[default]
    LegacyPytorch,
    /// clean-fid's default: PIL's bicubic filter on each float32 channel (antialiased when
    /// shrinking), clipped to [0, 255], then `(x − 128) / 128`.
    Clean,
    /// The TensorFlow metric code (TTUR, StyleGAN's `inception-2015-12-05.pt`): TensorFlow 1's
    /// bilinear resize (no half-pixel centres, edges repeated), then `(x − 128) / 128`.
    LegacyTensorflow,
    /// This project's pipeline before the modes existed: PyTorch's bilinear resize with the
    /// TensorFlow scaling `(x − 128) / 128`. For comparing with figures measured before; runs
    /// whose config.json predates `eval.fid_mode` keep it.
    LegacyDcgan,
}

impl FidMode {
    /// Every mode, in the order of the documentation.
    pub const ALL: [FidMode; 4] = [
        FidMode::LegacyPytorch,
        FidMode::Clean,
        FidMode::LegacyTensorflow,
        FidMode::LegacyDcgan,
    ];

    /// The name the command line, reports and clean-fid use.
    pub fn name(self) -> &'static str {
        match self {
            FidMode::LegacyPytorch => "legacy_pytorch",
            FidMode::Clean => "clean",
            FidMode::LegacyTensorflow => "legacy_tensorflow",
            FidMode::LegacyDcgan => "legacy_dcgan",
        }
    }

    /// The mode called `name`; the error lists the modes.
    pub fn parse(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::config(
                    "FID mode",
                    name,
                    "must be legacy_pytorch, clean, legacy_tensorflow or legacy_dcgan",
                )
            })
    }

    /// The mode of runs whose config.json has no `eval.fid_mode` (made before the modes).
    fn before_modes() -> Self {
        FidMode::LegacyDcgan
    }
}

impl std::fmt::Display for FidMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A score of G tracked while training (`--keep-best`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Fréchet Inception Distance (lower is better).
    Fid,
    /// Kernel Inception Distance (lower is better).
    Kid,
}

impl Metric {
    /// The name the command line and the reports use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Fid => "fid",
            Metric::Kid => "kid",
        }
    }
}

/// FID and KID of G while training (`dcgan train --eval-every`), against the real images'
/// statistics (cached, see `eval::fid_cache`). Nothing here changes what training does, so every
/// field may change before `--resume`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Evaluate every N steps and at the run's last step; 0: never.
    pub every: u64,
    /// Generated images per evaluation (a fixed latent set: `dcgan fid`'s for seed 0), and at
    /// most this many real images for the statistics. 5000: FID-5k, minutes on a CPU; compare
    /// FIDs only at equal N (FID's bias falls with N).
    pub samples: usize,
    /// The real images; `None`: the training data.
    pub data: Option<String>,
    /// Keep the checkpoint with the best value of this score as `checkpoints/best-<metric>.safetensors`.
    pub keep_best: Option<Metric>,
    /// How images are prepared for Inception (see [`FidMode`]); runs made before the field
    /// existed read `legacy_dcgan`, what they logged.
    #[serde(default = "FidMode::before_modes")]
    pub fid_mode: FidMode,
    /// Also precision, recall, density and coverage with this many neighbours (`None`: not).
    pub prdc_k: Option<usize>,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            every: 0,
            samples: 5000,
            data: None,
            keep_best: None,
            fid_mode: FidMode::default(),
            prdc_k: None,
        }
    }
}

/// Changes to a run's [`EvalConfig`] given with `--resume` (what is `None` stays).
#[derive(Clone, Debug, Default)]
pub struct EvalEdits {
    /// A new `eval.every`.
    pub every: Option<u64>,
    /// A new `eval.samples`.
    pub samples: Option<usize>,
    /// A new `eval.data`.
    pub data: Option<String>,
    /// A new `eval.keep_best`.
    pub keep_best: Option<Metric>,
    /// A new `eval.fid_mode`.
    pub fid_mode: Option<FidMode>,
    /// A new `eval.prdc_k`.
    pub prdc_k: Option<usize>,
}

impl EvalEdits {
    /// The edits made to `e`.
    pub fn apply(&self, e: &mut EvalConfig) {
        if let Some(v) = self.every {
            e.every = v;
        }
        if let Some(v) = self.samples {
            e.samples = v;
        }
        if let Some(v) = &self.data {
            e.data = Some(v.clone());
        }
        if let Some(v) = self.keep_best {
            e.keep_best = Some(v);
        }
        if let Some(v) = self.fid_mode {
            e.fid_mode = v;
        }
        if let Some(v) = self.prdc_k {
            e.prdc_k = Some(v);
        }
    }
}

impl EvalConfig {
    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        if self.every > 0 && self.samples < 2 {
            return Err(Error::config(
                "eval samples",
                self.samples,
                "FID needs at least 2 images per set",
            ));
        }
        if self.samples > 1_000_000 {
            return Err(Error::config(
                "eval samples",
                self.samples,
                "must be at most 1000000",
            ));
        }
        if let Some(k) = self.prdc_k
            && (k == 0 || k >= self.samples)
        {
            return Err(Error::config(
                "eval PRDC k",
                k,
                format!(
                    "must be at least 1 and less than the {} images of an evaluation",
                    self.samples
                ),
            ));
        }
        if let Some(metric) = self.keep_best
            && self.every == 0
        {
            return Err(Error::config(
                "keep best",
                metric.name(),
                "needs evaluations: give --eval-every N",
            ));
        }
        Ok(())
    }
}

/// Everything a run needs; saved as `RUN_DIR/config.json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// G's and D's architecture.
    pub model: ModelConfig,
    /// Adam's settings, one for each network.
    pub optim: OptimConfig,
    /// The objective, D updates per G update and the averaged G (runs from before it have the
    /// paper's recipe).
    #[serde(default)]
    pub recipe: RecipeConfig,
    /// Where the images come from and how they are read.
    pub data: DataConfig,
    /// Batch size, length, seed and what is written when.
    pub train: TrainConfig,
    /// FID/KID while training (off by default; runs from before it have none).
    #[serde(default)]
    pub eval: EvalConfig,
    /// Compute device: `flex` (CPU, default), `cuda`, `wgpu` when compiled in.
    #[serde(default = "default_device")]
    pub device: String,
}

fn default_device() -> String {
    "flex".into()
}

impl RunConfig {
    /// A run of `model` with every other setting at its default (the paper's recipe, on Flex):
    /// what a checkpoint holds when its weights come from elsewhere.
    pub fn with_model(model: ModelConfig) -> Self {
        Self {
            model,
            optim: OptimConfig::default(),
            recipe: RecipeConfig::default(),
            data: DataConfig::default(),
            train: TrainConfig::default(),
            eval: EvalConfig::default(),
            device: default_device(),
        }
    }

    /// Every value checked; the first one out of range is the error, naming it.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.optim.validate()?;
        self.recipe.validate()?;
        self.train.validate()?;
        self.eval.validate()?;
        self.data.validate()
    }

    /// What the run adds to or changes in the paper's recipe (§4: Adam at 2e-4 with β1 0.5,
    /// binary cross-entropy, one D step per G step), in words; empty for the paper's recipe.
    /// The training page and the start of `train` show it.
    pub fn departures(&self) -> Vec<String> {
        let (o, r) = (&self.optim, &self.recipe);
        let paper = OptimConfig::default();
        let mut out = Vec::new();
        if self.model.class_count() > 0 {
            out.push(format!(
                "class-conditional ({} classes)",
                self.model.class_count()
            ));
        }
        match r.loss {
            Loss::Bce => {}
            Loss::Hinge => out.push("hinge loss".to_string()),
            Loss::Lsgan => out.push("least-squares loss".to_string()),
        }
        if r.d_steps > 1 {
            out.push(format!("{} D steps per G step", r.d_steps));
        }
        if let Some(e) = &r.ema {
            out.push(if e.start > 0 {
                format!("EMA of G (decay {}, from step {})", e.decay, e.start)
            } else {
                format!("EMA of G (decay {})", e.decay)
            });
        }
        if !r.augment.is_empty() {
            let names: Vec<_> = r.augment.iter().map(|a| a.name()).collect();
            out.push(format!("DiffAugment {}", names.join(", ")));
        }
        let (lr_d, lr_g) = (o.discriminator().learning_rate, o.generator().learning_rate);
        if lr_d != lr_g {
            out.push(format!("learning rates D {lr_d}, G {lr_g}"));
        } else if lr_d != paper.learning_rate {
            out.push(format!("learning rate {lr_d}"));
        }
        if o.beta1 != paper.beta1 {
            out.push(format!("β1 {}", o.beta1));
        }
        out
    }

    /// `config.json` as written.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("config serialises")
    }

    /// `config.json` read back; `path` names it in errors.
    pub fn from_json(text: &str, path: &std::path::Path) -> Result<Self> {
        let c: RunConfig = serde_json::from_str(text)
            .map_err(|e| Error::format(path, format!("not a dcgan run config: {e}")))?;
        c.validate()?;
        Ok(c)
    }

    /// `config.json` read from `path`.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        use crate::error::IoContext;
        let text = std::fs::read_to_string(path).at(path)?;
        Self::from_json(&text, path)
    }
}

/// The folder layout of a run.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The run directory (`--out`).
    pub root: PathBuf,
}

impl RunDir {
    /// The layout of the run directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// `config.json`: the run configuration.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }
    /// `checkpoints/`: `step-NNNNNNNN.safetensors`, and the best by a metric.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }
    /// `samples/`: the fixed-noise grids.
    pub fn samples(&self) -> PathBuf {
        self.root.join("samples")
    }
    /// `log.jsonl`: one record a step.
    pub fn log(&self) -> PathBuf {
        self.root.join("log.jsonl")
    }
    /// `loss.png`: the curves of `log.jsonl`.
    pub fn loss_plot(&self) -> PathBuf {
        self.root.join("loss.png")
    }
}

/// The colour transparent pixels are composited over. White by default: transparent images are
/// mostly icons, emoji and clip art, drawn to be seen on a light page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Background(pub [u8; 3]);

impl Background {
    /// White (the default).
    pub const WHITE: Background = Background([255; 3]);
    /// Black.
    pub const BLACK: Background = Background([0; 3]);

    /// Whether the background is a grey level (grey images with alpha stay grey over it).
    pub fn is_grey(self) -> bool {
        let [r, g, b] = self.0;
        r == g && g == b
    }
}

impl Default for Background {
    fn default() -> Self {
        Background::WHITE
    }
}

impl std::fmt::Display for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Background::WHITE => f.write_str("white"),
            Background::BLACK => f.write_str("black"),
            Background([r, g, b]) => write!(f, "{r},{g},{b}"),
        }
    }
}

impl std::str::FromStr for Background {
    type Err = Error;

    /// `white`, `black`, or `R,G,B` with each 0–255.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::config(
                "background",
                format!("{s:?}"),
                "must be white, black or R,G,B (each 0 to 255)",
            )
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "white" => Ok(Background::WHITE),
            "black" => Ok(Background::BLACK),
            rgb => {
                let parts: Vec<&str> = rgb.split(',').map(str::trim).collect();
                let [r, g, b] = parts.as_slice() else {
                    return Err(bad());
                };
                let level = |p: &str| p.parse::<u8>().map_err(|_| bad());
                Ok(Background([level(r)?, level(g)?, level(b)?]))
            }
        }
    }
}

impl From<Background> for String {
    fn from(b: Background) -> String {
        b.to_string()
    }
}

impl TryFrom<String> for Background {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

// Checks shared by the configs of every task.

/// `value` ≥ 1, or an error naming `name`.
#[cfg(feature = "host")]
pub(crate) fn at_least_one(name: &'static str, value: usize) -> Result<()> {
    at_least(name, value, 1)
}

/// `value` ≥ `min`, or an error naming `name`.
#[cfg(feature = "host")]
pub(crate) fn at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(Error::config(
            name,
            value,
            format!("must be at least {min}"),
        ));
    }
    Ok(())
}

/// `value` ≤ `max`, or an error naming `name` (guards allocations sized by a user's number).
#[cfg(feature = "host")]
pub(crate) fn at_most(name: &'static str, value: usize, max: usize, why: &str) -> Result<()> {
    if value > max {
        return Err(Error::config(
            name,
            value,
            format!("must be at most {max} ({why})"),
        ));
    }
    Ok(())
}

/// A finite number in `[min, max]`, or an error naming `name`.
#[cfg(feature = "host")]
pub(crate) fn in_range(name: &'static str, value: f64, min: f64, max: f64) -> Result<()> {
    if !(value.is_finite() && value >= min && value <= max) {
        return Err(Error::config(
            name,
            value,
            format!("must be a finite number in [{min}, {max}]"),
        ));
    }
    Ok(())
}

/// Most images a task renders or reads in one go: bounded so that a mistyped count fails with a
/// message instead of an allocation the machine cannot make.
pub const MAX_IMAGES: usize = 1_000_000;

#[cfg(test)]
mod background_tests {
    use super::*;

    #[test]
    fn backgrounds_parse_and_print() {
        assert_eq!("white".parse::<Background>().unwrap(), Background::WHITE);
        assert_eq!(" Black ".parse::<Background>().unwrap(), Background::BLACK);
        let c: Background = "12, 34,255".parse().unwrap();
        assert_eq!(c, Background([12, 34, 255]));
        assert_eq!(c.to_string(), "12,34,255");
        assert_eq!(Background([255; 3]).to_string(), "white");
        for bad in ["grey", "1,2", "1,2,3,4", "0,0,256", "-1,0,0", ""] {
            assert_eq!(
                bad.parse::<Background>().unwrap_err().to_string(),
                format!(
                    "invalid background {bad:?}: must be white, black or R,G,B (each 0 to 255)"
                )
            );
        }
        let json = serde_json::to_string(&Background([1, 2, 3])).unwrap();
        assert_eq!(json, "\"1,2,3\"");
        assert_eq!(
            serde_json::from_str::<Background>(&json).unwrap(),
            Background([1, 2, 3])
        );
    }
}

#[cfg(test)]
mod recipe_tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn departures_name_what_differs_from_the_paper() {
        let mut c = RunConfig::with_model(ModelConfig::default());
        assert!(c.departures().is_empty());
        assert!(c.recipe.is_paper());
        c.recipe = RecipeConfig {
            loss: Loss::Hinge,
            d_steps: 2,
            ema: Some(EmaConfig {
                decay: 0.999,
                start: 1000,
            }),
            augment: vec![],
        };
        c.optim.lr_d = Some(4e-4);
        c.optim.lr_g = Some(1e-4);
        assert_eq!(
            c.departures(),
            [
                "hinge loss",
                "2 D steps per G step",
                "EMA of G (decay 0.999, from step 1000)",
                "learning rates D 0.0004, G 0.0001",
            ]
        );
        // One rate for both, not the paper's: said once.
        let mut c = RunConfig::with_model(ModelConfig::default());
        c.optim.lr_d = Some(1e-4);
        c.optim.learning_rate = 1e-4;
        assert_eq!(c.departures(), ["learning rate 0.0001"]);
        // A conditional model: first, with its number of classes.
        c.model.classes = vec!["cat".into(), "dog".into()];
        assert_eq!(
            c.departures(),
            ["class-conditional (2 classes)", "learning rate 0.0001"]
        );
    }

    #[test]
    fn classes_are_left_out_of_an_unconditional_config_and_checked() {
        let mut m = ModelConfig::default();
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("classes"), "{json}");
        assert_eq!(m.generator_input(), 100);
        m.classes = vec!["only".into()];
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "invalid number of classes 1: a conditional model needs 2 to 100000 classes"
        );
        m.classes = (0..10).map(|k| k.to_string()).collect();
        m.validate().unwrap();
        assert_eq!(m.generator_input(), 110);
        assert_eq!(m.generator_plan()[0].in_channels, 110);
        // D's embedding: 10 × ndf·8 (64×64: the last hidden layer has 512 channels).
        assert_eq!(m.discriminator_top(), 512);
        let plain = ModelConfig::default().weight_count();
        let extra = (10 * 512 + 10 * 512 * 16) as f64; // embedding, G's first-layer rows
        assert_eq!(m.weight_count(), plain + extra);
        let back: ModelConfig = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn a_config_without_a_recipe_reads_as_the_paper_and_a_bad_loss_is_named() {
        let c = RunConfig::with_model(ModelConfig::default());
        let mut v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
        v.as_object_mut().unwrap().remove("recipe");
        v["optim"].as_object_mut().unwrap().remove("lr_d");
        let back = RunConfig::from_json(&v.to_string(), Path::new("config.json")).unwrap();
        assert_eq!(back.recipe, RecipeConfig::default());
        v["recipe"] = serde_json::json!({"loss": "wgan-gp"});
        let e = RunConfig::from_json(&v.to_string(), Path::new("config.json"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("invalid loss wgan-gp: must be bce, hinge or lsgan"),
            "{e}"
        );
    }
}
