//! `dcgan eval svm`: argument parsing and rendering; the protocols are in `dcgan::tasks::eval`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use dcgan::Result;
use dcgan::tasks::eval::{self, Method, Protocol, ProtocolResult, SvmConfig};

use super::common::{DeviceArg, JsonArg};
use crate::ui::Ui;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Linear L2-SVM on fixed features (paper Tables 1 and 2): D's features, a random-weight D
    /// and the K-means baseline, under the full-label or few-label protocol.
    Svm(SvmArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// D of --checkpoint, every layer max-pooled to 4×4.
    Dcgan,
    /// The same D architecture with freshly initialised weights.
    RandomD,
    /// Coates & Ng's single-layer K-means network.
    Kmeans,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtocolArg {
    /// Table 1: C on a validation split, retrain on all training labels, test accuracy.
    Full,
    /// Table 2: --per-class labels per class, --draws random draws, mean test error ± 1.96·std.
    FewLabels,
}

#[derive(Args)]
pub struct SvmArgs {
    /// Labelled training images (class folders, IDX with labels, CIFAR binaries, SVHN .mat).
    #[arg(long)]
    pub train_data: String,
    /// Labelled test images.
    #[arg(long)]
    pub test_data: String,
    /// The trained DCGAN (run directory or checkpoint) whose D gives the features.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Feature extractors to compare [default: dcgan,random-d,kmeans with --checkpoint,
    /// else kmeans].
    #[arg(long, value_delimiter = ',')]
    pub methods: Vec<MethodArg>,
    #[arg(long, value_enum, default_value_t = ProtocolArg::Full)]
    pub protocol: ProtocolArg,
    /// Training items held out to choose C [default: 5000 (full), 10000 (few-labels)].
    #[arg(long)]
    pub validation: Option<usize>,
    /// Few-labels protocol: labelled examples per class.
    #[arg(long, default_value_t = SvmConfig::default().per_class)]
    pub per_class: usize,
    /// Few-labels protocol: random draws of the labelled examples.
    #[arg(long, default_value_t = SvmConfig::default().draws)]
    pub draws: usize,
    /// Values of C to try [default: 1e-5,1e-4,1e-3,1e-2,1e-1,1].
    #[arg(long, value_delimiter = ',')]
    pub c_grid: Vec<f64>,
    /// Use at most this many training / test images (a random subset).
    #[arg(long)]
    pub train_limit: Option<usize>,
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// K-means: dictionary size, the number of centroids (4·K features).
    #[arg(long, default_value_t = SvmConfig::default().kmeans_k)]
    pub kmeans_k: usize,
    /// K-means: random patches the dictionary is fitted on.
    #[arg(long, default_value_t = SvmConfig::default().kmeans_patches)]
    pub kmeans_patches: usize,
    #[arg(long, default_value_t = SvmConfig::default().kmeans_iterations)]
    pub kmeans_iterations: u64,
    /// Image side without --checkpoint (default: the data's).
    #[arg(long)]
    pub image_size: Option<usize>,
    /// Seed of the random D, the splits, the draws and the K-means patches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = SvmConfig::default().batch_size)]
    pub batch_size: usize,
    /// Batches to re-estimate D's BatchNorm statistics over the training data (0: keep the
    /// checkpoint's).
    #[arg(long, default_value_t = SvmConfig::default().reestimate_batches)]
    pub reestimate_batches: usize,
    /// Also write the results as JSON to this file (atomically).
    #[arg(long)]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub device: DeviceArg,
}

pub fn run(c: EvalCommand, ui: &mut Ui) -> Result<()> {
    match c {
        EvalCommand::Svm(a) => run_svm(a, ui),
    }
}

fn run_svm(a: SvmArgs, ui: &mut Ui) -> Result<()> {
    let config = SvmConfig {
        train_data: ui.data(&a.train_data)?,
        test_data: ui.data(&a.test_data)?,
        background: ui.background(),
        checkpoint: a.checkpoint,
        methods: a
            .methods
            .iter()
            .map(|m| match m {
                MethodArg::Dcgan => Method::Dcgan,
                MethodArg::RandomD => Method::RandomD,
                MethodArg::Kmeans => Method::Kmeans,
            })
            .collect(),
        protocol: match a.protocol {
            ProtocolArg::Full => Protocol::Full,
            ProtocolArg::FewLabels => Protocol::FewLabels,
        },
        validation: a.validation,
        per_class: a.per_class,
        draws: a.draws,
        c_grid: a.c_grid,
        train_limit: a.train_limit,
        test_limit: a.test_limit,
        kmeans_k: a.kmeans_k,
        kmeans_patches: a.kmeans_patches,
        kmeans_iterations: a.kmeans_iterations,
        image_size: a.image_size,
        seed: a.seed,
        batch_size: a.batch_size,
        reestimate_batches: a.reestimate_batches,
        report: a.report,
        device: a.device.device,
    };
    let r = eval::svm(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        r.methods
            .iter()
            .map(|m| {
                let name = m.method;
                match &m.result {
                    ProtocolResult::Full(r) => format!(
                        "{name:<9} {:>6} dims  test accuracy {:6.2} %  (C {:e}; {} train, {} test)",
                        r.dim,
                        100.0 * r.test_accuracy,
                        r.c,
                        r.train,
                        r.test
                    ),
                    ProtocolResult::FewLabels(r) => format!(
                        "{name:<9} {:>6} dims  test error {:6.2} % ± {:.2}  ({} labels, {} draws, {} test)",
                        r.dim,
                        100.0 * r.mean_error,
                        100.0 * r.ci95,
                        r.labels,
                        r.draws,
                        r.test
                    ),
                }
            })
            .collect()
    });
    Ok(())
}
