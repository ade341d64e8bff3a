//! API 3.0 route writes: every business error of CreateRoutes, atomic batches, ids that survive
//! ReplaceRoutes, delete and enable/disable by either id, one route seen through 2.0 and 3.0,
//! faults, rate limits and call counts by 3.0 action name, and the ids in `/_sim/state`. Runs the
//! emulator in process; network I/O on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEMO, TEST_TABLE, TEST_VPC, TEST_VPN, code, response};
use reqwest::Method;
use serde_json::{Value, json};
use vpc_wire::v3::codes;

fn route(destination: &str, gateway_type: &str, gateway_id: &str) -> Value {
    json!({"DestinationCidrBlock": destination, "GatewayType": gateway_type, "GatewayId": gateway_id})
}

fn create(routes: Vec<Value>) -> Value {
    json!({"RouteTableId": TEST_TABLE, "Routes": routes})
}

fn user_routes(routes: &[Value]) -> Vec<&Value> {
    routes.iter().filter(|r| r["RouteType"] == "USER").collect()
}

#[tokio::test]
async fn create_routes_answers_the_table_with_the_new_routes_and_their_ids() {
    let sim = common::start();
    let mut entry = route("121.0.23.51/16", "VPN", TEST_VPN);
    entry["RouteDescription"] = json!("made by a test");
    entry["Enabled"] = json!(true);
    let answer = sim.tc3(DEMO, "CreateRoutes", create(vec![entry])).await;
    assert_eq!(code(&answer), "", "{answer}");
    let table = &response(&answer)["RouteTableSet"][0];
    assert_eq!((response(&answer)["TotalCount"].as_u64(), table["RouteTableId"].as_str()), (Some(1), Some(TEST_TABLE)));
    let new = &table["RouteSet"][0];
    assert_eq!(new["DestinationCidrBlock"], "121.0.0.0/16");
    assert_eq!((new["RouteType"].as_str(), new["RouteDescription"].as_str()), (Some("USER"), Some("made by a test")));
    assert!(new["RouteId"].as_u64().is_some_and(|id| id > 0));
    let item = new["RouteItemId"].as_str().unwrap();
    assert!(item.len() == 12 && item.starts_with("rti-"), "{item}");
    assert!(item[4..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{item}");
    assert_eq!(new["CreatedTime"].as_str().map(str::len), Some(19));
    let listed = sim.demo_routes().await;
    assert!(listed.iter().any(|r| r["RouteItemId"] == item && r["RouteId"] == new["RouteId"]));
}

#[tokio::test]
async fn every_business_error_of_create_routes_has_its_code_and_names_the_entry() {
    let sim = common::start();
    let cases = [
        (
            json!({"RouteTableId": "rtb-nothere", "Routes": [route("1.0.0.0/8", "VPN", TEST_VPN)]}),
            codes::RESOURCE_NOT_FOUND,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("300.1.0.0/16", "VPN", TEST_VPN)]),
            codes::INVALID_PARAMETER_VALUE_MALFORMED,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("10.0.3.0/24", "VPN", TEST_VPN)]),
            codes::INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("2.0.0.0/8", "NAT", TEST_VPN)]),
            codes::INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("2.0.0.0/8", "WORMHOLE", "x")]),
            codes::INVALID_PARAMETER,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("192.168.0.0/16", "NAT", "nat-0fkvq2hd")]),
            codes::INVALID_PARAMETER_VALUE_DUPLICATE,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("1.2.0.0/8", "VPN", TEST_VPN)]),
            codes::INVALID_PARAMETER_VALUE_DUPLICATE,
        ),
        (
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("192.168.0.0/16", "VPN", TEST_VPN)]),
            codes::UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE,
        ),
    ];
    for (body, want) in cases {
        let answer = sim.tc3(DEMO, "CreateRoutes", body.clone()).await;
        assert_eq!(code(&answer), want, "{body}: {answer}");
        if want != codes::RESOURCE_NOT_FOUND {
            let message = response(&answer)["Error"]["Message"].as_str().unwrap();
            assert!(message.starts_with("Routes.1 ("), "{message}");
        }
    }
    assert_eq!(user_routes(&sim.demo_routes().await).len(), 1, "no failed batch left a route behind");
}

#[tokio::test]
async fn the_quota_counts_existing_routes_and_refuses_the_whole_batch() {
    let world = common::WORLD.replace("routeQuota: 50", "routeQuota: 2");
    let sim = common::start_with(&world);
    let answer = sim
        .tc3(
            DEMO,
            "CreateRoutes",
            create(vec![route("1.0.0.0/8", "VPN", TEST_VPN), route("2.0.0.0/8", "VPN", TEST_VPN)]),
        )
        .await;
    assert_eq!(code(&answer), codes::LIMIT_EXCEEDED, "{answer}");
    assert_eq!(user_routes(&sim.demo_routes().await).len(), 1);
}

#[tokio::test]
async fn replace_routes_changes_the_hop_in_place_and_keeps_both_ids() {
    let sim = common::start();
    let made = sim.create_vpn_route("20.0.0.0/16").await;
    let (id, item) = (made["RouteId"].clone(), made["RouteItemId"].clone());
    let body = json!({"RouteTableId": TEST_TABLE, "Routes": [{"RouteId": id, "DestinationCidrBlock": "20.0.0.0/16",
        "GatewayType": "NAT", "GatewayId": "nat-0fkvq2hd", "RouteDescription": "moved"}]});
    let answer = sim.tc3(DEMO, "ReplaceRoutes", body).await;
    assert_eq!(code(&answer), "", "{answer}");
    assert_eq!(response(&answer)["OldRouteSet"][0]["GatewayType"], "VPN");
    let new = &response(&answer)["NewRouteSet"][0];
    assert_eq!((&new["RouteId"], &new["RouteItemId"], &new["GatewayId"]), (&id, &item, &json!("nat-0fkvq2hd")));
    let listed = sim.demo_routes().await;
    let now = listed.iter().find(|r| r["RouteItemId"] == item).unwrap();
    assert_eq!((&now["RouteId"], &now["GatewayType"], &now["RouteDescription"]), (&id, &json!("NAT"), &json!("moved")));
    let unknown = json!({"RouteTableId": TEST_TABLE, "Routes": [{"RouteItemId": "rti-zzzzzzzz",
        "DestinationCidrBlock": "20.0.0.0/16", "GatewayType": "VPN", "GatewayId": TEST_VPN}]});
    assert_eq!(code(&sim.tc3(DEMO, "ReplaceRoutes", unknown).await), codes::UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS);
    let bad_hop = json!({"RouteTableId": TEST_TABLE, "Routes": [{"RouteItemId": item,
        "DestinationCidrBlock": "20.0.0.0/16", "GatewayType": "VPN", "GatewayId": "vpngw-nothere"}]});
    assert_eq!(
        code(&sim.tc3(DEMO, "ReplaceRoutes", bad_hop).await),
        codes::INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID
    );
}

#[tokio::test]
async fn delete_routes_takes_either_id_refuses_unknown_and_system_routes_and_answers_what_went() {
    let sim = common::start();
    let a = sim.create_vpn_route("30.0.0.0/16").await;
    let b = sim.create_vpn_route("31.0.0.0/16").await;
    let system = sim.demo_routes().await[0].clone();
    assert_eq!(system["RouteType"], "NETD");
    let refuse = |routes: Value| json!({"RouteTableId": TEST_TABLE, "Routes": routes});
    let answer = sim.tc3(DEMO, "DeleteRoutes", refuse(json!([{"RouteId": system["RouteId"]}]))).await;
    assert_eq!(code(&answer), codes::UNSUPPORTED_OPERATION_SYSTEM_ROUTE);
    let answer = sim.tc3(DEMO, "DeleteRoutes", refuse(json!([{"RouteId": a["RouteId"]}, {"RouteId": 999_999}]))).await;
    assert_eq!(code(&answer), codes::RESOURCE_NOT_FOUND);
    let body = refuse(json!([{"RouteId": a["RouteId"]}, {"RouteItemId": b["RouteItemId"]}]));
    let answer = sim.tc3(DEMO, "DeleteRoutes", body.clone()).await;
    assert_eq!(code(&answer), "", "{answer}");
    let gone: Vec<&Value> =
        response(&answer)["RouteSet"].as_array().unwrap().iter().map(|r| &r["RouteItemId"]).collect();
    assert_eq!(gone, vec![&a["RouteItemId"], &b["RouteItemId"]]);
    assert_eq!(user_routes(&sim.demo_routes().await).len(), 1);
    assert_eq!(code(&sim.tc3(DEMO, "DeleteRoutes", body).await), codes::RESOURCE_NOT_FOUND);
}

#[tokio::test]
async fn disable_and_enable_routes_flip_enabled_by_either_id() {
    let sim = common::start();
    let made = sim.create_vpn_route("40.0.0.0/16").await;
    let body = json!({"RouteTableId": TEST_TABLE, "RouteIds": [made["RouteId"]]});
    assert_eq!(code(&sim.tc3(DEMO, "DisableRoutes", body).await), "");
    let enabled = |routes: Vec<Value>| {
        routes.iter().find(|r| r["RouteItemId"] == made["RouteItemId"]).unwrap()["Enabled"].clone()
    };
    assert_eq!(enabled(sim.demo_routes().await), json!(false));
    let body = json!({"RouteTableId": TEST_TABLE, "RouteItemIds": [made["RouteItemId"]]});
    assert_eq!(code(&sim.tc3(DEMO, "EnableRoutes", body).await), "");
    assert_eq!(enabled(sim.demo_routes().await), json!(true));
    let unknown = json!({"RouteTableId": TEST_TABLE, "RouteItemIds": ["rti-00000000"]});
    assert_eq!(code(&sim.tc3(DEMO, "EnableRoutes", unknown).await), codes::RESOURCE_NOT_FOUND);
}

#[tokio::test]
async fn a_route_made_through_2_0_has_ids_in_3_0_and_a_3_0_route_shows_in_2_0() {
    let sim = common::start();
    let params = [
        ("Action", "CreateRoute"),
        ("vpcId", TEST_VPC),
        ("routeTableId", TEST_TABLE),
        ("routeSet.0.destinationCidrBlock", "50.0.0.0/16"),
        ("routeSet.0.nextType", "1"),
        ("routeSet.0.nextHub", TEST_VPN),
    ];
    let answer = sim.v2(&params).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let listed = sim.demo_routes().await;
    let via_v2 = listed.iter().find(|r| r["DestinationCidrBlock"] == "50.0.0.0/16").unwrap();
    assert!(via_v2["RouteId"].as_u64().is_some_and(|i| i > 0));
    assert!(via_v2["RouteItemId"].as_str().is_some_and(|i| i.starts_with("rti-")));
    assert_eq!((&via_v2["GatewayType"], &via_v2["Enabled"]), (&json!("VPN"), &json!(true)));

    sim.create_vpn_route("51.0.0.0/16").await;
    let answer = sim.v2(&[("Action", "DescribeRouteTable"), ("routeTableId", TEST_TABLE)]).await;
    let routes = answer["data"][0]["routeSet"].as_array().unwrap();
    assert!(routes.iter().any(|r| r["destinationCidrBlock"] == "51.0.0.0/16" && r["nextType"] == 1), "{answer}");
}

#[tokio::test]
async fn sim_state_shows_ids_enabled_and_description_per_route() {
    let sim = common::start();
    let made = sim.create_vpn_route("60.0.0.0/16").await;
    let state = sim.control(Method::GET, "state", None).await;
    let tables = state["accounts"][0]["regions"]["ap-guangzhou"]["vpcs"][0]["routeTables"].as_array().unwrap();
    let routes = tables[0]["routes"].as_array().unwrap();
    let snap = routes.iter().find(|r| r["destinationCidrBlock"] == "60.0.0.0/16").unwrap();
    assert_eq!((&snap["routeId"], &snap["routeItemId"]), (&made["RouteId"], &made["RouteItemId"]));
    assert_eq!((&snap["enabled"], &snap["description"], &snap["nextType"]), (&json!(true), &json!(""), &json!(1)));
    assert_eq!(snap["nextHub"], TEST_VPN);
}

#[tokio::test]
async fn a_lost_response_on_create_routes_still_creates_the_route() {
    let sim = common::start();
    let fault = json!({"action": "CreateRoutes", "kind": "responseLost", "count": 1});
    sim.control(Method::POST, "faults", Some(fault)).await;
    let body = serde_json::to_vec(&create(vec![route("70.0.0.0/16", "VPN", TEST_VPN)])).unwrap();
    let timestamp = common::now();
    let signed = vpc_wire::v3::sign::Tc3Request::post_json(&sim.host, &body, timestamp);
    let sent = sim
        .http
        .post(sim.base())
        .header("Content-Type", vpc_wire::v3::sign::CONTENT_TYPE_JSON)
        .header("Authorization", signed.authorization(DEMO.id, DEMO.key))
        .header("X-TC-Action", "CreateRoutes")
        .header("X-TC-Version", "2017-03-12")
        .header("X-TC-Timestamp", timestamp.to_string())
        .header("X-TC-Region", common::TEST_REGION)
        .body(body)
        .send()
        .await;
    assert!(sent.is_err(), "the connection should have been dropped: {sent:?}");
    let listed = sim.demo_routes().await;
    assert!(listed.iter().any(|r| r["DestinationCidrBlock"] == "70.0.0.0/16"));
}

#[tokio::test]
async fn rate_limits_and_call_counts_use_the_3_0_action_names() {
    let sim = common::start();
    sim.control(Method::PUT, "rate-limits", Some(json!({"DescribeVpcs": 1}))).await;
    let first = sim.tc3(DEMO, "DescribeVpcs", json!({})).await;
    let second = sim.tc3(DEMO, "DescribeVpcs", json!({})).await;
    assert_eq!((code(&first), code(&second)), ("", codes::REQUEST_LIMIT_EXCEEDED));
    assert_eq!(code(&sim.tc3(DEMO, "DescribeVpcLimits", json!({})).await), "");
    let calls = sim.control(Method::GET, "calls", None).await;
    assert_eq!((&calls["DescribeVpcs"], &calls["DescribeVpcLimits"]), (&json!(2), &json!(1)));
    let fault = json!({"action": "DescribeVpcLimits", "kind": "internalError", "count": 1});
    sim.control(Method::POST, "faults", Some(fault)).await;
    assert_eq!(code(&sim.tc3(DEMO, "DescribeVpcLimits", json!({})).await), codes::INTERNAL_ERROR);
}

#[tokio::test]
async fn a_slow_create_whose_client_gives_up_still_lands_as_with_a_real_cloud() {
    let sim = common::start();
    let fault = json!({"action": "CreateRoutes", "kind": "latency", "latencyMs": 1500, "count": 1});
    sim.control(Method::POST, "faults", Some(fault)).await;
    let call = sim.tc3(DEMO, "CreateRoutes", create(vec![route("198.51.100.0/24", "VPN", TEST_VPN)]));
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(300), call).await;
    assert!(gave_up.is_err(), "the client was meant to give up before the answer");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let routes = sim.demo_routes().await;
        if routes.iter().any(|r| r["DestinationCidrBlock"] == "198.51.100.0/24") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the accepted write never landed: {routes:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
