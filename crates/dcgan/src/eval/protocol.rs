//! The paper's two classification protocols on fixed features (§5.1, §5.2).
//!
//! - **Full labels** (Table 1, CIFAR-10): C is chosen on a random validation split of the
//!   training features, the SVM is retrained on all of them with that C, and the test accuracy
//!   is reported.
//! - **Few labels** (Table 2, SVHN with 1000 labels): a random validation split (10,000) of the
//!   training data chooses C; from the rest, `per_class` labelled examples of each class train
//!   the SVM; this is repeated over random draws and the mean test error ± 1.96·std is
//!   reported (what the authors' released script prints).
//!
//! Features are standardised with statistics of all training features (no labels involved).

use rand::seq::{IndexedRandom, SliceRandom};
use serde::Serialize;

use super::svm::{LinearSvm, Scaler, SvmOptions, choose_c};
use crate::error::{Error, Result};
use crate::progress::Events;
use crate::rng;

/// Labelled features, `[n, dim]` row-major.
#[derive(Clone, Debug)]
pub struct Labelled {
    /// Feature dimension.
    pub dim: usize,
    /// `len × dim` features, row-major.
    pub x: Vec<f32>,
    /// Class of each row, 0-based.
    pub y: Vec<usize>,
}

impl Labelled {
    /// From features and int64 labels; items without a label (−1) are dropped.
    pub fn new(dim: usize, x: Vec<f32>, labels: &[i64]) -> Result<Self> {
        if x.len() != labels.len() * dim {
            return Err(Error::Data(format!(
                "{} feature values for {} labels of dimension {dim}",
                x.len(),
                labels.len()
            )));
        }
        let keep: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] >= 0).collect();
        if keep.is_empty() {
            return Err(Error::Data(
                "no labelled images: the SVM protocols need a labelled data set (class folders, IDX or CIFAR labels)".into(),
            ));
        }
        let mut xs = Vec::with_capacity(keep.len() * dim);
        for &i in &keep {
            xs.extend_from_slice(&x[i * dim..(i + 1) * dim]);
        }
        Ok(Labelled {
            dim,
            x: xs,
            y: keep.iter().map(|&i| labels[i] as usize).collect(),
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of classes (largest label + 1).
    pub fn classes(&self) -> usize {
        self.y.iter().max().map(|m| m + 1).unwrap_or(0)
    }

    fn subset(&self, items: &[usize]) -> (Vec<f32>, Vec<usize>) {
        let mut x = Vec::with_capacity(items.len() * self.dim);
        for &i in items {
            x.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
        }
        (x, items.iter().map(|&i| self.y[i]).collect())
    }
}

/// The default grid of C (LIBLINEAR-scale values for standardised features).
pub const C_GRID: &[f64] = &[1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];

#[derive(Clone, Debug, Serialize)]
/// The full-label protocol's result: C chosen on a validation split, then test accuracy.
pub struct FullResult {
    /// Training examples.
    pub train: usize,
    /// Validation examples (held out of the training set to choose C).
    pub validation: usize,
    /// Test examples.
    pub test: usize,
    /// Feature dimension.
    pub dim: usize,
    /// (C, validation accuracy) for every C tried.
    pub grid: Vec<(f64, f64)>,
    /// The C chosen.
    pub c: f64,
    /// Accuracy on the test set, trained on train + validation with that C.
    pub test_accuracy: f64,
}

/// Standardise train and test with the training statistics.
fn standardise(train: &Labelled, test: &Labelled) -> (Labelled, Labelled) {
    let s = Scaler::fit(&train.x, train.dim);
    (
        Labelled {
            dim: train.dim,
            x: s.apply(&train.x),
            y: train.y.clone(),
        },
        Labelled {
            dim: test.dim,
            x: s.apply(&test.x),
            y: test.y.clone(),
        },
    )
}

/// Table 1's protocol. `validation` training items are held out to choose C.
pub(crate) fn full_labels(
    train: &Labelled,
    test: &Labelled,
    validation: usize,
    grid: &[f64],
    seed: u64,
    events: &mut dyn Events,
) -> Result<FullResult> {
    check(train, test, validation + 1)?;
    let classes = train.classes().max(test.classes());
    let (train, test) = standardise(train, test);
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut rng::Stream::ValidationSplit.rng(seed));
    let (val_items, fit_items) = order.split_at(validation);
    let (vx, vy) = train.subset(val_items);
    let (fx, fy) = train.subset(fit_items);
    let base = SvmOptions {
        seed,
        ..Default::default()
    };
    let mut tried = Vec::new();
    let (c, _) = choose_c(
        (&fx, &fy),
        (&vx, &vy),
        train.dim,
        classes,
        grid,
        &base,
        &mut |c, a| {
            events.info(format!("C {c:e}: validation accuracy {:.2} %", 100.0 * a));
            tried.push((c, a));
        },
    );
    let m = LinearSvm::train(
        &train.x,
        train.dim,
        &train.y,
        classes,
        &SvmOptions { c, ..base },
    );
    let acc = m.accuracy(&test.x, &test.y);
    events.info(format!(
        "C {c:e} on all {} training items: test accuracy {:.2} %",
        train.len(),
        100.0 * acc
    ));
    Ok(FullResult {
        train: train.len(),
        validation,
        test: test.len(),
        dim: train.dim,
        grid: tried,
        c,
        test_accuracy: acc,
    })
}

#[derive(Clone, Debug, Serialize)]
/// The few-labels protocol's result (paper Table 2): test error over random draws of labels.
pub struct FewResult {
    /// Labelled examples a class in each draw.
    pub per_class: usize,
    /// Labelled examples in each draw.
    pub labels: usize,
    /// Validation examples a draw (to choose C).
    pub validation: usize,
    /// Test examples.
    pub test: usize,
    /// Feature dimension.
    pub dim: usize,
    /// Draws of labels.
    pub draws: usize,
    /// Test error of each draw.
    pub errors: Vec<f64>,
    /// C chosen in each draw.
    pub chosen_c: Vec<f64>,
    /// Mean test error over the draws.
    pub mean_error: f64,
    /// 1.96 · standard deviation of the test error over draws.
    pub ci95: f64,
}

/// How Table 2's protocol draws: `validation` training items choose C; then `per_class` labels
/// of each class from the rest, `draws` times; every split from `seed`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FewLabelsPlan {
    pub validation: usize,
    pub per_class: usize,
    pub draws: usize,
    pub seed: u64,
}

/// Table 2's protocol, C from `grid` (see [`FewLabelsPlan`]).
pub(crate) fn few_labels(
    train: &Labelled,
    test: &Labelled,
    plan: &FewLabelsPlan,
    grid: &[f64],
    events: &mut dyn Events,
) -> Result<FewResult> {
    let FewLabelsPlan {
        validation,
        per_class,
        draws,
        seed,
    } = *plan;
    check(train, test, validation + 1)?;
    let classes = train.classes().max(test.classes());
    let (train, test) = standardise(train, test);
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut rng::Stream::FewLabelsSplit.rng(seed));
    let (val_items, pool) = order.split_at(validation);
    let (vx, vy) = train.subset(val_items);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for &i in pool {
        by_class[train.y[i]].push(i);
    }
    if let Some(k) = (0..classes).find(|&k| by_class[k].len() < per_class) {
        return Err(Error::Data(format!(
            "class {k} has {} training items outside the validation split; {per_class} needed",
            by_class[k].len()
        )));
    }
    let mut errors = Vec::with_capacity(draws);
    let mut chosen = Vec::with_capacity(draws);
    for draw in 0..draws {
        let mut r = rng::Stream::FewLabelsDraw { draw: draw as u64 }.rng(seed);
        let mut items = Vec::with_capacity(per_class * classes);
        for list in &by_class {
            items.extend(list.choose_multiple(&mut r, per_class).copied());
        }
        let (lx, ly) = train.subset(&items);
        let base = SvmOptions {
            seed: seed ^ draw as u64,
            ..Default::default()
        };
        let (c, _) = choose_c(
            (&lx, &ly),
            (&vx, &vy),
            train.dim,
            classes,
            grid,
            &base,
            &mut |_, _| {},
        );
        let m = LinearSvm::train(&lx, train.dim, &ly, classes, &SvmOptions { c, ..base });
        let err = 1.0 - m.accuracy(&test.x, &test.y);
        events.info(format!(
            "draw {}/{draws}: C {c:e}, test error {:.2} %",
            draw + 1,
            100.0 * err
        ));
        errors.push(err);
        chosen.push(c);
    }
    let mean = errors.iter().sum::<f64>() / draws as f64;
    let var = errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / draws as f64;
    Ok(FewResult {
        per_class,
        labels: per_class * classes,
        validation,
        test: test.len(),
        dim: train.dim,
        draws,
        errors,
        chosen_c: chosen,
        mean_error: mean,
        ci95: 1.96 * var.sqrt(),
    })
}

fn check(train: &Labelled, test: &Labelled, min_train: usize) -> Result<()> {
    if train.dim != test.dim {
        return Err(Error::Data(format!(
            "train features have {} dimensions, test features {}",
            train.dim, test.dim
        )));
    }
    if train.len() < min_train {
        return Err(Error::Data(format!(
            "{} labelled training items; the validation split alone needs {}",
            train.len(),
            min_train - 1
        )));
    }
    if test.is_empty() {
        return Err(Error::Data("no labelled test items".into()));
    }
    Ok(())
}
