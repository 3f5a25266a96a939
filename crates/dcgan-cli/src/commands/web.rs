//! `dcgan export-web`: argument parsing and rendering; the work is in `dcgan::tasks::web`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use dcgan::tasks::web::{self, ExportWebConfig};
use dcgan::web::Precision;

use super::common::JsonArg;
use crate::ui::Ui;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// The checkpoint's weights exactly.
    F32,
    /// Half the download; pixels move by about 1e-5 (docs/web.md).
    F16,
}

#[derive(Args)]
pub struct ExportWebArgs {
    /// A run directory (its newest checkpoint) or a checkpoint file.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Folder for the site (new or empty, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// How the weights are stored.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: PrecisionArg,
    /// Write into a folder that is not empty.
    #[arg(long)]
    pub force: bool,
    /// The web bundle built by `bash scripts/build-web.sh` [default: $DCGAN_WEB_BUNDLE, else
    /// target/web beside this binary's folder].
    #[arg(long, env = "DCGAN_WEB_BUNDLE", value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run_export_web(a: ExportWebArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let exe = std::env::current_exe().ok();
    let config = ExportWebConfig {
        checkpoint: a.checkpoint,
        out: a.out,
        precision: match a.precision {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F16 => Precision::F16,
        },
        force: a.force,
        bundle: web::default_bundle(exe.as_deref(), a.bundle),
    };
    let r = web::export_web(config, ui)?;
    ui.report(&r, a.json.json, |r| {
        vec![
            format!(
                "wrote the explorer to {} ({} weights: {:.1} MB; WebAssembly: {:.1} MB)",
                r.out.display(),
                r.precision.name(),
                r.weights_bytes as f64 / 1e6,
                r.wasm_bytes as f64 / 1e6
            ),
            format!(
                "serve it with any static HTTP server, e.g. `python3 -m http.server -d {}`",
                r.out.display()
            ),
        ]
    });
    Ok(())
}
