//! Downloading the well-known data sets into a cache, verified.
//!
//! The check is the SHA-256 of each file's *decompressed* bytes: mirrors and distributions
//! re-compress the same IDX files (Debian's `.gz` files differ from the upstream ones byte for
//! byte), but the IDX content is the same everywhere.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
use crate::progress::Events;

/// One file of a downloadable data set.
pub struct RemoteFile {
    /// File name, as on the server and on disk.
    pub name: &'static str,
    /// SHA-256 of the decompressed content.
    pub sha256: &'static str,
}

/// A data set `dcgan data download` can fetch: its files and the servers that hold them.
pub struct RemoteSet {
    /// Name given on the command line (`mnist`, `fashion-mnist`, ...).
    pub name: &'static str,
    /// Servers tried in order; a file's URL is a base URL followed by its name.
    pub base_urls: &'static [&'static str],
    /// The files that make up the set.
    pub files: &'static [RemoteFile],
}

/// The training files of the data sets `data::open` knows by name.
pub(crate) const SETS: &[RemoteSet] = &[
    RemoteSet {
        name: "fashion-mnist",
        base_urls: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        files: &[
            RemoteFile {
                name: "train-images-idx3-ubyte.gz",
                sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            },
            RemoteFile {
                name: "train-labels-idx1-ubyte.gz",
                sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            },
        ],
    },
    RemoteSet {
        name: "mnist",
        base_urls: &[
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        files: &[
            RemoteFile {
                name: "train-images-idx3-ubyte.gz",
                sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            },
            RemoteFile {
                name: "train-labels-idx1-ubyte.gz",
                sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            },
        ],
    },
];

/// The downloadable set called `name`, if there is one.
pub fn set(name: &str) -> Option<&'static RemoteSet> {
    SETS.iter().find(|s| s.name == name)
}

/// Where named data sets are looked for and downloaded to, and the cache other fetched files
/// (the FID weights) live in. A front end fills it (the CLI from its flags and their
/// environment variables, shown in `--help`); the library reads no environment variable.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Locations {
    /// Searched first for `<dir>/<name>`.
    pub data_dir: Option<PathBuf>,
    /// Then Debian's packages (`dataset-fashion-mnist`): `/usr/share/datasets/<name>`.
    pub system_dir: PathBuf,
    /// Downloads go to `<cache>/<name>`; the FID weights are `<cache>/fid/default_1.pt`.
    pub cache: PathBuf,
    /// Base addresses to download from instead of a set's own, tried in order.
    pub mirrors: Vec<String>,
}

impl Locations {
    /// Debian's data-set folder and the cache `cache`, nothing else.
    pub fn with_cache(cache: PathBuf) -> Self {
        Self {
            data_dir: None,
            system_dir: PathBuf::from("/usr/share/datasets"),
            cache,
            mirrors: Vec::new(),
        }
    }

    /// The conventional cache folder: `$XDG_CACHE_HOME/dcgan`, else `$HOME/.cache/dcgan`, else
    /// the temporary folder's `dcgan` (front ends pass the variables' values).
    pub fn conventional_cache(xdg_cache_home: Option<PathBuf>, home: Option<PathBuf>) -> PathBuf {
        match (xdg_cache_home, home) {
            (Some(x), _) => x.join("dcgan"),
            (None, Some(h)) => h.join(".cache/dcgan"),
            (None, None) => std::env::temp_dir().join("dcgan"),
        }
    }

    /// Where `dcgan fid` looks for the Inception weights unless told otherwise
    /// (`scripts/fetch-fid-weights.sh` puts them there).
    pub fn fid_weights(&self) -> PathBuf {
        self.cache.join("fid").join("default_1.pt")
    }
}

/// A `--data` value with a named data set resolved to the folder of its files: found in
/// `at.data_dir` or Debian's folder, else downloaded into the cache and verified (a download is
/// announced as an [`crate::progress::Event::Info`] before it starts). Any other value, and a name that is also an existing path,
/// comes back unchanged.
pub fn resolve(spec: &str, at: &Locations, events: &mut dyn Events) -> Result<String> {
    let Some(set) = set(spec) else {
        return Ok(spec.to_string());
    };
    if Path::new(spec).exists() {
        return Ok(spec.to_string()); // a folder of that name in the working directory wins
    }
    let has_files = |d: &PathBuf| {
        set.files
            .iter()
            .all(|f| d.join(f.name).is_file() || d.join(f.name.trim_end_matches(".gz")).is_file())
    };
    let candidates = at
        .data_dir
        .iter()
        .chain([&at.system_dir])
        .map(|d| d.join(spec));
    if let Some(found) = candidates.into_iter().find(has_files) {
        return Ok(found.to_string_lossy().into_owned());
    }
    let cached = at.cache.join(spec);
    let bases: Vec<String> = if at.mirrors.is_empty() {
        set.base_urls.iter().map(|s| s.to_string()).collect()
    } else {
        at.mirrors.clone()
    };
    if !has_files(&cached) {
        events.info(format!(
            "{spec}: not installed; downloading into {} from {}",
            cached.display(),
            bases.join(", ")
        ));
    }
    ensure_from(set, &cached, &bases)?;
    Ok(cached.to_string_lossy().into_owned())
}

/// SHA-256 (hex) of the file's bytes after gzip decompression (or as they are, if not gzip).
pub(crate) fn content_sha256(bytes: &[u8]) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut d = flate2::read::MultiGzDecoder::new(bytes);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = d.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
    } else {
        hasher.update(bytes);
    }
    Ok(crate::io::hex(&hasher.finalize()))
}

/// Make sure `dir` holds the set's files, downloading the missing ones from `bases`, tried in
/// order for each file. A file is written only after its checksum matched.
pub fn ensure_from(set: &RemoteSet, dir: &Path, bases: &[String]) -> Result<()> {
    std::fs::create_dir_all(dir).at(dir)?;
    let bases: Vec<String> = bases
        .iter()
        .map(|b| {
            if b.ends_with('/') {
                b.clone()
            } else {
                format!("{b}/")
            }
        })
        .collect();
    for file in set.files {
        let target = dir.join(file.name);
        if target.is_file() {
            continue;
        }
        let mut failures = Vec::new();
        let mut done = false;
        for base in &bases {
            let url = format!("{base}{}", file.name);
            match fetch(&url) {
                Ok(bytes) => {
                    let sum = content_sha256(&bytes)
                        .map_err(|e| Error::Data(format!("{url}: corrupt gzip data ({e})")))?;
                    if sum != file.sha256 {
                        failures.push(format!(
                            "{url}: checksum mismatch (SHA-256 of the content {sum}, expected {})",
                            file.sha256
                        ));
                        continue;
                    }
                    crate::io::atomic_write(&target, &bytes)?;
                    done = true;
                    break;
                }
                Err(e) => failures.push(format!("{url}: {e}")),
            }
        }
        if !done {
            return Err(Error::Data(format!(
                "{} is not installed and could not be downloaded ({}); install Debian's dataset-fashion-mnist, give a mirror (--mirror, $DCGAN_MIRROR), or give the IDX files' folder",
                set.name,
                failures.join("; ")
            )));
        }
    }
    Ok(())
}

fn fetch(url: &str) -> std::result::Result<Vec<u8>, String> {
    let mut response = ureq::get(url).call().map_err(|e| e.to_string())?;
    response
        .body_mut()
        .with_config()
        .limit(200 << 20)
        .read_to_vec()
        .map_err(|e| e.to_string())
}
