//! `dcgan serve` on real runs: escape attempts sent over a raw socket (a browser would normalise
//! them away) get 404, and the page, loaded in headless Chromium (`web/test/check-serve.mjs`),
//! shows each run's grid and follows its log and grids as they grow; and its bad input.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

use common::{
    assert_clean_failure, browser_check, dcgan, image_folder, run, stderr, train_small, web_bundle,
};

/// A `dcgan serve` process, killed when dropped.
struct Server {
    child: Child,
    url: String,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(runs: &[&Path]) -> Server {
    let mut child = dcgan()
        .arg("serve")
        .args(runs)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("dcgan serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    Server { child, url, addr }
}

/// One HTTP/1.1 request as written (no normalisation): status, headers (lower-cased), body.
fn raw(addr: &str, method: &str, target: &str, host: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&bytes[..split]).to_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, bytes[split + 4..].to_vec())
}

#[test]
fn serve_answers_inside_runs_only_and_the_page_follows_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = image_folder(tmp.path(), 24, 16);
    let a = tmp.path().join("run-a");
    let b = tmp.path().join("run-b");
    let flags = [
        "--max-steps",
        "6",
        "--sample-every",
        "2",
        "--checkpoint-every",
        "3",
    ];
    train_small(&data, &a, &flags);
    train_small(
        &data,
        &b,
        &["--max-steps", "2", "--loss", "lsgan", "--ema-decay", "0.99"],
    );
    // Things an escape would reach: a file beside the runs, and links out of a run.
    std::fs::write(tmp.path().join("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), a.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(tmp.path(), a.join("up")).unwrap();

    let server = serve(&[&a, &b]);
    let host = server.addr.as_str();
    let get = |target: &str| raw(&server.addr, "GET", target, host);

    let (status, head, body) = get("/runs/run-a/samples/step-00000002.png");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("content-type: image/png"), "{head}");
    assert!(body.starts_with(b"\x89PNG"));
    let (status, _, body) = get("/api/runs");
    assert_eq!(status, 200);
    let runs: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(runs[0]["name"], "run-a");
    assert_eq!(runs[0]["checkpoint_step"], 6);
    assert_eq!(runs[1]["name"], "run-b");
    assert_eq!(runs[0]["image_size"], 16);
    // What each run changes in the paper's recipe, for the page to show.
    assert_eq!(runs[0]["recipe"], serde_json::json!([]));
    assert_eq!(
        runs[1]["recipe"],
        serde_json::json!(["least-squares loss", "EMA of G (decay 0.99)"])
    );
    let (_, _, body) = get("/api/runs/run-a/log?from=0");
    let log: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(log["records"].as_array().unwrap().len(), 6);
    assert_eq!(log["records"][5]["step"], 6);

    for target in [
        "/runs/run-a/../secret.txt",
        "/runs/run-a/samples/../../secret.txt",
        "/runs/run-a/%2e%2e/secret.txt",
        "/runs/run-a/%2E%2E%2Fsecret.txt",
        "/runs/run-a/..%2fsecret.txt",
        "/runs/run-a/..%5csecret.txt",
        "/runs/run-a//etc/passwd",
        "/runs/run-a/%2fetc%2fpasswd",
        "/runs/..%2fsecret.txt",
        "/runs/%2e%2e/secret.txt",
        "/runs/run-a/link.txt",
        "/runs/run-a/up/secret.txt",
        "/explore/run-a/../../secret.txt",
        "/explore/run-a/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/../secret.txt",
        "/etc/passwd",
    ] {
        let (status, _, body) = get(target);
        assert_eq!(status, 404, "{target}");
        assert!(
            !String::from_utf8_lossy(&body).contains("SECRET"),
            "{target}"
        );
    }
    // Read-only, and only for its own address; never a CORS header.
    let (status, head, _) = raw(&server.addr, "POST", "/api/runs", host);
    assert_eq!(status, 405);
    assert!(head.contains("allow: get, head"), "{head}");
    assert_eq!(
        raw(&server.addr, "DELETE", "/runs/run-a/log.jsonl", host).0,
        405
    );
    let port = server.addr.rsplit(':').next().unwrap();
    assert_eq!(
        raw(&server.addr, "GET", "/", &format!("rebound.example:{port}")).0,
        403
    );
    assert_eq!(
        raw(&server.addr, "GET", "/", &format!("localhost:{port}")).0,
        200
    );
    for target in ["/", "/api/runs", "/runs/run-a/log.jsonl", "/nothing"] {
        let (_, head, _) = get(target);
        assert!(!head.contains("access-control"), "{target}: {head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    }

    if !common::has_playwright() {
        return common::missing("serve", "web/node_modules (run `npm ci --prefix web`)");
    }
    let (passed, r) = browser_check(
        "serve",
        "check-serve.mjs",
        &[server.url.as_ref(), a.as_os_str()],
    );
    assert!(passed, "{}", r["failed"]);
    // Both runs' grids and curves; run-a grew by five records and a grid, seen by the page.
    assert_eq!(r["before"][0]["records"], 6);
    assert_eq!(r["before"][1]["records"], 2);
    assert_eq!(r["before"][1]["drawn_step"], 2);
    assert_eq!(r["after"][0]["records"], 11);
    assert_eq!(r["after"][0]["drawn_step"], 11);
    // The last new record carries an evaluation: FID, KID and PRDC get panels of their own, and
    // its warning shows.
    assert_eq!(
        r["before"][0]["panels"],
        serde_json::json!(["losses", "D(x) and D(G(z))"])
    );
    assert_eq!(
        r["after"][0]["panels"],
        serde_json::json!([
            "losses",
            "D(x) and D(G(z))",
            "FID",
            "KID",
            "precision, recall, density, coverage"
        ])
    );
    assert_eq!(r["before"][0]["warning"], serde_json::Value::Null);
    assert_eq!(
        r["after"][0]["warning"],
        "step 11: recall fell at three evaluations in a row"
    );
    assert_eq!(
        r["after"][0]["samples"].as_u64().unwrap(),
        r["before"][0]["samples"].as_u64().unwrap() + 1
    );
    // The explorer needs the web bundle (`bash scripts/build-web.sh`; .ci/run builds it).
    let bundle = web_bundle().join("dcgan_web_bg.wasm");
    if bundle.is_file() {
        assert_eq!(
            r["explorer"],
            serde_json::json!({"nz": 16, "nc": 3, "size": 16, "step": 6, "classes": []})
        );
    } else {
        common::missing("serve explorer", "the web bundle (target/web)");
    }
}

#[test]
fn serve_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    assert_clean_failure(
        &run(&["serve", &s(&empty)]),
        2,
        "empty: has no log.jsonl, so it is not a training run (`dcgan train --out DIR` writes one as it starts)",
    );
    assert_clean_failure(
        &run(&["serve", &s(&tmp.path().join("missing"))]),
        2,
        "missing: does not exist",
    );
    let o = run(&["serve"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // The port is taken.
    let run_dir = tmp.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::write(run_dir.join("log.jsonl"), "").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    assert_clean_failure(
        &run(&["serve", &s(&run_dir), "--port", &port]),
        2,
        &format!(
            "127.0.0.1:{port} is already in use (another `dcgan serve`?): choose another with --port, or --port 0 for a free one"
        ),
    );
}
