//! The `check` command: reads a VPC and its route tables through the API 3.0 (default) or 2.0
//! client and prints a short summary, to verify endpoint, CA, credentials and region by hand.
//! Does network I/O.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use vpc_wire::domain::{Credentials, normalize_cidr};
use vpc_wire::v3::models::{DescribeRouteTablesRequest, DescribeRouteTablesResponse, Filter, next_type_of};

use crate::client::{
    self, ApiError, ClientConfig, ClientConfigError, CredentialsError, ErrorClass, RouteTable, Vpc, VpcClient,
};
use crate::client3::{ApiError3, Client3Config, VpcClient3};
use crate::config::ApiVersion;

/// Arguments of `vpcroute-operator check`. Credentials come from `TENCENTCLOUD_SECRET_ID`,
/// `TENCENTCLOUD_SECRET_KEY` and optional `TENCENTCLOUD_SECURITY_TOKEN`, never from flags.
#[derive(Clone, Debug, clap::Args)]
pub struct CheckArgs {
    /// Tencent API generation: `3.0` (default) or `2.0`.
    #[arg(long, env = "VPCROUTE_API", value_enum, default_value_t = ApiVersion::V3)]
    pub api: ApiVersion,
    /// Endpoint URL; default: the public endpoint of the API generation.
    #[arg(long, env = "VPCROUTE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Region, e.g. `ap-guangzhou`.
    #[arg(long)]
    pub region: String,
    /// The VPC to read (`vpc-…`).
    #[arg(long)]
    pub vpc_id: String,
    /// Read only this route table (`rtb-…`); all of the VPC's tables otherwise.
    #[arg(long)]
    pub route_table_id: Option<String>,
    /// Extra PEM CA bundle trusted on top of the system roots.
    #[arg(long, env = "VPCROUTE_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Connect timeout in seconds.
    #[arg(long, default_value_t = 5)]
    pub connect_timeout_secs: u64,
    /// Whole-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Credentials to use instead of the environment (for embedding and tests; never a flag).
    #[arg(skip)]
    pub credentials: Option<Credentials>,
}

/// Why `check` failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Credentials are missing from the environment.
    #[error("no credentials: {0}")]
    Credentials(#[from] CredentialsError),
    /// Temporary credentials could not be obtained (OIDC).
    #[error("no credentials: {0}")]
    Identity(String),
    /// The client could not be configured.
    #[error("bad client configuration: {0}")]
    Config(#[from] ClientConfigError),
    /// An API 2.0 call failed; the message names the action, the class and Tencent's code.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// An API 3.0 call failed; the message names the action, the class and Tencent's code.
    #[error(transparent)]
    Api3(#[from] ApiError3),
    /// The summary could not be written.
    #[error("could not write the summary: {0}")]
    Output(#[from] std::io::Error),
}

impl CheckError {
    /// The class of a failed API call, if that is what failed.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            CheckError::Api(e) => Some(e.class),
            CheckError::Api3(e) => Some(e.class),
            _ => None,
        }
    }

    /// The process exit code for this failure (never 0): 1 for an API failure, 2 for setup.
    pub fn exit_code(&self) -> i32 {
        match self {
            CheckError::Api(_) | CheckError::Api3(_) | CheckError::Output(_) => 1,
            CheckError::Credentials(_) | CheckError::Identity(_) | CheckError::Config(_) => 2,
        }
    }
}

/// Runs `check`: describes the VPC, then its route tables (or the one asked for), writing a
/// summary to `out` as it goes.
pub async fn run_check(args: CheckArgs, out: &mut impl Write) -> Result<(), CheckError> {
    let (creds, source) = match args.credentials.clone() {
        Some(creds) => (creds, "given"),
        None => default_credentials(&args).await?,
    };
    writeln!(out, "api {} at {}", args.api.as_str(), endpoint(&args))?;
    writeln!(out, "credentials from {source}")?;
    let tables = match args.api {
        ApiVersion::V2 => read_v2(&args, &creds, out).await?,
        ApiVersion::V3 => read_v3(&args, &creds, out).await?,
    };
    writeln!(out, "route tables: {}", tables.len())?;
    for table in &tables {
        write_table(out, table)?;
    }
    Ok(())
}

/// The operator's own default sources after its Secret: environment keys, then TKE pod
/// identity (OIDC); which one answered is printed, never a key.
async fn default_credentials(args: &CheckArgs) -> Result<(Credentials, &'static str), CheckError> {
    let cfg = crate::identity::ChainConfig {
        sts_endpoint: "https://sts.tencentcloudapi.com/".into(),
        metadata_endpoint: "http://metadata.tencentyun.com".into(),
        instance_role: false,
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
    };
    let provider = crate::identity::chain(&cfg, |name| std::env::var(name).ok())
        .map_err(|e| CheckError::Identity(e.to_string()))?
        .ok_or(CheckError::Credentials(CredentialsError(client::ENV_SECRET_ID)))?;
    let creds = provider.credentials().await.map_err(|e| CheckError::Identity(e.to_string()))?;
    Ok((creds, provider.source().as_str()))
}

fn endpoint(args: &CheckArgs) -> String {
    args.endpoint.clone().unwrap_or_else(|| args.api.default_endpoint().to_string())
}

async fn read_v2(args: &CheckArgs, creds: &Credentials, out: &mut impl Write) -> Result<Vec<RouteTable>, CheckError> {
    let client = VpcClient::new(client_config(args))?;
    let vpc = client.describe_vpc(creds, &args.region, &args.vpc_id).await?;
    write_vpc(out, &vpc)?;
    Ok(match args.route_table_id.as_deref() {
        Some(rtb) => vec![client.describe_route_table(creds, &args.region, Some(&args.vpc_id), rtb).await?],
        None => client.describe_route_tables(creds, &args.region, Some(&args.vpc_id), None).await?,
    })
}

async fn read_v3(args: &CheckArgs, creds: &Credentials, out: &mut impl Write) -> Result<Vec<RouteTable>, CheckError> {
    let client = VpcClient3::new(Client3Config {
        endpoint: endpoint(args),
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        ..Client3Config::default()
    })?;
    let vpcs = client.describe_vpcs(creds, &args.region, std::slice::from_ref(&args.vpc_id)).await?;
    let Some(vpc) = vpcs.into_iter().find(|v| v.vpc_id == args.vpc_id) else {
        let what = format!("vpc {}", args.vpc_id);
        return Err(ApiError3::absent(vpc_wire::v3::Action::DescribeVpcs, &what, None).into());
    };
    let shown = Vpc {
        vpc_id: vpc.vpc_id,
        name: vpc.vpc_name,
        cidr_block: vpc.cidr_block.clone(),
        create_time: Some(vpc.created_time),
        is_default: vpc.is_default,
    };
    write_vpc(out, &shown)?;
    let tables = match &args.route_table_id {
        Some(rtb) => client.describe_route_tables(creds, &args.region, std::slice::from_ref(rtb)).await?,
        None => {
            let req = DescribeRouteTablesRequest {
                filters: Some(vec![Filter::new("vpc-id", vec![args.vpc_id.clone()])]),
                limit: Some("100".into()),
                ..Default::default()
            };
            let reply = client
                .call::<_, DescribeRouteTablesResponse>(
                    creds,
                    &args.region,
                    vpc_wire::v3::Action::DescribeRouteTables,
                    &req,
                )
                .await?;
            reply.data.route_table_set
        }
    };
    Ok(tables.into_iter().map(|t| summary_of_v3(t, &vpc.cidr_block)).collect())
}

/// A 3.0 table in the summary's shape: user routes with a known type, the rest kept aside.
fn summary_of_v3(t: vpc_wire::v3::models::RouteTable, vpc_cidr: &str) -> RouteTable {
    let mut table = RouteTable {
        route_table_id: t.route_table_id,
        name: t.route_table_name,
        vpc_id: t.vpc_id,
        vpc_cidr: vpc_cidr.to_string(),
        routes: Vec::new(),
        other_routes: Vec::new(),
    };
    for r in t.route_set.into_iter().filter(|r| r.is_user()) {
        let known = next_type_of(&r.gateway_type).zip(normalize_cidr(&r.destination_cidr_block));
        match known {
            Some((next_type, destination)) => {
                table.routes.push(vpc_wire::domain::Route { destination, next_type, next_hub: r.gateway_id })
            }
            None => table.other_routes.push(client::RawRoute {
                destination: r.destination_cidr_block,
                next_type: -1,
                next_hub: format!("{} {}", r.gateway_type, r.gateway_id),
            }),
        }
    }
    table
}

fn client_config(args: &CheckArgs) -> ClientConfig {
    ClientConfig {
        endpoint: endpoint(args),
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        ..ClientConfig::default()
    }
}

fn write_vpc(out: &mut impl Write, vpc: &Vpc) -> std::io::Result<()> {
    let default = if vpc.is_default { " (default)" } else { "" };
    writeln!(out, "vpc {} name {:?} cidr {}{default}", vpc.vpc_id, vpc.name, vpc.cidr_block)
}

fn write_table(out: &mut impl Write, table: &RouteTable) -> std::io::Result<()> {
    let count = table.routes.len() + table.other_routes.len();
    let noun = if count == 1 { "route" } else { "routes" };
    writeln!(out, "route table {} name {:?}: {count} {noun} (Local not shown)", table.route_table_id, table.name)?;
    for r in &table.routes {
        writeln!(out, "  {:<18} {:<22} {}", r.destination.to_string(), r.next_type.to_string(), r.next_hub)?;
    }
    for r in &table.other_routes {
        writeln!(out, "  {:<18} {:<22} {}", r.destination, format!("unknown({})", r.next_type), r.next_hub)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::client::RawRoute;
    use vpc_wire::domain::{NextType, Route};

    #[test]
    fn summary_lists_each_route_with_type_name_code_and_hub() {
        let table = RouteTable {
            route_table_id: "rtb-1".into(),
            name: "main".into(),
            vpc_id: "vpc-1".into(),
            vpc_cidr: "10.0.0.0/16".into(),
            routes: vec![Route::new("192.168.0.0/24", NextType::VpnGateway, "vpngw-a").unwrap()],
            other_routes: vec![RawRoute {
                destination: "172.16.0.0/12".into(),
                next_type: 5,
                next_hub: "ccn-1".into(),
            }],
        };
        let mut out = Vec::new();
        write_table(&mut out, &table).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("route table rtb-1 name \"main\": 2 routes"), "{text}");
        assert!(
            text.contains("192.168.0.0/24") && text.contains("VpnGateway(1)") && text.contains("vpngw-a"),
            "{text}"
        );
        assert!(text.contains("unknown(5)") && text.contains("ccn-1"), "{text}");
    }

    #[test]
    fn api_failures_show_their_class_and_exit_non_zero() {
        let err =
            CheckError::from(ApiError::api(client::Action::DescribeVpcEx, 4000, "InvalidVpc.NotFound", "no vpc", None));
        assert_eq!(err.class(), Some(ErrorClass::Permanent));
        assert_ne!(err.exit_code(), 0);
        assert!(err.to_string().starts_with("calling DescribeVpcEx failed (permanent)"), "{err}");
        assert!(err.to_string().contains("4000 InvalidVpc.NotFound: no vpc"), "{err}");
    }

    #[test]
    fn check_args_parse_from_the_command_line_without_credentials() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: CheckArgs,
        }
        let cli =
            Cli::try_parse_from(["check", "--region", "ap-guangzhou", "--vpc-id", "vpc-1", "--ca-file", "/tmp/ca.pem"])
                .unwrap();
        assert_eq!(cli.args.vpc_id, "vpc-1");
        assert_eq!(cli.args.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert!(cli.args.credentials.is_none() && cli.args.route_table_id.is_none());
    }
}
