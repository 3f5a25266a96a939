//! Inference-only convolutions and pools on channels-last maps (`[N, H, W, C]`, f32): the FID
//! network (Inception-v3) on the CPU.
//!
//! Why channels-last: Inception's convolutions are mostly 1×1 (on a channels-last map a 1×1
//! convolution is one matrix product with no copy at all), its other kernels (3×3, 5×5, 1×7,
//! 7×1, 1×3, 3×1, strides 1 and 2) gather whole channel runs per tap, and its blocks
//! concatenate branches along channels, which channels-last lets each branch write in place (a
//! row stride of the block's width) instead of copying. The caller spreads a batch over rayon's
//! threads, a group of images per task with single-threaded matrix products: the stem and the
//! 35×35 blocks one image at a time, the 17×17 and 8×8 blocks on the group's images in one map
//! (`Inception::stages`). burn's Flex convolutions are channels-first with a separate
//! concatenation, and ran at 0.72× PyTorch's speed on this network.

use gemm::Parallelism;

use crate::kernels::conv::matmul;

/// Buffers recycled within a thread. One Inception pass allocates the same sizes in the same
/// order for every image or group of images (about 40 maps and scratch buffers of 0.1–10 MB),
/// and a fresh zeroed allocation costs a `memset` or the kernel's page clearing for each: 12 %
/// of a `dcgan fid` process on the 2-core AVX-512 Xeon (`perf`). Each pass after a thread's
/// first reuses the previous one's buffers instead: the smallest spare that holds the length
/// asked for and is less than twice as large, so that groups of 6 and 7 images share one set.
/// Kept per thread (rayon's workers), up to `SPARE_BYTES` a thread. A buffer handed out holds
/// whatever its last user left, so every caller of [`spare`] writes each element before
/// reading it (in the unit tests it holds NaNs, to check that).
mod scratch {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    const SPARE_BYTES: usize = 512 << 20;

    #[derive(Default)]
    struct Spares {
        /// By capacity.
        free: BTreeMap<usize, Vec<Vec<f32>>>,
        bytes: usize,
    }

    thread_local! {
        static SPARES: RefCell<Spares> = RefCell::new(Spares::default());
    }

    /// A buffer of `len` floats with unspecified contents.
    pub(super) fn spare(len: usize) -> Vec<f32> {
        let reused = SPARES.with(|s| {
            let mut s = s.borrow_mut();
            let (&cap, list) = s.free.range_mut(len..2 * len).next()?;
            let v = list.pop().expect("no empty lists are kept");
            if list.is_empty() {
                s.free.remove(&cap);
            }
            s.bytes -= cap * 4;
            Some(v)
        });
        match reused {
            Some(mut v) => {
                // Within the capacity: no reallocation, and only a longer length writes (the
                // tail it adds).
                v.resize(len, 0.0);
                if cfg!(test) {
                    v.fill(f32::NAN);
                }
                v
            }
            None => vec![if cfg!(test) { f32::NAN } else { 0.0 }; len],
        }
    }

    /// `v` back for later [`spare`] calls on this thread.
    pub(super) fn give_back(v: Vec<f32>) {
        let cap = v.capacity();
        if cap == 0 {
            return;
        }
        // `try_with`: a map dropped while the thread's storage is being torn down is freed.
        let _ = SPARES.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.bytes + cap * 4 <= SPARE_BYTES {
                s.bytes += cap * 4;
                s.free.entry(cap).or_default().push(v);
            }
        });
    }
}

/// A batch of maps, channels last: pixel `(i, y, x)` is row `(i·H + y)·W + x` of `[N·H·W, C]`.
/// Its buffer goes back to the thread's spares when it is dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// Images.
    pub n: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// `n × h × w × c` values, channels innermost.
    pub data: Vec<f32>,
}

impl Map {
    /// A map of zeros.
    pub fn zeros(n: usize, h: usize, w: usize, c: usize) -> Self {
        Self {
            n,
            h,
            w,
            c,
            data: vec![0.0; n * h * w * c],
        }
    }

    /// A map whose every value the caller writes before reading any: its contents are
    /// unspecified (a recycled buffer).
    pub(super) fn spare(n: usize, h: usize, w: usize, c: usize) -> Self {
        Self {
            n,
            h,
            w,
            c,
            data: scratch::spare(n * h * w * c),
        }
    }

    /// From channels-first images `[N, C, H, W]`.
    pub fn from_nchw(x: &[f32], n: usize, c: usize, h: usize, w: usize) -> Self {
        assert_eq!(x.len(), n * c * h * w, "from_nchw: size");
        let mut data = scratch::spare(x.len());
        let plane = h * w;
        for i in 0..n {
            let dst = &mut data[i * plane * c..][..plane * c];
            for ch in 0..c {
                let src = &x[(i * c + ch) * plane..][..plane];
                for (p, &v) in src.iter().enumerate() {
                    dst[p * c + ch] = v;
                }
            }
        }
        Self { n, h, w, c, data }
    }
}

impl Map {
    /// Maps of one size as one map, images in order.
    pub fn stack(maps: &[Map]) -> Self {
        let first = maps.first().expect("Map::stack: no maps");
        let (h, w, c) = (first.h, first.w, first.c);
        let n = maps.iter().map(|m| m.n).sum();
        let mut out = Map::spare(n, h, w, c);
        let mut at = 0;
        for m in maps {
            assert_eq!((m.h, m.w, m.c), (h, w, c), "Map::stack: sizes differ");
            out.data[at..at + m.data.len()].copy_from_slice(&m.data);
            at += m.data.len();
        }
        out
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        scratch::give_back(std::mem::take(&mut self.data));
    }
}

/// Output pixels per matrix product: the gathered patches (`rows × k·k·Cin` floats) near
/// 512 KiB, in the core's L2, but at least `MIN_BAND` rows. The `gemm` crate packs the
/// weights again for every product, so for the layers with the largest `k` (Mixed_6a's
/// 3×3/2 288→384, k = 2,592) fewer, taller products beat patches that fit L2: with 256 rows
/// instead of 64 that block took 5.7 against 6.3 ms an image (`examples/inception_profile.rs`).
const MIN_BAND: usize = 256;
const BAND_FLOATS: usize = 1 << 17;

/// A convolution with bias, followed by ReLU (Inception's folded Conv + BatchNorm + ReLU).
#[derive(Clone, Debug)]
pub struct NhwcConv {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride in both directions.
    pub stride: usize,
    /// Zero padding, height and width.
    pub padding: [usize; 2],
    /// `[Cout, kh, kw, Cin]`: the GEMM's right operand `[k·k·Cin, Cout]` stored contiguous along
    /// its inner dimension, which the gemm crate reads as it is instead of packing it again for
    /// every band of pixels.
    weight: Vec<f32>,
    bias: Vec<f32>,
    /// The Winograd plan with the weight in its domain, made on first use.
    winograd: std::sync::OnceLock<Winograd>,
    /// Winograd's path forced on or off (tests and timings); `None`: by the map and channels.
    winograd_forced: Option<bool>,
}

impl NhwcConv {
    /// From PyTorch's weight layout `[Cout, Cin, kh, kw]`.
    pub fn new(
        weight_oihw: &[f32],
        bias: Vec<f32>,
        [cout, cin, kh, kw]: [usize; 4],
        stride: usize,
        padding: [usize; 2],
    ) -> Self {
        assert_eq!(
            weight_oihw.len(),
            cout * cin * kh * kw,
            "NhwcConv::new: weight"
        );
        assert_eq!(bias.len(), cout, "NhwcConv::new: bias");
        assert!(stride > 0 && kh > 0 && kw > 0, "NhwcConv::new: geometry");
        // A transposition, 16 output channels at a time: 16 rows read side by side, 16
        // contiguous floats written (a plain loop over either layout strides over the other).
        let mut weight = vec![0.0; weight_oihw.len()];
        for o0 in (0..cout).step_by(16) {
            let os = o0..(o0 + 16).min(cout);
            for i in 0..cin {
                for y in 0..kh {
                    for x in 0..kw {
                        let dst = ((y * kw + x) * cin + i) * cout;
                        for o in os.clone() {
                            weight[dst + o] = weight_oihw[((o * cin + i) * kh + y) * kw + x];
                        }
                    }
                }
            }
        }
        Self {
            cin,
            cout,
            kernel: [kh, kw],
            stride,
            padding,
            weight,
            bias,
            winograd: std::sync::OnceLock::new(),
            winograd_forced: None,
        }
    }

    pub(crate) fn out_dims(&self, h: usize, w: usize) -> (usize, usize) {
        let out = |n: usize, k: usize, p: usize| {
            assert!(
                n + 2 * p >= k,
                "convolution: kernel {k} does not fit {n} padded by {p}"
            );
            (n + 2 * p - k) / self.stride + 1
        };
        (
            out(h, self.kernel[0], self.padding[0]),
            out(w, self.kernel[1], self.padding[1]),
        )
    }

    fn pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == 1 && self.padding == [0, 0]
    }

    /// `relu(conv(x) + bias)`, BatchNorm folded into the weights and bias.
    pub fn apply(&self, x: &Map) -> Map {
        let (h, w) = self.out_dims(x.h, x.w);
        let mut out = Map::spare(x.n, h, w, self.cout);
        self.apply_into(x, &mut out, 0);
        out
    }

    /// `relu(conv(x) + bias)` into channels `offset..offset + Cout` of `out`.
    pub fn apply_into(&self, x: &Map, out: &mut Map, offset: usize) {
        assert_eq!(x.c, self.cin, "convolution: input channels");
        let (ho, wo) = self.out_dims(x.h, x.w);
        assert_eq!(
            (out.n, out.h, out.w),
            (x.n, ho, wo),
            "convolution: output size"
        );
        assert!(offset + self.cout <= out.c, "convolution: output channels");
        if self.uses_winograd(ho, wo) {
            return self.winograd_into(x, out, offset);
        }
        let [kh, kw] = self.kernel;
        let k = kh * kw * self.cin;
        let pixels = x.n * ho * wo;
        let band = (BAND_FLOATS / k).max(MIN_BAND).min(pixels);
        let mut patches = if self.pointwise() {
            Vec::new()
        } else {
            scratch::spare(band * k)
        };
        let oc = out.c;
        for p0 in (0..pixels).step_by(band) {
            let rows = band.min(pixels - p0);
            let dst = &mut out.data[p0 * oc + offset..];
            if self.pointwise() {
                let a = &x.data[p0 * self.cin..];
                matmul(
                    (rows, self.cout, k),
                    (dst, (oc, 1)),
                    false,
                    (a, (k, 1)),
                    (&self.weight, (self.cout, 1)),
                    Parallelism::None,
                );
            } else {
                self.gather(x, (ho, wo), p0, rows, &mut patches);
                matmul(
                    (rows, self.cout, k),
                    (dst, (oc, 1)),
                    false,
                    (&patches, (k, 1)),
                    (&self.weight, (self.cout, 1)),
                    Parallelism::None,
                );
            }
            for r in 0..rows {
                bias_relu(&mut dst[r * oc..r * oc + self.cout], &self.bias);
            }
        }
        scratch::give_back(patches);
    }

    /// The patches of output pixels `p0..p0 + rows`: row `r` holds, for every tap `(ky, kx)`,
    /// the input pixel's `Cin` channels (zeros outside its image).
    fn gather(
        &self,
        x: &Map,
        (ho, wo): (usize, usize),
        p0: usize,
        rows: usize,
        patches: &mut [f32],
    ) {
        let [kh, kw] = self.kernel;
        let [ph, pw] = self.padding;
        let (cin, s) = (self.cin, self.stride);
        let k = kh * kw * cin;
        for r in 0..rows {
            let (i, q) = ((p0 + r) / (ho * wo), (p0 + r) % (ho * wo));
            let (oy, ox) = (q / wo, q % wo);
            let image = &x.data[i * x.h * x.w * cin..][..x.h * x.w * cin];
            let row = &mut patches[r * k..(r + 1) * k];
            for ky in 0..kh {
                let iy = (oy * s + ky).wrapping_sub(ph);
                for kx in 0..kw {
                    let ix = (ox * s + kx).wrapping_sub(pw);
                    let dst = &mut row[(ky * kw + kx) * cin..][..cin];
                    if iy < x.h && ix < x.w {
                        dst.copy_from_slice(&image[(iy * x.w + ix) * cin..][..cin]);
                    } else {
                        dst.fill(0.0);
                    }
                }
            }
        }
    }
}

/// The 1×1 convolutions that read one input (the first layers of an Inception block's
/// branches) as one matrix product `[pixels, Cin] · [Cin, ΣCout]`: the input is packed once,
/// and the product is wide enough for the GEMM's blocking even on the 8×8 maps, whose 64 rows
/// make each layer on its own a thin product. A branch that average-pools before its 1×1
/// convolution joins them too: the pool (3×3, stride 1, the mean over the taps inside the map)
/// and the convolution are both linear and the pool's weights sum to 1, so pooling the product
/// and then adding the bias equals convolving the pooled input, and it pools that branch's
/// Cout channels instead of the input's Cin (192 instead of 768 in the 17×17 blocks).
#[derive(Clone, Debug)]
pub struct Heads {
    cin: usize,
    width: usize,
    /// `[Cin, ΣCout]`, the heads side by side.
    weight: Vec<f32>,
    /// Each head's first column in the product, and its bias.
    parts: Vec<(usize, Vec<f32>)>,
}

impl Heads {
    /// The 1×1 convolutions `convs` (same input) fused into one matrix product.
    pub fn new(convs: &[&NhwcConv]) -> Self {
        let cin = convs[0].cin;
        assert!(
            convs.iter().all(|c| c.pointwise() && c.cin == cin),
            "Heads::new: 1×1 convolutions of one input"
        );
        let width = convs.iter().map(|c| c.cout).sum();
        let mut weight = vec![0.0; cin * width];
        let mut parts = Vec::with_capacity(convs.len());
        let mut start = 0;
        for c in convs {
            for (i, row) in c.weight.chunks_exact(c.cout).enumerate() {
                weight[i * width + start..][..c.cout].copy_from_slice(row);
            }
            parts.push((start, c.bias.clone()));
            start += c.cout;
        }
        Self {
            cin,
            width,
            weight,
            parts,
        }
    }

    /// Every head's convolution of `x` before bias and ReLU: `[N, H, W, ΣCout]`.
    pub fn product(&self, x: &Map) -> Map {
        assert_eq!(x.c, self.cin, "convolution: input channels");
        let mut out = Map::spare(x.n, x.h, x.w, self.width);
        let pixels = x.n * x.h * x.w;
        matmul(
            (pixels, self.width, self.cin),
            (&mut out.data, (self.width, 1)),
            false,
            (&x.data, (self.cin, 1)),
            (&self.weight, (self.width, 1)),
            Parallelism::None,
        );
        out
    }

    /// Head `head`'s output from `product`: `relu(· + bias)` into channels `offset..` of `out`.
    pub fn finish_into(&self, head: usize, product: &Map, out: &mut Map, offset: usize) {
        let (start, bias) = &self.parts[head];
        let c = bias.len();
        assert_eq!(product.c, self.width, "heads: product width");
        assert_eq!(
            (out.n, out.h, out.w),
            (product.n, product.h, product.w),
            "heads: output size"
        );
        assert!(offset + c <= out.c, "heads: output channels");
        for (src, dst) in product
            .data
            .chunks_exact(self.width)
            .zip(out.data.chunks_exact_mut(out.c))
        {
            for ((d, &v), &b) in dst[offset..offset + c]
                .iter_mut()
                .zip(&src[*start..])
                .zip(bias)
            {
                *d = (v + b).max(0.0);
            }
        }
    }

    /// Head `head`'s output as a map of its own.
    pub fn finish(&self, head: usize, product: &Map) -> Map {
        let mut out = Map::spare(product.n, product.h, product.w, self.parts[head].1.len());
        self.finish_into(head, product, &mut out, 0);
        out
    }

    /// Head `head` as the 1×1 convolution of the average-pooled input (3×3, stride 1, the mean
    /// over the taps inside the map): its columns of `product` pooled, then `relu(· + bias)`,
    /// into channels `offset..` of `out`.
    pub fn pooled_into(&self, head: usize, product: &Map, out: &mut Map, offset: usize) {
        let (start, bias) = &self.parts[head];
        assert_eq!(product.c, self.width, "heads: product width");
        pool3_same_into(
            product,
            *start..*start + bias.len(),
            true,
            Some(bias),
            out,
            offset,
        );
    }
}

/// Winograd's minimal filtering (Lavin & Gray, 2016), separable: a convolution whose kernel is
/// `ry × rx` computes each `my × mx` block of outputs from an `(my + ry − 1) × (mx + rx − 1)`
/// block of inputs with one multiplication per transformed input and channel pair, as
/// `ny · nx` matrix products `[tiles, Cin] · [Cin, Cout]` in the transformed domain. An axis
/// whose kernel has one tap keeps its identity transform. The shapes used:
/// - 3×3: F(4×4, 3×3), 36 products for 144 multiplications (4× fewer);
/// - 5×5 (the 35×35 blocks): F(4×4, 5×5), 64 products for 400 multiplications (6.25× fewer);
///   on that layer (48→64) 1.3–1.7 ms against 2.5 direct, where F(2×2) took 2.2, F(3×3)
///   2.5, F(5×5) 1.6–1.9 and F(6×6) 1.4–1.7 (`examples/nhwc_layers.rs`, one sitting);
/// - 1×7 and 7×1 (Inception's 17×17 blocks): F(4, 7) along the kernel's axis, 10 products for
///   28 multiplications (2.8× fewer, less the 3 outputs of 20 that 5 tiles overhang a side of
///   17). F(2, 7) and F(3, 7) were slower (`docs/performance.md`).
///
/// Used for stride-1 layers whose output is at least `WINOGRAD_MIN_SIDE` on a side and which
/// have at least `WINOGRAD_MIN_CIN` input and `WINOGRAD_MIN_COUT` output channels. The side
/// includes the 8×8 blocks' 3×3 layer (448→384), whose 4 tiles an image make thin products but
/// which ran in 1.08 ms against 1.37 direct for one image on the AVX-512 Xeon
/// (`examples/nhwc_layers.rs`), and made `dcgan fid` 1 % faster with the images grouped. With
/// fewer channels the transforms cost more than the multiplications saved. Since the
/// transforms sum `LANES` channels at a time in registers, Inception's stem layer 32→32 takes
/// Winograd's path too: 2.9 against 3.6 ms an image direct (it stayed direct while the
/// transforms summed whole channel runs term by term, 4.4 against 3.6). The 1×3
/// and 3×1 layers of the 8×8 blocks stay direct too: F(2, 3) along their axis was slower there.
/// The transforms run compiled for AVX2 and FMA where the CPU has them.
/// `examples/nhwc_layers.rs` times each shape both ways, `examples/inception_profile.rs` the
/// whole network. The transforms round more than a dot product, the more the larger the tile:
/// against the definition the tests hold F(4×4, 3×3) and F(4×4, 5×5) to 1e-5 of the largest
/// output (both measured 6–7e-6) and F(4, 7) to 3e-5 (it measured 1.2e-5), and the FID parity
/// tests keep their tolerances.
const WINOGRAD_MIN_SIDE: usize = 8;
const WINOGRAD_MIN_CIN: usize = 32;
const WINOGRAD_MIN_COUT: usize = 32;

/// Interpolation points in the order they are taken (F(m, r) takes the first m + r − 2): small
/// integers and halves keep the transforms' entries small, which keeps their rounding small.
/// F(4, 7) needs all nine. In a float32 simulation of 192-channel sums (largest error of 100
/// trials), 4 and 1/4 as its last two rounded less than ±3, ±4 or ±1/4; −4 and −1/4 measured
/// about the same as 4 and 1/4 (1.8e-5 against 2.2e-5 of the largest output).
const POINTS: [f64; 9] = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 4.0, 0.25];

/// The transforms of F(m, r) along one axis: `y = Aᵀ [(G g) ⊙ (Bᵀ d)]` for the `m` outputs of
/// an `r`-tap correlation over `n = m + r − 1` inputs. Built from the first `n − 1` of
/// [`POINTS`] and the point at infinity (Toom-Cook): row `j` of Bᵀ holds the coefficients of
/// `Π_{l≠j} (x − a_l)` (the infinite point's row those of `Π_l (x − a_l)`), row `j` of G is
/// `a_j^k / Π_{l≠j} (a_j − a_l)`, column `j` of Aᵀ is `a_j^i`; the infinite point picks the
/// leading coefficient of both the kernel and the output. With `r = 1` all three are `[1]`.
#[derive(Clone, Debug)]
struct Toom {
    m: usize,
    r: usize,
    n: usize,
    /// `[n, r]`, kept in f64 for the one-off weight transform.
    g: Vec<f64>,
    /// The nonzero entries `(column, value)` of each row of Bᵀ (`[n, n]`) and of Aᵀ
    /// (`[m, n]`), in column order: the terms the transforms sum (most entries are zero).
    bt_terms: Vec<Vec<(usize, f32)>>,
    at_terms: Vec<Vec<(usize, f32)>>,
}

impl Toom {
    fn new(m: usize, r: usize) -> Self {
        let n = m + r - 1;
        assert!(
            n - 1 <= POINTS.len(),
            "Winograd F({m}, {r}): too few points"
        );
        let a = &POINTS[..n - 1];
        // Coefficients (lowest degree first) of Π (x − a_l) over the points `keep` accepts.
        let product = |keep: &dyn Fn(usize) -> bool| {
            let mut p = vec![1.0f64];
            for (_, &al) in a.iter().enumerate().filter(|&(l, _)| keep(l)) {
                let mut q = vec![0.0; p.len() + 1];
                for (d, &c) in p.iter().enumerate() {
                    q[d + 1] += c;
                    q[d] -= al * c;
                }
                p = q;
            }
            p
        };
        let (mut at, mut bt, mut g) = (vec![0.0; m * n], vec![0.0; n * n], vec![0.0; n * r]);
        for (j, &aj) in a.iter().enumerate() {
            for (k, c) in product(&|l| l != j).into_iter().enumerate() {
                bt[j * n + k] = c;
            }
            let f: f64 = a
                .iter()
                .enumerate()
                .filter(|&(l, _)| l != j)
                .map(|(_, &al)| aj - al)
                .product();
            for k in 0..r {
                g[j * r + k] = aj.powi(k as i32) / f;
            }
            for i in 0..m {
                at[i * n + j] = aj.powi(i as i32);
            }
        }
        for (k, c) in product(&|_| true).into_iter().enumerate() {
            bt[(n - 1) * n + k] = c;
        }
        g[(n - 1) * r + r - 1] = 1.0;
        at[(m - 1) * n + n - 1] = 1.0;
        let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
        let (at, bt) = (f32s(at), f32s(bt));
        let terms = |rows: &[f32]| {
            rows.chunks_exact(n)
                .map(|row| {
                    let nonzero = row.iter().enumerate().filter(|&(_, &c)| c != 0.0);
                    nonzero.map(|(k, &c)| (k, c)).collect()
                })
                .collect()
        };
        Self {
            m,
            r,
            n,
            bt_terms: terms(&bt),
            at_terms: terms(&at),
            g,
        }
    }
}

/// A layer's Winograd plan: the transforms along y and x and the weight in the transformed
/// domain, `U[ξ][ci][co]` (`[ny · nx, Cin, Cout]`).
#[derive(Clone, Debug)]
struct Winograd {
    y: Toom,
    x: Toom,
    u: Vec<f32>,
}

/// Tiles per band: the transformed inputs (`ny · nx × tiles × Cin` floats) near 1 MiB.
const WINOGRAD_BAND_FLOATS: usize = 1 << 18;

/// `dst = relu(dst + bias)`, the folded BatchNorm's shift and the activation of every layer.
#[inline(always)]
fn bias_relu(dst: &mut [f32], bias: &[f32]) {
    for (d, &b) in dst.iter_mut().zip(bias) {
        *d = (*d + b).max(0.0);
    }
}

impl NhwcConv {
    /// The Winograd shape for this layer's kernel, if it has one (any padding, stride 1).
    fn winograd_shape(&self) -> Option<[usize; 2]> {
        if self.stride != 1 {
            return None;
        }
        match self.kernel {
            [3, 3] => Some([4, 4]),
            [5, 5] => Some([4, 4]),
            [1, 7] => Some([1, 4]),
            [7, 1] => Some([4, 1]),
            _ => None,
        }
    }

    /// Whether an output of `ho × wo` goes through Winograd's path.
    fn uses_winograd(&self, ho: usize, wo: usize) -> bool {
        self.winograd_shape().is_some()
            && self.winograd_forced.unwrap_or(
                ho.min(wo) >= WINOGRAD_MIN_SIDE
                    && self.cin >= WINOGRAD_MIN_CIN
                    && self.cout >= WINOGRAD_MIN_COUT,
            )
    }

    /// Forces Winograd's path on (where the kernel has one) or off, whatever the map's size and
    /// channels: for tests and timings.
    #[doc(hidden)]
    pub fn force_winograd(mut self, on: bool) -> Self {
        self.winograd_forced = Some(on);
        self
    }

    fn winograd(&self) -> &Winograd {
        self.winograd.get_or_init(|| {
            let [my, mx] = self.winograd_shape().expect("a Winograd shape");
            let [kh, kw] = self.kernel;
            let (y, x) = (Toom::new(my, kh), Toom::new(mx, kw));
            let (cin, cout) = (self.cin, self.cout);
            // U = G g Gᵀ one axis at a time (first along x, then along y), each step over all
            // output channels at once: g's rows for one input channel and tap are contiguous.
            let mut u = vec![0.0f32; y.n * x.n * cin * cout];
            let mut t = vec![0.0f64; y.r * x.n * cout];
            let mut v = vec![0.0f64; cout];
            for ci in 0..cin {
                t.fill(0.0);
                for ky in 0..y.r {
                    for kx in 0..x.r {
                        let g = &self.weight[((ky * kw + kx) * cin + ci) * cout..][..cout];
                        for j in 0..x.n {
                            let c = x.g[j * x.r + kx];
                            if c != 0.0 {
                                let t = &mut t[(ky * x.n + j) * cout..][..cout];
                                for (t, &g) in t.iter_mut().zip(g) {
                                    *t += c * g as f64;
                                }
                            }
                        }
                    }
                }
                for i in 0..y.n {
                    for j in 0..x.n {
                        let u = &mut u[((i * x.n + j) * cin + ci) * cout..][..cout];
                        v.fill(0.0);
                        for ky in 0..y.r {
                            let c = y.g[i * y.r + ky];
                            for (v, &t) in v.iter_mut().zip(&t[(ky * x.n + j) * cout..][..cout]) {
                                *v += c * t;
                            }
                        }
                        for (u, &v) in u.iter_mut().zip(&v) {
                            *u = v as f32;
                        }
                    }
                }
            }
            Winograd { y, x, u }
        })
    }

    fn winograd_into(&self, x: &Map, out: &mut Map, offset: usize) {
        let plan = self.winograd();
        let (cin, cout) = (self.cin, self.cout);
        let (ho, wo) = self.out_dims(x.h, x.w);
        let (th, tw) = (ho.div_ceil(plan.y.m), wo.div_ceil(plan.x.m));
        let nn = plan.y.n * plan.x.n;
        let tiles = x.n * th * tw;
        let band = (WINOGRAD_BAND_FLOATS / (nn * cin)).max(16).min(tiles);
        let mut v = scratch::spare(nn * band * cin);
        let mut m = scratch::spare(nn * band * cout);
        // `Aᵀ_y M` of one tile for the output transform by channel runs.
        let mut tmp = scratch::spare(nn * cout);
        for t0 in (0..tiles).step_by(band) {
            let pass = Band {
                conv: self,
                plan,
                x,
                t0,
                rows: band.min(tiles - t0),
                band,
                tiles: (th, tw),
            };
            input_pass(&pass, &mut v);
            // One product per transformed position: M[ξ][r][co] = Σ_ci V[ξ][r][ci] · U[ξ][ci][co].
            for xi in 0..nn {
                matmul(
                    (pass.rows, cout, cin),
                    (&mut m[xi * band * cout..], (cout, 1)),
                    false,
                    (&v[xi * band * cin..], (cin, 1)),
                    (&plan.u[xi * cin * cout..], (cout, 1)),
                    Parallelism::None,
                );
            }
            output_pass(&pass, &m, out, offset, &mut tmp);
        }
        for b in [v, m, tmp] {
            scratch::give_back(b);
        }
    }
}

/// One band of tiles of a Winograd convolution: its transforms.
struct Band<'a> {
    conv: &'a NhwcConv,
    plan: &'a Winograd,
    x: &'a Map,
    /// The first tile, the tiles in this band, the tiles a band holds.
    t0: usize,
    rows: usize,
    band: usize,
    /// Tile rows and columns per image.
    tiles: (usize, usize),
}

/// `dst = Σ_k c_k · src_k` over whole channel runs, one term at a time (the output transform
/// for layers with many output channels, see `Band::output`).
#[inline(always)]
fn combine<'a>(dst: &mut [f32], terms: impl Iterator<Item = (f32, &'a [f32])>) {
    let mut first = true;
    for (c, src) in terms {
        if first {
            for (o, &s) in dst.iter_mut().zip(src) {
                *o = c * s;
            }
            first = false;
        } else {
            for (o, &s) in dst.iter_mut().zip(src) {
                *o += c * s;
            }
        }
    }
    if first {
        dst.fill(0.0);
    }
}

/// Where one tile's output pixels lie in the output map: how many rows and columns of the
/// tile are inside it, the float index of its first pixel's first channel (the layer's
/// offset included), and the distance between its rows.
#[derive(Clone, Copy)]
struct Tile {
    rows: usize,
    cols: usize,
    first: usize,
    stride: usize,
}

/// Channels a transform step works on: one AVX-512 register or two AVX2 ones, and one 64-byte
/// cache line of a channel run.
const LANES: usize = 16;
/// The most output channels for which the output transform works `LANES` channels at a time.
/// Above it, summing whole channel runs term by term was faster, the more so the more channels
/// (one thread of the AVX-512 Xeon, `examples/nhwc_layers.rs`): the stem's 80→192 layer
/// 4.5 against 4.9 ms an image, the 17×17 blocks' 7×1 192→192 0.65 against 0.68, while with 32
/// output channels it was the other way round (the stem's 32→32: 3.3 against 2.8 ms). The input
/// transform is faster by lanes at every width there (the 32→64 layer's input 5.7 against 4.5 ms
/// with both transforms by lanes).
const LANES_MAX_COUT: usize = 64;
/// The most transformed positions of a tile (`ny · nx`): F(4×4, 5×5)'s 8 × 8.
const MAX_POSITIONS: usize = 64;

/// `Σ c · src(k)` over a transform row's nonzero terms `(k, c)`, `L` channels at once. The
/// sum stays in registers and each term is one load, where summing whole channel runs term
/// by term (as these transforms first did) loads and stores the partial sums once a term.
#[inline(always)]
fn lanes_sum<'a, const L: usize>(
    terms: &[(usize, f32)],
    src: impl Fn(usize) -> &'a [f32; L],
) -> [f32; L] {
    let mut acc = [0.0f32; L];
    for &(k, c) in terms {
        let s = src(k);
        for l in 0..L {
            acc[l] += c * s[l];
        }
    }
    acc
}

/// The `L` floats from `at` on, as an array.
#[inline(always)]
fn lanes<const L: usize>(v: &[f32], at: usize) -> &[f32; L] {
    v[at..at + L].try_into().expect("L floats")
}

impl Band<'_> {
    /// Image, first output row and column of tile `t`.
    #[inline(always)]
    fn tile_origin(&self, t: usize) -> (usize, usize, usize) {
        let (th, tw) = self.tiles;
        let (i, q) = (t / (th * tw), t % (th * tw));
        (i, (q / tw) * self.plan.y.m, (q % tw) * self.plan.x.m)
    }

    /// The band's tiles into Winograd's domain, `v` as `[ny · nx, band, Cin]`: `LANES`
    /// channels at a time, the rest one by one.
    #[inline(always)]
    fn input(&self, v: &mut [f32]) {
        let cin = self.conv.cin;
        let full = cin - cin % LANES;
        let (mut d, mut t) = ([[0.0; LANES]; MAX_POSITIONS], [[0.0; LANES]; MAX_POSITIONS]);
        let (mut d1, mut t1) = ([[0.0; 1]; MAX_POSITIONS], [[0.0; 1]; MAX_POSITIONS]);
        for r in 0..self.rows {
            let origin = self.tile_origin(self.t0 + r);
            for c0 in (0..full).step_by(LANES) {
                self.input_lanes(r, origin, c0, v, &mut d, &mut t);
            }
            for c0 in full..cin {
                self.input_lanes(r, origin, c0, v, &mut d1, &mut t1);
            }
        }
    }

    /// Input transform of channels `c0..c0 + L` of tile `t0 + r`: V[ξ][r][c] = (Bᵀ_y d B_x)[ξ],
    /// along y into `t` (`d` itself when that axis is the identity), then along x into `v`.
    #[inline(always)]
    fn input_lanes<const L: usize>(
        &self,
        r: usize,
        (i, y0, x0): (usize, usize, usize),
        c0: usize,
        v: &mut [f32],
        d: &mut [[f32; L]; MAX_POSITIONS],
        t: &mut [[f32; L]; MAX_POSITIONS],
    ) {
        let x = self.x;
        let (ty, tx) = (&self.plan.y, &self.plan.x);
        let (ny, nx) = (ty.n, tx.n);
        let cin = self.conv.cin;
        let [ph, pw] = self.conv.padding;
        let image = &x.data[i * x.h * x.w * cin..][..x.h * x.w * cin];
        for a in 0..ny {
            let iy = (y0 + a).wrapping_sub(ph);
            for b in 0..nx {
                let ix = (x0 + b).wrapping_sub(pw);
                d[a * nx + b] = if iy < x.h && ix < x.w {
                    *lanes(image, (iy * x.w + ix) * cin + c0)
                } else {
                    [0.0; L]
                };
            }
        }
        let src: &[[f32; L]; MAX_POSITIONS] = if ny == 1 {
            d
        } else {
            for a2 in 0..ny {
                for b in 0..nx {
                    t[a2 * nx + b] = lanes_sum(&ty.bt_terms[a2], |a| &d[a * nx + b]);
                }
            }
            t
        };
        for a2 in 0..ny {
            for b2 in 0..nx {
                let s = lanes_sum(&tx.bt_terms[b2], |b| &src[a2 * nx + b]);
                let at = ((a2 * nx + b2) * self.band + r) * cin + c0;
                v[at..at + L].copy_from_slice(&s);
            }
        }
    }

    /// The products `m` (`[ny · nx, band, Cout]`) back to output pixels, plus bias, ReLU, into
    /// channels `offset..` of `out`: `LANES` channels at a time, the rest one by one, or with
    /// more than `LANES_MAX_COUT` output channels one whole channel run at a time.
    #[inline(always)]
    fn output(&self, m: &[f32], out: &mut Map, offset: usize, tmp: &mut [f32]) {
        let cout = self.conv.cout;
        let full = cout - cout % LANES;
        let mut t = [[0.0; LANES]; MAX_POSITIONS];
        let mut t1 = [[0.0; 1]; MAX_POSITIONS];
        let (ho, wo) = self.conv.out_dims(self.x.h, self.x.w);
        for r in 0..self.rows {
            let (i, y0, x0) = self.tile_origin(self.t0 + r);
            // The output pixels this tile covers, and the first one's channel 0.
            let (rows, cols) = (self.plan.y.m.min(ho - y0), self.plan.x.m.min(wo - x0));
            let first = ((i * ho + y0) * wo + x0) * out.c + offset;
            let tile = Tile {
                rows,
                cols,
                first,
                stride: wo * out.c,
            };
            if cout > LANES_MAX_COUT {
                self.output_runs(r, tile, m, out, tmp);
                continue;
            }
            for c0 in (0..full).step_by(LANES) {
                self.output_lanes(r, tile, c0, m, out, &mut t);
            }
            for c0 in full..cout {
                self.output_lanes(r, tile, c0, m, out, &mut t1);
            }
        }
    }

    /// Output transform of channels `c0..c0 + L` of tile `t0 + r`: Y = Aᵀ_y M A_x, along y
    /// into `t` (read from `m` directly when that axis is the identity), then along x, plus
    /// bias and ReLU, into the output's channels.
    #[inline(always)]
    fn output_lanes<const L: usize>(
        &self,
        r: usize,
        tile: Tile,
        c0: usize,
        m: &[f32],
        out: &mut Map,
        t: &mut [[f32; L]; MAX_POSITIONS],
    ) {
        let (ty, tx) = (&self.plan.y, &self.plan.x);
        let nx = tx.n;
        let cout = self.conv.cout;
        let band = self.band;
        let run = |a: usize, b: usize| lanes::<L>(m, ((a * nx + b) * band + r) * cout + c0);
        if ty.n > 1 {
            for a in 0..ty.m {
                for b in 0..nx {
                    t[a * nx + b] = lanes_sum(&ty.at_terms[a], |k| run(k, b));
                }
            }
        }
        let bias = lanes::<L>(&self.conv.bias, c0);
        let oc = out.c;
        for a in 0..tile.rows {
            for b in 0..tile.cols {
                let s = if ty.n > 1 {
                    lanes_sum(&tx.at_terms[b], |k| &t[a * nx + k])
                } else {
                    lanes_sum(&tx.at_terms[b], |k| run(a, k))
                };
                let dst = &mut out.data[tile.first + a * tile.stride + b * oc + c0..][..L];
                for l in 0..L {
                    dst[l] = (s[l] + bias[l]).max(0.0);
                }
            }
        }
    }

    /// The output transform of tile `t0 + r` one whole channel run at a time: `tmp` holds
    /// `Aᵀ_y M` (`[m_y, n_x, Cout]`), then each output pixel's run is summed from it term by
    /// term.
    #[inline(always)]
    fn output_runs(&self, r: usize, tile: Tile, m: &[f32], out: &mut Map, tmp: &mut [f32]) {
        let (ty, tx) = (&self.plan.y, &self.plan.x);
        let nx = tx.n;
        let cout = self.conv.cout;
        let run = |a: usize, b: usize| &m[((a * nx + b) * self.band + r) * cout..][..cout];
        if ty.n > 1 {
            for a in 0..ty.m {
                for b in 0..nx {
                    let terms = ty.at_terms[a].iter().map(|&(k, c)| (c, run(k, b)));
                    combine(&mut tmp[(a * nx + b) * cout..][..cout], terms);
                }
            }
        }
        for a in 0..tile.rows {
            for b in 0..tile.cols {
                let dst = &mut out.data[tile.first + a * tile.stride + b * out.c..][..cout];
                let terms = tx.at_terms[b].iter().map(|&(k, c)| {
                    let src = if ty.n > 1 {
                        &tmp[(a * nx + k) * cout..][..cout]
                    } else {
                        run(a, k)
                    };
                    (c, src)
                });
                combine(dst, terms);
                bias_relu(dst, &self.conv.bias);
            }
        }
    }
}

/// Whether the CPU has AVX2 and FMA: the transforms then run compiled for them (their channel
/// loops take 8 floats an instruction instead of SSE2's 4). The crate is built for the x86-64
/// baseline; `-C target-cpu` would tie the binary to the build host instead.
#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// `fn name(args) -> T { body }`, with the body compiled twice: for the x86-64 baseline and,
/// called when the CPU has them, for AVX2 and FMA. The body is inlined into both.
macro_rules! simd_fn {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                // SAFETY: the CPU has the features `avx2` is compiled for.
                return unsafe { avx2($($arg),*) };
            }
            body($($arg),*)
        }
    };
}

simd_fn! {
    fn input_pass(band: &Band, v: &mut [f32]) {
        band.input(v)
    }
}

simd_fn! {
    fn output_pass(band: &Band, m: &[f32], out: &mut Map, offset: usize, tmp: &mut [f32]) {
        band.output(m, out, offset, tmp)
    }
}

simd_fn! {
/// 3×3 max pooling with stride 2 and no padding into channels `offset..offset + C` of `out`.
pub(crate) fn max_pool3_stride2_into(x: &Map, out: &mut Map, offset: usize) {
    let (ho, wo) = ((x.h - 3) / 2 + 1, (x.w - 3) / 2 + 1);
    assert_eq!(
        (out.n, out.h, out.w),
        (x.n, ho, wo),
        "max pool: output size"
    );
    assert!(offset + x.c <= out.c, "max pool: output channels");
    let c = x.c;
    for (i, oy, ox) in pixels(x.n, ho, wo) {
        {
            let dst = &mut out.data[((i * ho + oy) * wo + ox) * out.c + offset..][..c];
            dst.fill(f32::NEG_INFINITY);
            for ky in 0..3 {
                for kx in 0..3 {
                    let src = &x.data[((i * x.h + oy * 2 + ky) * x.w + ox * 2 + kx) * c..][..c];
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = d.max(v);
                    }
                }
            }
        }
    }
}
}

/// Every pixel `(image, y, x)` of `n` maps of `h×w`, in memory order.
fn pixels(n: usize, h: usize, w: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..n).flat_map(move |i| (0..h).flat_map(move |y| (0..w).map(move |x| (i, y, x))))
}

pub(crate) fn max_pool3_stride2(x: &Map) -> Map {
    let mut out = Map::spare(x.n, (x.h - 3) / 2 + 1, (x.w - 3) / 2 + 1, x.c);
    max_pool3_stride2_into(x, &mut out, 0);
    out
}

/// 3×3 pooling with stride 1 and padding 1 (the map's size kept): the mean over the taps inside
/// the map (PyTorch's `count_include_pad=False`), or the maximum.
pub fn pool3_same(x: &Map, average: bool) -> Map {
    let mut out = Map::spare(x.n, x.h, x.w, x.c);
    pool3_same_into(x, 0..x.c, average, None, &mut out, 0);
    out
}

simd_fn! {
/// [`pool3_same`] of channels `channels` of `x` into channels `offset..` of `out`, followed by
/// `relu(· + bias)` when `bias` is given.
fn pool3_same_into(
    x: &Map,
    channels: std::ops::Range<usize>,
    average: bool,
    bias: Option<&[f32]>,
    out: &mut Map,
    offset: usize
) {
    let (h, w, c) = (x.h, x.w, channels.len());
    assert_eq!((out.n, out.h, out.w), (x.n, h, w), "pool: output size");
    assert!(channels.end <= x.c && offset + c <= out.c, "pool: channels");
    for (i, oy, ox) in pixels(x.n, h, w) {
        let ys = oy.saturating_sub(1)..(oy + 2).min(h);
        let xs = ox.saturating_sub(1)..(ox + 2).min(w);
        let dst = &mut out.data[((i * h + oy) * w + ox) * out.c + offset..][..c];
        dst.fill(if average { 0.0 } else { f32::NEG_INFINITY });
        for iy in ys.clone() {
            for ix in xs.clone() {
                let src = &x.data[((i * h + iy) * w + ix) * x.c + channels.start..][..c];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = if average { *d + v } else { d.max(v) };
                }
            }
        }
        if average {
            let n = (ys.len() * xs.len()) as f32;
            for d in dst.iter_mut() {
                *d /= n;
            }
        }
        if let Some(bias) = bias {
            bias_relu(dst, bias);
        }
    }
}
}

simd_fn! {
/// The mean of each channel over each map: `[N, C]`.
pub(crate) fn global_mean(x: &Map) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.n * x.c);
    for image in x.data.chunks_exact(x.h * x.w * x.c) {
        let mut sum = vec![0.0f64; x.c];
        for px in image.chunks_exact(x.c) {
            for (s, &v) in sum.iter_mut().zip(px) {
                *s += v as f64;
            }
        }
        let n = (x.h * x.w) as f64;
        out.extend(sum.into_iter().map(|s| (s / n) as f32));
    }
    out
}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let v = (i as u32).wrapping_mul(2654435761).wrapping_add(seed * 97) >> 8;
                (v % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    /// The definition, channels first: relu(b[o] + Σ w[o, i, ky, kx]·x[i, y·s + ky − p, …]).
    fn naive(
        x: &[f32],
        [c, h, w]: [usize; 3],
        wt: &[f32],
        b: &[f32],
        [cout, kh, kw]: [usize; 3],
        s: usize,
        [ph, pw]: [usize; 2],
    ) -> (Vec<f32>, usize, usize) {
        let (ho, wo) = ((h + 2 * ph - kh) / s + 1, (w + 2 * pw - kw) / s + 1);
        let mut out = vec![0.0; cout * ho * wo];
        for o in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut acc = b[o] as f64;
                    for i in 0..c {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let (iy, ix) = (
                                    (oy * s + ky) as isize - ph as isize,
                                    (ox * s + kx) as isize - pw as isize,
                                );
                                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                    acc += wt[((o * c + i) * kh + ky) * kw + kx] as f64
                                        * x[(i * h + iy as usize) * w + ix as usize] as f64;
                                }
                            }
                        }
                    }
                    out[(o * ho + oy) * wo + ox] = acc.max(0.0) as f32;
                }
            }
        }
        (out, ho, wo)
    }

    type Case = (
        [usize; 2],
        usize,
        [usize; 2],
        (usize, usize),
        usize,
        usize,
        Option<bool>,
        bool,
    );

    /// Every kernel shape Inception uses, against the definition, written into a channel slice
    /// of a wider map (the rest untouched), across band boundaries.
    #[test]
    fn convolutions_match_the_definition_in_place() {
        // (kernel, stride, padding, input size, Cin, Cout, path forced, Winograd's path taken)
        let cases: [Case; 26] = [
            ([1, 1], 1, [0, 0], (17, 13), 24, 10, None, false),
            ([3, 3], 2, [0, 0], (19, 21), 3, 10, None, false),
            ([3, 3], 1, [1, 1], (9, 8), 16, 10, None, false),
            ([5, 5], 1, [2, 2], (7, 9), 8, 10, None, false),
            ([1, 7], 1, [0, 3], (8, 10), 12, 10, None, false),
            ([7, 1], 1, [3, 0], (10, 8), 12, 10, None, false),
            ([1, 3], 1, [0, 1], (6, 6), 20, 10, None, false),
            ([3, 1], 1, [1, 0], (6, 6), 20, 10, None, false),
            // Winograd's path: outputs of at least 16 a side, sides not multiples of the tile.
            ([3, 3], 1, [0, 0], (40, 40), 64, 64, None, true),
            ([3, 3], 1, [1, 1], (18, 21), 32, 64, None, true),
            ([3, 3], 1, [0, 0], (37, 35), 80, 72, None, true),
            ([1, 7], 1, [0, 3], (17, 17), 64, 64, None, true),
            ([7, 1], 1, [3, 0], (17, 17), 64, 64, None, true),
            ([5, 5], 1, [2, 2], (35, 35), 48, 64, None, true),
            // Output transforms by whole channel runs (more than 64 output channels) and by
            // lanes with a remainder (40 = 2 · 16 + 8), each over two bands of tiles.
            ([3, 3], 1, [1, 1], (40, 40), 96, 80, None, true),
            ([3, 3], 1, [1, 1], (64, 64), 40, 40, None, true),
            ([1, 7], 1, [0, 3], (17, 17), 48, 80, None, true),
            // Too few output channels for it.
            ([3, 3], 1, [1, 1], (18, 21), 32, 24, None, false),
            // Large k: the direct path over two bands of 256 pixels.
            ([3, 3], 2, [0, 0], (41, 41), 288, 16, None, false),
            // Forced onto it: small maps, few channels, odd sides, other paddings.
            ([3, 3], 1, [1, 1], (7, 5), 5, 10, Some(true), true),
            ([1, 7], 1, [0, 3], (3, 9), 6, 10, Some(true), true),
            ([7, 1], 1, [3, 0], (11, 2), 6, 10, Some(true), true),
            ([1, 7], 1, [0, 0], (2, 12), 6, 10, Some(true), true),
            ([5, 5], 1, [1, 2], (9, 6), 8, 10, Some(true), true),
            // And off it where it would be taken.
            ([3, 3], 1, [1, 1], (18, 21), 64, 64, Some(false), false),
            ([7, 1], 1, [3, 0], (17, 17), 64, 64, Some(false), false),
        ];
        for (kernel, stride, padding, (h, w), cin, cout, forced, winograd) in cases {
            let x = values(cin * h * w, 1);
            let wt = values(cout * cin * kernel[0] * kernel[1], 2);
            let b = values(cout, 3);
            let mut conv = NhwcConv::new(
                &wt,
                b.clone(),
                [cout, cin, kernel[0], kernel[1]],
                stride,
                padding,
            );
            if let Some(on) = forced {
                conv = conv.force_winograd(on);
            }
            let (ho, wo) = conv.out_dims(h, w);
            assert_eq!(
                conv.uses_winograd(ho, wo),
                winograd,
                "{kernel:?} on {h}×{w}"
            );
            let (want, ho, wo) = naive(
                &x,
                [cin, h, w],
                &wt,
                &b,
                [cout, kernel[0], kernel[1]],
                stride,
                padding,
            );
            let mut out = Map::zeros(1, ho, wo, cout + 7);
            out.data.fill(-5.0);
            conv.apply_into(&Map::from_nchw(&x, 1, cin, h, w), &mut out, 4);
            let mut worst = 0.0f32;
            for p in 0..ho * wo {
                for o in 0..cout + 7 {
                    let got = out.data[p * (cout + 7) + o];
                    if (4..4 + cout).contains(&o) {
                        worst = worst.max((got - want[(o - 4) * ho * wo + p]).abs());
                    } else {
                        assert_eq!(got, -5.0, "{kernel:?}: channel {o} outside the slice");
                    }
                }
            }
            // Relative to the largest output: Winograd's transforms round more than a dot product,
            // F(4, 7)'s ten points more than F(4×4, 3×3)'s six and F(4×4, 5×5)'s eight (1.2e-5
            // measured on 1×7, 64→64; 6.8e-6 and 6.4e-6 on the others).
            let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let tolerance = if winograd && kernel.contains(&7) {
                3e-5
            } else {
                1e-5
            };
            assert!(
                worst <= tolerance * scale,
                "{kernel:?} stride {stride} on {h}×{w}: max |diff| {worst}, largest output {scale}"
            );
        }
    }

    /// The construction reproduces the F(4, 3) matrices of Lavin & Gray (2016), and every
    /// shape in use computes the correlation exactly in f64 arithmetic.
    #[test]
    fn toom_cook_transforms_are_exact() {
        // The matrices from their nonzero terms, `[rows, n]`.
        let dense = |terms: &[Vec<(usize, f32)>], n: usize| {
            let mut m = vec![0.0f32; terms.len() * n];
            for (row, terms) in terms.iter().enumerate() {
                for &(k, c) in terms {
                    m[row * n + k] = c;
                }
            }
            m
        };
        let f43 = Toom::new(4, 3);
        assert_eq!(
            dense(&f43.bt_terms, 6),
            [
                [4., 0., -5., 0., 1., 0.],
                [0., -4., -4., 1., 1., 0.],
                [0., 4., -4., -1., 1., 0.],
                [0., -2., -1., 2., 1., 0.],
                [0., 2., -1., -2., 1., 0.],
                [0., 4., 0., -5., 0., 1.],
            ]
            .concat()
        );
        assert_eq!(
            dense(&f43.at_terms, 6),
            [
                [1., 1., 1., 1., 1., 0.],
                [0., 1., -1., 2., -2., 0.],
                [0., 1., 1., 4., 4., 0.],
                [0., 1., -1., 8., -8., 1.],
            ]
            .concat()
        );
        let g0: Vec<f64> = f43.g[..6].to_vec();
        assert_eq!(g0, [0.25, 0.0, 0.0, -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0]);
        for (m, r) in [(4, 3), (4, 5), (4, 7), (2, 7), (1, 1), (2, 3)] {
            let t = Toom::new(m, r);
            let (bt, at) = (dense(&t.bt_terms, t.n), dense(&t.at_terms, t.n));
            let d: Vec<f64> = values(t.n, 7).into_iter().map(f64::from).collect();
            let g: Vec<f64> = values(r, 8).into_iter().map(f64::from).collect();
            let gt: Vec<f64> = (0..t.n)
                .map(|j| (0..r).map(|k| t.g[j * r + k] * g[k]).sum())
                .collect();
            let dt: Vec<f64> = (0..t.n)
                .map(|j| (0..t.n).map(|l| bt[j * t.n + l] as f64 * d[l]).sum())
                .collect();
            for i in 0..m {
                let got: f64 = (0..t.n)
                    .map(|j| at[i * t.n + j] as f64 * gt[j] * dt[j])
                    .sum();
                let want: f64 = (0..r).map(|k| g[k] * d[i + k]).sum();
                assert!(
                    (got - want).abs() < 1e-12,
                    "F({m}, {r}) output {i}: {got} against {want}"
                );
            }
        }
    }

    #[test]
    fn heads_match_their_convolutions_and_pooling_commutes() {
        let (cin, h, w) = (24, 6, 5);
        let x = Map::from_nchw(&values(cin * h * w, 7), 1, cin, h, w);
        let convs: Vec<NhwcConv> = [(8, 11), (5, 12), (7, 13)]
            .into_iter()
            .map(|(cout, seed)| {
                let wt = values(cout * cin, seed);
                NhwcConv::new(&wt, values(cout, seed + 50), [cout, cin, 1, 1], 1, [0, 0])
            })
            .collect();
        let heads = Heads::new(&convs.iter().collect::<Vec<_>>());
        let product = heads.product(&x);
        assert_eq!((product.h, product.w, product.c), (h, w, 20));
        // The first head into the middle of a wider map, the second on its own.
        let mut out = Map::zeros(1, h, w, 30);
        heads.finish_into(0, &product, &mut out, 3);
        let alone = heads.finish(1, &product);
        // The third pooled: the convolution of the average-pooled input.
        heads.pooled_into(2, &product, &mut out, 20);
        let want = [
            convs[0].apply(&x),
            convs[1].apply(&x),
            convs[2].apply(&pool3_same(&x, true)),
        ];
        let mut largest = 0.0f32;
        for p in 0..h * w {
            let got = [
                &out.data[p * 30 + 3..][..8],
                &alone.data[p * 5..][..5],
                &out.data[p * 30 + 20..][..7],
            ];
            for (g, want) in got.iter().zip(&want) {
                let want = &want.data[p * want.c..][..want.c];
                for (a, b) in g.iter().zip(want) {
                    assert!((a - b).abs() < 1e-5, "pixel {p}: {a} against {b}");
                    largest = largest.max(b.abs());
                }
            }
        }
        // Channels outside the heads' are left as they were.
        assert!(
            out.data
                .chunks_exact(30)
                .all(|px| px[..3] == [0.0; 3] && px[11..20] == [0.0; 9])
        );
        assert!(largest > 1.0, "the outputs are not all clipped by ReLU");
    }

    #[test]
    fn spare_buffers_are_reused_within_twice_their_length() {
        let a = scratch::spare(1000);
        let at = a.as_ptr();
        scratch::give_back(a);
        // A shorter request within twice the length gets it back, at the length asked for.
        let b = scratch::spare(700);
        assert_eq!((b.as_ptr(), b.len()), (at, 700));
        assert!(b.iter().all(|v| v.is_nan()), "tests hand out NaNs");
        scratch::give_back(b);
        // And a longer one up to its capacity.
        let c = scratch::spare(1000);
        assert_eq!((c.as_ptr(), c.len()), (at, 1000));
        scratch::give_back(c);
        // Less than half its size: a buffer of its own.
        let d = scratch::spare(400);
        assert_ne!(d.as_ptr(), at);
        assert_eq!(d.len(), 400);
    }

    #[test]
    fn stacked_maps_keep_each_image() {
        let a = Map::from_nchw(&values(2 * 3 * 4 * 5, 1), 2, 3, 4, 5);
        let b = Map::from_nchw(&values(3 * 4 * 5, 2), 1, 3, 4, 5);
        let s = Map::stack(&[a.clone(), b.clone()]);
        assert_eq!((s.n, s.h, s.w, s.c), (3, 4, 5, 3));
        assert_eq!(s.data, [a.data.clone(), b.data.clone()].concat());
    }

    #[test]
    fn pools_match_their_definitions() {
        let (c, h, w) = (3, 7, 6);
        let x = values(c * h * w, 4);
        let m = Map::from_nchw(&x, 1, c, h, w);
        let at = |ch: usize, y: usize, xx: usize| x[(ch * h + y) * w + xx];
        let max2 = max_pool3_stride2(&m);
        assert_eq!((max2.h, max2.w), (3, 2));
        let avg = pool3_same(&m, true);
        let max1 = pool3_same(&m, false);
        for ch in 0..c {
            for oy in 0..3 {
                for ox in 0..2 {
                    let want = (0..9)
                        .map(|t| at(ch, oy * 2 + t / 3, ox * 2 + t % 3))
                        .fold(f32::NEG_INFINITY, f32::max);
                    assert_eq!(max2.data[(oy * 2 + ox) * c + ch], want);
                }
            }
            // A corner averages its 4 taps inside the map; an inner pixel its 9.
            let corner = (at(ch, 0, 0) + at(ch, 0, 1) + at(ch, 1, 0) + at(ch, 1, 1)) / 4.0;
            assert!((avg.data[ch] - corner).abs() < 1e-6);
            let inner: f32 = (0..9).map(|t| at(ch, 2 + t / 3, 3 + t % 3)).sum::<f32>() / 9.0;
            assert!((avg.data[(3 * w + 4) * c + ch] - inner).abs() < 1e-6);
            let inner_max = (0..9)
                .map(|t| at(ch, 2 + t / 3, 3 + t % 3))
                .fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(max1.data[(3 * w + 4) * c + ch], inner_max);
        }
        let mean = global_mean(&m);
        let want: f32 = (0..h * w).map(|p| x[p]).sum::<f32>() / (h * w) as f32;
        assert!((mean[0] - want).abs() < 1e-6);
    }
}
