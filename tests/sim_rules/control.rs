//! The `/_sim/` control API: state, call counts, edits by hand.

use serde_json::json;

use super::signer::{Api, Call, described_routes};
use crate::sim::{self, Sim};

#[tokio::test]
async fn state_lists_every_account_s_routes_and_never_a_secret_key_or_token() {
    let sim = Sim::start(sim::WORLD);
    let state = sim.state().await;
    let text = state.to_string();
    for secret in [sim::TEST_SECRET_KEY, sim::OTHER_SECRET_KEY, sim::STS_SECRET_KEY, sim::STS_TOKEN] {
        assert!(!text.contains(secret), "state shows a secret");
    }
    assert_eq!(state["accounts"][0]["secretId"], sim::TEST_SECRET_ID);
    let vpc = &state["accounts"][0]["regions"]["ap-guangzhou"]["vpcs"][0];
    assert_eq!((vpc["vpcId"].as_str(), vpc["cidrBlock"].as_str()), (Some(sim::TEST_VPC), Some("10.0.0.0/16")));
    assert_eq!(vpc["routeTables"][0]["routes"][0]["destinationCidrBlock"], "192.168.0.0/16");
    assert!(vpc["gateways"].as_array().unwrap().iter().any(|g| g["id"] == sim::TEST_VPN && g["nextType"] == 1));
    assert_eq!(state["accounts"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn calls_count_every_request_naming_an_action_whatever_its_outcome_until_reset() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    api.ok(&Call::new("DescribeRouteTable")).await;
    api.refused(&Call::new("DescribeRouteTable").creds("AKIDnobody", "x"), 4104, "AuthFailure.SecretIdNotFound").await;
    api.refused(&Call::create(), 4000, "InvalidParameter").await;
    let calls = sim.calls().await;
    assert_eq!((calls.get("DescribeRouteTable"), calls.get("CreateRoute")), (Some(&2), Some(&1)));
    assert_eq!(calls.get("DeleteRoute"), None);
    sim.reset_calls().await;
    assert!(sim.calls().await.is_empty());
    api.ok(&Call::new("DescribeVpcEx")).await;
    assert_eq!(sim.calls().await.get("DescribeVpcEx"), Some(&1));
}

#[tokio::test]
async fn an_edit_by_hand_puts_repoints_and_deletes_routes_without_the_api_rules() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let base = json!({"secretId": sim::TEST_SECRET_ID, "region": "ap-guangzhou", "routeTableId": sim::TEST_TABLE_2});
    let with = |extra: serde_json::Value| {
        let mut spec = base.clone();
        spec.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        spec
    };
    sim.edit(with(
        json!({"op": "put", "destinationCidrBlock": "8.8.8.8/16", "nextType": 1, "nextHub": "vpngw-gone0001"}),
    ))
    .await;
    assert_eq!(sim.routes(sim::TEST_TABLE_2).await, vec![("8.8.0.0/16".into(), 1, "vpngw-gone0001".into())]);
    sim.edit(with(json!({"op": "put", "destinationCidrBlock": "8.8.0.0/16", "nextType": 8, "nextHub": sim::TEST_NAT})))
        .await;
    let described = described_routes(&api, sim::TEST_TABLE_2).await;
    assert_eq!(described[1], ("8.8.0.0/16".into(), 8, sim::TEST_NAT.into()));
    sim.edit(with(json!({"op": "delete", "destinationCidrBlock": "8.8.0.0/16"}))).await;
    assert_eq!(sim.routes(sim::TEST_TABLE_2).await, vec![]);
}

#[tokio::test]
async fn an_edit_of_a_missing_table_or_route_is_404() {
    let sim = Sim::start(sim::WORLD);
    let http = sim::https_client(&sim.ca_file);
    let url = format!("{}/_sim/edit", sim.base);
    let missing_table = json!({"op": "put", "secretId": sim::OTHER_SECRET_ID, "region": "ap-guangzhou",
        "routeTableId": sim::TEST_TABLE, "destinationCidrBlock": "8.8.0.0/16", "nextType": 1, "nextHub": sim::TEST_VPN});
    assert_eq!(http.post(&url).json(&missing_table).send().await.unwrap().status(), 404);
    let missing_route = json!({"op": "delete", "secretId": sim::TEST_SECRET_ID, "region": "gz",
        "routeTableId": sim::TEST_TABLE, "destinationCidrBlock": "8.8.0.0/16"});
    assert_eq!(http.post(&url).json(&missing_route).send().await.unwrap().status(), 404);
    let bad_cidr = json!({"op": "delete", "secretId": sim::TEST_SECRET_ID, "region": "gz",
        "routeTableId": sim::TEST_TABLE, "destinationCidrBlock": "nope"});
    assert_eq!(http.post(&url).json(&bad_cidr).send().await.unwrap().status(), 400);
}
