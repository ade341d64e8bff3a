//! Every business error code of CreateRoute, authentication and replay failures, rate limiting,
//! and that no error or client ever shows a secret. Spawns vpc-sim; loopback I/O only.

use std::sync::Arc;

use serde::de::IgnoredAny;
use vpc_wire::domain::{Credentials, NextType, Route, Secret};
use vpcroute_operator::client::{Action, ApiError, ErrorClass, HttpMethod, route_batch_params};

use super::{client, client_with, route, sim_routes, vpn_route};
use crate::support::sim::{self, Sim};

async fn create_error(sim: &Sim, vpc: &str, table: &str, routes: &[Route]) -> ApiError {
    let result = client(sim).create_routes(&sim::credentials(), sim::TEST_REGION, vpc, table, routes).await;
    result.expect_err("CreateRoute should have failed")
}

fn assert_business(err: &ApiError, code_desc: &str) {
    assert_eq!(err.action, Action::CreateRoute);
    assert_eq!(err.class, ErrorClass::Permanent, "{err}");
    assert_eq!(err.code(), Some(4000), "{err}");
    assert_eq!(err.code_desc(), Some(code_desc), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_unknown_vpc_is_invalid_vpc_not_found() {
    let sim = Sim::start(sim::WORLD);
    let err = create_error(&sim, "vpc-nosuch01", sim::TEST_TABLE, &[vpn_route("172.30.0.0/24")]).await;
    assert_business(&err, "InvalidVpc.NotFound");
}

#[tokio::test]
async fn an_unknown_route_table_is_invalid_route_table_id_not_found() {
    let sim = Sim::start(sim::WORLD);
    let err = create_error(&sim, sim::TEST_VPC, "rtb-nosuch01", &[vpn_route("172.30.0.0/24")]).await;
    assert_business(&err, "InvalidRouteTableId.NotFound");
}

#[tokio::test]
async fn a_destination_inside_the_vpc_cidr_is_invalid_destination_cidr() {
    let sim = Sim::start(sim::WORLD);
    let err = create_error(&sim, sim::TEST_VPC, sim::TEST_TABLE, &[vpn_route("10.0.5.0/24")]).await;
    assert_business(&err, "InvalidDestinationCidr");
}

#[tokio::test]
async fn a_batch_beyond_the_quota_is_route_limit_exceeded_and_creates_nothing() {
    let sim = Sim::start(&sim::WORLD.replace("routeQuota: 50", "routeQuota: 3"));
    let batch = [vpn_route("172.30.1.0/24"), vpn_route("172.30.2.0/24"), vpn_route("172.30.3.0/24")];
    let err = create_error(&sim, sim::TEST_VPC, sim::TEST_TABLE, &batch).await;
    assert_business(&err, "RouteLimitExceeded");
    assert_eq!(sim_routes(&sim).await.len(), 1, "the batch is atomic");
}

#[tokio::test]
async fn a_destination_already_routed_is_route_already_exists() {
    let sim = Sim::start(sim::WORLD);
    let err = create_error(&sim, sim::TEST_VPC, sim::TEST_TABLE, &[vpn_route(sim::PREEXISTING_ROUTE.0)]).await;
    assert_business(&err, "RouteAlreadyExists");
}

#[tokio::test]
async fn an_unknown_next_type_sent_raw_is_invalid_route_next_type() {
    let sim = Sim::start(sim::WORLD);
    let mut params = route_batch_params(sim::TEST_VPC, sim::TEST_TABLE, &[vpn_route("172.30.4.0/24")]);
    let next_type = params.iter_mut().find(|(k, _)| k == "routeSet.0.nextType").unwrap();
    next_type.1 = "5".into();
    let result =
        client(&sim).call::<IgnoredAny>(&sim::credentials(), sim::TEST_REGION, Action::CreateRoute, params).await;
    assert_business(&result.unwrap_err(), "InvalidRouteNextType");
}

#[tokio::test]
async fn a_gateway_that_does_not_exist_is_invalid_route_next_hub_not_found() {
    let sim = Sim::start(sim::WORLD);
    let missing = route("172.30.5.0/24", NextType::NatGateway, "nat-nosuch01");
    let err = create_error(&sim, sim::TEST_VPC, sim::TEST_TABLE, &[missing]).await;
    assert_business(&err, "InvalidRouteNextHub.NotFound");
}

#[tokio::test]
async fn a_wrong_secret_key_is_a_permanent_signature_failure() {
    let sim = Sim::start(sim::WORLD);
    let creds = Credentials { secret_key: Secret::new("not-the-key"), ..sim::credentials() };
    let err = client(&sim).describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!((err.class, err.code()), (ErrorClass::Permanent, Some(4100)), "{err}");
    assert_eq!(err.code_desc(), Some("AuthFailure.SignatureFailure"));
}

#[tokio::test]
async fn an_unknown_secret_id_is_4104() {
    let sim = Sim::start(sim::WORLD);
    let creds = Credentials { secret_id: "AKIDnobodyHasThisId000000000000000009".into(), ..sim::credentials() };
    let err = client(&sim).describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!((err.class, err.code()), (ErrorClass::Permanent, Some(4104)), "{err}");
}

#[tokio::test]
async fn reusing_a_nonce_is_rejected_as_a_retryable_replay() {
    let sim = Sim::start(sim::WORLD);
    let c = client(&sim).with_nonce(Arc::new(|| 424_242));
    let creds = sim::credentials();
    c.describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.unwrap();
    let err = c.describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!((err.class, err.code()), (ErrorClass::Retryable, Some(4500)), "{err}");
    assert!(err.is_replay() && err.is_retryable());
    assert!(client(&sim).describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC).await.is_ok(), "fresh nonces pass");
}

#[tokio::test]
async fn a_clock_ten_minutes_behind_is_rejected_as_a_replay() {
    let sim = Sim::start(sim::WORLD);
    let now = chrono::Utc::now().timestamp();
    let c = client(&sim).with_clock(Arc::new(move || now - 600));
    let err = c.describe_vpc(&sim::credentials(), sim::TEST_REGION, sim::TEST_VPC).await.unwrap_err();
    assert_eq!((err.class, err.code()), (ErrorClass::Retryable, Some(4500)), "{err}");
}

#[tokio::test]
async fn calls_beyond_the_rate_limit_are_retryable_4400() {
    let sim = Sim::start(sim::WORLD);
    sim.rate_limits(serde_json::json!({"DescribeVpcEx": 1})).await;
    let (c, creds) = (client(&sim), sim::credentials());
    let calls = (0..4).map(|_| c.describe_vpc(&creds, sim::TEST_REGION, sim::TEST_VPC));
    let results = futures::future::join_all(calls).await;
    let limited: Vec<&ApiError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(results.iter().any(Result::is_ok), "the first call within the limit passes");
    assert!(!limited.is_empty(), "four calls at once exceed one per second");
    for err in limited {
        assert_eq!((err.class, err.code()), (ErrorClass::Retryable, Some(4400)), "{err}");
    }
}

#[tokio::test]
async fn errors_and_the_client_never_show_keys_tokens_or_signatures() {
    let sim = Sim::start(sim::WORLD);
    let fake = Credentials {
        secret_id: sim::STS_SECRET_ID.into(),
        secret_key: Secret::new("wrongKeyValue-Do-Not-Print"),
        token: Some(Secret::new("tokenValue-Do-Not-Print")),
    };
    let real = Credentials {
        secret_id: sim::STS_SECRET_ID.into(),
        secret_key: Secret::new(sim::STS_SECRET_KEY),
        token: Some(Secret::new(sim::STS_TOKEN)),
    };
    let get = client_with(&sim, |cfg| cfg.http_method = HttpMethod::Get);
    let auth = get.describe_vpc(&fake, sim::TEST_REGION, "vpc-stsacct1").await.unwrap_err();
    assert_eq!(auth.code(), Some(4100), "{auth}");
    let untrusted = client_with(&sim, |cfg| {
        cfg.http_method = HttpMethod::Get;
        cfg.ca_file = None;
    });
    let tls = untrusted.describe_vpc(&fake, sim::TEST_REGION, "vpc-stsacct1").await.unwrap_err();
    assert_eq!(tls.class, ErrorClass::Transport, "{tls}");
    sim.fault(serde_json::json!({"kind": "dropBeforeAction", "count": 1})).await;
    let dropped = get.describe_vpc(&real, sim::TEST_REGION, "vpc-stsacct1").await.unwrap_err();
    assert_eq!(dropped.class, ErrorClass::Transport, "{dropped}");
    let mut shown = vec![format!("{get:?}"), format!("{fake:?} {real:?}")];
    for err in [&auth, &tls, &dropped] {
        shown.push(format!("{err} {err:?}"));
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            shown.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }
    for text in shown {
        for secret in ["Do-Not-Print", "Signature=", "Token=", sim::STS_SECRET_KEY, sim::STS_TOKEN] {
            assert!(!text.contains(secret), "{secret} shown in: {text}");
        }
    }
}
