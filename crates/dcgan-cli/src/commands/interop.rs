//! `dcgan import-torch` and `dcgan export-torch`.

use std::path::PathBuf;

use clap::Args;
use dcgan::config::ModelConfig;
use dcgan::tasks::interop::{self, ExportConfig, ImportConfig};

use super::common::JsonArg;
use crate::ui::Ui;

#[derive(Args)]
pub struct ImportArgs {
    /// The generator's state dict (keys main.N.*) as safetensors.
    #[arg(long)]
    pub generator: PathBuf,
    /// The discriminator's state dict, if there is one.
    #[arg(long)]
    pub discriminator: Option<PathBuf>,
    #[arg(long, default_value_t = ModelConfig::default().image_size)]
    pub image_size: usize,
    #[arg(long, default_value_t = ModelConfig::default().latent_dim)]
    pub nz: usize,
    #[arg(long, default_value_t = ModelConfig::default().generator_width)]
    pub ngf: usize,
    #[arg(long, default_value_t = ModelConfig::default().discriminator_width)]
    pub ndf: usize,
    #[arg(long, default_value_t = ModelConfig::default().channels)]
    pub nc: usize,
    /// The checkpoint file to write.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct ExportArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Folder for netG.safetensors and netD.safetensors.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_import(a: ImportArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let config = ImportConfig {
        generator: a.generator,
        discriminator: a.discriminator,
        model: ModelConfig {
            image_size: a.image_size,
            channels: a.nc,
            latent_dim: a.nz,
            generator_width: a.ngf,
            discriminator_width: a.ndf,
            ..ModelConfig::default()
        },
        out: a.out,
    };
    let r = interop::import(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![format!("wrote {}", r.checkpoint.display())]
    });
    Ok(())
}

pub fn run_export(a: ExportArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let r = interop::export(
        ExportConfig {
            checkpoint: a.checkpoint,
            out: a.out,
        },
        ui,
    )?;
    ui.report(&r, a.json.json, |r| {
        r.written
            .iter()
            .map(|p| format!("wrote {}", p.display()))
            .collect()
    });
    Ok(())
}
