//! The API 2.0 client against the real vpc-sim emulator over loopback HTTPS: every action, both
//! signature methods, GET and POST, temporary credentials. Errors, faults and the `check` command
//! are in the modules below. Spawns vpc-sim; network I/O on loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "wire_client/check.rs"]
mod check;
#[path = "wire_client/errors.rs"]
mod errors;
#[path = "wire_client/faults.rs"]
mod faults;

use std::time::Duration;

use support::sim::{self, Sim};
use vpc_wire::domain::{Credentials, NextType, Route, Secret};
use vpcroute_operator::client::{ClientConfig, ErrorClass, HttpMethod, SignatureMethod, VpcClient};

/// A client for `sim`, trusting its CA, with `change` applied to the configuration.
pub fn client_with(sim: &Sim, change: impl FnOnce(&mut ClientConfig)) -> VpcClient {
    let mut cfg = ClientConfig {
        endpoint: sim.endpoint.clone(),
        ca_file: Some(sim.ca_file.clone()),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    change(&mut cfg);
    VpcClient::new(cfg).unwrap()
}

/// A client for `sim` with the default configuration (POST, HmacSHA256).
pub fn client(sim: &Sim) -> VpcClient {
    client_with(sim, |_| {})
}

/// A route, panicking on a bad CIDR.
pub fn route(destination: &str, next_type: NextType, hub: &str) -> Route {
    Route::new(destination, next_type, hub).unwrap()
}

/// A route to the demo VPN gateway.
pub fn vpn_route(destination: &str) -> Route {
    route(destination, NextType::VpnGateway, sim::TEST_VPN)
}

/// The demo table's routes in the sim, as (destination, nextType, hub).
pub async fn sim_routes(sim: &Sim) -> Vec<(String, u32, String)> {
    sim.routes(sim::TEST_TABLE).await
}

fn sts_credentials(token: Option<&str>) -> Credentials {
    Credentials {
        secret_id: sim::STS_SECRET_ID.into(),
        secret_key: Secret::new(sim::STS_SECRET_KEY),
        token: token.map(Secret::new),
    }
}

#[tokio::test]
async fn describe_vpc_returns_the_vpcs_name_and_cidr() {
    let sim = Sim::start(sim::WORLD);
    let vpc = client(&sim).describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap();
    assert_eq!(vpc.vpc_id, sim::TEST_VPC);
    assert_eq!(vpc.name, "demo-vpc");
    assert_eq!(vpc.cidr_block, "10.0.0.0/16");
    assert!(vpc.is_default);
}

#[tokio::test]
async fn describe_route_table_drops_local_and_returns_the_existing_route_normalised() {
    let sim = Sim::start(sim::WORLD);
    let creds = sim::credentials();
    let table = client(&sim)
        .describe_route_table(&creds, sim::TEST_REGION, Some(sim::TEST_VPC), sim::TEST_TABLE)
        .await
        .unwrap();
    assert_eq!(table.route_table_id, sim::TEST_TABLE);
    assert_eq!(table.vpc_id, sim::TEST_VPC);
    assert_eq!(table.vpc_cidr, "10.0.0.0/16");
    assert_eq!(table.routes, vec![route("192.168.0.0/16", NextType::NatGateway, sim::TEST_NAT)]);
    assert!(table.other_routes.is_empty(), "{:?}", table.other_routes);
}

#[tokio::test]
async fn describe_route_tables_lists_every_table_of_the_vpc() {
    let sim = Sim::start(sim::WORLD);
    let tables = client(&sim)
        .describe_route_tables(&sim::credentials(), sim::TEST_REGION, Some(sim::TEST_VPC), None)
        .await
        .unwrap();
    let mut ids: Vec<&str> = tables.iter().map(|t| t.route_table_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec![sim::TEST_TABLE, sim::TEST_TABLE_2]);
}

#[tokio::test]
async fn describe_route_tables_reads_every_page_of_a_vpc_with_more_than_fifty_tables() {
    let ids: Vec<String> = (0..120).map(|i| format!("rtb-page{i:04}")).collect();
    let world = format!(
        "accounts:\n  - secretId: {}\n    secretKey: {}\n    regions:\n      ap-guangzhou:\n        vpcs:\n          \
         - vpcId: vpc-paged001\n            cidrBlock: 10.1.0.0/16\n            routeTables: [{}]\n",
        sim::TEST_SECRET_ID,
        sim::TEST_SECRET_KEY,
        ids.join(", ")
    );
    let sim = Sim::start(&world);
    let tables = client(&sim)
        .describe_route_tables(&sim::credentials(), sim::TEST_REGION, Some("vpc-paged001"), None)
        .await
        .unwrap();
    let mut got: Vec<String> = tables.into_iter().map(|t| t.route_table_id).collect();
    got.sort();
    assert_eq!(got, ids);
    assert_eq!(sim.calls().await.get("DescribeRouteTable"), Some(&3));
}

#[tokio::test]
async fn created_routes_are_stored_normalised_and_delete_removes_them() {
    let sim = Sim::start(sim::WORLD);
    let (c, creds) = (client(&sim), sim::credentials());
    let seed = route("121.0.23.51/16", NextType::VpnGateway, sim::TEST_VPN);
    assert_eq!(seed.destination.to_string(), "121.0.0.0/16");
    c.create_routes(&creds, sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, std::slice::from_ref(&seed))
        .await
        .unwrap();
    assert!(sim_routes(&sim).await.contains(&("121.0.0.0/16".into(), 1, sim::TEST_VPN.into())));
    let table = c.describe_route_table(&creds, sim::TEST_REGION, Some(sim::TEST_VPC), sim::TEST_TABLE).await.unwrap();
    assert!(table.routes.contains(&seed), "{:?}", table.routes);
    c.delete_routes(&creds, sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, std::slice::from_ref(&seed))
        .await
        .unwrap();
    assert!(!sim_routes(&sim).await.iter().any(|r| r.0 == "121.0.0.0/16"));
}

#[tokio::test]
async fn a_batch_of_twelve_routes_is_signed_in_bytewise_order_and_created_at_once() {
    let sim = Sim::start(sim::WORLD);
    let routes: Vec<Route> = (0..12).map(|i| vpn_route(&format!("172.20.{i}.0/24"))).collect();
    client(&sim)
        .create_routes(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, &routes)
        .await
        .unwrap();
    let stored = sim_routes(&sim).await;
    assert_eq!(stored.len(), 13, "{stored:?}");
    assert!(stored.contains(&("172.20.11.0/24".into(), 1, sim::TEST_VPN.into())));
    assert_eq!(sim.calls().await.get("CreateRoute"), Some(&1));
}

#[tokio::test]
async fn every_next_type_round_trips_through_create_and_describe() {
    let sim = Sim::start(sim::WORLD);
    let (c, creds) = (client(&sim), sim::credentials());
    let routes = vec![
        route("100.64.0.0/24", NextType::PublicGateway, "ins-pubgw7k1"),
        route("100.64.1.0/24", NextType::VpnGateway, sim::TEST_VPN),
        route("100.64.3.0/24", NextType::DirectConnectGateway, "dcg-4yq0ja6e"),
        route("100.64.4.0/24", NextType::PeeringConnection, "pcx-8ug2nq1z"),
        route("100.64.7.0/24", NextType::SslVpnGateway, "vpngw-s5lvn0b2"),
        route("100.64.8.0/24", NextType::NatGateway, sim::TEST_NAT),
        route("100.64.9.0/24", NextType::NormalCvm, "10.0.3.4"),
    ];
    c.create_routes(&creds, sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE_2, &routes).await.unwrap();
    let table = c.describe_route_table(&creds, sim::TEST_REGION, None, sim::TEST_TABLE_2).await.unwrap();
    let mut got = table.routes.clone();
    got.sort_by_key(|r| r.destination);
    assert_eq!(got, routes);
}

#[tokio::test]
async fn deleting_a_route_that_is_already_gone_is_not_found() {
    let sim = Sim::start(sim::WORLD);
    let gone = [vpn_route("121.0.0.0/16")];
    let err = client(&sim)
        .delete_routes(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, &gone)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    assert_eq!((err.code(), err.code_desc()), (Some(5000), Some("InvalidRoute.NotFound")));
    assert!(err.is_not_found() && !err.is_retryable());
}

#[tokio::test]
async fn a_table_or_vpc_missing_from_the_answer_is_not_found() {
    let sim = Sim::start(sim::WORLD);
    let (c, creds) = (client(&sim), sim::credentials());
    let err = c.describe_route_table(&creds, sim::TEST_REGION, None, "rtb-nosuch01").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    assert!(err.to_string().contains("route table rtb-nosuch01"), "{err}");
    let err = c.describe_vpc(&creds, sim::TEST_REGION, "vpc-nosuch01").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
}

#[tokio::test]
async fn hmac_sha1_signatures_are_accepted() {
    let sim = Sim::start(sim::WORLD);
    let c = client_with(&sim, |cfg| cfg.signature_method = SignatureMethod::HmacSha1);
    let creds = sim::credentials();
    c.create_routes(&creds, sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, &[vpn_route("172.21.0.0/24")])
        .await
        .unwrap();
    assert_eq!(c.describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.unwrap().cidr_block, "10.0.0.0/16");
    assert!(sim_routes(&sim).await.iter().any(|r| r.0 == "172.21.0.0/24"));
}

#[tokio::test]
async fn get_requests_with_the_query_string_are_accepted() {
    let sim = Sim::start(sim::WORLD);
    for method in [SignatureMethod::HmacSha256, SignatureMethod::HmacSha1] {
        let c = client_with(&sim, |cfg| {
            cfg.http_method = HttpMethod::Get;
            cfg.signature_method = method;
        });
        let creds = sim::credentials();
        let dest = if method == SignatureMethod::HmacSha1 { "172.22.1.0/24" } else { "172.22.2.0/24" };
        c.create_routes(&creds, sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, &[vpn_route(dest)]).await.unwrap();
        let table =
            c.describe_route_table(&creds, sim::TEST_REGION, Some(sim::TEST_VPC), sim::TEST_TABLE).await.unwrap();
        assert!(table.routes.contains(&vpn_route(dest)), "{method:?}: {:?}", table.routes);
    }
}

#[tokio::test]
async fn temporary_credentials_are_accepted_with_their_token_and_refused_without_it() {
    let sim = Sim::start(sim::WORLD);
    let c = client(&sim);
    let vpc = c.describe_vpc(&sts_credentials(Some(sim::STS_TOKEN)), sim::TEST_REGION, "vpc-stsacct1").await.unwrap();
    assert_eq!(vpc.cidr_block, "10.2.0.0/16");
    let err = c.describe_vpc(&sts_credentials(None), sim::TEST_REGION, "vpc-stsacct1").await.unwrap_err();
    assert_eq!((err.class, err.code()), (ErrorClass::Permanent, Some(4105)), "{err}");
}

#[tokio::test]
async fn one_client_serves_several_accounts_each_seeing_only_its_own_vpcs() {
    let sim = Sim::start(sim::WORLD);
    let c = client(&sim);
    let other = Credentials {
        secret_id: sim::OTHER_SECRET_ID.into(),
        secret_key: Secret::new(sim::OTHER_SECRET_KEY),
        token: None,
    };
    assert_eq!(c.describe_vpc(&other, sim::TEST_REGION, "vpc-2ndacct1").await.unwrap().name, "other-account-vpc");
    let err = c.describe_vpc(&other, sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    assert!(c.describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.is_ok());
}
