//! TensorBoard event files: scalars and images a training run writes for `tensorboard --logdir`.
//!
//! An event file is a sequence of TFRecords (length, masked CRC-32C of the length, the bytes,
//! masked CRC-32C of the bytes), each an `Event` protobuf message: the first names the file
//! version, the others carry a `Summary` of tagged values at a step. The messages are declared
//! here with prost's derive (field numbers from TensorFlow's `event.proto` and `summary.proto`).
//!
//! Why not a crate: `tensorboard-rs`, the one crate that writes event files, was last released in
//! 2022 and depends on the protobuf 2 runtime and an image stack of its own; the format is four
//! messages and a framing of a few lines, and the tests read every file back with TensorBoard's
//! own reader.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use prost::Message;

use crate::error::{IoContext, Result};

/// `Event`: a wall time, a step and one of its payloads (a version string or a summary).
#[derive(Clone, PartialEq, Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The training step.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// `brain.Event:2` in a file's first event.
    #[prost(string, optional, tag = "3")]
    pub file_version: Option<String>,
    /// Tagged values.
    #[prost(message, optional, tag = "5")]
    pub summary: Option<Summary>,
}

/// `Summary`: tagged values of one step.
#[derive(Clone, PartialEq, Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `Summary.Value`: a scalar or an image under a tag (members of its oneof).
#[derive(Clone, PartialEq, Message)]
pub struct SummaryValue {
    /// The tag, `/`-separated groups, e.g. `loss/D`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// A scalar.
    #[prost(float, optional, tag = "2")]
    pub simple_value: Option<f32>,
    /// An image.
    #[prost(message, optional, tag = "4")]
    pub image: Option<SummaryImage>,
}

/// `Summary.Image`: an encoded (PNG) image and its size.
#[derive(Clone, PartialEq, Message)]
pub struct SummaryImage {
    /// Rows.
    #[prost(int32, tag = "1")]
    pub height: i32,
    /// Columns.
    #[prost(int32, tag = "2")]
    pub width: i32,
    /// 1 grey, 3 RGB, 4 RGBA.
    #[prost(int32, tag = "3")]
    pub colorspace: i32,
    /// The PNG file's bytes.
    #[prost(bytes = "vec", tag = "4")]
    pub encoded_image_string: Vec<u8>,
}

/// TFRecord's CRC: CRC-32C rotated right by 15 bits plus a constant, so that a CRC of data
/// that holds CRCs stays well distributed.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord holding `data`.
pub fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The records of `bytes`, checked: each record's data, or the offset where the file stops
/// being valid (a truncated last record is what a killed writer leaves).
pub fn read_records(bytes: &[u8]) -> std::result::Result<Vec<&[u8]>, usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let head = bytes.get(at..at + 12).ok_or(at)?;
        let (len, crc) = head.split_at(8);
        if masked_crc(len).to_le_bytes() != crc {
            return Err(at);
        }
        let n = u64::from_le_bytes(len.try_into().expect("8 bytes")) as usize;
        let data = bytes.get(at + 12..at + 12 + n).ok_or(at)?;
        let tail = bytes.get(at + 12 + n..at + 16 + n).ok_or(at)?;
        if masked_crc(data).to_le_bytes() != tail {
            return Err(at);
        }
        out.push(data);
        at += 16 + n;
    }
    Ok(out)
}

/// An open event file. Each event is written whole and flushed, so TensorBoard shows a run
/// while it trains and a stopped run loses nothing it logged.
pub struct EventWriter {
    file: File,
    path: PathBuf,
}

impl EventWriter {
    /// A new event file in `dir` (created if needed), named as TensorBoard looks for them:
    /// `events.out.tfevents.<seconds>.<host>.<pid>.dcgan`.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).at(dir)?;
        let now = wall_time();
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or_else(|| "localhost".into());
        let name = format!(
            "events.out.tfevents.{}.{host}.{}.dcgan",
            now as u64,
            std::process::id()
        );
        let path = dir.join(name);
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .at(&path)?;
        let mut w = Self { file, path };
        w.write(&Event {
            wall_time: now,
            step: 0,
            file_version: Some("brain.Event:2".into()),
            summary: None,
        })?;
        Ok(w)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Scalars at `step`, `(tag, value)`; non-finite values are left out (TensorBoard's
    /// charts cannot show them, and a missing point says more than a spike).
    pub fn scalars(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        let value: Vec<_> = values
            .iter()
            .filter(|(_, v)| v.is_finite())
            .map(|&(tag, v)| SummaryValue {
                tag: tag.into(),
                simple_value: Some(v as f32),
                image: None,
            })
            .collect();
        if value.is_empty() {
            return Ok(());
        }
        self.summary(step, value)
    }

    /// A PNG image at `step` under `tag`.
    pub fn image(
        &mut self,
        step: u64,
        tag: &str,
        png: Vec<u8>,
        (width, height, channels): (u32, u32, u32),
    ) -> Result<()> {
        let image = SummaryImage {
            height: height as i32,
            width: width as i32,
            colorspace: channels as i32,
            encoded_image_string: png,
        };
        self.summary(
            step,
            vec![SummaryValue {
                tag: tag.into(),
                simple_value: None,
                image: Some(image),
            }],
        )
    }

    fn summary(&mut self, step: u64, value: Vec<SummaryValue>) -> Result<()> {
        self.write(&Event {
            wall_time: wall_time(),
            step: step as i64,
            file_version: None,
            summary: Some(Summary { value }),
        })
    }

    fn write(&mut self, event: &Event) -> Result<()> {
        let bytes = record(&event.encode_to_vec());
        self.file.write_all(&bytes).at(&self.path)?;
        self.file.flush().at(&self.path)
    }
}

fn wall_time() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_frame_and_check_their_bytes() {
        // TFRecord's masked CRC of the empty string and of "a" (TensorFlow's crc32c::Mask of
        // crc32c 0x00000000 and 0xc1d04330).
        assert_eq!(masked_crc(b""), 0xa282_ead8);
        assert_eq!(
            masked_crc(b"a"),
            0xc1d04330u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
        let r = record(b"hello");
        assert_eq!(r.len(), 5 + 16);
        assert_eq!(read_records(&r).unwrap(), vec![b"hello".as_slice()]);
        let mut two = r.clone();
        two.extend(record(b""));
        assert_eq!(read_records(&two).unwrap().len(), 2);
        // A flipped bit or a cut record is found, at the record's offset.
        let mut bad = two.clone();
        bad[14] ^= 1;
        assert_eq!(read_records(&bad), Err(0));
        assert_eq!(read_records(&two[..two.len() - 1]), Err(r.len()));
    }
}
