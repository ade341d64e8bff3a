//! Signature, credentials, token, timestamp and nonce rules, and malformed requests.

use super::signer::{Api, Call, code, desc, message, now};
use vpc_wire::v2::sign::SignatureMethod;

use crate::sim::{self, Sim};

#[tokio::test]
async fn get_and_post_calls_signed_with_sha256_sha1_or_no_method_are_accepted() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for post in [false, true] {
        for method in [Some("HmacSHA256"), Some("HmacSHA1"), None, Some("HmacMD5")] {
            let mut call = Call::new("DescribeVpcEx");
            call.post = post;
            call.signature_method = method.map(Into::into);
            let answer = api.ok(&call).await;
            assert_eq!(answer["totalCount"], 2, "post={post} method={method:?}: {answer}");
        }
    }
}

#[tokio::test]
async fn a_signature_made_with_another_key_or_another_algorithm_is_refused_with_4100() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let mut wrong_key = Call::new("DescribeVpcEx");
    wrong_key.secret_key = "demoKeyNotARealSecretPrimary0002".into();
    api.refused(&wrong_key, 4100, "AuthFailure.SignatureFailure").await;
    let mut sha1_labelled_sha256 = Call::new("DescribeVpcEx");
    sha1_labelled_sha256.sign_with = Some(SignatureMethod::HmacSha1);
    api.refused(&sha1_labelled_sha256, 4100, "AuthFailure.SignatureFailure").await;
    let mut sha256_unlabelled = Call::new("DescribeVpcEx");
    sha256_unlabelled.signature_method = None;
    sha256_unlabelled.sign_with = Some(SignatureMethod::HmacSha256);
    api.refused(&sha256_unlabelled, 4100, "AuthFailure.SignatureFailure").await;
}

#[tokio::test]
async fn every_answer_carries_a_distinct_uuid_like_request_id() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let ok = api.ok(&Call::new("DescribeVpcEx")).await;
    let refused = api.call(&Call::new("DescribeVpcEx").creds("AKIDnobody", "x")).await;
    let (a, b) = (ok["requestId"].as_str().unwrap(), refused["requestId"].as_str().unwrap());
    assert_ne!(a, b);
    for id in [a, b] {
        assert_eq!(id.split('-').map(str::len).collect::<Vec<_>>(), vec![8, 4, 4, 4, 12], "{id}");
    }
    assert_eq!((ok["message"].as_str(), desc(&ok)), (Some(""), "Success"));
}

#[tokio::test]
async fn the_signature_covers_the_host_header_including_its_port() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let mut without_port = Call::new("DescribeVpcEx");
    without_port.sign_host = Some("127.0.0.1".into());
    api.refused(&without_port, 4100, "AuthFailure.SignatureFailure").await;
    let mut with_port = Call::new("DescribeVpcEx");
    with_port.sign_host = Some(format!("127.0.0.1:{}", sim.port));
    api.ok(&with_port).await;
    let mut other_host = Call::new("DescribeVpcEx").post();
    other_host.host_header = Some("vpc.api.qcloud.com".into());
    api.ok(&other_host).await;
    other_host.sign_host = Some(format!("127.0.0.1:{}", sim.port));
    api.refused(&other_host, 4100, "AuthFailure.SignatureFailure").await;
    Api::via_localhost(&sim).ok(&Call::new("DescribeVpcEx")).await;
}

#[tokio::test]
async fn unknown_capitalised_parameters_are_accepted_and_covered_by_the_signature() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    api.ok(&Call::new("DescribeVpcEx").param("RequestClient", "SDK_PYTHON_2.0.15")).await;
    let mut added_later = Call::new("DescribeVpcEx");
    added_later.unsigned = vec![("RequestClient".into(), "SDK_PYTHON_2.0.15".into())];
    api.refused(&added_later, 4100, "AuthFailure.SignatureFailure").await;
}

#[tokio::test]
async fn a_parameter_changed_after_signing_is_refused_with_4100() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let mut call = Call::new("DescribeRouteTable");
    call.unsigned = vec![("routeTableId".into(), sim::TEST_TABLE.into())];
    api.refused(&call, 4100, "AuthFailure.SignatureFailure").await;
}

#[tokio::test]
async fn an_unknown_secret_id_is_refused_with_4104() {
    let sim = Sim::start(sim::WORLD);
    let answer = Api::new(&sim)
        .refused(&Call::new("DescribeVpcEx").creds("AKIDnobody", "x"), 4104, "AuthFailure.SecretIdNotFound")
        .await;
    assert!(message(&answer).contains("AKIDnobody"), "{answer}");
}

#[tokio::test]
async fn an_account_with_a_token_needs_exactly_that_token() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let mut call = Call::new("DescribeVpcEx").creds(sim::STS_SECRET_ID, sim::STS_SECRET_KEY);
    api.refused(&call, 4105, "AuthFailure.TokenFailure").await;
    call.token = Some("someOtherToken".into());
    api.refused(&call, 4105, "AuthFailure.TokenFailure").await;
    call.token = Some(sim::STS_TOKEN.into());
    let answer = api.ok(&call).await;
    assert_eq!(answer["data"][0]["unVpcId"], "vpc-stsacct1");
}

#[tokio::test]
async fn a_timestamp_more_than_300_s_off_is_refused_with_4500_and_250_s_is_accepted() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    for skew in [-400, 400] {
        let mut call = Call::new("DescribeVpcEx");
        call.timestamp = Some(now() + skew);
        api.refused(&call, 4500, "AuthFailure.SignatureExpire").await;
    }
    let mut call = Call::new("DescribeVpcEx");
    call.timestamp = Some(now() - 250);
    api.ok(&call).await;
}

#[tokio::test]
async fn a_nonce_reused_by_the_same_secret_id_is_refused_with_4500() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let nonce = Some(424_242);
    let mut first = Call::new("DescribeVpcEx");
    first.nonce = nonce;
    api.ok(&first).await;
    let mut replay = Call::new("DescribeRouteTable");
    replay.nonce = nonce;
    api.refused(&replay, 4500, "AuthFailure.SignatureExpire").await;
    let mut other_account = Call::new("DescribeVpcEx").creds(sim::OTHER_SECRET_ID, sim::OTHER_SECRET_KEY);
    other_account.nonce = nonce;
    api.ok(&other_account).await;
}

#[tokio::test]
async fn missing_or_malformed_parameters_are_named_in_invalid_parameter() {
    let sim = Sim::start(sim::WORLD);
    let api = Api::new(&sim);
    let cases = [
        (
            Call::new("CreateRoute").param("routeTableId", sim::TEST_TABLE).route(0, "1.0.0.0/8", "1", sim::TEST_VPN),
            "vpcId",
        ),
        (
            Call::new("CreateRoute").param("vpcId", sim::TEST_VPC).route(0, "1.0.0.0/8", "1", sim::TEST_VPN),
            "routeTableId",
        ),
        (Call::create(), "routeSet"),
        (
            Call::create().param("routeSet.0.destinationCidrBlock", "1.0.0.0/8").param("routeSet.0.nextType", "1"),
            "routeSet.0.nextHub",
        ),
        (Call::new("DescribeVpcEx").param("limit", "many"), "limit"),
        (Call { region: None, ..Call::new("DescribeVpcEx") }, "Region"),
    ];
    for (call, named) in cases {
        let answer = api.refused(&call, 4000, "InvalidParameter").await;
        assert!(message(&answer).contains(named), "expected {named} in {answer}");
    }
    let mut no_nonce = Call::new("DescribeVpcEx");
    no_nonce.nonce = Some(0);
    let answer = api.refused(&no_nonce, 4000, "InvalidParameter").await;
    assert!(message(&answer).contains("Nonce"), "{answer}");
}

#[tokio::test]
async fn an_unknown_action_is_refused_with_invalid_action() {
    let sim = Sim::start(sim::WORLD);
    let answer = Api::new(&sim).refused(&Call::new("RebootEverything"), 4000, "InvalidAction").await;
    assert!(message(&answer).contains("RebootEverything"), "{answer}");
}

#[tokio::test]
async fn garbage_requests_get_answers_and_never_stop_the_emulator() {
    let sim = Sim::start(sim::WORLD);
    let http = sim::https_client(&sim.ca_file);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let response = http.post(&sim.endpoint).body(garbage).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(code(&answer), 4000, "{answer}");
    for query in ["%zz%%=&&==&Action", "routeSet.99999999999999999999999.x=1", "Action=CreateRoute&Action=CreateRoute"]
    {
        let response = http.get(format!("{}?{query}", sim.endpoint)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{query}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(code(&answer), 4000, "{query}: {answer}");
    }
    let forged = Call::create().param("routeSet.x.nextHub", "1");
    Api::new(&sim).refused(&forged, 4000, "InvalidParameter").await;
    Api::new(&sim).ok(&Call::new("DescribeVpcEx")).await;
}
