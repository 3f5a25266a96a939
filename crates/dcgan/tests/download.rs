//! Downloads of the well-known data sets, served by a small HTTP server on 127.0.0.1 from the
//! real Fashion-MNIST files (Debian's package), so the checksums in the code are checked too.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

use dcgan::data::download;

mod common;

/// Serve `files` (URL path → body) for `requests` requests, then stop. Returns the base URL.
fn serve(files: HashMap<String, Vec<u8>>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            match files.get(&path) {
                Some(body) => {
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .unwrap();
                    stream.write_all(body).unwrap();
                }
                None => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap(),
            }
        }
    });
    format!("http://{addr}/")
}

#[test]
fn download_verifies_content_checksums() {
    let debian = Path::new("/usr/share/datasets/fashion-mnist");
    if !debian.join("train-images-idx3-ubyte.gz").is_file() {
        return common::missing(
            "download_verifies_content_checksums",
            "Fashion-MNIST (apt-get install dataset-fashion-mnist)",
        );
    }
    let set = download::set("fashion-mnist").unwrap();
    let real: HashMap<String, Vec<u8>> = set
        .files
        .iter()
        .map(|f| {
            (
                format!("/fm/{}", f.name),
                std::fs::read(debian.join(f.name)).unwrap(),
            )
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("ok");
    download::ensure_from(set, &target, &[format!("{}fm", serve(real.clone(), 2))]).unwrap();
    let ds = dcgan::data::open(target.to_str().unwrap(), Default::default()).unwrap();
    assert_eq!(ds.len(), 60_000);
    assert_eq!(ds.label(0), Some(9)); // the first Fashion-MNIST training image is an ankle boot

    // A corrupted labels file: refused, named with its URL and both checksums, not written.
    let mut bad = real.clone();
    let labels = bad.get_mut("/fm/train-labels-idx1-ubyte.gz").unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&labels[..]), &mut raw).unwrap();
    raw[100] ^= 1;
    *labels = raw;
    let base = serve(bad, 2);
    let target = dir.path().join("bad");
    let err = download::ensure_from(set, &target, &[format!("{base}fm")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "{base}fm/train-labels-idx1-ubyte.gz: checksum mismatch"
        )),
        "{err}"
    );
    assert!(err.contains("expected bad3541b"), "{err}");
    assert!(!target.join("train-labels-idx1-ubyte.gz").exists());
    assert!(
        target.join("train-images-idx3-ubyte.gz").exists(),
        "the good file is kept"
    );

    // Nothing there: the HTTP status is reported.
    let base = serve(HashMap::new(), 1);
    let err = download::ensure_from(set, &dir.path().join("none"), &[base])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fashion-mnist is not installed and could not be downloaded")
            && err.contains("404"),
        "{err}"
    );
}

#[test]
fn named_sets_resolve_at_the_boundary_and_say_when_they_download() {
    use dcgan::data::download::{Locations, resolve};
    use dcgan::progress::Event;
    let dir = tempfile::tempdir().unwrap();
    let set = download::set("fashion-mnist").unwrap();
    let mut notes = Vec::new();
    let mut note = |e: Event| {
        if let Event::Info(t) = e {
            notes.push(t)
        }
    };

    // Not a name: unchanged, nothing looked up.
    let at = Locations::with_cache(dir.path().join("cache"));
    assert_eq!(
        resolve("some/folder", &at, &mut note).unwrap(),
        "some/folder"
    );

    // A data folder that holds the files wins, and nothing is downloaded.
    let data_dir = dir.path().join("data");
    std::fs::create_dir_all(data_dir.join("fashion-mnist")).unwrap();
    for f in set.files {
        std::fs::write(data_dir.join("fashion-mnist").join(f.name), b"x").unwrap();
    }
    let at = Locations {
        data_dir: Some(data_dir.clone()),
        system_dir: dir.path().join("no-system"),
        ..Locations::with_cache(dir.path().join("cache"))
    };
    let got = resolve("fashion-mnist", &at, &mut note).unwrap();
    assert_eq!(got, data_dir.join("fashion-mnist").to_string_lossy());
    assert!(notes.is_empty(), "{notes:?}");

    // The library's opener takes paths only: a bare name says how it is resolved.
    let err = dcgan::data::open("fashion-mnist", Default::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("fashion-mnist: names a data set, not a path"),
        "{err}"
    );

    // Nowhere installed: downloaded from the mirror into the cache, and said first.
    let debian = Path::new("/usr/share/datasets/fashion-mnist");
    if !debian.join("train-images-idx3-ubyte.gz").is_file() {
        return common::missing(
            "named_sets_resolve_at_the_boundary (its download half)",
            "Fashion-MNIST (apt-get install dataset-fashion-mnist)",
        );
    }
    let files: HashMap<String, Vec<u8>> = set
        .files
        .iter()
        .map(|f| {
            (
                format!("/m/{}", f.name),
                std::fs::read(debian.join(f.name)).unwrap(),
            )
        })
        .collect();
    let at = Locations {
        data_dir: None,
        system_dir: dir.path().join("no-system"),
        cache: dir.path().join("cache"),
        mirrors: vec![format!("{}m", serve(files, 2))],
    };
    let got = resolve("fashion-mnist", &at, &mut |e: Event| {
        if let Event::Info(t) = e {
            notes.push(t)
        }
    })
    .unwrap();
    let cached = dir.path().join("cache/fashion-mnist");
    assert_eq!(got, cached.to_string_lossy());
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("downloading into") && notes[0].contains("/m"),
        "{notes:?}"
    );
    assert_eq!(
        dcgan::data::open(&got, Default::default()).unwrap().len(),
        60_000
    );
    // Found in the cache the second time: no download, no note.
    resolve("fashion-mnist", &at, &mut |e: Event| {
        if let Event::Info(t) = e {
            notes.push(t)
        }
    })
    .unwrap();
    assert_eq!(notes.len(), 1);
}
