use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use dcgan::data::{Dataset, Transform};
use dcgan::eval::features;
use dcgan::train::Checkpoint;
use dcgan::{Error, Result};

#[derive(Args)]
pub struct FeaturesArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The images to describe (labels come from the data set).
    #[arg(long)]
    pub data: String,
    /// `FILE.npy`: float32 (N, 16·Σ channels); labels go to `FILE.labels.npy` (int64, −1: none).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Re-estimate BatchNorm statistics over this data (as the authors' SVHN script) from at most
    /// this many batches; 0 keeps the checkpoint's running statistics.
    #[arg(long, default_value_t = 50)]
    pub reestimate_batches: usize,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

pub fn run(a: FeaturesArgs) -> Result<()> {
    let device = dcgan::device::by_name(&a.device)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let m = ckpt.model().clone();
    let d = ckpt.discriminator(&device)?;
    let ds: Arc<dyn Dataset> = Arc::from(dcgan::data::open(&a.data)?);
    let t = Transform {
        size: m.image_size,
        channels: m.channels,
    };
    let started = std::time::Instant::now();
    if a.reestimate_batches > 0 {
        let n = features::reestimate_batchnorm(
            &d,
            ds.clone(),
            t,
            a.batch_size,
            a.reestimate_batches,
            &device,
        )?;
        eprintln!(
            "BatchNorm statistics re-estimated over {n} batches of {}",
            ds.describe()
        );
    }
    let (dim, feats, labels) = features::extract(
        &d,
        ds.clone(),
        t,
        a.batch_size,
        &device,
        &mut crate::progress::counter("images"),
    )?;
    let n = labels.len();
    dcgan::io::npy::write(&a.out, &dcgan::io::HostTensor::new(vec![n, dim], feats))?;
    let name = a
        .out
        .file_stem()
        .ok_or_else(|| Error::config("out", a.out.display(), "needs a file name"))?;
    let lp = a
        .out
        .with_file_name(format!("{}.labels.npy", name.to_string_lossy()));
    dcgan::io::npy::write_i64(&lp, &[n], &labels)?;
    crate::outln!(
        "wrote {} ({n} × {dim} features) and {} in {:.1} s",
        a.out.display(),
        lp.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
