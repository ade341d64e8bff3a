//! The route lifecycle (issue 5) against the real API server, `vpc-sim` and the operator binary:
//! delete, orphan, change, drift, adoption, conflicts between resources, and lost responses.

use std::time::Duration;

use crate::support::cluster::{TestEnv, wait_for};
use crate::support::operator::setup;
use crate::support::routes::{SETTLE, api, create, delete, patch_spec, spec, wait_gone, wait_reason};
use crate::support::sim::{Sim, TEST_NAT, TEST_REGION, TEST_SECRET_ID, TEST_TABLE, TEST_VPN, WORLD};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;

async fn setup_lc(prefix: &str, extra: &[&str]) -> (TestEnv, Sim, crate::support::operator::Operator) {
    setup(prefix, WORLD, extra).await
}

fn hop(sim_routes: &[(String, u32, String)], dest: &str) -> Option<(u32, String)> {
    sim_routes.iter().find(|r| r.0 == dest).map(|r| (r.1, r.2.clone()))
}

async fn calls(sim: &Sim, action: &str) -> u64 {
    sim.calls().await.get(action).copied().unwrap_or(0)
}

async fn sim_edit(sim: &Sim, op: &str, dest: &str, next_type: u32, hub: &str) {
    sim.edit(json!({"op": op, "secretId": TEST_SECRET_ID, "region": TEST_REGION, "routeTableId": TEST_TABLE,
                    "destinationCidrBlock": dest, "nextType": next_type, "nextHub": hub}))
        .await;
}

async fn events_with_reason(env: &TestEnv, reason: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(env.client.clone(), &env.namespace);
    let list = api.list(&ListParams::default()).await.expect("listing events");
    list.items.into_iter().filter(|e| e.reason.as_deref() == Some(reason)).collect()
}

#[tokio::test]
async fn deleting_a_resource_deletes_the_route_it_owns() {
    let (env, sim, _op) = setup_lc("lc-delete", &[]).await;
    create(&env.client, &env.namespace, "r", spec("10.100.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "r", "True", "Created").await;
    let obj = api(&env.client, &env.namespace).get("r").await.unwrap();
    assert!(obj.metadata.finalizers.unwrap_or_default().contains(&"vpc.qcloud.dev/route".to_string()));
    delete(&env.client, &env.namespace, "r").await;
    wait_gone(&env.client, &env.namespace, "r").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.100.0.0/16"), None);
    assert!(!events_with_reason(&env, "Deleted").await.is_empty(), "a Deleted event is expected");
}

#[tokio::test]
async fn orphan_policy_leaves_the_route_in_the_table() {
    let (env, sim, _op) = setup_lc("lc-orphan", &[]).await;
    let mut s = spec("10.101.0.0/16");
    s.deletion_policy = vpcroute_operator::crd::DeletionPolicy::Orphan;
    create(&env.client, &env.namespace, "keep", s).await;
    wait_reason(&env.client, &env.namespace, "keep", "True", "Created").await;
    delete(&env.client, &env.namespace, "keep").await;
    wait_gone(&env.client, &env.namespace, "keep").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.101.0.0/16"), Some((1, TEST_VPN.to_string())));
    assert_eq!(calls(&sim, crate::support::backend::delete()).await, 0);
}

#[tokio::test]
async fn a_resource_that_never_created_its_route_is_released_without_cloud_calls() {
    let (env, sim, _op) = setup_lc("lc-never", &[]).await;
    let mut s = spec("10.102.0.0/16");
    s.next_hub = "vpngw-nosuch03".into();
    create(&env.client, &env.namespace, "bad", s).await;
    wait_reason(&env.client, &env.namespace, "bad", "False", "InvalidRouteNextHub").await;
    let before = sim.calls().await;
    delete(&env.client, &env.namespace, "bad").await;
    wait_gone(&env.client, &env.namespace, "bad").await;
    assert_eq!(sim.calls().await, before, "releasing must not call the cloud");
}

#[tokio::test]
async fn deleting_every_resource_in_a_namespace_cleans_up_every_route() {
    // What the namespace controller does when a namespace is deleted: delete every VpcRoute in it.
    let (env, sim, _op) = setup_lc("lc-ns", &[]).await;
    for i in 0..12 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.103.{i}.0/24"))).await;
    }
    for i in 0..12 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    let routes = api(&env.client, &env.namespace);
    routes.delete_collection(&DeleteParams::default(), &ListParams::default()).await.expect("delete collection");
    wait_for("every VpcRoute to be gone", SETTLE, || async {
        routes.list(&ListParams::default()).await.ok().filter(|l| l.items.is_empty()).map(|_| ())
    })
    .await;
    let left: Vec<_> = sim.routes(TEST_TABLE).await.into_iter().filter(|r| r.0.starts_with("10.103.")).collect();
    assert!(left.is_empty(), "routes left behind: {left:?}");
}

#[tokio::test]
async fn deleting_a_namespace_full_of_vpcroutes_deletes_every_route() {
    // The namespace itself is deleted: kube-controller-manager's namespace controller deletes
    // every VpcRoute in it, the operator (still running) removes each route and its finalizer,
    // and only then can the namespace go.
    let (env, sim, _op) = setup_lc("lc-ns-delete", &[]).await;
    for i in 0..12 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.114.{i}.0/24"))).await;
    }
    for i in 0..12 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    let ours = |routes: Vec<(String, u32, String)>| -> Vec<_> {
        routes.into_iter().filter(|r| r.0.starts_with("10.114.")).collect()
    };
    assert_eq!(ours(sim.routes(TEST_TABLE).await).len(), 12, "every route exists before the namespace is deleted");

    let namespaces = Api::<Namespace>::all(env.client.clone());
    namespaces
        .delete(&env.namespace, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("deleting namespace {}: {e}", env.namespace));
    wait_for(&format!("namespace {} to be gone", env.namespace), Duration::from_secs(90), || async {
        matches!(namespaces.get(&env.namespace).await, Err(kube::Error::Api(status)) if status.code == 404)
            .then_some(())
    })
    .await;
    let left = ours(sim.routes(TEST_TABLE).await);
    assert!(left.is_empty(), "routes left behind: {left:?}");
}

#[tokio::test]
async fn changing_the_next_hop_replaces_the_route() {
    let (env, sim, _op) = setup_lc("lc-change", &[]).await;
    create(&env.client, &env.namespace, "hop", spec("10.104.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "hop", "True", "Created").await;
    let before_item = sim.route(TEST_TABLE, "10.104.0.0/16").await.unwrap()["routeItemId"].as_str().map(str::to_owned);
    patch_spec(&env.client, &env.namespace, "hop", json!({"nextType": "NatGateway", "nextHub": TEST_NAT})).await;
    let c = wait_reason(&env.client, &env.namespace, "hop", "True", "Created").await;
    assert_eq!(c.observed_generation, Some(2));
    assert!(c.message.contains("replaced"), "{}", c.message);
    let routes = sim.routes(TEST_TABLE).await;
    assert_eq!(hop(&routes, "10.104.0.0/16"), Some((8, TEST_NAT.to_string())));
    assert_eq!(routes.iter().filter(|r| r.0 == "10.104.0.0/16").count(), 1);
    let after = sim.route(TEST_TABLE, "10.104.0.0/16").await.unwrap();
    let owned = api(&env.client, &env.namespace).get("hop").await.unwrap().status.unwrap().route.unwrap();
    if crate::support::backend::is_v3() {
        // In place: one ReplaceRoutes, no delete, the same cloud identity before and after.
        assert_eq!((calls(&sim, "ReplaceRoutes").await, calls(&sim, "DeleteRoutes").await), (1, 0));
        assert_eq!(owned.route_item_id.as_deref(), after["routeItemId"].as_str(), "status names the route");
        assert_eq!(before_item.as_deref(), after["routeItemId"].as_str(), "the RouteItemId is kept");
    } else {
        assert_eq!(calls(&sim, "DeleteRoute").await, 1, "2.0 has no modify: delete, then create");
        assert_eq!(owned.route_item_id, None, "2.0 has no route ids");
    }
}

#[tokio::test]
async fn a_route_deleted_by_hand_is_recreated_at_resync() {
    let (env, sim, _op) = setup_lc("lc-drift-del", &["--resync-seconds", "2"]).await;
    create(&env.client, &env.namespace, "d", spec("10.105.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "d", "True", "Created").await;
    sim_edit(&sim, "delete", "10.105.0.0/16", 1, TEST_VPN).await;
    wait_for("the deleted route to be recreated", SETTLE, || async {
        hop(&sim.routes(TEST_TABLE).await, "10.105.0.0/16").filter(|h| h.1 == TEST_VPN)
    })
    .await;
    let c = wait_reason(&env.client, &env.namespace, "d", "True", "Created").await;
    assert!(c.message.contains("drift corrected"), "{}", c.message);
    assert!(!events_with_reason(&env, "DriftCorrected").await.is_empty());
}

#[tokio::test]
async fn a_next_hop_changed_by_hand_is_restored_at_resync() {
    let (env, sim, _op) = setup_lc("lc-drift-hop", &["--resync-seconds", "2"]).await;
    create(&env.client, &env.namespace, "d", spec("10.106.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "d", "True", "Created").await;
    sim_edit(&sim, "put", "10.106.0.0/16", 8, TEST_NAT).await;
    wait_for("the next hop to be restored", SETTLE, || async {
        hop(&sim.routes(TEST_TABLE).await, "10.106.0.0/16").filter(|h| h.1 == TEST_VPN)
    })
    .await;
    let c = wait_reason(&env.client, &env.namespace, "d", "True", "Created").await;
    assert!(c.message.contains("drift corrected") && c.message.contains(TEST_NAT), "{}", c.message);
    if crate::support::backend::is_v3() {
        assert_eq!(calls(&sim, "DeleteRoutes").await, 0, "3.0 restores the hop in place");
        assert_eq!(calls(&sim, "ReplaceRoutes").await, 1);
    }
}

#[tokio::test]
async fn resync_reads_each_table_once_and_sees_no_false_drift_from_normalisation() {
    let (env, sim, _op) = setup_lc("lc-resync", &["--resync-seconds", "3"]).await;
    for i in 0..10 {
        // Host bits set: the cloud stores 10.107.i.0/24, which must not look like drift.
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.107.{i}.9/24"))).await;
    }
    for i in 0..10 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    let before = sim.calls().await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    let after = sim.calls().await;
    let delta = |a: &str| after.get(a).copied().unwrap_or(0) - before.get(a).copied().unwrap_or(0);
    assert_eq!(delta(crate::support::backend::create()), 0, "no route may be recreated");
    assert_eq!(delta(crate::support::backend::delete()), 0, "no route may be deleted");
    let describes = delta(crate::support::backend::describe());
    assert!((2..=7).contains(&describes), "12 s at a 3 s resync over one table should take ~4 reads, saw {describes}");
}

#[tokio::test]
async fn an_identical_existing_route_is_adopted_and_then_owned() {
    let (env, sim, _op) = setup_lc("lc-adopt", &[]).await;
    sim_edit(&sim, "put", "10.108.0.0/16", 1, TEST_VPN).await;
    create(&env.client, &env.namespace, "a", spec("10.108.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "a", "True", "Adopted").await;
    delete(&env.client, &env.namespace, "a").await;
    wait_gone(&env.client, &env.namespace, "a").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.108.0.0/16"), None, "an adopted route is owned and deleted");
}

#[tokio::test]
async fn adoption_can_be_refused() {
    let (env, sim, _op) = setup_lc("lc-never-adopt", &[]).await;
    sim_edit(&sim, "put", "10.109.0.0/16", 1, TEST_VPN).await;
    let mut s = spec("10.109.0.0/16");
    s.adoption_policy = vpcroute_operator::crd::AdoptionPolicy::Never;
    create(&env.client, &env.namespace, "n", s).await;
    let c = wait_reason(&env.client, &env.namespace, "n", "False", "RouteAlreadyExists").await;
    assert!(c.message.contains("adoptionPolicy is Never"), "{}", c.message);
    delete(&env.client, &env.namespace, "n").await;
    wait_gone(&env.client, &env.namespace, "n").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.109.0.0/16"), Some((1, TEST_VPN.to_string())));
}

#[tokio::test]
async fn two_resources_for_one_destination_first_wins_and_the_loser_takes_over_later() {
    let (env, sim, _op) = setup_lc("lc-claims", &[]).await;
    let ns = &env.namespace;
    create(&env.client, ns, "first", spec("10.110.0.0/16")).await;
    wait_reason(&env.client, ns, "first", "True", "Created").await;
    let mut second = spec("10.110.0.0/16");
    second.next_type = vpcroute_operator::crd::NextTypeName::NatGateway;
    second.next_hub = TEST_NAT.into();
    create(&env.client, ns, "second", second).await;
    let c = wait_reason(&env.client, ns, "second", "False", "RouteAlreadyExists").await;
    assert!(c.message.contains(&format!("{ns}/first")), "{}", c.message);
    assert_eq!(calls(&sim, crate::support::backend::create()).await, 1, "the loser must not call the cloud");
    delete(&env.client, ns, "first").await;
    wait_gone(&env.client, ns, "first").await;
    wait_reason(&env.client, ns, "second", "True", "Created").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.110.0.0/16"), Some((8, TEST_NAT.to_string())));
}

#[tokio::test]
async fn deleting_the_loser_never_touches_the_winners_route() {
    let (env, sim, _op) = setup_lc("lc-loser", &[]).await;
    let ns = &env.namespace;
    create(&env.client, ns, "winner", spec("10.111.0.0/16")).await;
    wait_reason(&env.client, ns, "winner", "True", "Created").await;
    create(&env.client, ns, "loser", spec("10.111.0.0/16")).await;
    wait_reason(&env.client, ns, "loser", "False", "RouteAlreadyExists").await;
    delete(&env.client, ns, "loser").await;
    wait_gone(&env.client, ns, "loser").await;
    assert_eq!(calls(&sim, crate::support::backend::delete()).await, 0);
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.111.0.0/16"), Some((1, TEST_VPN.to_string())));
    wait_reason(&env.client, ns, "winner", "True", "Created").await;
}

#[tokio::test]
async fn a_short_region_alias_claims_the_same_route_and_never_adopts_it_from_its_holder() {
    let (env, sim, _op) = setup_lc("lc-alias", &[]).await;
    let ns = &env.namespace;
    let mut long = spec("10.117.0.0/16");
    long.region = Some("ap-guangzhou".into());
    create(&env.client, ns, "long", long).await;
    wait_reason(&env.client, ns, "long", "True", "Created").await;
    let mut short = spec("10.117.0.0/16");
    short.region = Some("gz".into());
    create(&env.client, ns, "short", short).await;
    let c = wait_reason(&env.client, ns, "short", "False", "RouteAlreadyExists").await;
    assert!(c.message.contains(&format!("claimed by VpcRoute {ns}/long")), "{}", c.message);
    delete(&env.client, ns, "short").await;
    wait_gone(&env.client, ns, "short").await;
    assert_eq!(calls(&sim, crate::support::backend::delete()).await, 0);
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.117.0.0/16"), Some((1, TEST_VPN.to_string())));
    wait_reason(&env.client, ns, "long", "True", "Created").await;
}

#[tokio::test]
async fn lost_create_responses_end_with_each_route_once_and_every_resource_created() {
    let (env, sim, _op) = setup_lc("lc-lost", &[]).await;
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "responseLost", "count": 6})).await;
    for i in 0..8 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.112.{i}.0/24"))).await;
    }
    for i in 0..8 {
        // Created, not Adopted: the pending record proves the route is this resource's own.
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    let routes = sim.routes(TEST_TABLE).await;
    for i in 0..8 {
        let dest = format!("10.112.{i}.0/24");
        assert_eq!(routes.iter().filter(|r| r.0 == dest).count(), 1, "{dest} in {routes:?}");
    }
}

#[tokio::test]
async fn a_restarted_operator_verifies_every_route_with_one_read_and_writes_nothing() {
    let addr = format!("127.0.0.1:{}", crate::support::operator::free_port());
    let (env, sim, mut op) = setup_lc("lc-restart", &["--http-addr", &addr]).await;
    for i in 0..5 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.113.{i}.0/24"))).await;
    }
    for i in 0..5 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    let versions = |api: Api<vpcroute_operator::crd::VpcRoute>| async move {
        let list = api.list(&ListParams::default()).await.unwrap();
        list.items.into_iter().map(|o| o.metadata.resource_version.unwrap_or_default()).collect::<Vec<_>>()
    };
    let before = versions(api(&env.client, &env.namespace)).await;
    assert!(op.terminate(), "the operator must exit cleanly on SIGTERM:\n{}", op.log());
    sim.reset_calls().await;
    op.restart();
    wait_for("every resource to be reconciled by the restarted operator", SETTLE, || async {
        let text = crate::support::operator::scrape(&addr).await?;
        (crate::support::operator::metric_total(&text, "vpcroute_reconciles_total{result=\"ok\"") >= 5.0).then_some(())
    })
    .await;
    let calls = sim.calls().await;
    let count = |a: &str| calls.get(a).copied().unwrap_or(0);
    assert_eq!(
        (count(crate::support::backend::create()), count(crate::support::backend::delete())),
        (0, 0),
        "no cloud write after a restart: {calls:?}"
    );
    assert_eq!(count(crate::support::backend::describe()), 1, "one read of the one table verifies all five: {calls:?}");
    assert_eq!(versions(api(&env.client, &env.namespace)).await, before, "no status write after a restart");
}

#[tokio::test]
async fn a_route_whose_hop_was_changed_by_hand_is_not_deleted_with_its_resource() {
    let (env, sim, _op) = setup_lc("lc-not-ours", &[]).await;
    create(&env.client, &env.namespace, "d", spec("10.115.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "d", "True", "Created").await;
    sim_edit(&sim, "put", "10.115.0.0/16", 8, TEST_NAT).await;
    delete(&env.client, &env.namespace, "d").await;
    wait_gone(&env.client, &env.namespace, "d").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, "10.115.0.0/16"), Some((8, TEST_NAT.to_string())));
    assert_eq!(calls(&sim, crate::support::backend::delete()).await, 0, "someone else's hop is never deleted");
    let warnings = events_with_reason(&env, "Orphaned").await;
    let note = warnings.first().and_then(|e| e.note.clone()).unwrap_or_default();
    assert!(note.contains("not deleting") && note.contains(TEST_NAT), "{note}");
}

#[tokio::test]
async fn description_and_enabled_are_set_in_place_on_3_0_and_refused_or_noted_on_2_0() {
    let (env, sim, _op) = setup_lc("lc-attrs", &[]).await;
    let mut s = spec("10.116.0.0/16");
    s.description = Some("office uplink".into());
    s.enabled = Some(false);
    create(&env.client, &env.namespace, "a", s).await;
    let mut noted = spec("10.116.1.0/24");
    noted.description = Some("only on 3.0".into());
    create(&env.client, &env.namespace, "b", noted).await;
    if !crate::support::backend::is_v3() {
        let c = wait_reason(&env.client, &env.namespace, "a", "False", "InvalidSpec").await;
        assert!(c.message.contains("spec.enabled: false needs API 3.0"), "{}", c.message);
        let c = wait_reason(&env.client, &env.namespace, "b", "True", "Created").await;
        assert!(c.message.contains("spec.description is not applied"), "{}", c.message);
        assert!(sim.route(TEST_TABLE, "10.116.0.0/16").await.is_none(), "nothing created for enabled: false");
        return;
    }
    wait_reason(&env.client, &env.namespace, "a", "True", "Created").await;
    let route = sim.route(TEST_TABLE, "10.116.0.0/16").await.unwrap();
    assert_eq!((route["description"].as_str(), route["enabled"].as_bool()), (Some("office uplink"), Some(false)));
    assert_eq!(calls(&sim, "DisableRoutes").await, 0, "created disabled in one CreateRoutes");
    patch_spec(&env.client, &env.namespace, "a", json!({"enabled": true, "description": "new text"})).await;
    wait_for("the route to be enabled with the new description", SETTLE, || async {
        let r = sim.route(TEST_TABLE, "10.116.0.0/16").await?;
        (r["enabled"] == true && r["description"] == "new text").then_some(())
    })
    .await;
    let c = wait_reason(&env.client, &env.namespace, "a", "True", "Created").await;
    assert!(c.message.contains("enabled") && c.message.contains("new text"), "{}", c.message);
    assert_eq!((calls(&sim, "EnableRoutes").await, calls(&sim, "ReplaceRoutes").await), (1, 1));
    assert_eq!(route["routeItemId"], sim.route(TEST_TABLE, "10.116.0.0/16").await.unwrap()["routeItemId"]);
    assert!(!events_with_reason(&env, "Updated").await.is_empty());
    let b = wait_reason(&env.client, &env.namespace, "b", "True", "Created").await;
    assert!(!b.message.contains("not applied"), "{}", b.message);
}
