//! Writes that land after the operator's client gave up on them (`--request-timeout-seconds`),
//! one route at a time: a hop change that lands late, then a delete; and the two operator bugs
//! the reliability runs found, which came from one habit: a create whose answer never came was
//! settled by one read of the table, while the cloud could still apply it (now the pending
//! record stays for `--write-landing-seconds`):
//! - the soak: a resource deleted in that window was released, and its route landed afterwards
//!   and stayed (an orphan);
//! - R2 at 1000 routes (3 of 500 live routes): when the retry failed with another error, the
//!   late route was later found and `Adopted`, though this resource made it;
//! - R2 in CI: a retried create still queued in the cloud when the first attempt's route was
//!   found; the resource's delete removed the route and let the retry land (now a create found
//!   in the table keeps its record until the window ends, and the delete waits).

use std::time::Duration;

use serde_json::json;

use super::{Fleet, delete_each, destination};
use crate::support::backend;
use crate::support::cluster::{TestEnv, install_crds, test_env, wait_for};
use crate::support::ledger::{Desired, verify};
use crate::support::operator::Operator;
use crate::support::routes::{ready, wait_gone, wait_reason};
use crate::support::sim::Sim;

/// One route in one table, resource `r0`, created; the operator's client gives up after 2 s and
/// retries after `retry_ms`. With `slow_create` the first create lands after 3 s.
async fn one_route(prefix: &str, retry_ms: &str, slow_create: bool) -> (Fleet, TestEnv, Sim, Operator) {
    let fleet = Fleet::new(1, 1);
    let env = test_env(prefix).await;
    install_crds(&env.client).await;
    let sim = Sim::start(&fleet.world());
    if slow_create {
        sim.fault(json!({"action": backend::create(), "kind": "latency", "latencyMs": 3000, "count": 1})).await;
    }
    let flags = ["--request-timeout-seconds", "2", "--retry-base-ms", retry_ms, "--retry-max-seconds", "5"];
    let op = Operator::start(&env, &sim, &flags);
    fleet.create(&env, 0..1).await;
    (fleet, env, sim, op)
}

#[tokio::test]
async fn a_create_that_lands_after_its_resource_was_deleted_is_not_left_behind() {
    let (fleet, env, sim, _op) = one_route("late-orphan", "5000", true).await;
    wait_reason(&env.client, &env.namespace, "r0", "False", "CloudUnavailable").await;
    delete_each(&env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    wait_for("the late create to land", Duration::from_secs(10), || async {
        sim.ledger(0).await.into_iter().find(|e| e.hop.destination_cidr_block == destination(0))
    })
    .await;
    let desired = Desired { deleted: [fleet.key(0)].into(), ..Desired::default() };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    assert!(findings.is_clean(), "{findings}\n{}", findings.details());
}

#[tokio::test]
async fn a_timed_out_create_that_lands_after_a_failed_retry_is_owned_as_created_not_adopted() {
    // The retry at about 2.7 s fails with InternalError; the next, at about 4 s, finds the route.
    let (_fleet, env, sim, _op) = one_route("late-adopted", "700", true).await;
    wait_for("the first create", Duration::from_secs(30), || async {
        sim.calls().await.get(backend::create()).is_some_and(|n| *n >= 1).then_some(())
    })
    .await;
    sim.fault(json!({"action": backend::create(), "kind": "internalError", "count": 1})).await;
    let up = wait_for("r0 to be Ready=True", Duration::from_secs(30), || async {
        ready(&env.client, &env.namespace, "r0").await.filter(|c| c.status == "True")
    })
    .await;
    assert_eq!(up.reason, "Created", "{} (calls {:?})", up.message, sim.calls().await);
}

#[tokio::test]
async fn a_hop_change_that_lands_after_a_failed_retry_is_deleted_with_its_resource() {
    let (fleet, env, sim, _op) = one_route("late-replace", "700", false).await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    // The hop change lands after 3 s; the client gives up after 2 s; the retry at about 2.7 s
    // fails with InternalError; the resource is deleted once the change has landed.
    let (replace, before) = (backend::replace(), sim.calls().await.get(backend::replace()).copied().unwrap_or(0));
    sim.fault(json!({"action": replace, "kind": "latency", "latencyMs": 3000, "count": 1})).await;
    let hop = json!({"nextType": "NatGateway", "nextHub": crate::support::sim::TEST_NAT});
    crate::support::routes::patch_spec(&env.client, &env.namespace, "r0", hop).await;
    wait_for("the hop change to be sent", Duration::from_secs(30), || async {
        sim.calls().await.get(replace).is_some_and(|n| *n > before).then_some(())
    })
    .await;
    sim.fault(json!({"action": replace, "kind": "internalError", "count": 1})).await;
    let written = sim.ledger(0).await.len();
    wait_for("the hop change to land", Duration::from_secs(10), || async {
        (sim.ledger(0).await.len() > written).then_some(())
    })
    .await;
    delete_each(&env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    let desired = Desired { deleted: [fleet.key(0)].into(), ..Desired::default() };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    assert!(findings.is_clean(), "{findings}\n{}", findings.details());
}

#[tokio::test]
async fn a_retried_create_still_on_its_way_when_the_first_landed_is_not_let_in_by_the_delete() {
    // Found by R2 in CI: both attempts of a create are slow; the first lands and is found, the
    // resource is deleted at once, and the second, queued in the cloud all along, landed once the
    // delete had removed the route (an orphan). The delete now waits out the landing window.
    let fleet = Fleet::new(1, 1);
    let env = test_env("late-retry").await;
    install_crds(&env.client).await;
    let sim = Sim::start(&fleet.world());
    let create = backend::create();
    sim.fault(json!({"action": create, "kind": "latency", "latencyMs": 3000, "count": 2})).await;
    let flags = ["--request-timeout-seconds", "2", "--retry-base-ms", "100", "--write-landing-seconds", "8"];
    let _op = Operator::start(&env, &sim, &flags);
    fleet.create(&env, 0..1).await;
    let second_sent = wait_for("the retried create", Duration::from_secs(30), || async {
        sim.calls().await.get(create).is_some_and(|n| *n >= 2).then(tokio::time::Instant::now)
    })
    .await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    delete_each(&env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    // The emulator applies (or refuses) the second create 3 s after it arrived.
    tokio::time::sleep_until(second_sent + Duration::from_millis(3500)).await;
    let desired = Desired { deleted: [fleet.key(0)].into(), ..Desired::default() };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    assert!(findings.is_clean(), "{findings}\n{}", findings.details());
}
