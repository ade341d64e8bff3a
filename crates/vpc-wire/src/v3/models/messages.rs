//! The request and response bodies of every API 3.0 action of the contract (§2.5), each the
//! inside of `Response` minus `RequestId`. Pure data.

use serde::{Deserialize, Serialize};

use super::lenient::{nullable, opt_string_lenient, opt_u64_lenient, opt_u64_vec_lenient, u64_lenient};
use super::{Route, RouteTable, Vpc};

/// `CreateRoutes` request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRoutesRequest {
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
    /// The routes to add (destination, gateway type and id, description, enabled).
    #[serde(default, deserialize_with = "nullable")]
    pub routes: Vec<Route>,
}

/// A route named by id, in `DeleteRoutes`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RouteRef {
    /// The numeric id.
    #[serde(default, deserialize_with = "opt_u64_lenient", skip_serializing_if = "Option::is_none")]
    pub route_id: Option<u64>,
    /// The `rti-…` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_item_id: Option<String>,
}

/// `DeleteRoutes` request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRoutesRequest {
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
    /// The routes to delete.
    #[serde(default, deserialize_with = "nullable")]
    pub routes: Vec<RouteRef>,
}

/// `ReplaceRoutes` request: each route names its `RouteId` or `RouteItemId` and the new hop.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ReplaceRoutesRequest {
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
    /// The routes, as they should become.
    #[serde(default, deserialize_with = "nullable")]
    pub routes: Vec<Route>,
}

/// `EnableRoutes` request (and, with the same shape, `DisableRoutes`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EnableRoutesRequest {
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
    /// Numeric route ids.
    #[serde(default, deserialize_with = "opt_u64_vec_lenient", skip_serializing_if = "Option::is_none")]
    pub route_ids: Option<Vec<u64>>,
    /// `rti-…` ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_item_ids: Option<Vec<String>>,
}

/// `DisableRoutes` request: the same fields as [`EnableRoutesRequest`].
pub type DisableRoutesRequest = EnableRoutesRequest;

/// A `Filters` entry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// `route-table-id`, `vpc-id`, `route-table-name`, `association.main`, `vpc-name`, …
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The accepted values (any of them matches).
    #[serde(default, deserialize_with = "nullable")]
    pub values: Vec<String>,
}

impl Filter {
    /// A filter on `name` with the given values.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(name: &str, values: I) -> Filter {
        Filter { name: name.to_owned(), values: values.into_iter().map(Into::into).collect() }
    }
}

/// `DescribeRouteTables` request. `Offset`/`Limit` are strings on the wire (numbers are accepted).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRouteTablesRequest {
    /// Tables by id (not together with `Filters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table_ids: Option<Vec<String>>,
    /// Filters (not together with `RouteTableIds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// Page offset.
    #[serde(default, deserialize_with = "opt_string_lenient", skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// Page size (default 20, max 100).
    #[serde(default, deserialize_with = "opt_string_lenient", skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// `DescribeVpcs` request. `Offset`/`Limit` are strings on the wire (numbers are accepted).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVpcsRequest {
    /// VPCs by id (not together with `Filters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_ids: Option<Vec<String>>,
    /// Filters (`vpc-id`, `vpc-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
    /// Page offset.
    #[serde(default, deserialize_with = "opt_string_lenient", skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// Page size.
    #[serde(default, deserialize_with = "opt_string_lenient", skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// `DescribeVpcLimits` request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVpcLimitsRequest {
    /// Quota names, e.g. `route-table-max-policies`.
    #[serde(default, deserialize_with = "nullable")]
    pub limit_types: Vec<String>,
}

/// `CreateRoutes` response: the tables holding the new routes, with their ids.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct CreateRoutesResponse {
    /// How many tables follow.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub total_count: u64,
    /// The tables.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_set: Vec<RouteTable>,
}

/// `DeleteRoutes` response: the deleted routes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRoutesResponse {
    /// The deleted routes.
    #[serde(default, deserialize_with = "nullable")]
    pub route_set: Vec<Route>,
}

/// `ReplaceRoutes` response.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ReplaceRoutesResponse {
    /// The routes before.
    #[serde(default, deserialize_with = "nullable")]
    pub old_route_set: Vec<Route>,
    /// The routes after (same ids).
    #[serde(default, deserialize_with = "nullable")]
    pub new_route_set: Vec<Route>,
}

/// The response of actions that return nothing but `RequestId` (`EnableRoutes`, `DisableRoutes`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmptyResponse {}

/// `DescribeRouteTables` response: one page of tables.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRouteTablesResponse {
    /// How many tables match, over all pages (required).
    #[serde(deserialize_with = "u64_lenient")]
    pub total_count: u64,
    /// This page.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_set: Vec<RouteTable>,
}

/// `DescribeVpcs` response: one page of VPCs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVpcsResponse {
    /// How many VPCs match, over all pages (required).
    #[serde(deserialize_with = "u64_lenient")]
    pub total_count: u64,
    /// This page.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_set: Vec<Vpc>,
}

/// One quota.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct VpcLimit {
    /// The quota name.
    #[serde(default, deserialize_with = "nullable")]
    pub limit_type: String,
    /// Its value.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub limit_value: u64,
}

/// `DescribeVpcLimits` response.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeVpcLimitsResponse {
    /// The quotas asked for.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_limit_set: Vec<VpcLimit>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fmt::Debug;

    use serde::de::DeserializeOwned;

    use super::*;
    use crate::v3::models::{ROUTE_TYPE_NETD, ROUTE_TYPE_USER, parse_response, success_body};

    fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T) {
        let json = serde_json::to_vec(&value).unwrap();
        assert_eq!(serde_json::from_slice::<T>(&json).unwrap(), value, "{}", String::from_utf8_lossy(&json));
        let body = success_body("r", &value);
        assert_eq!(parse_response::<T>(&body), Ok(Ok((value, "r".to_owned()))));
    }

    fn route(cidr: &str, id: u64) -> Route {
        Route {
            destination_cidr_block: cidr.into(),
            gateway_type: "NAT".into(),
            gateway_id: "nat-1".into(),
            route_id: id,
            route_item_id: format!("rti-{id}"),
            route_type: ROUTE_TYPE_USER.into(),
            route_table_id: "rtb-1".into(),
            created_time: "2024-05-01 10:00:00".into(),
            ..Route::default()
        }
    }

    #[test]
    fn every_request_serialises_and_parses_back_equal() {
        let new =
            Route { destination_cidr_block: "10.9.0.0/16".into(), gateway_type: "VPN".into(), ..Route::default() };
        round_trips(CreateRoutesRequest { route_table_id: "rtb-1".into(), routes: vec![new.clone()] });
        let refs = vec![
            RouteRef { route_id: Some(3), route_item_id: None },
            RouteRef { route_id: None, route_item_id: Some("rti-2".into()) },
        ];
        round_trips(DeleteRoutesRequest { route_table_id: "rtb-1".into(), routes: refs });
        round_trips(ReplaceRoutesRequest {
            route_table_id: "rtb-1".into(),
            routes: vec![Route { route_id: 3, ..new }],
        });
        round_trips(EnableRoutesRequest {
            route_table_id: "rtb-1".into(),
            route_ids: Some(vec![1, 2]),
            route_item_ids: None,
        });
        round_trips(DisableRoutesRequest {
            route_item_ids: Some(vec!["rti-1".into()]),
            ..DisableRoutesRequest::default()
        });
        round_trips(DescribeRouteTablesRequest {
            route_table_ids: None,
            filters: Some(vec![Filter::new("route-table-id", ["rtb-1"]), Filter::new("vpc-id", ["vpc-1"])]),
            offset: Some("0".into()),
            limit: Some("100".into()),
        });
        round_trips(DescribeVpcsRequest { vpc_ids: Some(vec!["vpc-1".into()]), ..DescribeVpcsRequest::default() });
        round_trips(DescribeVpcLimitsRequest { limit_types: vec!["route-table-max-policies".into()] });
    }

    #[test]
    fn every_response_serialises_and_parses_back_equal() {
        let table = RouteTable {
            vpc_id: "vpc-1".into(),
            route_table_id: "rtb-1".into(),
            route_set: vec![route("10.2.0.0/16", 9)],
            ..RouteTable::default()
        };
        round_trips(CreateRoutesResponse { total_count: 1, route_table_set: vec![table.clone()] });
        round_trips(DeleteRoutesResponse { route_set: vec![route("10.2.0.0/16", 9)] });
        round_trips(ReplaceRoutesResponse {
            old_route_set: vec![route("10.2.0.0/16", 9)],
            new_route_set: vec![route("10.2.0.0/16", 9)],
        });
        round_trips(EmptyResponse {});
        round_trips(DescribeRouteTablesResponse { total_count: 7, route_table_set: vec![table] });
        let vpc = Vpc { vpc_id: "vpc-1".into(), cidr_block: "10.0.0.0/16".into(), ..Vpc::default() };
        round_trips(DescribeVpcsResponse { total_count: 1, vpc_set: vec![vpc] });
        round_trips(DescribeVpcLimitsResponse {
            vpc_limit_set: vec![VpcLimit { limit_type: "x".into(), limit_value: 50 }],
        });
    }

    #[test]
    fn a_realistic_describe_route_tables_answer_parses() {
        let body = br#"{"Response": {"TotalCount": 1, "RouteTableSet": [{
            "VpcId": "vpc-2at5y1pn", "RouteTableId": "rtb-l2h8d7c2", "RouteTableName": "default",
            "AssociationSet": [{"SubnetId": "subnet-4d79p3e4", "RouteTableId": "rtb-l2h8d7c2"}],
            "RouteSet": [
              {"RouteId": 10001, "RouteItemId": "rti-0aab1ccd", "DestinationCidrBlock": "10.0.0.0/16",
               "GatewayType": "LOCAL", "GatewayId": "Local", "RouteDescription": "", "Enabled": true,
               "RouteType": "NETD", "RouteTableId": "rtb-l2h8d7c2", "DestinationIpv6CidrBlock": null,
               "PublishedToVbc": false, "CreatedTime": "2020-09-22 00:00:00"},
              {"RouteId": 10002, "RouteItemId": "rti-1ddf2eef", "DestinationCidrBlock": "192.168.0.0/24",
               "GatewayType": "VPN", "GatewayId": "vpngw-dystbrkv", "RouteDescription": "vpcroute:ns/name",
               "Enabled": true, "RouteType": "USER", "RouteTableId": "rtb-l2h8d7c2",
               "DestinationIpv6CidrBlock": "", "PublishedToVbc": false, "CreatedTime": "2024-03-01 12:34:56",
               "HelpRouteDescription": "ignored"}
            ],
            "Main": true, "CreatedTime": "2020-09-22 00:00:00", "TagSet": [], "LocalCidrForCcn": null,
            "RouteTableType": "default"}],
          "RequestId": "6a4a4b42-bf66-4c27-a7b5-0e2ae1b40e3b"}}"#;
        let (page, request_id) = parse_response::<DescribeRouteTablesResponse>(body).unwrap().unwrap();
        assert_eq!(request_id, "6a4a4b42-bf66-4c27-a7b5-0e2ae1b40e3b");
        assert_eq!(page.total_count, 1);
        let table = &page.route_table_set[0];
        assert!(table.main && table.local_cidr_for_ccn.is_empty());
        assert_eq!(table.association_set[0].subnet_id, "subnet-4d79p3e4");
        assert_eq!(table.route_set[0].route_type, ROUTE_TYPE_NETD);
        let user: Vec<_> = table.route_set.iter().filter(|r| r.is_user()).collect();
        assert_eq!(user.len(), 1);
        assert_eq!((user[0].route_id, user[0].route_item_id.as_str()), (10002, "rti-1ddf2eef"));
        assert_eq!(
            user[0].to_domain().map(|d| d.to_string()),
            Some("192.168.0.0/24 -> VpnGateway(1) vpngw-dystbrkv".into())
        );
    }

    #[test]
    fn offset_and_limit_are_accepted_as_strings_or_integers() {
        let a: DescribeRouteTablesRequest = serde_json::from_str(r#"{"Offset":"0","Limit":"100"}"#).unwrap();
        let b: DescribeRouteTablesRequest = serde_json::from_str(r#"{"Offset":0,"Limit":100,"Unknown":1}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.limit.as_deref(), Some("100"));
        let v: DescribeVpcsRequest = serde_json::from_str(r#"{"Offset":20,"Limit":null}"#).unwrap();
        assert_eq!((v.offset.as_deref(), v.limit), (Some("20"), None));
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json, serde_json::json!({"Offset": "0", "Limit": "100"}));
    }

    #[test]
    fn total_count_may_be_a_numeric_string_but_not_absent_on_a_describe() {
        let p: DescribeVpcsResponse = serde_json::from_str(r#"{"TotalCount":"3","VpcSet":null}"#).unwrap();
        assert_eq!((p.total_count, p.vpc_set.len()), (3, 0));
        assert!(serde_json::from_str::<DescribeRouteTablesResponse>(r#"{"RouteTableSet":[]}"#).is_err());
        assert!(serde_json::from_str::<DescribeVpcsResponse>(r#"{"TotalCount":"three"}"#).is_err());
        let c: CreateRoutesResponse = serde_json::from_str(r#"{"RouteTableSet":[]}"#).unwrap();
        assert_eq!(c.total_count, 0);
    }

    #[test]
    fn route_ids_from_a_flattened_query_may_be_numeric_strings() {
        let e: EnableRoutesRequest =
            serde_json::from_str(r#"{"RouteTableId":"rtb-1","RouteIds":["5",6],"RouteItemIds":null}"#).unwrap();
        assert_eq!((e.route_ids, e.route_item_ids), (Some(vec![5, 6]), None));
        let d: DeleteRoutesRequest =
            serde_json::from_str(r#"{"RouteTableId":"rtb-1","Routes":[{"RouteId":"8"},{"RouteItemId":"rti-9"}]}"#)
                .unwrap();
        assert_eq!(d.routes[0].route_id, Some(8));
        assert_eq!(d.routes[1].route_item_id.as_deref(), Some("rti-9"));
        assert!(serde_json::from_str::<EnableRoutesRequest>(r#"{"RouteIds":["x"]}"#).is_err());
    }
}
