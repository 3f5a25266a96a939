//! Adam with PyTorch's exact update, and moments stored by parameter path.
//!
//! Written here rather than taken from burn-optim because a checkpoint must hold the moments
//! under stable names next to the weights (`blocks.0.conv.weight` → its m and v), so a run
//! resumes bit-for-bit and the state can be read by other tools; burn's optimizer record keys
//! its state by `ParamId`, which is not stable across a save and a load.
//!
//! PyTorch's update (no weight decay, no amsgrad), for step t:
//! m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//! p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::config::OptimConfig;
use crate::error::{Error, Result};
use crate::io::{HostTensor, TensorMap};
use crate::kernels::{self, pointwise::AdamStep};

/// First and second moments of one parameter, flattened.
#[derive(Clone, Debug)]
struct Moments {
    m: Tensor<1>,
    v: Tensor<1>,
}

#[derive(Clone, Debug)]
/// Adam with PyTorch's update, keeping a moment pair per named parameter.
pub struct Adam {
    /// Learning rate, betas and ε.
    pub config: OptimConfig,
    /// Updates applied so far (PyTorch's per-parameter `step`, equal for all parameters here).
    pub step: u64,
    moments: BTreeMap<String, Moments>,
}

impl Adam {
    /// Adam with no updates made yet.
    pub fn new(config: OptimConfig) -> Self {
        Self {
            config,
            step: 0,
            moments: BTreeMap::new(),
        }
    }

    /// Apply one update to every parameter of `module` that has a gradient in `grads`.
    pub fn update<M: Module>(&mut self, module: M, grads: &mut GradientsParams) -> M {
        self.step += 1;
        let t = self.step as i32;
        let c = &self.config;
        let mut mapper = AdamMapper {
            path: vec![],
            grads,
            moments: &mut self.moments,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.epsilon,
            step_size: c.learning_rate / (1.0 - c.beta1.powi(t)),
            bias2_sqrt: (1.0 - c.beta2.powi(t)).sqrt(),
        };
        module.map(&mut mapper)
    }

    /// The moments as named host tensors: `m.<path>` and `v.<path>`.
    pub(crate) fn state_tensors(&self) -> TensorMap {
        let mut out = TensorMap::new();
        for (name, mo) in &self.moments {
            out.insert(format!("m.{name}"), HostTensor::from_tensor(&mo.m));
            out.insert(format!("v.{name}"), HostTensor::from_tensor(&mo.v));
        }
        out
    }

    /// Restore from [`Adam::state_tensors`] output.
    pub(crate) fn load_state(
        config: OptimConfig,
        step: u64,
        tensors: &TensorMap,
        device: &burn::tensor::Device,
        source: &Path,
    ) -> Result<Self> {
        let mut moments = BTreeMap::new();
        for (key, m) in tensors {
            let Some(name) = key.strip_prefix("m.") else {
                continue;
            };
            let v = tensors.get(&format!("v.{name}")).ok_or_else(|| {
                Error::format(
                    source,
                    format!("optimizer state has m.{name} but no v.{name}"),
                )
            })?;
            moments.insert(
                name.to_string(),
                Moments {
                    m: m.to_tensor::<1>(device).reshape([m.data.len()]),
                    v: v.to_tensor::<1>(device).reshape([v.data.len()]),
                },
            );
        }
        Ok(Self {
            config,
            step,
            moments,
        })
    }
}

struct AdamMapper<'a> {
    path: Vec<String>,
    grads: &'a mut GradientsParams,
    moments: &'a mut BTreeMap<String, Moments>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    step_size: f64,
    bias2_sqrt: f64,
}

impl AdamMapper<'_> {
    fn step(&self) -> AdamStep {
        AdamStep {
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            step_size: self.step_size,
            bias2_sqrt: self.bias2_sqrt,
        }
    }

    /// The same update as [`kernels::adam_update`], composed of burn's tensor operations (for
    /// devices other than Flex): `(p, m, v)` after it.
    fn composed<const D: usize>(
        &self,
        p: Tensor<D>,
        g: Tensor<1>,
        moments: Option<(Tensor<1>, Tensor<1>)>,
        shape: [usize; D],
    ) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
        let (m, v) = match moments {
            Some((m, v)) => (
                m.mul_scalar(self.beta1)
                    .add(g.clone().mul_scalar(1.0 - self.beta1)),
                v.mul_scalar(self.beta2)
                    .add(g.clone().mul(g).mul_scalar(1.0 - self.beta2)),
            ),
            None => (
                g.clone().mul_scalar(1.0 - self.beta1),
                g.clone().mul(g).mul_scalar(1.0 - self.beta2),
            ),
        };
        let denom = v
            .clone()
            .sqrt()
            .div_scalar(self.bias2_sqrt)
            .add_scalar(self.eps);
        let delta = m
            .clone()
            .div(denom)
            .mul_scalar(self.step_size)
            .reshape(shape);
        (p.sub(delta), m, v)
    }
}

impl ModuleMapper for AdamMapper<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let shape = tensor.dims();
        let n: usize = shape.iter().product();
        let require_grad = tensor.is_require_grad();
        let p = tensor.inner();
        let g = grad.reshape([n]);
        let name = self.path.join(".");
        let moments = self.moments.remove(&name).map(|mo| (mo.m, mo.v));
        // One parallel pass on Flex; burn's element-wise operations elsewhere.
        let (updated, m, v) = match kernels::runs_on_flex(&p.device()) {
            true => kernels::adam_update(p, g, moments, self.step()),
            false => self.composed(p, g, moments, shape),
        };
        self.moments.insert(name, Moments { m, v });
        let mut out = Tensor::from_inner(updated);
        if require_grad {
            out = out.require_grad();
        }
        Param::from_mapped_value(id, out, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn vector(values: impl Iterator<Item = f32>, device: &Device) -> Tensor<1> {
        let values: Vec<f32> = values.collect();
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), device)
    }

    fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    /// The update other devices use (burn's operations) and the Flex kernel agree, on the first
    /// step (no moments yet) and on a later one.
    #[test]
    fn the_composed_update_equals_the_flex_kernel() {
        let device = Device::flex();
        let (mut grads, mut moments) = (GradientsParams::new(), BTreeMap::new());
        let mapper = AdamMapper {
            path: Vec::new(),
            grads: &mut grads,
            moments: &mut moments,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
            step_size: 2e-4 / (1.0 - 0.5f64.powi(3)),
            bias2_sqrt: (1.0 - 0.999f64.powi(3)).sqrt(),
        };
        let n = 3000;
        let p = vector((0..n).map(|i| (i % 17) as f32 * 0.05 - 0.4), &device).reshape([30, 100]);
        let g = vector(
            (0..n).map(|i| ((i * 31) % 101) as f32 / 50.0 - 1.0),
            &device,
        );
        let m = vector((0..n).map(|i| ((i * 7) % 13) as f32 * 1e-3), &device);
        let v = vector((0..n).map(|i| ((i * 11) % 19) as f32 * 1e-4), &device);
        for moments in [None, Some((m, v))] {
            let (a, am, av) = mapper.composed(p.clone(), g.clone(), moments.clone(), [30, 100]);
            let (b, bm, bv) = kernels::adam_update(p.clone(), g.clone(), moments, mapper.step());
            // The step moves p by up to 2e-4; both must agree far below that.
            assert!(max_abs_diff(a.clone(), b) < 1e-7);
            assert!(max_abs_diff(am, bm) < 1e-7);
            assert!(max_abs_diff(av, bv) < 1e-9);
            assert!(
                max_abs_diff(a, p.clone()) > 1e-4,
                "the update moved the weights"
            );
        }
    }
}
