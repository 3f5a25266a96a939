//! Statistics in float64 that FID, K-means' whitening and other evaluations share: means,
//! covariances and the trace of a matrix square root.

use faer::{Mat, Side};

use crate::{Error, Result};

/// The mean of the rows of `x` (`[n, dim]`) and the rows minus it, in float64.
fn mean_and_centred(x: &[f32], dim: usize) -> (Vec<f64>, Mat<f64>) {
    let n = x.len() / dim;
    let mut mu = vec![0f64; dim];
    for row in x.chunks_exact(dim) {
        for (m, &v) in mu.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mu.iter_mut().for_each(|m| *m /= n as f64);
    let centred = Mat::<f64>::from_fn(n, dim, |i, j| x[i * dim + j] as f64 - mu[j]);
    (mu, centred)
}

/// Mean and covariance (with N − 1) of the rows of `x` (`[n, dim]`), in float64.
pub fn mean_and_covariance(x: &[f32], dim: usize) -> (Vec<f64>, Mat<f64>) {
    let n = x.len() / dim;
    let (mu, centred) = mean_and_centred(x, dim);
    let cov = centred.transpose() * &centred;
    let scale = 1.0 / (n.max(2) - 1) as f64;
    (mu, Mat::from_fn(dim, dim, |i, j| cov[(i, j)] * scale))
}

/// Tr √(Σ₁Σ₂) for two covariance matrices, as Σ√λ over the eigenvalues of the symmetric
/// `Σ₁^½ Σ₂ Σ₁^½` (which has the eigenvalues of Σ₁Σ₂), so no general `sqrtm` is needed: two
/// symmetric eigendecompositions (faer).
pub fn trace_sqrt_product(s1: &Mat<f64>, s2: &Mat<f64>) -> Result<f64> {
    let d = s1.nrows();
    let evd = s1
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Data(format!("eigendecomposition failed: {e:?}")))?;
    let (u, s) = (evd.U(), evd.S());
    // Eigenvalues below `d · ε · λ_max` are rounding, not spread (numpy's `matrix_rank` rule):
    // with fewer samples than dimensions a covariance is singular, and the √ of its rounding-level
    // eigenvalues, thousands of them, would add up to a visible error (1.5e-5 of an FID of 8
    // images, against the exact sum from the samples).
    let floor = |l: &[f64]| l.iter().fold(0f64, |a, &b| a.max(b)) * l.len() as f64 * f64::EPSILON;
    let s: Vec<f64> = (0..d).map(|j| s[j]).collect();
    let floor1 = floor(&s);
    // Σ₁^½ = U diag(√λ) Uᵀ over the eigenvalues above the floor (a covariance is PSD).
    let root = Mat::<f64>::from_fn(d, d, |i, j| {
        u[(i, j)] * if s[j] > floor1 { s[j].sqrt() } else { 0.0 }
    });
    let half = &root * u.transpose();
    let m = &half * s2 * &half;
    // Symmetrise against rounding before the symmetric solver.
    let m = Mat::<f64>::from_fn(d, d, |i, j| 0.5 * (m[(i, j)] + m[(j, i)]));
    let eig = m
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|e| Error::Data(format!("eigendecomposition failed: {e:?}")))?;
    let floor2 = floor(&eig);
    Ok(eig.iter().filter(|&&l| l > floor2).map(|l| l.sqrt()).sum())
}

/// Tr √(Σ₁Σ₂) for the covariances (with N − 1) of the rows of `x1` and `x2` (`[n, dim]`), from
/// the samples: with A, B the centred rows, Σ₁Σ₂ = AᵀA BᵀB / c has the nonzero eigenvalues of
/// (ABᵀ)(ABᵀ)ᵀ / c, so the trace is the sum of the singular values of the `n₁ × n₂` matrix ABᵀ
/// over √c, c = (n₁ − 1)(n₂ − 1). Much cheaper than [`trace_sqrt_product`] when both sets are
/// smaller than `dim` (an FID of 1,000 images against 2,048 features: one 1000 × 1000 SVD
/// instead of two 2048 × 2048 eigendecompositions).
pub fn trace_sqrt_product_of_samples(x1: &[f32], x2: &[f32], dim: usize) -> Result<f64> {
    let (n1, n2) = (x1.len() / dim, x2.len() / dim);
    let ((_, a), (_, b)) = (mean_and_centred(x1, dim), mean_and_centred(x2, dim));
    let m = &a * b.transpose();
    let sv = m
        .singular_values()
        .map_err(|e| Error::Data(format!("singular value decomposition failed: {e:?}")))?;
    let c = ((n1.max(2) - 1) as f64 * (n2.max(2) - 1) as f64).sqrt();
    Ok(sv.iter().sum::<f64>() / c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_sqrt_from_samples_equals_the_one_from_covariances() {
        let dim = 40;
        let rows = |n: usize, seed: u64| -> Vec<f32> {
            (0..n * dim)
                .map(|i| {
                    let v = (i as u64 + seed * 7919).wrapping_mul(6364136223846793005) >> 40;
                    (v % 1000) as f32 / 250.0 - 2.0 + (i % dim) as f32 * 0.05
                })
                .collect()
        };
        for (n1, n2) in [(20, 25), (60, 45)] {
            let (x1, x2) = (rows(n1, 1), rows(n2, 2));
            let (_, c1) = mean_and_covariance(&x1, dim);
            let (_, c2) = mean_and_covariance(&x2, dim);
            let want = trace_sqrt_product(&c1, &c2).unwrap();
            let got = trace_sqrt_product_of_samples(&x1, &x2, dim).unwrap();
            // With fewer samples than dimensions the covariances are singular: the covariance
            // route must leave out their rounding-level eigenvalues to agree this closely.
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "n {n1}, {n2}: {got} from samples, {want} from covariances"
            );
        }
    }

    #[test]
    fn covariance_of_known_rows() {
        // Rows (1, 2), (3, 6), (5, 10): mean (3, 6); variances 4 and 16, covariance 8 (N − 1).
        let (mu, cov) = mean_and_covariance(&[1.0, 2.0, 3.0, 6.0, 5.0, 10.0], 2);
        assert_eq!(mu, vec![3.0, 6.0]);
        assert_eq!((cov[(0, 0)], cov[(0, 1)], cov[(1, 1)]), (4.0, 8.0, 16.0));
    }

    #[test]
    fn trace_sqrt_of_diagonal_matrices() {
        // diag(4, 9) · diag(1, 16) = diag(4, 144): √ has trace 2 + 12.
        let a = Mat::<f64>::from_fn(2, 2, |i, j| [[4.0, 0.0], [0.0, 9.0]][i][j]);
        let b = Mat::<f64>::from_fn(2, 2, |i, j| [[1.0, 0.0], [0.0, 16.0]][i][j]);
        assert!((trace_sqrt_product(&a, &b).unwrap() - 14.0).abs() < 1e-12);
    }
}
