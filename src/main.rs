//! The `vpcroute-operator` command line: parses arguments once, sets up logging and runs a
//! subcommand (`run` the controller, `check` credentials and connectivity, or `import` a route
//! table as VpcRoute manifests).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{Parser, Subcommand};
use vpc_wire::v2::sign::SignatureMethod;
use vpcroute_operator::check::{CheckArgs, run_check};
use vpcroute_operator::client::{ClientConfig, VpcClient};
use vpcroute_operator::client3::{Client3Config, VpcClient3};
use vpcroute_operator::cloud::{Metered, RateLimited, RateLimits, RouteApi};
use vpcroute_operator::config::{ApiVersion, LogFormat, RunArgs, SignatureChoice};
use vpcroute_operator::controller::DefaultCredentials;
use vpcroute_operator::import::{ImportArgs, run_import};
use vpcroute_operator::metrics::Metrics;
use vpcroute_operator::server::{Health, serve};
use vpcroute_operator::{controller, identity, leader};

/// Kubernetes operator that manages Tencent Cloud VPC routes as VpcRoute resources.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Read a VPC and its route tables through the API and print a summary.
    Check(Box<CheckArgs>),
    /// Print one VpcRoute manifest (YAML) per user route of a route table, to adopt them.
    Import(Box<ImportArgs>),
    /// Run the controller.
    Run(Box<RunArgs>),
}

#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[cfg(not(feature = "dhat-heap"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    #[cfg(feature = "dhat-heap")]
    let _profiler = dhat::Profiler::new_heap();
    match Cli::parse().cmd {
        Cmd::Check(args) => {
            init_logging(LogFormat::Text);
            match run_check(*args, &mut std::io::stdout()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
                }
            }
        }
        Cmd::Import(args) => {
            init_logging(LogFormat::Text);
            match run_import(*args, &mut std::io::stdout(), &mut std::io::stderr()).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
                }
            }
        }
        Cmd::Run(args) => {
            init_logging(args.log_format);
            match run(*args).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "operator stopped");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    // Colour only for a person at a terminal: `check 2>log`, journald and kubectl logs get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(args: RunArgs) -> Result<(), String> {
    tracing::info!(api = args.api.as_str(), endpoint = %args.endpoint(), "starting");
    match args.api {
        ApiVersion::V3 => {
            let client = VpcClient3::new(Client3Config {
                endpoint: args.endpoint(),
                ca_file: args.ca_file.clone(),
                connect_timeout: Duration::from_secs(args.connect_timeout_seconds),
                request_timeout: Duration::from_secs(args.request_timeout_seconds),
                ..Client3Config::default()
            })
            .map_err(|e| format!("cloud client configuration: {e}"))?;
            run_with(args, client).await
        }
        ApiVersion::V2 => {
            let client = VpcClient::new(ClientConfig {
                endpoint: args.endpoint(),
                ca_file: args.ca_file.clone(),
                connect_timeout: Duration::from_secs(args.connect_timeout_seconds),
                request_timeout: Duration::from_secs(args.request_timeout_seconds),
                signature_method: match args.signature_method {
                    SignatureChoice::HmacSha256 => SignatureMethod::HmacSha256,
                    SignatureChoice::HmacSha1 => SignatureMethod::HmacSha1,
                },
                ..ClientConfig::default()
            })
            .map_err(|e| format!("cloud client configuration: {e}"))?;
            run_with(args, client).await
        }
    }
}

async fn run_with<A: RouteApi>(args: RunArgs, client: A) -> Result<(), String> {
    let kube = vpcroute_operator::kube_client::client(args.kube_in_flight)
        .await
        .map_err(|e| format!("cannot reach kubernetes: {e}"))?;
    let default_credentials = default_credentials(&kube, &args).await?;
    let metrics = Arc::new(Metrics::new());
    let ready = Arc::new(AtomicBool::new(false));
    let health = Health { metrics: metrics.clone(), ready: ready.clone() };
    let addr = args.http_addr;
    tokio::spawn(async move {
        if let Err(e) = serve(addr, health).await {
            tracing::error!(error = %e, "http server failed");
        }
    });
    // The limiter sits inside the metrics, so call latency does not include waiting for a token.
    let limits = RateLimits::new(args.rate_limits.clone(), args.rate_limit_scale)?;
    let api = Metered::new(RateLimited::new(client, args.api, limits)?, metrics.clone());
    let config = Arc::new(args);
    let work =
        controller::run(kube.clone(), api, config.clone(), default_credentials, metrics, ready.clone(), shutdown());
    if config.leader_elect {
        ready.store(true, std::sync::atomic::Ordering::Relaxed);
        leader::run_when_leader(kube, &config, work).await
    } else {
        work.await;
        Ok(())
    }
}

/// The operator Secret when named, else the rest of the chain (environment keys, pod identity,
/// instance role when enabled); see `vpcroute_operator::identity`.
async fn default_credentials(kube: &kube::Client, args: &RunArgs) -> Result<DefaultCredentials, String> {
    if let Some(name) = &args.credentials_secret {
        let creds = controller::read_secret(kube, &args.namespace, name).await.map_err(|e| e.to_string())?;
        return Ok(Some(Arc::new(identity::Static::new(creds, identity::Source::OperatorSecret))));
    }
    let cfg = identity::ChainConfig {
        sts_endpoint: args.sts_endpoint.clone(),
        metadata_endpoint: args.metadata_endpoint.clone(),
        instance_role: args.instance_role,
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_seconds),
        request_timeout: Duration::from_secs(args.request_timeout_seconds),
    };
    match identity::chain(&cfg, |name| std::env::var(name).ok()).map_err(|e| format!("default credentials: {e}"))? {
        Some(provider) => {
            tracing::info!(source = provider.source().as_str(), "default credentials");
            Ok(Some(provider))
        }
        None => {
            tracing::warn!("no default credentials; VpcRoutes must name a credentialsSecretRef");
            Ok(None)
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutdown requested; finishing in-flight reconciles");
}
