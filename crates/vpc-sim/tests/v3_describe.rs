//! API 3.0 reads: DescribeRouteTables filters (ANDed, values ORed) and string paging, the system
//! route first with every official table field, DescribeVpcs and DescribeVpcLimits. Runs the
//! emulator in process; network I/O on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEMO, TEST_TABLE, TEST_VPC, code, response};
use serde_json::{Value, json};
use vpc_wire::v3::codes;

fn table_ids(answer: &Value) -> Vec<&str> {
    response(answer)["RouteTableSet"].as_array().unwrap().iter().map(|t| t["RouteTableId"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_table_lists_the_system_route_first_and_has_every_official_field() {
    let sim = common::start();
    let answer = sim.tc3(DEMO, "DescribeRouteTables", json!({"RouteTableIds": [TEST_TABLE]})).await;
    let table = &response(&answer)["RouteTableSet"][0];
    for field in [
        "VpcId",
        "RouteTableId",
        "RouteTableName",
        "AssociationSet",
        "RouteSet",
        "Main",
        "CreatedTime",
        "TagSet",
        "LocalCidrForCcn",
    ] {
        assert!(table.get(field).is_some(), "{field} missing: {table}");
    }
    assert_eq!((&table["VpcId"], &table["Main"]), (&json!(TEST_VPC), &json!(true)));
    let system = &table["RouteSet"][0];
    assert_eq!(
        (&system["DestinationCidrBlock"], &system["GatewayType"], &system["GatewayId"], &system["RouteType"]),
        (&json!("10.0.0.0/16"), &json!("LOCAL"), &json!("Local"), &json!("NETD"))
    );
    let user = &table["RouteSet"][1];
    assert_eq!(
        (&user["DestinationCidrBlock"], &user["GatewayType"], &user["RouteType"]),
        (&json!("192.168.0.0/16"), &json!("NAT"), &json!("USER"))
    );
}

#[tokio::test]
async fn filters_are_anded_across_names_and_ored_across_values() {
    let sim = common::start();
    let filters = |f: Value| json!({"Filters": f, "Offset": "0", "Limit": "100"});
    let by_vpc = sim.tc3(DEMO, "DescribeRouteTables", filters(json!([{"Name": "vpc-id", "Values": [TEST_VPC]}]))).await;
    assert_eq!(table_ids(&by_vpc), vec![TEST_TABLE, "rtb-9cmf3w7s"]);
    let both = json!([{"Name": "route-table-id", "Values": [TEST_TABLE]}, {"Name": "vpc-id", "Values": [TEST_VPC]}]);
    assert_eq!(table_ids(&sim.tc3(DEMO, "DescribeRouteTables", filters(both)).await), vec![TEST_TABLE]);
    let clash =
        json!([{"Name": "route-table-id", "Values": [TEST_TABLE]}, {"Name": "vpc-id", "Values": ["vpc-6xh2kq0r"]}]);
    assert_eq!(response(&sim.tc3(DEMO, "DescribeRouteTables", filters(clash)).await)["TotalCount"], 0);
    let either = json!([{"Name": "route-table-id", "Values": [TEST_TABLE, "rtb-6xh2kq0r"]}]);
    assert_eq!(
        table_ids(&sim.tc3(DEMO, "DescribeRouteTables", filters(either)).await),
        vec![TEST_TABLE, "rtb-6xh2kq0r"]
    );
    let named = json!([{"Name": "route-table-name", "Values": ["secondary"]}]);
    assert_eq!(table_ids(&sim.tc3(DEMO, "DescribeRouteTables", filters(named)).await), vec!["rtb-9cmf3w7s"]);
    let not_main = json!([{"Name": "association.main", "Values": ["false"]}]);
    assert_eq!(table_ids(&sim.tc3(DEMO, "DescribeRouteTables", filters(not_main)).await), vec!["rtb-9cmf3w7s"]);
    let unknown = json!([{"Name": "colour", "Values": ["blue"]}]);
    assert_eq!(code(&sim.tc3(DEMO, "DescribeRouteTables", filters(unknown)).await), codes::INVALID_PARAMETER_VALUE);
}

#[tokio::test]
async fn string_offset_and_limit_page_the_tables_and_limit_is_at_most_100() {
    let sim = common::start();
    let page = sim.tc3(DEMO, "DescribeRouteTables", json!({"Offset": "1", "Limit": "1"})).await;
    assert_eq!((response(&page)["TotalCount"].as_u64(), table_ids(&page)), (Some(3), vec!["rtb-9cmf3w7s"]));
    let numbers = sim.tc3(DEMO, "DescribeRouteTables", json!({"Offset": 2, "Limit": 5})).await;
    assert_eq!(table_ids(&numbers), vec!["rtb-6xh2kq0r"]);
    let too_many = sim.tc3(DEMO, "DescribeRouteTables", json!({"Limit": "101"})).await;
    assert_eq!(code(&too_many), codes::INVALID_PARAMETER_VALUE);
    let get = sim
        .tc3_get(
            DEMO,
            "DescribeRouteTables",
            "Filters.0.Name=vpc-id&Filters.0.Values.0=vpc-6xh2kq0r&Offset=0&Limit=100",
        )
        .await;
    assert_eq!(table_ids(&get), vec!["rtb-6xh2kq0r"]);
}

#[tokio::test]
async fn describe_vpcs_filters_by_id_or_name_and_pages() {
    let sim = common::start();
    let all = sim.tc3(DEMO, "DescribeVpcs", json!({})).await;
    assert_eq!(response(&all)["TotalCount"], 2);
    let first = &response(&all)["VpcSet"][0];
    assert_eq!(
        (&first["VpcId"], &first["CidrBlock"], &first["IsDefault"]),
        (&json!(TEST_VPC), &json!("10.0.0.0/16"), &json!(true))
    );
    let named =
        sim.tc3(DEMO, "DescribeVpcs", json!({"Filters": [{"Name": "vpc-name", "Values": ["demo-vpc-b"]}]})).await;
    assert_eq!(response(&named)["VpcSet"][0]["VpcId"], "vpc-6xh2kq0r");
    let by_id = sim.tc3(DEMO, "DescribeVpcs", json!({"VpcIds": ["vpc-6xh2kq0r"]})).await;
    assert_eq!(response(&by_id)["TotalCount"], 1);
    let paged = sim.tc3(DEMO, "DescribeVpcs", json!({"Offset": "1", "Limit": "1"})).await;
    assert_eq!(
        (response(&paged)["TotalCount"].as_u64(), response(&paged)["VpcSet"].as_array().map(Vec::len)),
        (Some(2), Some(1))
    );
}

#[tokio::test]
async fn describe_vpc_limits_reports_the_worlds_route_quota() {
    let world = common::WORLD.replace("routeQuota: 50", "routeQuota: 7");
    let sim = common::start_with(&world);
    let answer = sim.tc3(DEMO, "DescribeVpcLimits", json!({"LimitTypes": ["route-table-max-policies"]})).await;
    assert_eq!(response(&answer)["VpcLimitSet"], json!([{"LimitType": "route-table-max-policies", "LimitValue": 7}]));
}
