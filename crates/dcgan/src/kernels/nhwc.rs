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
            assert!(
                worst < 1e-4,
                "{kernel:?} stride {stride}: max |diff| {worst}"
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
