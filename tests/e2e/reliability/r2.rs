//! R2: N routes over T tables created, then half of them deleted, twice on one world: fault-free,
//! then on a fresh namespace and emulator with 20 % lost answers, 10 % `InternalError`, 5 %
//! answers 3 s late (the operator's client gives up after 2 s; the write still lands) and the
//! published per-action rate limits. The same invariants, and at most 3× the fault-free run's
//! cloud calls. Sizes: VPCROUTE_R2_ROUTES (CI 60), VPCROUTE_R2_TABLES (CI 4).

use std::time::Instant;

use serde_json::json;

use super::{Fleet, Tally, convergence_budget, delete_each, hop, published_rate_limits, tally, wait_converged};
use crate::support::backend;
use crate::support::cluster::{install_crds, test_env};
use crate::support::ledger::{Desired, Findings, verify};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::sim::Sim;

/// What one run came to.
struct Run {
    calls: u64,
    findings: Findings,
    tally: Tally,
    seconds: u64,
}

/// Adds R2's faults, in order, so that 10 % of calls fail, 20 % lose their answer, and 5 % of
/// all calls also come 3 s late.
async fn add_faults(sim: &Sim) {
    sim.fault(json!({"action": null, "kind": "internalError", "probability": 0.1})).await;
    sim.fault(json!({"action": null, "kind": "responseLost", "probability": 0.2 / 0.9})).await;
    sim.fault(json!({"action": null, "kind": "latency", "latencyMs": 3000, "probability": 0.05})).await;
    sim.rate_limits(published_rate_limits()).await;
}

/// Total cloud calls the emulator counted.
async fn total_calls(sim: &Sim) -> u64 {
    sim.calls().await.values().sum()
}

async fn run(fleet: &Fleet, world: &str, faulted: bool) -> Run {
    let started = Instant::now();
    let env = test_env(if faulted { "r2-faults" } else { "r2-clean" }).await;
    install_crds(&env.client).await;
    let sim = Sim::start(world);
    if faulted {
        add_faults(&sim).await;
    }
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", "16", "--request-timeout-seconds", "2"]);
    let _op = Operator::start(&env, &sim, &flags);
    let all: Vec<usize> = (0..fleet.routes).collect();
    fleet.create(&env, 0..fleet.routes).await;
    wait_converged(&env, &all, &[], convergence_budget(fleet.routes)).await;
    let (live, gone): (Vec<usize>, Vec<usize>) = all.iter().partition(|i| *i % 2 == 0);
    delete_each(&env, &gone).await;
    wait_converged(&env, &live, &gone, convergence_budget(fleet.routes)).await;
    let desired = Desired {
        live: live.iter().map(|i| (fleet.key(*i), hop(0))).collect(),
        deleted: gone.iter().map(|i| fleet.key(*i)).collect(),
    };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    let tally = tally(&env, &live, &gone).await;
    Run { calls: total_calls(&sim).await, findings, tally, seconds: started.elapsed().as_secs() }
}

#[tokio::test]
async fn r2_routes_are_created_and_deleted_exactly_once_under_lost_answers_errors_timeouts_and_rate_limits() {
    let fleet = Fleet::from_env("VPCROUTE_R2_ROUTES", 60, "VPCROUTE_R2_TABLES", 4);
    let world = fleet.world();
    let clean = run(&fleet, &world, false).await;
    assert!(clean.findings.is_clean(), "fault-free run: {}", clean.findings.details());
    let faulted = run(&fleet, &world, true).await;
    let (n, live) = (fleet.routes, fleet.routes.div_ceil(2));
    let ratio = faulted.calls as f64 / clean.calls.max(1) as f64;
    println!(
        "R2 api={}: {n} routes / {} tables, {}, {}/{live} Created, {}/{} deleted resources gone, \
         {} cloud calls vs {} fault-free ({ratio:.2}x), {} s (fault-free {} s)",
        backend::api(),
        fleet.tables.len(),
        faulted.findings,
        faulted.tally.created,
        faulted.tally.vanished,
        n - live,
        faulted.calls,
        clean.calls,
        faulted.seconds,
        clean.seconds
    );
    faulted.tally.assert_final(&faulted.findings, live, n - live);
    assert_eq!(
        (clean.tally.created, clean.tally.vanished),
        (live, n - live),
        "the same without faults; not Created: {:?}",
        clean.tally.not_created
    );
    assert!(
        ratio <= 3.0,
        "{} calls under faults is more than 3x the {} of the fault-free run",
        faulted.calls,
        clean.calls
    );
}
