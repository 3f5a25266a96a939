//! The generator and discriminator (paper §3).
//!
//! The architecture guidelines: (1) strided convolutions instead of pooling, (2) no fully
//! connected hidden layers, (3) BatchNorm in both networks except G's output and D's input,
//! (4) ReLU in G with Tanh at its output, (5) LeakyReLU in D.

pub mod discriminator;
pub mod generator;
pub mod kernels;
pub mod layers;

pub use discriminator::Discriminator;
pub use generator::Generator;
pub use layers::BnMode;

use burn::tensor::Tensor;

/// LeakyReLU (our fused kernel on Flex; see [`kernels::activation`]).
pub fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    kernels::activation(x, slope)
}
