//! `dcgan`: the command-line tool. Parse → resolve into the library's config → one library call →
//! exit code (0 success, 1 the job failed, 2 bad usage or input, 130 interrupted).

/// `println!` for what the tool prints on stdout. A closed pipe (`dcgan bench | head -1`) ends
/// the process quietly; any other failure to write (`dcgan … --json > /dev/full`) is a failed
/// job, reported on stderr with exit code 1, so a lost report never passes for a success.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            crate::stdout_failed(e);
        }
    }};
}

/// `eprintln!` that never panics: a closed pipe silences stderr from then on; any other failure
/// to write marks the job failed (exit code 1 at the end, see [`stderr_failed`]).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stderr(), $($arg)*) {
            crate::note_stderr_error(e);
        }
    }};
}
pub(crate) use errln;

static STDERR_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Stdout could not be written: see [`outln`].
pub(crate) fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    errln!("dcgan: error: writing to standard output: {e}");
    std::process::exit(1);
}

/// Stderr could not be written: remembered (there is nowhere to say it), unless the pipe closed.
pub(crate) fn note_stderr_error(e: std::io::Error) {
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        STDERR_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether a message on stderr was lost to something other than a closed pipe.
fn stderr_failed() -> bool {
    STDERR_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) use outln;

mod commands;
mod ui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// DCGAN (Radford, Metz & Chintala, ICLR 2016): train, sample, and move weights to and from PyTorch.
#[derive(Parser)]
#[command(name = "dcgan", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    locations: LocationArgs,
    /// What images with transparency (RGBA, grey + alpha) are composited over: white, black or
    /// R,G,B [default: white, as icons, emoji and clip art are drawn to be seen on a light
    /// page]. Transparent pixels keep arbitrary colours, which would otherwise be trained on.
    /// Every command that reads images uses it; a resumed run keeps the one it started with.
    #[arg(long, global = true, value_name = "COLOUR", value_parser = parse_background)]
    background: Option<dcgan::config::Background>,
    /// Use the trained G of checkpoints that also hold an averaged one (`train --ema-decay`):
    /// sample, generate, fid, export-* and the explorers use the average otherwise.
    #[arg(long, global = true)]
    raw_generator: bool,
}

fn parse_background(s: &str) -> Result<dcgan::config::Background, String> {
    s.parse().map_err(|e: dcgan::Error| e.to_string())
}

/// Where named data sets and fetched files are: resolved here, at the boundary, and handed to
/// the library as `dcgan::data::download::Locations`.
#[derive(clap::Args)]
struct LocationArgs {
    /// Folder searched first for named data sets (DIR/fashion-mnist, DIR/mnist).
    #[arg(long, global = true, env = "DCGAN_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Cache for downloaded data sets and the FID weights
    /// [default: $XDG_CACHE_HOME/dcgan, else ~/.cache/dcgan].
    #[arg(long, global = true, env = "DCGAN_CACHE", value_name = "DIR")]
    cache_dir: Option<std::path::PathBuf>,
    /// Download named data sets from this base address instead of their own.
    #[arg(long, global = true, env = "DCGAN_MIRROR", value_name = "URL")]
    mirror: Option<String>,
}

impl LocationArgs {
    fn resolve(self) -> dcgan::data::download::Locations {
        use dcgan::data::download::Locations;
        let cache = self.cache_dir.unwrap_or_else(|| {
            Locations::conventional_cache(
                std::env::var_os("XDG_CACHE_HOME").map(Into::into),
                std::env::var_os("HOME").map(Into::into),
            )
        });
        Locations {
            data_dir: self.data_dir,
            mirrors: self.mirror.into_iter().collect(),
            ..Locations::with_cache(cache)
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train a DCGAN on a folder of images or a data set, or resume a run.
    Train(Box<commands::train::TrainArgs>),
    /// Write a grid of samples from a trained generator.
    Sample(commands::sample::SampleArgs),
    /// Run the generator on latents from a .npy file; write raw output (.npy) or PNGs.
    Generate(commands::sample::GenerateArgs),
    /// Read pytorch/examples DCGAN state dicts (safetensors) into a checkpoint.
    ImportTorch(commands::interop::ImportArgs),
    /// Write a checkpoint's networks as pytorch/examples state dicts (safetensors).
    ExportTorch(commands::interop::ExportArgs),
    /// Write a checkpoint's generator as an ONNX model (inference mode, any batch size).
    ExportOnnx(commands::interop::ExportOnnxArgs),
    /// Write a checkpoint's generator alone, without D and the optimisers: the file to publish.
    ExportGenerator(commands::interop::ExportGeneratorArgs),
    /// Write a static site that runs the generator in the browser (WebAssembly): samples, walks.
    ExportWeb(commands::web::ExportWebArgs),
    /// Show training runs live in the browser: sample grids, curves, the explorer (read-only).
    Serve(commands::serve::ServeArgs),
    /// Both half-steps' gradients at a checkpoint, as PyTorch state dicts, to compare with PyTorch.
    Grads(commands::interop::GradsArgs),
    /// Train on given batches and latents from a checkpoint, nothing random: a trajectory to compare with PyTorch's.
    Replay(commands::interop::ReplayArgs),
    /// D's features of every layer, max-pooled to 4×4 (paper §5.1), with the data's labels.
    Features(commands::features::FeaturesArgs),
    /// FID and KID (Inception-v3, TF FID weights): a generator against data, or two image sets.
    Fid(commands::fid::FidArgs),
    /// The paper's evaluation on labelled data: linear SVMs on D's features and baselines.
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Data-set tools: info, preview, export.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Measure training and sampling speed, data loading and memory.
    Bench(commands::bench::BenchArgs),
    /// Walk through latent space between random or given points (paper Fig. 4): grid and GIF.
    Interpolate(commands::explore::InterpolateArgs),
    /// Concept vectors and their arithmetic, and the turn vector (paper Figs. 7, 8).
    Arithmetic(commands::explore::ArithmeticArgs),
    /// Guided backpropagation on D's last-layer features, trained vs random weights (paper Fig. 5).
    VisualizeD(commands::explore::VisualizeDArgs),
    /// Drop G's feature maps that draw a boxed object and draw again (paper Fig. 6).
    Forget(commands::explore::ForgetArgs),
    /// The nearest training images of samples, in pixels and D features: a memorisation check.
    Neighbours(commands::explore::NeighboursArgs),
}

/// burn's CPU backend allocates a fresh tensor for every operation, most of them 4–64 MB.
/// glibc serves those with mmap and returns them to the system on free, so every operation pays
/// page faults; mimalloc with purging off keeps freed memory for the next tensor instead.
/// Measured on the 64×64 training step (docs/performance.md, "The allocator"): 4 % more images
/// a second than glibc with raised mmap/trim thresholds (which needed the binary to re-execute
/// itself, as glibc reads them only at start), about 20 % more than mimalloc's default purging.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3); libmimalloc-sys does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Turn mimalloc's purging off (a delay of −1), unless the user set `MIMALLOC_PURGE_DELAY`.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set stores one option value and is not thread safe; this runs first
    // in main, before the program starts a thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1)
    };
}

fn main() -> ExitCode {
    keep_freed_memory();
    // clap prints help, versions and usage errors itself; their write errors are ours to report.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Err(w) = e.print() {
                if e.use_stderr() {
                    note_stderr_error(w);
                    return ExitCode::from(1);
                }
                stdout_failed(w);
            }
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    dcgan::checkpoint::prefer_raw_generator(cli.raw_generator);
    let ui = &mut ui::Ui::new(cli.locations.resolve(), cli.background);
    let result = match cli.command {
        Command::Train(a) => commands::train::run(*a, ui),
        Command::Sample(a) => commands::sample::run_sample(a, ui),
        Command::Generate(a) => commands::sample::run_generate(a, ui),
        Command::ImportTorch(a) => commands::interop::run_import(a, ui),
        Command::ExportTorch(a) => commands::interop::run_export(a, ui),
        Command::ExportOnnx(a) => commands::interop::run_export_onnx(a, ui),
        Command::ExportGenerator(a) => commands::interop::run_export_generator(a, ui),
        Command::Grads(a) => commands::interop::run_grads(a, ui),
        Command::Replay(a) => commands::interop::run_replay(a, ui),
        Command::ExportWeb(a) => commands::web::run_export_web(a, ui),
        Command::Serve(a) => commands::serve::run(a, ui),
        Command::Bench(a) => commands::bench::run(a, ui),
        Command::Data(c) => commands::data::run(c, ui),
        Command::Features(a) => commands::features::run(a, ui),
        Command::Fid(a) => commands::fid::run(a, ui),
        Command::Eval(c) => commands::eval::run(c, ui),
        Command::Interpolate(a) => commands::explore::run_interpolate(a, ui),
        Command::Arithmetic(a) => commands::explore::run_arithmetic(a, ui),
        Command::VisualizeD(a) => commands::explore::run_visualize_d(a, ui),
        Command::Forget(a) => commands::explore::run_forget(a, ui),
        Command::Neighbours(a) => commands::explore::run_neighbours(a, ui),
    };
    ui.clear();
    let code = match result {
        Ok(()) => 0,
        Err(e @ dcgan::Error::Interrupted) => {
            errln!("dcgan: {e}");
            e.exit_code()
        }
        Err(e) => {
            errln!("dcgan: error: {e}");
            e.exit_code()
        }
    };
    if let Err(e) = std::io::Write::flush(&mut std::io::stdout()) {
        stdout_failed(e);
    }
    if code == 0 && stderr_failed() {
        return ExitCode::from(1);
    }
    ExitCode::from(code)
}
