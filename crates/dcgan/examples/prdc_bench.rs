//! Times `eval::prdc::prdc` on N real and N fake 2,048-d features drawn as
//! `scripts/make_prdc_goldens.py` draws them (`--n 50000` by default), and prints the scores.
//!
//! `cargo run --release -p dcgan --example prdc_bench -- 50000`

fn splitmix64(x: u64) -> u64 {
    let mut x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn hashed(seed: u64, n: usize, dim: usize, shift: f32) -> Vec<f32> {
    (0..n * dim)
        .map(|t| {
            let (i, d) = ((t / dim) as u64, (t % dim) as u64);
            let h = splitmix64((seed << 32) + i * 4096 + d);
            let v = ((h >> 40) as f64 / (1u64 << 24) as f64) as f32;
            if d < 512 { v + shift } else { v }
        })
        .collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("N, a number"))
        .unwrap_or(50_000);
    let dim = 2048;
    let (real, fake) = (hashed(1, n, dim, 0.0), hashed(2, n, dim, 0.05));
    let t = std::time::Instant::now();
    let s = dcgan::eval::prdc::prdc(&real, &fake, dim, 3).expect("k below N");
    println!(
        "{n} × {n} features, k 3: {:.1} s on {} threads; {s:?}",
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
}
