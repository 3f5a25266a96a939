//! LSUN's LMDB databases, as the LSUN project distributes them (`bedroom_train_lmdb/` holding
//! `data.mdb` and `lock.mdb`): the unnamed database maps each image id to the encoded image
//! (JPEG or WebP).
//!
//! Read by this module, not by the LMDB C library. LMDB trusts its file: a corrupt `data.mdb`
//! made it read outside its memory map and crash the process (found by fuzzing,
//! docs/reliability.md), and every Rust LMDB crate (heed, lmdb-rs, lmdb-zero) binds that C
//! library. Reading needs only a small part of the format, written here from LMDB's `mdb.c`
//! layout (64-bit builds, the only ones LSUN's files come from): the two meta pages, the main
//! database's B+tree of branch and leaf pages, and overflow pages for values larger than a
//! node. Every page number, offset and length is checked against its page and the file before
//! it is used, and the walk visits each page at most once, so a corrupt file is an error naming
//! it. `lock.mdb` is not needed: the file is only read (a read-only medium works).
//!
//! Memory: the keys and each value's place in the file are kept (~64 bytes an image: 190 MB
//! for LSUN's 3 million bedrooms); values are read from the file a batch at a time.

use std::fs::File;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageReader};

use super::dataset::{Dataset, ItemError, decode_limited};
use crate::error::{Error, Result};

// The on-disk layout (mdb.c, 64-bit): every page starts with a 16-byte header.
const PAGE_HEADER: usize = 16;
const MAGIC: u32 = 0xBEEF_C0DE;
const DATA_VERSION: u32 = 1;
const P_BRANCH: u16 = 0x01;
const P_LEAF: u16 = 0x02;
const P_OVERFLOW: u16 = 0x04;
const P_LEAF2: u16 = 0x20;
const P_SUBP: u16 = 0x40;
const F_BIGDATA: u16 = 0x01;
const F_SUBDATA: u16 = 0x02;
const F_DUPDATA: u16 = 0x04;
const MDB_DUPSORT: u16 = 0x04;
const NODE_HEADER: usize = 8;
const NO_ROOT: u64 = u64::MAX;
/// LMDB's trees are shallow (a depth of 5 holds billions of entries); a deeper one is corrupt.
const MAX_DEPTH: u16 = 32;

/// Where an item's value lies.
#[derive(Clone, Copy)]
enum Value {
    /// Inside its leaf page: `len` bytes at file offset `at`.
    Inline { at: u64, len: u32 },
    /// On its own overflow pages, starting at page `page`.
    Overflow { page: u64, len: u32 },
}

/// A read-only LSUN LMDB database (the `data.mdb` of a category), read without the C library: its
/// records' keys and values.
pub struct Lmdb {
    dir: PathBuf,
    data: PathBuf,
    file: DataFile,
    page_size: usize,
    keys: Vec<u8>,
    /// `keys[key_ends[i]..key_ends[i + 1]]` is item i's key.
    key_ends: Vec<usize>,
    values: Vec<Value>,
}

/// Whether `dir` looks like an LMDB environment.
pub(crate) fn is_lmdb(dir: &Path) -> bool {
    dir.join("data.mdb").is_file()
}

/// The parts of a meta page the reader uses.
struct Meta {
    page_size: usize,
    flags: u16,
    depth: u16,
    entries: u64,
    root: u64,
    last_page: u64,
    txn: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A meta page's `MDB_meta`, which starts after the page header: magic, version, address,
/// map size, the free and main databases (48 bytes each), last page, transaction id.
fn parse_meta(page: &[u8]) -> Option<Meta> {
    let m = &page[PAGE_HEADER..];
    if u32_at(m, 0) != MAGIC || u32_at(m, 4) != DATA_VERSION {
        return None;
    }
    let main = 24 + 48;
    Some(Meta {
        page_size: u32_at(m, 24) as usize,
        flags: u16_at(m, main + 4),
        depth: u16_at(m, main + 6),
        entries: u64_at(m, main + 32),
        root: u64_at(m, main + 40),
        last_page: u64_at(m, 120),
        txn: u64_at(m, 128),
    })
}

impl Lmdb {
    /// Open the `data.mdb` in folder `dir` and index its records.
    pub fn open(dir: &Path) -> Result<Self> {
        let data = dir.join("data.mdb");
        let file = File::open(&data).map_err(|e| Error::io(&data, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(&data, e))?.len();
        let file = DataFile::new(file);
        let bad =
            |why: String| Error::format(&data, format!("not a readable LMDB database ({why})"));

        // Page 0's meta gives the page size; page 1 holds the other meta. LMDB commits
        // alternate between the two, so the newer valid one is the database.
        let mut head = vec![0u8; PAGE_HEADER + 136];
        file.read_at(0, &mut head)
            .map_err(|_| bad(format!("{file_len} bytes, too short")))?;
        let first =
            parse_meta(&head).ok_or_else(|| bad("no LMDB meta page at the start".into()))?;
        let page_size = first.page_size;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(bad(format!("page size {page_size}")));
        }
        let second = file
            .read_at(page_size as u64, &mut head)
            .ok()
            .and_then(|()| parse_meta(&head))
            .filter(|m| m.page_size == page_size);
        let meta = match second {
            Some(m) if m.txn > first.txn => m,
            _ => first,
        };

        let psize = page_size as u64;
        let pages = meta.last_page.saturating_add(1);
        if pages.checked_mul(psize).is_none_or(|end| end > file_len) {
            return Err(Error::format(
                &data,
                format!(
                    "truncated: the database has {pages} pages of {psize} bytes, the file only {file_len} bytes"
                ),
            ));
        }
        if meta.flags & MDB_DUPSORT != 0 {
            return Err(bad(
                "a database with duplicate keys, not LSUN's layout".into()
            ));
        }
        let mut db = Self {
            dir: dir.to_path_buf(),
            data: data.clone(),
            file,
            page_size,
            keys: Vec::new(),
            key_ends: vec![0],
            values: Vec::new(),
        };
        if meta.root != NO_ROOT {
            db.walk(&meta).map_err(bad)?;
        }
        if db.values.is_empty() {
            return Err(Error::Data(format!(
                "{}: the LMDB database holds no images",
                dir.display()
            )));
        }
        Ok(db)
    }

    /// Reads the main tree in key order, keeping each key and where its value lies.
    fn walk(&mut self, meta: &Meta) -> std::result::Result<(), String> {
        if meta.depth == 0 || meta.depth > MAX_DEPTH {
            return Err(format!("tree depth {}", meta.depth));
        }
        let psize = self.page_size;
        let pages = meta.last_page + 1;
        // Meta pages 0 and 1 are never in the tree; every other page is in it at most once, so
        // a walk reading more pages than the file has is going round a cycle.
        let mut budget = pages.saturating_sub(2);
        let mut stack = vec![(meta.root, 0u16)];
        let mut page = vec![0u8; psize];
        while let Some((number, level)) = stack.pop() {
            if number < 2 || number >= pages {
                return Err(format!("page number {number} outside pages 2..{pages}"));
            }
            budget = budget
                .checked_sub(1)
                .ok_or("the tree reaches a page twice")?;
            self.file
                .read_at(number * psize as u64, &mut page)
                .map_err(|e| format!("page {number}: {e}"))?;
            let leaf = level + 1 == meta.depth;
            let (flags, nodes) = page_nodes(&page, number)?;
            let expected = if leaf { P_LEAF } else { P_BRANCH };
            if flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_LEAF2 | P_SUBP) != expected {
                return Err(format!(
                    "page {number} has flags {flags:#x} at level {level} of {}",
                    meta.depth
                ));
            }
            if !leaf {
                // Children are pushed last-first so that they are read in key order.
                for &at in nodes.iter().rev() {
                    let child = u16_at(&page, at) as u64
                        | (u16_at(&page, at + 2) as u64) << 16
                        | (u16_at(&page, at + 4) as u64) << 32;
                    stack.push((child, level + 1));
                }
                continue;
            }
            for at in nodes {
                let node_flags = u16_at(&page, at + 4);
                if node_flags & (F_SUBDATA | F_DUPDATA) != 0 {
                    return Err(format!(
                        "page {number} holds a named or duplicate-key database, not LSUN's layout"
                    ));
                }
                let len = u16_at(&page, at) as u32 | (u16_at(&page, at + 2) as u32) << 16;
                let key_len = u16_at(&page, at + 6) as usize;
                let key = at + NODE_HEADER;
                let after_key = key + key_len;
                if after_key > psize {
                    return Err(format!("page {number}: a key runs past the page"));
                }
                let value = if node_flags & F_BIGDATA != 0 {
                    if after_key + 8 > psize {
                        return Err(format!("page {number}: a node runs past the page"));
                    }
                    let first = u64_at(&page, after_key);
                    let span = (PAGE_HEADER as u64 + len as u64).div_ceil(psize as u64);
                    if first < 2 || first.saturating_add(span) > pages {
                        return Err(format!(
                            "page {number}: a value on pages {first}..+{span}, outside the file's {pages}"
                        ));
                    }
                    Value::Overflow { page: first, len }
                } else {
                    if after_key + len as usize > psize {
                        return Err(format!("page {number}: a value runs past the page"));
                    }
                    Value::Inline {
                        at: number * psize as u64 + after_key as u64,
                        len,
                    }
                };
                self.keys.extend_from_slice(&page[key..after_key]);
                self.key_ends.push(self.keys.len());
                self.values.push(value);
            }
        }
        if self.values.len() as u64 != meta.entries {
            return Err(format!(
                "the tree holds {} entries, its header says {}",
                self.values.len(),
                meta.entries
            ));
        }
        Ok(())
    }

    /// Key of record `i`.
    pub fn key(&self, i: usize) -> &[u8] {
        &self.keys[self.key_ends[i]..self.key_ends[i + 1]]
    }

    fn item_error(&self, i: usize, message: String) -> ItemError {
        ItemError {
            item: format!(
                "{}[{}]",
                self.dir.display(),
                String::from_utf8_lossy(self.key(i))
            ),
            message,
        }
    }

    /// The stored (encoded) bytes of item `i`.
    pub fn raw(&self, i: usize) -> std::result::Result<Vec<u8>, ItemError> {
        let fail = |e: String| self.item_error(i, format!("{}: {e}", self.data.display()));
        match self.values[i] {
            Value::Inline { at, len } => {
                let mut bytes = vec![0u8; len as usize];
                self.file
                    .read_at(at, &mut bytes)
                    .map_err(|e| fail(e.to_string()))?;
                Ok(bytes)
            }
            Value::Overflow { page, len } => {
                // The overflow page's header must say it is one, of this number, long enough.
                let mut bytes = vec![0u8; PAGE_HEADER + len as usize];
                self.file
                    .read_at(page * self.page_size as u64, &mut bytes)
                    .map_err(|e| fail(e.to_string()))?;
                let count = u32_at(&bytes, 12) as u64 * self.page_size as u64;
                if u64_at(&bytes, 0) != page
                    || u16_at(&bytes, 10) & P_OVERFLOW == 0
                    || count < bytes.len() as u64
                {
                    return Err(fail(format!(
                        "page {page} is not the value's overflow page"
                    )));
                }
                bytes.drain(..PAGE_HEADER);
                Ok(bytes)
            }
        }
    }
}

/// A branch or leaf page's flags and the offsets of its nodes, each checked to leave room for
/// a node header inside the page.
fn page_nodes(page: &[u8], number: u64) -> std::result::Result<(u16, Vec<usize>), String> {
    if u64_at(page, 0) != number {
        return Err(format!("page {number} says it is page {}", u64_at(page, 0)));
    }
    let flags = u16_at(page, 10);
    let lower = u16_at(page, 12) as usize;
    let upper = u16_at(page, 14) as usize;
    if lower < PAGE_HEADER || lower > upper || upper > page.len() || !lower.is_multiple_of(2) {
        return Err(format!("page {number} has free space {lower}..{upper}"));
    }
    let count = (lower - PAGE_HEADER) / 2;
    let nodes: Vec<usize> = (0..count)
        .map(|k| u16_at(page, PAGE_HEADER + 2 * k) as usize)
        .collect();
    if let Some(at) = nodes
        .iter()
        .find(|&&at| at < upper || at + NODE_HEADER > page.len())
    {
        return Err(format!("page {number} has a node at offset {at}"));
    }
    Ok((flags, nodes))
}

/// `data.mdb`, read at explicit offsets by any number of loader threads at once: positional
/// reads on Unix (no shared cursor, so no lock), elsewhere one handle behind a lock.
struct DataFile {
    #[cfg(unix)]
    file: File,
    #[cfg(not(unix))]
    file: std::sync::Mutex<File>,
}

impl DataFile {
    fn new(file: File) -> Self {
        #[cfg(not(unix))]
        let file = std::sync::Mutex::new(file);
        Self { file }
    }

    /// Reads exactly `buf.len()` bytes at `offset`; past the end is an error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        #[cfg(unix)]
        let read = {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(buf, offset)
        };
        #[cfg(not(unix))]
        let read = {
            use std::io::{Read, Seek, SeekFrom};
            let mut file = self.file.lock().unwrap();
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(buf))
        };
        read.map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                std::io::Error::other(format!(
                    "{} bytes at offset {offset} run past the end of the file",
                    buf.len()
                ))
            } else {
                e
            }
        })
    }
}

impl Dataset for Lmdb {
    fn len(&self) -> usize {
        self.values.len()
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
        format!("{} ({} images, LMDB)", self.dir.display(), self.len())
    }
    fn name(&self, i: usize) -> String {
        String::from_utf8_lossy(self.key(i)).into_owned()
    }
}
