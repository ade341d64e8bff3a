//! CreateRoute and DeleteRoute against one account's region, with every rule of the contract:
//! VPC and table lookup, CIDR checks and normalisation, next-type and next-hop checks, quota,
//! duplicates, and batch atomicity (all entries are checked before anything changes). Pure; no I/O.

use vpc_wire::domain::{NextType, Route, normalize_cidr};
use vpc_wire::v2::codes::{self, desc};

use crate::model::{Region, RouteIds, StoredRoute, Table, Vpc};
use crate::params::RouteEntry;
use crate::reply::ApiError;

/// Which table a CreateRoute or DeleteRoute call names.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `vpcId`.
    pub vpc_id: &'a str,
    /// `routeTableId`.
    pub table_id: &'a str,
}

/// Adds every entry to the table (each with fresh ids from `ids`), or none of them. Returns the
/// routes added.
pub fn create_routes(
    region: Option<&mut Region>,
    ids: &mut RouteIds,
    quota: usize,
    target: Target<'_>,
    entries: &[RouteEntry],
) -> Result<Vec<Route>, ApiError> {
    let vpc = find_vpc(region, target)?;
    let table = find_table(vpc, target)?;
    let routes = check_create(vpc, table, quota, entries)?;
    let table = vpc.table_mut(target.table_id).ok_or_else(|| table_not_found(target))?;
    table.routes.extend(routes.iter().map(|r| StoredRoute::new(r.clone(), ids)));
    Ok(routes)
}

/// Removes every entry from the table, or none of them. Returns the routes removed.
pub fn delete_routes(
    region: Option<&mut Region>,
    target: Target<'_>,
    entries: &[RouteEntry],
) -> Result<Vec<Route>, ApiError> {
    let vpc = find_vpc(region, target)?;
    let table = find_table(vpc, target)?;
    let mut doomed: Vec<Route> = Vec::with_capacity(entries.len());
    for entry in entries {
        let wanted = parse_entry(entry)?;
        if !table.routes.iter().any(|r| r.route == wanted) {
            let message = format!("{}: no route {wanted} in {}", at(entry), target.table_id);
            return Err(ApiError::new(codes::RESOURCE_NOT_FOUND, desc::INVALID_ROUTE, message));
        }
        if !doomed.contains(&wanted) {
            doomed.push(wanted);
        }
    }
    let table = vpc.table_mut(target.table_id).ok_or_else(|| table_not_found(target))?;
    table.routes.retain(|r| !doomed.contains(&r.route));
    Ok(doomed)
}

fn find_vpc<'r>(region: Option<&'r mut Region>, target: Target<'_>) -> Result<&'r mut Vpc, ApiError> {
    region.and_then(|r| r.vpc_mut(target.vpc_id)).ok_or_else(|| {
        let message = format!("vpc {} does not exist for this account in this region", target.vpc_id);
        ApiError::business(desc::INVALID_VPC, message)
    })
}

fn find_table<'v>(vpc: &'v Vpc, target: Target<'_>) -> Result<&'v Table, ApiError> {
    vpc.table(target.table_id).ok_or_else(|| table_not_found(target))
}

fn table_not_found(target: Target<'_>) -> ApiError {
    let message = format!("route table {} does not exist in vpc {}", target.table_id, target.vpc_id);
    ApiError::business(desc::INVALID_ROUTE_TABLE, message)
}

/// Names an entry in messages: its index and destination as sent.
fn at(entry: &RouteEntry) -> String {
    format!("routeSet.{} ({})", entry.index, entry.destination)
}

/// Checks a CreateRoute batch in order and stops at the first failing entry.
fn check_create(vpc: &Vpc, table: &Table, quota: usize, entries: &[RouteEntry]) -> Result<Vec<Route>, ApiError> {
    let mut accepted: Vec<Route> = Vec::with_capacity(entries.len());
    for entry in entries {
        let route = parse_entry(entry)?;
        check_against_vpc(vpc, entry, &route)?;
        if let Some(existing) = table.route_to(&route.destination) {
            let message =
                format!("{}: {} already has a route in {}: {}", at(entry), route.destination, table.id, existing.route);
            return Err(ApiError::business(desc::ROUTE_ALREADY_EXISTS, message));
        }
        if accepted.iter().any(|r| r.destination == route.destination) {
            let message = format!("{}: {} is named twice in this batch", at(entry), route.destination);
            return Err(ApiError::business(desc::ROUTE_ALREADY_EXISTS, message));
        }
        if table.routes.len() + accepted.len() >= quota {
            let message = format!("{}: {} would hold more than {quota} routes", at(entry), table.id);
            return Err(ApiError::business(desc::ROUTE_LIMIT_EXCEEDED, message));
        }
        accepted.push(route);
    }
    Ok(accepted)
}

/// The route an entry names: a valid IPv4 CIDR (normalised) and a known next type.
fn parse_entry(entry: &RouteEntry) -> Result<Route, ApiError> {
    let Some(destination) = normalize_cidr(&entry.destination) else {
        let message = format!("{}: not an IPv4 CIDR", at(entry));
        return Err(ApiError::business(desc::INVALID_DESTINATION_CIDR, message));
    };
    let next_type = entry.next_type.trim().parse::<u32>().ok().and_then(NextType::from_code);
    let Some(next_type) = next_type else {
        let message = format!("{}: nextType {} is not one of 0, 1, 3, 4, 7, 8, 9", at(entry), entry.next_type);
        return Err(ApiError::business(desc::INVALID_ROUTE_NEXT_TYPE, message));
    };
    Ok(Route { destination, next_type, next_hub: entry.next_hub.clone() })
}

/// The VPC-dependent rules: the destination stays outside the VPC, the next hop exists in it.
fn check_against_vpc(vpc: &Vpc, entry: &RouteEntry, route: &Route) -> Result<(), ApiError> {
    if vpc.overlaps(&route.destination) {
        let message = format!("{}: overlaps the CIDR {} of vpc {}", at(entry), vpc.cidr, vpc.vpc_id);
        return Err(ApiError::business(desc::INVALID_DESTINATION_CIDR, message));
    }
    if !vpc.hub_exists(route.next_type, &route.next_hub) {
        let message =
            format!("{}: no next hop {} of type {} in vpc {}", at(entry), route.next_hub, route.next_type, vpc.vpc_id);
        return Err(ApiError::business(desc::INVALID_ROUTE_NEXT_HUB, message));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::world;

    const WORLD: &str = r#"
routeQuota: 2
accounts:
  - secretId: AKID1
    secretKey: k
    regions:
      ap-guangzhou:
        vpcs:
          - vpcId: vpc-a
            cidrBlock: 10.0.0.0/16
            routeTables: [rtb-a]
            gateways: [{id: vpngw-a, nextType: 1}]
"#;

    fn entry(index: usize, destination: &str, next_type: &str, next_hub: &str) -> RouteEntry {
        RouteEntry { index, destination: destination.into(), next_type: next_type.into(), next_hub: next_hub.into() }
    }

    fn region() -> Region {
        let mut w = world::parse(WORLD).unwrap();
        w.cloud.accounts.remove(0).regions.remove("ap-guangzhou").unwrap()
    }

    const TARGET: Target<'static> = Target { vpc_id: "vpc-a", table_id: "rtb-a" };

    #[test]
    fn a_failing_entry_leaves_the_table_untouched_and_is_named() {
        let mut r = region();
        let batch = [entry(0, "121.0.23.51/16", "1", "vpngw-a"), entry(1, "10.0.9.0/24", "1", "vpngw-a")];
        let err = create_routes(Some(&mut r), &mut RouteIds::default(), 50, TARGET, &batch).unwrap_err();
        assert_eq!(err.code_desc, desc::INVALID_DESTINATION_CIDR);
        assert!(err.message.contains("routeSet.1 (10.0.9.0/24)"), "{}", err.message);
        assert!(r.vpc("vpc-a").unwrap().table("rtb-a").unwrap().routes.is_empty());
    }

    #[test]
    fn the_quota_counts_existing_and_batch_routes() {
        let mut r = region();
        create_routes(Some(&mut r), &mut RouteIds::default(), 2, TARGET, &[entry(0, "1.0.0.0/8", "1", "vpngw-a")])
            .unwrap();
        let batch = [entry(0, "2.0.0.0/8", "1", "vpngw-a"), entry(1, "3.0.0.0/8", "1", "vpngw-a")];
        let err = create_routes(Some(&mut r), &mut RouteIds::default(), 2, TARGET, &batch).unwrap_err();
        assert_eq!((err.code_desc, err.message.starts_with("routeSet.1")), (desc::ROUTE_LIMIT_EXCEEDED, true));
    }

    #[test]
    fn delete_needs_an_exact_match_and_answers_5000_otherwise() {
        let mut r = region();
        create_routes(Some(&mut r), &mut RouteIds::default(), 50, TARGET, &[entry(0, "1.2.3.4/8", "1", "vpngw-a")])
            .unwrap();
        let wrong_hub = delete_routes(Some(&mut r), TARGET, &[entry(0, "1.0.0.0/8", "1", "vpngw-b")]).unwrap_err();
        assert_eq!((wrong_hub.code, wrong_hub.code_desc), (codes::RESOURCE_NOT_FOUND, desc::INVALID_ROUTE));
        let gone = delete_routes(Some(&mut r), TARGET, &[entry(0, "1.0.0.0/8", "1", "vpngw-a")]).unwrap();
        assert_eq!(gone.len(), 1);
        assert!(r.vpc("vpc-a").unwrap().table("rtb-a").unwrap().routes.is_empty());
    }
}
