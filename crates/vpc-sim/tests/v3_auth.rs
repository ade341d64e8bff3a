//! API 3.0 on `/`: TC3 (POST JSON and GET) and signature v1 (GET and POST form, HmacSHA1 and
//! HmacSHA256), every authentication failure code and the version and action checks. Runs the
//! emulator in process; network I/O on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{DEMO, Key, STS, TEST_TABLE, Tweak, code, response};
use serde_json::json;
use vpc_wire::v2::sign::SignatureMethod;
use vpc_wire::v3::codes;

fn describe_demo() -> serde_json::Value {
    json!({"RouteTableIds": [TEST_TABLE]})
}

#[tokio::test]
async fn a_tc3_post_with_json_succeeds_and_carries_a_request_id() {
    let sim = common::start();
    let answer = sim.tc3(DEMO, "DescribeRouteTables", describe_demo()).await;
    assert_eq!(code(&answer), "", "{answer}");
    assert_eq!(response(&answer)["TotalCount"], 1);
    assert!(response(&answer)["RequestId"].as_str().is_some_and(|r| r.len() == 36));
}

#[tokio::test]
async fn a_tc3_get_with_a_flattened_query_succeeds() {
    let sim = common::start();
    let answer = sim.tc3_get(DEMO, "DescribeRouteTables", &format!("RouteTableIds.0={TEST_TABLE}&Limit=5")).await;
    assert_eq!(code(&answer), "", "{answer}");
    assert_eq!(response(&answer)["RouteTableSet"][0]["RouteTableId"], TEST_TABLE);
}

#[tokio::test]
async fn signature_v1_works_on_3_0_with_sha1_and_sha256_over_get_and_post_form() {
    let sim = common::start();
    for (post, method) in [
        (false, SignatureMethod::HmacSha1),
        (false, SignatureMethod::HmacSha256),
        (true, SignatureMethod::HmacSha1),
        (true, SignatureMethod::HmacSha256),
    ] {
        let params = [("Action", "DescribeRouteTables"), ("Version", "2017-03-12"), ("RouteTableIds.0", TEST_TABLE)];
        let answer = sim.v1("/", post, method, &params).await;
        assert_eq!(code(&answer), "", "post={post} {method:?}: {answer}");
        assert_eq!(response(&answer)["TotalCount"], 1, "{answer}");
    }
}

#[tokio::test]
async fn a_wrong_key_is_a_signature_failure_and_an_unknown_secret_id_is_not_found() {
    let sim = common::start();
    let wrong = Key { key: "not-the-key", ..DEMO };
    assert_eq!(code(&sim.tc3(wrong, "DescribeVpcs", json!({})).await), codes::AUTH_SIGNATURE_FAILURE);
    let stranger = Key { id: "AKIDnobodyHasThisId", ..DEMO };
    assert_eq!(code(&sim.tc3(stranger, "DescribeVpcs", json!({})).await), codes::AUTH_SECRET_ID_NOT_FOUND);
}

#[tokio::test]
async fn a_timestamp_more_than_300_seconds_away_is_expired() {
    let sim = common::start();
    let stale = Tweak { skew: -301, ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), stale).await), codes::AUTH_SIGNATURE_EXPIRE);
    let ahead = Tweak { skew: 400, ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), ahead).await), codes::AUTH_SIGNATURE_EXPIRE);
    let close = Tweak { skew: -200, ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), close).await), "");
}

#[tokio::test]
async fn temporary_credentials_need_their_token_and_only_that_one() {
    let sim = common::start();
    assert_eq!(code(&sim.tc3(STS, "DescribeVpcs", json!({})).await), "");
    let without = Tweak { no_token: true, ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(STS, "DescribeVpcs", json!({}), without).await), codes::AUTH_TOKEN_FAILURE);
    let wrong = Tweak { token: Some("someOtherToken"), ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(STS, "DescribeVpcs", json!({}), wrong).await), codes::AUTH_TOKEN_FAILURE);
}

#[tokio::test]
async fn a_malformed_or_missing_authorization_header_is_invalid_authorization() {
    let sim = common::start();
    for bad in ["Basic dXNlcjpwYXNz", "TC3-HMAC-SHA256 Credential=AKID/2024-01-01/vpc/tc3_request, Signature=ab"] {
        let tweak = Tweak { authorization: Some(bad), ..Tweak::default() };
        let answer = sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), tweak).await;
        assert_eq!(code(&answer), codes::AUTH_INVALID_AUTHORIZATION, "{bad}: {answer}");
    }
}

#[tokio::test]
async fn version_and_action_are_checked_after_the_signature() {
    let sim = common::start();
    let missing = Tweak { version: Some(""), ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), missing).await), codes::MISSING_PARAMETER);
    let old = Tweak { version: Some("2016-01-01"), ..Tweak::default() };
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "DescribeVpcs", json!({}), old).await), codes::NO_SUCH_VERSION);
    assert_eq!(code(&sim.tc3(DEMO, "CreateRoute", json!({})).await), codes::INVALID_ACTION);
    assert_eq!(code(&sim.tc3(DEMO, "DescribeInstances", json!({})).await), codes::INVALID_ACTION);
}

#[tokio::test]
async fn a_region_the_account_lacks_has_no_tables_and_no_writable_table() {
    let sim = common::start();
    let elsewhere = Tweak { region: Some("ap-tokyo"), ..Tweak::default() };
    let answer = sim.tc3_tweaked(DEMO, "DescribeRouteTables", json!({}), elsewhere.clone()).await;
    assert_eq!((code(&answer), &response(&answer)["TotalCount"]), ("", &json!(0)));
    let create = json!({"RouteTableId": TEST_TABLE, "Routes": [
        {"DestinationCidrBlock": "1.0.0.0/8", "GatewayType": "VPN", "GatewayId": common::TEST_VPN}]});
    assert_eq!(code(&sim.tc3_tweaked(DEMO, "CreateRoutes", create, elsewhere).await), codes::RESOURCE_NOT_FOUND);
}

#[tokio::test]
async fn the_secondary_account_sees_none_of_the_demo_accounts_tables() {
    let sim = common::start();
    let other =
        Key { id: "AKIDdemoVpcSimSecondary00000000000002", key: "demoKeyNotARealSecretSecond0002", token: None };
    let answer = sim.tc3(other, "DescribeRouteTables", describe_demo()).await;
    assert_eq!((code(&answer), &response(&answer)["TotalCount"]), ("", &json!(0)));
}
