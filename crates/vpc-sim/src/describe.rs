//! DescribeRouteTable and DescribeVpcEx: filtering, paging and the response shapes, each table
//! listing the `Local` system route first. Pure; no I/O.

use serde::Serialize;
use vpc_wire::domain::Route;

use crate::model::{Region, Table, Vpc};
use crate::params::Params;
use crate::reply::ApiError;

/// The system route every table holds; `nextType` 2 is not a creatable type.
const LOCAL: &str = "Local";
const LOCAL_NEXT_TYPE: u32 = 2;

/// A page of results with the total count before paging.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T: Serialize> {
    /// Matches before paging.
    pub total_count: usize,
    /// This page.
    pub data: Vec<T>,
}

/// One route table as DescribeRouteTable shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableView {
    un_vpc_id: String,
    vpc_name: String,
    vpc_cidr_block: String,
    un_route_table_id: String,
    route_table_name: String,
    route_table_type: u8,
    route_num: usize,
    route_set: Vec<RouteView>,
}

/// One route as DescribeRouteTable shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteView {
    destination_cidr_block: String,
    next_type: u32,
    next_hub: String,
    un_next_hub: String,
    description: String,
}

/// One VPC as DescribeVpcEx shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcView {
    un_vpc_id: String,
    vpc_name: String,
    cidr_block: String,
    create_time: String,
    is_default: bool,
    route_table_num: usize,
}

/// DescribeRouteTable: filters `vpcId`, `routeTableId`, `routeTableName`; pages `offset`/`limit`.
/// A filter that matches nothing gives an empty page, not an error.
pub fn route_tables(region: Option<&Region>, params: &Params) -> Result<Page<TableView>, ApiError> {
    let (offset, limit) = params.page()?;
    let vpc_filter = params.filter("vpcId");
    let id_filter = params.filter("routeTableId");
    let name_filter = params.filter("routeTableName");
    let vpcs = region.map(|r| r.vpcs.as_slice()).unwrap_or_default();
    let matching: Vec<(&Vpc, usize, &Table)> = vpcs
        .iter()
        .filter(|v| vpc_filter.is_none_or(|f| f == v.vpc_id))
        .flat_map(|v| v.tables.iter().enumerate().map(move |(i, t)| (v, i, t)))
        .filter(|(_, _, t)| id_filter.is_none_or(|f| f == t.id) && name_filter.is_none_or(|f| f == t.name))
        .collect();
    let data = matching.iter().skip(offset).take(limit).map(|(v, i, t)| table_view(v, *i, t)).collect();
    Ok(Page { total_count: matching.len(), data })
}

fn table_view(vpc: &Vpc, index: usize, table: &Table) -> TableView {
    let local = RouteView {
        destination_cidr_block: LOCAL.into(),
        next_type: LOCAL_NEXT_TYPE,
        next_hub: LOCAL.into(),
        un_next_hub: LOCAL.into(),
        description: String::new(),
    };
    let route_set: Vec<RouteView> =
        std::iter::once(local).chain(table.routes.iter().map(|r| route_view(&r.route))).collect();
    TableView {
        un_vpc_id: vpc.vpc_id.clone(),
        vpc_name: vpc.name.clone(),
        vpc_cidr_block: vpc.cidr.to_string(),
        un_route_table_id: table.id.clone(),
        route_table_name: table.name.clone(),
        route_table_type: u8::from(index == 0),
        route_num: route_set.len(),
        route_set,
    }
}

fn route_view(route: &Route) -> RouteView {
    RouteView {
        destination_cidr_block: route.destination.to_string(),
        next_type: route.next_type.code(),
        next_hub: route.next_hub.clone(),
        un_next_hub: route.next_hub.clone(),
        description: String::new(),
    }
}

/// DescribeVpcEx: filters `vpcId`, `vpcName`; pages `offset`/`limit`.
pub fn vpcs(region: Option<&Region>, params: &Params) -> Result<Page<VpcView>, ApiError> {
    let (offset, limit) = params.page()?;
    let id_filter = params.filter("vpcId");
    let name_filter = params.filter("vpcName");
    let vpcs = region.map(|r| r.vpcs.as_slice()).unwrap_or_default();
    let matching: Vec<&Vpc> = vpcs
        .iter()
        .filter(|v| id_filter.is_none_or(|f| f == v.vpc_id) && name_filter.is_none_or(|f| f == v.name))
        .collect();
    let data = matching.iter().skip(offset).take(limit).map(|v| vpc_view(v)).collect();
    Ok(Page { total_count: matching.len(), data })
}

fn vpc_view(vpc: &Vpc) -> VpcView {
    VpcView {
        un_vpc_id: vpc.vpc_id.clone(),
        vpc_name: vpc.name.clone(),
        cidr_block: vpc.cidr.to_string(),
        create_time: vpc.create_time.clone(),
        is_default: vpc.is_default,
        route_table_num: vpc.tables.len(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::world;

    #[test]
    fn every_table_lists_the_local_route_first_and_pages_cut_the_table_list() {
        let text = "accounts:\n- secretId: A\n  secretKey: k\n  regions:\n    ap-guangzhou:\n      vpcs:\n      \
                    - {vpcId: vpc-a, cidrBlock: 10.0.0.0/16, routeTables: [rtb-1, rtb-2, rtb-3]}\n";
        let w = world::parse(text).unwrap();
        let region = w.cloud.accounts[0].region("gz");
        let page = route_tables(region, &Params::decode(Some("offset=1&limit=1"), b"").unwrap()).unwrap();
        assert_eq!(page.total_count, 3);
        assert_eq!(page.data.len(), 1);
        assert_eq!(page.data[0].un_route_table_id, "rtb-2");
        assert_eq!(page.data[0].route_set[0].destination_cidr_block, "Local");
        assert_eq!(page.data[0].route_table_type, 0);
    }
}
