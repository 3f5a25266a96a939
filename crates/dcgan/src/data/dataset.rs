//! The data-set abstraction every reader implements and every consumer uses: [`Dataset`],
//! why an item could not be read ([`ItemError`]), a subset of a data set ([`Subset`]), and the
//! image decoding with size limits that the readers share. It sits below the readers
//! ([`super::source`], [`super::lmdb`], [`super::svhn`]); the opener ([`super::open`](mod@super::open)) sits
//! above them.

use std::path::Path;

use image::{DynamicImage, GrayImage, ImageReader, RgbImage};

/// Why one item could not be read. The loader skips it and counts it.
#[derive(Clone, Debug)]
pub struct ItemError {
    /// The item's name (path, key or index).
    pub item: String,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.item, self.message)
    }
}

/// A data set of images with optional class labels.
pub trait Dataset: Send + Sync {
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether the data set has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Decode item `i`: what every consumer sees (transparency composited over the data set's
    /// background, see [`super::alpha`]).
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError>;
    /// Item `i` as stored, alpha channel included: what `data info` counts transparency in,
    /// and what a data set's fingerprint hashes. The same as [`Dataset::get`] unless the data
    /// set composites transparency.
    fn get_as_stored(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.get(i)
    }
    /// The background transparent images are composited over, for data sets that do it.
    fn background(&self) -> Option<crate::config::Background> {
        None
    }
    /// The class label of item `i`, if the data set has labels.
    fn label(&self, i: usize) -> Option<usize>;
    /// Class names, index = label.
    fn classes(&self) -> Vec<String>;
    /// One line for logs: what was opened.
    fn describe(&self) -> String;
    /// A name for item `i` in reports (its path, key, or index).
    fn name(&self, i: usize) -> String {
        i.to_string()
    }
}

/// Image file extensions an image folder takes (lower case).
pub(crate) const IMAGE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "pgm", "ppm", "pbm", "pnm", "bmp", "webp",
];

/// Largest image side accepted from a file; larger headers are refused before decoding
/// (a decompression bomb claims enormous dimensions in a few bytes).
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// Decode one image file, refusing enormous dimensions before allocating for them.
pub(crate) fn decode_file(path: &Path) -> std::result::Result<DynamicImage, ItemError> {
    let name = path.display().to_string();
    let reader = ImageReader::open(path).map_err(|e| ItemError {
        item: name.clone(),
        message: e.to_string(),
    })?;
    decode_limited(reader, name)
}

/// Decode an image from any reader (a file, an LMDB value) with the limits every source uses:
/// at most [`MAX_IMAGE_SIDE`] pixels a side and 1 GiB of allocation, checked from the header
/// before any pixel is decoded (a decompression bomb claims enormous dimensions in a few bytes).
pub fn decode_limited<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
    item: String,
) -> std::result::Result<DynamicImage, ItemError> {
    let img = decode_any(reader, item.clone())?;
    // A file can declare a zero width or height (found by fuzzing: a GIF of 0×N pixels), which
    // no transform can resize: unreadable, like any other broken image.
    if img.width() == 0 || img.height() == 0 {
        return Err(ItemError {
            item,
            message: format!("an image of {}×{} pixels", img.width(), img.height()),
        });
    }
    Ok(img)
}

fn decode_any<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
    item: String,
) -> std::result::Result<DynamicImage, ItemError> {
    let err = |m: String| ItemError {
        item: item.clone(),
        message: m,
    };
    let reader = reader
        .with_guessed_format()
        .map_err(|e| err(e.to_string()))?;
    if reader.format() == Some(image::ImageFormat::Jpeg) {
        let mut bytes = Vec::new();
        let mut inner = reader.into_inner();
        inner
            .read_to_end(&mut bytes)
            .map_err(|e| err(e.to_string()))?;
        if let Some(img) = decode_jpeg_like_libjpeg(&bytes) {
            return Ok(img);
        }
        // Not something libjpeg decodes (CMYK, damaged): the image crate decides, and its
        // error names the problem.
        let fallback = ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| err(e.to_string()))?;
        return decode_with_limits(fallback, err);
    }
    decode_with_limits(reader, err)
}

fn decode_with_limits<R: std::io::BufRead + std::io::Seek>(
    mut reader: ImageReader<R>,
    err: impl Fn(String) -> ItemError,
) -> std::result::Result<DynamicImage, ItemError> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(1 << 30);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| err(format!("unreadable image ({e})")))
}

/// A JPEG decoded by libjpeg-turbo's code (mozjpeg's decoder, ISLOW IDCT, fancy upsampling):
/// the pixels PIL, torchvision and therefore the Python reference pipelines see. The image
/// crate's decoder differs by up to ±3 levels on some pixels, which moves FID. `None` when
/// libjpeg refuses the file (the caller falls back to the image crate for the message), when
/// the header claims more than the size limits, or for colour spaces other than grey and YCbCr.
fn decode_jpeg_like_libjpeg(bytes: &[u8]) -> Option<DynamicImage> {
    // libjpeg reports errors by unwinding (resume_unwind, so no panic message is printed).
    std::panic::catch_unwind(|| -> Option<DynamicImage> {
        let d = mozjpeg::Decompress::new_mem(bytes).ok()?;
        let (w, h) = d.size();
        if w as u64 > MAX_IMAGE_SIDE as u64 || h as u64 > MAX_IMAGE_SIDE as u64 {
            return None;
        }
        if (w as u64) * (h as u64) * 3 > 1 << 30 {
            return None;
        }
        match d.color_space() {
            mozjpeg::ColorSpace::JCS_GRAYSCALE => {
                let mut s = d.grayscale().ok()?;
                let px: Vec<u8> = s.read_scanlines().ok()?;
                s.finish().ok()?;
                GrayImage::from_raw(w as u32, h as u32, px).map(DynamicImage::ImageLuma8)
            }
            mozjpeg::ColorSpace::JCS_YCbCr | mozjpeg::ColorSpace::JCS_RGB => {
                let mut s = d.rgb().ok()?;
                let px: Vec<[u8; 3]> = s.read_scanlines().ok()?;
                s.finish().ok()?;
                let flat = px.into_iter().flatten().collect();
                RgbImage::from_raw(w as u32, h as u32, flat).map(DynamicImage::ImageRgb8)
            }
            _ => None,
        }
    })
    .ok()
    .flatten()
}

/// The channel count the data naturally has: 1 if its first readable image is grey, else 3.
pub fn natural_channels(dataset: &dyn Dataset) -> usize {
    (0..dataset.len().min(16))
        .find_map(|i| dataset.get(i).ok())
        .map(|img| match img.color() {
            image::ColorType::L8
            | image::ColorType::La8
            | image::ColorType::L16
            | image::ColorType::La16 => 1,
            _ => 3,
        })
        .unwrap_or(3)
}

/// A data set without some of its items (for example the duplicates a de-duplication report
/// lists), in the original order.
pub struct Subset {
    inner: std::sync::Arc<dyn Dataset>,
    keep: Vec<usize>,
    why: String,
}

impl Subset {
    pub(crate) fn excluding(inner: Box<dyn Dataset>, excluded: &[usize], why: String) -> Self {
        let mut drop = vec![false; inner.len()];
        for &i in excluded {
            if i < drop.len() {
                drop[i] = true;
            }
        }
        let keep = (0..inner.len()).filter(|&i| !drop[i]).collect();
        Self {
            inner: inner.into(),
            keep,
            why,
        }
    }

    /// The items of class `class` (by [`Dataset::label`]), in order; `name` describes it.
    pub fn of_class(inner: std::sync::Arc<dyn Dataset>, class: usize, name: &str) -> Self {
        let keep = (0..inner.len())
            .filter(|&i| inner.label(i) == Some(class))
            .collect();
        Self {
            inner,
            keep,
            why: format!("class {class}, {name}"),
        }
    }
}

impl Dataset for Subset {
    fn len(&self) -> usize {
        self.keep.len()
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.inner.get(self.keep[i])
    }
    fn get_as_stored(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.inner.get_as_stored(self.keep[i])
    }
    fn background(&self) -> Option<crate::config::Background> {
        self.inner.background()
    }
    fn label(&self, i: usize) -> Option<usize> {
        self.inner.label(self.keep[i])
    }
    fn classes(&self) -> Vec<String> {
        self.inner.classes()
    }
    fn describe(&self) -> String {
        format!(
            "{}, {} of them kept ({})",
            self.inner.describe(),
            self.keep.len(),
            self.why
        )
    }
    fn name(&self, i: usize) -> String {
        self.inner.name(self.keep[i])
    }
}

/// What a data set looked like: its size and a hash of the decoded pixels of up to 64 items
/// spread evenly over it. It does not depend on where the data lies, so a moved folder keeps
/// its fingerprint; an edited, replaced or re-ordered one does not.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Fingerprint {
    /// Items in the data set.
    pub items: usize,
    /// (item index, first 16 hex digits of the SHA-256 of its size, layout and pixels, or of
    /// why it could not be read).
    pub samples: Vec<(usize, String)>,
}

impl Fingerprint {
    /// Items sampled: enough to notice a changed data set, few enough to cost nothing.
    const SAMPLES: usize = 64;

    /// The fingerprint of `ds` now.
    pub fn of(ds: &dyn Dataset) -> Self {
        use sha2::{Digest, Sha256};
        let n = ds.len();
        let k = n.min(Self::SAMPLES);
        let samples = (0..k)
            .map(|j| {
                let i = j * n / k;
                let mut h = Sha256::new();
                match ds.get_as_stored(i) {
                    Ok(img) => {
                        h.update(img.width().to_le_bytes());
                        h.update(img.height().to_le_bytes());
                        h.update(format!("{:?}", img.color()).as_bytes());
                        h.update(img.as_bytes());
                    }
                    Err(e) => h.update(format!("unreadable: {}", e.message).as_bytes()),
                }
                (i, crate::io::hex(&h.finalize()[..8]))
            })
            .collect();
        Self { items: n, samples }
    }

    /// What differs between `self` (then) and `now`, in words, naming the first changed item of
    /// `ds` (the data as it is now); `None` when they are the same.
    pub fn differences(&self, now: &Fingerprint, ds: &dyn Dataset) -> Option<String> {
        if self.items != now.items {
            return Some(format!(
                "it held {} items, it holds {}",
                self.items, now.items
            ));
        }
        let changed: Vec<usize> = self
            .samples
            .iter()
            .zip(&now.samples)
            .filter(|(a, b)| a != b)
            .map(|(_, b)| b.0)
            .collect();
        let first = *changed.first()?;
        Some(format!(
            "{} of {} sampled items differ, the first item {first} ({})",
            changed.len(),
            self.samples.len(),
            ds.name(first)
        ))
    }
}
