//! Regularised linear L2-SVM (squared hinge loss), one vs rest, as LIBLINEAR's `-s 1` and
//! scikit-learn's `LinearSVC`: for each class k,
//!     min_w ½‖w‖² + C Σᵢ max(0, 1 − yᵢ w·[xᵢ, 1])²,   yᵢ = +1 if class k else −1,
//! solved in the dual by coordinate descent (Hsieh et al., ICML 2008, LIBLINEAR's algorithm).
//! The bias is an extra constant feature (regularised, as LIBLINEAR's `-B 1`).
//!
//! Written here rather than taken from a crate: the `liblinear` crate (1.0, 2019) depends on the
//! deprecated `failure` crate and copies features into LIBLINEAR's sparse `(int, double)` nodes
//! (16 bytes a value: 5.7 GB for CIFAR-10's 50,000 × 7,168 features), and linfa-svm is a kernel
//! SMO solver for the plain hinge loss. This solver works on the dense `f32` rows in place.

use rand::Rng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

/// Standardisation fitted on training features: each dimension to zero mean, unit variance.
#[derive(Clone, Debug)]
pub(crate) struct Scaler {
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

impl Scaler {
    pub fn fit(x: &[f32], dim: usize) -> Self {
        let n = (x.len() / dim).max(1) as f64;
        let mut mean = vec![0f64; dim];
        let mut sq = vec![0f64; dim];
        for row in x.chunks_exact(dim) {
            for j in 0..dim {
                mean[j] += row[j] as f64;
                sq[j] += (row[j] as f64).powi(2);
            }
        }
        let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
        let inv_std = (0..dim)
            .map(|j| {
                let var = (sq[j] / n - mean[j] * mean[j]).max(0.0);
                if var > 1e-12 {
                    (1.0 / var.sqrt()) as f32
                } else {
                    0.0
                }
            })
            .collect();
        Scaler {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            inv_std,
        }
    }

    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let dim = self.mean.len();
        let mut out = x.to_vec();
        out.par_chunks_mut(dim).for_each(|row| {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.inv_std) {
                *v = (*v - m) * s;
            }
        });
        out
    }
}

/// Solver settings (LIBLINEAR's defaults: ε 0.1, at most 1000 passes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SvmOptions {
    pub c: f64,
    /// Stop when the projected gradient's spread over a pass is below this.
    pub eps: f64,
    pub max_passes: usize,
    pub seed: u64,
}

impl Default for SvmOptions {
    fn default() -> Self {
        SvmOptions {
            c: 1.0,
            eps: 0.1,
            max_passes: 1000,
            seed: 0,
        }
    }
}

/// A trained one-vs-rest linear classifier: `classes × (dim + 1)` weights (bias last).
#[derive(Clone, Debug)]
pub(crate) struct LinearSvm {
    pub dim: usize,
    pub classes: usize,
    pub weights: Vec<f32>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight accumulators so the compiler vectorises the loop.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// One binary L2-loss SVM in the dual: returns `w` (dim + 1, bias last) and the passes used.
/// `y[i]` is ±1.
fn train_binary(
    x: &[f32],
    dim: usize,
    y: &[f32],
    o: &SvmOptions,
    rng: &mut impl Rng,
) -> (Vec<f32>, usize) {
    let n = y.len();
    let d_ii = 1.0 / (2.0 * o.c);
    let q: Vec<f64> = x
        .chunks_exact(dim)
        .map(|r| dot(r, r) as f64 + 1.0 + d_ii)
        .collect();
    let mut alpha = vec![0f64; n];
    let mut w = vec![0f32; dim];
    let mut b = 0f64;
    let mut order: Vec<usize> = (0..n).collect();
    let mut passes = 0;
    while passes < o.max_passes {
        passes += 1;
        order.shuffle(rng);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let row = &x[i * dim..(i + 1) * dim];
            let yi = y[i] as f64;
            let g = yi * (dot(&w, row) as f64 + b) - 1.0 + d_ii * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / q[i]).max(0.0);
                let step = ((alpha[i] - old) * yi) as f32;
                for (wj, &xj) in w.iter_mut().zip(row) {
                    *wj += step * xj;
                }
                b += step as f64;
            }
        }
        if pg_max - pg_min < o.eps {
            break;
        }
    }
    w.push(b as f32);
    (w, passes)
}

/// The same dual coordinate descent on the Gram matrix `q = [X 1][X 1]ᵀ` (`n × n`): each update
/// costs O(n) instead of O(dim), which wins when there are fewer examples than dimensions (the
/// few-label protocol: 1000 examples of 7,168 features). Returns the dual variables.
fn train_binary_gram(
    q: &[f32],
    n: usize,
    y: &[f32],
    o: &SvmOptions,
    rng: &mut impl Rng,
) -> (Vec<f64>, usize) {
    let d_ii = 1.0 / (2.0 * o.c);
    let mut alpha = vec![0f64; n];
    // s[i] = Σⱼ αⱼ yⱼ q[i, j], i.e. w·[xᵢ, 1].
    let mut s = vec![0f64; n];
    let mut order: Vec<usize> = (0..n).collect();
    let mut passes = 0;
    while passes < o.max_passes {
        passes += 1;
        order.shuffle(rng);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        for &i in &order {
            let yi = y[i] as f64;
            let g = yi * s[i] - 1.0 + d_ii * alpha[i];
            let pg = if alpha[i] == 0.0 { g.min(0.0) } else { g };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / (q[i * n + i] as f64 + d_ii)).max(0.0);
                let step = (alpha[i] - old) * yi;
                for (sj, &qij) in s.iter_mut().zip(&q[i * n..(i + 1) * n]) {
                    *sj += step * qij as f64;
                }
            }
        }
        if pg_max - pg_min < o.eps {
            break;
        }
    }
    (alpha, passes)
}

/// `[X 1][X 1]ᵀ` of `n` rows.
fn gram(x: &[f32], dim: usize) -> Vec<f32> {
    let n = x.len() / dim;
    let m = faer::Mat::<f32>::from_fn(n, dim, |i, j| x[i * dim + j]);
    let g = &m * m.transpose();
    (0..n * n).map(|k| g[(k / n, k % n)] + 1.0).collect()
}

impl LinearSvm {
    /// Train on `x` (`[n, dim]` row-major) with labels `0..classes`; the binary problems run in
    /// parallel. With fewer examples than dimensions the solver works on the Gram matrix.
    pub fn train(x: &[f32], dim: usize, labels: &[usize], classes: usize, o: &SvmOptions) -> Self {
        let n = labels.len();
        let q = (n < dim).then(|| gram(x, dim));
        let results: Vec<(Vec<f32>, usize)> = (0..classes)
            .into_par_iter()
            .map(|k| {
                let y: Vec<f32> = labels
                    .iter()
                    .map(|&l| if l == k { 1.0 } else { -1.0 })
                    .collect();
                let mut rng = crate::rng::Stream::SvmOrder { class: k as u64 }.rng(o.seed);
                match &q {
                    None => train_binary(x, dim, &y, o, &mut rng),
                    Some(q) => {
                        let (alpha, passes) = train_binary_gram(q, n, &y, o, &mut rng);
                        // w = Σ αᵢ yᵢ [xᵢ, 1].
                        let mut w = vec![0f64; dim + 1];
                        for i in 0..n {
                            let c = alpha[i] * y[i] as f64;
                            if c != 0.0 {
                                for (wj, &xj) in w.iter_mut().zip(&x[i * dim..(i + 1) * dim]) {
                                    *wj += c * xj as f64;
                                }
                                w[dim] += c;
                            }
                        }
                        (w.into_iter().map(|v| v as f32).collect(), passes)
                    }
                }
            })
            .collect();
        let mut weights = Vec::with_capacity(classes * (dim + 1));
        // (The passes each problem took are not reported.)
        for (w, _passes) in results {
            weights.extend(w);
        }
        LinearSvm {
            dim,
            classes,
            weights,
        }
    }

    /// Class scores of one feature vector.
    pub fn scores(&self, row: &[f32]) -> Vec<f32> {
        (0..self.classes)
            .map(|k| {
                let w = &self.weights[k * (self.dim + 1)..(k + 1) * (self.dim + 1)];
                dot(&w[..self.dim], row) + w[self.dim]
            })
            .collect()
    }

    pub(crate) fn predict(&self, x: &[f32]) -> Vec<usize> {
        x.par_chunks_exact(self.dim)
            .map(|row| {
                let s = self.scores(row);
                (0..s.len())
                    .max_by(|&a, &b| s[a].total_cmp(&s[b]))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Fraction of `x` classified as `labels`.
    pub fn accuracy(&self, x: &[f32], labels: &[usize]) -> f64 {
        let p = self.predict(x);
        let right = p.iter().zip(labels).filter(|(a, b)| a == b).count();
        right as f64 / labels.len().max(1) as f64
    }

    /// The primal objective of class `k`'s binary problem (for checking the solver).
    #[cfg(test)]
    fn primal_objective(&self, x: &[f32], labels: &[usize], k: usize, c: f64) -> f64 {
        let w = &self.weights[k * (self.dim + 1)..(k + 1) * (self.dim + 1)];
        let reg: f64 = w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() * 0.5;
        let loss: f64 = x
            .chunks_exact(self.dim)
            .zip(labels)
            .map(|(row, &l)| {
                let y = if l == k { 1.0 } else { -1.0 };
                let m = 1.0 - y * (dot(&w[..self.dim], row) + w[self.dim]) as f64;
                m.max(0.0).powi(2)
            })
            .sum();
        reg + c * loss
    }
}

/// Pick C from `grid` by accuracy on a validation set; returns (C, validation accuracy) of the
/// best, the smallest C on ties.
pub(crate) fn choose_c(
    train: (&[f32], &[usize]),
    val: (&[f32], &[usize]),
    dim: usize,
    classes: usize,
    grid: &[f64],
    base: &SvmOptions,
    report: &mut dyn FnMut(f64, f64),
) -> (f64, f64) {
    let mut best = (grid[0], -1.0);
    for &c in grid {
        let m = LinearSvm::train(train.0, dim, train.1, classes, &SvmOptions { c, ..*base });
        let acc = m.accuracy(val.0, val.1);
        report(c, acc);
        if acc > best.1 {
            best = (c, acc);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Three Gaussian blobs in 5-D.
    fn blobs(n: usize, seed: u64, spread: f32) -> (Vec<f32>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let centres = [
            [2.0, 0.0, 0.0, 1.0, 0.0],
            [0.0, 2.0, 0.0, 0.0, 1.0],
            [0.0, 0.0, 2.0, -1.0, 0.0],
        ];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let k = i % 3;
            let noise = crate::rng::normal(&mut rng, 5, 0.0, spread);
            x.extend(centres[k].iter().zip(&noise).map(|(c, e)| c + e));
            y.push(k);
        }
        (x, y)
    }

    #[test]
    fn separable_blobs_are_classified_and_the_dual_optimum_satisfies_kkt() {
        let (x, y) = blobs(300, 1, 0.3);
        let o = SvmOptions {
            c: 1.0,
            eps: 1e-4,
            ..Default::default()
        };
        let m = LinearSvm::train(&x, 5, &y, 3, &o);
        assert_eq!(m.accuracy(&x, &y), 1.0);
        let (xt, yt) = blobs(300, 2, 0.3);
        assert!(m.accuracy(&xt, &yt) > 0.99);
        // At the optimum, no small step of w along any coordinate lowers the primal objective.
        for k in 0..3 {
            let f0 = m.primal_objective(&x, &y, k, 1.0);
            for j in 0..6 {
                for delta in [1e-2f32, -1e-2] {
                    let mut p = m.clone();
                    p.weights[k * 6 + j] += delta;
                    let f1 = p.primal_objective(&x, &y, k, 1.0);
                    assert!(
                        f1 >= f0 - 1e-3 * f0.max(1.0),
                        "class {k} coord {j}: {f0} → {f1}"
                    );
                }
            }
        }
    }

    #[test]
    fn larger_c_fits_noisy_training_data_more_closely() {
        let (x, y) = blobs(600, 3, 1.2);
        let weak = LinearSvm::train(
            &x,
            5,
            &y,
            3,
            &SvmOptions {
                c: 1e-4,
                ..Default::default()
            },
        );
        let strong = LinearSvm::train(
            &x,
            5,
            &y,
            3,
            &SvmOptions {
                c: 10.0,
                ..Default::default()
            },
        );
        let norm = |m: &LinearSvm| m.weights.iter().map(|v| v * v).sum::<f32>();
        assert!(norm(&strong) > 10.0 * norm(&weak));
        // ... and lowers the squared hinge loss on the training data, for every class.
        let loss = |m: &LinearSvm, k: usize| {
            let w = &m.weights[k * 6..(k + 1) * 6];
            m.primal_objective(&x, &y, k, 1.0)
                - 0.5 * w.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        };
        for k in 0..3 {
            assert!(loss(&strong, k) < loss(&weak, k), "class {k}");
        }
    }

    #[test]
    fn the_gram_matrix_solver_finds_the_primal_solvers_weights() {
        // 40 examples of 60 dimensions: train() takes the Gram path; the primal path is run
        // directly for comparison.
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let (n, dim) = (40, 60);
        let x = crate::rng::normal(&mut r, n * dim, 0.0, 1.0);
        let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let o = SvmOptions {
            c: 0.1,
            eps: 1e-6,
            ..Default::default()
        };
        let m = LinearSvm::train(&x, dim, &labels, 2, &o);
        let y: Vec<f32> = labels
            .iter()
            .map(|&l| if l == 0 { 1.0 } else { -1.0 })
            .collect();
        let (w, _) = train_binary(&x, dim, &y, &o, &mut r);
        let diff = w
            .iter()
            .zip(&m.weights[..dim + 1])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        let norm = w.iter().map(|v| v.abs()).fold(0.0, f32::max);
        // Measured 9.3e-7 of the largest weight.
        assert!(diff < 1e-5 * norm, "max |diff| {diff}, max |w| {norm}");
    }

    #[test]
    fn scaler_gives_zero_mean_unit_variance() {
        let x = vec![1.0, 10.0, 3.0, 10.0, 5.0, 10.0];
        let s = Scaler::fit(&x, 2);
        let z = s.apply(&x);
        let col0: Vec<f32> = z.iter().step_by(2).copied().collect();
        assert!((col0.iter().sum::<f32>()).abs() < 1e-6);
        assert!((col0.iter().map(|v| v * v).sum::<f32>() / 3.0 - 1.0).abs() < 1e-5);
        // A constant column becomes 0, not NaN.
        assert!(z.iter().skip(1).step_by(2).all(|&v| v == 0.0));
    }
}
