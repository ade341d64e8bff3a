//! Crash-safety stress (issue 5): many routes converging while the operator is SIGKILLed at random
//! moments, and while the cloud loses responses and fails. Sizes come from VPCROUTE_STRESS_ROUTES
//! (default 40 in the suite; run with 200 on demand). Prints what it survived.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::routes::{api, create, spec};
use crate::support::sim::{Sim, TEST_TABLE, WORLD};
use kube::api::ListParams;
use rand::Rng;
use serde_json::json;

/// Kills after which the operator is left to converge (the on-demand size kills more).
const MAX_KILLS: usize = 60;

fn size() -> usize {
    std::env::var("VPCROUTE_STRESS_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn destination(i: usize) -> String {
    format!("10.{}.{}.0/24", 200 + i / 250, i % 250)
}

async fn ready_reasons(env: &TestEnv) -> BTreeMap<String, String> {
    let list = api(&env.client, &env.namespace).list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    list.into_iter()
        .filter_map(|o| {
            let name = o.metadata.name.clone()?;
            let c = o.status?.conditions.into_iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
            Some((name, c.reason))
        })
        .collect()
}

/// Checks the emulator holds each desired destination exactly once and nothing else in range.
async fn check_exactly_once(sim: &Sim, n: usize) -> (usize, usize) {
    let routes = sim.routes(TEST_TABLE).await;
    let mut duplicates = 0;
    for i in 0..n {
        let count = routes.iter().filter(|r| r.0 == destination(i)).count();
        assert!(count >= 1, "{} is missing", destination(i));
        duplicates += count - 1;
    }
    let orphans = routes.iter().filter(|r| r.0.starts_with("10.2") && !(0..n).any(|i| destination(i) == r.0)).count();
    (duplicates, orphans)
}

async fn setup(prefix: &str) -> (TestEnv, Sim) {
    let env = test_env(prefix).await;
    install_crds(&env.client).await;
    let sim = Sim::start(&WORLD.replace("routeQuota: 50", "routeQuota: 5000"));
    (env, sim)
}

async fn create_all(env: &TestEnv, n: usize) {
    for i in 0..n {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&destination(i))).await;
    }
}

#[tokio::test]
async fn routes_converge_exactly_once_while_the_operator_is_killed_at_random() {
    let n = size();
    let (env, sim) = setup("stress-kill").await;
    // Every create takes 300 ms, so convergence spans many kill points, some in mid-call.
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "latency", "latencyMs": 300})).await;
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", "16"]);
    let mut op = Operator::start(&env, &sim, &flags);
    let (client, ns) = (env.client.clone(), env.namespace.clone());
    let creating = tokio::spawn(async move {
        for i in 0..n {
            create(&client, &ns, &format!("r{i}"), spec(&destination(i))).await;
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let mut kills = 0;
    loop {
        let wait = rand::rng().random_range(100..700);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if creating.is_finished() && ready_reasons(&env).await.len() == n {
            break;
        }
        if kills >= MAX_KILLS {
            // Enough kills: let it converge undisturbed.
            continue;
        }
        assert!(tokio::time::Instant::now() < deadline, "not converged after {kills} kills");
        op.kill();
        kills += 1;
        op.restart();
    }
    let reasons = ready_reasons(&env).await;
    let (duplicates, orphans) = check_exactly_once(&sim, n).await;
    println!("stress-kill: {n} routes, {kills} SIGKILLs survived, {duplicates} duplicates, {orphans} orphans");
    assert!(kills >= 3, "the operator was killed only {kills} times");
    assert_eq!((duplicates, orphans), (0, 0));
    assert!(reasons.values().all(|r| r == "Created"), "every route is this operator's own: {reasons:?}");
}

#[tokio::test]
async fn routes_converge_exactly_once_with_lost_responses_and_internal_errors() {
    let n = size();
    let (env, sim) = setup("stress-faults").await;
    sim.fault(json!({"action": null, "kind": "responseLost", "probability": 0.2})).await;
    sim.fault(json!({"action": null, "kind": "internalError", "probability": 0.1})).await;
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", "16"]);
    let _op = Operator::start(&env, &sim, &flags);
    create_all(&env, n).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while ready_reasons(&env).await.len() < n {
        assert!(tokio::time::Instant::now() < deadline, "not converged under faults");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let calls = sim.calls().await;
    let (duplicates, orphans) = check_exactly_once(&sim, n).await;
    println!("stress-faults: {n} routes, {duplicates} duplicates, {orphans} orphans, calls {calls:?}");
    assert_eq!((duplicates, orphans), (0, 0));
    assert!(ready_reasons(&env).await.values().all(|r| r == "Created"));
}
