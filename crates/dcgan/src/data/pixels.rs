//! Images held in memory as one array of 8-bit pixels, `(n, height, width, channels)`: what a
//! NumPy caller (the Python package) hands over. They go through the same transform, loader
//! and measurement as a folder of the same images saved losslessly.

use image::{DynamicImage, GrayImage, RgbImage};

use super::dataset::{Dataset, ItemError};
use crate::{Error, Result};

/// `n` images of `height × width` with 1 (grey) or 3 (RGB) channels, row-major, channels last.
#[derive(Clone, Debug)]
pub struct Pixels {
    data: Vec<u8>,
    shape: [usize; 4],
    what: String,
}

impl Pixels {
    /// The images of `data` laid out as `shape` = (n, height, width, channels); `what` names
    /// them in reports and errors (e.g. `array a`).
    pub fn new(data: Vec<u8>, shape: [usize; 4], what: &str) -> Result<Self> {
        let [n, h, w, c] = shape;
        let bad = |reason: String| Error::config("images", format!("{what} {shape:?}"), reason);
        if n == 0 || h == 0 || w == 0 {
            return Err(bad("needs at least one image of at least 1×1 pixels".into()));
        }
        if c != 1 && c != 3 {
            return Err(bad(format!(
                "has {c} channels; give (N, H, W, 3) RGB or (N, H, W, 1) grey"
            )));
        }
        let side = super::dataset::MAX_IMAGE_SIDE as usize;
        if h > side || w > side {
            return Err(bad(format!("images may be at most {side} pixels a side")));
        }
        if data.len() != n * h * w * c {
            return Err(bad(format!(
                "holds {} values, the shape needs {}",
                data.len(),
                n * h * w * c
            )));
        }
        Ok(Self {
            data,
            shape,
            what: what.to_string(),
        })
    }

    /// (n, height, width, channels).
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }
}

impl Dataset for Pixels {
    fn len(&self) -> usize {
        self.shape[0]
    }

    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        let [_, h, w, c] = self.shape;
        let size = h * w * c;
        let pixels = self.data[i * size..(i + 1) * size].to_vec();
        let (w, h) = (w as u32, h as u32);
        Ok(if c == 1 {
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels).expect("sized above"))
        } else {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels).expect("sized above"))
        })
    }

    fn label(&self, _: usize) -> Option<usize> {
        None
    }

    fn classes(&self) -> Vec<String> {
        Vec::new()
    }

    fn describe(&self) -> String {
        let [n, h, w, c] = self.shape;
        format!("{} ({n} images of {h}×{w}×{c})", self.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_images_in_order_and_bad_shapes_are_named() {
        let data: Vec<u8> = (0..2 * 2 * 3 * 3).map(|v| v as u8).collect();
        let p = Pixels::new(data, [2, 2, 3, 3], "array a").unwrap();
        assert_eq!(p.len(), 2);
        let second = p.get(1).unwrap().to_rgb8();
        assert_eq!(second.dimensions(), (3, 2));
        // Item 1 starts at value 18; pixel (x 1, y 0) is its second pixel.
        assert_eq!(second.get_pixel(1, 0).0, [21, 22, 23]);
        assert_eq!(p.describe(), "array a (2 images of 2×3×3)");
        let e = Pixels::new(vec![0; 8], [2, 2, 2, 1], "array b").unwrap();
        assert_eq!(e.get(0).unwrap().color(), image::ColorType::L8);
        let msg = |r: Result<Pixels>| r.unwrap_err().to_string();
        assert_eq!(
            msg(Pixels::new(vec![0; 16], [1, 2, 2, 4], "array a")),
            "invalid images array a [1, 2, 2, 4]: has 4 channels; give (N, H, W, 3) RGB or (N, H, W, 1) grey"
        );
        assert_eq!(
            msg(Pixels::new(vec![0; 5], [1, 2, 2, 1], "x")),
            "invalid images x [1, 2, 2, 1]: holds 5 values, the shape needs 4"
        );
    }
}
