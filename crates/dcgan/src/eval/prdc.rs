//! Precision and recall (Kynkäänniemi et al., 2019) and density and coverage (Naeem et al.,
//! 2020) of generated features against real ones, as the `prdc` package defines them:
//!
//! - a real feature `r_i`'s radius is the distance to its k-th nearest other real feature, and
//!   a fake one's likewise among the fakes;
//! - precision: the share of fakes within some real radius (`d(r_i, f_j) < radius_i`);
//! - recall: the share of reals within some fake radius;
//! - density: the mean over fakes of how many real radii hold it, divided by k;
//! - coverage: the share of reals whose radius holds some fake.
//!
//! Distances are those of scikit-learn's `pairwise_distances` on float32 features, which the
//! package calls: the squared distance `(−2·x·y + |x|²) + |y|²` in float64, rounded to float32,
//! then its float32 square root; the comparisons are strict. Every pair is first measured by a
//! float32 matrix product, in tiles on all cores; a pair whose approximate squared distance lies
//! within the product's error bound of a radius is measured again exactly as scikit-learn does,
//! so every decision is the package's (hand-written because no crate does k-NN radii this way:
//! the package's all-pairs matrices need 10 GB each at 50,000 × 50,000).

use rayon::prelude::*;
use serde::Serialize;

use crate::kernels::conv::matmul;
use crate::{Error, Result};

/// The four scores and the k they were measured with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prdc {
    /// Neighbours that define the radii.
    pub k: usize,
    /// Share of generated features inside the real manifold.
    pub precision: f64,
    /// Share of real features inside the generated manifold.
    pub recall: f64,
    /// Mean number of real neighbourhoods holding a generated feature, over k.
    pub density: f64,
    /// Share of real neighbourhoods holding a generated feature.
    pub coverage: f64,
}

/// Rows of one tile of the distance matrix. Tall, narrow tiles measured fastest (10,000 × 10,000
/// on 2 cores: 128 × 1024 6.5 s, 256 × 512 5.2 s, 512 × 256 4.6 s, 1024 × 256 4.2 s, 2048 × 256
/// 5.0 s).
const TILE_ROWS: usize = 1024;
/// Columns of one tile.
const TILE_COLS: usize = 256;
/// The float32 product's error bound on a squared distance, relative to `|x|² + |y|²`: k·u·|x||y|
/// for k = 2048 terms and u = 2⁻²⁴ is 1.2e-4·|x||y| ≤ 6.1e-5·(|x|² + |y|²), doubled in the
/// squared distance and doubled again for safety.
const MARGIN: f64 = 2.5e-4;

/// Feature vectors: `len × dim` values and each one's squared norm in float64.
struct Set<'a> {
    x: &'a [f32],
    dim: usize,
    sq: Vec<f64>,
}

impl<'a> Set<'a> {
    fn new(x: &'a [f32], dim: usize) -> Self {
        let sq = x
            .chunks_exact(dim)
            .map(|r| r.iter().map(|&v| v as f64 * v as f64).sum())
            .collect();
        Self { x, dim, sq }
    }

    fn len(&self) -> usize {
        self.sq.len()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}

/// scikit-learn's float32 euclidean distance between `a[i]` and `b[j]`, to the bit (up to the
/// summation order of a float64 dot product).
fn exact(a: &Set, i: usize, b: &Set, j: usize) -> f32 {
    let dot: f64 = a
        .row(i)
        .iter()
        .zip(b.row(j))
        .map(|(&x, &y)| x as f64 * y as f64)
        .sum();
    let mut d = -2.0 * dot + a.sq[i];
    d += b.sq[j];
    (d as f32).max(0.0).sqrt()
}

/// Calls `visit(i, j, approximate squared distance, margin)` for every pair of `a`'s rows
/// `rows` and all of `b`, tile by tile on the calling thread.
fn scan_rows(
    a: &Set,
    b: &Set,
    rows: std::ops::Range<usize>,
    mut visit: impl FnMut(usize, usize, f64, f64),
) {
    let dim = a.dim;
    let mut dots = vec![0f32; TILE_ROWS * TILE_COLS];
    for c0 in (0..b.len()).step_by(TILE_COLS) {
        let cols = TILE_COLS.min(b.len() - c0);
        let m = rows.len();
        matmul(
            (m, cols, dim),
            (&mut dots[..m * cols], (cols, 1)),
            false,
            (&a.x[rows.start * dim..rows.end * dim], (dim, 1)),
            (&b.x[c0 * dim..(c0 + cols) * dim], (1, dim)),
            gemm::Parallelism::None,
        );
        for (r, i) in rows.clone().enumerate() {
            let line = &dots[r * cols..(r + 1) * cols];
            for (c, &dot) in line.iter().enumerate() {
                let j = c0 + c;
                let (xx, yy) = (a.sq[i], b.sq[j]);
                visit(i, j, xx + yy - 2.0 * dot as f64, MARGIN * (xx + yy));
            }
        }
    }
}

/// Each feature's distance to its k-th nearest other feature of the same set, for each k of
/// `ks`: `[feature][k's index]`. One scan for all of them: the candidates are kept for the
/// largest k, which holds the nearer neighbours too.
fn radii(s: &Set, ks: &[usize]) -> Vec<f32> {
    let n = s.len();
    let k = *ks.iter().max().expect("at least one k");
    (0..n)
        .into_par_iter()
        .step_by(TILE_ROWS)
        .flat_map_iter(|r0| {
            let rows = r0..(r0 + TILE_ROWS).min(n);
            // Per row: the candidates (approximate d², margin, column) that may be among the k
            // nearest, pruned to those that can still beat the k-th smallest upper bound.
            let mut cand: Vec<Vec<(f64, f64, usize)>> = vec![Vec::new(); rows.len()];
            let mut bound = vec![f64::INFINITY; rows.len()];
            scan_rows(s, s, rows.clone(), |i, j, d2, m| {
                let r = i - r0;
                if i == j || d2 - m > bound[r] {
                    return;
                }
                let list = &mut cand[r];
                list.push((d2, m, j));
                if list.len() >= 4 * k + 64 {
                    bound[r] = prune(list, k);
                }
            });
            rows.flat_map(move |i| {
                let list = &mut cand[i - r0];
                prune(list, k);
                let mut d: Vec<f32> = list.iter().map(|&(_, _, j)| exact(s, i, s, j)).collect();
                d.sort_by(f32::total_cmp);
                ks.iter().map(|&k| d[k - 1]).collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
        })
        .collect()
}

/// Keep the candidates whose lower bound does not exceed the k-th smallest upper bound; returns
/// that bound.
fn prune(list: &mut Vec<(f64, f64, usize)>, k: usize) -> f64 {
    let mut upper: Vec<f64> = list.iter().map(|&(d, m, _)| d + m).collect();
    let kth = *upper.select_nth_unstable_by(k - 1, f64::total_cmp).1;
    list.retain(|&(d, m, _)| d - m <= kth);
    kth
}

/// Whether `d(a[i], b[j]) < radius`, deciding by the approximate squared distance when it is
/// clear of the radius by more than the error bound, by the exact distance otherwise.
fn inside(approx: (f64, f64), radius: f32, exact_distance: impl FnOnce() -> f32) -> bool {
    let (d2, m) = approx;
    let r2 = radius as f64 * radius as f64;
    // The radius is a float32; a distance rounds to float32 too, so the band is widened by its
    // rounding.
    let band = m + r2 * 1e-6;
    if d2 < r2 - band {
        true
    } else if d2 > r2 + band {
        false
    } else {
        exact_distance() < radius
    }
}

/// Precision, recall, density and coverage of `fake` against `real` (`n × dim` and `m × dim`
/// float32 features), with the k-th nearest neighbour defining each radius.
pub fn prdc(real: &[f32], fake: &[f32], dim: usize, k: usize) -> Result<Prdc> {
    Ok(prdc_each_k(real, fake, dim, &[k])?[0])
}

/// [`prdc`] for each k of `ks`, in that order, from one pass over the pairs: the same numbers
/// as one call per k, for the cost of about one.
pub fn prdc_each_k(real: &[f32], fake: &[f32], dim: usize, ks: &[usize]) -> Result<Vec<Prdc>> {
    let (r, f) = (Set::new(real, dim), Set::new(fake, dim));
    let smaller = r.len().min(f.len());
    for &k in ks {
        if k == 0 || k >= smaller {
            return Err(Error::config(
                "k",
                k,
                format!(
                    "must be at least 1 and less than the smaller set's {smaller} features (a radius is the distance to the k-th nearest other feature)"
                ),
            ));
        }
    }
    let nk = ks.len();
    if nk == 0 {
        return Ok(Vec::new());
    }
    // `[feature][k's index]`.
    let (real_radii, fake_radii) = (radii(&r, ks), radii(&f, ks));
    // Per k and real row: inside some fake radius (recall), some fake inside its radius
    // (coverage); per k and fake column: how many real radii hold it (precision: any; density:
    // the count).
    let (recall, coverage, held) = (0..r.len())
        .into_par_iter()
        .step_by(TILE_ROWS)
        .map(|r0| {
            let rows = r0..(r0 + TILE_ROWS).min(r.len());
            let (mut recalled, mut covered) = (vec![0usize; nk], vec![0usize; nk]);
            let mut held = vec![0u32; nk * f.len()];
            let mut row_state = vec![(false, false); nk * rows.len()];
            scan_rows(&r, &f, rows.clone(), |i, j, d2, m| {
                let mut exact_d = None;
                let mut d = || *exact_d.get_or_insert_with(|| exact(&r, i, &f, j));
                for q in 0..nk {
                    let in_real = inside((d2, m), real_radii[i * nk + q], &mut d);
                    let in_fake = inside((d2, m), fake_radii[j * nk + q], &mut d);
                    let st = &mut row_state[(i - r0) * nk + q];
                    st.0 |= in_fake;
                    st.1 |= in_real;
                    held[q * f.len() + j] += in_real as u32;
                }
            });
            for (at, (a, b)) in row_state.into_iter().enumerate() {
                recalled[at % nk] += a as usize;
                covered[at % nk] += b as usize;
            }
            (recalled, covered, held)
        })
        .reduce(
            || (vec![0; nk], vec![0; nk], vec![0u32; nk * f.len()]),
            |mut x, y| {
                let add =
                    |a: &mut [usize], b: &[usize]| a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                add(&mut x.0, &y.0);
                add(&mut x.1, &y.1);
                x.2.iter_mut().zip(&y.2).for_each(|(a, b)| *a += b);
                x
            },
        );
    let (n, m) = (r.len() as f64, f.len() as f64);
    Ok(ks
        .iter()
        .enumerate()
        .map(|(q, &k)| {
            let held = &held[q * f.len()..(q + 1) * f.len()];
            Prdc {
                k,
                precision: held.iter().filter(|&&c| c > 0).count() as f64 / m,
                recall: recall[q] as f64 / n,
                density: held.iter().map(|&c| c as f64).sum::<f64>() / (k as f64 * m),
                coverage: coverage[q] as f64 / n,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a line: every distance and radius is known.
    #[test]
    fn scores_of_points_on_a_line() {
        // Real at 0, 1, 2, 3 (k = 1: every radius 1); fake at 0.5, 10, 2 (radii: 1.5, 8, 1.5).
        let real = [0.0, 1.0, 2.0, 3.0];
        let fake = [0.5, 10.0, 2.0];
        let s = prdc(&real, &fake, 1, 1).unwrap();
        // Fakes strictly inside a real radius: 0.5 (from 0 and 1) and 2 (from 2 only: 1 and 3
        // are at distance 1, not below it): 2 of 3.
        assert_eq!(s.precision, 2.0 / 3.0);
        // Density: 0.5 is held by 2 radii, 10 by none, 2 by 1: (2 + 0 + 1) / (1 · 3).
        assert_eq!(s.density, 1.0);
        // Coverage: reals with a fake strictly inside radius 1: 0 (0.5), 1 (0.5), 2 (2), 3
        // (2 at distance 1, not strictly): 3 of 4.
        assert_eq!(s.coverage, 0.75);
        // Recall: reals inside some fake radius: 0.5's 1.5 holds 0 and 1; 2's holds 1, 2, 3;
        // 10's 8 holds 3: all 4.
        assert_eq!(s.recall, 1.0);
    }

    /// Several k from one pass: each equal, to the bit, to its own call, on features with
    /// ties and near-ties (rounded coordinates) where the exact re-measurement decides.
    #[test]
    fn each_k_from_one_pass_equals_one_call_per_k() {
        let dim = 16;
        let values = |n: usize, seed: u32| -> Vec<f32> {
            (0..n * dim)
                .map(|i| {
                    let v = ((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000;
                    (v as f32 / 100.0).round() / 4.0
                })
                .collect()
        };
        let (real, fake) = (values(300, 7), values(250, 11));
        let ks = [5, 1, 3, 10];
        let all = prdc_each_k(&real, &fake, dim, &ks).unwrap();
        assert_eq!(all.len(), ks.len());
        for (p, &k) in all.iter().zip(&ks) {
            assert_eq!(*p, prdc(&real, &fake, dim, k).unwrap(), "k = {k}");
        }
        // The scores move with k: a larger k widens every radius.
        assert!(all[3].recall > all[1].recall && all[3].coverage > all[1].coverage);
        let e = prdc_each_k(&real, &fake, dim, &[3, 250]).unwrap_err();
        assert!(e.to_string().starts_with("invalid k 250: "), "{e}");
    }

    #[test]
    fn k_must_be_below_the_smaller_set() {
        let e = prdc(&[0.0, 1.0, 2.0], &[0.0, 1.0], 1, 2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid k 2: must be at least 1 and less than the smaller set's 2 features (a radius is the distance to the k-th nearest other feature)"
        );
        assert!(prdc(&[0.0, 1.0, 2.0], &[0.0, 1.0], 1, 0).is_err());
    }
}
