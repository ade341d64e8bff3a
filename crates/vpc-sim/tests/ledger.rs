//! The ledger of successful writes (`GET /_sim/ledger`): what 3.0 and 2.0 writes and console
//! edits leave in it, what refused, faulted and lost-answer writes leave, `?since=`, and its
//! survival across a restart from `--state`. Runs the emulator in process; network I/O on
//! loopback, files under the test target dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEMO, TEST_SECRET_ID, TEST_TABLE, TEST_VPC, TEST_VPN, Tweak, code};
use reqwest::Method;
use serde_json::{Value, json};

async fn ledger(sim: &common::Sim, since: u64) -> Vec<Value> {
    let answer = sim.control(Method::GET, &format!("ledger?since={since}"), None).await;
    answer["entries"].as_array().unwrap().clone()
}

fn text<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry[key].as_str().unwrap_or("?")
}

/// Each entry as (seq, action, source, change, destination, nextHub).
fn summary(entries: &[Value]) -> Vec<(u64, &str, &str, &str, &str, &str)> {
    entries.iter().map(row).collect()
}

fn row(e: &Value) -> (u64, &str, &str, &str, &str, &str) {
    let seq = e["seq"].as_u64().unwrap();
    (seq, text(e, "action"), text(e, "source"), text(e, "change"), text(e, "destinationCidrBlock"), text(e, "nextHub"))
}

fn vpn(destination: &str) -> Value {
    json!({"DestinationCidrBlock": destination, "GatewayType": "VPN", "GatewayId": TEST_VPN})
}

#[tokio::test]
async fn creates_replaces_disables_and_deletes_through_3_0_are_recorded_in_order_with_ids() {
    let sim = common::start();
    let body = json!({"RouteTableId": TEST_TABLE, "Routes": [vpn("20.0.0.0/16"), vpn("21.0.0.0/16")]});
    let made = sim.tc3(DEMO, "CreateRoutes", body).await;
    let made = made["Response"]["RouteTableSet"][0]["RouteSet"].as_array().unwrap().clone();
    let replace = json!({"RouteTableId": TEST_TABLE, "Routes": [{"RouteId": made[0]["RouteId"],
        "DestinationCidrBlock": "20.0.0.0/16", "GatewayType": "NAT", "GatewayId": "nat-0fkvq2hd"}]});
    assert_eq!(code(&sim.tc3(DEMO, "ReplaceRoutes", replace).await), "");
    let disable = json!({"RouteTableId": TEST_TABLE, "RouteIds": [made[1]["RouteId"]]});
    assert_eq!(code(&sim.tc3(DEMO, "DisableRoutes", disable).await), "");
    let delete = json!({"RouteTableId": TEST_TABLE, "Routes": [{"RouteId": made[1]["RouteId"]}]});
    assert_eq!(code(&sim.tc3(DEMO, "DeleteRoutes", delete).await), "");

    let entries = ledger(&sim, 0).await;
    assert_eq!(
        summary(&entries),
        vec![
            (1, "CreateRoutes", "api", "created", "20.0.0.0/16", TEST_VPN),
            (2, "CreateRoutes", "api", "created", "21.0.0.0/16", TEST_VPN),
            (3, "ReplaceRoutes", "api", "replaced", "20.0.0.0/16", "nat-0fkvq2hd"),
            (4, "DisableRoutes", "api", "disabled", "21.0.0.0/16", TEST_VPN),
            (5, "DeleteRoutes", "api", "deleted", "21.0.0.0/16", TEST_VPN),
        ]
    );
    let first = &entries[0];
    assert_eq!((&first["routeId"], &first["routeItemId"]), (&made[0]["RouteId"], &made[0]["RouteItemId"]));
    assert_eq!((first["secretId"].as_str(), first["region"].as_str()), (Some(TEST_SECRET_ID), Some("ap-guangzhou")));
    assert_eq!((first["routeTableId"].as_str(), first["nextType"].as_u64()), (Some(TEST_TABLE), Some(1)));
    assert!(first["requestId"].as_str().is_some_and(|r| !r.is_empty()) && first["unixMs"].as_u64() > Some(0));
    assert_eq!(
        entries[2]["previous"],
        json!({"destinationCidrBlock": "20.0.0.0/16", "nextType": 1, "nextHub": TEST_VPN})
    );
    assert_eq!(summary(&ledger(&sim, 4).await), summary(&entries[4..]));
}

#[tokio::test]
async fn writes_through_2_0_and_console_edits_are_recorded_with_their_action_and_source() {
    let sim = common::start();
    let route = [("vpcId", TEST_VPC), ("routeTableId", TEST_TABLE), ("routeSet.0.destinationCidrBlock", "50.0.0.0/16")];
    let hop = [("routeSet.0.nextType", "1"), ("routeSet.0.nextHub", TEST_VPN)];
    let call = |action| [&[("Action", action)][..], &route, &hop].concat();
    assert_eq!(sim.v2(&call("CreateRoute")).await["code"], 0);
    assert_eq!(sim.v2(&call("DeleteRoute")).await["code"], 0);
    let edit = json!({"op": "put", "secretId": TEST_SECRET_ID, "region": "gz", "routeTableId": TEST_TABLE,
        "destinationCidrBlock": "51.0.0.0/16", "nextType": 1, "nextHub": TEST_VPN});
    sim.control(Method::POST, "edit", Some(edit.clone())).await;
    let repoint = json!({"op": "put", "secretId": TEST_SECRET_ID, "region": "gz", "routeTableId": TEST_TABLE,
        "destinationCidrBlock": "51.0.0.0/16", "nextType": 8, "nextHub": "nat-0fkvq2hd"});
    sim.control(Method::POST, "edit", Some(repoint)).await;
    let mut delete = edit;
    delete["op"] = json!("delete");
    sim.control(Method::POST, "edit", Some(delete)).await;
    assert_eq!(
        summary(&ledger(&sim, 0).await),
        vec![
            (1, "CreateRoute", "api", "created", "50.0.0.0/16", TEST_VPN),
            (2, "DeleteRoute", "api", "deleted", "50.0.0.0/16", TEST_VPN),
            (3, "ConsolePut", "console", "created", "51.0.0.0/16", TEST_VPN),
            (4, "ConsolePut", "console", "replaced", "51.0.0.0/16", "nat-0fkvq2hd"),
            (5, "ConsoleDelete", "console", "deleted", "51.0.0.0/16", "nat-0fkvq2hd"),
        ]
    );
}

#[tokio::test]
async fn a_refused_or_faulted_write_leaves_no_entry_and_a_write_whose_answer_was_lost_does() {
    let sim = common::start();
    let create = |d: &str| json!({"RouteTableId": TEST_TABLE, "Routes": [vpn(d)]});
    assert_eq!(code(&sim.tc3(DEMO, "CreateRoutes", create("60.0.0.0/16")).await), "");
    assert_ne!(code(&sim.tc3(DEMO, "CreateRoutes", create("60.0.0.0/16")).await), "", "a duplicate is refused");
    let fault = |kind| json!({"action": "CreateRoutes", "kind": kind, "count": 1});
    sim.control(Method::POST, "faults", Some(fault("internalError"))).await;
    assert_eq!(code(&sim.tc3(DEMO, "CreateRoutes", create("61.0.0.0/16")).await), "InternalError");
    sim.control(Method::POST, "faults", Some(fault("dropBeforeAction"))).await;
    assert!(sim.tc3_sent(DEMO, "CreateRoutes", create("62.0.0.0/16"), Tweak::default()).await.is_err());
    sim.control(Method::POST, "faults", Some(fault("responseLost"))).await;
    let lost = sim.tc3_sent(DEMO, "CreateRoutes", create("63.0.0.0/16"), Tweak::default()).await;
    assert!(lost.is_err(), "the answer should have been lost: {lost:?}");
    let entries = ledger(&sim, 0).await;
    let destinations: Vec<&str> = summary(&entries).into_iter().map(|e| e.4).collect();
    assert_eq!(destinations, ["60.0.0.0/16", "63.0.0.0/16"]);
}

#[tokio::test]
async fn the_ledger_survives_a_restart_from_the_state_file_and_a_new_state_file_starts_a_new_one() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let create = |d: &str| json!({"RouteTableId": TEST_TABLE, "Routes": [vpn(d)]});
    let mut sim = common::start_with_state(common::WORLD, Some(state.clone()));
    assert_eq!(code(&sim.tc3(DEMO, "CreateRoutes", create("70.0.0.0/16")).await), "");
    sim.server.stop();
    let sim = common::start_with_state(common::WORLD, Some(state.clone()));
    assert_eq!(code(&sim.tc3(DEMO, "CreateRoutes", create("71.0.0.0/16")).await), "");
    let entries = ledger(&sim, 0).await;
    let kept: Vec<(u64, &str)> = summary(&entries).into_iter().map(|e| (e.0, e.4)).collect();
    assert_eq!(kept, [(1, "70.0.0.0/16"), (2, "71.0.0.0/16")]);
    let lines = std::fs::read_to_string(dir.join("state.json.ledger.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    drop(sim);
    std::fs::remove_file(&state).unwrap();
    let fresh = common::start_with_state(common::WORLD, Some(state));
    assert!(ledger(&fresh, 0).await.is_empty(), "a fresh cloud has a fresh ledger");
}
