use std::path::PathBuf;

use clap::Args;
use dcgan::model::BnMode;
use dcgan::train::Checkpoint;

#[derive(Args)]
pub struct SampleArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Number of samples.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the latents.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also save the latents as .npy (N, nz), for `generate`, interpolation, arithmetic.
    #[arg(long)]
    pub save_latents: Option<PathBuf>,
    /// Images per row (0: square grid).
    #[arg(long, default_value_t = 0)]
    pub per_row: usize,
    /// Normalise G's BatchNorm with the batch's statistics instead of the running ones.
    #[arg(long)]
    pub batch_stats: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Latents, .npy of shape (N, nz) or (N, nz, 1, 1).
    #[arg(long)]
    pub latent: PathBuf,
    /// `out.npy`: G's raw output, float32 (N, nc, H, W) in [-1, 1]; `DIR/`: one PNG per image.
    #[arg(long)]
    pub out: PathBuf,
    /// Normalise G's BatchNorm with the batch's statistics instead of the running ones.
    #[arg(long)]
    pub batch_stats: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

fn mode(batch_stats: bool) -> BnMode {
    if batch_stats {
        BnMode::BatchStats
    } else {
        BnMode::Eval
    }
}

pub fn run_sample(a: SampleArgs) -> dcgan::Result<()> {
    let device = dcgan::device::by_name(&a.device)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let m = ckpt.model().clone();
    let (images, z) = dcgan::sample::sample(&ckpt, a.n, a.seed, mode(a.batch_stats), &device)?;
    dcgan::viz::save_grid(&a.out, &images, a.n, m.channels, m.image_size, a.per_row)?;
    crate::outln!(
        "wrote {} samples from {} to {}",
        a.n,
        ckpt.path.display(),
        a.out.display()
    );
    if let Some(p) = &a.save_latents {
        dcgan::io::npy::write(p, &dcgan::io::HostTensor::new(vec![a.n, m.latent_dim], z))?;
        crate::outln!("latents: {}", p.display());
    }
    Ok(())
}

pub fn run_generate(a: GenerateArgs) -> dcgan::Result<()> {
    let device = dcgan::device::by_name(&a.device)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let m = ckpt.model().clone();
    let (n, images) =
        dcgan::sample::generate_from_file(&ckpt, &a.latent, mode(a.batch_stats), &device)?;
    let as_dir = a.out.to_string_lossy().ends_with('/') || a.out.is_dir();
    if as_dir {
        dcgan::sample::save_pngs(&a.out, &images, n, m.channels, m.image_size)?;
    } else {
        dcgan::sample::save_npy(&a.out, &images, n, m.channels, m.image_size)?;
    }
    crate::outln!("wrote {n} images to {}", a.out.display());
    Ok(())
}
