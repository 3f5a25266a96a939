//! Readers of MNIST-style IDX files, CIFAR-10 binary batches and image folders.

use std::io::Read;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, RgbImage};

use super::dataset::{Dataset, IMAGE_EXTENSIONS, ItemError, decode_file};
use crate::error::{Error, IoContext, Result};

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
pub(crate) struct Idx {
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
pub(crate) struct Cifar {
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
            if p.is_file() {
                records.extend_from_slice(&read_cifar_records(&p)?);
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            records,
        })
    }

    /// A single batch file (for example `test_batch.bin`).
    pub(crate) fn open_file(path: &Path) -> Result<Self> {
        Ok(Self {
            dir: path.to_path_buf(),
            records: read_cifar_records(path)?,
        })
    }
}

/// One CIFAR-10 batch file's records, checked: whole records, each label one of the ten classes.
fn read_cifar_records(path: &Path) -> Result<Vec<u8>> {
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
    if let Some((i, label)) = bytes
        .chunks_exact(CIFAR_RECORD)
        .map(|r| r[0])
        .enumerate()
        .find(|&(_, l)| usize::from(l) >= CIFAR_CLASSES.len())
    {
        return Err(Error::format(
            path,
            format!(
                "record {i} has label {label}; CIFAR-10 labels are 0 to {} (a CIFAR-100 file?)",
                CIFAR_CLASSES.len() - 1
            ),
        ));
    }
    Ok(bytes)
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
pub(crate) struct ImageFolder {
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
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .map(|e| IMAGE_EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()))
        .unwrap_or(false)
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
