//! vpc-sim: a local emulator of the Tencent Cloud VPC route API over HTTPS, with real signature
//! checking, every error code of the contract, fault injection and a JSON control API under
//! `/_sim/`. It owns the emulated cloud and its rules; the wire models and signing come from
//! `vpc-wire`. It never links kube or k8s-openapi.
//!
//! The program (`main.rs`) parses flags and runs [`serve`] until a signal; tests start the same
//! server in process with [`Server::start`], on its own thread and runtime. The CVM metadata
//! service (instance-role credentials) listens apart, over plain HTTP: [`serve_with_metadata`]
//! or [`Server::start_metadata`]. Does network and file I/O.

pub mod actions;
pub mod api;
pub mod app;
pub mod auth;
pub mod control;
pub mod describe;
pub mod faults;
pub mod ledger;
pub mod metadata;
pub mod model;
pub mod params;
pub mod persist;
pub mod reply;
pub mod server;
pub mod sts;
pub mod tls;
pub mod v3_api;
pub mod v3_auth;
pub mod v3_describe;
pub mod v3_reply;
pub mod v3_routes;
pub mod world;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::app::{App, AppError};
use crate::tls::TlsError;
use crate::world::{World, WorldError};

/// Where the server's certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// A fresh CA and server certificate; the CA is written to `ca_out` when given.
    Generate {
        /// Where to write the CA certificate (PEM).
        ca_out: Option<PathBuf>,
    },
    /// Like [`TlsSource::Generate`], with the server certificate also valid for `names` (DNS
    /// names or IP addresses, e.g. `vpc.sim.test` for tools that insist on a `vpc.<domain>` host).
    GenerateWithNames {
        /// Where to write the CA certificate (PEM).
        ca_out: Option<PathBuf>,
        /// Extra names beside `127.0.0.1`, `::1` and `localhost`.
        names: Vec<String>,
    },
    /// A certificate chain and key read from PEM files.
    Files {
        /// The chain, leaf first.
        cert: PathBuf,
        /// The leaf's private key.
        key: PathBuf,
    },
}

/// How to start the emulator.
#[derive(Debug)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The checked world.
    pub world: World,
    /// Keep routes in this JSON file across restarts.
    pub state: Option<PathBuf>,
    /// The certificate.
    pub tls: TlsSource,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The world file.
    #[error(transparent)]
    World(#[from] WorldError),
    /// The state.
    #[error(transparent)]
    App(#[from] AppError),
    /// TLS.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The CA certificate could not be written.
    #[error("cannot write the CA certificate to {path}")]
    CaOut {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The runtime could not be built.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Everything needed to serve, prepared synchronously.
struct Prepared {
    app: Arc<App>,
    acceptor: TlsAcceptor,
    ca_pem: Option<String>,
}

fn prepare(options: Options) -> Result<(Prepared, SocketAddr), StartError> {
    // Another component may have installed the provider first; either way ring is in place.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Options { listen, world, state, tls } = options;
    let app = Arc::new(App::new(world, state)?);
    let identity = match &tls {
        TlsSource::Files { cert, key } => tls::load(cert, key)?,
        TlsSource::Generate { .. } => tls::generate(&[])?,
        TlsSource::GenerateWithNames { names, .. } => tls::generate(names)?,
    };
    let ca_out = match &tls {
        TlsSource::Generate { ca_out } | TlsSource::GenerateWithNames { ca_out, .. } => ca_out.as_ref(),
        TlsSource::Files { .. } => None,
    };
    if let (Some(path), Some(pem)) = (ca_out, &identity.ca_pem) {
        persist::write_atomically(path, pem.as_bytes())
            .map_err(|source| StartError::CaOut { path: path.clone(), source })?;
    }
    let ca_pem = identity.ca_pem.clone();
    let acceptor = TlsAcceptor::from(tls::server_config(identity)?);
    Ok((Prepared { app, acceptor, ca_pem }, listen))
}

/// Serves until `shutdown` completes; `ready` is called with the bound address first.
pub async fn serve(
    options: Options,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    serve_with_metadata(options, None, ready, |_| {}, shutdown).await
}

/// Like [`serve`], and when `metadata` is given also the metadata service over plain HTTP on that
/// address (`metadata_ready` is called with its bound address), sharing the same cloud.
pub async fn serve_with_metadata(
    options: Options,
    metadata: Option<SocketAddr>,
    ready: impl FnOnce(SocketAddr),
    metadata_ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let (prepared, addr) = prepare(options)?;
    let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
    let local = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
    let metadata_task = match metadata {
        None => None,
        Some(addr) => {
            let listen_error = |source| StartError::Listen { addr, source };
            let listener = TcpListener::bind(addr).await.map_err(listen_error)?;
            metadata_ready(shown(listener.local_addr().map_err(listen_error)?));
            let app = prepared.app.clone();
            Some(tokio::spawn(metadata::serve(listener, app, std::future::pending())))
        }
    };
    ready(shown(local));
    server::serve(listener, prepared.acceptor, server::router(prepared.app), shutdown).await;
    if let Some(task) = metadata_task {
        task.abort();
    }
    Ok(())
}

/// The address to tell clients: an unspecified listen address is shown as 127.0.0.1.
fn shown(local: SocketAddr) -> SocketAddr {
    if local.ip().is_unspecified() { SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port()) } else { local }
}

/// An emulator running in this process on its own thread and runtime; stopped on drop (every
/// connection is cut, as when the process dies).
pub struct Server {
    addr: SocketAddr,
    app: Arc<App>,
    runtime: tokio::runtime::Handle,
    ca_pem: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds and starts serving; returns once the listener is bound. `log`, when given, receives
    /// the emulator's tracing events (its threads use it as their default dispatcher).
    pub fn start(options: Options, log: Option<tracing::Dispatch>) -> Result<Server, StartError> {
        let (prepared, addr) = prepare(options)?;
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2).enable_all().thread_name("vpc-sim");
        if let Some(dispatch) = log.clone() {
            builder.on_thread_start(move || {
                // Held for the thread's life: every event of this runtime goes to the sim's log.
                std::mem::forget(tracing::dispatcher::set_default(&dispatch));
            });
        }
        let runtime = builder.build().map_err(StartError::Runtime)?;
        let listen_error = |source| StartError::Listen { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        let local = listener.local_addr().map_err(listen_error)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let Prepared { app, acceptor, ca_pem } = prepared;
        let (shared, handle) = (app.clone(), runtime.handle().clone());
        let thread = std::thread::Builder::new()
            .name("vpc-sim-main".into())
            .spawn(move || {
                let router = server::router(app);
                runtime.block_on(async {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            server::serve(listener, acceptor, router, async {
                                let _ = stopped.await;
                            })
                            .await
                        }
                        Err(error) => tracing::error!(%error, "cannot use the listener"),
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(StartError::Runtime)?;
        Ok(Server { addr: shown(local), app: shared, runtime: handle, ca_pem, stop: Some(stop), thread: Some(thread) })
    }

    /// Starts the metadata service (instance-role credentials) over plain HTTP on `listen`, on
    /// this server's runtime and cloud; it stops with the server. Returns the bound address.
    pub fn start_metadata(&self, listen: SocketAddr) -> Result<SocketAddr, StartError> {
        let listen_error = |source| StartError::Listen { addr: listen, source };
        let listener = std::net::TcpListener::bind(listen).map_err(listen_error)?;
        listener.set_nonblocking(true).map_err(listen_error)?;
        let local = listener.local_addr().map_err(listen_error)?;
        let listener = {
            let _entered = self.runtime.enter();
            TcpListener::from_std(listener).map_err(listen_error)?
        };
        self.runtime.spawn(metadata::serve(listener, self.app.clone(), std::future::pending()));
        Ok(shown(local))
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The generated CA (PEM), when the certificate was generated.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Stops serving and cuts every connection; returns when the listener is closed.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
