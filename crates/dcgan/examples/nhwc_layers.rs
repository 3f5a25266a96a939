//! The FID network's convolution shapes one at a time, on one thread: milliseconds per image
//! through the direct path (patches and one matrix product) and through Winograd's, where the
//! kernel has one. This is how `eval::inception::nhwc` picks its thresholds. Then each kind of block's
//! opening 1×1 layers (and its average-pool branch), one layer at a time and as `Heads`.
//!
//!     cargo run --release -p dcgan --example nhwc_layers -- [REPEATS]

use dcgan::eval::inception::nhwc::{Heads, Map, NhwcConv, pool3_same};
use std::time::Instant;

/// (name, kernel, padding, input side, Cin, Cout)
type Layer = (&'static str, [usize; 2], [usize; 2], usize, usize, usize);

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .map_or(5, |v| v.parse().expect("REPEATS"));
    // Inception-v3's layers with a Winograd shape, stride 1.
    let layers: [Layer; 10] = [
        ("stem 3×3 32→32", [3, 3], [0, 0], 149, 32, 32),
        ("stem 3×3 32→64", [3, 3], [1, 1], 147, 32, 64),
        ("stem 3×3 80→192", [3, 3], [0, 0], 73, 80, 192),
        ("35×35 5×5 48→64", [5, 5], [2, 2], 35, 48, 64),
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
        let time = |conv: &NhwcConv| {
            let mut best = f64::INFINITY;
            for _ in 0..repeats + 1 {
                let t = Instant::now();
                std::hint::black_box(conv.apply(&x));
                best = best.min(t.elapsed().as_secs_f64());
            }
            best * 1e3
        };
        let conv = || NhwcConv::new(&w, b.clone(), [cout, cin, kh, kw], 1, padding);
        let direct = time(&conv().force_winograd(false));
        let wino = time(&conv().force_winograd(true));
        println!("{name:<32} {direct:>10.2} {wino:>10.2}");
    }

    // A block's first 1×1 layers (and its average-pool branch) one at a time, against
    // `Heads`: one product, the pool after it on the branch's own channels.
    println!();
    println!(
        "{:<32} {:>10} {:>10}",
        "block's 1×1 heads", "separate", "Heads"
    );
    let blocks: [(&str, usize, usize, &[usize]); 3] = [
        ("35×35 288→64,48,64 | pool→64", 35, 288, &[64, 48, 64, 64]),
        (
            "17×17 768→192,160,160 | pool→192",
            17,
            768,
            &[192, 160, 160, 192],
        ),
        (
            "8×8 1280→320,384,448 | pool→192",
            8,
            1280,
            &[320, 384, 448, 192],
        ),
    ];
    for (name, side, cin, couts) in blocks {
        let x = Map::from_nchw(&values(cin * side * side, 3), 1, cin, side, side);
        let convs: Vec<NhwcConv> = couts
            .iter()
            .enumerate()
            .map(|(i, &cout)| {
                NhwcConv::new(
                    &values(cout * cin, i),
                    values(cout, 9),
                    [cout, cin, 1, 1],
                    1,
                    [0, 0],
                )
            })
            .collect();
        let heads = Heads::new(&convs.iter().collect::<Vec<_>>());
        let width: usize = couts.iter().sum();
        let (mut separate, mut fused) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..repeats + 1 {
            let t = Instant::now();
            let mut out = Map::zeros(1, side, side, width);
            let mut at = 0;
            for (i, conv) in convs.iter().enumerate() {
                if i + 1 == convs.len() {
                    conv.apply_into(&pool3_same(&x, true), &mut out, at);
                } else {
                    conv.apply_into(&x, &mut out, at);
                }
                at += conv.cout;
            }
            std::hint::black_box(out);
            separate = separate.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let mut out = Map::zeros(1, side, side, width);
            let p = heads.product(&x);
            let mut at = 0;
            for (i, &cout) in couts.iter().enumerate() {
                if i + 1 == couts.len() {
                    heads.pooled_into(i, &p, &mut out, at);
                } else {
                    heads.finish_into(i, &p, &mut out, at);
                }
                at += cout;
            }
            std::hint::black_box(out);
            fused = fused.min(t.elapsed().as_secs_f64());
        }
        println!("{name:<32} {:>10.2} {:>10.2}", separate * 1e3, fused * 1e3);
    }
}
