//! The FID network's convolution shapes one at a time, on one thread: milliseconds per image
//! through the direct path (patches and one matrix product) and through Winograd's, where the
//! kernel has one. This is how `kernels::nhwc` picks its thresholds.
//!
//!     cargo run --release -p dcgan --example nhwc_layers -- [REPEATS]

use dcgan::kernels::nhwc::{Conv, Map};
use std::time::Instant;

/// (name, kernel, padding, input side, Cin, Cout)
type Layer = (&'static str, [usize; 2], [usize; 2], usize, usize, usize);

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .map_or(5, |v| v.parse().expect("REPEATS"));
    // Inception-v3's layers with a Winograd shape, stride 1.
    let layers: [Layer; 9] = [
        ("stem 3×3 32→32", [3, 3], [0, 0], 149, 32, 32),
        ("stem 3×3 32→64", [3, 3], [1, 1], 147, 32, 64),
        ("stem 3×3 80→192", [3, 3], [0, 0], 73, 80, 192),
        ("35×35 3×3 64→96", [3, 3], [1, 1], 35, 64, 96),
        ("35×35 3×3 96→96", [3, 3], [1, 1], 35, 96, 96),
        ("17×17 1×7 128→128", [1, 7], [0, 3], 17, 128, 128),
        ("17×17 7×1 192→192", [7, 1], [3, 0], 17, 192, 192),
        ("8×8 3×3 448→384", [3, 3], [1, 1], 8, 448, 384),
        ("8×8 1×3 384→384 (no Winograd)", [1, 3], [0, 1], 8, 384, 384),
    ];
    let values = |n: usize, seed: usize| -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 2654435761 + seed * 97) >> 8) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    };
    println!("{:<32} {:>10} {:>10}", "layer", "direct ms", "Winograd");
    for (name, [kh, kw], padding, side, cin, cout) in layers {
        let w = values(cout * cin * kh * kw, 1);
        let b = values(cout, 2);
        let x = Map::from_nchw(&values(cin * side * side, 3), 1, cin, side, side);
        let time = |conv: &Conv| {
            let mut best = f64::INFINITY;
            for _ in 0..repeats + 1 {
                let t = Instant::now();
                std::hint::black_box(conv.apply(&x));
                best = best.min(t.elapsed().as_secs_f64());
            }
            best * 1e3
        };
        let conv = || Conv::new(&w, b.clone(), [cout, cin, kh, kw], 1, padding);
        let direct = time(&conv().force_winograd(false));
        let wino = time(&conv().force_winograd(true));
        println!("{name:<32} {direct:>10.2} {wino:>10.2}");
    }
}
