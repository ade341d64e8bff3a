//! CreateRoute and DeleteRoute: the seed's example, every business error for its own cause,
//! batch atomicity, normalisation, quota and exact-match deletes.

use super::signer::{Api, Call, described_routes, message};
use crate::sim::{self, Sim};

/// The demo table's routes in the emulator's state: (destination, type, hub), Local excluded.
async fn demo_routes(sim: &Sim) -> Vec<(String, u32, String)> {
    sim.routes(sim::TEST_TABLE).await
}

fn preexisting() -> (String, u32, String) {
    let (d, t, h) = sim::PREEXISTING_ROUTE;
    (d.into(), t, h.into())
}

#[tokio::test]
async fn the_seed_example_creates_a_route_stored_with_host_bits_cleared() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    api.ok(&Call::create().route(0, "121.0.23.51/16", "1", sim::TEST_VPN)).await;
    let expected = ("121.0.0.0/16".to_string(), 1, sim::TEST_VPN.to_string());
    assert_eq!(demo_routes(&sim).await, vec![preexisting(), expected.clone()]);
    let described = described_routes(&api, sim::TEST_TABLE).await;
    assert_eq!(described[0], ("Local".into(), 2, "Local".into()));
    assert_eq!(described[2], (expected.0, 1, expected.2));
}

#[tokio::test]
async fn a_vpc_of_another_account_or_no_vpc_at_all_is_invalid_vpc_not_found() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for (vpc, table) in
        [("vpc-2ndacct1", "rtb-2ndacct1"), ("vpc-nothere1", sim::TEST_TABLE), ("vpc-sh3pq8da", "rtb-sh3pq8da")]
    {
        let call = Call::new("CreateRoute").target(vpc, table).route(0, "1.0.0.0/8", "1", sim::TEST_VPN);
        let answer = api.refused(&call, 4000, "InvalidVpc.NotFound").await;
        assert!(message(&answer).contains(vpc), "{answer}");
    }
    assert_eq!(sim.routes("rtb-2ndacct1").await, vec![]);
}

#[tokio::test]
async fn a_table_of_another_vpc_or_no_table_at_all_is_invalid_route_table_not_found() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for table in ["rtb-6xh2kq0r", "rtb-nothere1"] {
        let call = Call::new("CreateRoute").target(sim::TEST_VPC, table).route(0, "1.0.0.0/8", "1", sim::TEST_VPN);
        api.refused(&call, 4000, "InvalidRouteTableId.NotFound").await;
    }
    let in_its_own_vpc =
        Call::new("CreateRoute").target("vpc-6xh2kq0r", "rtb-6xh2kq0r").route(0, "1.0.0.0/8", "8", "nat-6xh2kq0r");
    api.ok(&in_its_own_vpc).await;
}

#[tokio::test]
async fn a_destination_that_is_no_ipv4_cidr_or_overlaps_the_vpc_is_invalid_destination_cidr() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for destination in
        ["banana", "300.1.0.0/16", "10.1.0.0/33", "10.1.0.0", "2001:db8::/32", "Local", "10.0.7.0/24", "10.0.0.0/8"]
    {
        let call = Call::create().route(0, destination, "1", sim::TEST_VPN);
        let answer = api.refused(&call, 4000, "InvalidDestinationCidr").await;
        assert!(message(&answer).contains(destination), "{answer}");
    }
    api.ok(&Call::create().route(0, "10.1.0.0/16", "1", sim::TEST_VPN)).await;
    assert_eq!(demo_routes(&sim).await.len(), 2);
}

#[tokio::test]
async fn a_destination_already_routed_whatever_its_hop_is_route_already_exists() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let (dest, _, hub) = sim::PREEXISTING_ROUTE;
    api.refused(&Call::create().route(0, dest, "8", hub), 4000, "RouteAlreadyExists").await;
    api.refused(&Call::create().route(0, dest, "1", sim::TEST_VPN), 4000, "RouteAlreadyExists").await;
    api.refused(&Call::create().route(0, "192.168.77.1/16", "1", sim::TEST_VPN), 4000, "RouteAlreadyExists").await;
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
}

#[tokio::test]
async fn a_destination_named_twice_in_one_batch_is_route_already_exists_and_nothing_is_created() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let call = Call::create().route(0, "1.0.0.0/8", "1", sim::TEST_VPN).route(1, "1.2.3.4/8", "8", sim::TEST_NAT);
    let answer = api.refused(&call, 4000, "RouteAlreadyExists").await;
    assert!(message(&answer).contains("routeSet.1 (1.2.3.4/8)"), "{answer}");
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
}

#[tokio::test]
async fn a_next_type_outside_the_table_is_invalid_route_next_type() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for next_type in ["2", "5", "6", "10", "-1", "one"] {
        api.refused(&Call::create().route(0, "1.0.0.0/8", next_type, sim::TEST_VPN), 4000, "InvalidRouteNextType")
            .await;
    }
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
}

#[tokio::test]
async fn a_hub_that_is_not_a_gateway_of_that_type_in_this_vpc_is_invalid_route_next_hub() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let refused = [
        ("7", sim::TEST_VPN),   // a VPN gateway named as SSL VPN
        ("8", "nat-6xh2kq0r"),  // a NAT gateway of another VPC
        ("1", "vpngw-nothere"), // no such gateway
        ("0", "ins-notagw01"),  // a CVM that is not listed as a public gateway
        ("9", "10.9.0.5"),      // an address outside the VPC
        ("9", "ins-pubgw7k1"),  // not an address at all
    ];
    for (next_type, hub) in refused {
        let answer = api
            .refused(&Call::create().route(0, "1.0.0.0/8", next_type, hub), 4000, "InvalidRouteNextHub.NotFound")
            .await;
        assert!(message(&answer).contains(hub), "{answer}");
    }
    let accepted = [
        ("9", "10.0.3.7"),
        ("0", "ins-pubgw7k1"),
        ("3", "dcg-4yq0ja6e"),
        ("4", "pcx-8ug2nq1z"),
        ("7", "vpngw-s5lvn0b2"),
    ];
    for (i, (next_type, hub)) in accepted.into_iter().enumerate() {
        api.ok(&Call::create().route(0, &format!("{}.0.0.0/8", i + 1), next_type, hub)).await;
    }
    assert_eq!(demo_routes(&sim).await.len(), 1 + accepted.len());
}

#[tokio::test]
async fn a_batch_with_one_bad_entry_creates_nothing_and_names_that_entry() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let call = Call::create()
        .route(0, "1.0.0.0/8", "1", sim::TEST_VPN)
        .route(1, "2.0.0.0/8", "8", sim::TEST_NAT)
        .route(2, "3.0.0.0/8", "8", "nat-nothere1");
    let answer = api.refused(&call, 4000, "InvalidRouteNextHub.NotFound").await;
    assert!(message(&answer).contains("routeSet.2 (3.0.0.0/8)"), "{answer}");
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
    let fixed = Call::create().route(0, "1.0.0.0/8", "1", sim::TEST_VPN).route(1, "2.0.0.0/8", "8", sim::TEST_NAT);
    api.ok(&fixed).await;
    assert_eq!(demo_routes(&sim).await.len(), 3);
}

#[tokio::test]
async fn the_quota_counts_routes_already_there_but_not_the_local_route() {
    let world = sim::WORLD.replace("routeQuota: 50", "routeQuota: 3");
    let sim = Sim::start(&world);
    let api = Api::new(&sim);
    api.ok(&Call::create().route(0, "1.0.0.0/8", "1", sim::TEST_VPN)).await;
    let over = Call::create().route(0, "2.0.0.0/8", "1", sim::TEST_VPN).route(1, "3.0.0.0/8", "1", sim::TEST_VPN);
    let answer = api.refused(&over, 4000, "RouteLimitExceeded").await;
    assert!(message(&answer).contains("routeSet.1 (3.0.0.0/8)"), "{answer}");
    assert_eq!(demo_routes(&sim).await.len(), 2);
    api.ok(&Call::create().route(0, "2.0.0.0/8", "1", sim::TEST_VPN)).await;
    assert_eq!(described_routes(&api, sim::TEST_TABLE).await.len(), 4);
}

#[tokio::test]
async fn delete_route_needs_destination_type_and_hub_to_match_else_answers_5000() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    api.ok(&Call::create().route(0, "121.0.23.51/16", "1", sim::TEST_VPN)).await;
    let mismatches = [
        ("121.0.0.0/16", "1", "vpngw-other001"),
        ("121.0.0.0/16", "7", sim::TEST_VPN),
        ("121.1.0.0/16", "1", sim::TEST_VPN),
    ];
    for (dest, next_type, hub) in mismatches {
        let answer = api.refused(&Call::delete().route(0, dest, next_type, hub), 5000, "InvalidRoute.NotFound").await;
        assert!(message(&answer).contains("routeSet.0"), "{answer}");
    }
    assert_eq!(demo_routes(&sim).await.len(), 2);
    api.ok(&Call::delete().route(0, "121.0.23.51/16", "1", sim::TEST_VPN)).await;
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
    api.refused(&Call::delete().route(0, "121.0.0.0/16", "1", sim::TEST_VPN), 5000, "InvalidRoute.NotFound").await;
}

#[tokio::test]
async fn a_delete_batch_with_one_missing_route_deletes_nothing() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let (dest, _, hub) = sim::PREEXISTING_ROUTE;
    let call = Call::delete().route(0, dest, "8", hub).route(1, "8.8.0.0/16", "1", sim::TEST_VPN);
    let answer = api.refused(&call, 5000, "InvalidRoute.NotFound").await;
    assert!(message(&answer).contains("routeSet.1 (8.8.0.0/16)"), "{answer}");
    assert_eq!(demo_routes(&sim).await, vec![preexisting()]);
}

#[tokio::test]
async fn post_form_bodies_and_underscore_names_work_like_get_queries() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    api.ok(&Call::create().post().route(0, "1.0.0.0/8", "1", sim::TEST_VPN)).await;
    let underscored = Call::create()
        .param("routeSet_0_destinationCidrBlock", "2.0.0.0/8")
        .param("routeSet_0_nextType", "8")
        .param("routeSet_0_nextHub", sim::TEST_NAT);
    api.ok(&underscored).await;
    let dests: Vec<String> = demo_routes(&sim).await.into_iter().map(|r| r.0).collect();
    assert_eq!(dests, vec!["192.168.0.0/16", "1.0.0.0/8", "2.0.0.0/8"]);
}
