//! The routes of the whole cloud as a JSON document: what `GET /_sim/state` answers and what
//! `--state FILE` holds. `save` and `load` do file I/O (atomic write: temp file + rename);
//! the rest is pure. Secret keys and tokens are never part of it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vpc_wire::domain::{NextType, Route};

use crate::model::{Cloud, StoredRoute, Vpc};

/// Every account's routes (the `Local` system route left out) and gateways.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Accounts in world order.
    pub accounts: Vec<AccountSnap>,
}

/// One account, named by its SecretId only.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSnap {
    secret_id: String,
    regions: BTreeMap<String, RegionSnap>,
}

/// One region of an account.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSnap {
    vpcs: Vec<VpcSnap>,
}

/// One VPC with its tables and gateways.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcSnap {
    vpc_id: String,
    cidr_block: String,
    route_tables: Vec<TableSnap>,
    #[serde(default)]
    gateways: Vec<GatewaySnap>,
}

/// One table's routes, and the ids of its system route (0 and empty in old files: new ones are
/// given).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSnap {
    route_table_id: String,
    routes: Vec<RouteSnap>,
    #[serde(default)]
    local_route_id: u64,
    #[serde(default)]
    local_route_item_id: String,
}

/// One route in wire form, with its 3.0 identity and attributes (absent in old files: defaults).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSnap {
    destination_cidr_block: String,
    next_type: u32,
    next_hub: String,
    #[serde(default)]
    route_id: u64,
    #[serde(default)]
    route_item_id: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    description: String,
    #[serde(default)]
    created_time: String,
}

fn enabled_by_default() -> bool {
    true
}

/// One gateway.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySnap {
    id: String,
    next_type: u32,
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading, writing or renaming failed.
    #[error("state file {path}: I/O failed")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a snapshot.
    #[error("state file {path} is not valid")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: serde_json::Error,
    },
}

/// The snapshot of the cloud as it is now.
pub fn snapshot(cloud: &Cloud) -> Snapshot {
    let accounts = cloud.accounts.iter().map(|a| AccountSnap {
        secret_id: a.secret_id.clone(),
        regions: a
            .regions
            .iter()
            .map(|(n, r)| (n.clone(), RegionSnap { vpcs: r.vpcs.iter().map(vpc_snap).collect() }))
            .collect(),
    });
    Snapshot { accounts: accounts.collect() }
}

fn vpc_snap(vpc: &Vpc) -> VpcSnap {
    let route = |r: &StoredRoute| RouteSnap {
        destination_cidr_block: r.route.destination.to_string(),
        next_type: r.route.next_type.code(),
        next_hub: r.route.next_hub.clone(),
        route_id: r.id,
        route_item_id: r.item_id.clone(),
        enabled: r.enabled,
        description: r.description.clone(),
        created_time: r.created.clone(),
    };
    VpcSnap {
        vpc_id: vpc.vpc_id.clone(),
        cidr_block: vpc.cidr.to_string(),
        route_tables: vpc
            .tables
            .iter()
            .map(|t| TableSnap {
                route_table_id: t.id.clone(),
                routes: t.routes.iter().map(route).collect(),
                local_route_id: t.local_id,
                local_route_item_id: t.local_item_id.clone(),
            })
            .collect(),
        gateways: vpc
            .gateways
            .iter()
            .map(|g| GatewaySnap { id: g.id.clone(), next_type: g.next_type.code() })
            .collect(),
    }
}

/// Puts the snapshot's routes into the tables the world still has; returns how many tables
/// were restored. Tables the world no longer has, and routes that do not parse, are skipped.
/// Routes without ids (old files) keep id 0: call [`Cloud::fill_ids`] afterwards.
pub fn restore(cloud: &mut Cloud, snap: Snapshot) -> usize {
    let mut restored = 0;
    for account_snap in snap.accounts {
        let Some(account) = cloud.account_mut(&account_snap.secret_id) else { continue };
        for (region_name, region_snap) in account_snap.regions {
            let Some(region) = account.region_mut(&region_name) else { continue };
            for table_snap in region_snap.vpcs.into_iter().flat_map(|v| v.route_tables) {
                let Some(table) = region.table_mut(&table_snap.route_table_id) else { continue };
                table.routes = table_snap.routes.iter().filter_map(route_from_snap).collect();
                if table_snap.local_route_id != 0 && !table_snap.local_route_item_id.is_empty() {
                    table.local_id = table_snap.local_route_id;
                    table.local_item_id = table_snap.local_route_item_id;
                }
                restored += 1;
            }
        }
    }
    restored
}

fn route_from_snap(snap: &RouteSnap) -> Option<StoredRoute> {
    let route = Route::new(&snap.destination_cidr_block, NextType::from_code(snap.next_type)?, snap.next_hub.clone())?;
    let mut stored = StoredRoute::unnumbered(route);
    stored.id = snap.route_id;
    stored.item_id = snap.route_item_id.clone();
    stored.enabled = snap.enabled;
    stored.description = snap.description.clone();
    if !snap.created_time.is_empty() {
        stored.created = snap.created_time.clone();
    }
    Some(stored)
}

/// Reads a snapshot file; `None` when it does not exist.
pub fn load(path: &Path) -> Result<Option<Snapshot>, PersistError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(PersistError::Io { path: path.into(), source }),
    };
    serde_json::from_slice(&text).map(Some).map_err(|source| PersistError::Parse { path: path.into(), source })
}

/// Writes a snapshot so that a reader sees either the old file or the new one, never a part.
pub fn save(path: &Path, snap: &Snapshot) -> Result<(), PersistError> {
    let text = serde_json::to_vec_pretty(snap).map_err(|source| PersistError::Parse { path: path.into(), source })?;
    write_atomically(path, &text).map_err(|source| PersistError::Io { path: path.into(), source })
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::world;

    const WORLD: &str = "accounts:\n- secretId: A\n  secretKey: k\n  regions:\n    ap-guangzhou:\n      vpcs:\n      \
                         - {vpcId: vpc-a, cidrBlock: 10.0.0.0/16, routeTables: [rtb-1]}\n";

    #[test]
    fn ids_description_and_enabled_survive_a_save_and_restore() {
        let mut cloud = world::parse(WORLD).unwrap().cloud;
        let (region, ids) = cloud.region_and_ids("A", "ap-guangzhou");
        let table = region.unwrap().table_mut("rtb-1").unwrap();
        let mut route = StoredRoute::new(Route::new("1.0.0.0/8", NextType::VpnGateway, "vpngw-1").unwrap(), ids);
        (route.description, route.enabled) = ("d".into(), false);
        table.routes.push(route.clone());
        let text = serde_json::to_string(&snapshot(&cloud)).unwrap();
        let mut fresh = world::parse(WORLD).unwrap().cloud;
        assert_eq!(restore(&mut fresh, serde_json::from_str(&text).unwrap()), 1);
        fresh.fill_ids();
        let table = fresh.accounts[0].region_mut("gz").unwrap().table_mut("rtb-1").unwrap();
        assert_eq!(table.routes, vec![route]);
    }

    #[test]
    fn an_old_state_file_without_ids_loads_and_its_routes_get_fresh_ids() {
        let old = r#"{"accounts":[{"secretId":"A","regions":{"ap-guangzhou":{"vpcs":[{"vpcId":"vpc-a",
            "cidrBlock":"10.0.0.0/16","routeTables":[{"routeTableId":"rtb-1","routes":[
            {"destinationCidrBlock":"1.0.0.0/8","nextType":1,"nextHub":"vpngw-1"}]}]}]}}}]}"#;
        let mut cloud = world::parse(WORLD).unwrap().cloud;
        assert_eq!(restore(&mut cloud, serde_json::from_str(old).unwrap()), 1);
        cloud.fill_ids();
        let table = cloud.accounts[0].region_mut("gz").unwrap().table_mut("rtb-1").unwrap();
        let route = &table.routes[0];
        assert!(route.id > table.local_id && route.item_id.starts_with("rti-") && route.enabled);
    }
}
