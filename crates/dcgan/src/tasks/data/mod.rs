//! `dcgan data`, one file a command: what a data set holds ([`info`]), how the model sees it
//! ([`preview`]), its items as files ([`export`]), and de-duplication ([`dedup`], [`dedup_eval`];
//! the search itself is [`crate::dedup`]).

mod dedup;
mod dedup_eval;
mod export;
mod info;
mod preview;

pub use dedup::*;
pub use dedup_eval::*;
pub use export::*;
pub use info::*;
pub use preview::*;

use crate::data::Dataset;
pub use crate::dedup::{AutoencoderSettings, Mode, NearSearch};

/// An item at 32×32 for a figure (grey when unreadable).
fn tile(ds: &dyn Dataset, i: usize) -> image::RgbImage {
    ds.get(i)
        .map(|im| {
            im.resize_exact(32, 32, image::imageops::FilterType::Triangle)
                .to_rgb8()
        })
        .unwrap_or_else(|_| image::RgbImage::from_pixel(32, 32, image::Rgb([128, 128, 128])))
}
