//! LSUN's LMDB databases, as the LSUN project distributes them (`bedroom_train_lmdb/` holding
//! `data.mdb` and `lock.mdb`): the unnamed database maps each image id to the encoded image
//! (JPEG or WebP). Read with heed; opened read-only.
//!
//! Memory: the keys are kept (concatenated, ~48 bytes an image: 140 MB for LSUN's 3 million
//! bedrooms); values stay in the memory-mapped file and are decoded a batch at a time.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use heed::types::{Bytes, DecodeIgnore};
use heed::{Database, Env, EnvFlags, EnvOpenOptions, WithoutTls};
use image::{DynamicImage, ImageReader};

use super::dataset::{Dataset, ItemError, decode_limited};
use crate::error::{Error, Result};

pub struct Lmdb {
    path: PathBuf,
    env: Env<WithoutTls>,
    db: Database<Bytes, Bytes>,
    keys: Vec<u8>,
    /// `keys[offsets[i]..offsets[i + 1]]` is item i's key.
    offsets: Vec<usize>,
}

/// Whether `dir` looks like an LMDB environment.
pub fn is_lmdb(dir: &Path) -> bool {
    dir.join("data.mdb").is_file()
}

impl Lmdb {
    pub fn open(dir: &Path) -> Result<Self> {
        let data = dir.join("data.mdb");
        let file_len = std::fs::metadata(&data)
            .map_err(|e| Error::io(&data, e))?
            .len();
        let bad =
            |e: heed::Error| Error::format(&data, format!("not a readable LMDB database ({e})"));
        let env = open_read_only(dir, file_len).map_err(bad)?;
        // A truncated file would make LMDB read past the end of its memory map (a crash, not an
        // error): compare the pages the database says it has with the file's length first.
        let pages = env.info().last_page_number as u64 + 1;
        let page = env.stat().page_size as u64;
        if pages * page > file_len {
            return Err(Error::format(
                &data,
                format!(
                    "truncated: the database has {pages} pages of {page} bytes, the file only {file_len} bytes"
                ),
            ));
        }
        let rtxn = env.read_txn().map_err(bad)?;
        let db: Database<Bytes, Bytes> = env
            .open_database(&rtxn, None)
            .map_err(bad)?
            .ok_or_else(|| Error::format(&data, "has no main database"))?;
        let mut keys = Vec::new();
        let mut offsets = vec![0];
        for entry in db
            .remap_data_type::<DecodeIgnore>()
            .iter(&rtxn)
            .map_err(bad)?
        {
            let (k, ()) = entry.map_err(bad)?;
            keys.extend_from_slice(k);
            offsets.push(keys.len());
        }
        drop(rtxn);
        if offsets.len() == 1 {
            return Err(Error::Data(format!(
                "{}: the LMDB database holds no images",
                dir.display()
            )));
        }
        Ok(Self {
            path: dir.to_path_buf(),
            env,
            db,
            keys,
            offsets,
        })
    }

    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys[self.offsets[i]..self.offsets[i + 1]]
    }

    fn item_error(&self, i: usize, message: String) -> ItemError {
        ItemError {
            item: format!(
                "{}[{}]",
                self.path.display(),
                String::from_utf8_lossy(self.key(i))
            ),
            message,
        }
    }

    /// The stored (encoded) bytes of item `i`.
    pub fn raw(&self, i: usize) -> std::result::Result<Vec<u8>, ItemError> {
        let rtxn = self
            .env
            .read_txn()
            .map_err(|e| self.item_error(i, e.to_string()))?;
        let v = self
            .db
            .get(&rtxn, self.key(i))
            .map_err(|e| self.item_error(i, e.to_string()))?;
        Ok(v.ok_or_else(|| self.item_error(i, "key vanished".into()))?
            .to_vec())
    }
}

#[allow(unsafe_code)]
fn open_read_only(dir: &Path, file_len: u64) -> heed::Result<Env<WithoutTls>> {
    let mut options = EnvOpenOptions::new().read_txn_without_tls();
    options.map_size((file_len as usize).max(1 << 20).next_multiple_of(1 << 20));
    // SAFETY: heed marks these unsafe because LMDB memory-maps the file: it must not be truncated
    // or written by another process while it is open (a data set being trained on is not), and
    // the flags must match how other processes open it (read-only never conflicts).
    unsafe {
        options.flags(EnvFlags::READ_ONLY);
        options.open(dir)
    }
}

impl Dataset for Lmdb {
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }
    fn get(&self, i: usize) -> std::result::Result<DynamicImage, ItemError> {
        let bytes = self.raw(i)?;
        let item = self.item_error(i, String::new()).item;
        decode_limited(ImageReader::new(Cursor::new(bytes)), item)
    }
    fn label(&self, _: usize) -> Option<usize> {
        None
    }
    fn classes(&self) -> Vec<String> {
        vec![]
    }
    fn describe(&self) -> String {
        format!("{} ({} images, LMDB)", self.path.display(), self.len())
    }
    fn name(&self, i: usize) -> String {
        String::from_utf8_lossy(self.key(i)).into_owned()
    }
}
