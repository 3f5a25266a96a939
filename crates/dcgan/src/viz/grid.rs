//! Sample grids: images `[n, c, s, s]` in [−1, 1] tiled row by row with a 2-pixel border, as
//! pytorch/examples' `vutils.save_image(..., normalize=True)` shows them.

use std::path::Path;

use image::{DynamicImage, Rgb, RgbImage};

use crate::data::transform::to_image;
use crate::error::{Error, Result};

const PAD: u32 = 2;

/// Tile `n` images, `per_row` to a row (0: the smallest square that holds them).
pub fn grid_image(
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
    per_row: usize,
) -> RgbImage {
    let per = channels * size * size;
    assert_eq!(images.len(), n * per, "grid data does not match its shape");
    let cols = if per_row == 0 {
        (n as f64).sqrt().ceil().max(1.0) as usize
    } else {
        per_row
    };
    let rows = n.div_ceil(cols).max(1);
    let s = size as u32;
    let (w, h) = (cols as u32 * (s + PAD) + PAD, rows as u32 * (s + PAD) + PAD);
    let mut out = RgbImage::from_pixel(w, h, Rgb([0, 0, 0]));
    for i in 0..n {
        let tile = to_image(&images[i * per..(i + 1) * per], channels, size).to_rgb8();
        let (x0, y0) = (
            PAD + (i % cols) as u32 * (s + PAD),
            PAD + (i / cols) as u32 * (s + PAD),
        );
        image::imageops::replace(&mut out, &tile, x0 as i64, y0 as i64);
    }
    out
}

/// Save a grid as PNG, atomically.
pub fn save_grid(
    path: &Path,
    images: &[f32],
    n: usize,
    channels: usize,
    size: usize,
    per_row: usize,
) -> Result<()> {
    let img = grid_image(images, n, channels, size, per_row);
    save_png(path, &DynamicImage::ImageRgb8(img))
}

/// Rows of labelled tiles (each image scaled by `scale`, nearest neighbour, its label beneath
/// it) as one picture, saved atomically. Without a system font the labels are left out.
pub fn save_labelled_rows(path: &Path, rows: &[Vec<(RgbImage, String)>], scale: u32) -> Result<()> {
    use plotters::prelude::*;
    const LABEL: u32 = 16;
    let side = rows
        .iter()
        .flatten()
        .map(|(im, _)| im.width().max(im.height()))
        .max()
        .unwrap_or(1)
        * scale;
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1) as u32;
    let (tw, th) = (side + 2 * PAD, side + LABEL + 2 * PAD);
    let (w, h) = (cols * tw + PAD, rows.len().max(1) as u32 * th + PAD);
    let mut out = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for (r, row) in rows.iter().enumerate() {
        for (c, (im, _)) in row.iter().enumerate() {
            let big = image::imageops::resize(
                im,
                im.width() * scale,
                im.height() * scale,
                image::imageops::FilterType::Nearest,
            );
            let (x0, y0) = (PAD + c as u32 * tw, PAD + r as u32 * th);
            image::imageops::replace(&mut out, &big, x0 as i64, y0 as i64);
        }
    }
    if super::font::available() {
        let mut buf = out.into_raw();
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            let style = ("sans-serif", 13).into_font().color(&BLACK);
            for (r, row) in rows.iter().enumerate() {
                for (c, (_, label)) in row.iter().enumerate() {
                    let (x0, y0) = (PAD + c as u32 * tw, PAD + r as u32 * th + side + 2);
                    root.draw_text(label, &style, (x0 as i32, y0 as i32))
                        .map_err(|e| Error::format(path, format!("cannot draw a label: {e}")))?;
                }
            }
            root.present()
                .map_err(|e| Error::format(path, format!("cannot draw: {e}")))?;
        }
        out = RgbImage::from_raw(w, h, buf).expect("same size");
    }
    save_png(path, &DynamicImage::ImageRgb8(out))
}

/// Encode a PNG in memory and replace `path` with it.
pub(crate) fn save_png(path: &Path, img: &DynamicImage) -> Result<()> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| Error::format(path, format!("cannot encode PNG: {e}")))?;
    crate::io::atomic_write(path, &bytes)
}

/// Rows of images (each row `[k, c, s, s]`, k may differ per row) as one picture, rows padded
/// with black tiles to the longest.
pub fn save_rows(path: &Path, rows: &[Vec<f32>], channels: usize, size: usize) -> Result<()> {
    let per = channels * size * size;
    let cols = rows.iter().map(|r| r.len() / per).max().unwrap_or(1).max(1);
    let mut all = Vec::with_capacity(rows.len() * cols * per);
    for r in rows {
        all.extend_from_slice(r);
        all.extend(std::iter::repeat_n(-1.0f32, (cols - r.len() / per) * per));
    }
    save_grid(path, &all, rows.len() * cols, channels, size, cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_tiles_row_by_row_with_borders() {
        // 3 grey 2×2 images: all −1 (black), all 0 (grey 128), all 1 (white).
        let mut data = vec![-1.0; 4];
        data.extend([0.0; 4]);
        data.extend([1.0; 4]);
        let g = grid_image(&data, 3, 1, 2, 0);
        // 2 columns (ceil √3), 2 rows: 2·(2+2)+2 = 10 pixels each way.
        assert_eq!(g.dimensions(), (10, 10));
        assert_eq!(g.get_pixel(2, 2).0, [0, 0, 0]);
        assert_eq!(g.get_pixel(6, 2).0, [128, 128, 128]);
        assert_eq!(g.get_pixel(2, 6).0, [255, 255, 255]);
        assert_eq!(g.get_pixel(6, 6).0, [0, 0, 0]); // empty slot
        assert_eq!(g.get_pixel(0, 0).0, [0, 0, 0]); // border
    }
}
