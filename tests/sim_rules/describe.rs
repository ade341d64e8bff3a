//! DescribeRouteTable and DescribeVpcEx: the Local route, paging, filters, and isolation between
//! accounts and regions.

use serde_json::Value;

use super::signer::{Api, Call, described_routes};
use crate::sim::{self, Sim};

fn table_ids(answer: &Value) -> Vec<String> {
    answer["data"].as_array().unwrap().iter().map(|t| t["unRouteTableId"].as_str().unwrap().to_string()).collect()
}

/// A world whose one VPC has `n` route tables `rtb-p000`, `rtb-p001`, …
fn world_with_tables(n: usize) -> String {
    let tables: Vec<String> = (0..n).map(|i| format!("rtb-p{i:03}")).collect();
    format!(
        "accounts:\n- secretId: {}\n  secretKey: {}\n  regions:\n    ap-guangzhou:\n      vpcs:\n      \
         - {{vpcId: {}, cidrBlock: 10.0.0.0/16, routeTables: [{}]}}\n",
        sim::TEST_SECRET_ID,
        sim::TEST_SECRET_KEY,
        sim::TEST_VPC,
        tables.join(", ")
    )
}

#[tokio::test]
async fn every_table_shows_the_local_system_route_and_its_vpc() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let answer = api.ok(&Call::new("DescribeRouteTable").param("routeTableId", sim::TEST_TABLE_2)).await;
    let table = &answer["data"][0];
    assert_eq!((table["unVpcId"].as_str(), table["vpcCidrBlock"].as_str()), (Some(sim::TEST_VPC), Some("10.0.0.0/16")));
    assert_eq!(table["routeTableType"], 0);
    assert_eq!(described_routes(&api, sim::TEST_TABLE_2).await, vec![("Local".into(), 2, "Local".into())]);
    let default_table = api.ok(&Call::new("DescribeRouteTable").param("routeTableId", sim::TEST_TABLE)).await;
    assert_eq!(default_table["data"][0]["routeTableType"], 1);
}

#[tokio::test]
async fn route_tables_come_in_pages_of_20_by_default_and_at_most_50() {
    let sim = Sim::start(&world_with_tables(55));
    let api = Api::new(&sim);
    let first = api.ok(&Call::new("DescribeRouteTable")).await;
    assert_eq!((first["totalCount"].as_u64(), table_ids(&first).len()), (Some(55), 20));
    assert_eq!(table_ids(&first)[0], "rtb-p000");
    let last = api.ok(&Call::new("DescribeRouteTable").param("offset", "50").param("limit", "50")).await;
    assert_eq!(table_ids(&last), vec!["rtb-p050", "rtb-p051", "rtb-p052", "rtb-p053", "rtb-p054"]);
    let most = api.ok(&Call::new("DescribeRouteTable").param("limit", "50")).await;
    assert_eq!(table_ids(&most).len(), 50);
    for limit in ["51", "0"] {
        api.refused(&Call::new("DescribeRouteTable").param("limit", limit), 4000, "InvalidParameter").await;
    }
    let past_the_end = api.ok(&Call::new("DescribeRouteTable").param("offset", "60")).await;
    assert_eq!((past_the_end["totalCount"].as_u64(), table_ids(&past_the_end).len()), (Some(55), 0));
}

#[tokio::test]
async fn filters_narrow_the_tables_and_a_filter_matching_nothing_gives_an_empty_page() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let all = api.ok(&Call::new("DescribeRouteTable")).await;
    assert_eq!(table_ids(&all), vec![sim::TEST_TABLE, sim::TEST_TABLE_2, "rtb-6xh2kq0r"]);
    let by_vpc = api.ok(&Call::new("DescribeRouteTable").param("vpcId", "vpc-6xh2kq0r")).await;
    assert_eq!(table_ids(&by_vpc), vec!["rtb-6xh2kq0r"]);
    let by_name = api.ok(&Call::new("DescribeRouteTable").param("routeTableName", "secondary")).await;
    assert_eq!(table_ids(&by_name), vec![sim::TEST_TABLE_2]);
    let mismatch =
        Call::new("DescribeRouteTable").param("vpcId", "vpc-6xh2kq0r").param("routeTableId", sim::TEST_TABLE);
    assert_eq!(api.ok(&mismatch).await["totalCount"], 0);
}

#[tokio::test]
async fn accounts_see_only_their_own_vpcs_and_tables() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let other = Call::new("DescribeRouteTable").creds(sim::OTHER_SECRET_ID, sim::OTHER_SECRET_KEY);
    assert_eq!(table_ids(&api.ok(&other).await), vec!["rtb-2ndacct1"]);
    let peek = Call::new("DescribeRouteTable")
        .creds(sim::OTHER_SECRET_ID, sim::OTHER_SECRET_KEY)
        .param("routeTableId", sim::TEST_TABLE);
    assert_eq!(api.ok(&peek).await["totalCount"], 0);
    let create_there = Call::new("CreateRoute")
        .creds(sim::OTHER_SECRET_ID, sim::OTHER_SECRET_KEY)
        .target(sim::TEST_VPC, sim::TEST_TABLE)
        .route(0, "1.0.0.0/8", "1", sim::TEST_VPN);
    api.refused(&create_there, 4000, "InvalidVpc.NotFound").await;
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
}

#[tokio::test]
async fn regions_are_separate_and_the_short_name_gz_means_ap_guangzhou() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let shanghai = api.ok(&Call::new("DescribeRouteTable").region("ap-shanghai")).await;
    assert_eq!(table_ids(&shanghai), vec!["rtb-sh3pq8da"]);
    api.ok(&Call::create().region("gz").route(0, "1.0.0.0/8", "1", sim::TEST_VPN)).await;
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 2);
    assert_eq!(sim.routes("rtb-sh3pq8da").await, vec![]);
    let nowhere = api.ok(&Call::new("DescribeRouteTable").region("ap-mars")).await;
    assert_eq!(nowhere["totalCount"], 0);
}

#[tokio::test]
async fn describe_vpc_ex_lists_the_region_s_vpcs_with_filters_and_paging() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let all = api.ok(&Call::new("DescribeVpcEx")).await;
    assert_eq!(all["totalCount"], 2);
    let first = &all["data"][0];
    assert_eq!(first["unVpcId"], sim::TEST_VPC);
    assert_eq!((first["cidrBlock"].as_str(), first["vpcName"].as_str()), (Some("10.0.0.0/16"), Some("demo-vpc")));
    assert_eq!((first["isDefault"].as_bool(), first["createTime"].as_str()), (Some(true), Some("2018-03-01 10:00:00")));
    let one = api.ok(&Call::new("DescribeVpcEx").param("vpcId", "vpc-6xh2kq0r")).await;
    assert_eq!((one["totalCount"].as_u64(), one["data"][0]["vpcName"].as_str()), (Some(1), Some("demo-vpc-b")));
    let paged = api.ok(&Call::new("DescribeVpcEx").param("offset", "1").param("limit", "1")).await;
    assert_eq!(paged["data"][0]["unVpcId"], "vpc-6xh2kq0r");
}
