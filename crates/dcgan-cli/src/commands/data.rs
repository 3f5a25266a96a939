use std::path::PathBuf;

use clap::{Args, Subcommand};
use dcgan::Result;
use std::sync::Arc;

use dcgan::data::{self, Dataset, Transform, dedup, tools};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Count the items, their sizes, channels, classes and unreadable files.
    Info(InfoArgs),
    /// A grid of random items, prepared as a model would see them.
    Preview(PreviewArgs),
    /// Write the items to a folder (an LMDB's stored bytes as they are).
    Export(ExportArgs),
    /// Find near-duplicates with the paper's autoencoder hashing (§4.1.1).
    Dedup(DedupArgs),
    /// Measure de-duplication on a data set with planted near-duplicates, against a perceptual hash.
    DedupEval(DedupEvalArgs),
}

#[derive(Args)]
pub struct DedupArgs {
    pub data: String,
    /// Folder for report.json, groups.png and kept.txt.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Code bits (the paper: 128).
    #[arg(long, default_value_t = 128)]
    pub bits: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Groups shown in groups.png.
    #[arg(long, default_value_t = 16)]
    pub show: usize,
}

#[derive(Args)]
pub struct DedupEvalArgs {
    pub data: String,
    /// Near-duplicates to plant.
    #[arg(long, default_value_t = 500)]
    pub plant: usize,
    /// Use only the first N items of the data.
    #[arg(long, default_value_t = usize::MAX)]
    pub limit: usize,
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 128)]
    pub bits: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long)]
    pub json: bool,
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
        DataCommand::Dedup(a) => dedup(a),
        DataCommand::DedupEval(a) => dedup_eval(a),
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

fn dedup_config(epochs: usize, bits: usize, seed: u64) -> Result<dedup::DedupConfig> {
    if bits == 0 || bits > 128 {
        return Err(dcgan::Error::config("code bits", bits, "must be 1 to 128"));
    }
    Ok(dedup::DedupConfig {
        epochs,
        code_bits: bits,
        seed,
        ..dedup::DedupConfig::default()
    })
}

fn dedup(a: DedupArgs) -> Result<()> {
    let cfg = dedup_config(a.epochs, a.bits, a.seed)?;
    let ds: Arc<dyn Dataset> = Arc::from(data::open(&a.data)?);
    std::fs::create_dir_all(&a.out).map_err(|e| dcgan::Error::io(&a.out, e))?;
    let device = dcgan::device::by_name("flex")?;
    let (codes, mse) = dedup::codes(ds.clone(), &cfg, &device, &mut |e, l| {
        eprintln!("autoencoder epoch {e}: reconstruction MSE {l:.4}")
    })?;
    let groups = dedup::groups(&codes);
    let report = dedup::report(&a.data, &*ds, cfg.code_bits, mse, &groups);
    let rp = a.out.join("report.json");
    dcgan::io::atomic_write(
        &rp,
        serde_json::to_string_pretty(&report)
            .expect("json")
            .as_bytes(),
    )?;
    let excluded: std::collections::HashSet<usize> = report.excluded.iter().copied().collect();
    let kept: String = (0..ds.len())
        .filter(|i| !excluded.contains(i))
        .map(|i| ds.name(i) + "\n")
        .collect();
    let kp = a.out.join("kept.txt");
    dcgan::io::atomic_write(&kp, kept.as_bytes())?;
    let t = Transform {
        size: 32,
        channels: 3,
    };
    let rows: Vec<Vec<f32>> = groups
        .iter()
        .take(a.show)
        .map(|g| {
            g.iter()
                .take(8)
                .filter_map(|&i| ds.get(i).ok())
                .flat_map(|img| t.apply(&img))
                .collect()
        })
        .collect();
    let gp = a.out.join("groups.png");
    if !rows.is_empty() {
        dcgan::viz::save_rows(&gp, &rows, 3, 32)?;
    }
    outln!(
        "{} images, {} duplicate groups, {} images excluded; wrote {}, {}{}",
        ds.len(),
        groups.len(),
        report.excluded.len(),
        rp.display(),
        kp.display(),
        if rows.is_empty() {
            String::new()
        } else {
            format!(", {}", gp.display())
        }
    );
    Ok(())
}

fn dedup_eval(a: DedupEvalArgs) -> Result<()> {
    let cfg = dedup_config(a.epochs, a.bits, a.seed)?;
    let base = data::open(&a.data)?;
    let n = base.len().min(a.limit);
    let base: Arc<dyn Dataset> = if n < base.len() {
        let drop: Vec<usize> = (n..base.len()).collect();
        Arc::new(data::Subset::excluding(base, &drop, format!("first {n}")))
    } else {
        Arc::from(base)
    };
    let planted = Arc::new(dedup::Planted::new(base, a.plant, a.seed));
    let pairs = planted.pairs();
    let total = planted.len();
    let device = dcgan::device::by_name("flex")?;
    let t0 = std::time::Instant::now();
    let (codes, mse) = dedup::codes(planted.clone(), &cfg, &device, &mut |e, l| {
        eprintln!("autoencoder epoch {e}: reconstruction MSE {l:.4}")
    })?;
    let ae_secs = t0.elapsed().as_secs_f64();
    let ae = dedup::score(&dedup::groups(&codes), &pairs, total);
    let t1 = std::time::Instant::now();
    let ph = dedup::score(
        &dedup::groups(&dedup::phash_codes(&*planted)),
        &pairs,
        total,
    );
    let ph_secs = t1.elapsed().as_secs_f64();
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&serde_json::json!({"data": planted.describe(), "images": total, "config": cfg, "reconstruction_mse": mse, "autoencoder": ae, "autoencoder_seconds": ae_secs, "phash": ph, "phash_seconds": ph_secs})).expect("json"));
        return Ok(());
    }
    outln!("{} ({total} images)", planted.describe());
    for (name, s, secs) in [
        ("autoencoder, 128-bit codes", &ae, ae_secs),
        ("perceptual hash, 64 bits", &ph, ph_secs),
    ] {
        outln!(
            "{name:<28} recall {:.3} ({}/{} planted pairs)  flagged pairs {}  of which not planted {} ({:.4})  unplanted images flagged {:.4}  [{secs:.0} s]",
            s.recall,
            s.found,
            s.planted_pairs,
            s.flagged_pairs,
            s.false_pairs,
            s.false_positive_share,
            s.unplanted_flagged_rate
        );
        let by: Vec<String> = dedup::ALTERATIONS
            .iter()
            .zip(s.recall_by_alteration)
            .map(|(k, r)| format!("{k} {r:.3}"))
            .collect();
        outln!("{:<28} recall by alteration: {}", "", by.join(", "));
    }
    Ok(())
}
