//! De-duplication by semantic hashing (paper §4.1.1): a 3072-128-3072 denoising,
//! dropout-regularised ReLU autoencoder on 32×32 centre crops; its code layer binarised by
//! thresholding the ReLU activations (active → 1); images whose 128-bit codes collide are
//! near-duplicates. The noise and dropout masks are drawn on the host from the seed, so a run
//! is reproducible.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use serde::Serialize;

use crate::config::OptimConfig;
use crate::data::{Dataset, Loader, Transform};
use crate::optim::Adam;
use crate::progress::Events;
use crate::rng::{self, Stream};
use crate::{Error, Result};

const INPUT: usize = 3 * 32 * 32;

#[derive(Module, Debug)]
pub(crate) struct Autoencoder {
    pub w_enc: Param<Tensor<2>>,
    pub b_enc: Param<Tensor<1>>,
    pub w_dec: Param<Tensor<2>>,
    pub b_dec: Param<Tensor<1>>,
}

impl Autoencoder {
    pub fn new(code_bits: usize, seed: u64, device: &Device) -> Self {
        let mut r = Stream::DedupInit.rng(seed);
        let mut uniform = |n: usize, fan_in: usize| -> Vec<f32> {
            let k = (1.0 / fan_in as f32).sqrt();
            (0..n).map(|_| r.random_range(-k..k)).collect()
        };
        let t2 = |v: Vec<f32>, s: [usize; 2]| {
            Param::from_tensor(Tensor::from_data(TensorData::new(v, s), device))
        };
        let w_enc = t2(uniform(INPUT * code_bits, INPUT), [INPUT, code_bits]);
        let w_dec = t2(uniform(code_bits * INPUT, code_bits), [code_bits, INPUT]);
        Self {
            w_enc,
            b_enc: Param::from_tensor(Tensor::zeros([code_bits], device)),
            w_dec,
            b_dec: Param::from_tensor(Tensor::zeros([INPUT], device)),
        }
    }

    /// The code layer: ReLU(x·W + b), `[b, bits]`.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let [bits] = self.b_enc.dims();
        relu(
            x.matmul(self.w_enc.val())
                .add(self.b_enc.val().reshape([1, bits]).expand([b, bits])),
        )
    }

    pub(crate) fn decode(&self, h: Tensor<2>) -> Tensor<2> {
        let [b, _] = h.dims();
        h.matmul(self.w_dec.val())
            .add(self.b_dec.val().reshape([1, INPUT]).expand([b, INPUT]))
    }
}

/// How the autoencoder is trained (paper §4.1.1: denoising, dropout on the code layer).
#[derive(Clone, Debug, Serialize)]
pub struct Training {
    /// Bits of the code layer (128 in the paper).
    pub code_bits: usize,
    /// Passes over the data.
    pub epochs: usize,
    /// Images a training step.
    pub batch_size: usize,
    /// Std of the Gaussian noise added to inputs (denoising).
    pub noise: f32,
    /// Dropout probability on the code layer while training.
    pub dropout: f32,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the initialisation, noise, dropout and data order.
    pub seed: u64,
}

impl Default for Training {
    fn default() -> Self {
        Self {
            code_bits: 128,
            epochs: 10,
            batch_size: 256,
            noise: 0.2,
            dropout: 0.5,
            learning_rate: 1e-3,
            seed: 1,
        }
    }
}

/// The trained autoencoder's binary code of every item (unreadable items: `None`), and the last
/// epoch's mean reconstruction error.
pub fn codes(
    ds: Arc<dyn Dataset>,
    cfg: &Training,
    device: &Device,
    events: &mut dyn Events,
) -> Result<(Vec<Option<u128>>, f32)> {
    if !(1..=128).contains(&cfg.code_bits) {
        return Err(Error::config(
            "code bits",
            cfg.code_bits,
            "must be 1 to 128 (codes are stored in 128 bits)",
        ));
    }
    let ad = device.clone().autodiff();
    let mut ae = Autoencoder::new(cfg.code_bits, cfg.seed, &ad);
    let mut opt = Adam::new(OptimConfig {
        learning_rate: cfg.learning_rate,
        beta1: 0.9,
        ..OptimConfig::default()
    });
    let t = Transform {
        size: 32,
        channels: 3,
    };
    let n = ds.len();
    let bs = cfg.batch_size.min(n).max(1);
    let mut last_loss = f32::NAN;
    for epoch in 0..cfg.epochs {
        let order = rng::shuffled(
            Stream::DedupOrder {
                epoch: epoch as u64,
            },
            cfg.seed,
            n,
        );
        let (mut sum, mut batches) = (0f32, 0usize);
        for (step, b) in Loader::start(ds.clone(), order, bs, 0, t, 0, 2)?.enumerate() {
            let b = b?;
            if b.count < 2 {
                continue;
            }
            let mut r = Stream::DedupNoise {
                batch: (epoch * 1_000_000 + step) as u64,
            }
            .rng(cfg.seed);
            let noise = rng::normal(&mut r, b.images.len(), 0.0, cfg.noise);
            let noisy: Vec<f32> = b.images.iter().zip(&noise).map(|(v, e)| v + e).collect();
            let keep = 1.0 - cfg.dropout;
            let mask: Vec<f32> = (0..b.count * cfg.code_bits)
                .map(|_| {
                    if r.random::<f32>() < keep {
                        1.0 / keep
                    } else {
                        0.0
                    }
                })
                .collect();
            let x = Tensor::<2>::from_data(TensorData::new(b.images, [b.count, INPUT]), &ad);
            let xn = Tensor::<2>::from_data(TensorData::new(noisy, [b.count, INPUT]), &ad);
            let m = Tensor::<2>::from_data(TensorData::new(mask, [b.count, cfg.code_bits]), &ad);
            let y = ae.decode(ae.encode(xn).mul(m));
            let loss = y.sub(x).powi_scalar(2).mean();
            let mut grads = GradientsParams::from_grads(loss.backward(), &ae);
            sum += loss.into_scalar::<f32>();
            batches += 1;
            ae = opt.update(ae, &mut grads);
        }
        last_loss = sum / batches.max(1) as f32;
        events.info(format!(
            "autoencoder epoch {}: reconstruction MSE {last_loss:.4}",
            epoch + 1
        ));
    }
    // Codes of every item, in order (the last partial batch included).
    let ae = ae.valid();
    let mut out = vec![None; n];
    for b in Loader::sequential(ds, n, bs, t)? {
        let b = b?;
        if b.count == 0 {
            continue;
        }
        let x = Tensor::<2>::from_data(TensorData::new(b.images, [b.count, INPUT]), device);
        let h = ae
            .encode(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        for (j, &item) in b.items.iter().enumerate() {
            let code = h[j * cfg.code_bits..(j + 1) * cfg.code_bits]
                .iter()
                .enumerate()
                .fold(0u128, |c, (k, v)| if *v > 0.0 { c | (1 << k) } else { c });
            out[item] = Some(code);
        }
    }
    Ok((out, last_loss))
}
