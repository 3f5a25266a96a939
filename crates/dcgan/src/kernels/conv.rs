//! Convolutions on plain slices (NCHW, f32), forward and backward.
//!
//! Every pass of a convolution and of a transposed convolution is one of three operations between
//! a "big" map `[B, Cb, Hb, Wb]` and a "small" map `[B, Cs, Hs, Ws]`, with `Hs = (Hb + 2p − k)/s + 1`,
//! and a weight `[Cs, Cb·k·k]`:
//! - [`lower`]: small = W · im2col(big). Convolution forward; transposed-convolution input gradient.
//! - [`raise`]: big = col2im(Wᵀ · small). Transposed-convolution forward; convolution input gradient.
//! - [`weight_grad`]: W' = Σ small · im2col(big)ᵀ. Both weight gradients (for the transposed
//!   convolution the output gradient is the big map).
//!
//! A convolution's weight `[Cout, Cin, k, k]` and a transposed convolution's `[Cin, Cout, k, k]`
//! (PyTorch's layouts) are both `[Cs, Cb·k·k]` in these terms. Each operation works on chunks of
//! whole images: one im2col buffer (kept in L2) and one single-threaded GEMM (the `gemm` crate)
//! per chunk, the chunks spread over rayon's threads. For strided layers whose big map splits
//! into s×s stride phases of the small map's size (all of DCGAN's), im2col and col2im move one
//! shifted run per channel and kernel tap instead of one row of pixels at a time. When the kernel
//! covers the whole map (D's last layer, G's projection) each operation is one matrix product.

use gemm::Parallelism;
use rayon::prelude::*;

/// Chunks a batch is split into, at least (when the batch has that many images): enough to keep
/// 8 threads busy. Fixed, not the thread count, so results do not depend on the machine.
const MIN_CHUNKS: usize = 8;

/// Accumulators of the weight gradient, summed in order at the end (see [`MIN_CHUNKS`]).
const GROUPS: usize = 8;

/// GEMM columns (output pixels) per chunk, at least. Small chunks keep the im2col buffer in the
/// core's L2 cache: the 64×64 training step took 0.505 s with 64 columns, 0.559 s with 512 and
/// 0.612 s with 2048 (docs/performance.md).
const MIN_COLUMNS: usize = 64;

/// The geometry shared by the three operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Images in the batch.
    pub batch: usize,
    /// Channels, height, width of the big map.
    pub big: [usize; 3],
    /// Channels, height, width of the small map.
    pub small: [usize; 3],
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
}

impl Plan {
    /// The plan of a convolution of `x: [B, Cin, H, W]` with a `k×k` kernel to `cout` channels.
    pub fn conv(x: [usize; 4], cout: usize, kernel: usize, stride: usize, padding: usize) -> Self {
        let [batch, cin, h, w] = x;
        assert!(
            h.min(w) + 2 * padding >= kernel && stride > 0,
            "convolution: a {kernel}×{kernel} kernel does not fit a {h}×{w} map padded by {padding}"
        );
        let out = |n: usize| (n + 2 * padding - kernel) / stride + 1;
        Self {
            batch,
            big: [cin, h, w],
            small: [cout, out(h), out(w)],
            kernel,
            stride,
            padding,
        }
    }

    /// The plan of a transposed convolution of `x: [B, Cin, H, W]` to `cout` channels.
    pub(crate) fn conv_transpose(
        x: [usize; 4],
        cout: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        output_padding: usize,
    ) -> Self {
        let [batch, cin, h, w] = x;
        assert!(
            h.min(w) > 0 && kernel + output_padding >= 2 * padding && stride > 0,
            "transposed convolution: kernel {kernel}, padding {padding}, output padding \
             {output_padding} give no output for a {h}×{w} map"
        );
        let out = |n: usize| (n - 1) * stride + kernel + output_padding - 2 * padding;
        Self {
            batch,
            big: [cout, out(h), out(w)],
            small: [cin, h, w],
            kernel,
            stride,
            padding,
        }
    }

    /// Whether the kernel covers the whole (unpadded) big map, giving a 1×1 small map: D's last
    /// layer and G's projection in the kernel-4 layout. im2col is then the identity, and each
    /// operation is one matrix product over the batch.
    fn dense(&self) -> bool {
        let ([_, hb, wb], [_, hs, ws]) = (self.big, self.small);
        hs == 1 && ws == 1 && self.padding == 0 && self.kernel == hb && self.kernel == wb
    }

    fn big_len(&self) -> usize {
        self.big.iter().product()
    }
    fn small_len(&self) -> usize {
        self.small.iter().product()
    }
    fn small_pixels(&self) -> usize {
        self.small[1] * self.small[2]
    }
    /// Rows of im2col(big): one per (big channel, kernel row, kernel column).
    fn rows(&self) -> usize {
        self.big[0] * self.kernel * self.kernel
    }
    /// Images per chunk: the fewest that give [`MIN_COLUMNS`] GEMM columns, and at least
    /// [`MIN_CHUNKS`] chunks. A function of the shapes only, not of the thread count, so every
    /// sum over chunks runs in the same order on any machine.
    fn chunk(&self) -> usize {
        let wanted = MIN_COLUMNS.div_ceil(self.small_pixels()).max(1);
        wanted.min(self.batch.div_ceil(MIN_CHUNKS)).max(1)
    }
    /// Whether the chunks are run in parallel (each GEMM on one thread) or one after the other
    /// (each GEMM on all threads): the latter when there are fewer chunks than threads.
    fn parallel_chunks(&self) -> bool {
        self.batch.div_ceil(self.chunk()) >= rayon::current_num_threads()
    }
}

/// `dst[m×n] = (dst if accumulate) + a[m×k] · b[k×n]`, each matrix given by its slice and its
/// (row, column) strides in elements. The destination must not alias either operand (it is
/// borrowed mutably, so it cannot).
#[allow(unsafe_code)]
pub(crate) fn matmul(
    (m, n, k): (usize, usize, usize),
    (dst, (dst_row, dst_col)): (&mut [f32], (usize, usize)),
    accumulate: bool,
    (a, (a_row, a_col)): (&[f32], (usize, usize)),
    (b, (b_row, b_col)): (&[f32], (usize, usize)),
    parallelism: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rs: usize, cs: usize, rows: usize, cols: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(
        last(dst_row, dst_col, m, n) < dst.len(),
        "matmul: destination too short"
    );
    if k > 0 {
        assert!(
            last(a_row, a_col, m, k) < a.len(),
            "matmul: left operand too short"
        );
        assert!(
            last(b_row, b_col, k, n) < b.len(),
            "matmul: right operand too short"
        );
    }
    // SAFETY: the asserts above keep every element the GEMM touches inside the three slices, and
    // `dst` is borrowed mutably, so it overlaps neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_col as isize,
            dst_row as isize,
            accumulate,
            a.as_ptr(),
            a_col as isize,
            a_row as isize,
            b.as_ptr(),
            b_col as isize,
            b_row as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The range of output columns `o` whose input column `o·s + offset − p` lies in `[0, len)`.
fn valid(offset: usize, plan: &Plan, len: usize, outputs: usize) -> (usize, usize) {
    let (s, p) = (plan.stride, plan.padding);
    let lo = p.saturating_sub(offset).div_ceil(s);
    let hi = (len + p).saturating_sub(offset).div_ceil(s).min(outputs);
    (lo.min(hi), hi)
}

/// Where kernel column `kw` reads in a strided row: input column `o·s + kw − p` is element
/// `o + shift` of phase `phase` (the row's columns `phase, phase + s, …`).
fn phase_of(kw: usize, plan: &Plan) -> (usize, isize) {
    let (s, p) = (plan.stride as isize, plan.padding as isize);
    let t = kw as isize - p;
    (t.rem_euclid(s) as usize, t.div_euclid(s))
}

/// The length of phase `r` of a row of `len` columns.
fn phase_len(r: usize, plan: &Plan, len: usize) -> usize {
    (len + plan.stride - 1 - r) / plan.stride
}

/// Splits a `[h, w]` plane into its `s` column phases, `phases[r]` being `[h, phase_len(r)]`
/// (for stride 1, a copy).
fn split_phases(plan: &Plan, plane: &[f32], w: usize, phases: &mut [f32]) {
    let s = plan.stride;
    let h = plane.len() / w;
    let mut offset = 0;
    for r in 0..s {
        let len = phase_len(r, plan, w);
        for (row, dst) in plane
            .chunks_exact(w)
            .zip(phases[offset..offset + h * len].chunks_exact_mut(len))
        {
            for (d, x) in dst.iter_mut().zip(row[r..].iter().step_by(s)) {
                *d = *x;
            }
        }
        offset += h * len;
    }
}

/// The start of phase `r` in [`split_phases`]' output.
fn phase_start(r: usize, plan: &Plan, h: usize, w: usize) -> usize {
    (0..r).map(|q| h * phase_len(q, plan, w)).sum()
}

/// Whether each of the big map's s×s stride phases has exactly the small map's size (k4 s2 p1
/// and k5 s2 p2 on even sizes: all of DCGAN's strided layers). Then the pixels one kernel tap
/// reads, for all images of a chunk, form one shifted run of a phase plane, so im2col and col2im
/// move long runs instead of rows of a few pixels.
fn phases_match(plan: &Plan) -> bool {
    let ([_, hb, wb], [_, hs, ws], s) = (plan.big, plan.small, plan.stride);
    s > 1 && hb % s == 0 && wb % s == 0 && hb / s == hs && wb / s == ws
}

/// What kernel tap (kh, kw) reads, for a chunk of `n` small pixels: the phase (`rr·s + r`),
/// the linear offset in it, the range of `i` with `0 ≤ i + offset < n`, and the valid output
/// rows and columns. Computed once per call, so the per-channel loops do no division.
struct Tap {
    phase: usize,
    offset: isize,
    run: (usize, usize),
    rows: (usize, usize),
    cols: (usize, usize),
}

fn taps(plan: &Plan, n: usize) -> Vec<Tap> {
    let ([_, hb, wb], [_, hs, ws], k) = (plan.big, plan.small, plan.kernel);
    let mut taps = Vec::with_capacity(k * k);
    for kh in 0..k {
        for kw in 0..k {
            let ((rr, qh), (r, qw)) = (phase_of(kh, plan), phase_of(kw, plan));
            let offset = qh * ws as isize + qw;
            let len = n as isize;
            let run = (
                (-offset).clamp(0, len) as usize,
                (len - offset).clamp(0, len) as usize,
            );
            taps.push(Tap {
                phase: rr * plan.stride + r,
                offset,
                run,
                rows: valid(kh, plan, hb, hs),
                cols: valid(kw, plan, wb, ws),
            });
        }
    }
    taps
}

/// Zeroes the entries of a tap's `[nb, hs, ws]` column row that fall into the padding.
fn zero_padding(row: &mut [f32], [hs, ws]: [usize; 2], tap: &Tap) {
    let ((oh_lo, oh_hi), (ow_lo, ow_hi)) = (tap.rows, tap.cols);
    for ow in (0..ow_lo).chain(ow_hi..ws) {
        let mut i = ow;
        while i < row.len() {
            row[i] = 0.0;
            i += ws;
        }
    }
    if oh_lo > 0 || oh_hi < hs {
        for image in row.chunks_exact_mut(hs * ws) {
            image[..oh_lo * ws].fill(0.0);
            image[oh_hi * ws..].fill(0.0);
        }
    }
}

/// The chunk's big images as phase planes: `phases[c][q][image][hs][ws]`.
fn split_chunk(plan: &Plan, big: &[f32], nb: usize, phases: &mut [f32]) {
    let ([cb, hb, wb], [_, hs, ws], s) = (plan.big, plan.small, plan.stride);
    let pixels = hs * ws;
    for c in 0..cb {
        for image in 0..nb {
            let plane = &big[(image * cb + c) * hb * wb..][..hb * wb];
            for (ih, row) in plane.chunks_exact(wb).enumerate() {
                let (i, rr) = (ih / s, ih % s);
                let at = |r: usize| ((c * s * s + rr * s + r) * nb + image) * pixels + i * ws;
                if s == 2 {
                    // The common case, written so that it vectorises.
                    let (a, b) = (at(0), at(1));
                    let (head, tail) = phases.split_at_mut(b);
                    let (even, odd) = (&mut head[a..a + ws], &mut tail[..ws]);
                    for ((e, o), pair) in even.iter_mut().zip(odd).zip(row.chunks_exact(2)) {
                        *e = pair[0];
                        *o = pair[1];
                    }
                } else {
                    for r in 0..s {
                        let dst = &mut phases[at(r)..][..ws];
                        for (d, x) in dst.iter_mut().zip(row[r..].iter().step_by(s)) {
                            *d = *x;
                        }
                    }
                }
            }
        }
    }
}

/// [`im2col`] when [`phases_match`]: per channel and tap, one shifted copy over the chunk.
fn im2col_phased(plan: &Plan, big: &[f32], nb: usize, col: &mut [f32], phases: &mut [f32]) {
    let (cb, s, hw) = (plan.big[0], plan.stride, [plan.small[1], plan.small[2]]);
    let n = nb * plan.small_pixels();
    let taps = taps(plan, n);
    split_chunk(plan, big, nb, phases);
    for c in 0..cb {
        let rows = &mut col[c * taps.len() * n..][..taps.len() * n];
        for (row, tap) in rows.chunks_exact_mut(n).zip(&taps) {
            let src = &phases[(c * s * s + tap.phase) * n..][..n];
            let (lo, hi) = tap.run;
            row[..lo].fill(0.0);
            row[hi..].fill(0.0);
            let from = (lo as isize + tap.offset) as usize;
            row[lo..hi].copy_from_slice(&src[from..from + (hi - lo)]);
            zero_padding(row, hw, tap);
        }
    }
}

/// [`col2im`] when [`phases_match`]: per channel and tap, one shifted add over the chunk
/// (after zeroing the column's padding entries), then each plane interleaved once.
fn col2im_phased(plan: &Plan, col: &mut [f32], nb: usize, big: &mut [f32], phases: &mut [f32]) {
    let ([cb, hb, wb], [_, hs, ws], s) = (plan.big, plan.small, plan.stride);
    let pixels = hs * ws;
    let n = nb * pixels;
    let taps = taps(plan, n);
    let phases = &mut phases[..big.len()];
    phases.fill(0.0);
    for c in 0..cb {
        let rows = &mut col[c * taps.len() * n..][..taps.len() * n];
        for (row, tap) in rows.chunks_exact_mut(n).zip(&taps) {
            zero_padding(row, [hs, ws], tap);
            let (lo, hi) = tap.run;
            let from = (lo as isize + tap.offset) as usize;
            let dst = &mut phases[(c * s * s + tap.phase) * n + from..][..hi - lo];
            for (d, x) in dst.iter_mut().zip(&row[lo..hi]) {
                *d += *x;
            }
        }
    }
    for c in 0..cb {
        for image in 0..nb {
            let plane = &mut big[(image * cb + c) * hb * wb..][..hb * wb];
            for (ih, row) in plane.chunks_exact_mut(wb).enumerate() {
                let (i, rr) = (ih / s, ih % s);
                let at = |r: usize| ((c * s * s + rr * s + r) * nb + image) * pixels + i * ws;
                if s == 2 {
                    let (even, odd) = (&phases[at(0)..][..ws], &phases[at(1)..][..ws]);
                    for ((e, o), pair) in even.iter().zip(odd).zip(row.chunks_exact_mut(2)) {
                        pair[0] = *e;
                        pair[1] = *o;
                    }
                } else {
                    for r in 0..s {
                        let src = &phases[at(r)..][..ws];
                        for (d, x) in row[r..].iter_mut().step_by(s).zip(src) {
                            *d = *x;
                        }
                    }
                }
            }
        }
    }
}

/// im2col of `nb` big images: `col[(c, kh, kw)][(image, oh, ow)]`, zero where the kernel
/// reaches into the padding. Each input plane is first split into its stride phases, so that
/// every piece of a column row is a contiguous copy.
/// `work` holds at least the chunk's big images (`big.len()` values).
fn im2col(plan: &Plan, big: &[f32], nb: usize, col: &mut [f32], work: &mut [f32]) {
    if phases_match(plan) {
        return im2col_phased(plan, big, nb, col, work);
    }
    let [cb, hb, wb] = plan.big;
    let [_, hs, ws] = plan.small;
    let (k, s, p) = (plan.kernel, plan.stride, plan.padding);
    let n = nb * hs * ws;
    let phases = &mut work[..hb * wb];
    for c in 0..cb {
        for image in 0..nb {
            split_phases(
                plan,
                &big[(image * cb + c) * hb * wb..][..hb * wb],
                wb,
                phases,
            );
            for kh in 0..k {
                let (oh_lo, oh_hi) = valid(kh, plan, hb, hs);
                for kw in 0..k {
                    let (ow_lo, ow_hi) = valid(kw, plan, wb, ws);
                    let (r, shift) = phase_of(kw, plan);
                    let len = phase_len(r, plan, wb);
                    let phase = &phases[phase_start(r, plan, hb, wb)..][..hb * len];
                    let row = &mut col[((c * k + kh) * k + kw) * n + image * hs * ws..][..hs * ws];
                    for (oh, dst) in row.chunks_exact_mut(ws).enumerate() {
                        if oh < oh_lo || oh >= oh_hi || ow_lo == ow_hi {
                            dst.fill(0.0);
                            continue;
                        }
                        let src = &phase[(oh * s + kh - p) * len..][..len];
                        dst[..ow_lo].fill(0.0);
                        dst[ow_hi..].fill(0.0);
                        let from = (ow_lo as isize + shift) as usize;
                        dst[ow_lo..ow_hi].copy_from_slice(&src[from..from + ow_hi - ow_lo]);
                    }
                }
            }
        }
    }
}

/// col2im of `nb` big images: the adjoint of [`im2col`], writing `big`. Sums are formed in the
/// stride phases (contiguous adds) and interleaved into each plane once.
/// `work` holds at least the chunk's big images (`big.len()` values).
fn col2im(plan: &Plan, col: &mut [f32], nb: usize, big: &mut [f32], work: &mut [f32]) {
    if phases_match(plan) {
        return col2im_phased(plan, col, nb, big, work);
    }
    let [cb, hb, wb] = plan.big;
    let [_, hs, ws] = plan.small;
    let (k, s, p) = (plan.kernel, plan.stride, plan.padding);
    let n = nb * hs * ws;
    let phases = &mut work[..hb * wb];
    for image in 0..nb {
        for c in 0..cb {
            phases.fill(0.0);
            for kh in 0..k {
                let (oh_lo, oh_hi) = valid(kh, plan, hb, hs);
                for kw in 0..k {
                    let (ow_lo, ow_hi) = valid(kw, plan, wb, ws);
                    if ow_lo == ow_hi {
                        continue;
                    }
                    let (r, shift) = phase_of(kw, plan);
                    let len = phase_len(r, plan, wb);
                    let phase = &mut phases[phase_start(r, plan, hb, wb)..][..hb * len];
                    let row = &col[((c * k + kh) * k + kw) * n + image * hs * ws..][..hs * ws];
                    let from = (ow_lo as isize + shift) as usize;
                    for oh in oh_lo..oh_hi {
                        let src = &row[oh * ws + ow_lo..oh * ws + ow_hi];
                        let dst = &mut phase[(oh * s + kh - p) * len + from..][..src.len()];
                        for (d, x) in dst.iter_mut().zip(src) {
                            *d += *x;
                        }
                    }
                }
            }
            let plane = &mut big[(image * cb + c) * hb * wb..][..hb * wb];
            let mut offset = 0;
            for r in 0..s {
                let len = phase_len(r, plan, wb);
                for (row, src) in plane
                    .chunks_exact_mut(wb)
                    .zip(phases[offset..offset + hb * len].chunks_exact(len))
                {
                    for (d, x) in row[r..].iter_mut().step_by(s).zip(src) {
                        *d = *x;
                    }
                }
                offset += hb * len;
            }
        }
    }
}

/// `[nb, Cs, P]` small images to `[Cs, nb·P]` rows.
fn gather(plan: &Plan, images: &[f32], rows: &mut [f32], nb: usize) {
    let (cs, pixels) = (plan.small[0], plan.small_pixels());
    for image in 0..nb {
        for c in 0..cs {
            rows[(c * nb + image) * pixels..][..pixels]
                .copy_from_slice(&images[(image * cs + c) * pixels..][..pixels]);
        }
    }
}

/// `[Cs, nb·P]` rows back to `[nb, Cs, P]` small images.
fn scatter(plan: &Plan, rows: &[f32], images: &mut [f32], nb: usize) {
    let (cs, pixels) = (plan.small[0], plan.small_pixels());
    for image in 0..nb {
        for c in 0..cs {
            images[(image * cs + c) * pixels..][..pixels]
                .copy_from_slice(&rows[(c * nb + image) * pixels..][..pixels]);
        }
    }
}

thread_local! {
    /// Per-thread work buffers (im2col columns, regrouped images, stride phases), kept between
    /// calls so that they are neither zeroed nor faulted in again.
    static SCRATCH: std::cell::RefCell<[Vec<f32>; 3]> =
        const { std::cell::RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Runs `work` with three buffers of the given sizes (contents unspecified).
fn with_scratch<R>(sizes: [usize; 3], work: impl FnOnce([&mut [f32]; 3]) -> R) -> R {
    let mut work = Some(work);
    let reused = SCRATCH.with(|cell| {
        // A nested call on this thread (rayon may run another chunk while one waits) gets
        // fresh buffers instead.
        let mut bufs = cell.try_borrow_mut().ok()?;
        let [a, b, c] = &mut *bufs;
        for (buf, &size) in [&mut *a, &mut *b, &mut *c].into_iter().zip(&sizes) {
            if buf.len() < size {
                buf.resize(size, 0.0);
            }
        }
        let bufs = [&mut a[..sizes[0]], &mut b[..sizes[1]], &mut c[..sizes[2]]];
        Some((work.take().unwrap())(bufs))
    });
    match reused {
        Some(r) => r,
        None => {
            let [mut a, mut b, mut c] = sizes.map(|n| vec![0.0; n]);
            (work.take().unwrap())([&mut a, &mut b, &mut c])
        }
    }
}

/// `a: [rows, cols]` → `[cols, rows]`, through 32×32 tiles held in L1, column tiles in
/// parallel.
fn transpose(a: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const T: usize = 32;
    let mut out = vec![0.0; a.len()];
    out.par_chunks_mut(T * rows)
        .enumerate()
        .for_each(|(tile_col, block)| {
            // `block` holds output rows (input columns) c0 .. c0 + width.
            let c0 = tile_col * T;
            let width = block.len() / rows;
            let mut tile = [[0f32; T]; T];
            for r0 in (0..rows).step_by(T) {
                let height = T.min(rows - r0);
                for (i, line) in tile.iter_mut().take(height).enumerate() {
                    line[..width].copy_from_slice(&a[(r0 + i) * cols + c0..][..width]);
                }
                for c in 0..width {
                    let dst = &mut block[c * rows + r0..][..height];
                    for (d, line) in dst.iter_mut().zip(&tile) {
                        *d = line[c];
                    }
                }
            }
        });
    out
}

fn all_threads() -> Parallelism {
    Parallelism::Rayon(rayon::current_num_threads())
}

/// Runs `work(first image, output chunk, GEMM parallelism)` over the batch's chunks, handing each
/// its own part of `out` (`per_image` values an image).
fn each_chunk(
    plan: &Plan,
    out: &mut [f32],
    per_image: usize,
    work: impl Fn(usize, &mut [f32], Parallelism) + Sync,
) {
    let nb = plan.chunk();
    let threads = rayon::current_num_threads();
    if plan.parallel_chunks() {
        out.par_chunks_mut(nb * per_image)
            .enumerate()
            .for_each(|(i, chunk)| work(i * nb, chunk, Parallelism::None));
    } else {
        for (i, chunk) in out.chunks_mut(nb * per_image).enumerate() {
            work(i * nb, chunk, Parallelism::Rayon(threads));
        }
    }
}

/// small = W · im2col(big). `big: [B, Cb, Hb, Wb]`, `weight: [Cs, Cb·k·k]`, returns `[B, Cs, Hs, Ws]`.
pub fn lower(plan: &Plan, big: &[f32], weight: &[f32]) -> Vec<f32> {
    let (rows, cs, pixels) = (plan.rows(), plan.small[0], plan.small_pixels());
    let (big_len, small_len) = (plan.big_len(), plan.small_len());
    assert_eq!(big.len(), plan.batch * big_len, "lower: input size");
    assert_eq!(weight.len(), cs * rows, "lower: weight size");
    let mut out = vec![0.0; plan.batch * small_len];
    if plan.dense() {
        // out[b, cs] = Σ_r W[cs, r]·big[b, r]
        let (w, x) = ((weight, (rows, 1)), (big, (1, rows)));
        matmul(
            (cs, plan.batch, rows),
            (&mut out, (1, cs)),
            false,
            w,
            x,
            all_threads(),
        );
        return out;
    }
    each_chunk(plan, &mut out, small_len, |first, out, parallelism| {
        let nb = out.len() / small_len;
        let n = nb * pixels;
        with_scratch([rows * n, cs * n, nb * big_len], |[col, result, work]| {
            im2col(plan, &big[first * big_len..][..nb * big_len], nb, col, work);
            let w = (weight, (rows, 1));
            matmul(
                (cs, n, rows),
                (result, (n, 1)),
                false,
                w,
                (col, (n, 1)),
                parallelism,
            );
            scatter(plan, result, out, nb);
        });
    });
    out
}

/// big = col2im(Wᵀ · small). `small: [B, Cs, Hs, Ws]`, `weight: [Cs, Cb·k·k]`, returns
/// `[B, Cb, Hb, Wb]`.
pub fn raise(plan: &Plan, small: &[f32], weight: &[f32]) -> Vec<f32> {
    let (rows, cs, pixels) = (plan.rows(), plan.small[0], plan.small_pixels());
    let (big_len, small_len) = (plan.big_len(), plan.small_len());
    assert_eq!(small.len(), plan.batch * small_len, "raise: input size");
    assert_eq!(weight.len(), cs * rows, "raise: weight size");
    let mut out = vec![0.0; plan.batch * big_len];
    if plan.dense() {
        // out[b, r] = Σ_cs W[cs, r]·small[b, cs]
        let (w, x) = ((weight, (1, rows)), (small, (1, cs)));
        matmul(
            (rows, plan.batch, cs),
            (&mut out, (1, rows)),
            false,
            w,
            x,
            all_threads(),
        );
        return out;
    }
    // Wᵀ once, row-major: as the GEMM's right operand (it computes the transposed product) it
    // is then contiguous along the inner dimension, which the gemm crate uses without packing
    // it again for every chunk.
    // With one or two chunks the packing is done about as often, so the weight is used as is.
    let chunks = plan.batch.div_ceil(plan.chunk());
    let weight_t = (chunks > 2).then(|| transpose(weight, cs, rows));
    each_chunk(plan, &mut out, big_len, |first, out, parallelism| {
        let nb = out.len() / big_len;
        let n = nb * pixels;
        with_scratch([rows * n, cs * n, nb * big_len], |[col, grouped, work]| {
            gather(
                plan,
                &small[first * small_len..][..nb * small_len],
                grouped,
                nb,
            );
            let w = match &weight_t {
                Some(t) => (&t[..], (cs, 1)),
                None => (weight, (1, rows)),
            };
            matmul(
                (rows, n, cs),
                (col, (n, 1)),
                false,
                w,
                (grouped, (n, 1)),
                parallelism,
            );
            col2im(plan, col, nb, out, work);
        });
    });
    out
}

/// W' = Σ small · im2col(big)ᵀ over the batch: `[Cs, Cb·k·k]`.
pub fn weight_grad(plan: &Plan, big: &[f32], small: &[f32]) -> Vec<f32> {
    let (rows, cs, pixels) = (plan.rows(), plan.small[0], plan.small_pixels());
    let (big_len, small_len) = (plan.big_len(), plan.small_len());
    assert_eq!(big.len(), plan.batch * big_len, "weight_grad: big size");
    assert_eq!(
        small.len(),
        plan.batch * small_len,
        "weight_grad: small size"
    );
    if plan.dense() {
        // W'[cs, r] = Σ_b small[b, cs]·big[b, r]
        let mut out = vec![0.0; cs * rows];
        let (g, x) = ((small, (1, cs)), (big, (rows, 1)));
        matmul(
            (cs, rows, plan.batch),
            (&mut out, (rows, 1)),
            false,
            g,
            x,
            all_threads(),
        );
        return out;
    }
    let nb = plan.chunk();
    let chunks = plan.batch.div_ceil(nb);
    let threads = rayon::current_num_threads();
    // [`GROUPS`] accumulators (each running its share of the chunks one after the other), summed
    // at the end in group order: the grouping depends on the shapes only, so the sums are the
    // same with any number of threads. With fewer groups than threads, the GEMMs are parallel
    // too (over output tiles, which does not change any element's sum).
    let groups = GROUPS.min(chunks);
    let parallelism = if groups >= threads {
        Parallelism::None
    } else {
        Parallelism::Rayon(threads)
    };
    let partial = |group: usize| {
        let mut acc = vec![0.0; cs * rows];
        let mut started = false;
        for chunk in (group..chunks).step_by(groups) {
            let first = chunk * nb;
            let nb = nb.min(plan.batch - first);
            let n = nb * pixels;
            with_scratch([rows * n, cs * n, nb * big_len], |[col, grouped, work]| {
                im2col(plan, &big[first * big_len..][..nb * big_len], nb, col, work);
                gather(
                    plan,
                    &small[first * small_len..][..nb * small_len],
                    grouped,
                    nb,
                );
                let g = (&*grouped, (n, 1));
                matmul(
                    (cs, rows, n),
                    (&mut acc, (rows, 1)),
                    started,
                    g,
                    (col, (1, n)),
                    parallelism,
                );
            });
            started = true;
        }
        acc
    };
    // Partial sums added in group order: the same result however rayon schedules the groups.
    let partials: Vec<Vec<f32>> = (0..groups).into_par_iter().map(partial).collect();
    let mut partials = partials.into_iter();
    let mut sum = partials.next().unwrap_or_else(|| vec![0.0; cs * rows]);
    for p in partials {
        sum.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_every_element() {
        for (rows, cols) in [(70, 45), (1, 33), (32, 32), (33, 1), (5, 96)] {
            let a: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let t = transpose(&a, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        t[c * rows + r],
                        a[r * cols + c],
                        "{rows}×{cols} at ({r}, {c})"
                    );
                }
            }
        }
    }
}
