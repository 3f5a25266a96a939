//! Time and memory of the near-duplicate search on many images (docs/data.md, "Scale").
//!
//! ```sh
//! cargo run --release -p dcgan --example dedup_scale -- CIFAR_TRAIN_FOLDER 100000 1000000
//! ```
//!
//! The images are generated: image k blends two of the folder's images (k mod m and a second
//! chosen by a multiplicative hash of k) with a weight from 0.3 to 0.7, so every image is
//! distinct, has natural-image statistics, and the hash tables see realistic codes. Every
//! 100th image is also followed by a copy of itself brightened by 8 levels, so the search has
//! pairs to find. Prints, per size: seconds for the signatures and for the search, the index's
//! bytes, pairs found at similarity 0.987 (about the threshold chosen on CIFAR-10), and the process's
//! peak resident memory so far.

use std::sync::Arc;
use std::time::Instant;

use dcgan::data::{Dataset, ItemError};
use dcgan::dedup::near::Index;
use dcgan::progress::Events;
use image::{DynamicImage, RgbImage};

struct Blends {
    base: Arc<Vec<RgbImage>>,
    n: usize,
}

impl Blends {
    fn blend(&self, k: usize) -> RgbImage {
        let m = self.base.len();
        let a = &self.base[k % m];
        let b = &self.base[(k.wrapping_mul(2_654_435_761) >> 7) % m];
        let w = 0.3 + 0.4 * ((k.wrapping_mul(40_503) % 1000) as f32 / 1000.0);
        RgbImage::from_fn(a.width(), a.height(), |x, y| {
            let (p, q) = (
                a.get_pixel(x, y),
                b.get_pixel(x % b.width(), y % b.height()),
            );
            image::Rgb(std::array::from_fn(|c| {
                (w * p[c] as f32 + (1.0 - w) * q[c] as f32) as u8
            }))
        })
    }
}

impl Dataset for Blends {
    fn len(&self) -> usize {
        self.n
    }
    fn get(&self, i: usize) -> Result<DynamicImage, ItemError> {
        // Items 101, 202, ...: copies of the item before them, brightened.
        let img = if i % 101 == 100 {
            DynamicImage::ImageRgb8(self.blend(i - 1)).brighten(8)
        } else {
            DynamicImage::ImageRgb8(self.blend(i))
        };
        Ok(img)
    }
    fn label(&self, _: usize) -> Option<usize> {
        None
    }
    fn classes(&self) -> Vec<String> {
        vec![]
    }
    fn describe(&self) -> String {
        format!("{} blended images", self.n)
    }
}

struct Quiet;
impl Events for Quiet {
    fn emit(&mut self, _: dcgan::progress::Event) {}
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() -> dcgan::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let folder = args.first().expect("usage: dedup_scale FOLDER N [N ...]");
    let src = dcgan::data::open(folder, Default::default())?;
    let base: Vec<RgbImage> = (0..src.len())
        .filter_map(|i| src.get(i).ok().map(|im| im.to_rgb8()))
        .collect();
    let base = Arc::new(base);
    println!(
        "{} base images in memory; peak RSS {:.0} MiB",
        base.len(),
        peak_rss_mib()
    );
    println!("| images | signatures | search | total | index | pairs ≥ 0.987 | peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in args[1..]
        .iter()
        .map(|a| a.parse::<usize>().expect("a count"))
    {
        let ds = Blends {
            base: base.clone(),
            n,
        };
        let t0 = Instant::now();
        let index = Index::build(&ds, 1, &mut Quiet)?;
        let t1 = Instant::now();
        let (pairs, compared) = index.pairs(&mut Quiet);
        let t2 = Instant::now();
        let close = pairs.iter().filter(|p| p.similarity >= 0.987).count();
        println!(
            "| {n} | {:.1} s | {:.1} s | {:.1} s | {:.0} MiB | {close} | {:.0} MiB |",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t2 - t0).as_secs_f64(),
            index.bytes() as f64 / (1 << 20) as f64,
            peak_rss_mib()
        );
        eprintln!(
            "{n}: {compared} signatures compared, {} pairs kept",
            pairs.len()
        );
    }
    Ok(())
}
