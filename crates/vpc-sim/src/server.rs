//! The HTTPS listener: accepts TCP connections, runs the TLS handshake and serves HTTP/1.1 with
//! the router; each connection gets a handle a fault can use to close it mid-request. Network I/O.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::api::{self, API_PATH};
use crate::app::App;
use crate::control;
use crate::v3_api::{self, V3_PATH};

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after a failed accept (for example when out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Closes the connection a request arrived on, without an answer.
#[derive(Clone, Debug)]
pub struct ConnHandle(Arc<Notify>);

impl ConnHandle {
    /// Asks the connection's task to drop the connection now.
    pub fn close(&self) {
        self.0.notify_one();
    }
}

/// The routes: API 2.0, API 3.0 and the `/_sim/` control API.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(API_PATH, get(api::handle).post(api::handle))
        .route(V3_PATH, get(v3_api::handle).post(v3_api::handle))
        .route("/_sim/state", get(control::state))
        .route("/_sim/ledger", get(control::ledger))
        .route("/_sim/calls", get(control::calls))
        .route("/_sim/calls/reset", post(control::reset_calls))
        .route("/_sim/faults", post(control::add_fault).get(control::list_faults).delete(control::clear_faults))
        .route("/_sim/rate-limits", axum::routing::put(control::rate_limits))
        .route("/_sim/edit", post(control::edit))
        .with_state(app)
}

/// Accepts connections until `shutdown` completes.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, router: Router, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    tokio::spawn(serve_connection(tcp, acceptor.clone(), router.clone()));
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
}

/// Serves one connection until the client closes it or a fault drops it.
async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, router: Router) {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => return tracing::debug!(%error, "TLS handshake failed"),
        Err(_) => return tracing::debug!("TLS handshake timed out"),
    };
    let closer = Arc::new(Notify::new());
    let handle = ConnHandle(Arc::clone(&closer));
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        served = connection => if let Err(error) = served {
            tracing::debug!(%error, "connection ended with an error");
        },
        () = closer.notified() => tracing::debug!("connection dropped on purpose"),
    }
}
