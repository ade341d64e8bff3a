//! The controller end to end (issue 4): real kube-apiserver, real `vpc-sim` over HTTPS, the real
//! operator binary. Each test has its own namespace, emulator and operator.

use std::process::Command;
use std::time::Duration;

use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::operator::{Operator, setup};
use crate::support::routes::{create, spec, wait_reason};
use crate::support::sim::{OTHER_SECRET_ID, OTHER_SECRET_KEY, PREEXISTING_ROUTE, Sim, TEST_TABLE, TEST_VPN, WORLD};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use serde_json::json;

async fn create_secret(client: &Client, ns: &str, name: &str, id: &str, key: &str) {
    let secret = Secret {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        string_data: Some(
            [("secretId".to_string(), id.to_string()), ("secretKey".to_string(), key.to_string())].into(),
        ),
        ..Default::default()
    };
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap_or_else(|e| panic!("creating Secret {ns}/{name}: {e}"));
}

/// How many Warning Events with `reason` the namespace holds (counting aggregated repeats).
async fn warning_events(env: &TestEnv, reason: &str) -> i32 {
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(env.client.clone(), &env.namespace);
    let list = api.list(&Default::default()).await.expect("listing events");
    list.items
        .iter()
        .filter(|e| e.type_.as_deref() == Some("Warning") && e.reason.as_deref() == Some(reason))
        .map(|e| e.series.as_ref().map_or(1, |s| s.count))
        .sum()
}

fn kubectl(env: &TestEnv, args: &[&str]) -> std::process::Output {
    Command::new(&env.kubectl)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .args(["-n", &env.namespace])
        .args(args)
        .output()
        .expect("running kubectl")
}

#[tokio::test]
async fn seed_route_with_host_bits_becomes_ready_and_the_cloud_holds_its_network() {
    let (env, sim, _op) = setup("ctl-seed", WORLD, &[]).await;
    create(&env.client, &env.namespace, "seed", spec("121.0.23.51/16")).await;
    let c = wait_reason(&env.client, &env.namespace, "seed", "True", "Created").await;
    assert!(c.message.contains("121.0.0.0/16"), "{}", c.message);
    let routes = sim.routes(TEST_TABLE).await;
    assert!(routes.contains(&("121.0.0.0/16".to_string(), 1, TEST_VPN.to_string())), "{routes:?}");
    let obj = crate::support::routes::api(&env.client, &env.namespace).get("seed").await.unwrap();
    assert_eq!(obj.status.and_then(|s| s.destination_cidr_block).as_deref(), Some("121.0.0.0/16"));
    let wait = kubectl(&env, &["wait", "--for=condition=Ready", "vpcroute/seed", "--timeout=30s"]);
    assert!(wait.status.success(), "kubectl wait failed: {}", String::from_utf8_lossy(&wait.stderr));
    let get = kubectl(&env, &["get", "vpcroutes"]);
    let table = String::from_utf8_lossy(&get.stdout);
    for column in ["DESTINATION", "NEXTTYPE", "NEXTHUB", "READY", "REASON", "AGE", "121.0.23.51/16", "Created"] {
        assert!(table.contains(column), "kubectl get vpcroutes lacks {column}:\n{table}");
    }
    assert_eq!(sim.calls().await.get(crate::support::backend::create()).copied(), Some(1), "exactly one CreateRoute");
}

#[tokio::test]
async fn route_already_in_the_table_with_another_hop_names_the_hop_and_is_left_untouched() {
    let (env, sim, _op) = setup("ctl-exists", WORLD, &[]).await;
    create(&env.client, &env.namespace, "taken", spec(PREEXISTING_ROUTE.0)).await;
    let c = wait_reason(&env.client, &env.namespace, "taken", "False", "RouteAlreadyExists").await;
    assert_eq!(
        c.message,
        format!(
            "{TEST_TABLE} already routes {} to NatGateway(8) {}; left untouched, rechecked at each resync",
            PREEXISTING_ROUTE.0, PREEXISTING_ROUTE.2
        )
    );
    let creates = sim.calls().await.get(crate::support::backend::create()).copied().unwrap_or(0);
    assert_eq!(creates, 0, "the table read showed the conflict; no create was sent");
    let routes = sim.routes(TEST_TABLE).await;
    let pre = (PREEXISTING_ROUTE.0.to_string(), PREEXISTING_ROUTE.1, PREEXISTING_ROUTE.2.to_string());
    assert!(routes.contains(&pre), "the existing route must be untouched: {routes:?}");
}

#[tokio::test]
async fn each_business_error_surfaces_as_its_own_reason_with_tencents_code() {
    let (env, sim, _op) = setup("ctl-business", WORLD, &[]).await;
    let ns = &env.namespace;
    let mut hub = spec("10.40.0.0/16");
    hub.next_hub = "vpngw-nosuch01".into();
    let overlap = spec("10.0.5.0/24");
    let mut vpc = spec("10.41.0.0/16");
    vpc.vpc_id = "vpc-nosuch01".into();
    let mut table = spec("10.42.0.0/16");
    table.route_table_id = "rtb-nosuch01".into();
    let cases = [
        ("hub", hub, "InvalidRouteNextHub"),
        ("overlap", overlap, "InvalidDestinationCidr"),
        ("vpc", vpc, "InvalidVpc"),
        ("table", table, "InvalidRouteTableId"),
    ];
    for (name, s, _) in &cases {
        create(&env.client, ns, name, s.clone()).await;
    }
    for (name, _, reason) in &cases {
        let c = wait_reason(&env.client, ns, name, "False", reason).await;
        let code = crate::support::backend::code_for(reason);
        assert!(c.message.contains(code), "{name}: {} lacks {code}", c.message);
    }
    let routes = sim.routes(TEST_TABLE).await;
    assert!(routes.iter().all(|r| !r.0.starts_with("10.4")), "no failed route may exist: {routes:?}");
}

#[tokio::test]
async fn a_full_route_table_reports_route_limit_exceeded() {
    let world = WORLD.replace("routeQuota: 50", "routeQuota: 1");
    let (env, sim, _op) = setup("ctl-limit", &world, &[]).await;
    create(&env.client, &env.namespace, "over", spec("10.50.0.0/16")).await;
    let c = wait_reason(&env.client, &env.namespace, "over", "False", "RouteLimitExceeded").await;
    assert!(c.message.contains(crate::support::backend::code_for("RouteLimitExceeded")), "{}", c.message);
    if crate::support::backend::is_v3() {
        // The quota is known (DescribeVpcLimits): a create that must fail is not sent.
        assert!(c.message.contains("not sent"), "{}", c.message);
        assert_eq!(sim.calls().await.get("CreateRoutes").copied().unwrap_or(0), 0);
    }
    assert_eq!(sim.routes(TEST_TABLE).await.len(), 1);
}

#[tokio::test]
async fn throttling_is_reported_and_retried_until_ready() {
    let (env, sim, _op) = setup("ctl-throttle", WORLD, &[]).await;
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "requestLimitExceeded", "probability": 1.0}))
        .await;
    create(&env.client, &env.namespace, "slow", spec("10.60.0.0/16")).await;
    let c = wait_reason(&env.client, &env.namespace, "slow", "False", "Throttled").await;
    assert!(c.message.contains(crate::support::backend::code_for("Throttled")), "{}", c.message);
    sim.clear_faults().await;
    wait_reason(&env.client, &env.namespace, "slow", "True", "Created").await;
}

#[tokio::test]
async fn internal_errors_are_reported_as_cloud_unavailable_and_retried_until_ready() {
    let (env, sim, _op) = setup("ctl-unavail", WORLD, &[]).await;
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "internalError", "probability": 1.0})).await;
    create(&env.client, &env.namespace, "later", spec("10.61.0.0/16")).await;
    let c = wait_reason(&env.client, &env.namespace, "later", "False", "CloudUnavailable").await;
    assert!(c.message.contains(crate::support::backend::code_for("CloudUnavailable")), "{}", c.message);
    sim.clear_faults().await;
    wait_reason(&env.client, &env.namespace, "later", "True", "Created").await;
}

#[tokio::test]
async fn ten_injected_internal_errors_still_end_ready_with_one_route() {
    let (env, sim, _op) = setup("ctl-ten", WORLD, &[]).await;
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "internalError", "count": 10})).await;
    create(&env.client, &env.namespace, "stubborn", spec("10.62.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "stubborn", "True", "Created").await;
    let creates = sim.calls().await.get(crate::support::backend::create()).copied().unwrap_or(0);
    assert!(creates >= 11, "10 failures and a success need at least 11 calls, saw {creates}");
    let n = sim.routes(TEST_TABLE).await.iter().filter(|r| r.0 == "10.62.0.0/16").count();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_permanent_error_is_held_for_its_period_and_then_tried_exactly_once_more() {
    // Fast retries (100 ms base): a hot loop would make several calls within the quiet window.
    let (env, sim, _op) = setup("ctl-quiet", WORLD, &["--permanent-retry-seconds", "8"]).await;
    let mut s = spec("10.63.0.0/16");
    s.next_hub = "vpngw-nosuch02".into();
    create(&env.client, &env.namespace, "wrong-hub", s).await;
    wait_reason(&env.client, &env.namespace, "wrong-hub", "False", "InvalidRouteNextHub").await;
    let api = crate::support::routes::api(&env.client, &env.namespace);
    let creates = || async { sim.calls().await.get(crate::support::backend::create()).copied().unwrap_or(0) };
    let first = creates().await;
    let version = api.get("wrong-hub").await.map(|o| o.metadata.resource_version).unwrap_or_default();
    // Events are published off the reconcile path: wait for it, then it must stay the only one.
    crate::support::cluster::wait_for("one Warning event for the failure", Duration::from_secs(15), || async {
        (warning_events(&env, "InvalidRouteNextHub").await == 1).then_some(())
    })
    .await;
    let quiet = Duration::from_secs(4);
    tokio::time::sleep(quiet).await; // an observation window: nothing may happen in it
    assert_eq!(creates().await, first, "the cloud was called again within {quiet:?} of a permanent error");
    let version_now = api.get("wrong-hub").await.map(|o| o.metadata.resource_version).unwrap_or_default();
    assert_eq!(version, version_now, "the resource was rewritten while nothing changed");
    crate::support::cluster::wait_for("the retry after the 8 s hold", Duration::from_secs(30), || async {
        (creates().await > first).then_some(())
    })
    .await;
    assert_eq!(creates().await, first + 1, "exactly one retry after the hold");
    assert_eq!(warning_events(&env, "InvalidRouteNextHub").await, 1, "the Warning must not repeat");
}

#[tokio::test]
async fn a_wrong_secret_key_is_an_auth_failure() {
    let (env, _sim, _op) = setup("ctl-auth", WORLD, &[]).await;
    create_secret(&env.client, &env.namespace, "bad-creds", crate::support::sim::TEST_SECRET_ID, "not-the-key").await;
    let mut s = spec("10.64.0.0/16");
    s.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "bad-creds".into() });
    create(&env.client, &env.namespace, "denied", s).await;
    let c = wait_reason(&env.client, &env.namespace, "denied", "False", "AuthFailure").await;
    assert!(c.message.contains(crate::support::backend::code_for("AuthFailure")), "{}", c.message);
    assert!(!c.message.contains("not-the-key"), "secret leaked into the condition: {}", c.message);
}

#[tokio::test]
async fn a_missing_secret_is_reported_and_the_route_follows_once_it_appears() {
    let (env, sim, _op) = setup("ctl-nocreds", WORLD, &[]).await;
    let mut s = spec("10.65.0.0/16");
    s.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "later".into() });
    create(&env.client, &env.namespace, "waiting", s).await;
    let c = wait_reason(&env.client, &env.namespace, "waiting", "False", "CredentialsNotFound").await;
    assert!(c.message.contains("later"), "{}", c.message);
    assert_eq!(sim.calls().await.get(crate::support::backend::create()).copied().unwrap_or(0), 0);
    create_secret(
        &env.client,
        &env.namespace,
        "later",
        crate::support::sim::TEST_SECRET_ID,
        crate::support::sim::TEST_SECRET_KEY,
    )
    .await;
    wait_reason(&env.client, &env.namespace, "waiting", "True", "Created").await;
}

#[tokio::test]
async fn a_slow_create_shows_creating_while_the_call_is_in_flight() {
    let (env, _sim, _op) = setup("ctl-creating", WORLD, &[]).await;
    // Creating is shown once a create has taken 5 s (one answered sooner costs no status write).
    _sim.fault(json!({"action": crate::support::backend::create(), "kind": "latency", "latencyMs": 8000, "count": 1}))
        .await;
    create(&env.client, &env.namespace, "slowpoke", spec("10.66.0.0/16")).await;
    let c = wait_reason(&env.client, &env.namespace, "slowpoke", "False", "Creating").await;
    assert!(c.message.contains("10.66.0.0/16"), "{}", c.message);
    wait_reason(&env.client, &env.namespace, "slowpoke", "True", "Created").await;
}

#[tokio::test]
async fn resources_in_two_namespaces_reach_two_accounts_through_their_secrets() {
    let a = test_env("ctl-acct-a").await;
    let b = test_env("ctl-acct-b").await;
    install_crds(&a.client).await;
    let sim = Sim::start(WORLD);
    let selector = format!("vpcroute.test/shard={}", a.namespace);
    let mut args: Vec<String> = vec!["run".into(), "--selector".into(), selector.clone()];
    args.extend(crate::support::operator::common_args(&sim));
    let _op = Operator::start_with(&a, args, &a.namespace);
    create_secret(
        &a.client,
        &a.namespace,
        "acct",
        crate::support::sim::TEST_SECRET_ID,
        crate::support::sim::TEST_SECRET_KEY,
    )
    .await;
    create_secret(&b.client, &b.namespace, "acct", OTHER_SECRET_ID, OTHER_SECRET_KEY).await;
    let label = json!({"metadata": {"labels": {"vpcroute.test/shard": a.namespace}}});
    let mut sa = spec("10.70.0.0/16");
    sa.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "acct".into() });
    let mut sb = spec("10.70.0.0/16");
    sb.vpc_id = "vpc-2ndacct1".into();
    sb.route_table_id = "rtb-2ndacct1".into();
    sb.next_hub = "vpngw-2ndacct1".into();
    sb.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "acct".into() });
    for (env, s) in [(&a, sa), (&b, sb)] {
        let mut obj = vpcroute_operator::crd::VpcRoute::new("r", s);
        obj.metadata.labels = serde_json::from_value(label["metadata"]["labels"].clone()).ok();
        crate::support::routes::api(&env.client, &env.namespace).create(&PostParams::default(), &obj).await.unwrap();
    }
    wait_reason(&a.client, &a.namespace, "r", "True", "Created").await;
    wait_reason(&b.client, &b.namespace, "r", "True", "Created").await;
    assert!(sim.routes(TEST_TABLE).await.iter().any(|r| r.0 == "10.70.0.0/16"));
    assert!(sim.routes("rtb-2ndacct1").await.iter().any(|r| r.0 == "10.70.0.0/16" && r.2 == "vpngw-2ndacct1"));
}

#[tokio::test]
async fn a_resource_with_a_253_character_name_gets_its_events() {
    let (env, _sim, _op) = setup("ctl-longname", WORLD, &[]).await;
    let name = format!("long-{}", "n".repeat(248));
    assert_eq!(name.len(), 253);
    create(&env.client, &env.namespace, &name, spec("10.65.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, &name, "True", "Created").await;
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(env.client.clone(), &env.namespace);
    let created = support_wait_event(&api, &name, "Created").await;
    assert!(created.metadata.name.unwrap_or_default().len() <= 253);
}

async fn support_wait_event(
    api: &Api<k8s_openapi::api::events::v1::Event>,
    object: &str,
    reason: &str,
) -> k8s_openapi::api::events::v1::Event {
    crate::support::cluster::wait_for(&format!("a {reason} Event for {object}"), Duration::from_secs(30), || async {
        let list = api.list(&Default::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.reason.as_deref() == Some(reason) && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(object)
        })
    })
    .await
}

#[tokio::test]
async fn control_characters_from_a_secret_never_reach_the_cloud_the_condition_or_the_events() {
    let (env, sim, _op) = setup("ctl-crlf", WORLD, &[]).await;
    let hostile = "AKID\r\n&Action=DeleteRoutes\u{1b}[31m";
    create_secret(&env.client, &env.namespace, "hostile", hostile, "k").await;
    let mut s = spec("10.66.0.0/16");
    s.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "hostile".into() });
    create(&env.client, &env.namespace, "h", s).await;
    // Credentials travel in query strings and headers: such a value never reaches the cloud.
    let c = wait_reason(&env.client, &env.namespace, "h", "False", "InvalidCredentials").await;
    assert!(!c.message.chars().any(char::is_control), "raw control characters: {:?}", c.message);
    assert!(c.message.contains("key secretId holds characters"), "{}", c.message);
    let api: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(env.client.clone(), &env.namespace);
    let warning = support_wait_event(&api, "h", "InvalidCredentials").await;
    let note = warning.note.unwrap_or_default();
    assert!(!note.is_empty() && !note.chars().any(char::is_control), "{note:?}");
    let writes = sim.calls().await.get(crate::support::backend::create()).copied().unwrap_or(0);
    assert_eq!(writes, 0, "nothing was sent with such credentials");
}

#[tokio::test]
async fn a_route_in_place_stays_ready_when_a_drift_check_read_fails_and_synced_says_so() {
    let (env, sim, _op) = setup("ctl-synced", WORLD, &["--resync-seconds", "2"]).await;
    create(&env.client, &env.namespace, "s", spec("10.67.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "s", "True", "Created").await;
    let describe = crate::support::backend::describe();
    sim.fault(json!({"action": describe, "kind": "internalError", "probability": 1.0})).await;
    let synced = || async {
        let obj = crate::support::routes::api(&env.client, &env.namespace).get("s").await.ok()?;
        obj.status?.conditions.into_iter().find(|c| c.type_ == "Synced")
    };
    let failed = crate::support::cluster::wait_for("Synced=False", Duration::from_secs(30), || async {
        synced().await.filter(|c| c.status == "False")
    })
    .await;
    assert_eq!(failed.reason, "ReconcileError");
    assert!(failed.message.contains(describe) && failed.message.contains("InternalError"), "{}", failed.message);
    let ready = crate::support::routes::ready(&env.client, &env.namespace, "s").await.unwrap();
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("True", "Created"), "a healthy route stays Ready");
    sim.clear_faults().await;
    crate::support::cluster::wait_for("Synced=True again", Duration::from_secs(30), || async {
        synced().await.filter(|c| c.status == "True")
    })
    .await;
}

#[tokio::test]
async fn fixing_a_credentials_secret_reconciles_its_users_at_once_instead_of_after_the_long_hold() {
    let (env, _sim, _op) = setup("ctl-rotate", WORLD, &["--secret-poll-seconds", "1"]).await;
    create_secret(&env.client, &env.namespace, "team", crate::support::sim::TEST_SECRET_ID, "not-the-key").await;
    let mut s = spec("10.68.0.0/16");
    s.credentials_secret_ref = Some(vpcroute_operator::crd::SecretRef { name: "team".into() });
    create(&env.client, &env.namespace, "r", s).await;
    wait_reason(&env.client, &env.namespace, "r", "False", "AuthFailure").await;
    let fixed = json!({"stringData": {"secretKey": crate::support::sim::TEST_SECRET_KEY}});
    Api::<Secret>::namespaced(env.client.clone(), &env.namespace)
        .patch("team", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&fixed))
        .await
        .unwrap();
    // The permanent-error hold is 15 minutes; the rotation brings it back within seconds.
    let c = crate::support::routes::wait_reason_within(
        &env.client,
        &env.namespace,
        "r",
        "True",
        "Created",
        Duration::from_secs(30),
    )
    .await;
    assert!(c.message.contains("in place"), "{}", c.message);
}
