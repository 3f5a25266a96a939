//! Data sources. `open` resolves a `--data` value to one of them:
//! - a well-known name (`fashion-mnist`, `mnist`): `$DCGAN_DATA_DIR/<name>`, Debian's package
//!   files in `/usr/share/datasets/<name>`, or the download cache (see [`super::download`]);
//! - an IDX image file (`*-images-idx3-ubyte`, optionally `.gz`), or a folder holding
//!   `train-images-idx3-ubyte[.gz]`; labels come from the matching `*-labels-idx1-ubyte` file;
//! - a folder of CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`);
//! - an LMDB environment (a folder holding `data.mdb`, as LSUN distributes its categories);
//! - any other folder: an image folder, searched recursively.

use std::io::Read;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageReader, RgbImage};

use crate::error::{Error, IoContext, Result};

/// Why one item could not be read. The loader skips it and counts it.
#[derive(Clone, Debug)]
pub struct ItemError {
    pub item: String,
    pub message: String,
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.item, self.message)
    }
}

/// A data set of images with optional class labels.
pub trait Dataset: Send + Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Decode item `i`.
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError>;
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
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "pgm", "ppm", "pbm", "pnm", "bmp", "webp",
];

/// Largest image side accepted from a file; larger headers are refused before decoding
/// (a decompression bomb claims enormous dimensions in a few bytes).
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// Open a data source by the rules in the module docs.
pub fn open(spec: &str) -> Result<Box<dyn Dataset>> {
    if let Some(dir) = well_known(spec) {
        return open(&dir?.to_string_lossy());
    }
    let path = Path::new(spec);
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Data(format!(
                "{spec}: no such file or folder (give an image folder, an IDX file, an SVHN .mat file, a CIFAR-10 binary folder, or one of: fashion-mnist, mnist)"
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    if meta.is_file() {
        let is_mat = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mat"));
        if is_mat {
            return Ok(Box::new(super::svhn::SvhnMat::open(path)?));
        }
        return Ok(Box::new(Idx::open(path)?));
    }
    for name in [
        "train-images-idx3-ubyte",
        "train-images-idx3-ubyte.gz",
        "train-images.idx3-ubyte",
    ] {
        if path.join(name).is_file() {
            return Ok(Box::new(Idx::open(&path.join(name))?));
        }
    }
    if path.join("data_batch_1.bin").is_file() {
        return Ok(Box::new(Cifar::open(path)?));
    }
    if super::lmdb::is_lmdb(path) {
        return Ok(Box::new(super::lmdb::Lmdb::open(path)?));
    }
    Ok(Box::new(ImageFolder::open(path)?))
}

/// Where a well-known data set's files are: `$DCGAN_DATA_DIR/<name>`, Debian's
/// `/usr/share/datasets/<name>`, or the download cache (downloaded and verified when missing).
fn well_known(spec: &str) -> Option<Result<PathBuf>> {
    let set = super::download::set(spec)?;
    if Path::new(spec).exists() {
        return None; // a folder of that name in the working directory wins
    }
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("DCGAN_DATA_DIR") {
        candidates.push(PathBuf::from(dir).join(spec));
    }
    candidates.push(PathBuf::from("/usr/share/datasets").join(spec));
    let has_files = |d: &PathBuf| {
        set.files
            .iter()
            .all(|f| d.join(f.name).is_file() || d.join(f.name.trim_end_matches(".gz")).is_file())
    };
    if let Some(found) = candidates.into_iter().find(has_files) {
        return Some(Ok(found));
    }
    let cached = super::download::cache_dir().join(spec);
    Some(super::download::ensure(set, &cached).map(|()| cached))
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).at(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::format(path, format!("corrupt gzip data ({e})")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parse an IDX file of unsigned bytes: returns (dims, payload).
fn parse_idx(bytes: &[u8], path: &Path, want_dims: usize) -> Result<(Vec<usize>, Vec<u8>)> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::format(path, "not an IDX file (bad magic number)"));
    }
    if bytes[2] != 0x08 {
        return Err(Error::format(
            path,
            format!(
                "IDX element type 0x{:02x} is not unsigned bytes (0x08)",
                bytes[2]
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    if ndim != want_dims {
        return Err(Error::format(
            path,
            format!("IDX file has {ndim} dimensions, expected {want_dims}"),
        ));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(Error::format(path, "IDX header is truncated"));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::format(path, format!("IDX dimensions {dims:?} are too large")))?;
    if bytes.len() - header != n {
        return Err(Error::format(
            path,
            format!(
                "IDX data is {} bytes, the header promises {n} ({dims:?}): truncated or corrupt",
                bytes.len() - header
            ),
        ));
    }
    Ok((dims, bytes[header..].to_vec()))
}

/// MNIST-style IDX images (N × H × W unsigned bytes) with optional labels.
pub struct Idx {
    path: PathBuf,
    pixels: Vec<u8>,
    height: usize,
    width: usize,
    labels: Option<Vec<u8>>,
}

impl Idx {
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = read_maybe_gz(path)?;
        let (dims, pixels) = parse_idx(&bytes, path, 3)?;
        let (count, height, width) = (dims[0], dims[1], dims[2]);
        if height == 0 || width == 0 {
            return Err(Error::format(
                path,
                format!("IDX images of {height}×{width} pixels: a side is zero"),
            ));
        }
        let labels = match labels_path(path) {
            Some(lp) if lp.is_file() => {
                let (ld, l) = parse_idx(&read_maybe_gz(&lp)?, &lp, 1)?;
                if ld[0] != count {
                    return Err(Error::format(
                        &lp,
                        format!("{} labels for {count} images in {}", ld[0], path.display()),
                    ));
                }
                Some(l)
            }
            _ => None,
        };
        if count == 0 {
            return Err(Error::Data(format!(
                "{}: the IDX file holds no images",
                path.display()
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            pixels,
            height,
            width,
            labels,
        })
    }
}

/// `train-images-idx3-ubyte.gz` → `train-labels-idx1-ubyte.gz` (and the `.idx3-` spelling).
fn labels_path(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_string_lossy();
    let label = name
        .replace("images-idx3", "labels-idx1")
        .replace("images.idx3", "labels.idx1");
    (label != name).then(|| images.with_file_name(label))
}

impl Dataset for Idx {
    fn len(&self) -> usize {
        self.pixels.len() / (self.height * self.width)
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        let n = self.height * self.width;
        let raw = self.pixels[i * n..(i + 1) * n].to_vec();
        Ok(DynamicImage::ImageLuma8(
            GrayImage::from_raw(self.width as u32, self.height as u32, raw).unwrap(),
        ))
    }
    fn label(&self, i: usize) -> Option<usize> {
        self.labels.as_ref().map(|l| l[i] as usize)
    }
    fn classes(&self) -> Vec<String> {
        match &self.labels {
            Some(l) => {
                let max = l.iter().copied().max().unwrap_or(0) as usize;
                (0..=max).map(|c| c.to_string()).collect()
            }
            None => vec![],
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} ({} images, {}×{} grey, IDX)",
            self.path.display(),
            self.len(),
            self.width,
            self.height
        )
    }
}

/// CIFAR-10 binary batches: records of 1 label byte + 3072 bytes (R, G, B planes of 32×32).
pub struct Cifar {
    dir: PathBuf,
    records: Vec<u8>,
}

const CIFAR_RECORD: usize = 1 + 3 * 32 * 32;
const CIFAR_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

impl Cifar {
    /// The training batches `data_batch_1.bin` … `data_batch_5.bin` that exist in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let mut records = Vec::new();
        for i in 1..=5 {
            let p = dir.join(format!("data_batch_{i}.bin"));
            if !p.is_file() {
                continue;
            }
            let bytes = std::fs::read(&p).at(&p)?;
            if bytes.is_empty() || bytes.len() % CIFAR_RECORD != 0 {
                return Err(Error::format(
                    &p,
                    format!(
                        "{} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-10 records",
                        bytes.len()
                    ),
                ));
            }
            records.extend_from_slice(&bytes);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            records,
        })
    }

    /// A single batch file (for example `test_batch.bin`).
    pub fn open_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).at(path)?;
        if bytes.is_empty() || bytes.len() % CIFAR_RECORD != 0 {
            return Err(Error::format(
                path,
                format!(
                    "{} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-10 records",
                    bytes.len()
                ),
            ));
        }
        Ok(Self {
            dir: path.to_path_buf(),
            records: bytes,
        })
    }
}

impl Dataset for Cifar {
    fn len(&self) -> usize {
        self.records.len() / CIFAR_RECORD
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        let r = &self.records[i * CIFAR_RECORD + 1..(i + 1) * CIFAR_RECORD];
        let mut raw = Vec::with_capacity(3072);
        for p in 0..1024 {
            raw.extend([r[p], r[1024 + p], r[2048 + p]]);
        }
        Ok(DynamicImage::ImageRgb8(
            RgbImage::from_raw(32, 32, raw).unwrap(),
        ))
    }
    fn label(&self, i: usize) -> Option<usize> {
        Some(self.records[i * CIFAR_RECORD] as usize)
    }
    fn classes(&self) -> Vec<String> {
        CIFAR_CLASSES.iter().map(|s| s.to_string()).collect()
    }
    fn describe(&self) -> String {
        format!(
            "{} ({} images, 32×32 RGB, CIFAR-10 binary)",
            self.dir.display(),
            self.len()
        )
    }
}

/// A folder of image files, searched recursively. Files in a first-level sub-folder get that
/// folder's class (sorted names, as torchvision's ImageFolder); files at the top level get none.
pub struct ImageFolder {
    root: PathBuf,
    files: Vec<PathBuf>,
    labels: Vec<Option<usize>>,
    classes: Vec<String>,
}

impl ImageFolder {
    pub fn open(root: &Path) -> Result<Self> {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = match entry {
                Ok(e) => e,
                // An image file the walk cannot follow (a dangling link): keep it, so decoding it
                // fails and it is skipped and counted like any unreadable image.
                Err(e) if e.depth() > 0 && e.path().is_some_and(has_image_extension) => {
                    files.push(e.path().unwrap().to_path_buf());
                    continue;
                }
                Err(e) => {
                    let p = e.path().unwrap_or(root).to_path_buf();
                    return Err(match e.into_io_error() {
                        Some(io) => Error::io(p, io),
                        None => Error::format(p, "file system loop"),
                    });
                }
            };
            if entry.file_type().is_file() && has_image_extension(entry.path()) {
                files.push(entry.into_path());
            }
        }
        if files.is_empty() {
            return Err(Error::Data(format!(
                "{}: no images found (looked recursively for {})",
                root.display(),
                IMAGE_EXTENSIONS.join(", ")
            )));
        }
        let class_of = |f: &Path| -> Option<String> {
            let rel = f.strip_prefix(root).ok()?;
            let mut comps = rel.components();
            let first = comps.next()?;
            comps
                .next()
                .map(|_| first.as_os_str().to_string_lossy().into_owned())
        };
        let mut classes: Vec<String> = files.iter().filter_map(|f| class_of(f)).collect();
        classes.sort();
        classes.dedup();
        let labels = files
            .iter()
            .map(|f| class_of(f).and_then(|c| classes.binary_search(&c).ok()))
            .collect();
        Ok(Self {
            root: root.to_path_buf(),
            files,
            labels,
            classes,
        })
    }

    pub fn path(&self, i: usize) -> &Path {
        &self.files[i]
    }
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .map(|e| IMAGE_EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()))
        .unwrap_or(false)
}

/// Decode one image file, refusing enormous dimensions before allocating for them.
pub fn decode_file(path: &Path) -> std::result::Result<DynamicImage, ItemError> {
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

impl Dataset for ImageFolder {
    fn len(&self) -> usize {
        self.files.len()
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        decode_file(&self.files[i])
    }
    fn label(&self, i: usize) -> Option<usize> {
        self.labels[i]
    }
    fn classes(&self) -> Vec<String> {
        self.classes.clone()
    }
    fn describe(&self) -> String {
        format!(
            "{} ({} image files, {} classes)",
            self.root.display(),
            self.files.len(),
            self.classes.len()
        )
    }
    fn name(&self, i: usize) -> String {
        self.files[i].display().to_string()
    }
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
    inner: Box<dyn Dataset>,
    keep: Vec<usize>,
    why: String,
}

impl Subset {
    pub fn excluding(inner: Box<dyn Dataset>, excluded: &[usize], why: String) -> Self {
        let mut drop = vec![false; inner.len()];
        for &i in excluded {
            if i < drop.len() {
                drop[i] = true;
            }
        }
        let keep = (0..inner.len()).filter(|&i| !drop[i]).collect();
        Self { inner, keep, why }
    }
}

impl Dataset for Subset {
    fn len(&self) -> usize {
        self.keep.len()
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        self.inner.get(self.keep[i])
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

/// The training data a config names: its source, without a de-duplication report's duplicates.
pub fn open_config(data: &crate::config::DataConfig) -> Result<Box<dyn Dataset>> {
    let ds = open(&data.source)?;
    let Some(report_path) = &data.exclude else {
        return Ok(ds);
    };
    let path = Path::new(report_path);
    let text = std::fs::read_to_string(path).at(path)?;
    let report: super::dedup::Report = serde_json::from_str(&text)
        .map_err(|e| Error::format(path, format!("not a dcgan de-duplication report: {e}")))?;
    if report.images != ds.len() {
        return Err(Error::mismatch(
            path,
            format!(
                "the report covers {} images, {} holds {}",
                report.images,
                data.source,
                ds.len()
            ),
        ));
    }
    let why = format!(
        "{} duplicates left out by {}",
        report.excluded.len(),
        path.display()
    );
    Ok(Box::new(Subset::excluding(ds, &report.excluded, why)))
}
