//! The HTTP side of `dcgan serve`: axum (on tokio and hyper) parses requests and keeps
//! connections; it routes nothing, so no request path is normalised before [`Site`] sees it and
//! decides every answer.

use std::net::TcpListener;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::Site;

/// Serve `site` on `listener` (already bound; the caller has told the user its address) until
/// the process is stopped. Only a failure of the server itself returns: [`dcgan::Error::Failed`].
pub fn serve(site: Site, listener: TcpListener) -> dcgan::Result<()> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| dcgan::Error::Failed(format!("{what}: {e}"));
    listener
        .set_nonblocking(true)
        .map_err(|e| failed("cannot start the HTTP server", &e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .map_err(|e| failed("cannot start the HTTP server", &e))?;
    let site = Arc::new(site);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| failed("cannot start the HTTP server", &e))?;
        let app = axum::Router::new().fallback(answer).with_state(site);
        axum::serve(listener, app)
            .await
            .map_err(|e| failed("the HTTP server stopped", &e))
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
