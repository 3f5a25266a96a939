//! `dcgan train`: argument parsing and rendering. The defaults are the library's
//! (`dcgan::config`, the paper's recipe), the loop is `dcgan::tasks::train`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};
use dcgan::config::{
    DataConfig, EmaConfig, EvalConfig, EvalEdits, LatentDistribution, Loss, Metric, ModelConfig,
    OptimConfig, RecipeConfig, RunConfig, TrainConfig,
};
use dcgan::tasks::train::{self, EvalFiles, TrainTask as Task};
use dcgan::train::augment::Augmentation;
use dcgan::train::run::ResumeOptions;

use super::common::JsonArg;
use crate::ui::Ui;

#[derive(Clone, Copy, ValueEnum)]
pub enum Latent {
    /// N(0, 1)
    Normal,
    /// U(-1, 1), the paper's
    Uniform,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Best {
    /// Lowest FID
    Fid,
    /// Lowest KID
    Kid,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Image folder, IDX file or folder, CIFAR-10 binary folder, or `fashion-mnist` / `mnist`.
    /// With --resume: where the run's data is now, if it moved.
    #[arg(long, visible_alias = "dataset", required_unless_present = "resume")]
    pub data: Option<String>,
    /// Run directory to create (config, checkpoints, samples, log, loss plot).
    #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its newest checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Image side, 4·2^k (32, 64, 128).
    #[arg(long, default_value_t = ModelConfig::default().image_size, conflicts_with = "resume")]
    pub image_size: usize,
    /// Image channels (1 or 3); default: those of the data (grey data → 1).
    #[arg(long, conflicts_with = "resume")]
    pub channels: Option<usize>,
    /// Latent size (nz).
    #[arg(long, default_value_t = ModelConfig::default().latent_dim, conflicts_with = "resume")]
    pub latent_dim: usize,
    /// Width of G's last hidden layer (ngf).
    #[arg(long, alias = "ngf", default_value_t = ModelConfig::default().generator_width, conflicts_with = "resume")]
    pub generator_width: usize,
    /// Width of D's first layer (ndf).
    #[arg(long, alias = "ndf", default_value_t = ModelConfig::default().discriminator_width, conflicts_with = "resume")]
    pub discriminator_width: usize,
    /// 4: pytorch/examples layout; 5: the authors' layout (dense projection, 5×5 kernels).
    #[arg(long, default_value_t = ModelConfig::default().kernel_size, conflicts_with = "resume")]
    pub kernel_size: usize,
    /// Distribution of z.
    #[arg(long, value_enum, default_value_t = Latent::Normal, conflicts_with = "resume")]
    pub latent: Latent,
    /// Passes over the data [default: 5; on --resume: the run's own].
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Stop after this many steps in all.
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Mini-batch size (the paper: 128).
    #[arg(long, default_value_t = TrainConfig::default().batch_size, conflicts_with = "resume")]
    pub batch_size: usize,
    /// Seed of every random draw.
    #[arg(long, default_value_t = TrainConfig::default().seed, conflicts_with = "resume")]
    pub seed: u64,
    /// Adam learning rate (the paper: 2e-4).
    #[arg(long, default_value_t = OptimConfig::default().learning_rate, conflicts_with = "resume")]
    pub lr: f64,
    /// Adam β1 (the paper: 0.5).
    #[arg(long, default_value_t = OptimConfig::default().beta1, conflicts_with = "resume")]
    pub beta1: f64,
    /// D's learning rate, if not --lr (TTUR: D faster than G, e.g. --lr-d 4e-4 --lr-g 1e-4).
    #[arg(long, conflicts_with = "resume")]
    pub lr_d: Option<f64>,
    /// G's learning rate, if not --lr.
    #[arg(long, conflicts_with = "resume")]
    pub lr_g: Option<f64>,
    /// The objective: bce (the paper's binary cross-entropy, non-saturating for G), hinge
    /// (SNGAN/BigGAN) or lsgan (least squares, Mao et al. 2017).
    #[arg(long, default_value = "bce", conflicts_with = "resume")]
    pub loss: String,
    /// D updates per G update, each on its own real batch (StudioGAN's DCGAN: 2). A step is one
    /// G update; an epoch ends when the data is used up, so it has 1/N as many steps.
    #[arg(long, default_value_t = 1, value_name = "N", conflicts_with = "resume")]
    pub d_steps: u32,
    /// Keep an exponential moving average of G's weights with this decay (0.999 is usual):
    /// sample grids, --eval-every, and sample / generate / fid / export-* on the checkpoints use
    /// it (`dcgan --raw-generator …` for the trained G).
    #[arg(long, value_name = "DECAY", conflicts_with = "resume")]
    pub ema_decay: Option<f64>,
    /// DiffAugment (Zhao et al. 2020) on every batch D sees, real and generated, in both
    /// half-steps: any of color, translation, cutout, comma-separated (the authors use all
    /// three for small data sets).
    #[arg(long, value_name = "LIST", conflicts_with = "resume")]
    pub augment: Option<String>,
    /// A class-conditional DCGAN on the data's classes (subfolders, CIFAR-10/SVHN labels, an
    /// IDX label file): G takes the class one-hot after z, D is conditioned by projection
    /// (Miyato & Koyama 2018). `sample --class`, `generate --labels` and `fid --per-class` then
    /// pick classes.
    #[arg(long, conflicts_with = "resume")]
    pub conditional: bool,
    /// The average is a copy of G until this step.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "STEP",
        requires = "ema_decay",
        conflicts_with = "resume"
    )]
    pub ema_start: u64,
    /// Write a fixed-noise sample grid every N steps (and at each epoch's end).
    #[arg(long, default_value_t = TrainConfig::default().sample_every, conflicts_with = "resume")]
    pub sample_every: u64,
    /// Write a checkpoint every N steps (and at each epoch's end).
    #[arg(long, default_value_t = TrainConfig::default().checkpoint_every, conflicts_with = "resume")]
    pub checkpoint_every: u64,
    /// Checkpoints to keep.
    #[arg(long, default_value_t = TrainConfig::default().keep_checkpoints, conflicts_with = "resume")]
    pub keep_checkpoints: usize,
    /// Decoding threads (0: one per core).
    #[arg(long, default_value_t = DataConfig::default().workers, conflicts_with = "resume")]
    pub workers: usize,
    /// Leave out the duplicates listed in a report of `dcgan data dedup`.
    #[arg(long, conflicts_with = "resume")]
    pub exclude: Option<String>,
    /// Largest fraction of unreadable images before the run stops.
    #[arg(long, default_value_t = DataConfig::default().max_bad_fraction, conflicts_with = "resume")]
    pub max_bad_fraction: f64,
    /// Compute device: flex (CPU), or cuda / cuda:N / wgpu when built with those features
    /// [default: flex; with --resume: the run's own, or move the run to this one].
    #[arg(long)]
    pub device: Option<String>,
    /// Measure FID and KID of G every N steps and at the last step (into log.jsonl, loss.png
    /// and the progress bar). Each evaluation generates --eval-samples images through
    /// Inception: minutes on a CPU. With --resume: change the run's setting.
    #[arg(long, value_name = "N")]
    pub eval_every: Option<u64>,
    /// Images per evaluation (and real images for the statistics, computed once and cached)
    /// [default: 5000].
    #[arg(long, value_name = "N")]
    pub eval_samples: Option<usize>,
    /// The real images to measure against (folder, data set or `.npz` statistics)
    /// [default: the training data].
    #[arg(long, value_name = "PATH")]
    pub eval_data: Option<String>,
    /// Keep the checkpoint with the best score as checkpoints/best-fid.safetensors (or
    /// best-kid). Choosing it by the same FID biases that FID low: report the last one's too.
    #[arg(long, value_enum)]
    pub keep_best: Option<Best>,
    /// How --eval-every prepares images for Inception (default legacy_pytorch; a resumed run
    /// keeps its own unless given)
    #[arg(long, value_enum)]
    pub fid_mode: Option<super::common::FidModeArg>,
    /// Also log precision, recall, density and coverage at each evaluation, with K neighbours
    /// (3 when K is left out); a warning when recall or coverage falls three times in a row
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "3")]
    pub eval_prdc: Option<usize>,
    /// Inception weights for --eval-every (as for `dcgan fid`)
    /// [default: CACHE_DIR/fid/default_1.pt, where `bash scripts/fetch-fid-weights.sh` puts them].
    #[arg(long, env = "DCGAN_FID_WEIGHTS")]
    pub weights: Option<PathBuf>,
    /// Measure the real images' statistics again instead of reading CACHE_DIR/fid-stats.
    #[arg(long)]
    pub no_stats_cache: bool,
    /// Also write TensorBoard event files to DIR: losses, D's outputs and speed at every step,
    /// FID/KID/PRDC at each evaluation, each fixed-noise grid (`tensorboard --logdir DIR`). Kept
    /// in the run's config, so --resume goes on writing there (or to a DIR given with it).
    #[arg(long, value_name = "DIR")]
    pub tensorboard: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}

/// The task the arguments ask for.
fn task(a: TrainArgs, ui: &mut Ui) -> dcgan::Result<Task> {
    let files = EvalFiles {
        weights: a
            .weights
            .clone()
            .unwrap_or_else(|| ui.locations.fid_weights()),
        stats_cache: (!a.no_stats_cache).then(|| ui.locations.cache.join("fid-stats")),
    };
    let eval = EvalEdits {
        every: a.eval_every,
        samples: a.eval_samples,
        data: a.eval_data.as_deref().map(|d| ui.data(d)).transpose()?,
        fid_mode: a.fid_mode.map(Into::into),
        prdc_k: a.eval_prdc,
        keep_best: a.keep_best.map(|b| match b {
            Best::Fid => Metric::Fid,
            Best::Kid => Metric::Kid,
        }),
    };
    if let Some(run) = a.resume {
        if let Some(b) = ui.background_arg {
            return Err(dcgan::Error::config(
                "background",
                b,
                "a resumed run keeps the background it started with (data.background in its config.json)",
            ));
        }
        let options = ResumeOptions {
            epochs: a.epochs,
            max_steps: a.max_steps,
            data: a.data.map(|d| ui.data(&d)).transpose()?,
            eval,
            device: a.device,
            tensorboard: a.tensorboard,
        };
        return Ok(Task::Resume {
            run,
            options,
            files,
        });
    }
    let (Some(data), Some(out)) = (a.data, a.out) else {
        unreachable!("clap requires --data and --out without --resume")
    };
    let defaults = RunConfig {
        model: ModelConfig::default(),
        optim: OptimConfig::default(),
        recipe: RecipeConfig::default(),
        data: DataConfig::default(),
        train: TrainConfig::default(),
        eval: EvalConfig::default(),
        device: "flex".into(),
    };
    let mut config = RunConfig {
        model: ModelConfig {
            image_size: a.image_size,
            channels: a.channels.unwrap_or(defaults.model.channels),
            latent_dim: a.latent_dim,
            generator_width: a.generator_width,
            discriminator_width: a.discriminator_width,
            kernel_size: a.kernel_size,
            latent_distribution: match a.latent {
                Latent::Normal => LatentDistribution::Normal,
                Latent::Uniform => LatentDistribution::Uniform,
            },
            ..defaults.model
        },
        optim: OptimConfig {
            learning_rate: a.lr,
            beta1: a.beta1,
            lr_d: a.lr_d,
            lr_g: a.lr_g,
            ..defaults.optim
        },
        recipe: RecipeConfig {
            loss: Loss::parse(&a.loss)?,
            d_steps: a.d_steps,
            ema: a.ema_decay.map(|decay| EmaConfig {
                decay,
                start: a.ema_start,
            }),
            augment: a
                .augment
                .as_deref()
                .map(Augmentation::parse_list)
                .transpose()?
                .unwrap_or_default(),
        },
        data: DataConfig {
            source: ui.data(&data)?,
            workers: a.workers,
            max_bad_fraction: a.max_bad_fraction,
            exclude: a.exclude,
            background: ui.background(),
            ..defaults.data
        },
        train: TrainConfig {
            batch_size: a.batch_size,
            epochs: a.epochs.unwrap_or(defaults.train.epochs),
            max_steps: a.max_steps,
            seed: a.seed,
            sample_every: a.sample_every,
            checkpoint_every: a.checkpoint_every,
            keep_checkpoints: a.keep_checkpoints,
            tensorboard: a.tensorboard,
            ..defaults.train
        },
        eval: {
            let mut e = defaults.eval;
            eval.apply(&mut e);
            e
        },
        device: a.device.unwrap_or(defaults.device),
    };
    if a.channels.is_none() {
        train::resolve_channels(&mut config)?;
    }
    if a.conditional {
        config.model.classes = dcgan::train::conditional_classes(&config.data)?;
    }
    Ok(Task::New {
        config: Box::new(config),
        out,
        files,
    })
}

pub fn run(a: TrainArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // First Ctrl-C: checkpoint and stop after the current step. Second: exit at once.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            crate::errln!("\ndcgan: stopping after this step (Ctrl-C again to quit at once)");
        });
    }
    let json = a.json.json;
    let task = task(a, ui)?;
    let r = train::run(task, ui, &stop)?;
    ui.report(&r, json, |r| {
        let mut lines = vec![format!(
            "trained to step {} ({} epochs complete) in {:.1} s{}",
            r.steps,
            r.epochs_completed,
            r.seconds,
            r.last
                .as_ref()
                .map(|l| format!(", last loss D {:.3} G {:.3}", l.loss_d, l.loss_g))
                .unwrap_or_default()
        )];
        if let Some(p) = &r.last_samples {
            lines.push(format!("samples: {}", p.display()));
        }
        if let Some(p) = &r.last_checkpoint {
            lines.push(format!("checkpoint: {}", p.display()));
        }
        if let Some(b) = &r.best {
            lines.push(format!(
                "best {} {:.4} at step {}",
                b.metric.name().to_uppercase(),
                b.value,
                b.step
            ));
        }
        if let Some(l) = r.last.as_ref().filter(|l| l.fid.is_some()) {
            lines.push(format!(
                "last step's FID {:.3}{}",
                l.fid.unwrap(),
                l.kid.map(|k| format!(", KID {k:.5}")).unwrap_or_default()
            ));
        }
        if r.bad_images > 0 {
            lines.push(format!("skipped {} unreadable images", r.bad_images));
        }
        lines
    });
    Ok(())
}
