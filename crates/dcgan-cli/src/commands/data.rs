use std::path::PathBuf;

use clap::{Args, Subcommand};
use dcgan::Result;
use dcgan::data::{self, Transform, tools};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Count the items, their sizes, channels, classes and unreadable files.
    Info(InfoArgs),
    /// A grid of random items, prepared as a model would see them.
    Preview(PreviewArgs),
    /// Write the items to a folder (an LMDB's stored bytes as they are).
    Export(ExportArgs),
}

#[derive(Args)]
pub struct InfoArgs {
    pub data: String,
    /// Examine only the first N items.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PreviewArgs {
    pub data: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Side of each tile (shorter side resized, centre crop).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Tiles' channels: 1 or 3 (default: the data's).
    #[arg(long)]
    pub channels: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args)]
pub struct ExportArgs {
    pub data: String,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info(a) => {
            let ds = data::open(&a.data)?;
            let info = tools::info(&*ds, a.limit);
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&info).expect("json"));
                return Ok(());
            }
            outln!("{}", info.description);
            outln!("items: {} (examined {})", info.items, info.examined);
            let top = |m: &std::collections::BTreeMap<String, usize>| {
                let mut v: Vec<_> = m.iter().collect();
                v.sort_by(|a, b| b.1.cmp(a.1));
                v.iter()
                    .take(8)
                    .map(|(k, n)| format!("{k} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            outln!(
                "sizes: {}{}",
                top(&info.sizes),
                if info.sizes.len() > 8 {
                    format!(", ... ({} sizes)", info.sizes.len())
                } else {
                    String::new()
                }
            );
            outln!("channels: {}", top(&info.channels));
            if !info.classes.is_empty() {
                outln!(
                    "classes ({}): {}",
                    info.classes.len(),
                    info.classes
                        .iter()
                        .map(|(k, n)| format!("{k} ({n})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            outln!("unreadable: {}", info.unreadable);
            for e in &info.unreadable_examples {
                outln!("  {e}");
            }
            Ok(())
        }
        DataCommand::Preview(a) => {
            let ds = data::open(&a.data)?;
            let channels = a.channels.unwrap_or_else(|| data::natural_channels(&*ds));
            let t = Transform {
                size: a.size,
                channels,
            };
            let (n, images) = tools::preview(&*ds, a.n, t, a.seed);
            if n == 0 {
                return Err(dcgan::Error::Data(format!(
                    "{}: no readable image to preview",
                    a.data
                )));
            }
            dcgan::viz::save_grid(&a.out, &images, n, channels, a.size, 0)?;
            outln!(
                "wrote {} ({n} images of {})",
                a.out.display(),
                ds.describe()
            );
            Ok(())
        }
        DataCommand::Export(a) => {
            let path = std::path::Path::new(&a.data);
            // An LMDB environment can be open once per process: use the one handle for both.
            let (written, bad) = if data::lmdb::is_lmdb(path) {
                let db = data::lmdb::Lmdb::open(path)?;
                tools::export(&db, Some(&db), &a.out, a.limit)?
            } else {
                tools::export(&*data::open(&a.data)?, None, &a.out, a.limit)?
            };
            outln!(
                "wrote {written} images to {}{}",
                a.out.display(),
                if bad > 0 {
                    format!("; {bad} unreadable skipped")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
    }
}
