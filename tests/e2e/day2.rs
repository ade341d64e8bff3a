//! Day-2 controls (issue 13) against the real API server, vpc-sim and the operator: the pause
//! annotation and `managementPolicy: ObserveOnly`.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::support::backend;
use crate::support::cluster::wait_for;
use crate::support::operator::setup;
use crate::support::routes::{api, create, delete, patch_spec, spec, wait_gone, wait_reason};
use crate::support::sim::{Sim, TEST_NAT, TEST_REGION, TEST_SECRET_ID, TEST_TABLE, WORLD};

async fn writes(sim: &Sim) -> u64 {
    let calls = sim.calls().await;
    [backend::create(), backend::delete(), backend::replace()].iter().map(|a| calls.get(*a).copied().unwrap_or(0)).sum()
}

async fn synced(client: &kube::Client, ns: &str, name: &str) -> Option<(String, String)> {
    let obj = api(client, ns).get(name).await.ok()?;
    let c = obj.status?.conditions.into_iter().find(|c| c.type_ == "Synced")?;
    Some((c.status, c.reason))
}

async fn set_paused(client: &kube::Client, ns: &str, name: &str, paused: Option<&str>) {
    let patch = json!({"metadata": {"annotations": {"vpc.qcloud.dev/paused": paused}}});
    api(client, ns).patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
}

#[tokio::test]
async fn a_paused_resource_makes_no_cloud_call_until_the_annotation_goes_and_its_deletion_waits() {
    let (env, sim, _op) = setup("d2-pause", WORLD, &[]).await;
    let (client, ns) = (&env.client, &env.namespace);
    let mut obj = vpcroute_operator::crd::VpcRoute::new("p", spec("10.130.0.0/16"));
    obj.metadata.annotations = Some([("vpc.qcloud.dev/paused".to_string(), "true".to_string())].into());
    api(client, ns).create(&Default::default(), &obj).await.unwrap();
    let c = wait_reason(client, ns, "p", "False", "Paused").await;
    assert!(c.message.contains("vpc.qcloud.dev/paused"), "{}", c.message);
    assert_eq!(synced(client, ns, "p").await, Some(("False".into(), "ReconcilePaused".into())));
    assert_eq!(writes(&sim).await, 0, "a paused resource is not created");
    set_paused(client, ns, "p", None).await;
    wait_reason(client, ns, "p", "True", "Created").await;
    assert_eq!(synced(client, ns, "p").await, Some(("True".into(), "ReconcileSuccess".into())));

    set_paused(client, ns, "p", Some("true")).await;
    wait_for("Synced to say paused", Duration::from_secs(30), || async {
        (synced(client, ns, "p").await == Some(("False".into(), "ReconcilePaused".into()))).then_some(())
    })
    .await;
    let before = writes(&sim).await;
    delete(client, ns, "p").await;
    tokio::time::sleep(Duration::from_secs(3)).await; // an observation window: nothing may happen in it
    let still = api(client, ns).get("p").await.unwrap();
    assert!(still.metadata.deletion_timestamp.is_some(), "the deletion is pending");
    assert_eq!(writes(&sim).await, before, "no delete while paused");
    assert!(sim.route(TEST_TABLE, "10.130.0.0/16").await.is_some());
    set_paused(client, ns, "p", None).await;
    wait_gone(client, ns, "p").await;
    assert!(sim.route(TEST_TABLE, "10.130.0.0/16").await.is_none(), "unpaused, the deletion went ahead");
}

async fn put_by_hand(sim: &Sim, dest: &str, next_type: u32, hub: &str) {
    sim.edit(json!({"op": "put", "secretId": TEST_SECRET_ID, "region": TEST_REGION, "routeTableId": TEST_TABLE,
                    "destinationCidrBlock": dest, "nextType": next_type, "nextHub": hub}))
        .await;
}

#[tokio::test]
async fn observe_only_reports_missing_differing_and_matching_routes_without_writing_then_full_adopts() {
    let (env, sim, _op) = setup("d2-observe", WORLD, &["--resync-seconds", "2"]).await;
    let (client, ns) = (&env.client, &env.namespace);
    let mut s = spec("10.131.0.0/16");
    s.management_policy = vpcroute_operator::crd::ManagementPolicy::ObserveOnly;
    create(client, ns, "o", s).await;
    let c = wait_reason(client, ns, "o", "False", "RouteMissing").await;
    assert!(c.message.contains("observe only: not created"), "{}", c.message);
    put_by_hand(&sim, "10.131.0.0/16", 8, TEST_NAT).await;
    let c = wait_reason(client, ns, "o", "False", "RouteDiffers").await;
    assert!(c.message.contains(TEST_NAT) && c.message.contains("left as it is"), "{}", c.message);
    put_by_hand(&sim, "10.131.0.0/16", 1, crate::support::sim::TEST_VPN).await;
    wait_reason(client, ns, "o", "True", "Observed").await;
    assert_eq!(writes(&sim).await, 0, "observe only never writes");

    patch_spec(client, ns, "o", json!({"managementPolicy": "Full"})).await;
    wait_reason(client, ns, "o", "True", "Adopted").await;
    patch_spec(client, ns, "o", json!({"managementPolicy": "ObserveOnly"})).await;
    wait_reason(client, ns, "o", "True", "Observed").await;
    delete(client, ns, "o").await;
    wait_gone(client, ns, "o").await;
    assert!(sim.route(TEST_TABLE, "10.131.0.0/16").await.is_some(), "deleting an observer never deletes the route");
    assert_eq!(writes(&sim).await, 0);
}

#[tokio::test]
async fn the_operator_runs_on_tke_pod_identity_with_short_lived_keys_that_it_refreshes() {
    use crate::support::operator::{FAST_RETRY, Operator, common_args};
    let env = crate::support::cluster::test_env("d2-oidc").await;
    crate::support::cluster::install_crds(&env.client).await;
    let world = format!(
        "{WORLD}\noidc: {{providerId: tke-demo, roleArn: \"qcs::cam::uin/1:roleName/vpcroute\", token: projected-token, \
         account: {TEST_SECRET_ID}, durationSeconds: 3}}\n"
    );
    let sim = Sim::start(&world);
    let token_file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tke-token-{}", env.namespace));
    std::fs::write(&token_file, "projected-token").unwrap();
    let mut args: Vec<String> = vec!["run".into(), "--watch-namespace".into(), env.namespace.clone()];
    args.extend(common_args(&sim));
    args.extend(FAST_RETRY.iter().map(|s| s.to_string()));
    args.extend(["--sts-endpoint".to_string(), format!("{}/", sim.base)]);
    let token_path = token_file.display().to_string();
    let _op = Operator::start_with_env(&env, args, &env.namespace, |vars| {
        vars.retain(|(k, _)| !k.starts_with("TENCENTCLOUD_"));
        vars.extend([
            ("TKE_REGION".to_string(), TEST_REGION.to_string()),
            ("TKE_PROVIDER_ID".to_string(), "tke-demo".to_string()),
            ("TKE_WEB_IDENTITY_TOKEN_FILE".to_string(), token_path),
            ("TKE_ROLE_ARN".to_string(), "qcs::cam::uin/1:roleName/vpcroute".to_string()),
        ]);
    });
    let (client, ns) = (&env.client, &env.namespace);
    create(client, ns, "first", spec("10.132.0.0/16")).await;
    wait_reason(client, ns, "first", "True", "Created").await;
    let first_exchanges = sim.calls().await.get("AssumeRoleWithWebIdentity").copied().unwrap_or(0);
    assert!(first_exchanges >= 1, "the keys came from STS");
    // The keys live 3 s: a create after they expired works only if they were refreshed.
    tokio::time::sleep(Duration::from_secs(4)).await; // past the first keys' ExpiredTime
    create(client, ns, "second", spec("10.132.1.0/24")).await;
    wait_reason(client, ns, "second", "True", "Created").await;
    let exchanges = sim.calls().await.get("AssumeRoleWithWebIdentity").copied().unwrap_or(0);
    assert!(exchanges >= 2, "the keys were refreshed through STS ({exchanges} exchanges)");
    assert!(sim.route(TEST_TABLE, "10.132.1.0/24").await.is_some());
}
