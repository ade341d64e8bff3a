//! The `import` command: reads one route table through the API 3.0 (default) or 2.0 client and
//! prints one `VpcRoute` manifest per user route, a multi-document YAML stream for
//! `kubectl apply -f -` or a GitOps repository; the resources adopt the routes as they are.
//! Does network I/O; building the manifests ([`manifests`]) is pure.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::Ipv4Net;
use kube::api::ObjectMeta;
use vpc_wire::domain::{Credentials, Route, RouteAttrs};

use crate::client::{self, ApiError, ClientConfig, ClientConfigError, CredentialsError, ErrorClass, VpcClient};
use crate::client3::{ApiError3, Client3Config, VpcClient3};
use crate::config::ApiVersion;
use crate::crd::{AdoptionPolicy, VpcRoute, VpcRouteSpec};

/// The label every imported resource carries; its value is the route table id.
pub const IMPORTED_FROM_LABEL: &str = "vpc.qcloud.dev/imported-from";

/// The longest a DNS-1123 subdomain (and so a resource name) may be.
pub const MAX_NAME_LEN: usize = 253;

/// How much of the route table id a name keeps, leaving room for the longest destination
/// (`255-255-255-255-32`, 18 characters) and its separator.
const MAX_TABLE_PART: usize = MAX_NAME_LEN - 19;

/// Arguments of `vpcroute-operator import`. Credentials come from `TENCENTCLOUD_SECRET_ID`,
/// `TENCENTCLOUD_SECRET_KEY` and optional `TENCENTCLOUD_SECURITY_TOKEN`, never from flags.
#[derive(Clone, Debug, clap::Args)]
pub struct ImportArgs {
    /// Tencent API generation: `3.0` (default) or `2.0`.
    #[arg(long, env = "VPCROUTE_API", value_enum, default_value_t = ApiVersion::V3)]
    pub api: ApiVersion,
    /// Endpoint URL; default: the public endpoint of the API generation.
    #[arg(long, env = "VPCROUTE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Region, e.g. `ap-guangzhou`.
    #[arg(long)]
    pub region: String,
    /// The route table to import (`rtb-…`).
    #[arg(long)]
    pub route_table_id: String,
    /// The VPC that holds the table (`vpc-…`); learnt from the table when not given, and the
    /// import fails if the table belongs to another VPC.
    #[arg(long)]
    pub vpc_id: Option<String>,
    /// Namespace to put in every manifest's `metadata.namespace`; none by default (kubectl's
    /// current namespace then applies).
    #[arg(long)]
    pub namespace: Option<String>,
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

/// Why `import` failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Credentials are missing from the environment.
    #[error("no credentials: {0}")]
    Credentials(#[from] CredentialsError),
    /// The client could not be configured.
    #[error("bad client configuration: {0}")]
    Config(#[from] ClientConfigError),
    /// An API 2.0 call failed; the message names the action, the class and Tencent's code.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// An API 3.0 call failed; the message names the action, the class and Tencent's code.
    #[error(transparent)]
    Api3(#[from] ApiError3),
    /// The table belongs to another VPC than `--vpc-id` named.
    #[error("route table {route_table_id} belongs to {actual}, not to {expected}")]
    WrongVpc {
        /// The table asked for.
        route_table_id: String,
        /// The VPC `--vpc-id` named.
        expected: String,
        /// The VPC the table belongs to.
        actual: String,
    },
    /// A manifest could not be rendered as YAML.
    #[error("could not render the manifests as YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// The manifests could not be written.
    #[error("could not write the manifests: {0}")]
    Output(#[from] std::io::Error),
}

impl ImportError {
    /// The class of a failed API call, if that is what failed.
    pub fn class(&self) -> Option<ErrorClass> {
        match self {
            ImportError::Api(e) => Some(e.class),
            ImportError::Api3(e) => Some(e.class),
            _ => None,
        }
    }

    /// The process exit code for this failure (never 0): 1 for an API failure, 2 for setup.
    pub fn exit_code(&self) -> i32 {
        match self {
            ImportError::Api(_)
            | ImportError::Api3(_)
            | ImportError::WrongVpc { .. }
            | ImportError::Yaml(_)
            | ImportError::Output(_) => 1,
            ImportError::Credentials(_) | ImportError::Config(_) => 2,
        }
    }
}

/// Where the imported routes live, as the manifests name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRef {
    /// Region of the table.
    pub region: String,
    /// VPC holding the table.
    pub vpc_id: String,
    /// The route table id.
    pub route_table_id: String,
}

/// A route of the table that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The destination as the API sent it.
    pub destination: String,
    /// The next hop as the API sent it (type and id).
    pub hop: String,
    /// Why it was skipped.
    pub why: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped {} via {}: {}", self.destination, self.hop, self.why)
    }
}

/// The stable resource name of the route for `destination` in `route_table_id`: the table id
/// and the destination's address and prefix joined by `-`, e.g. `rtb-4ahe1qy2-121-0-0-0-16`.
/// Always a valid DNS-1123 subdomain (lower case, `[a-z0-9-]`, alphanumeric at both ends, at
/// most 253 characters); distinct destinations of one table always get distinct names.
pub fn resource_name(route_table_id: &str, destination: Ipv4Net) -> String {
    let network = destination.trunc();
    let dest = format!("{}-{}", network.addr().octets().map(|o| o.to_string()).join("-"), network.prefix_len());
    let cleaned: String = route_table_id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .take(MAX_TABLE_PART)
        .collect();
    let table = cleaned.trim_start_matches('-');
    if table.is_empty() { dest } else { format!("{table}-{dest}") }
}

/// One `VpcRoute` per route, sorted by destination: named by [`resource_name`], labelled with
/// [`IMPORTED_FROM_LABEL`], in `namespace` when given, with `adoptionPolicy: IfIdentical`, the
/// description when non-empty and `enabled: false` when the route is disabled. A destination
/// seen twice (the cloud never holds two routes for one) keeps its first route; the others are
/// returned as skipped.
pub fn manifests(
    table: &TableRef,
    namespace: Option<&str>,
    routes: &[(Route, RouteAttrs)],
) -> (Vec<VpcRoute>, Vec<Skipped>) {
    let mut by_destination: BTreeMap<Ipv4Net, &(Route, RouteAttrs)> = BTreeMap::new();
    let mut skipped = Vec::new();
    for entry in routes {
        let destination = entry.0.destination.trunc();
        match by_destination.entry(destination) {
            Entry::Vacant(slot) => {
                slot.insert(entry);
            }
            Entry::Occupied(_) => skipped.push(Skipped {
                destination: destination.to_string(),
                hop: format!("{} {}", entry.0.next_type, entry.0.next_hub),
                why: "a second route for a destination already imported".into(),
            }),
        }
    }
    let manifests = by_destination.into_iter().map(|(destination, (route, attrs))| {
        let spec = VpcRouteSpec {
            vpc_id: table.vpc_id.clone(),
            route_table_id: table.route_table_id.clone(),
            destination_cidr_block: destination.to_string(),
            next_type: route.next_type.into(),
            next_hub: route.next_hub.clone(),
            region: Some(table.region.clone()),
            credentials_secret_ref: None,
            description: Some(attrs.description.clone()).filter(|d| !d.is_empty()),
            enabled: (!attrs.enabled).then_some(false),
            management_policy: Default::default(),
            deletion_policy: Default::default(),
            adoption_policy: AdoptionPolicy::IfIdentical,
        };
        let mut resource = VpcRoute::new(&resource_name(&table.route_table_id, destination), spec);
        resource.metadata = ObjectMeta {
            namespace: namespace.map(str::to_owned),
            labels: Some(BTreeMap::from([(IMPORTED_FROM_LABEL.to_owned(), table.route_table_id.clone())])),
            ..resource.metadata
        };
        resource
    });
    (manifests.collect(), skipped)
}

/// The manifests as a multi-document YAML stream, each document starting with `---`; empty for
/// no manifests.
pub fn to_yaml(manifests: &[VpcRoute]) -> Result<String, serde_norway::Error> {
    let mut text = String::new();
    for manifest in manifests {
        text.push_str("---\n");
        text.push_str(&serde_norway::to_string(manifest)?);
    }
    Ok(text)
}

/// Runs `import`: reads the table, then writes the manifests to `out` (all at once, only after
/// the read succeeded) and one line per skipped route plus a summary to `err`.
pub async fn run_import(args: ImportArgs, out: &mut impl Write, err: &mut impl Write) -> Result<(), ImportError> {
    let creds = match args.credentials.clone() {
        Some(creds) => creds,
        None => client::credentials_from_env()?,
    };
    let (table, routes, mut skipped) = match args.api {
        ApiVersion::V2 => read_v2(&args, &creds).await?,
        ApiVersion::V3 => read_v3(&args, &creds).await?,
    };
    if let Some(expected) = args.vpc_id.as_ref().filter(|v| **v != table.vpc_id) {
        return Err(ImportError::WrongVpc {
            route_table_id: table.route_table_id,
            expected: expected.clone(),
            actual: table.vpc_id,
        });
    }
    let (manifests, duplicates) = manifests(&table, args.namespace.as_deref(), &routes);
    skipped.extend(duplicates);
    let yaml = to_yaml(&manifests)?;
    out.write_all(yaml.as_bytes())?;
    out.flush()?;
    for s in &skipped {
        writeln!(err, "{s}")?;
    }
    let noun = if manifests.len() == 1 { "route" } else { "routes" };
    writeln!(
        err,
        "imported {} {noun} from {} ({}, {}); skipped {}",
        manifests.len(),
        table.route_table_id,
        table.vpc_id,
        table.region,
        skipped.len()
    )?;
    Ok(())
}

/// What a read of the table gives: where it is, the routes to import and the routes skipped.
type TableRead = (TableRef, Vec<(Route, RouteAttrs)>, Vec<Skipped>);

fn endpoint(args: &ImportArgs) -> String {
    args.endpoint.clone().unwrap_or_else(|| args.api.default_endpoint().to_string())
}

async fn read_v2(args: &ImportArgs, creds: &Credentials) -> Result<TableRead, ImportError> {
    let client = VpcClient::new(ClientConfig {
        endpoint: endpoint(args),
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        ..ClientConfig::default()
    })?;
    // No VPC filter: a table in another VPC than `--vpc-id` then fails naming both VPCs.
    let t = client.describe_route_table(creds, &args.region, None, &args.route_table_id).await?;
    let table = TableRef { region: args.region.clone(), vpc_id: t.vpc_id, route_table_id: t.route_table_id };
    // The 2.0 client drops the Local system route before it gets here; only unknown types remain.
    let skipped = t
        .other_routes
        .into_iter()
        .map(|r| Skipped {
            destination: r.destination,
            hop: format!("unknown({}) {}", r.next_type, r.next_hub),
            why: "next type or destination a VpcRoute cannot express".into(),
        })
        .collect();
    let routes = t.routes.into_iter().map(|r| (r, RouteAttrs::default())).collect();
    Ok((table, routes, skipped))
}

async fn read_v3(args: &ImportArgs, creds: &Credentials) -> Result<TableRead, ImportError> {
    let client = VpcClient3::new(Client3Config {
        endpoint: endpoint(args),
        ca_file: args.ca_file.clone(),
        connect_timeout: Duration::from_secs(args.connect_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        ..Client3Config::default()
    })?;
    let rtb = &args.route_table_id;
    let tables = client.describe_route_tables(creds, &args.region, std::slice::from_ref(rtb)).await?;
    let Some(t) = tables.into_iter().find(|t| t.route_table_id == *rtb) else {
        let what = format!("route table {rtb}");
        return Err(ApiError3::absent(vpc_wire::v3::Action::DescribeRouteTables, &what, None).into());
    };
    let table = TableRef { region: args.region.clone(), vpc_id: t.vpc_id, route_table_id: t.route_table_id };
    let mut routes = Vec::new();
    let mut skipped = Vec::new();
    for r in t.route_set {
        let known = if r.is_user() { r.to_domain() } else { None };
        match known {
            Some(route) => routes.push((route, RouteAttrs { description: r.route_description, enabled: r.enabled })),
            None => {
                let why = if r.is_user() {
                    "next type or destination a VpcRoute cannot express".to_owned()
                } else {
                    format!("system route (type {:?})", r.route_type)
                };
                let destination = if r.destination_cidr_block.is_empty() {
                    r.destination_ipv6_cidr_block
                } else {
                    r.destination_cidr_block
                };
                skipped.push(Skipped { destination, hop: format!("{} {}", r.gateway_type, r.gateway_id), why });
            }
        }
    }
    Ok((table, routes, skipped))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "import_tests.rs"]
mod tests;
