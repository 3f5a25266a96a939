//! Where the FID network's time goes on this project's CPU kernels: milliseconds per image of
//! each stage, on one thread, for CIFAR-like inputs.
//!
//!     cargo run --release -p dcgan --example inception_profile -- [IMAGES] [PER_MAP] [WEIGHTS]

use dcgan::eval::inception::{self, Inception};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(8, |v| v.parse().expect("IMAGES"));
    let per_map: usize = args.get(2).map_or(1, |v| v.parse().expect("PER_MAP"));
    let weights = args
        .get(3)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            use dcgan::data::download::Locations;
            let cache = Locations::conventional_cache(
                std::env::var_os("XDG_CACHE_HOME").map(Into::into),
                std::env::var_os("HOME").map(Into::into),
            );
            Locations::with_cache(cache).fid_weights()
        });
    let device = dcgan::device::Device::flex();
    let net = Inception::load(&weights, &device).unwrap_or_else(|e| panic!("{e}"));
    // Smooth 32×32 images in [−1, 1], resampled to the network's input.
    let images: Vec<f32> = (0..n * 3 * 32 * 32)
        .map(|i| ((i % 1024) as f32 * 0.37 + (i / 1024) as f32).sin())
        .collect();
    let input = inception::prepare(&images, n, 3, 32, dcgan::config::FidMode::default());
    net.profile(&input[..3 * 299 * 299 * per_map.min(n)], per_map); // warm-up
    let stages = net.profile(&input, per_map);
    let total: f64 = stages.iter().map(|s| s.1).sum();
    for (name, secs) in &stages {
        println!("{name:<20} {:7.2} ms", secs * 1e3 / n as f64);
    }
    println!(
        "{:<20} {:7.2} ms per image, one thread",
        "total",
        total * 1e3 / n as f64
    );
}
