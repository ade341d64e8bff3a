//! No secret ever leaves the operator (issue 11, R5): a whole lifecycle with `RUST_LOG=trace` and
//! JSON logs, temporary credentials with a token, then every log line, Event, status, metric and
//! error message is searched for the secret key, the token and any request signature.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ListParams, ObjectMeta, PostParams};
use serde_json::json;

use crate::support::cluster::{install_crds, test_env, wait_for};
use crate::support::operator::{FAST_RETRY, Operator, common_args, free_port, scrape};
use crate::support::routes::{api, create, delete, patch_spec, spec, wait_gone, wait_reason};
use crate::support::sim::{STS_SECRET_ID, STS_SECRET_KEY, STS_TOKEN, Sim, TEST_NAT, WORLD};

#[tokio::test]
async fn a_traced_lifecycle_never_shows_a_key_a_token_or_a_signature_anywhere() {
    let env = test_env("r5-secrets").await;
    install_crds(&env.client).await;
    let sim = Sim::start(WORLD);
    let secret = Secret {
        metadata: ObjectMeta { name: Some("sts".into()), ..Default::default() },
        string_data: Some(
            [
                ("secretId".to_string(), STS_SECRET_ID.to_string()),
                ("secretKey".to_string(), STS_SECRET_KEY.to_string()),
                ("token".to_string(), STS_TOKEN.to_string()),
            ]
            .into(),
        ),
        ..Default::default()
    };
    Api::<Secret>::namespaced(env.client.clone(), &env.namespace)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut args: Vec<String> = vec!["run".into(), "--watch-namespace".into(), env.namespace.clone()];
    args.extend(common_args(&sim));
    args.extend(FAST_RETRY.iter().map(|s| s.to_string()));
    args.extend(["--log-format", "json", "--http-addr", &addr, "--resync-seconds", "2"].map(String::from));
    let op = Operator::start_with_env(&env, args, &format!("{}-trace", env.namespace), |vars| {
        vars.retain(|(k, _)| k != "RUST_LOG");
        vars.push(("RUST_LOG".into(), "trace".into()));
    });
    let (client, ns) = (&env.client, &env.namespace);
    let with_secret = |dest: &str| {
        let mut s = spec(dest);
        s.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "sts".into() });
        s
    };
    let sts_world_table = "rtb-stsacct1";
    let mut a = with_secret("10.140.0.0/16");
    a.route_table_id = sts_world_table.into();
    a.vpc_id = "vpc-stsacct1".into();
    a.next_hub = "vpngw-stsacct1".into();
    create(client, ns, "a", a).await;
    create(client, ns, "b", spec("10.140.1.0/24")).await;
    wait_reason(client, ns, "b", "True", "Created").await;
    patch_spec(client, ns, "b", json!({"nextType": "NatGateway", "nextHub": TEST_NAT})).await;
    wait_for("the hop change", Duration::from_secs(30), || async {
        let obj = api(client, ns).get("b").await.ok()?;
        (obj.status?.route?.next_hub == TEST_NAT).then_some(())
    })
    .await;
    let metrics = scrape(&addr).await.unwrap_or_default();
    delete(client, ns, "b").await;
    wait_gone(client, ns, "b").await;
    // "a" was made with temporary credentials: key and token were used on every call.
    wait_reason(client, ns, "a", "True", "Created").await;
    let statuses = serde_json::to_string(&api(client, ns).list(&ListParams::default()).await.unwrap().items).unwrap();
    let events = Api::<k8s_openapi::api::events::v1::Event>::namespaced(client.clone(), ns);
    let events = serde_json::to_string(&events.list(&ListParams::default()).await.unwrap().items).unwrap();
    let log = op.log();
    assert!(log.lines().count() > 50, "a trace log has lines: {}", log.lines().count());
    let mut hits = Vec::new();
    for (what, text) in [("log", &log), ("statuses", &statuses), ("events", &events), ("metrics", &metrics)] {
        for secret in [STS_SECRET_KEY, STS_TOKEN, crate::support::sim::TEST_SECRET_KEY] {
            if text.contains(secret) {
                hits.push(format!("the {what} show a secret"));
            }
        }
        for signature_marker in ["Signature=", "Signature\":", "TC3-HMAC-SHA256 Credential", "authorization: TC3"] {
            if text.contains(signature_marker) {
                hits.push(format!("the {what} show a signature ({signature_marker})"));
            }
        }
    }
    println!(
        "R5 api={}: {} trace log lines (JSON), {} bytes of Events, {} of statuses, {} of metrics searched for the secret keys, \
         the STS token and signatures: {} hits",
        crate::support::backend::api(),
        log.lines().count(),
        events.len(),
        statuses.len(),
        metrics.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}
