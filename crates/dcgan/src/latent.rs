//! Latent-space operations for the paper's §6: walks between points (Fig. 4), concept vectors and
//! their arithmetic (Fig. 7), the "turn" vector (Fig. 8).

use crate::{Error, Result};

/// How to move between two latent points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Interpolation {
    /// (1 − t)·a + t·b.
    Linear,
    /// Along the great circle through a and b (White, 2016), keeping the norm that Gaussian
    /// latents concentrate at; falls back to linear for (anti)parallel points.
    Spherical,
}

/// Linear interpolation: (1 − t)·a + t·b.
pub fn lerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    a.iter()
        .zip(b)
        .map(|(x, y)| (1.0 - t) * x + t * y)
        .collect()
}

/// Spherical interpolation along the great circle through `a` and `b` (linear when they are
/// (anti)parallel).
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64) * (*y as f64))
        .sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let cos = (dot / (na * nb).max(1e-12)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    let so = omega.sin();
    if so.abs() < 1e-6 {
        return lerp(a, b, t);
    }
    let t = t as f64;
    let (wa, wb) = (((1.0 - t) * omega).sin() / so, (t * omega).sin() / so);
    a.iter()
        .zip(b)
        .map(|(x, y)| (wa * *x as f64 + wb * *y as f64) as f32)
        .collect()
}

/// `a` → `b` at `t` in [0, 1], linearly or spherically.
pub fn interpolate(a: &[f32], b: &[f32], t: f32, how: Interpolation) -> Vec<f32> {
    match how {
        Interpolation::Linear => lerp(a, b, t),
        Interpolation::Spherical => slerp(a, b, t),
    }
}

/// A walk through `points` (each of length `dim`, row-major) with `steps` intervals between
/// consecutive points: (points − 1)·steps + 1 latents, starting and ending exactly at the first
/// and last point and passing through every point.
pub fn walk(points: &[f32], dim: usize, steps: usize, how: Interpolation) -> Vec<f32> {
    let k = points.len() / dim;
    let mut out = Vec::with_capacity(((k - 1) * steps + 1) * dim);
    for p in 0..k - 1 {
        let (a, b) = (
            &points[p * dim..(p + 1) * dim],
            &points[(p + 1) * dim..(p + 2) * dim],
        );
        for s in 0..steps {
            out.extend(interpolate(a, b, s as f32 / steps as f32, how));
        }
    }
    out.extend_from_slice(&points[(k - 1) * dim..]);
    out
}

/// The mean of rows `indices` of `latents` (row-major, `dim` wide).
pub fn mean_of(latents: &[f32], dim: usize, indices: &[usize]) -> Vec<f32> {
    let mut m = vec![0f32; dim];
    for &i in indices {
        for (acc, v) in m.iter_mut().zip(&latents[i * dim..(i + 1) * dim]) {
            *acc += v;
        }
    }
    m.iter_mut().for_each(|v| *v /= indices.len() as f32);
    m
}

/// A parsed expression `A - B + C`: signed concept names, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    /// (sign, concept name) of each term, in order.
    pub terms: Vec<(f32, String)>,
}

impl Expression {
    /// Names are letters, digits and `_`; operators `+` and `-`; the first term may have a sign.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::config("expression", format!("{text:?}"), why.to_string());
        // Tokens: names and single-character operators.
        let mut tokens: Vec<String> = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            if c == '+' || c == '-' {
                tokens.push(c.to_string());
            } else if c.is_alphanumeric() || c == '_' {
                let mut name = c.to_string();
                while let Some(&d) = chars.peek().filter(|d| d.is_alphanumeric() || **d == '_') {
                    name.push(d);
                    chars.next();
                }
                tokens.push(name);
            } else {
                return Err(bad(&format!("unexpected character {c:?}")));
            }
        }
        let is_op = |t: &str| t == "+" || t == "-";
        let mut terms = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut sign = 1.0;
            if is_op(&tokens[i]) {
                sign = if tokens[i] == "-" { -1.0 } else { 1.0 };
                i += 1;
            } else if !terms.is_empty() {
                return Err(bad("two names without an operator between them"));
            }
            match tokens.get(i) {
                Some(t) if !is_op(t) => terms.push((sign, t.clone())),
                Some(_) => return Err(bad("two operators in a row")),
                None => return Err(bad("ends with an operator")),
            }
            i += 1;
        }
        if terms.is_empty() {
            return Err(bad(
                "must be names joined by + and -, such as \"A - B + C\"",
            ));
        }
        Ok(Self { terms })
    }

    /// Σ sign·vector over the terms, looking names up in `vectors`.
    pub fn evaluate(&self, vectors: &dyn Fn(&str) -> Option<Vec<f32>>) -> Result<Vec<f32>> {
        let mut out: Option<Vec<f32>> = None;
        for (sign, name) in &self.terms {
            let v = vectors(name).ok_or_else(|| {
                Error::config(
                    "expression",
                    name,
                    "names no concept (define it with --concept NAME=...)",
                )
            })?;
            match &mut out {
                None => out = Some(v.iter().map(|x| sign * x).collect()),
                Some(acc) => acc.iter_mut().zip(&v).for_each(|(a, x)| *a += sign * x),
            }
        }
        Ok(out.expect("at least one term"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_start_end_and_pass_through_their_points() {
        let pts = vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
        let w = walk(&pts, 2, 4, Interpolation::Linear);
        assert_eq!(w.len(), (2 * 4 + 1) * 2);
        assert_eq!(&w[..2], &[0.0, 0.0]);
        assert_eq!(&w[8..10], &[1.0, 0.0]);
        assert_eq!(&w[16..], &[1.0, 1.0]);
        assert_eq!(&w[2..4], &[0.25, 0.0]);
    }

    #[test]
    fn slerp_keeps_the_norm_between_orthogonal_unit_vectors() {
        let m = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        assert!((m[0] - 0.5f32.sqrt()).abs() < 1e-6 && (m[1] - 0.5f32.sqrt()).abs() < 1e-6);
        assert_eq!(
            slerp(&[1.0, 2.0], &[2.0, 4.0], 0.5),
            lerp(&[1.0, 2.0], &[2.0, 4.0], 0.5)
        );
    }

    #[test]
    fn expressions_parse_and_evaluate() {
        let e = Expression::parse("smiling_woman - neutral_woman + neutral_man").unwrap();
        assert_eq!(
            e.terms.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![1.0, -1.0, 1.0]
        );
        let v = |n: &str| match n {
            "smiling_woman" => Some(vec![1.0, 2.0]),
            "neutral_woman" => Some(vec![0.5, 0.5]),
            "neutral_man" => Some(vec![2.0, 0.0]),
            _ => None,
        };
        assert_eq!(e.evaluate(&v).unwrap(), vec![2.5, 1.5]);
        assert_eq!(
            Expression::parse("-A+B").unwrap().terms,
            vec![(-1.0, "A".into()), (1.0, "B".into())]
        );
        for bad in ["", "A B", "A -", "A * B", "A - - B"] {
            assert!(Expression::parse(bad).is_err(), "{bad:?} should not parse");
        }
        let err = Expression::parse("smiling_woman + Z")
            .unwrap()
            .evaluate(&v)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid expression Z: names no concept"),
            "{err}"
        );
    }

    #[test]
    fn concept_means() {
        let z = vec![1.0, 0.0, 3.0, 2.0, 5.0, 4.0];
        assert_eq!(mean_of(&z, 2, &[0, 2]), vec![3.0, 2.0]);
    }
}
