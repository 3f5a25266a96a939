//! Training curves as a PNG: D and G losses (top) and mean D(x), D(G(z)) (middle), raw values
//! faint and a moving average bold, and when the run evaluates G, FID and KID×10³ at each
//! evaluation (bottom), drawn with plotters.
//!
//! Labels need a system font (`viz::font`); without one the curves are drawn without them.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};

/// One point of the curves.
#[derive(Clone, Copy, Debug)]
pub struct CurvePoint {
    /// Training step.
    pub step: u64,
    /// D's loss.
    pub loss_d: f32,
    /// G's loss.
    pub loss_g: f32,
    /// Mean D(x).
    pub d_real: f32,
    /// Mean D(G(z)).
    pub d_fake: f32,
    /// FID and KID when this step was evaluated.
    pub fid: Option<f64>,
    /// KID when this step was evaluated.
    pub kid: Option<f64>,
    /// Precision, recall, density and coverage when this step was evaluated with them.
    pub prdc: Option<[f64; 4]>,
}

fn moving_average(v: &[f32], window: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0f64;
    for i in 0..v.len() {
        sum += v[i] as f64;
        if i >= window {
            sum -= v[i - window] as f64;
        }
        out.push((sum / (i + 1).min(window) as f64) as f32);
    }
    out
}

/// Draw the curves to `path` (PNG, 900×700, or 900×1000 with the scores panel), atomically.
pub fn save_loss_plot(path: &Path, points: &[CurvePoint]) -> Result<()> {
    if points.is_empty() {
        return Ok(());
    }
    let scored: Vec<&CurvePoint> = points.iter().filter(|p| p.fid.is_some()).collect();
    let manifold: Vec<&CurvePoint> = points.iter().filter(|p| p.prdc.is_some()).collect();
    let h = match (scored.is_empty(), manifold.is_empty()) {
        (true, _) => 700,
        (false, true) => 1000,
        (false, false) => 1280,
    };
    let w = 900u32;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    let text = super::font::available();
    let err = |e: String| Error::format(path, format!("cannot draw the loss plot: {e}"));
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (top, rest) = root.split_vertically(420);
        let (bottom, scores_area) = rest.split_vertically(280);
        let (scores_area, manifold_area) = scores_area.split_vertically(280);
        let steps: Vec<f64> = points.iter().map(|p| p.step as f64).collect();
        let (x0, x1) = (steps[0], steps[steps.len() - 1].max(steps[0] + 1.0));
        let window = (points.len() / 50).clamp(1, 200);
        let series = |f: fn(&CurvePoint) -> f32| points.iter().map(f).collect::<Vec<f32>>();
        let loss_d = series(|p| p.loss_d);
        let loss_g = series(|p| p.loss_g);
        let ymax = loss_d
            .iter()
            .chain(&loss_g)
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f32, f32::max)
            .max(0.1) as f64
            * 1.05;

        let losses = [
            ("loss D", &loss_d[..], RGBColor(31, 119, 180)),
            ("loss G", &loss_g[..], RGBColor(255, 127, 14)),
        ];
        draw_panel(
            &top,
            &Panel {
                caption: "losses",
                x: (x0, x1),
                y_max: ymax,
                steps: &steps,
                curves: &losses,
                window,
            },
            text,
        )
        .map_err(err)?;
        let d_real = series(|p| p.d_real);
        let d_fake = series(|p| p.d_fake);
        let outputs = [
            ("D(x)", &d_real[..], RGBColor(44, 160, 44)),
            ("D(G(z))", &d_fake[..], RGBColor(214, 39, 40)),
        ];
        draw_panel(
            &bottom,
            &Panel {
                caption: "mean D output",
                x: (x0, x1),
                y_max: 1.0,
                steps: &steps,
                curves: &outputs,
                window,
            },
            text,
        )
        .map_err(err)?;
        if !scored.is_empty() {
            let at: Vec<f64> = scored.iter().map(|p| p.step as f64).collect();
            let fid: Vec<f32> = scored.iter().map(|p| p.fid.unwrap() as f32).collect();
            let kid: Vec<f32> = scored
                .iter()
                .map(|p| p.kid.map_or(f32::NAN, |k| (k * 1e3) as f32))
                .collect();
            let ymax = fid
                .iter()
                .chain(&kid)
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0f32, f32::max)
                .max(1.0) as f64
                * 1.05;
            let mut curves = vec![("FID", &fid[..], RGBColor(148, 103, 189))];
            if kid.iter().any(|v| v.is_finite()) {
                curves.push(("KID×10³", &kid[..], RGBColor(140, 86, 75)));
            }
            draw_panel(
                &scores_area,
                &Panel {
                    caption: "scores of G (lower is better)",
                    x: (x0, x1),
                    y_max: ymax,
                    steps: &at,
                    curves: &curves,
                    window: 1,
                },
                text,
            )
            .map_err(err)?;
        }
        if !manifold.is_empty() {
            let at: Vec<f64> = manifold.iter().map(|p| p.step as f64).collect();
            let of = |i: usize| -> Vec<f32> {
                manifold.iter().map(|p| p.prdc.unwrap()[i] as f32).collect()
            };
            let (precision, recall, density, coverage) = (of(0), of(1), of(2), of(3));
            let ymax = density.iter().copied().fold(1.0f32, f32::max) as f64 * 1.05;
            let curves = [
                ("precision", &precision[..], RGBColor(23, 190, 207)),
                ("recall", &recall[..], RGBColor(188, 189, 34)),
                ("density", &density[..], RGBColor(255, 187, 120)),
                ("coverage", &coverage[..], RGBColor(227, 119, 194)),
            ];
            draw_panel(
                &manifold_area,
                &Panel {
                    caption: "precision, recall, density, coverage (higher is better)",
                    x: (x0, x1),
                    y_max: ymax,
                    steps: &at,
                    curves: &curves,
                    window: 1,
                },
                text,
            )
            .map_err(err)?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).expect("buffer size");
    super::grid::save_png(path, &image::DynamicImage::ImageRgb8(img))
}

/// One panel of the plot: `curves` (name, values, colour) against `steps`, x over `x`, y from 0
/// to `y_max`, each smoothed over `window` points.
struct Panel<'a> {
    caption: &'a str,
    x: (f64, f64),
    y_max: f64,
    steps: &'a [f64],
    curves: &'a [(&'a str, &'a [f32], RGBColor)],
    window: usize,
}

/// Draw `panel` on `area`; axes, caption and legend only when a font was found (`text`).
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
    text: bool,
) -> std::result::Result<(), String> {
    let Panel {
        caption,
        x: (x0, x1),
        y_max,
        steps,
        curves,
        window,
    } = *panel;
    let mut chart = ChartBuilder::on(area);
    chart.margin(12);
    if text {
        chart
            // Room for half of the last step's label, which is centred on the right edge.
            .margin_right(24)
            .caption(caption, ("sans-serif", 20))
            .x_label_area_size(30)
            .y_label_area_size(50);
    }
    let mut chart = chart
        .build_cartesian_2d(x0..x1, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    if text {
        chart
            .configure_mesh()
            .x_desc("step")
            .x_label_formatter(&step_label)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    for &(name, v, color) in curves {
        draw_curve(&mut chart, steps, v, window, color, name, text)?;
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A step axis label: f64's `Display` writes whole steps without the `.0` that plotters'
/// own tick labels carry.
fn step_label(x: &f64) -> String {
    x.to_string()
}

fn draw_curve<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    steps: &[f64],
    values: &[f32],
    window: usize,
    color: RGBColor,
    name: &str,
    legend: bool,
) -> std::result::Result<(), String> {
    let raw = steps
        .iter()
        .zip(values)
        .filter(|(_, v)| v.is_finite())
        .map(|(s, v)| (*s, *v as f64));
    chart
        .draw_series(LineSeries::new(raw, color.mix(0.25)))
        .map_err(|e| e.to_string())?;
    if window == 1 {
        chart
            .draw_series(
                steps
                    .iter()
                    .zip(values)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(s, v)| Circle::new((*s, *v as f64), 3, color.filled())),
            )
            .map_err(|e| e.to_string())?;
    }
    let smooth = moving_average(values, window);
    let s = chart
        .draw_series(LineSeries::new(
            steps.iter().zip(&smooth).map(|(s, v)| (*s, *v as f64)),
            color.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    if legend {
        s.label(name).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_average_of_a_step_function() {
        assert_eq!(
            moving_average(&[1.0, 1.0, 4.0, 4.0], 2),
            vec![1.0, 1.0, 2.5, 4.0]
        );
    }

    #[test]
    fn plot_is_written_with_the_curves_in_their_colours() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loss.png");
        let pts: Vec<_> = (0..100)
            .map(|i| CurvePoint {
                step: i,
                loss_d: 1.0,
                loss_g: 2.0 + (i as f32 / 10.0).sin(),
                d_real: 0.7,
                d_fake: 0.3,
                fid: None,
                kid: None,
                prdc: None,
            })
            .collect();
        save_loss_plot(&p, &pts).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (900, 700));
        let has = |c: [u8; 3]| img.pixels().any(|px| px.0 == c);
        assert!(!has([148, 103, 189]), "no scores, no scores panel");
        let has = |c: [u8; 3]| img.pixels().any(|px| px.0 == c);
        assert!(
            has([31, 119, 180]) && has([255, 127, 14]),
            "loss curves missing"
        );
        assert!(
            has([44, 160, 44]) && has([214, 39, 40]),
            "D output curves missing"
        );
    }

    #[test]
    fn scores_get_a_third_panel_and_prdc_a_fourth() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("loss.png");
        let pts: Vec<_> = (1..=100)
            .map(|i| CurvePoint {
                step: i,
                loss_d: 1.0,
                loss_g: 2.0,
                d_real: 0.7,
                d_fake: 0.3,
                fid: (i % 20 == 0).then(|| 300.0 / i as f64),
                kid: (i % 20 == 0).then(|| 0.2 / i as f64),
                prdc: (i % 20 == 0).then(|| [0.6, 0.5 - i as f64 / 1e3, 0.9, 0.7]),
            })
            .collect();
        save_loss_plot(&p, &pts).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (900, 1280));
        let rows_with = |c: [u8; 3]| {
            let ys: Vec<u32> = img
                .enumerate_pixels()
                .filter(|(_, _, px)| px.0 == c)
                .map(|(_, y, _)| y)
                .collect();
            (ys.iter().min().copied(), ys.iter().max().copied())
        };
        for colour in [[148, 103, 189], [140, 86, 75]] {
            let (lo, hi) = rows_with(colour);
            assert!(
                lo.unwrap() >= 700 && hi.unwrap() < 980,
                "{colour:?}: {lo:?}..{hi:?}"
            );
        }
        for colour in [
            [23, 190, 207],
            [188, 189, 34],
            [255, 187, 120],
            [227, 119, 194],
        ] {
            let (lo, hi) = rows_with(colour);
            assert!(
                lo.unwrap() >= 980 && hi.unwrap() < 1280,
                "{colour:?}: {lo:?}..{hi:?}"
            );
        }
    }

    #[test]
    fn step_labels_are_whole_steps_unless_the_tick_is_not() {
        assert_eq!(step_label(&30000.0), "30000");
        assert_eq!(step_label(&0.0), "0");
        assert_eq!(step_label(&2.5), "2.5");
    }
}
