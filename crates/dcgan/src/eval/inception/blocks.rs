//! The network's topology: the stem's pools and the eleven Inception blocks, as their branches of
//! convolutions, on either engine (see the parent module).

use burn::tensor::Tensor;
use burn::tensor::module::{avg_pool2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};

use super::FEATURES;
use super::nhwc::{self, Map};
use super::weights::ConvBn;

/// Which pool a tower of average-pool-then-1×1 uses: the last block of the TF network max-pools.
#[derive(Clone, Copy, Debug)]
pub(super) enum PoolKind {
    Avg,
    Max,
}

pub(super) fn pool3_same(x: Tensor<4>, kind: PoolKind) -> Tensor<4> {
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

pub(super) fn pool3_stride2(x: Tensor<4>) -> Tensor<4> {
    max_pool2d(x, MaxPoolOptions::new([3, 3]).with_stride([2, 2]))
}

// Variants differ in size (4 to 10 convolutions); there are 11 blocks, so no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub(super) enum Block {
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
pub(super) fn heads(convs: &[&ConvBn]) -> nhwc::Heads {
    nhwc::Heads::new(&convs.iter().map(|c| &c.host).collect::<Vec<_>>())
}

impl Block {
    pub(super) fn towers(
        conv: ConvBn,
        tower: Vec<ConvBn>,
        tower_1: Vec<ConvBn>,
        tower_2: ConvBn,
    ) -> Self {
        Block::Towers {
            heads: heads(&[&conv, &tower[0], &tower_1[0], &tower_2]),
            conv,
            tower,
            tower_1,
            tower_2,
        }
    }

    /// The block on this project's kernels: every branch writes its channels of the output.
    pub(super) fn forward_host(&self, x: &Map) -> Map {
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
                let mut out = Map::spare(x.n, x.h, x.w, c);
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
                let mut out = Map::spare(x.n, h, w, conv.host.cout + tower[2].host.cout + x.c);
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
                    Map::spare(x.n, h, w, tower[1].host.cout + tower_1[3].host.cout + x.c);
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
                let mut out = Map::spare(x.n, x.h, x.w, FEATURES);
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

    pub(super) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
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
