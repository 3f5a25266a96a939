//! What a local web page showing training runs live asks for, answered without any HTTP
//! machinery ([`crate::http`] carries requests here over a socket), so every rule is testable
//! alone. A [`Site`] is opened on the run directories and answers requests for as long as its
//! front end keeps it.
//!
//! ```text
//! /                              the page (assets/serve.html, assets/serve.js, built in)
//! /api/runs                      the runs: name, steps logged, newest checkpoint, explorer or not
//! /api/runs/NAME/samples         the run's sample grids, oldest first
//! /api/runs/NAME/log?from=B&id=I the log's complete lines after byte B, parsed
//! /runs/NAME/PATH                a file inside the run directory, nothing outside it
//! /explore/NAME/                 the export-web explorer on the run's newest checkpoint
//! ```
//!
//! Read-only: GET and HEAD, nothing else. A path is decoded segment by segment; a segment that is
//! empty, `.`, `..`, hidden, or holds a slash, a backslash or NUL once decoded makes the whole
//! request a 404, as does a file whose real path (symlinks followed) leaves its run directory.
//! No CORS header is ever sent; with a loopback address, a request whose Host header names
//! another host (a DNS-rebinding page) gets 403.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use percent_encoding::percent_decode_str;
use serde::Serialize;

use dcgan::checkpoint::{self, Checkpoint};
use dcgan::config::RunDir;
use dcgan::error::IoContext;
use dcgan::tasks::web;
use dcgan::web::Precision;
use dcgan::{Error, Result};

const PAGE: &str = include_str!("../assets/serve.html");
const SCRIPT: &str = include_str!("../assets/serve.js");

/// The most log bytes one answer carries; the page asks again from where it stopped.
const LOG_CHUNK: u64 = 4 << 20;

/// One HTTP answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// The body's bytes.
    pub body: Vec<u8>,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

impl Reply {
    fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type,
            body: body.into(),
            location: None,
        }
    }
    fn json(value: &impl Serialize) -> Self {
        Self::ok(
            "application/json",
            serde_json::to_vec(value).expect("plain data serialises"),
        )
    }
    fn status(status: u16, message: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{message}\n").into_bytes(),
            location: None,
        }
    }
    fn not_found() -> Self {
        Self::status(404, "not found")
    }
}

/// A served run: its name in URLs and its directory (canonical).
#[derive(Clone, Debug, Serialize)]
pub struct ServedRun {
    /// Its name in URLs (unique among the runs served).
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
}

/// An explorer's generated files for one checkpoint (which file, and as it was when read).
struct Explorer {
    key: (PathBuf, Option<SystemTime>, u64),
    model_json: Vec<u8>,
    weights: Vec<u8>,
}

/// The server's state: the runs, the web bundle, and the explorers made so far.
pub struct Site {
    runs: Vec<ServedRun>,
    bundle: Option<PathBuf>,
    /// `Host` header values accepted (loopback binding), or any (`None`).
    hosts: Option<Vec<String>>,
    /// Whether `/api/runs` gives each run's folder: only on a loopback binding, where every
    /// visitor is on this machine; elsewhere the folder would show the machine's layout.
    show_folders: bool,
    explorers: Mutex<HashMap<String, Explorer>>,
}

/// What `/api/runs` says of one run.
#[derive(Serialize)]
struct RunInfo<'a> {
    name: &'a str,
    /// The run's folder as given on the command line, on a loopback binding only (else absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<&'a Path>,
    /// From the run's config.json, when readable.
    image_size: Option<u64>,
    channels: Option<u64>,
    latent_dim: Option<u64>,
    /// What the run changes in the paper's recipe, in words (`RunConfig::departures`); empty
    /// for the paper's recipe, absent when config.json is unreadable.
    recipe: Option<Vec<String>>,
    /// The newest checkpoint's step; the explorer shows it.
    checkpoint_step: Option<u64>,
    /// Whether `/explore/NAME/` works: a checkpoint and the web bundle.
    explorer: bool,
}

#[derive(Serialize)]
struct SampleInfo {
    /// The URL path under `/runs/NAME/`.
    path: String,
    /// `step-NNNNNNNN.png`'s step; epoch grids carry their epoch instead.
    step: Option<u64>,
    epoch: Option<u64>,
}

#[derive(Serialize, Default)]
struct LogChunk {
    /// Identifies the file: it changes when the log is rewritten (a resumed run cuts the steps
    /// after its checkpoint), and the page then starts again from byte 0.
    id: String,
    /// Whether this answer starts again from byte 0 though the page asked for a later byte.
    reset: bool,
    /// The byte after the last complete line sent: the page's next `from`.
    next: u64,
    /// The file's size when read: the page asks again at once while `next` < `size`.
    size: u64,
    records: Vec<serde_json::Value>,
}

impl Site {
    /// The runs of `dirs` (each with a `log.jsonl`: `dcgan train` writes one as it starts), named
    /// by their folder's name (`-2`, `-3`… when two share one), and the explorer's bundle when
    /// built.
    pub fn open(dirs: &[PathBuf], bundle: Option<PathBuf>) -> Result<Self> {
        if dirs.is_empty() {
            return Err(Error::config(
                "runs",
                "none",
                "give at least one run directory",
            ));
        }
        let mut runs: Vec<ServedRun> = Vec::new();
        for d in dirs {
            if !d.is_dir() {
                let why = if d.exists() {
                    "is not a folder: give a run directory (the --out of `dcgan train`)"
                } else {
                    "does not exist"
                };
                return Err(Error::format(d, why));
            }
            if !RunDir::new(d).log().is_file() {
                return Err(Error::format(
                    d,
                    "has no log.jsonl, so it is not a training run (`dcgan train --out DIR` writes one as it starts)",
                ));
            }
            let dir = d.canonicalize().at(d)?;
            let base = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "run".into());
            let mut name = base.clone();
            let mut k = 1;
            while runs.iter().any(|r| r.name == name) {
                k += 1;
                name = format!("{base}-{k}");
            }
            if runs.iter().any(|r| r.dir == dir) {
                return Err(Error::format(d, "is given twice"));
            }
            runs.push(ServedRun { name, dir });
        }
        let bundle = bundle.filter(|b| web::BUNDLE_FILES.iter().all(|f| b.join(f).is_file()));
        Ok(Self {
            runs,
            bundle,
            hosts: None,
            show_folders: false,
            explorers: Mutex::new(HashMap::new()),
        })
    }

    /// The runs served.
    pub fn runs(&self) -> &[ServedRun] {
        &self.runs
    }

    /// Whether the explorer can be served (the web bundle was found).
    pub fn has_bundle(&self) -> bool {
        self.bundle.is_some()
    }

    /// Accept only `Host` headers naming `addr` by a loopback name when `addr` is a loopback
    /// address (a page on another site that rebinds its name to 127.0.0.1 sends its own name).
    pub fn bound_to(&mut self, addr: SocketAddr) {
        self.show_folders = addr.ip().is_loopback();
        self.hosts = addr.ip().is_loopback().then(|| {
            let p = addr.port();
            vec![
                format!("127.0.0.1:{p}"),
                format!("localhost:{p}"),
                format!("[::1]:{p}"),
                addr.to_string(),
            ]
        });
    }

    /// Answer `method target` (`target`: the request's path and query, as sent).
    pub fn respond(&self, method: &str, target: &str, host: Option<&str>) -> Reply {
        if method != "GET" && method != "HEAD" {
            return Reply::status(405, "read-only: GET and HEAD only");
        }
        if let Some(hosts) = &self.hosts
            && !host.is_some_and(|h| hosts.iter().any(|a| a.eq_ignore_ascii_case(h)))
        {
            return Reply::status(403, "this server answers only requests for its own address");
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let Some(rest) = path.strip_prefix('/') else {
            return Reply::not_found();
        };
        let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
        match head {
            "" => Reply::ok("text/html; charset=utf-8", PAGE),
            "serve.js" if tail.is_empty() => Reply::ok("text/javascript; charset=utf-8", SCRIPT),
            "api" => self.api(tail, query),
            "runs" => self.run_file(tail),
            "explore" => self.explore(tail),
            _ => Reply::not_found(),
        }
    }

    /// The run named by the percent-encoded `segment`.
    fn run(&self, segment: &str) -> Option<&ServedRun> {
        let name = decode_segment(segment)?;
        self.runs.iter().find(|r| r.name == name)
    }

    fn api(&self, tail: &str, query: &str) -> Reply {
        if tail == "runs" {
            let infos: Vec<RunInfo> = self.runs.iter().map(|r| self.info(r)).collect();
            return Reply::json(&infos);
        }
        let Some(rest) = tail.strip_prefix("runs/") else {
            return Reply::not_found();
        };
        let Some((name, what)) = rest.split_once('/') else {
            return Reply::not_found();
        };
        let Some(run) = self.run(name) else {
            return Reply::not_found();
        };
        match what {
            "samples" => Reply::json(&samples(&run.dir)),
            "log" => {
                let arg = |k: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                        .unwrap_or("")
                };
                let from = arg("from").parse().unwrap_or(0);
                match log_chunk(&RunDir::new(&run.dir).log(), from, arg("id")) {
                    Ok(c) => Reply::json(&c),
                    Err(e) => Reply::status(500, &e.to_string()),
                }
            }
            _ => Reply::not_found(),
        }
    }

    fn info<'a>(&self, r: &'a ServedRun) -> RunInfo<'a> {
        let config: Option<serde_json::Value> = std::fs::read(RunDir::new(&r.dir).config())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let model = |k: &str| config.as_ref()?.get("model")?.get(k)?.as_u64();
        let recipe = config
            .as_ref()
            .and_then(|c| serde_json::from_value::<dcgan::config::RunConfig>(c.clone()).ok())
            .map(|c| c.departures());
        let checkpoint_step = newest_checkpoint(&r.dir).map(|(s, _)| s);
        RunInfo {
            name: &r.name,
            dir: self.show_folders.then_some(r.dir.as_path()),
            image_size: model("image_size"),
            channels: model("channels"),
            latent_dim: model("latent_dim"),
            recipe,
            checkpoint_step,
            explorer: checkpoint_step.is_some() && self.bundle.is_some(),
        }
    }

    fn run_file(&self, tail: &str) -> Reply {
        let Some((name, rel)) = tail.split_once('/') else {
            return Reply::not_found();
        };
        let Some(run) = self.run(name) else {
            return Reply::not_found();
        };
        match resolve(&run.dir, rel).and_then(|p| Some((std::fs::read(&p).ok()?, p))) {
            Some((bytes, p)) => Reply::ok(content_type(&p), bytes),
            None => Reply::not_found(),
        }
    }

    fn explore(&self, tail: &str) -> Reply {
        let (name, file) = tail.split_once('/').unwrap_or((tail, ""));
        let Some(run) = self.run(name) else {
            return Reply::not_found();
        };
        if !tail.contains('/') {
            // The page loads its files relative to its folder.
            return Reply {
                status: 308,
                location: Some(format!("/explore/{name}/")),
                ..Reply::status(308, "the explorer is at its folder")
            };
        }
        let Some(bundle) = &self.bundle else {
            return Reply::status(
                404,
                "the explorer's web bundle is not built: run `bash scripts/build-web.sh` and restart `dcgan serve`",
            );
        };
        let file = if file.is_empty() { "index.html" } else { file };
        if web::BUNDLE_FILES.contains(&file) {
            let p = bundle.join(file);
            return match std::fs::read(&p) {
                Ok(b) => Reply::ok(content_type(&p), b),
                Err(_) => Reply::not_found(),
            };
        }
        if file != "model.json" && file != "generator.safetensors" {
            return Reply::not_found();
        }
        let Some((_, ckpt)) = newest_checkpoint(&run.dir) else {
            return Reply::status(404, "this run has no checkpoint yet");
        };
        let meta = std::fs::metadata(&ckpt).ok();
        let key = (
            ckpt.clone(),
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.map_or(0, |m| m.len()),
        );
        let mut explorers = self.explorers.lock().unwrap_or_else(|e| e.into_inner());
        if explorers.get(&run.name).is_none_or(|e| e.key != key) {
            // Float32: the same numbers as `dcgan generate`; the download is local.
            let made = Checkpoint::load(&ckpt).and_then(|c| {
                Ok(Explorer {
                    key,
                    model_json: web::web_model(&c, Precision::F32).to_json().into_bytes(),
                    weights: web::checkpoint_weights(&c, Precision::F32)?,
                })
            });
            match made {
                Ok(e) => {
                    explorers.insert(run.name.clone(), e);
                }
                Err(e) => return Reply::status(500, &e.to_string()),
            }
        }
        let e = &explorers[&run.name];
        if file == "model.json" {
            Reply::ok("application/json", e.model_json.clone())
        } else {
            Reply::ok("application/octet-stream", e.weights.clone())
        }
    }
}

/// One URL path segment decoded, or `None` when it could step out of its folder or is hidden:
/// empty, `.`, `..`, a leading dot, or a slash, backslash or NUL once decoded, or not UTF-8.
fn decode_segment(s: &str) -> Option<String> {
    let d = percent_decode_str(s).decode_utf8().ok()?.into_owned();
    let bad = d.is_empty() || d.starts_with('.') || d.contains(['/', '\\', '\0']);
    (!bad).then_some(d)
}

/// The regular file that `rel` (the percent-encoded URL path below a run's folder) names inside
/// `root` (canonical), with symlinks followed and still inside `root`; `None` otherwise.
pub fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    for segment in rel.split('/') {
        p.push(decode_segment(segment)?);
    }
    let real = p.canonicalize().ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("json") => "application/json",
        Some("jsonl" | "txt" | "csv" | "md") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn newest_checkpoint(dir: &Path) -> Option<(u64, PathBuf)> {
    checkpoint::list(&RunDir::new(dir).checkpoints())
        .ok()?
        .pop()
}

/// The run's sample grids in the order they were written (modification time, then name).
fn samples(dir: &Path) -> Vec<SampleInfo> {
    let folder = RunDir::new(dir).samples();
    let mut found: Vec<(Option<SystemTime>, String)> = std::fs::read_dir(&folder)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let ok = name.ends_with(".png") && !name.starts_with('.');
            ok.then(|| (e.metadata().ok().and_then(|m| m.modified().ok()), name))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|(_, name)| {
            let number = |prefix: &str| {
                name.strip_prefix(prefix)?
                    .strip_suffix(".png")?
                    .parse::<u64>()
                    .ok()
            };
            SampleInfo {
                step: number("step-"),
                epoch: number("epoch-"),
                path: format!("samples/{name}"),
            }
        })
        .collect()
}

/// The log's complete lines from byte `from` of the file identified by `id` (from 0 when the file
/// is another or shorter), at most [`LOG_CHUNK`] bytes of them; unparsable lines are skipped.
fn log_chunk(path: &Path, from: u64, id: &str) -> Result<LogChunk> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).at(path)?;
    let meta = f.metadata().at(path)?;
    let current = file_id(&meta);
    let size = meta.len();
    let reset = id != current || from > size;
    let start = if reset { 0 } else { from };
    let mut bytes = Vec::new();
    f.seek(SeekFrom::Start(start)).at(path)?;
    f.take(LOG_CHUNK.min(size - start))
        .read_to_end(&mut bytes)
        .at(path)?;
    // Only whole lines: the last may still be being written.
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let records = bytes[..whole]
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    Ok(LogChunk {
        id: current,
        reset: reset && from != 0,
        next: start + whole as u64,
        size,
        records,
    })
}

/// A file's identity across rewrites: device and inode on Unix (a rewrite is a new file, written
/// beside it and renamed), the creation time elsewhere.
fn file_id(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        format!("{}-{}", meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        format!("{:?}", meta.created().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_dir(root: &Path, name: &str) -> PathBuf {
        let d = root.join(name);
        std::fs::create_dir_all(d.join("samples")).unwrap();
        std::fs::write(d.join("log.jsonl"), "").unwrap();
        d
    }

    #[test]
    fn paths_that_leave_the_run_are_not_found() {
        let tmp = tempfile::tempdir().unwrap();
        let run = run_dir(tmp.path(), "a");
        std::fs::write(run.join("samples/step-00000001.png"), b"png").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), b"secret").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret.txt"), run.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), run.join("up")).unwrap();
        std::os::unix::fs::symlink(run.join("samples"), run.join("inside")).unwrap();
        let root = run.canonicalize().unwrap();
        assert_eq!(
            resolve(&root, "samples/step-00000001.png"),
            Some(root.join("samples/step-00000001.png"))
        );
        // A symlink that stays inside is followed.
        assert!(resolve(&root, "inside/step-00000001.png").is_some());
        for bad in [
            "../secret.txt",
            "samples/../../secret.txt",
            "%2e%2e/secret.txt",
            "%2E%2E%2Fsecret.txt",
            "samples%2f..%2f..%2fsecret.txt",
            "..%5csecret.txt",
            "/etc/passwd",
            "%2fetc%2fpasswd",
            "link.txt",
            "up/secret.txt",
            "samples",
            "samples/",
            ".",
            "",
            "log.jsonl%00.png",
            "%ff",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
    }

    #[test]
    fn the_log_comes_in_whole_lines_and_starts_again_when_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let log = run_dir(tmp.path(), "a").join("log.jsonl");
        std::fs::write(&log, "{\"step\":1}\n{\"step\":2}\n{\"st").unwrap();
        let a = log_chunk(&log, 0, "").unwrap();
        assert_eq!(a.records.len(), 2);
        assert_eq!(a.next, 22);
        assert!(!a.reset);
        // The torn line is completed; the next ask gets it alone.
        std::fs::write(&log, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n").unwrap();
        let b = log_chunk(&log, a.next, &a.id).unwrap();
        assert_eq!(b.records, vec![serde_json::json!({"step": 3})]);
        assert_eq!(b.next, b.size);
        // A rewrite (a resumed run cuts its log) is another file: from byte 0 again.
        dcgan::io::atomic_write(&log, b"{\"step\":1}\n").unwrap();
        let c = log_chunk(&log, b.next, &b.id).unwrap();
        assert!(c.reset);
        assert_eq!(c.records.len(), 1);
    }

    #[test]
    fn only_reads_from_its_own_host() {
        let tmp = tempfile::tempdir().unwrap();
        let a = run_dir(tmp.path(), "a");
        let b = run_dir(&tmp.path().join("other"), "a");
        let mut site = Site::open(&[a, b], None).unwrap();
        let names: Vec<_> = site.runs().iter().map(|r| r.name.clone()).collect();
        assert_eq!(names, ["a", "a-2"]);
        site.bound_to("127.0.0.1:8123".parse().unwrap());
        let get = |target: &str, host: &str| site.respond("GET", target, Some(host)).status;
        assert_eq!(get("/", "127.0.0.1:8123"), 200);
        assert_eq!(get("/", "localhost:8123"), 200);
        assert_eq!(get("/", "evil.example:8123"), 403);
        assert_eq!(
            site.respond("POST", "/", Some("localhost:8123")).status,
            405
        );
        assert_eq!(
            site.respond("PUT", "/runs/a/x", Some("localhost:8123"))
                .status,
            405
        );
        assert_eq!(get("/api/runs/a-2/log", "localhost:8123"), 200);
        assert_eq!(get("/api/runs/b/log", "localhost:8123"), 404);
        assert_eq!(get("/runs/a/log.jsonl", "localhost:8123"), 200);
        assert_eq!(get("/runs/a/../a/log.jsonl", "localhost:8123"), 404);
        let r = site.respond("GET", "/explore/a", Some("localhost:8123"));
        assert_eq!(
            (r.status, r.location.as_deref()),
            (308, Some("/explore/a/"))
        );
        // No bundle: the explorer says how to build it.
        let r = site.respond("GET", "/explore/a/", Some("localhost:8123"));
        assert_eq!(r.status, 404);
        assert!(String::from_utf8_lossy(&r.body).contains("scripts/build-web.sh"));
    }

    #[test]
    fn the_run_list_shows_folders_on_loopback_only() {
        let tmp = tempfile::tempdir().unwrap();
        let a = run_dir(tmp.path(), "a");
        let folders = |bound: &str| {
            let mut site = Site::open(std::slice::from_ref(&a), None).unwrap();
            site.bound_to(bound.parse().unwrap());
            let host = bound.replace("0.0.0.0", "192.0.2.7");
            let r = site.respond("GET", "/api/runs", Some(&host));
            assert_eq!(r.status, 200, "{bound}");
            let runs: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(runs[0]["name"], "a");
            runs[0].get("dir").cloned()
        };
        assert_eq!(
            folders("127.0.0.1:8123"),
            Some(serde_json::Value::from(a.to_str().unwrap()))
        );
        assert!(folders("[::1]:8123").is_some());
        // Another address: visitors from other machines learn the run's name, not the layout of
        // this one.
        assert_eq!(folders("0.0.0.0:8123"), None);
        assert_eq!(folders("192.0.2.7:8123"), None);
        // Not yet bound: nothing is shown.
        let site = Site::open(std::slice::from_ref(&a), None).unwrap();
        let body = site.respond("GET", "/api/runs", Some("x")).body;
        assert!(!String::from_utf8_lossy(&body).contains(a.to_str().unwrap()));
    }

    #[test]
    fn refuses_folders_that_are_not_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let err = Site::open(&[empty], None).err().unwrap().to_string();
        assert!(
            err.contains("has no log.jsonl, so it is not a training run"),
            "{err}"
        );
        let err = Site::open(&[tmp.path().join("nope")], None)
            .err()
            .unwrap()
            .to_string();
        assert!(err.ends_with("nope: does not exist"), "{err}");
    }
}
