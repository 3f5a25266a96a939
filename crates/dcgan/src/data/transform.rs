//! Image preparation: resize the shorter side to the model size (bilinear), centre-crop a
//! square, convert grey ↔ RGB as the model needs, scale pixels to [−1, 1], lay out as CHW f32.

use image::{DynamicImage, imageops::FilterType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// How an item becomes a training image: shorter side resized to `size` (bilinear), centre-cropped
/// square, converted to `channels` channels, pixels in [−1, 1].
pub struct Transform {
    /// Side of the square image, in pixels.
    pub size: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
}

impl Transform {
    /// The prepared image as `[channels, size, size]` values in [−1, 1].
    pub fn apply(&self, img: &DynamicImage) -> Vec<f32> {
        let s = self.size as u32;
        let (w, h) = (img.width(), img.height());
        let resized;
        let img = if w.min(h) != s {
            // Shorter side to s, keeping the aspect ratio (rounded as torchvision does).
            let (nw, nh) = if w <= h {
                (s, ((h as u64 * s as u64) / w as u64).max(s as u64) as u32)
            } else {
                (((w as u64 * s as u64) / h as u64).max(s as u64) as u32, s)
            };
            resized = img.resize_exact(nw, nh, FilterType::Triangle);
            &resized
        } else {
            img
        };
        let (w, h) = (img.width(), img.height());
        let cropped;
        let img = if w != s || h != s {
            cropped = img.crop_imm((w - s) / 2, (h - s) / 2, s, s);
            &cropped
        } else {
            img
        };
        let n = (s * s) as usize;
        let scale = |v: u8| v as f32 / 127.5 - 1.0;
        if self.channels == 1 {
            let g = img.to_luma8();
            g.as_raw().iter().map(|&v| scale(v)).collect()
        } else {
            let rgb = img.to_rgb8();
            let raw = rgb.as_raw();
            let mut out = vec![0f32; 3 * n];
            for (i, px) in raw.chunks_exact(3).enumerate() {
                out[i] = scale(px[0]);
                out[n + i] = scale(px[1]);
                out[2 * n + i] = scale(px[2]);
            }
            out
        }
    }
}

/// `[channels, size, size]` values in [−1, 1] back to an 8-bit image.
pub fn to_image(chw: &[f32], channels: usize, size: usize) -> DynamicImage {
    let n = size * size;
    let px = |v: f32| ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
    if channels == 1 {
        let raw = chw[..n].iter().map(|&v| px(v)).collect();
        DynamicImage::ImageLuma8(image::GrayImage::from_raw(size as u32, size as u32, raw).unwrap())
    } else {
        let mut raw = Vec::with_capacity(3 * n);
        for i in 0..n {
            raw.extend([px(chw[i]), px(chw[n + i]), px(chw[2 * n + i])]);
        }
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(size as u32, size as u32, raw).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn wide_image_is_resized_on_its_short_side_and_centre_cropped() {
        // 80×40: red and blue 10-pixel bands at the ends, green between.
        let img = RgbImage::from_fn(80, 40, |x, _| match x {
            0..10 => Rgb([255, 0, 0]),
            10..70 => Rgb([0, 255, 0]),
            _ => Rgb([0, 0, 255]),
        });
        let t = Transform {
            size: 16,
            channels: 3,
        };
        let out = t.apply(&DynamicImage::ImageRgb8(img));
        assert_eq!(out.len(), 3 * 16 * 16);
        // After 80×40 → 32×16 and a centre crop of 16, only the green middle remains.
        let (r, g, b) = (&out[..256], &out[256..512], &out[512..]);
        assert!(r.iter().all(|&v| v == -1.0), "red leaked in");
        assert!(g.iter().all(|&v| v == 1.0));
        assert!(b.iter().all(|&v| v == -1.0), "blue leaked in");
    }

    #[test]
    fn grey_and_rgb_convert_both_ways_with_exact_range() {
        let grey = DynamicImage::ImageLuma8(image::GrayImage::from_fn(8, 8, |x, _| {
            image::Luma([if x < 4 { 0 } else { 255 }])
        }));
        let rgb = Transform {
            size: 8,
            channels: 3,
        }
        .apply(&grey);
        assert_eq!(rgb.len(), 192);
        assert_eq!(&rgb[..8], &[-1., -1., -1., -1., 1., 1., 1., 1.]);
        assert_eq!(&rgb[64..72], &rgb[..8]);
        let back = Transform {
            size: 8,
            channels: 1,
        }
        .apply(&to_image(&rgb, 3, 8));
        assert_eq!(&back[..8], &rgb[..8]);
    }
}
