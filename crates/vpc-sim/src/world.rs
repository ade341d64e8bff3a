//! The world file (YAML): accounts, regions, VPCs, route tables with their initial routes,
//! gateways, faults and rate limits, checked and turned into the in-memory cloud.
//! `load` reads the file; everything else is pure.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde::Deserialize;
use vpc_wire::domain::{NextType, Route, Secret, normalize_cidr};

use crate::faults::FaultSpec;
use crate::model::{Account, Cloud, Gateway, Region, RouteIds, StoredRoute, Table, Vpc, canonical_region};
use crate::sts::{Identity, InstanceRoleSpec, OidcSpec};

/// Default routes per table when the world does not say.
const DEFAULT_QUOTA: usize = 50;
/// `createTime` of VPCs whose world entry gives none.
const DEFAULT_CREATE_TIME: &str = "2018-01-01 00:00:00";

/// Why a world file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The file could not be read.
    #[error("cannot read world file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not have the world's shape.
    #[error("world file is not valid")]
    Parse(#[source] serde_norway::Error),
    /// The YAML parsed, but says something impossible.
    #[error("world file: {0}")]
    Invalid(String),
}

/// A checked world: the cloud plus the faults and rate limits to start with.
#[derive(Debug)]
pub struct World {
    /// Accounts, VPCs, tables and routes.
    pub cloud: Cloud,
    /// Faults active from the start.
    pub faults: Vec<FaultSpec>,
    /// Requests per second allowed per action.
    pub rate_limits: BTreeMap<String, u32>,
    /// The OIDC provider and instance role that hand out temporary keys.
    pub identity: Identity,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WorldFile {
    #[serde(default = "default_quota")]
    route_quota: usize,
    accounts: Vec<AccountSpec>,
    #[serde(default)]
    faults: Vec<FaultSpec>,
    #[serde(default)]
    rate_limits: BTreeMap<String, u32>,
    #[serde(default)]
    oidc: Option<OidcSpec>,
    #[serde(default)]
    instance_role: Option<InstanceRoleSpec>,
}

fn default_quota() -> usize {
    DEFAULT_QUOTA
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AccountSpec {
    secret_id: String,
    secret_key: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    regions: BTreeMap<String, RegionSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegionSpec {
    #[serde(default)]
    vpcs: Vec<VpcSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VpcSpec {
    vpc_id: String,
    #[serde(default)]
    vpc_name: Option<String>,
    cidr_block: String,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    route_tables: Vec<TableSpec>,
    #[serde(default)]
    gateways: Vec<GatewaySpec>,
}

/// A route table: a plain `rtb-…` id, or an object with a name and initial routes.
#[derive(Deserialize)]
#[serde(untagged)]
enum TableSpec {
    Id(String),
    Full(TableDef),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TableDef {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    routes: Vec<RouteSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RouteSpec {
    destination_cidr_block: String,
    next_type: u32,
    next_hub: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GatewaySpec {
    id: String,
    next_type: u32,
}

/// Reads and checks the world file at `path`.
pub fn load(path: &Path) -> Result<World, WorldError> {
    let text = std::fs::read_to_string(path).map_err(|source| WorldError::Read { path: path.into(), source })?;
    parse(&text)
}

/// Parses and checks a world document.
pub fn parse(text: &str) -> Result<World, WorldError> {
    let file: WorldFile = serde_norway::from_str(text).map_err(WorldError::Parse)?;
    if file.route_quota == 0 {
        return invalid("routeQuota must be at least 1".into());
    }
    let mut seen = HashSet::new();
    let mut accounts = Vec::with_capacity(file.accounts.len());
    for spec in file.accounts {
        if !seen.insert(spec.secret_id.clone()) {
            return invalid(format!("secretId {} is listed twice", spec.secret_id));
        }
        accounts.push(account(spec, file.route_quota)?);
    }
    let roles = [
        file.oidc.as_ref().map(|o| ("oidc", &o.account)),
        file.instance_role.as_ref().map(|r| ("instanceRole", &r.account)),
    ];
    if let Some((section, account)) = roles.into_iter().flatten().find(|(_, a)| !seen.contains(*a)) {
        return invalid(format!("{section}.account {account} is not a secretId of the accounts"));
    }
    let mut cloud = Cloud { route_quota: file.route_quota, accounts, ids: RouteIds::default() };
    cloud.fill_ids();
    let identity = Identity::new(file.oidc, file.instance_role);
    Ok(World { cloud, faults: file.faults, rate_limits: file.rate_limits, identity })
}

fn invalid<T>(message: String) -> Result<T, WorldError> {
    Err(WorldError::Invalid(message))
}

fn account(spec: AccountSpec, quota: usize) -> Result<Account, WorldError> {
    let mut regions = BTreeMap::new();
    for (name, region_spec) in spec.regions {
        let long = canonical_region(&name).to_string();
        let region = region(region_spec, quota).map_err(|e| in_context(e, &format!("region {name}")))?;
        if regions.insert(long.clone(), region).is_some() {
            return invalid(format!("account {}: region {long} is listed twice", spec.secret_id));
        }
    }
    Ok(Account {
        secret_id: spec.secret_id,
        secret_key: Secret::new(spec.secret_key),
        token: spec.token.map(Secret::new),
        regions,
    })
}

fn in_context(error: WorldError, context: &str) -> WorldError {
    match error {
        WorldError::Invalid(m) => WorldError::Invalid(format!("{context}: {m}")),
        other => other,
    }
}

fn region(spec: RegionSpec, quota: usize) -> Result<Region, WorldError> {
    let mut vpc_ids = HashSet::new();
    let mut table_ids = HashSet::new();
    let mut vpcs = Vec::with_capacity(spec.vpcs.len());
    for vpc_spec in spec.vpcs {
        let vpc = vpc(vpc_spec, quota)?;
        if !vpc_ids.insert(vpc.vpc_id.clone()) {
            return invalid(format!("vpc {} is listed twice", vpc.vpc_id));
        }
        if let Some(t) = vpc.tables.iter().find(|t| !table_ids.insert(t.id.clone())) {
            return invalid(format!("route table {} is listed twice", t.id));
        }
        vpcs.push(vpc);
    }
    Ok(Region { vpcs })
}

fn vpc(spec: VpcSpec, quota: usize) -> Result<Vpc, WorldError> {
    let context = format!("vpc {}", spec.vpc_id);
    let Some(cidr) = normalize_cidr(&spec.cidr_block) else {
        return invalid(format!("{context}: cidrBlock {} is not an IPv4 CIDR", spec.cidr_block));
    };
    let gateways = spec.gateways.into_iter().map(gateway).collect::<Result<Vec<_>, _>>();
    let gateways = gateways.map_err(|e| in_context(e, &context))?;
    let tables = spec.route_tables.into_iter().map(|t| table(t, cidr, quota)).collect::<Result<Vec<_>, _>>();
    let tables = tables.map_err(|e| in_context(e, &context))?;
    Ok(Vpc {
        name: spec.vpc_name.unwrap_or_else(|| spec.vpc_id.clone()),
        vpc_id: spec.vpc_id,
        cidr,
        create_time: spec.create_time.unwrap_or_else(|| DEFAULT_CREATE_TIME.into()),
        is_default: spec.is_default,
        tables,
        gateways,
    })
}

fn gateway(spec: GatewaySpec) -> Result<Gateway, WorldError> {
    let Some(next_type) = NextType::from_code(spec.next_type) else {
        return invalid(format!("gateway {}: nextType {} is not one the API knows", spec.id, spec.next_type));
    };
    if next_type == NextType::NormalCvm || !next_type.hub_shape_ok(&spec.id) {
        return invalid(format!("gateway {} cannot be a next hop of type {next_type}", spec.id));
    }
    Ok(Gateway { id: spec.id, next_type })
}

fn table(spec: TableSpec, vpc_cidr: Ipv4Net, quota: usize) -> Result<Table, WorldError> {
    let def = match spec {
        TableSpec::Id(id) => TableDef { id, name: None, routes: Vec::new() },
        TableSpec::Full(def) => def,
    };
    if def.routes.len() > quota {
        return invalid(format!("route table {} lists more routes than routeQuota {quota}", def.id));
    }
    let mut routes: Vec<Route> = Vec::with_capacity(def.routes.len());
    for r in def.routes {
        let route = initial_route(&r).map_err(|e| in_context(e, &format!("route table {}", def.id)))?;
        if vpc_cidr.contains(&route.destination.network()) || route.destination.contains(&vpc_cidr.network()) {
            return invalid(format!("route table {}: {} overlaps the VPC CIDR {vpc_cidr}", def.id, route.destination));
        }
        if routes.iter().any(|known| known.destination == route.destination) {
            return invalid(format!("route table {}: destination {} is listed twice", def.id, route.destination));
        }
        routes.push(route);
    }
    let name = def.name.unwrap_or_else(|| def.id.clone());
    Ok(Table::new(def.id, name, routes.into_iter().map(StoredRoute::unnumbered).collect()))
}

fn initial_route(spec: &RouteSpec) -> Result<Route, WorldError> {
    let Some(next_type) = NextType::from_code(spec.next_type) else {
        return invalid(format!(
            "route {}: nextType {} is not one the API knows",
            spec.destination_cidr_block, spec.next_type
        ));
    };
    match Route::new(&spec.destination_cidr_block, next_type, spec.next_hub.clone()) {
        Some(route) => Ok(route),
        None => invalid(format!("route {} is not an IPv4 CIDR", spec.destination_cidr_block)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const WORLD: &str = r#"
accounts:
  - secretId: AKID1
    secretKey: k1
    regions:
      gz:
        vpcs:
          - vpcId: vpc-a
            cidrBlock: 10.0.0.0/16
            routeTables:
              - rtb-plain
              - id: rtb-full
                routes: [{destinationCidrBlock: 121.0.23.51/16, nextType: 1, nextHub: vpngw-x}]
            gateways: [{id: vpngw-x, nextType: 1}]
"#;

    #[test]
    fn tables_may_be_plain_ids_or_objects_with_routes_and_short_regions_are_renamed() {
        let world = parse(WORLD).unwrap();
        assert_eq!(world.cloud.route_quota, 50);
        let region = world.cloud.accounts[0].region("ap-guangzhou").unwrap();
        let vpc = region.vpc("vpc-a").unwrap();
        assert_eq!(vpc.tables.len(), 2);
        assert!(vpc.table("rtb-plain").unwrap().routes.is_empty());
        assert_eq!(vpc.table("rtb-full").unwrap().routes[0].route.destination.to_string(), "121.0.0.0/16");
    }

    #[test]
    fn a_gateway_whose_id_does_not_fit_its_type_is_refused() {
        let bad = WORLD.replace("gateways: [{id: vpngw-x, nextType: 1}]", "gateways: [{id: nat-x, nextType: 1}]");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("nat-x"), "{err}");
    }

    #[test]
    fn identity_sections_must_name_a_listed_account() {
        let good = format!(
            "{WORLD}oidc: {{providerId: p, roleArn: r, account: AKID1}}\ninstanceRole: {{roleName: n, account: AKID1}}\n"
        );
        let world = parse(&good).unwrap();
        assert_eq!(world.identity.oidc.unwrap().provider_id, "p");
        let bad = format!("{WORLD}oidc: {{providerId: p, roleArn: r, account: AKIDnobody}}\n");
        assert!(matches!(parse(&bad), Err(WorldError::Invalid(m)) if m.contains("AKIDnobody")));
    }

    #[test]
    fn an_initial_route_inside_the_vpc_is_refused() {
        let bad = WORLD.replace("121.0.23.51/16", "10.0.5.0/24");
        assert!(matches!(parse(&bad), Err(WorldError::Invalid(m)) if m.contains("overlaps")));
    }
}
