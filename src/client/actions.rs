//! Typed action parameters (`routeSet.n.*` flattening, paging) and the conversion of typed
//! answers into domain values (`Local` dropped, destinations normalised). Pure; no I/O.

use vpc_wire::domain::{NextType, Route, normalize_cidr};
use vpc_wire::v2::models::{RouteItem, RouteTableItem, VpcItem};

/// Page size used for every listing (the API's maximum).
pub const PAGE_LIMIT: i64 = 50;

/// A route table, its routes normalised and the `Local` system route dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTable {
    /// The route table id (`rtb-…`).
    pub route_table_id: String,
    /// The route table's name.
    pub name: String,
    /// The VPC it belongs to (`vpc-…`).
    pub vpc_id: String,
    /// The VPC's CIDR.
    pub vpc_cidr: String,
    /// The routes with a known next type, destinations in network form.
    pub routes: Vec<Route>,
    /// Routes this client does not understand (unknown next type or unparsable destination),
    /// kept aside as sent so callers can report them but never act on them.
    pub other_routes: Vec<RawRoute>,
}

/// A route as the API sent it, for next types or destinations this client does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRoute {
    /// The destination as sent.
    pub destination: String,
    /// The wire next type code.
    pub next_type: i64,
    /// The next hop as sent.
    pub next_hub: String,
}

/// A VPC as `DescribeVpcEx` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    /// The VPC id (`vpc-…`).
    pub vpc_id: String,
    /// Its name.
    pub name: String,
    /// Its CIDR.
    pub cidr_block: String,
    /// When it was created, as sent.
    pub create_time: Option<String>,
    /// Whether it is the region's default VPC.
    pub is_default: bool,
}

/// `vpcId`, `routeTableId` and `routeSet.n.{destinationCidrBlock,nextType,nextHub}` for
/// `CreateRoute` and `DeleteRoute`.
pub fn route_batch_params(vpc_id: &str, route_table_id: &str, routes: &[Route]) -> Vec<(String, String)> {
    let mut params =
        vec![("vpcId".to_owned(), vpc_id.to_owned()), ("routeTableId".to_owned(), route_table_id.to_owned())];
    for (n, route) in routes.iter().enumerate() {
        params.push((format!("routeSet.{n}.destinationCidrBlock"), route.destination.to_string()));
        params.push((format!("routeSet.{n}.nextType"), route.next_type.code().to_string()));
        params.push((format!("routeSet.{n}.nextHub"), route.next_hub.clone()));
    }
    params
}

/// The filters and page window for one `DescribeRouteTable` call.
pub fn route_table_params(vpc_id: Option<&str>, route_table_id: Option<&str>, offset: i64) -> Vec<(String, String)> {
    let mut params = Vec::new();
    if let Some(vpc) = vpc_id {
        params.push(("vpcId".to_owned(), vpc.to_owned()));
    }
    if let Some(rtb) = route_table_id {
        params.push(("routeTableId".to_owned(), rtb.to_owned()));
    }
    params.extend(page_params(offset));
    params
}

/// The filter and page window for one `DescribeVpcEx` call.
pub fn vpc_params(vpc_id: &str, offset: i64) -> Vec<(String, String)> {
    let mut params = vec![("vpcId".to_owned(), vpc_id.to_owned())];
    params.extend(page_params(offset));
    params
}

fn page_params(offset: i64) -> [(String, String); 2] {
    [("offset".to_owned(), offset.to_string()), ("limit".to_owned(), PAGE_LIMIT.to_string())]
}

/// Whether another page should be asked for after `seen` items, the last page holding
/// `last_page_len` of `total` (an empty page ends the listing whatever `total` says).
pub fn wants_next_page(seen: usize, last_page_len: usize, total: i64) -> bool {
    last_page_len > 0 && i64::try_from(seen).is_ok_and(|seen| seen < total)
}

/// Converts one table from the wire: drops `Local`, normalises known routes, keeps the rest aside.
pub fn route_table_from_item(item: RouteTableItem) -> RouteTable {
    let mut routes = Vec::new();
    let mut other_routes = Vec::new();
    for raw in item.routes.into_iter().filter(|r| !is_local(r)) {
        match to_route(&raw) {
            Some(route) => routes.push(route),
            None => other_routes.push(RawRoute {
                destination: raw.destination,
                next_type: raw.next_type,
                next_hub: raw.next_hub,
            }),
        }
    }
    RouteTable {
        route_table_id: item.route_table_id,
        name: item.name,
        vpc_id: item.vpc_id,
        vpc_cidr: item.vpc_cidr,
        routes,
        other_routes,
    }
}

/// Converts one VPC from the wire.
pub fn vpc_from_item(item: VpcItem) -> Vpc {
    Vpc {
        vpc_id: item.vpc_id,
        name: item.name,
        cidr_block: item.cidr_block,
        create_time: item.create_time,
        is_default: item.is_default,
    }
}

fn is_local(route: &RouteItem) -> bool {
    route.destination.eq_ignore_ascii_case("local") || route.next_type == 2
}

fn to_route(raw: &RouteItem) -> Option<Route> {
    let next_type = NextType::from_code(u32::try_from(raw.next_type).ok()?)?;
    Some(Route { destination: normalize_cidr(&raw.destination)?, next_type, next_hub: raw.next_hub.clone() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vpc_wire::v2::sign::canonical_params;

    fn route(dest: &str, hub: &str) -> Route {
        Route::new(dest, NextType::VpnGateway, hub).unwrap()
    }

    fn item(dest: &str, next_type: i64, hub: &str) -> RouteItem {
        RouteItem { destination: dest.into(), next_type, next_hub: hub.into(), ..RouteItem::default() }
    }

    #[test]
    fn route_batch_is_flattened_with_wire_codes() {
        let routes =
            [route("192.168.1.0/24", "vpngw-a"), Route::new("10.9.0.0/16", NextType::NormalCvm, "10.0.1.7").unwrap()];
        let params = route_batch_params("vpc-1", "rtb-1", &routes);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("vpcId"), Some("vpc-1"));
        assert_eq!(get("routeTableId"), Some("rtb-1"));
        assert_eq!(get("routeSet.0.destinationCidrBlock"), Some("192.168.1.0/24"));
        assert_eq!(get("routeSet.0.nextType"), Some("1"));
        assert_eq!(get("routeSet.1.nextType"), Some("9"));
        assert_eq!(get("routeSet.1.nextHub"), Some("10.0.1.7"));
        assert_eq!(params.len(), 2 + 3 * 2);
    }

    #[test]
    fn eleven_routes_sign_in_bytewise_order_with_entry_10_before_entry_2() {
        let routes: Vec<Route> = (0..11).map(|i| route(&format!("192.168.{i}.0/24"), &format!("vpngw-{i}"))).collect();
        let params = route_batch_params("vpc-1", "rtb-1", &routes);
        let canonical = canonical_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let pos = |k: &str| canonical.find(k).unwrap();
        assert!(pos("routeSet.10.destinationCidrBlock=") < pos("routeSet.2.destinationCidrBlock="));
        assert!(pos("routeSet.1.nextHub=") < pos("routeSet.10.destinationCidrBlock="));
        assert!(pos("routeSet.9.nextType=") < pos("routeTableId="));
        assert!(canonical.contains("routeSet.10.nextHub=vpngw-10"));
    }

    #[test]
    fn describe_params_carry_filters_and_the_page_window() {
        let p = route_table_params(Some("vpc-1"), None, 100);
        assert_eq!(
            p,
            vec![
                ("vpcId".to_owned(), "vpc-1".to_owned()),
                ("offset".to_owned(), "100".to_owned()),
                ("limit".to_owned(), "50".to_owned())
            ]
        );
        assert_eq!(vpc_params("vpc-2", 0)[0], ("vpcId".to_owned(), "vpc-2".to_owned()));
    }

    #[test]
    fn paging_stops_at_total_count_or_on_an_empty_page() {
        assert!(wants_next_page(50, 50, 120));
        assert!(!wants_next_page(120, 20, 120));
        assert!(!wants_next_page(50, 0, 120));
        assert!(!wants_next_page(3, 3, 3));
    }

    #[test]
    fn local_is_dropped_destinations_normalised_and_unknown_types_kept_aside() {
        let table = route_table_from_item(RouteTableItem {
            vpc_id: "vpc-1".into(),
            route_table_id: "rtb-1".into(),
            name: "main".into(),
            table_type: Some(1),
            vpc_cidr: "10.0.0.0/16".into(),
            vpc_name: String::new(),
            route_num: None,
            routes: vec![
                item("Local", 2, "Local"),
                item("121.0.23.51/16", 1, "vpngw-a"),
                item("172.16.0.0/12", 5, "ccn-x"),
                item("not-a-cidr", 1, "vpngw-b"),
            ],
        });
        assert_eq!(table.routes, vec![route("121.0.0.0/16", "vpngw-a")]);
        assert_eq!(table.other_routes.len(), 2);
        assert_eq!(
            table.other_routes[0],
            RawRoute { destination: "172.16.0.0/12".into(), next_type: 5, next_hub: "ccn-x".into() }
        );
        assert_eq!(table.vpc_cidr, "10.0.0.0/16");
    }
}
