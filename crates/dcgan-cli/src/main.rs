//! `dcgan`: the command-line tool. Parse → resolve into the library's config → one library call →
//! exit code (0 success, 1 the job failed, 2 bad usage or input, 130 interrupted).

mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// DCGAN (Radford, Metz & Chintala, ICLR 2016): train, sample, and move weights to and from PyTorch.
#[derive(Parser)]
#[command(name = "dcgan", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a DCGAN on a folder of images or a data set, or resume a run.
    Train(commands::train::TrainArgs),
    /// Write a grid of samples from a trained generator.
    Sample(commands::sample::SampleArgs),
    /// Run the generator on latents from a .npy file; write raw output (.npy) or PNGs.
    Generate(commands::sample::GenerateArgs),
    /// Read pytorch/examples DCGAN state dicts (safetensors) into a checkpoint.
    ImportTorch(commands::interop::ImportArgs),
    /// Write a checkpoint's networks as pytorch/examples state dicts (safetensors).
    ExportTorch(commands::interop::ExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => commands::train::run(a),
        Command::Sample(a) => commands::sample::run_sample(a),
        Command::Generate(a) => commands::sample::run_generate(a),
        Command::ImportTorch(a) => commands::interop::run_import(a),
        Command::ExportTorch(a) => commands::interop::run_export(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(dcgan::Error::Interrupted) => {
            eprintln!(
                "dcgan: interrupted; the run was checkpointed and continues with `dcgan train --resume`"
            );
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("dcgan: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
