//! Transparency: images with an alpha channel are composited over a background before anything
//! sees them. Dropping the alpha channel instead would train on whatever colours sit under the
//! transparent pixels (emoji and icon sets keep arbitrary colours there).

use image::{DynamicImage, GrayImage, RgbImage};

use super::dataset::{Dataset, ItemError};
pub use crate::config::Background;

/// Whether `img` has an alpha channel with at least one pixel that is not fully opaque.
pub(crate) fn has_transparency(img: &DynamicImage) -> bool {
    if !img.color().has_alpha() {
        return false;
    }
    match img {
        DynamicImage::ImageRgba8(i) => i.pixels().any(|p| p.0[3] < 255),
        DynamicImage::ImageLumaA8(i) => i.pixels().any(|p| p.0[1] < 255),
        DynamicImage::ImageRgba16(i) => i.pixels().any(|p| p.0[3] < u16::MAX),
        DynamicImage::ImageLumaA16(i) => i.pixels().any(|p| p.0[1] < u16::MAX),
        other => other.to_rgba8().pixels().any(|p| p.0[3] < 255),
    }
}

/// `img` composited over `background` (`colour·α + background·(1 − α)`, rounded, at 8 bits a
/// channel); images without an alpha channel unchanged. Grey images with alpha stay grey over a
/// grey background and become RGB over a coloured one.
pub fn flatten(img: DynamicImage, background: Background) -> DynamicImage {
    if !img.color().has_alpha() {
        return img;
    }
    let grey = matches!(
        img,
        DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLumaA16(_)
    ) && background.is_grey();
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    let over = |c: u8, a: u8, b: u8| -> u8 {
        let (c, a, b) = (c as u32, a as u32, b as u32);
        ((c * a + b * (255 - a) + 127) / 255) as u8
    };
    let bg = background.0;
    if grey {
        let px = rgba.pixels().map(|p| over(p.0[0], p.0[3], bg[0])).collect();
        DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, px).expect("sized"))
    } else {
        let px = rgba
            .pixels()
            .flat_map(|p| (0..3).map(move |k| over(p.0[k], p.0[3], bg[k])))
            .collect();
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).expect("sized"))
    }
}

/// A data set whose images are composited over a background ([`flatten`]); everything else is
/// the inner data set's.
pub(crate) struct Flattened {
    inner: Box<dyn Dataset>,
    background: Background,
}

impl Flattened {
    pub fn new(inner: Box<dyn Dataset>, background: Background) -> Self {
        Self { inner, background }
    }
}

impl Dataset for Flattened {
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.inner.get(i).map(|img| flatten(img, self.background))
    }
    fn get_as_stored(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.inner.get_as_stored(i)
    }
    fn background(&self) -> Option<Background> {
        Some(self.background)
    }
    fn label(&self, i: usize) -> Option<usize> {
        self.inner.label(i)
    }
    fn classes(&self) -> Vec<String> {
        self.inner.classes()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn name(&self, i: usize) -> String {
        self.inner.name(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{LumaA, Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_take_the_background_whatever_colour_they_hold() {
        // Transparent orange, half-transparent blue, opaque green.
        let img = DynamicImage::ImageRgba8(RgbaImage::from_fn(3, 1, |x, _| match x {
            0 => Rgba([255, 128, 0, 0]),
            1 => Rgba([0, 0, 255, 128]),
            _ => Rgba([0, 255, 0, 255]),
        }));
        assert!(has_transparency(&img));
        let white = flatten(img.clone(), Background::WHITE).to_rgb8();
        assert_eq!(white.as_raw(), &[255, 255, 255, 127, 127, 255, 0, 255, 0]);
        let black = flatten(img.clone(), Background::BLACK).to_rgb8();
        assert_eq!(black.as_raw(), &[0, 0, 0, 0, 0, 128, 0, 255, 0]);
        let c = flatten(img, Background([10, 20, 30])).to_rgb8();
        assert_eq!(c.as_raw(), &[10, 20, 30, 5, 10, 143, 0, 255, 0]);
    }

    #[test]
    fn grey_with_alpha_stays_grey_over_grey() {
        let la = DynamicImage::ImageLumaA8(image::ImageBuffer::from_fn(2, 1, |x, _| {
            if x == 0 {
                LumaA([200u8, 0])
            } else {
                LumaA([100, 255])
            }
        }));
        let g = flatten(la.clone(), Background::BLACK);
        assert_eq!(g.color(), image::ColorType::L8);
        assert_eq!(g.to_luma8().as_raw(), &[0, 100]);
        let c = flatten(la, Background([255, 0, 0]));
        assert_eq!(c.color(), image::ColorType::Rgb8);
        assert_eq!(c.to_rgb8().as_raw(), &[255, 0, 0, 100, 100, 100]);
        // An alpha channel that is opaque everywhere is no transparency.
        let opaque = DynamicImage::ImageRgba8(RgbaImage::from_pixel(2, 2, Rgba([1, 2, 3, 255])));
        assert!(!has_transparency(&opaque));
    }
}
