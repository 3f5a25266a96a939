use clap::{Args, ValueEnum};
use dcgan::bench::{self, Timing};
use dcgan::config::ModelConfig;
use dcgan::data::Transform;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Part {
    Train,
    Generate,
    Loader,
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 64)]
    pub image_size: usize,
    #[arg(long, default_value_t = 3)]
    pub channels: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 100)]
    pub latent_dim: usize,
    #[arg(long, alias = "ngf", default_value_t = 64)]
    pub generator_width: usize,
    #[arg(long, alias = "ndf", default_value_t = 64)]
    pub discriminator_width: usize,
    #[arg(long, default_value_t = 4)]
    pub kernel_size: usize,
    /// Timed repetitions of each measurement.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Untimed repetitions first.
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// Data sources for the loader measurement (repeatable).
    #[arg(long)]
    pub data: Vec<String>,
    /// Batches the loader measurement reads per run.
    #[arg(long, default_value_t = 20)]
    pub loader_batches: usize,
    /// Decoding threads for the loader (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Measure only these parts (repeatable; default: all).
    #[arg(long, value_enum)]
    pub only: Vec<Part>,
    /// Instead: time each operation of the training iteration alone (where the time goes).
    #[arg(long)]
    pub profile: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "flex")]
    pub device: String,
}

fn line(name: &str, t: &Timing) -> String {
    format!(
        "{name:<28} median {:>9.4} s  min {:>9.4} s  {:>9.1} img/s (best {:.1})  [{} runs]",
        t.median_s, t.min_s, t.items_per_s_median, t.items_per_s_best, t.runs
    )
}

pub fn run(a: BenchArgs) -> dcgan::Result<()> {
    let model = ModelConfig {
        image_size: a.image_size,
        channels: a.channels,
        latent_dim: a.latent_dim,
        generator_width: a.generator_width,
        discriminator_width: a.discriminator_width,
        kernel_size: a.kernel_size,
        ..ModelConfig::default()
    };
    model.validate()?;
    if a.runs == 0 {
        return Err(dcgan::Error::config("runs", 0, "must be positive"));
    }
    let device = dcgan::device::by_name(&a.device)?;
    if a.profile {
        return print_profile(&model, &a, &device);
    }
    let want = |p: Part| a.only.is_empty() || a.only.contains(&p);
    let mut report = json!({
        "model": model,
        "batch_size": a.batch_size,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "device": a.device,
    });
    if want(Part::Generate) {
        let b1 = bench::generate(&model, 1, a.warmup, a.runs, &device);
        let bn = bench::generate(&model, a.batch_size, a.warmup, a.runs, &device);
        if !a.json {
            crate::outln!("{}", line("generate, batch 1", &b1));
            crate::outln!(
                "{}",
                line(&format!("generate, batch {}", a.batch_size), &bn)
            );
        }
        report["generate_batch1"] = json!(b1);
        report["generate"] = json!(bn);
        report["peak_rss_mib_after_generate"] = json!(bench::peak_rss_mib());
    }
    if want(Part::Train) {
        let t = bench::train(&model, a.batch_size, a.warmup, a.runs, &device);
        if !a.json {
            crate::outln!("{}", line(&format!("train, batch {}", a.batch_size), &t));
        }
        report["train"] = json!(t);
        report["peak_rss_mib_after_train"] = json!(bench::peak_rss_mib());
    }
    if want(Part::Loader) {
        let mut loaders = Vec::new();
        let transform = Transform {
            size: a.image_size,
            channels: a.channels,
        };
        for source in &a.data {
            let (described, t) = bench::loader(
                source,
                transform,
                a.batch_size,
                a.loader_batches,
                a.workers,
                a.runs,
            )?;
            if !a.json {
                crate::outln!("{}", line(&format!("loader, {source}"), &t));
            }
            loaders.push(json!({"source": source, "described": described, "timing": t}));
        }
        report["loader"] = json!(loaders);
    }
    report["peak_rss_mib"] = json!(bench::peak_rss_mib());
    if a.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report).expect("json"));
    } else if let Some(m) = bench::peak_rss_mib() {
        crate::outln!("peak RSS {m:.0} MiB");
    }
    Ok(())
}

fn print_profile(
    model: &ModelConfig,
    a: &BenchArgs,
    device: &dcgan::device::Device,
) -> dcgan::Result<()> {
    let ops = bench::profile(model, a.batch_size, a.runs, device);
    let total: f64 = ops.iter().map(|o| o.seconds * o.per_iteration as f64).sum();
    if a.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"model": model, "batch_size": a.batch_size, "ops": ops, "sum_s": total})
            )
            .expect("json")
        );
        return Ok(());
    }
    crate::outln!(
        "{:<26} {:<32} {:>10} {:>6} {:>11} {:>7}",
        "category",
        "op",
        "s/call",
        "calls",
        "s/iter",
        "share"
    );
    for o in &ops {
        let t = o.seconds * o.per_iteration as f64;
        crate::outln!(
            "{:<26} {:<32} {:>10.5} {:>6} {:>11.4} {:>6.1}%",
            o.category,
            o.name,
            o.seconds,
            o.per_iteration,
            t,
            100.0 * t / total
        );
    }
    crate::outln!();
    let mut cats: Vec<&str> = ops.iter().map(|o| o.category).collect();
    cats.dedup();
    cats.sort();
    cats.dedup();
    for c in cats {
        let t: f64 = ops
            .iter()
            .filter(|o| o.category == c)
            .map(|o| o.seconds * o.per_iteration as f64)
            .sum();
        crate::outln!("{c:<26} {t:>10.4} s/iter {:>6.1}%", 100.0 * t / total);
    }
    crate::outln!(
        "{:<26} {total:>10.4} s/iter (sum of the ops timed alone)",
        "all"
    );
    Ok(())
}
