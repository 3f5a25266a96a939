//! `dcgan serve`: the runs, the address and the bundle resolved here; the page, every answer and
//! the HTTP server are the `dcgan-serve` crate's ([`dcgan_serve::Site`], [`dcgan_serve::http`]).

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;

use clap::Args;
use dcgan::tasks::web;
use dcgan::tasks::{Event, Events};
use dcgan_serve::Site;

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
    // Past the bind, the input was good: what still fails is the job (exit 1).
    let failed =
        |what: &str, e: &dyn std::fmt::Display| dcgan::Error::Failed(format!("{what}: {e}"));
    let addr = listener
        .local_addr()
        .map_err(|e| failed("cannot read the listening address", &e))?;
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
    crate::outln!(
        "serving {} at http://{host}:{}/ (Ctrl-C stops)",
        names.join(", "),
        addr.port()
    );
    let _ = std::io::stdout().flush();

    dcgan_serve::http::serve(site, listener)
}
