//! Module parameters as named host tensors, by module path (`blocks.0.conv.weight`), and back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
#[cfg(feature = "host")]
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};

use crate::error::{Error, Result};

/// A float32 tensor on the host.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl HostTensor {
    /// A tensor of `shape` holding `data` (their sizes must agree).
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }

    /// A copy of a burn tensor on the host.
    pub fn from_tensor<const D: usize>(t: &Tensor<D>) -> Self {
        let data = t.to_data().convert::<f32>();
        Self {
            shape: data.shape().to_vec(),
            data: data.as_slice::<f32>().expect("f32 data").to_vec(),
        }
    }

    /// The tensor on `device`.
    pub fn to_tensor<const D: usize>(&self, device: &burn::tensor::Device) -> Tensor<D> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), self.shape.clone()),
            device,
        )
    }
}

/// Named tensors, sorted by name.
pub type TensorMap = BTreeMap<String, HostTensor>;

struct Collect {
    path: Vec<String>,
    out: TensorMap,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out
            .insert(self.path.join("."), HostTensor::from_tensor(&param.val()));
    }
}

/// Every float parameter and running statistic of `module`, by path.
pub fn named_tensors<M: Module>(module: &M) -> TensorMap {
    let mut c = Collect {
        path: vec![],
        out: TensorMap::new(),
    };
    module.visit(&mut c);
    c.out
}

#[cfg(feature = "host")]
struct CollectGrads<'a> {
    path: Vec<String>,
    grads: &'a GradientsParams,
    out: TensorMap,
}

#[cfg(feature = "host")]
impl ModuleVisitor for CollectGrads<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.out
                .insert(self.path.join("."), HostTensor::from_tensor(&g));
        }
    }
}

#[cfg(feature = "host")]
/// The gradient of every parameter of `module` that has one in `grads`, by the same paths as
/// [`named_tensors`] (running statistics have none).
pub fn named_grads<M: Module>(module: &M, grads: &GradientsParams) -> TensorMap {
    let mut c = CollectGrads {
        path: vec![],
        grads,
        out: TensorMap::new(),
    };
    module.visit(&mut c);
    c.out
}

struct Load<'a> {
    path: Vec<String>,
    tensors: &'a TensorMap,
    used: BTreeSet<String>,
    errors: Vec<String>,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let Some(host) = self.tensors.get(&name) else {
            self.errors.push(format!("missing tensor {name}"));
            return param;
        };
        self.used.insert(name.clone());
        let (id, tensor, mapper) = param.consume();
        let expected = tensor.dims().to_vec();
        if host.shape != expected {
            self.errors.push(format!(
                "tensor {name} has shape {:?}, the model needs {:?}",
                host.shape, expected
            ));
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let require_grad = tensor.is_require_grad();
        let mut loaded: Tensor<D> = host.to_tensor(&tensor.device());
        if require_grad {
            loaded = loaded.require_grad();
        }
        Param::from_mapped_value(id, loaded, mapper)
    }
}

/// Replace every parameter of `module` by the tensor of the same name. Missing, misshapen and
/// unused tensors are all reported at once, naming `source`.
pub fn load_named<M: Module>(module: M, tensors: &TensorMap, source: &Path) -> Result<M> {
    let mut load = Load {
        path: vec![],
        tensors,
        used: BTreeSet::new(),
        errors: vec![],
    };
    let module = module.map(&mut load);
    let unused: Vec<_> = tensors
        .keys()
        .filter(|k| !load.used.contains(*k))
        .cloned()
        .collect();
    if !unused.is_empty() {
        load.errors
            .push(format!("unexpected tensors {}", abbreviate(&unused)));
    }
    if load.errors.is_empty() {
        Ok(module)
    } else {
        Err(Error::mismatch(source, load.errors.join("; ")))
    }
}

fn abbreviate(names: &[String]) -> String {
    if names.len() <= 4 {
        names.join(", ")
    } else {
        format!("{}, ... ({} in all)", names[..4].join(", "), names.len())
    }
}
