//! `dcgan import-torch`, `dcgan export-torch`, `dcgan export-onnx`, `dcgan export-generator`,
//! `dcgan grads` and `dcgan replay`.

use std::path::PathBuf;

use clap::Args;
use dcgan::config::ModelConfig;
use dcgan::io::onnx;
use dcgan::tasks::interop::{
    self, ExportGeneratorConfig, ExportOnnxConfig, ExportTorchConfig, GradsConfig, ImportConfig,
    ReplayConfig,
};

use super::common::{DeviceArg, JsonArg};
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
    /// A class-conditional pair's class names, comma-separated: G's first layer then takes
    /// nz + K inputs (z, then the class one-hot) and D's state dict holds `embed.weight`, its
    /// projection embedding (K × the last hidden layer's width).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub classes: Vec<String>,
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

/// G in inference mode as ONNX: input `z` (batch, nz), output `image` (batch, nc, size, size)
/// in [-1, 1], the batch size left open.
#[derive(Args)]
pub struct ExportOnnxArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The .onnx file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// ONNX opset, 9 to 23 (17: read by every maintained runtime, and torch.onnx's default).
    #[arg(long, default_value_t = onnx::DEFAULT_OPSET, allow_negative_numbers = true)]
    pub opset: i64,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_export_onnx(a: ExportOnnxArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let r = interop::export_onnx(
        ExportOnnxConfig {
            checkpoint: a.checkpoint,
            out: a.out,
            opset: a.opset,
        },
        ui,
    )?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} (opset {}, G after {} steps; input {} [{}], output {} [{}])",
            r.written.display(),
            r.opset,
            r.step,
            r.input.0,
            r.input.1.join(", "),
            r.output.0,
            r.output.1.join(", ")
        )]
    });
    Ok(())
}

/// G (and its average, with `train --ema-decay`) with the run's config and step, in the checkpoint
/// format, without D and the optimisers' moments: about a quarter of the checkpoint. `sample`,
/// `generate`, `fid`, the explorers and `export-*` read it and give what the full checkpoint gives,
/// to the bit; `train --resume` refuses it.
#[derive(Args)]
pub struct ExportGeneratorArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The checkpoint file to write (not the one read).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_export_generator(a: ExportGeneratorArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let r = interop::export_generator(
        ExportGeneratorConfig {
            checkpoint: a.checkpoint,
            out: a.out,
        },
        ui,
    )?;
    ui.report(&r, a.json.json, |r| {
        vec![format!(
            "wrote {} (G{} after {} steps; {:.1} MB of {:.1} MB)",
            r.written.display(),
            if r.averaged { " and its average" } else { "" },
            r.step,
            r.bytes as f64 / 1e6,
            r.source_bytes as f64 / 1e6
        )]
    });
    Ok(())
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
            classes: a.classes,
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
        ExportTorchConfig {
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

/// The gradients of D's objective BCE(D(x), 1) + BCE(D(G(z)), 0) and of G's BCE(D(G(z)), 1)
/// through the same D (or those of `--loss`), at the checkpoint's weights, both networks in
/// training mode, no optimizer step: DIR/grads_d.safetensors, DIR/grads_g.safetensors
/// (pytorch/examples keys and layouts) and DIR/losses.json.
#[derive(Args)]
pub struct GradsArgs {
    #[command(flatten)]
    pub inputs: BatchInputs,
    /// The objective: bce (the paper's), hinge or lsgan; the checkpoint's run's by default.
    #[arg(long, value_name = "LOSS")]
    pub loss: Option<String>,
    /// A class-conditional model's classes of the batch: .npy of N integers (the real images'
    /// classes, and the classes the fakes are drawn for).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Folder for the gradient files.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub json: JsonArg,
}

/// A checkpoint with both networks, real images and one latent per image: what `grads` and
/// `replay` run on.
#[derive(Args)]
pub struct BatchInputs {
    /// A run directory (its newest checkpoint) or a checkpoint file, with a discriminator.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The real images: .npy of shape (N, channels, size, size) in [-1, 1] (for replay, every
    /// iteration's batch in order, N = K * B).
    #[arg(long)]
    pub real: PathBuf,
    /// One latent per image, in the same order: .npy of shape (N, nz) or (N, nz, 1, 1).
    #[arg(long)]
    pub latent: PathBuf,
}

pub fn run_grads(a: GradsArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let loss = a
        .loss
        .as_deref()
        .map(dcgan::config::Loss::parse)
        .transpose()?;
    let r = interop::grads(
        GradsConfig {
            checkpoint: a.inputs.checkpoint,
            real: a.inputs.real,
            latent: a.inputs.latent,
            out: a.out,
            device: a.device.device,
            loss,
            labels: a.labels,
        },
        ui,
    )?;
    ui.report(&r, a.json.json, |r| {
        let mut lines = vec![format!(
            "losses: D real {:.6}, D fake {:.6}, G {:.6} (D(x) {:.4}, D(G(z)) {:.4})",
            r.err_d_real, r.err_d_fake, r.err_g, r.d_real, r.d_fake
        )];
        lines.extend(r.written.iter().map(|p| format!("wrote {}", p.display())));
        lines
    });
    Ok(())
}

/// Train from a checkpoint's weights on given batches and latents, with nothing random: K
/// iterations of the training loop's own step (D on the real batch and G(z) detached, then G
/// through the updated D) and Adam (fresh if the checkpoint has no optimizer state). Writes
/// DIR/steps.jsonl (each iteration's losses and D outputs) and the final weights as
/// pytorch/examples state dicts, to compare a trajectory with PyTorch's
/// (scripts/replay_vs_torch.py).
#[derive(Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub inputs: BatchInputs,
    /// B, the images of one iteration.
    #[arg(long)]
    pub batch_size: usize,
    /// Folder for steps.jsonl, netG.safetensors and netD.safetensors.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub device: DeviceArg,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_replay(a: ReplayArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let r = interop::replay(
        ReplayConfig {
            checkpoint: a.inputs.checkpoint,
            real: a.inputs.real,
            latent: a.inputs.latent,
            batch_size: a.batch_size,
            out: a.out,
            device: a.device.device,
        },
        ui,
    )?;
    ui.report(&r, a.json.json, |r| {
        let s = r.last;
        let mut lines = vec![format!(
            "{} iteration{}; the last: loss D {:.6}, loss G {:.6}, D(x) {:.4}, D(G(z)) {:.4} / {:.4}",
            r.steps,
            if r.steps == 1 { "" } else { "s" },
            s.loss_d, s.loss_g, s.d_real, s.d_fake, s.d_fake_after
        )];
        lines.extend(r.written.iter().map(|p| format!("wrote {}", p.display())));
        lines
    });
    Ok(())
}
