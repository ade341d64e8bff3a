//! API 3.0 writes on one account's region: CreateRoutes, DeleteRoutes, ReplaceRoutes,
//! EnableRoutes and DisableRoutes, with the rules of §2.5: every entry of a batch is checked
//! before anything changes, messages name the failing entry's index, host bits are dropped,
//! ids never change. Pure; no I/O.

use ipnet::Ipv4Net;
use vpc_wire::domain::{Route, normalize_cidr};
use vpc_wire::v3::codes;
use vpc_wire::v3::models::{
    self, CreateRoutesRequest, DeleteRoutesRequest, EnableRoutesRequest, ReplaceRoutesRequest, RouteRef, RouteTable,
};

use crate::model::{Region, RouteIds, StoredRoute, Table, Vpc};
use crate::v3_describe::{route_view, table_shell};
use crate::v3_reply::V3Error;

/// The VPC holding `table_id`; `ResourceNotFound` when the account has no such table here.
fn owner<'r>(region: Option<&'r mut Region>, table_id: &str) -> Result<&'r mut Vpc, V3Error> {
    if table_id.is_empty() {
        return Err(V3Error::missing("RouteTableId"));
    }
    region.and_then(|r| r.vpcs.iter_mut().find(|v| v.table(table_id).is_some())).ok_or_else(|| {
        V3Error::new(codes::RESOURCE_NOT_FOUND, format!("route table {table_id} does not exist in this region"))
    })
}

fn table_of<'v>(vpc: &'v mut Vpc, table_id: &str) -> Result<&'v mut Table, V3Error> {
    vpc.table_mut(table_id).ok_or_else(|| V3Error::new(codes::RESOURCE_NOT_FOUND, format!("no route table {table_id}")))
}

/// The destination and hop an entry names, checked against the VPC (`at` names the entry).
fn checked_route(vpc: &Vpc, at: &str, wire: &models::Route) -> Result<Route, V3Error> {
    let Some(destination) = normalize_cidr(&wire.destination_cidr_block) else {
        let message = format!("{at}: DestinationCidrBlock is not an IPv4 CIDR");
        return Err(V3Error::new(codes::INVALID_PARAMETER_VALUE_MALFORMED, message));
    };
    let Some(next_type) = models::next_type_of(&wire.gateway_type) else {
        let message = format!("{at}: GatewayType {:?} is not supported", wire.gateway_type);
        return Err(V3Error::new(codes::INVALID_PARAMETER, message));
    };
    if vpc.overlaps(&destination) {
        let message = format!("{at}: overlaps the CIDR {} of vpc {}", vpc.cidr, vpc.vpc_id);
        return Err(V3Error::new(codes::INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT, message));
    }
    if !vpc.hub_exists(next_type, &wire.gateway_id) {
        let message =
            format!("{at}: no next hop {} of type {} in vpc {}", wire.gateway_id, wire.gateway_type, vpc.vpc_id);
        return Err(V3Error::new(codes::INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID, message));
    }
    Ok(Route { destination, next_type, next_hub: wire.gateway_id.clone() })
}

/// Refuses a destination another route (not `except`) already has: `Duplicate` for the same hop,
/// `EcmpWithUserRoute` for another one.
fn check_free(table: &Table, at: &str, route: &Route, except: Option<u64>) -> Result<(), V3Error> {
    let Some(existing) = table.routes.iter().find(|r| r.route.destination == route.destination && Some(r.id) != except)
    else {
        return Ok(());
    };
    let (code, what) = if existing.route.same_hop(route) {
        (codes::INVALID_PARAMETER_VALUE_DUPLICATE, "an identical route")
    } else {
        (codes::UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE, "a route to another next hop")
    };
    let message = format!(
        "{at}: {} already has {what} in {}: {} ({})",
        route.destination, table.id, existing.route, existing.item_id
    );
    Err(V3Error::new(code, message))
}

fn named_twice(at: &str, destination: &Ipv4Net) -> V3Error {
    V3Error::new(codes::INVALID_PARAMETER_VALUE_DUPLICATE, format!("{at}: {destination} is named twice in this batch"))
}

fn at(index: usize, wire: &models::Route) -> String {
    format!("Routes.{index} ({})", wire.destination_cidr_block)
}

/// CreateRoutes: adds every route (fresh ids, `Enabled` and `RouteDescription` as sent) or none.
/// Answers the table holding just the new routes.
pub fn create(
    region: Option<&mut Region>,
    ids: &mut RouteIds,
    quota: usize,
    request: &CreateRoutesRequest,
) -> Result<RouteTable, V3Error> {
    let vpc = owner(region, &request.route_table_id)?;
    if request.routes.is_empty() {
        return Err(V3Error::missing("Routes"));
    }
    let table = vpc.table(&request.route_table_id).ok_or_else(|| V3Error::missing("RouteTableId"))?;
    let mut accepted: Vec<StoredRoute> = Vec::with_capacity(request.routes.len());
    for (index, wire) in request.routes.iter().enumerate() {
        let at = at(index, wire);
        let route = checked_route(vpc, &at, wire)?;
        check_free(table, &at, &route, None)?;
        if accepted.iter().any(|r| r.route.destination == route.destination) {
            return Err(named_twice(&at, &route.destination));
        }
        if table.routes.len() + accepted.len() >= quota {
            let message = format!("{at}: {} would hold more than {quota} routes", table.id);
            return Err(V3Error::new(codes::LIMIT_EXCEEDED, message));
        }
        let mut stored = StoredRoute::new(route, ids);
        stored.description = wire.route_description.clone();
        stored.enabled = wire.enabled;
        accepted.push(stored);
    }
    let views = accepted.iter().map(|r| route_view(&request.route_table_id, r)).collect();
    let shell = table_shell(vpc, table, views);
    table_of(vpc, &request.route_table_id)?.routes.extend(accepted);
    Ok(shell)
}

/// The position of the route an id names; system route and unknown ids are errors (`missing`
/// gives the code of an unknown one).
fn position(
    table: &Table,
    id: Option<u64>,
    item: Option<&str>,
    at: &str,
    missing: &'static str,
) -> Result<usize, V3Error> {
    let (id, item) = (id.filter(|i| *i != 0), item.filter(|i| !i.is_empty()));
    if id.is_none() && item.is_none() {
        return Err(V3Error::missing(&format!("{at}: RouteId or RouteItemId")));
    }
    if id == Some(table.local_id) || item == Some(table.local_item_id.as_str()) {
        return Err(V3Error::new(codes::UNSUPPORTED_OPERATION_SYSTEM_ROUTE, format!("{at}: names the system route")));
    }
    let found = table.routes.iter().position(|r| id.is_none_or(|i| r.id == i) && item.is_none_or(|i| r.item_id == i));
    found.ok_or_else(|| V3Error::new(missing, format!("{at}: no such route in {}", table.id)))
}

/// DeleteRoutes by `RouteId` or `RouteItemId`: removes all or none; answers the removed routes.
pub fn delete(region: Option<&mut Region>, request: &DeleteRoutesRequest) -> Result<Vec<models::Route>, V3Error> {
    let table = table_of(owner(region, &request.route_table_id)?, &request.route_table_id)?;
    if request.routes.is_empty() {
        return Err(V3Error::missing("Routes"));
    }
    let mut doomed: Vec<usize> = Vec::new();
    for (index, RouteRef { route_id, route_item_id }) in request.routes.iter().enumerate() {
        let at = format!("Routes.{index}");
        let found = position(table, *route_id, route_item_id.as_deref(), &at, codes::RESOURCE_NOT_FOUND)?;
        if !doomed.contains(&found) {
            doomed.push(found);
        }
    }
    let removed = doomed.iter().map(|i| route_view(&table.id, &table.routes[*i])).collect();
    let mut index = 0;
    table.routes.retain(|_| {
        index += 1;
        !doomed.contains(&(index - 1))
    });
    Ok(removed)
}

/// ReplaceRoutes: gives each named route (by id) a new destination, hop and description, keeping
/// its ids and state; all or none. Answers the routes before and after.
pub fn replace(
    region: Option<&mut Region>,
    request: &ReplaceRoutesRequest,
) -> Result<(Vec<models::Route>, Vec<models::Route>), V3Error> {
    let vpc = owner(region, &request.route_table_id)?;
    if request.routes.is_empty() {
        return Err(V3Error::missing("Routes"));
    }
    let table = vpc.table(&request.route_table_id).ok_or_else(|| V3Error::missing("RouteTableId"))?;
    let mut changes: Vec<(usize, StoredRoute)> = Vec::with_capacity(request.routes.len());
    for (index, wire) in request.routes.iter().enumerate() {
        let at = at(index, wire);
        let item = Some(wire.route_item_id.as_str());
        let found = position(table, Some(wire.route_id), item, &at, codes::UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS)?;
        let route = checked_route(vpc, &at, wire)?;
        let old = &table.routes[found];
        check_free(table, &at, &route, Some(old.id))?;
        if changes.iter().any(|(i, r)| *i == found || r.route.destination == route.destination) {
            return Err(named_twice(&at, &route.destination));
        }
        let mut new = old.clone();
        new.route = route;
        new.description = wire.route_description.clone();
        changes.push((found, new));
    }
    let old_set = changes.iter().map(|(i, _)| route_view(&table.id, &table.routes[*i])).collect();
    let new_set = changes.iter().map(|(_, r)| route_view(&table.id, r)).collect();
    let table = table_of(vpc, &request.route_table_id)?;
    for (i, new) in changes {
        table.routes[i] = new;
    }
    Ok((old_set, new_set))
}

/// EnableRoutes / DisableRoutes by `RouteIds` or `RouteItemIds`: sets `Enabled` on all or none.
pub fn set_enabled(region: Option<&mut Region>, request: &EnableRoutesRequest, enabled: bool) -> Result<(), V3Error> {
    let table = table_of(owner(region, &request.route_table_id)?, &request.route_table_id)?;
    let by_id = request.route_ids.iter().flatten().map(|id| (Some(*id), None));
    let by_item = request.route_item_ids.iter().flatten().map(|item| (None, Some(item.as_str())));
    let named: Vec<(Option<u64>, Option<&str>)> = by_id.chain(by_item).collect();
    if named.is_empty() {
        return Err(V3Error::missing("RouteIds or RouteItemIds"));
    }
    let mut found = Vec::with_capacity(named.len());
    for (index, (id, item)) in named.into_iter().enumerate() {
        let at = format!("route {index}");
        found.push(position(table, id, item, &at, codes::RESOURCE_NOT_FOUND)?);
    }
    for i in found {
        table.routes[i].enabled = enabled;
    }
    Ok(())
}
