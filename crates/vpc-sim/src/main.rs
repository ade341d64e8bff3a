//! The `vpc-sim` program: a local emulator of the Tencent Cloud VPC route API over HTTPS, with a
//! JSON control API under `/_sim/`. This file parses the command line, loads the world,
//! sets up TLS and the listener, prints `READY <url>` and runs until SIGTERM/SIGINT. Does I/O.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vpc_sim::{Options, StartError, TlsSource};

/// Local emulator of the Tencent Cloud VPC API over HTTPS: 2.0 on /v2/index.php (CreateRoute,
/// DeleteRoute, DescribeRouteTable, DescribeVpcEx) and 3.0 on / (CreateRoutes, DeleteRoutes,
/// ReplaceRoutes, EnableRoutes, DisableRoutes, DescribeRouteTables, DescribeVpcs, DescribeVpcLimits).
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
    /// An extra name (DNS name or IP address) for the generated certificate; repeatable.
    #[arg(long = "tls-name", value_name = "NAME", conflicts_with = "tls_cert")]
    tls_names: Vec<String>,
    /// Also serve the CVM metadata service (instance-role credentials of the world's
    /// `instanceRole:`) over plain HTTP on this address.
    #[arg(long, value_name = "ADDR")]
    metadata_listen: Option<SocketAddr>,
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

fn run(args: Args) -> Result<(), MainError> {
    let world = vpc_sim::world::load(&args.world).map_err(StartError::from)?;
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => TlsSource::Files { cert, key },
        _ if args.tls_names.is_empty() => TlsSource::Generate { ca_out: args.ca_out },
        _ => TlsSource::GenerateWithNames { ca_out: args.ca_out, names: args.tls_names },
    };
    let options = Options { listen: args.listen, world, state: args.state, tls };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(StartError::Runtime)?;
    runtime.block_on(async {
        let shutdown = shutdown_signal().map_err(MainError::Signals)?;
        vpc_sim::serve_with_metadata(options, args.metadata_listen, announce, announce_metadata, shutdown).await?;
        tracing::info!("shutting down");
        Ok(())
    })
}

/// Why the program stopped with an error.
#[derive(Debug, thiserror::Error)]
enum MainError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
}

/// Prints the one `READY https://HOST:PORT` line on stdout.
fn announce(local: SocketAddr) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "READY https://{local}").and_then(|()| stdout.flush()).is_err() {
        tracing::warn!("cannot write the READY line to stdout");
    }
    tracing::info!(url = %format!("https://{local}"), "serving");
}

/// Logs where the metadata service listens.
fn announce_metadata(local: SocketAddr) {
    tracing::info!(url = %format!("http://{local}"), "serving the metadata service");
}

/// Completes on SIGTERM or SIGINT.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    })
}
