//! Injected faults (each kind observable), counts, probabilities, per-action scoping, latency and
//! rate limits.

use std::time::{Duration, Instant};

use serde_json::json;

use super::signer::{Api, Call, code, desc};
use crate::sim::{self, Sim};

fn create_one() -> Call {
    Call::create().route(0, "1.0.0.0/8", "1", sim::TEST_VPN)
}

#[tokio::test]
async fn internal_error_and_request_limit_faults_answer_6000_and_4400_envelopes_without_acting() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "CreateRoute", "kind": "internalError", "count": 1})).await;
    api.refused(&create_one(), 6000, "InternalError").await;
    sim.fault(json!({"action": "CreateRoute", "kind": "requestLimitExceeded", "count": 1})).await;
    api.refused(&create_one(), 4400, "RequestLimitExceeded").await;
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
    api.ok(&create_one()).await;
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 2);
}

#[tokio::test]
async fn http_500_and_503_faults_answer_those_statuses_with_a_non_api_body() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for (kind, status) in [("http500", 500), ("http503", 503)] {
        sim.fault(json!({"kind": kind, "count": 1})).await;
        let (got, body) = api.send(&create_one()).await.unwrap();
        assert_eq!(got, status, "{kind}: {body}");
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_err(), "{kind} body is JSON: {body}");
    }
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
}

#[tokio::test]
async fn drop_before_action_closes_the_connection_and_creates_nothing() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "CreateRoute", "kind": "dropBeforeAction", "count": 1})).await;
    let outcome = api.send(&create_one()).await;
    assert!(outcome.is_err(), "expected a connection error, got {outcome:?}");
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
    api.ok(&create_one()).await;
}

#[tokio::test]
async fn response_lost_creates_the_route_but_the_client_sees_a_connection_error() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "CreateRoute", "kind": "responseLost", "count": 1})).await;
    let outcome = api.send(&create_one()).await;
    assert!(outcome.is_err(), "expected a connection error, got {outcome:?}");
    assert_eq!(sim.routes(sim::TEST_TABLE).await[1], ("1.0.0.0/8".into(), 1, sim::TEST_VPN.into()));
    api.refused(&create_one(), 4000, "RouteAlreadyExists").await;
}

#[tokio::test]
async fn a_fault_for_one_action_leaves_other_actions_alone() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "DeleteRoute", "kind": "internalError"})).await;
    api.ok(&Call::new("DescribeRouteTable")).await;
    api.ok(&create_one()).await;
    let delete = Call::delete().route(0, "1.0.0.0/8", "1", sim::TEST_VPN);
    api.refused(&delete, 6000, "InternalError").await;
    api.refused(&delete, 6000, "InternalError").await;
    sim.clear_faults().await;
    api.ok(&delete).await;
}

#[tokio::test]
async fn probability_one_hits_every_call_and_probability_zero_none() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"kind": "internalError", "probability": 0.0})).await;
    for _ in 0..5 {
        api.ok(&Call::new("DescribeVpcEx")).await;
    }
    sim.fault(json!({"kind": "requestLimitExceeded", "probability": 1.0})).await;
    for _ in 0..5 {
        api.refused(&Call::new("DescribeVpcEx"), 4400, "RequestLimitExceeded").await;
    }
}

#[tokio::test]
async fn a_latency_fault_delays_the_answer_by_at_least_its_milliseconds() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "DescribeVpcEx", "kind": "latency", "latencyMs": 400, "count": 1})).await;
    let started = Instant::now();
    api.ok(&Call::new("DescribeVpcEx")).await;
    assert!(started.elapsed() >= Duration::from_millis(400), "answered after {:?}", started.elapsed());
}

#[tokio::test]
async fn bad_fault_specs_are_refused_with_400() {
    let sim = Sim::start(sim::WORLD);
    let http = sim::https_client(&sim.ca_file);
    let url = format!("{}/_sim/faults", sim.base);
    for spec in
        [json!({"kind": "meteorStrike"}), json!({"kind": "http500", "probability": 2}), json!({"kind": "latency"})]
    {
        let status = http.post(&url).json(&spec).send().await.unwrap().status();
        assert!(status.is_client_error(), "{spec}: {status}");
    }
}

#[tokio::test]
async fn a_rate_limit_answers_4400_beyond_n_calls_per_second_for_that_action_only() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.rate_limits(json!({"DescribeVpcEx": 2})).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let answer = api.call(&Call::new("DescribeVpcEx")).await;
        codes.push((code(&answer), desc(&answer).to_string()));
    }
    assert_eq!(codes[..2], [(0, "Success".to_string()), (0, "Success".to_string())]);
    assert!(codes[2..].contains(&(4400, "RequestLimitExceeded".to_string())), "{codes:?}");
    api.ok(&Call::new("DescribeRouteTable")).await;
    sim.rate_limits(json!({})).await;
    api.ok(&Call::new("DescribeVpcEx")).await;
}

#[tokio::test]
async fn faults_and_rate_limits_can_come_from_the_world_file() {
    let world = format!(
        "{}\n",
        sim::WORLD
            .replace("faults: []", "faults: [{action: CreateRoute, kind: internalError, count: 1}]")
            .replace("rateLimits: {}", "rateLimits: {DeleteRoute: 0}")
    );
    let sim = Sim::start(&world);
    let api = Api::new(&sim);
    api.refused(&create_one(), 6000, "InternalError").await;
    api.ok(&create_one()).await;
    api.refused(&Call::delete().route(0, "1.0.0.0/8", "1", sim::TEST_VPN), 4400, "RequestLimitExceeded").await;
}

#[tokio::test]
async fn a_slow_write_whose_client_gives_up_still_lands_as_with_a_real_cloud() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    sim.fault(json!({"action": "CreateRoute", "kind": "latency", "latencyMs": 1500, "count": 1})).await;
    let call = create_one();
    let gave_up = tokio::time::timeout(Duration::from_millis(300), api.send(&call)).await;
    assert!(gave_up.is_err(), "the client was meant to give up before the answer");
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.routes(sim::TEST_TABLE).await.len() < 2 {
        assert!(Instant::now() < deadline, "the accepted write never landed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(sim.routes(sim::TEST_TABLE).await.iter().any(|r| r.0 == "1.0.0.0/8"));
}
