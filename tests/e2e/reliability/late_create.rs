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
//!   in the table keeps its record until the window ends, and the delete waits);
//! - the soak in CI, the other way round: the first attempt slow, the retry answered at once;
//!   the answer cleared the record, the delete removed the route and let the first attempt land
//!   (now an answered create, replace or late-found create keeps the record of an earlier
//!   attempt that may still land; on 2.0 the same for a hop change's create).

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
/// retries after `retry_ms`; a write whose answer never came may land for 10 s. With
/// `slow_creates: Some((latency_ms, count))` the first `count` creates land `latency_ms` late.
async fn one_route(prefix: &str, retry_ms: &str, slow_creates: Option<(u64, u64)>) -> (Fleet, TestEnv, Sim, Operator) {
    let fleet = Fleet::new(1, 1);
    let env = test_env(prefix).await;
    install_crds(&env.client).await;
    let sim = Sim::start(&fleet.world());
    if let Some((latency, count)) = slow_creates {
        sim.fault(json!({"action": backend::create(), "kind": "latency", "latencyMs": latency, "count": count})).await;
    }
    let flags = ["--request-timeout-seconds", "2", "--retry-base-ms", retry_ms, "--retry-max-seconds", "5"];
    let op = Operator::start(&env, &sim, &[&flags[..], &["--write-landing-seconds", "10"]].concat());
    fleet.create(&env, 0..1).await;
    (fleet, env, sim, op)
}

#[tokio::test]
async fn a_create_that_lands_after_its_resource_was_deleted_is_not_left_behind() {
    let (fleet, env, sim, _op) = one_route("late-orphan", "5000", Some((3000, 1))).await;
    wait_reason(&env.client, &env.namespace, "r0", "False", "CloudUnavailable").await;
    delete_each(&env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    wait_for("the late create to land", Duration::from_secs(10), || async {
        sim.ledger(0).await.into_iter().find(|e| e.hop.destination_cidr_block == destination(0))
    })
    .await;
    assert_deleted_and_gone(&sim, &fleet).await;
}

#[tokio::test]
async fn a_timed_out_create_that_lands_after_a_failed_retry_is_owned_as_created_not_adopted() {
    // The retry at about 2.7 s fails with InternalError; the next, at about 4 s, finds the route.
    let (_fleet, env, sim, _op) = one_route("late-adopted", "700", Some((3000, 1))).await;
    sent(&sim, backend::create(), 0).await;
    sim.fault(json!({"action": backend::create(), "kind": "internalError", "count": 1})).await;
    let up = wait_for("r0 to be Ready=True", Duration::from_secs(30), || async {
        ready(&env.client, &env.namespace, "r0").await.filter(|c| c.status == "True")
    })
    .await;
    assert_eq!(up.reason, "Created", "{} (calls {:?})", up.message, sim.calls().await);
}

#[tokio::test]
async fn a_hop_change_that_lands_after_a_failed_retry_is_deleted_with_its_resource() {
    let (fleet, env, sim, _op) = one_route("late-replace", "700", None).await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    // The hop change lands after 3 s; the client gives up after 2 s; the retry at about 2.7 s
    // fails with InternalError; the resource is deleted once the change has landed.
    let (replace, before) = (backend::replace(), sim.calls().await.get(backend::replace()).copied().unwrap_or(0));
    sim.fault(json!({"action": replace, "kind": "latency", "latencyMs": 3000, "count": 1})).await;
    let hop = json!({"nextType": "NatGateway", "nextHub": crate::support::sim::TEST_NAT});
    crate::support::routes::patch_spec(&env.client, &env.namespace, "r0", hop).await;
    sent(&sim, replace, before).await;
    sim.fault(json!({"action": replace, "kind": "internalError", "count": 1})).await;
    let written = sim.ledger(0).await.len();
    wait_for("the hop change to land", Duration::from_secs(10), || async {
        (sim.ledger(0).await.len() > written).then_some(())
    })
    .await;
    delete_each(&env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    assert_deleted_and_gone(&sim, &fleet).await;
}

/// The ledger shows route 0 deleted and nothing left behind.
async fn assert_deleted_and_gone(sim: &Sim, fleet: &Fleet) {
    let desired = Desired { deleted: [fleet.key(0)].into(), ..Desired::default() };
    let findings = verify(sim, &desired, &fleet.scope()).await;
    assert!(findings.is_clean(), "{findings}\n{}", findings.details());
}

/// When the emulator has received more than `before` calls of `action`.
async fn sent(sim: &Sim, action: &str, before: u64) -> tokio::time::Instant {
    wait_for(&format!("{action} call {}", before + 1), Duration::from_secs(30), || async {
        sim.calls().await.get(action).is_some_and(|n| *n > before).then(tokio::time::Instant::now)
    })
    .await
}

/// Deletes `r0` once it is Ready, waits until the slow write sent at `slow_sent` has been
/// applied (or refused) by the emulator, `latency` later, and checks the ledger.
async fn delete_then_check(fleet: &Fleet, env: &TestEnv, sim: &Sim, slow_sent: tokio::time::Instant, latency: u64) {
    delete_each(env, &[0]).await;
    wait_gone(&env.client, &env.namespace, "r0").await;
    tokio::time::sleep_until(slow_sent + Duration::from_millis(latency + 500)).await;
    assert_deleted_and_gone(sim, fleet).await;
}

#[tokio::test]
async fn a_retried_create_still_on_its_way_when_the_first_landed_is_not_let_in_by_the_delete() {
    // Found by R2 in CI: both attempts of a create are slow; the first lands and is found, the
    // resource is deleted at once, and the second, queued in the cloud all along, landed once the
    // delete had removed the route (an orphan). The delete now waits out the landing window.
    let (fleet, env, sim, _op) = one_route("late-retry", "100", Some((3000, 2))).await;
    let second_sent = sent(&sim, backend::create(), 1).await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    delete_then_check(&fleet, &env, &sim, second_sent, 3000).await;
}

#[tokio::test]
async fn a_retry_that_succeeds_while_the_first_create_is_still_on_its_way_is_not_let_in_by_the_delete() {
    // Found by the soak in CI: the first create is slow (its answer never comes), the retry is
    // answered at once; the resource is deleted at once, and the first, queued in the cloud all
    // along, landed once the delete had removed the route (an orphan). A successful retry now
    // keeps the earlier attempt's record, so the delete waits out its landing window.
    let (fleet, env, sim, _op) = one_route("late-first", "100", Some((5000, 1))).await;
    let first_sent = sent(&sim, backend::create(), 0).await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    assert!(first_sent.elapsed() < Duration::from_millis(4500), "the retry was not answered before the first landed");
    delete_then_check(&fleet, &env, &sim, first_sent, 5000).await;
}

#[tokio::test]
async fn a_hop_change_retried_while_the_first_attempt_is_still_on_its_way_is_not_let_in_by_the_delete() {
    // The same for a hop change: on 2.0 its create is slow (after the old route's delete), on 3.0
    // its ReplaceRoutes; the retry is answered, and the resource is deleted at once.
    let (fleet, env, sim, _op) = one_route("late-hop", "100", None).await;
    wait_reason(&env.client, &env.namespace, "r0", "True", "Created").await;
    let slow = if backend::is_v3() { backend::replace() } else { backend::create() };
    let before = sim.calls().await.get(slow).copied().unwrap_or(0);
    sim.fault(json!({"action": slow, "kind": "latency", "latencyMs": 5000, "count": 1})).await;
    let written = sim.ledger(0).await.len();
    let hop = json!({"nextType": "NatGateway", "nextHub": crate::support::sim::TEST_NAT});
    crate::support::routes::patch_spec(&env.client, &env.namespace, "r0", hop).await;
    let first_sent = sent(&sim, slow, before).await;
    // The retry's writes: on 2.0 the old route's delete and then the create, on 3.0 the replace.
    let retried = if backend::is_v3() { 1 } else { 2 };
    wait_for("the retried hop change", Duration::from_secs(30), || async {
        (sim.ledger(0).await.len() >= written + retried).then_some(())
    })
    .await;
    assert!(first_sent.elapsed() < Duration::from_millis(4500), "the retry was not answered before the first landed");
    delete_then_check(&fleet, &env, &sim, first_sent, 5000).await;
}
