//! `dcgan serve`: carries HTTP requests to `dcgan::tasks::serve::Site`, which decides every
//! answer. axum (on tokio and hyper) is the HTTP server: it parses requests and keeps
//! connections; it routes nothing, so no request path is normalised before `Site` sees it.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use clap::Args;
use dcgan::tasks::serve::Site;
use dcgan::tasks::web;
use dcgan::tasks::{Event, Events};

use crate::ui::Ui;

#[derive(Args)]
pub struct ServeArgs {
    /// Run directories (the --out of `dcgan train`), shown side by side.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// The port; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to listen on. Anything but a loopback address lets other machines read the
    /// runs: there is no authentication.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The web bundle for the explorer (`bash scripts/build-web.sh`) [default: $DCGAN_WEB_BUNDLE,
    /// else target/web beside this binary's folder].
    #[arg(long, env = "DCGAN_WEB_BUNDLE", value_name = "DIR")]
    pub bundle: Option<PathBuf>,
}

pub fn run(a: ServeArgs, ui: &mut Ui) -> dcgan::Result<()> {
    let exe = std::env::current_exe().ok();
    let mut site = Site::open(&a.runs, Some(web::default_bundle(exe.as_deref(), a.bundle)))?;
    let listener = TcpListener::bind((a.host, a.port)).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::AddrInUse {
            format!(
                "{}:{} is already in use (another `dcgan serve`?): choose another with --port, or --port 0 for a free one",
                a.host, a.port
            )
        } else {
            format!("cannot listen on {}:{}: {e}", a.host, a.port)
        };
        dcgan::Error::config("port", a.port, why)
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| dcgan::Error::config("port", a.port, e.to_string()))?;
    site.bound_to(addr);
    if !addr.ip().is_loopback() {
        ui.emit(Event::Warning(format!(
            "listening on {}: anyone who can reach this machine can read these runs",
            addr.ip()
        )));
    }
    if !site.has_bundle() {
        ui.emit(Event::Warning(
            "the explorer is off: its web bundle is not built (`bash scripts/build-web.sh`)".into(),
        ));
    }
    let names: Vec<String> = site.runs().iter().map(|r| r.name.clone()).collect();
    // The address goes to stdout at once, so a script (or a test) can read it.
    let host = match addr {
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        SocketAddr::V4(v4) => v4.ip().to_string(),
    };
    println!(
        "serving {} at http://{host}:{}/ (Ctrl-C stops)",
        names.join(", "),
        addr.port()
    );
    let _ = std::io::stdout().flush();

    listener
        .set_nonblocking(true)
        .map_err(|e| dcgan::Error::config("port", a.port, e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .map_err(|e| dcgan::Error::Data(format!("cannot start the HTTP server: {e}")))?;
    let site = Arc::new(site);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| dcgan::Error::config("port", a.port, e.to_string()))?;
        let app = axum::Router::new().fallback(answer).with_state(site);
        axum::serve(listener, app)
            .await
            .map_err(|e| dcgan::Error::Data(format!("the HTTP server stopped: {e}")))
    })
}

/// Every request: `Site::respond` on a blocking thread (it reads files and may load a
/// checkpoint), its answer with headers that keep the browser from guessing types or caching.
async fn answer(State(site): State<Arc<Site>>, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let reply =
        tokio::task::spawn_blocking(move || site.respond(&method, &target, host.as_deref())).await;
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            return Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::from(format!("{e}\n")))
                .expect("a plain response builds");
        }
    };
    let mut r = Response::builder()
        .status(reply.status)
        .header(header::CONTENT_TYPE, reply.content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer");
    if reply.status == 405 {
        r = r.header(header::ALLOW, "GET, HEAD");
    }
    if let Some(loc) = reply
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        r = r.header(header::LOCATION, loc);
    }
    r.body(Body::from(reply.body))
        .expect("a status, known headers and bytes build a response")
}
