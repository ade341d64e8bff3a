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
