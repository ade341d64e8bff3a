//! Each injected fault kind, and TLS verification, surface as the right error class.
//! Spawns vpc-sim; loopback I/O only.

use std::time::Duration;

use serde_json::json;
use vpcroute_operator::client::{ApiError, ApiErrorKind, ErrorClass};

use super::{client, client_with, sim_routes, vpn_route};
use crate::support::sim::{self, Sim};

async fn create_with_fault(sim: &Sim, kind: &str, destination: &str) -> ApiError {
    sim.fault(json!({"action": "CreateRoute", "kind": kind, "count": 1})).await;
    let routes = [vpn_route(destination)];
    let result =
        client(sim).create_routes(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC, sim::TEST_TABLE, &routes).await;
    result.expect_err("the fault should have failed the call")
}

async fn has_route(sim: &Sim, destination: &str) -> bool {
    sim_routes(sim).await.iter().any(|r| r.0 == destination)
}

#[tokio::test]
async fn an_internal_error_is_retryable_and_runs_nothing() {
    let sim = Sim::start(sim::WORLD);
    let err = create_with_fault(&sim, "internalError", "172.31.1.0/24").await;
    assert_eq!((err.class, err.code(), err.code_desc()), (ErrorClass::Retryable, Some(6000), Some("InternalError")));
    assert!(err.is_retryable());
    assert!(!has_route(&sim, "172.31.1.0/24").await);
}

#[tokio::test]
async fn a_request_limit_fault_is_retryable_4400() {
    let sim = Sim::start(sim::WORLD);
    let err = create_with_fault(&sim, "requestLimitExceeded", "172.31.2.0/24").await;
    assert_eq!((err.class, err.code()), (ErrorClass::Retryable, Some(4400)), "{err}");
}

#[tokio::test]
async fn http_500_and_503_are_transport_errors_with_their_status() {
    let sim = Sim::start(sim::WORLD);
    for (kind, status) in [("http500", 500), ("http503", 503)] {
        let err = create_with_fault(&sim, kind, "172.31.3.0/24").await;
        assert_eq!(err.class, ErrorClass::Transport, "{err}");
        assert!(matches!(err.kind, ApiErrorKind::HttpStatus(s) if s == status), "{err}");
        assert_eq!(err.code(), None);
    }
    assert!(!has_route(&sim, "172.31.3.0/24").await);
}

#[tokio::test]
async fn a_connection_dropped_before_the_action_is_a_transport_error_and_creates_nothing() {
    let sim = Sim::start(sim::WORLD);
    let err = create_with_fault(&sim, "dropBeforeAction", "172.31.4.0/24").await;
    assert_eq!(err.class, ErrorClass::Transport, "{err}");
    assert!(err.is_retryable());
    assert!(!has_route(&sim, "172.31.4.0/24").await);
}

#[tokio::test]
async fn a_lost_response_is_a_transport_error_although_the_route_was_created() {
    let sim = Sim::start(sim::WORLD);
    let err = create_with_fault(&sim, "responseLost", "172.31.5.0/24").await;
    assert_eq!(err.class, ErrorClass::Transport, "{err}");
    assert!(has_route(&sim, "172.31.5.0/24").await, "the action ran before the connection was closed");
}

#[tokio::test]
async fn latency_beyond_the_request_timeout_is_a_transport_timeout() {
    let sim = Sim::start(sim::WORLD);
    sim.fault(json!({"action": "DescribeVpcEx", "kind": "latency", "latencyMs": 3000, "count": 1})).await;
    let c = client_with(&sim, |cfg| cfg.request_timeout = Duration::from_millis(500));
    let started = std::time::Instant::now();
    let err = c.describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transport, "{err}");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_millis(2500), "gave up after {:?}", started.elapsed());
}

#[tokio::test]
async fn latency_within_the_request_timeout_succeeds() {
    let sim = Sim::start(sim::WORLD);
    sim.fault(json!({"action": "DescribeVpcEx", "kind": "latency", "latencyMs": 200, "count": 1})).await;
    let vpc = client(&sim).describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap();
    assert_eq!(vpc.vpc_id, sim::TEST_VPC);
}

#[tokio::test]
async fn a_ca_that_is_not_the_sims_fails_verification_as_a_transport_error() {
    let sim = Sim::start(sim::WORLD);
    let other_ca = std::env::temp_dir().join(format!("vpcroute-other-ca-{}.pem", std::process::id()));
    std::fs::write(&other_ca, unrelated_ca_pem()).unwrap();
    let c = client_with(&sim, |cfg| cfg.ca_file = Some(other_ca.clone()));
    let err = c.describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    std::fs::remove_file(&other_ca).unwrap();
    assert_eq!(err.class, ErrorClass::Transport, "{err}");
    assert!(matches!(err.kind, ApiErrorKind::Connect(_) | ApiErrorKind::Send(_)), "{err:?}");
    let without_ca = client_with(&sim, |cfg| cfg.ca_file = None);
    let err = without_ca.describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Transport, "system roots alone must not trust the sim: {err}");
    assert_eq!(sim.calls().await.get("DescribeVpcEx"), None, "no request got through");
}

fn unrelated_ca_pem() -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "an unrelated CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}
