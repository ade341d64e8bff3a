//! API 3.0 reads: DescribeRouteTables (ids or `Filters`, string `Offset`/`Limit`), DescribeVpcs
//! and DescribeVpcLimits, and the wire views of tables and routes (the `LOCAL` system route
//! first, then the user routes). Pure; no I/O.

use vpc_wire::v3::codes;
use vpc_wire::v3::models::{
    self, DescribeRouteTablesRequest, DescribeRouteTablesResponse, DescribeVpcLimitsRequest, DescribeVpcLimitsResponse,
    DescribeVpcsRequest, DescribeVpcsResponse, Filter, RouteTable, VpcLimit,
};

use crate::model::{Region, StoredRoute, Table, Vpc};
use crate::v3_reply::V3Error;

/// Default page size of the 3.0 Describe actions.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest `Limit` the 3.0 Describe actions accept.
pub const MAX_LIMIT: u64 = 100;
/// The quota name of routes per table.
pub const ROUTE_QUOTA_LIMIT: &str = "route-table-max-policies";

/// A user route as 3.0 shows it.
pub fn route_view(table_id: &str, route: &StoredRoute) -> models::Route {
    models::Route {
        destination_cidr_block: route.route.destination.to_string(),
        gateway_type: models::gateway_type(route.route.next_type).to_string(),
        gateway_id: route.route.next_hub.clone(),
        route_id: route.id,
        route_item_id: route.item_id.clone(),
        route_description: route.description.clone(),
        enabled: route.enabled,
        route_type: models::ROUTE_TYPE_USER.to_string(),
        route_table_id: table_id.to_string(),
        created_time: route.created.clone(),
        ..models::Route::default()
    }
}

/// The system route of a table: the VPC CIDR, `LOCAL`, `NETD`.
fn local_view(vpc: &Vpc, table: &Table) -> models::Route {
    models::Route {
        destination_cidr_block: vpc.cidr.to_string(),
        gateway_type: models::GATEWAY_TYPE_LOCAL.to_string(),
        gateway_id: models::GATEWAY_ID_LOCAL.to_string(),
        route_id: table.local_id,
        route_item_id: table.local_item_id.clone(),
        route_description: String::new(),
        enabled: true,
        route_type: models::ROUTE_TYPE_NETD.to_string(),
        route_table_id: table.id.clone(),
        created_time: vpc.create_time.clone(),
        ..models::Route::default()
    }
}

/// A table with the given routes (none: an empty `RouteSet`). `Main` is the VPC's first table.
pub fn table_shell(vpc: &Vpc, table: &Table, route_set: Vec<models::Route>) -> RouteTable {
    RouteTable {
        vpc_id: vpc.vpc_id.clone(),
        route_table_id: table.id.clone(),
        route_table_name: table.name.clone(),
        association_set: Vec::new(),
        route_set,
        main: vpc.tables.first().is_some_and(|t| t.id == table.id),
        created_time: vpc.create_time.clone(),
        tag_set: Vec::new(),
        local_cidr_for_ccn: Vec::new(),
    }
}

/// A table with its system route and every user route.
pub fn table_view(vpc: &Vpc, table: &Table) -> RouteTable {
    let routes = std::iter::once(local_view(vpc, table)).chain(table.routes.iter().map(|r| route_view(&table.id, r)));
    table_shell(vpc, table, routes.collect())
}

/// `Offset` (default 0) and `Limit` (default 20, 1..=100), sent as strings.
fn page(offset: Option<&str>, limit: Option<&str>) -> Result<(usize, usize), V3Error> {
    let number = |name: &str, value: Option<&str>, default: u64| match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            V3Error::new(codes::INVALID_PARAMETER_VALUE, format!("{name} {v:?} is not a non-negative integer"))
        }),
    };
    let offset = number("Offset", offset, 0)?;
    let limit = number("Limit", limit, DEFAULT_LIMIT)?;
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(V3Error::new(codes::INVALID_PARAMETER_VALUE, format!("Limit must be between 1 and {MAX_LIMIT}")));
    }
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    Ok((size(offset), size(limit)))
}

fn unknown_filter(filter: &Filter) -> V3Error {
    V3Error::new(codes::INVALID_PARAMETER_VALUE, format!("filter {} is not supported", filter.name))
}

/// Whether a table passes one filter; `Err` for a filter name DescribeRouteTables lacks.
fn table_matches(filter: &Filter, vpc: &Vpc, table: &Table) -> Result<bool, V3Error> {
    let any = |value: &str| filter.values.iter().any(|v| v == value);
    Ok(match filter.name.as_str() {
        "route-table-id" => any(&table.id),
        "vpc-id" => any(&vpc.vpc_id),
        "route-table-name" => any(&table.name),
        "association.main" => {
            let main = vpc.tables.first().is_some_and(|t| t.id == table.id);
            filter.values.iter().any(|v| v.trim().eq_ignore_ascii_case(if main { "true" } else { "false" }))
        }
        _ => return Err(unknown_filter(filter)),
    })
}

/// DescribeRouteTables: `RouteTableIds` and `Filters` (ANDed across filters and with the ids,
/// values ORed), then paging. A region the account lacks has no tables.
pub fn route_tables(
    region: Option<&Region>,
    request: &DescribeRouteTablesRequest,
) -> Result<DescribeRouteTablesResponse, V3Error> {
    let (offset, limit) = page(request.offset.as_deref(), request.limit.as_deref())?;
    let filters = request.filters.as_deref().unwrap_or_default();
    let mut matching: Vec<(&Vpc, &Table)> = Vec::new();
    for vpc in region.map(|r| r.vpcs.as_slice()).unwrap_or_default() {
        for table in &vpc.tables {
            let by_id = request.route_table_ids.as_ref().is_none_or(|ids| ids.contains(&table.id));
            let mut keep = by_id;
            for filter in filters {
                keep &= table_matches(filter, vpc, table)?;
            }
            if keep {
                matching.push((vpc, table));
            }
        }
    }
    let route_table_set = matching.iter().skip(offset).take(limit).map(|(v, t)| table_view(v, t)).collect();
    Ok(DescribeRouteTablesResponse { total_count: matching.len() as u64, route_table_set })
}

/// DescribeVpcs: `VpcIds` and `Filters` `vpc-id` / `vpc-name` (ANDed, values ORed), then paging.
pub fn vpcs(region: Option<&Region>, request: &DescribeVpcsRequest) -> Result<DescribeVpcsResponse, V3Error> {
    let (offset, limit) = page(request.offset.as_deref(), request.limit.as_deref())?;
    let filters = request.filters.as_deref().unwrap_or_default();
    let mut matching: Vec<&Vpc> = Vec::new();
    for vpc in region.map(|r| r.vpcs.as_slice()).unwrap_or_default() {
        let mut keep = request.vpc_ids.as_ref().is_none_or(|ids| ids.contains(&vpc.vpc_id));
        for filter in filters {
            keep &= match filter.name.as_str() {
                "vpc-id" => filter.values.contains(&vpc.vpc_id),
                "vpc-name" => filter.values.contains(&vpc.name),
                _ => return Err(unknown_filter(filter)),
            };
        }
        if keep {
            matching.push(vpc);
        }
    }
    let vpc_set = matching.iter().skip(offset).take(limit).map(|v| vpc_view(v)).collect();
    Ok(DescribeVpcsResponse { total_count: matching.len() as u64, vpc_set })
}

fn vpc_view(vpc: &Vpc) -> models::Vpc {
    models::Vpc {
        vpc_id: vpc.vpc_id.clone(),
        vpc_name: vpc.name.clone(),
        cidr_block: vpc.cidr.to_string(),
        is_default: vpc.is_default,
        created_time: vpc.create_time.clone(),
        ..models::Vpc::default()
    }
}

/// DescribeVpcLimits: `route-table-max-policies` is the world's route quota; other names are
/// left out; no names asks for every known one.
pub fn limits(quota: usize, request: &DescribeVpcLimitsRequest) -> DescribeVpcLimitsResponse {
    let wanted = request.limit_types.is_empty() || request.limit_types.iter().any(|t| t == ROUTE_QUOTA_LIMIT);
    let vpc_limit_set = if wanted {
        vec![VpcLimit { limit_type: ROUTE_QUOTA_LIMIT.to_string(), limit_value: quota as u64 }]
    } else {
        Vec::new()
    };
    DescribeVpcLimitsResponse { vpc_limit_set }
}
