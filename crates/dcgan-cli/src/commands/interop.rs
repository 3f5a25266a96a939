use std::path::PathBuf;

use clap::Args;
use dcgan::config::ModelConfig;
use dcgan::train::Checkpoint;

#[derive(Args)]
pub struct ImportArgs {
    /// The generator's state dict (keys main.N.*) as safetensors.
    #[arg(long)]
    pub generator: PathBuf,
    /// The discriminator's state dict, if there is one.
    #[arg(long)]
    pub discriminator: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    pub image_size: usize,
    #[arg(long, default_value_t = 100)]
    pub nz: usize,
    #[arg(long, default_value_t = 64)]
    pub ngf: usize,
    #[arg(long, default_value_t = 64)]
    pub ndf: usize,
    #[arg(long, default_value_t = 3)]
    pub nc: usize,
    /// The checkpoint file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ExportArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Folder for netG.safetensors and netD.safetensors.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run_import(a: ImportArgs) -> dcgan::Result<()> {
    let model = ModelConfig {
        image_size: a.image_size,
        channels: a.nc,
        latent_dim: a.nz,
        generator_width: a.ngf,
        discriminator_width: a.ndf,
        ..ModelConfig::default()
    };
    dcgan::interop::import_torch(&model, &a.generator, a.discriminator.as_deref(), &a.out)?;
    crate::outln!("wrote {}", a.out.display());
    Ok(())
}

pub fn run_export(a: ExportArgs) -> dcgan::Result<()> {
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    for p in dcgan::interop::export_torch(&ckpt, &a.out)? {
        crate::outln!("wrote {}", p.display());
    }
    Ok(())
}
