//! `dcgan features`.

use std::path::PathBuf;

use clap::Args;
use dcgan::tasks::features::{self, FeaturesConfig};

use super::common::{JsonArg, ModelArgs};
use crate::ui::Ui;

#[derive(Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The images to describe (labels come from the data set).
    #[arg(long)]
    pub data: String,
    /// `FILE.npy`: float32 (N, 16·Σ channels); labels go to `FILE.labels.npy` (int64, −1: none).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = FeaturesConfig::default().batch_size)]
    pub batch_size: usize,
    /// Re-estimate BatchNorm statistics over this data (as the authors' SVHN script) from at most
    /// this many batches; 0 keeps the checkpoint's running statistics.
    #[arg(long, default_value_t = FeaturesConfig::default().reestimate_batches)]
    pub reestimate_batches: usize,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(a: FeaturesArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = FeaturesConfig {
        checkpoint: a.model.checkpoint,
        data: ui.data(&a.data)?,
        background: ui.background(),
        out: a.out,
        batch_size: a.batch_size,
        reestimate_batches: a.reestimate_batches,
        device: a.model.device.device,
    };
    let r = features::run(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} ({} × {} features) and {} in {:.1} s",
            r.features.display(),
            r.items,
            r.dim,
            r.labels.display(),
            r.seconds
        )]
    });
    Ok(())
}
