//! SVHN's MATLAB files (`train_32x32.mat`, `test_32x32.mat`, `extra_32x32.mat`): variables
//! `X`, uint8 of size 32×32×3×N, and `y`, N×1 labels 1–10 where 10 stands for the digit 0.
//! Read with the matfile crate (MATLAB v5, compressed or not); MATLAB stores arrays column-major,
//! so pixel (row r, column c) of channel k of image n is `X[r + 32c + 1024k + 3072n]`.

use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};

use super::dataset::{Dataset, ItemError};
use crate::error::{Error, IoContext, Result};

/// An SVHN-style `.mat` file held in memory (the training file is 225 MB of pixels).
pub(crate) struct SvhnMat {
    path: PathBuf,
    /// `X` as MATLAB stores it.
    x: Vec<u8>,
    height: usize,
    width: usize,
    count: usize,
    labels: Option<Vec<usize>>,
}

impl SvhnMat {
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).at(path)?;
        // matfile multiplies a file's dimensions unchecked (found by fuzzing): in a build with
        // overflow checks that panics inside it, so its panic is taken as the file's error.
        let parsed =
            std::panic::catch_unwind(|| matfile::MatFile::parse(std::io::BufReader::new(file)))
                .map_err(|_| {
                    Error::format(path, "not a MATLAB v5 .mat file (its dimensions overflow)")
                })?;
        let mat =
            parsed.map_err(|e| Error::format(path, format!("not a MATLAB v5 .mat file ({e})")))?;
        let x = mat.find_by_name("X").ok_or_else(|| {
            Error::format(
                path,
                "no variable X (SVHN files hold images X and labels y)",
            )
        })?;
        // An image with a zero side is no image (found by fuzzing: the transform divided by it).
        let (height, width, count) = match x.size().as_slice() {
            [h, w, 3, n] if *h > 0 && *w > 0 => (*h, *w, *n),
            [h, w, 3] if *h > 0 && *w > 0 => (*h, *w, 1),
            other => {
                return Err(Error::format(
                    path,
                    format!("X has size {other:?}; SVHN's is 32×32×3×N"),
                ));
            }
        };
        let pixels = match x.data() {
            matfile::NumericData::UInt8 { real, .. } => real.clone(),
            other => {
                return Err(Error::format(
                    path,
                    format!("X is {}, expected uint8 pixels", numeric_kind(other)),
                ));
            }
        };
        if count == 0 {
            return Err(Error::Data(format!(
                "{}: X holds no images",
                path.display()
            )));
        }
        let labels = match mat.find_by_name("y") {
            None => None,
            Some(y) => {
                let values: Vec<f64> = match y.data() {
                    matfile::NumericData::Double { real, .. } => real.clone(),
                    matfile::NumericData::UInt8 { real, .. } => {
                        real.iter().map(|&v| v as f64).collect()
                    }
                    other => {
                        return Err(Error::format(
                            path,
                            format!(
                                "y is {}, expected double or uint8 labels",
                                numeric_kind(other)
                            ),
                        ));
                    }
                };
                if values.len() != count {
                    return Err(Error::format(
                        path,
                        format!("{} labels in y for {count} images in X", values.len()),
                    ));
                }
                let mut out = Vec::with_capacity(count);
                for (i, &v) in values.iter().enumerate() {
                    if v.fract() != 0.0 || !(1.0..=10.0).contains(&v) {
                        return Err(Error::format(
                            path,
                            format!("label {v} of image {i} is not one of SVHN's 1–10"),
                        ));
                    }
                    // SVHN writes the digit 0 as label 10.
                    out.push(v as usize % 10);
                }
                Some(out)
            }
        };
        Ok(SvhnMat {
            path: path.to_path_buf(),
            x: pixels,
            height,
            width,
            count,
            labels,
        })
    }
}

fn numeric_kind(d: &matfile::NumericData) -> &'static str {
    use matfile::NumericData as N;
    match d {
        N::Int8 { .. } => "int8",
        N::UInt8 { .. } => "uint8",
        N::Int16 { .. } => "int16",
        N::UInt16 { .. } => "uint16",
        N::Int32 { .. } => "int32",
        N::UInt32 { .. } => "uint32",
        N::Int64 { .. } => "int64",
        N::UInt64 { .. } => "uint64",
        N::Single { .. } => "single",
        N::Double { .. } => "double",
    }
}

impl Dataset for SvhnMat {
    fn len(&self) -> usize {
        self.count
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        let (h, w) = (self.height, self.width);
        let base = i * h * w * 3;
        let img = RgbImage::from_fn(w as u32, h as u32, |c, r| {
            let (r, c) = (r as usize, c as usize);
            let px = |k: usize| self.x[base + k * h * w + c * h + r];
            image::Rgb([px(0), px(1), px(2)])
        });
        Ok(DynamicImage::ImageRgb8(img))
    }
    fn label(&self, i: usize) -> Option<usize> {
        self.labels.as_ref().map(|l| l[i])
    }
    fn classes(&self) -> Vec<String> {
        if self.labels.is_some() {
            (0..10).map(|d| d.to_string()).collect()
        } else {
            Vec::new()
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} (SVHN .mat, {} images of {}×{})",
            self.path.display(),
            self.count,
            self.width,
            self.height
        )
    }
}
