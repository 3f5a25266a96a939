//! One error type for the library. Every error that concerns a file names it.

use std::path::{Path, PathBuf};

/// Errors of the dcgan library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A file exists but its contents are not what the reader expects.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A checkpoint or weight file does not fit the configured architecture.
    #[error("{}: does not match the model: {message}", path.display())]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("invalid {name} {value}: {reason}")]
    Config {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// The data set cannot be used (empty, too many unreadable images, ...).
    #[error("{0}")]
    Data(String),
    /// Training produced a non-finite loss.
    #[error(
        "training diverged at step {step}: {what} = {value}; stopped, {last_checkpoint} (lower the learning rate in config.json and resume)"
    )]
    Diverged {
        /// The step whose loss was not finite.
        step: u64,
        /// Which loss.
        what: &'static str,
        /// Its value.
        value: f32,
        /// What the last checkpoint was, to resume from.
        last_checkpoint: String,
    },
    /// A job that started on good input could not finish: a server that stopped, a thread
    /// pool that could not start. Not the user's input, so not [`Error::Config`] or
    /// [`Error::Data`].
    #[error("{0}")]
    Failed(String),
    /// Training was asked to stop (Ctrl-C) after writing a checkpoint.
    #[error("interrupted; the run was checkpointed and continues with `dcgan train --resume`")]
    Interrupted,
}

impl Error {
    /// Reading or writing `path` failed.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// `path` exists but does not hold what its reader expects.
    pub fn format(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// `path` does not fit the configured architecture.
    pub fn mismatch(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Mismatch {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// The configuration value `name` = `value` is out of range, and why.
    pub fn config(name: &'static str, value: impl ToString, reason: impl Into<String>) -> Self {
        Error::Config {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// Exit code of a job that failed while running.
    pub const EXIT_FAILED: u8 = 1;
    /// Exit code of bad input: a file, a value, a data set.
    pub const EXIT_BAD_INPUT: u8 = 2;
    /// Exit code of a job stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
    pub const EXIT_INTERRUPTED: u8 = 130;

    /// The process exit code a command-line front end should use:
    /// [`Error::EXIT_BAD_INPUT`] for bad input (files, values), [`Error::EXIT_FAILED`] for a job
    /// that failed while running, [`Error::EXIT_INTERRUPTED`] after Ctrl-C.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted => Self::EXIT_INTERRUPTED,
            Error::Diverged { .. } | Error::Failed(_) => Self::EXIT_FAILED,
            Error::Io { source, .. } if is_disk_full(source) => Self::EXIT_FAILED,
            _ => Self::EXIT_BAD_INPUT,
        }
    }
}

fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an `io::Result`.
pub trait IoContext<T> {
    /// Attach `path` to an I/O error.
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rule for every command: bad input 2, a job that failed 1, Ctrl-C 130.
    #[test]
    fn exit_codes() {
        let full = std::io::Error::from_raw_os_error(28);
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        for (e, code) in [
            (Error::config("batch size", 0, "must be at least 2"), 2),
            (Error::format("x.npy", "not an npy file"), 2),
            (Error::mismatch("x.safetensors", "keys"), 2),
            (Error::Data("empty".into()), 2),
            (Error::io("missing.png", missing), 2),
            (Error::io("out.png", full), 1),
            (Error::Failed("the HTTP server stopped: gone".into()), 1),
            (
                Error::Diverged {
                    step: 3,
                    what: "loss_d",
                    value: f32::NAN,
                    last_checkpoint: String::new(),
                },
                1,
            ),
            (Error::Interrupted, 130),
        ] {
            assert_eq!(e.exit_code(), code, "{e}");
        }
    }
}
