//! The generator and discriminator (paper §3).
//!
//! The architecture guidelines: (1) strided convolutions instead of pooling, (2) no fully
//! connected hidden layers, (3) BatchNorm in both networks except G's output and D's input,
//! (4) ReLU in G with Tanh at its output, (5) LeakyReLU in D.

pub mod discriminator;
pub mod generator;
pub mod inference;
pub mod layers;

pub use discriminator::Discriminator;
pub use generator::Generator;
pub use layers::BnMode;

use burn::tensor::Tensor;

use crate::kernels;

/// LeakyReLU (our fused kernel on Flex; see [`kernels::activation`]).
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    kernels::activation(x, slope)
}

/// A D with fresh random weights: the baseline of `eval svm --methods random-d` and of
/// `visualize-d`'s second figure. Both commands take the evaluation's `seed`; the weights come
/// from `seed + 1` (as `eval svm` always drew them, so its published numbers reproduce).
pub fn random_discriminator(
    model: &crate::config::ModelConfig,
    seed: u64,
    device: &burn::tensor::Device,
) -> Discriminator {
    Discriminator::new(model, seed.wrapping_add(1), device)
}

/// A tensor's values on the host, as f32 (whatever the backend's float type).
pub(crate) fn host_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32 just above")
}
