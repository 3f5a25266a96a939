//! How a class-conditional G follows its classes (`dcgan fid --per-class`): for each class, the
//! FID of G's images of that class against the real images of that class, and the accuracy of a
//! classifier trained on the real images when it labels G's images.
//!
//! The classifier is a linear L2-SVM (this crate's, [`super::svm`]) on Inception's 2048-d pool
//! features, standardised: the features FID already computes, so it costs no other network and
//! no download, and Inception's features separate CIFAR-10's classes well linearly (its
//! accuracy on held-out real images is reported beside, with `--class-test`). It is trained on
//! the same real images per class that the per-class FIDs use, its regularisation C chosen from
//! [`C_GRID`] by accuracy on every fifth of them held out, then trained on all of them.

use std::sync::Arc;

use serde::Serialize;

use super::fid::{Extractor, Stats, frechet_distance, generator_features};
use super::inception::{FEATURES, Inception};
use super::measure::{Protocol, dataset_side};
use super::svm::{LinearSvm, Scaler, SvmOptions, choose_c};
use crate::data::{Dataset, Subset};
use crate::device::Device;
use crate::error::{Error, Result};
use crate::model::Generator;
use crate::progress::Events;

/// The classifier's regularisation (LIBLINEAR's C) tried, on standardised features.
pub const C_GRID: [f64; 5] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0];

/// One class's scores.
#[derive(Clone, Debug, Serialize)]
pub struct ClassScore {
    /// Its index (the label G was given).
    pub class: usize,
    /// Its name.
    pub name: String,
    /// FID of G's images of this class against the real images of this class.
    pub fid: f64,
    /// Real images of this class measured.
    pub real: usize,
    /// G's images of this class measured.
    pub generated: usize,
    /// Fraction of G's images of this class the classifier assigns to it.
    pub accuracy: f64,
}

/// The classifier that judged G's images.
#[derive(Clone, Debug, Serialize)]
pub struct ClassifierReport {
    /// What it is.
    pub kind: String,
    /// Its regularisation C, chosen from [`C_GRID`].
    pub c: f64,
    /// The accuracy on the held-out fifth that chose C.
    pub validation_accuracy: f64,
    /// Real images it was trained on (all classes).
    pub trained_on: usize,
    /// Its accuracy on those.
    pub train_accuracy: f64,
    /// The held-out real images it was tested on (`--class-test`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_set: Option<String>,
    /// How many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_images: Option<usize>,
    /// Its accuracy on them: the ceiling to read G's accuracy against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
}

/// `fid --per-class`'s result.
#[derive(Clone, Debug, Serialize)]
pub struct PerClass {
    /// Each class.
    pub classes: Vec<ClassScore>,
    /// The mean of the per-class FIDs (intra-class FID, as the conditional GAN literature
    /// reports it).
    pub mean_fid: f64,
    /// Fraction of all of G's images the classifier assigns to the class G was asked for.
    pub accuracy: f64,
    /// The classifier.
    pub classifier: ClassifierReport,
}

/// What [`per_class`] measures with.
pub(crate) struct Setup<'a> {
    pub net: &'a Inception,
    pub protocol: &'a Protocol,
    pub device: &'a Device,
    /// The side real images are prepared at.
    pub size: usize,
    /// Images a class, on each side.
    pub per_class: usize,
}

/// Inception features of up to `s.per_class` images of each class of `data` (one entry per
/// class: features and count); the statistics cache keeps them (each class subset has its
/// own key).
fn class_features(
    s: &Setup,
    data: &Arc<dyn Dataset>,
    source: &str,
    classes: usize,
    events: &mut dyn Events,
) -> Result<Vec<(Vec<f32>, usize)>> {
    (0..classes)
        .map(|k| {
            let subset: Arc<dyn Dataset> = Arc::new(Subset::of_class(data.clone(), k, source));
            if subset.is_empty() {
                return Err(Error::Data(format!(
                    "{source}: has no image of class {k} ({})",
                    data.classes().get(k).map(String::as_str).unwrap_or("?")
                )));
            }
            let p = Protocol {
                n: s.per_class.min(subset.len()),
                kid_subsets: 0,
                prdc_k: None,
                prdc_other_k: Vec::new(),
                ..s.protocol.clone()
            };
            let what = format!("{source} class {k}");
            let side = dataset_side(s.net, subset, &what, Some(s.size), &p, s.device, events)?;
            let n = side.stats.n;
            Ok((side.features.expect("measured sets keep features"), n))
        })
        .collect()
}

/// Feature rows (`[n, FEATURES]`, row-major) and their labels.
type Labelled = (Vec<f32>, Vec<usize>);

/// Each class's features one after the other, and their labels.
fn stacked(per_class: &[(Vec<f32>, usize)]) -> Labelled {
    let x = per_class
        .iter()
        .flat_map(|(f, _)| f.iter().copied())
        .collect();
    let y = (per_class.iter().enumerate())
        .flat_map(|(c, (_, n))| std::iter::repeat_n(c, *n))
        .collect();
    (x, y)
}

/// Features and labels split into four fifths to fit and every fifth item held out.
fn split_fifths(x: &[f32], y: &[usize]) -> (Labelled, Labelled) {
    let (mut fit, mut held): (Labelled, Labelled) = Default::default();
    for (i, (row, &label)) in x.chunks_exact(FEATURES).zip(y).enumerate() {
        let to = if i % 5 == 4 { &mut held } else { &mut fit };
        to.0.extend_from_slice(row);
        to.1.push(label);
    }
    (fit, held)
}

/// `data` has the model's classes, in its order.
pub(crate) fn check_classes(data: &dyn Dataset, source: &str, names: &[String]) -> Result<()> {
    let have = data.classes();
    if have != names {
        return Err(Error::Data(format!(
            "{source}: its classes ({}) are not the model's ({})",
            if have.is_empty() {
                "none".to_string()
            } else {
                have.join(", ")
            },
            names.join(", ")
        )));
    }
    Ok(())
}

/// Per-class FID and classifier accuracy of the conditional `g` against the labelled `data`
/// (`test`: labelled held-out real images, for the classifier's own accuracy). Both sets'
/// classes must be the model's ([`check_classes`], which `dcgan fid` runs before any image
/// goes through Inception).
pub(crate) fn per_class(
    s: &Setup,
    g: &Generator,
    model: &crate::config::ModelConfig,
    (data, source): (Arc<dyn Dataset>, &str),
    test: Option<(Arc<dyn Dataset>, &str)>,
    events: &mut dyn Events,
) -> Result<PerClass> {
    let names = &model.classes;
    let k = names.len();
    let real = class_features(s, &data, source, k, events)?;
    // The classifier, on the standardised real features.
    let (train_x, train_y) = stacked(&real);
    let scaler = Scaler::fit(&train_x, FEATURES);
    let train_x = scaler.apply(&train_x);
    let options = SvmOptions {
        seed: s.protocol.seed,
        ..SvmOptions::default()
    };
    events.info(format!(
        "training the class classifier on {} real images",
        train_y.len()
    ));
    let (fit, held) = split_fifths(&train_x, &train_y);
    let (c, validation_accuracy) = choose_c(
        (&fit.0, &fit.1),
        (&held.0, &held.1),
        FEATURES,
        k,
        &C_GRID,
        &options,
        &mut |c, acc| events.info(format!("classifier C {c:e}: held-out accuracy {acc:.4}")),
    );
    let svm = LinearSvm::train(
        &train_x,
        FEATURES,
        &train_y,
        k,
        &SvmOptions { c, ..options },
    );
    let train_accuracy = svm.accuracy(&train_x, &train_y);
    let (test_set, test_images, test_accuracy) = match &test {
        Some((t, name)) => {
            let (x, y) = stacked(&class_features(s, t, name, k, events)?);
            let acc = svm.accuracy(&scaler.apply(&x), &y);
            (Some(name.to_string()), Some(y.len()), Some(acc))
        }
        None => (None, None, None),
    };
    let x = Extractor {
        net: s.net,
        batch: s.protocol.batch_size,
        device: s.device,
        mode: s.protocol.mode,
    };
    let mut classes = Vec::with_capacity(k);
    let (mut right, mut total) = (0.0, 0usize);
    for (c, (real_feats, real_n)) in real.iter().enumerate() {
        // Each class its own latents: the evaluation stream of seed + 1 + class.
        let seed = s.protocol.seed.wrapping_add(1 + c as u64);
        let feats = generator_features(&x, g, model, s.per_class, seed, Some(c), events)?;
        let fid = frechet_distance(
            &Stats::from_features(real_feats, FEATURES)?,
            &Stats::from_features(&feats, FEATURES)?,
        )?;
        let accuracy = svm.accuracy(&scaler.apply(&feats), &vec![c; s.per_class]);
        right += accuracy * s.per_class as f64;
        total += s.per_class;
        classes.push(ClassScore {
            class: c,
            name: names[c].clone(),
            fid,
            real: *real_n,
            generated: s.per_class,
            accuracy,
        });
    }
    Ok(PerClass {
        mean_fid: classes.iter().map(|c| c.fid).sum::<f64>() / k as f64,
        accuracy: right / total as f64,
        classifier: ClassifierReport {
            kind: "linear L2-SVM on standardised Inception pool features, one vs rest".into(),
            c,
            validation_accuracy,
            trained_on: train_y.len(),
            train_accuracy,
            test_set,
            test_images,
            test_accuracy,
        },
        classes,
    })
}
