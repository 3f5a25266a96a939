//! The exponential moving average of G's weights (`--ema-decay`, Yazıcı et al. 2019), which
//! samples, scores and exports use in place of G when a run keeps it.
//!
//! **BatchNorm's running statistics are averaged with the weights**, by the same rule. The
//! alternatives: copying the raw G's statistics (what most PyTorch code does) pairs the averaged
//! weights with statistics of other weights; re-estimating them on fresh batches measures the
//! averaged G itself but draws extra latents, so it would either need a stream of its own at
//! every checkpoint or make sampling depend on when statistics were taken. Averaging needs no
//! extra draw, keeps resume exact with nothing but the averaged tensors in the checkpoint, and,
//! since the running statistics are themselves a short average of recent batches (momentum
//! 0.1), gives statistics gathered over the same window as the averaged weights. Sampling with
//! batch statistics (`dcgan sample --batch-stats`) sidesteps the question where it matters.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::config::EmaConfig;
use crate::model::Generator;

/// The averaged G, on the non-autodiff device.
#[derive(Clone, Debug)]
pub struct Ema {
    /// Decay and first averaged step.
    pub config: EmaConfig,
    /// The averaged weights and running statistics.
    pub generator: Generator,
}

impl Ema {
    /// An average that starts as a copy of `g`.
    pub fn new(config: EmaConfig, g: &Generator) -> Self {
        Self {
            config,
            generator: g.valid(),
        }
    }

    /// Fold in `g` as it is after G update number `step` (1 for the first): a copy of it up to
    /// `config.start`, then avg ← decay·avg + (1 − decay)·g for every weight and running
    /// statistic.
    pub fn update(&mut self, g: &Generator, step: u64) {
        let g = g.valid();
        if step <= self.config.start {
            self.generator = g;
            return;
        }
        let mut current = Flatten {
            path: vec![],
            out: BTreeMap::new(),
        };
        g.visit(&mut current);
        let mut blend = Blend {
            path: vec![],
            current: current.out,
            decay: self.config.decay as f32,
            rest: (1.0 - self.config.decay) as f32,
        };
        self.generator = self.generator.clone().map(&mut blend);
    }
}

/// Every float tensor of a module (weights and running statistics), flattened, by path.
struct Flatten {
    path: Vec<String>,
    out: BTreeMap<String, Tensor<1>>,
}

impl ModuleVisitor for Flatten {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let n = t.shape().num_elements();
        self.out.insert(self.path.join("."), t.reshape([n]));
    }
}

/// avg ← decay·avg + rest·current, tensor by tensor (rest = 1 − decay, rounded once).
struct Blend {
    path: Vec<String>,
    current: BTreeMap<String, Tensor<1>>,
    decay: f32,
    rest: f32,
}

impl ModuleMapper for Blend {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let (id, avg, mapper) = param.consume();
        let current = self
            .current
            .remove(&name)
            .expect("the averaged G has G's tensors")
            .reshape(avg.dims());
        let blended = avg
            .mul_scalar(self.decay)
            .add(current.mul_scalar(self.rest));
        Param::from_mapped_value(id, blended, mapper)
    }
}
