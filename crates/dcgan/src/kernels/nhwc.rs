//! Inference-only convolutions and pools on channels-last maps (`[N, H, W, C]`, f32): the FID
//! network (Inception-v3) on the CPU.
//!
//! Why channels-last and one image at a time: Inception's convolutions are mostly 1×1 (on a
//! channels-last map a 1×1 convolution is one matrix product with no copy at all), its other
//! kernels (3×3, 5×5, 1×7, 7×1, 1×3, 3×1, strides 1 and 2) gather whole channel runs per tap,
//! and its blocks concatenate branches along channels, which channels-last lets each branch
//! write in place (a row stride of the block's width) instead of copying. The caller spreads a
//! batch over rayon's threads, one image per task with single-threaded matrix products (a
//! map's batch dimension is kept for callers that want more rows per product; for Inception
//! on 2 cores, 1, 2, 5 and 25 images per task measured the same within noise). burn's Flex convolutions are channels-first with a separate concatenation, and ran
//! at 0.72× PyTorch's speed on this network.

use gemm::Parallelism;

use super::conv::matmul;

/// A batch of maps, channels last: pixel `(i, y, x)` is row `(i·H + y)·W + x` of `[N·H·W, C]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub data: Vec<f32>,
}

impl Map {
    pub fn zeros(n: usize, h: usize, w: usize, c: usize) -> Self {
        Self {
            n,
            h,
            w,
            c,
            data: vec![0.0; n * h * w * c],
        }
    }

    /// From channels-first images `[N, C, H, W]`.
    pub fn from_nchw(x: &[f32], n: usize, c: usize, h: usize, w: usize) -> Self {
        assert_eq!(x.len(), n * c * h * w, "from_nchw: size");
        let mut data = vec![0.0; x.len()];
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

/// Output pixels per matrix product, at least: enough rows for the GEMM's micro-kernels,
/// while the gathered patches (`rows × k·k·Cin` floats) stay near 512 KiB, in the core's L2.
const MIN_BAND: usize = 64;
const BAND_FLOATS: usize = 1 << 17;

/// A convolution with bias, followed by ReLU (Inception's folded Conv + BatchNorm + ReLU).
#[derive(Clone, Debug)]
pub struct Conv {
    pub cin: usize,
    pub cout: usize,
    pub kernel: [usize; 2],
    pub stride: usize,
    pub padding: [usize; 2],
    /// `[Cout, kh, kw, Cin]`: the GEMM's right operand `[k·k·Cin, Cout]` stored contiguous along
    /// its inner dimension, which the gemm crate reads as it is instead of packing it again for
    /// every band of pixels.
    weight: Vec<f32>,
    bias: Vec<f32>,
    /// The weight in Winograd's domain, made on first use (3×3 stride-1 layers on large maps).
    winograd: std::sync::OnceLock<Vec<f32>>,
}

impl Conv {
    /// From PyTorch's weight layout `[Cout, Cin, kh, kw]`.
    pub fn new(
        weight_oihw: &[f32],
        bias: Vec<f32>,
        [cout, cin, kh, kw]: [usize; 4],
        stride: usize,
        padding: [usize; 2],
    ) -> Self {
        assert_eq!(weight_oihw.len(), cout * cin * kh * kw, "Conv::new: weight");
        assert_eq!(bias.len(), cout, "Conv::new: bias");
        assert!(stride > 0 && kh > 0 && kw > 0, "Conv::new: geometry");
        let mut weight = vec![0.0; weight_oihw.len()];
        for o in 0..cout {
            for i in 0..cin {
                for y in 0..kh {
                    for x in 0..kw {
                        weight[((y * kw + x) * cin + i) * cout + o] =
                            weight_oihw[((o * cin + i) * kh + y) * kw + x];
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
        }
    }

    pub fn out_dims(&self, h: usize, w: usize) -> (usize, usize) {
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

    pub fn apply(&self, x: &Map) -> Map {
        let (h, w) = self.out_dims(x.h, x.w);
        let mut out = Map::zeros(x.n, h, w, self.cout);
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
        if self.kernel == [3, 3]
            && self.stride == 1
            && ho.min(wo) >= WINOGRAD_MIN_SIDE
            && self.cin >= WINOGRAD_MIN_CIN
        {
            return self.winograd_into(x, out, offset);
        }
        let [kh, kw] = self.kernel;
        let k = kh * kw * self.cin;
        let pixels = x.n * ho * wo;
        let band = (BAND_FLOATS / k).max(MIN_BAND).min(pixels);
        let mut patches = if self.pointwise() {
            Vec::new()
        } else {
            vec![0.0; band * k]
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
                let row = &mut dst[r * oc..r * oc + self.cout];
                for (v, b) in row.iter_mut().zip(&self.bias) {
                    *v = (*v + b).max(0.0);
                }
            }
        }
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

/// Winograd's F(4×4, 3×3) (Lavin & Gray, 2016): each 4×4 block of outputs from a 6×6 block of
/// inputs with 36 multiplications per input and output channel instead of 144, as 36 matrix
/// products `[tiles, Cin] · [Cin, Cout]`. Used for 3×3 stride-1 layers whose output is at least
/// `WINOGRAD_MIN_SIDE` on a side (smaller maps have too few tiles per product) and which have
/// at least `WINOGRAD_MIN_CIN` input channels: with fewer, the transforms cost more than the
/// multiplications saved (Inception's 32→32 layer took 5.4 ms against 4.5 ms direct, its 80→192
/// one 6.7 ms against 10.0; `examples/inception_profile.rs`). The transforms' rounding stays far
/// inside the FID parity tolerances (the tests compare it with the definition).
const WINOGRAD_MIN_SIDE: usize = 16;
const WINOGRAD_MIN_CIN: usize = 64;
const T: usize = 6; // input tile side
const M: usize = 4; // output tile side
/// Bᵀ: input tile → Winograd domain.
const BT: [[f32; T]; T] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];
/// G: 3×3 kernel → Winograd domain.
const G: [[f64; 3]; T] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];
/// Aᵀ: Winograd domain → output tile.
const AT: [[f32; T]; M] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// Tiles per band: the transformed inputs (`36 × tiles × Cin` floats) near 1 MiB.
const WINOGRAD_BAND_FLOATS: usize = 1 << 18;

// The transforms index their small constant matrices by tile coordinates.
#[allow(clippy::needless_range_loop)]
impl Conv {
    /// `U[ξ][ci][co] = (G g Gᵀ)[ξ]` for every input and output channel: `[36, Cin, Cout]`.
    fn winograd_weight(&self) -> &[f32] {
        self.winograd.get_or_init(|| {
            let (cin, cout) = (self.cin, self.cout);
            let mut u = vec![0.0f32; T * T * cin * cout];
            for ci in 0..cin {
                for co in 0..cout {
                    // g[ky][kx] from the [kh, kw, Cin, Cout] layout.
                    let g = |ky: usize, kx: usize| {
                        self.weight[((ky * 3 + kx) * cin + ci) * cout + co] as f64
                    };
                    for i in 0..T {
                        for j in 0..T {
                            let mut v = 0.0;
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    v += G[i][ky] * g(ky, kx) * G[j][kx];
                                }
                            }
                            u[((i * T + j) * cin + ci) * cout + co] = v as f32;
                        }
                    }
                }
            }
            u
        })
    }

    fn winograd_into(&self, x: &Map, out: &mut Map, offset: usize) {
        let (cin, cout) = (self.cin, self.cout);
        let [ph, pw] = self.padding;
        let (ho, wo) = self.out_dims(x.h, x.w);
        let (th, tw) = (ho.div_ceil(M), wo.div_ceil(M));
        let tiles = x.n * th * tw;
        let band = (WINOGRAD_BAND_FLOATS / (T * T * cin)).max(16).min(tiles);
        let u = self.winograd_weight();
        let mut v = vec![0.0f32; T * T * band * cin];
        let mut m = vec![0.0f32; T * T * band * cout];
        let mut d = vec![0.0f32; T * T * cin];
        let mut tmp = vec![0.0f32; T * T * cin.max(cout)];
        let oc = out.c;
        for t0 in (0..tiles).step_by(band) {
            let rows = band.min(tiles - t0);
            // Input transform: V[ξ][r][ci] = (Bᵀ d B)[ξ] of tile t0 + r.
            for r in 0..rows {
                let t = t0 + r;
                let (i, q) = (t / (th * tw), t % (th * tw));
                let (y0, x0) = ((q / tw) * M, (q % tw) * M);
                let image = &x.data[i * x.h * x.w * cin..][..x.h * x.w * cin];
                for a in 0..T {
                    let iy = (y0 + a).wrapping_sub(ph);
                    for b in 0..T {
                        let ix = (x0 + b).wrapping_sub(pw);
                        let dst = &mut d[(a * T + b) * cin..][..cin];
                        if iy < x.h && ix < x.w {
                            dst.copy_from_slice(&image[(iy * x.w + ix) * cin..][..cin]);
                        } else {
                            dst.fill(0.0);
                        }
                    }
                }
                // Rows: tmp[a'][b] = Σ_a Bᵀ[a'][a] d[a][b]; then columns into V.
                transform_rows(&BT, &d, &mut tmp, cin);
                for a in 0..T {
                    for b in 0..T {
                        let dst = &mut v[((a * T + b) * band + r) * cin..][..cin];
                        dst.fill(0.0);
                        for (k, &c) in BT[b].iter().enumerate() {
                            if c != 0.0 {
                                let src = &tmp[(a * T + k) * cin..][..cin];
                                for (o, &s) in dst.iter_mut().zip(src) {
                                    *o += c * s;
                                }
                            }
                        }
                    }
                }
            }
            // 36 products: M[ξ][r][co] = Σ_ci V[ξ][r][ci] · U[ξ][ci][co].
            for xi in 0..T * T {
                matmul(
                    (rows, cout, cin),
                    (&mut m[xi * band * cout..], (cout, 1)),
                    false,
                    (&v[xi * band * cin..], (cin, 1)),
                    (&u[xi * cin * cout..], (cout, 1)),
                    Parallelism::None,
                );
            }
            // Output transform: Y = Aᵀ M A, plus bias, ReLU, into the output's channels.
            for r in 0..rows {
                let t = t0 + r;
                let (i, q) = (t / (th * tw), t % (th * tw));
                let (y0, x0) = ((q / tw) * M, (q % tw) * M);
                // tmp[a][j] (a < 4) = Σ_k Aᵀ[a][k] M[k][j]
                for a in 0..M {
                    for j in 0..T {
                        let dst = &mut tmp[(a * T + j) * cout..][..cout];
                        dst.fill(0.0);
                        for (k, &c) in AT[a].iter().enumerate() {
                            if c != 0.0 {
                                let src = &m[((k * T + j) * band + r) * cout..][..cout];
                                for (o, &s) in dst.iter_mut().zip(src) {
                                    *o += c * s;
                                }
                            }
                        }
                    }
                }
                for a in 0..M.min(ho - y0) {
                    for b in 0..M.min(wo - x0) {
                        let px = (i * ho + y0 + a) * wo + x0 + b;
                        let dst = &mut out.data[px * oc + offset..][..cout];
                        dst.copy_from_slice(&self.bias);
                        for (k, &c) in AT[b].iter().enumerate() {
                            if c != 0.0 {
                                let src = &tmp[(a * T + k) * cout..][..cout];
                                for (o, &s) in dst.iter_mut().zip(src) {
                                    *o += c * s;
                                }
                            }
                        }
                        for o in dst.iter_mut() {
                            *o = o.max(0.0);
                        }
                    }
                }
            }
        }
    }
}

/// `out[a'][b] = Σ_a m[a'][a] · d[a][b]` over channel runs of `c` (a 6×6 tile of runs).
fn transform_rows(m: &[[f32; T]; T], d: &[f32], out: &mut [f32], c: usize) {
    for (a2, row) in m.iter().enumerate() {
        for b in 0..T {
            let dst = &mut out[(a2 * T + b) * c..][..c];
            dst.fill(0.0);
            for (a, &k) in row.iter().enumerate() {
                if k != 0.0 {
                    let src = &d[(a * T + b) * c..][..c];
                    for (o, &s) in dst.iter_mut().zip(src) {
                        *o += k * s;
                    }
                }
            }
        }
    }
}

/// 3×3 max pooling with stride 2 and no padding into channels `offset..offset + C` of `out`.
pub fn max_pool3_stride2_into(x: &Map, out: &mut Map, offset: usize) {
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

/// Every pixel `(image, y, x)` of `n` maps of `h×w`, in memory order.
fn pixels(n: usize, h: usize, w: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..n).flat_map(move |i| (0..h).flat_map(move |y| (0..w).map(move |x| (i, y, x))))
}

pub fn max_pool3_stride2(x: &Map) -> Map {
    let mut out = Map::zeros(x.n, (x.h - 3) / 2 + 1, (x.w - 3) / 2 + 1, x.c);
    max_pool3_stride2_into(x, &mut out, 0);
    out
}

/// 3×3 pooling with stride 1 and padding 1 (the map's size kept): the mean over the taps inside
/// the map (PyTorch's `count_include_pad=False`), or the maximum.
pub fn pool3_same(x: &Map, average: bool) -> Map {
    let (h, w, c) = (x.h, x.w, x.c);
    let mut out = Map::zeros(x.n, h, w, c);
    for (i, oy, ox) in pixels(x.n, h, w) {
        let ys = oy.saturating_sub(1)..(oy + 2).min(h);
        {
            let xs = ox.saturating_sub(1)..(ox + 2).min(w);
            let dst = &mut out.data[((i * h + oy) * w + ox) * c..][..c];
            dst.fill(if average { 0.0 } else { f32::NEG_INFINITY });
            for iy in ys.clone() {
                for ix in xs.clone() {
                    let src = &x.data[((i * h + iy) * w + ix) * c..][..c];
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
        }
    }
    out
}

/// The mean of each channel over each map: `[N, C]`.
pub fn global_mean(x: &Map) -> Vec<f32> {
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

    /// Every kernel shape Inception uses, against the definition, written into a channel slice
    /// of a wider map (the rest untouched), across band boundaries.
    #[test]
    fn convolutions_match_the_definition_in_place() {
        for (kernel, stride, padding, (h, w), cin) in [
            ([1, 1], 1, [0, 0], (17, 13), 24),
            ([3, 3], 2, [0, 0], (19, 21), 3),
            ([3, 3], 1, [1, 1], (9, 8), 16),
            ([5, 5], 1, [2, 2], (7, 9), 8),
            ([1, 7], 1, [0, 3], (8, 10), 12),
            ([7, 1], 1, [3, 0], (10, 8), 12),
            ([1, 3], 1, [0, 1], (6, 6), 20),
            ([3, 1], 1, [1, 0], (6, 6), 20),
            ([3, 3], 1, [0, 0], (40, 40), 64),
            // Winograd's path: outputs of at least 16 a side, sides not multiples of 4.
            ([3, 3], 1, [1, 1], (18, 21), 64),
            ([3, 3], 1, [0, 0], (37, 35), 80),
        ] {
            let cout = 10;
            let x = values(cin * h * w, 1);
            let wt = values(cout * cin * kernel[0] * kernel[1], 2);
            let b = values(cout, 3);
            let conv = Conv::new(
                &wt,
                b.clone(),
                [cout, cin, kernel[0], kernel[1]],
                stride,
                padding,
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
            // Relative to the largest output: Winograd's transforms round more than a dot product.
            let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            assert!(
                worst <= 1e-5 * scale,
                "{kernel:?} stride {stride} on {h}×{w}: max |diff| {worst}, largest output {scale}"
            );
        }
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
