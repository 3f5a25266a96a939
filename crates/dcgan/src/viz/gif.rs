//! Animated GIFs of image sequences (through the image crate's GIF encoder).

use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbImage, imageops::FilterType};

use crate::error::{Error, Result};

/// Write `frames` as a looping GIF, each shown `delay_ms`, scaled up `scale`× (nearest neighbour,
/// so small samples stay sharp), atomically.
pub(crate) fn save_gif(path: &Path, frames: &[RgbImage], delay_ms: u32, scale: u32) -> Result<()> {
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|e| Error::format(path, format!("cannot encode GIF: {e}")))?;
        for f in frames {
            let f = if scale > 1 {
                image::imageops::resize(
                    f,
                    f.width() * scale,
                    f.height() * scale,
                    FilterType::Nearest,
                )
            } else {
                f.clone()
            };
            let rgba = image::DynamicImage::ImageRgb8(f).to_rgba8();
            enc.encode_frame(Frame::from_parts(
                rgba,
                0,
                0,
                Delay::from_numer_denom_ms(delay_ms, 1),
            ))
            .map_err(|e| Error::format(path, format!("cannot encode GIF: {e}")))?;
        }
    }
    crate::io::atomic_write(path, &bytes)
}
