//! vpc-sim: a local emulator of the Tencent Cloud VPC API 2.0 route actions, served over HTTPS,
//! with a JSON control API under `/_sim/`. This file parses the command line, loads the world,
//! sets up TLS and the listener, prints `READY <url>` and runs until SIGTERM/SIGINT. Does I/O.

mod actions;
mod api;
mod app;
mod auth;
mod control;
mod describe;
mod faults;
mod model;
mod params;
mod persist;
mod reply;
mod server;
mod tls;
mod world;

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing_subscriber::EnvFilter;

use crate::app::{App, AppError};
use crate::tls::TlsError;
use crate::world::WorldError;

/// Local emulator of the Tencent Cloud VPC API 2.0 (CreateRoute, DeleteRoute,
/// DescribeRouteTable, DescribeVpcEx) over HTTPS.
#[derive(Debug, Parser)]
#[command(name = "vpc-sim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long)]
    listen: SocketAddr,
    /// The world file (YAML): accounts, regions, VPCs, route tables, gateways.
    #[arg(long)]
    world: PathBuf,
    /// Where to write the generated CA certificate (PEM) that clients should trust.
    #[arg(long, required_unless_present = "tls_cert")]
    ca_out: Option<PathBuf>,
    /// Keep routes in this JSON file across restarts (loaded at start, rewritten after each change).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Serve this certificate chain (PEM) instead of generating one.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    World(#[from] WorldError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot write the CA certificate to {path}")]
    CaOut {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
}

fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut chain = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                chain.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            tracing::error!("vpc-sim: {chain}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), StartError> {
    // Another component may have installed the provider first; either way ring is in place.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let world = world::load(&args.world)?;
    let app = Arc::new(App::new(world, args.state.clone())?);
    let identity = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => tls::load(cert, key)?,
        _ => tls::generate()?,
    };
    if let (Some(path), Some(pem)) = (&args.ca_out, &identity.ca_pem) {
        persist::write_atomically(path, pem.as_bytes())
            .map_err(|source| StartError::CaOut { path: path.clone(), source })?;
    }
    let acceptor = TlsAcceptor::from(tls::server_config(identity)?);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(StartError::Runtime)?;
    runtime.block_on(serve(args.listen, acceptor, app))
}

async fn serve(addr: SocketAddr, acceptor: TlsAcceptor, app: Arc<App>) -> Result<(), StartError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
    let local = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
    let shutdown = shutdown_signal()?;
    announce(local);
    server::serve(listener, acceptor, server::router(app), shutdown).await;
    tracing::info!("shutting down");
    Ok(())
}

/// Prints the one `READY https://HOST:PORT` line on stdout.
fn announce(local: SocketAddr) {
    let shown = if local.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
    } else {
        local
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "READY https://{shown}").and_then(|()| stdout.flush()).is_err() {
        tracing::warn!("cannot write the READY line to stdout");
    }
    tracing::info!(url = %format!("https://{shown}"), "serving");
}

/// Completes on SIGTERM or SIGINT.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, StartError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(StartError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(StartError::Signals)?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}
