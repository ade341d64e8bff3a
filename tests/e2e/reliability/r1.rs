//! R1: the operator SIGKILLed at random moments while N routes over T tables converge, and again
//! while half of them are deleted; every create takes 300 ms, so kills land mid-call and some
//! writes land after the process that sent them died. Sizes: VPCROUTE_R1_ROUTES (CI 60),
//! VPCROUTE_R1_TABLES (CI 4), VPCROUTE_R1_KILLS (the least number of kills; CI 8).

use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use super::{Fleet, convergence_budget, delete_each, env_size, hop, tally, wait_converged};
use crate::support::backend;
use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::ledger::{Desired, verify};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::sim::Sim;

/// Kills `op` at random intervals of 100–700 ms: at least `least` times, and on until every one
/// of `live` is Ready and every one of `gone` is gone, or `3 × least` kills were made (then it
/// converges undisturbed).
async fn kill_repeatedly(op: &mut Operator, env: &TestEnv, least: usize, live: &[usize], gone: &[usize]) -> usize {
    let mut kills = 0;
    while kills < least.max(1) * 3 {
        let wait = rand::rng().random_range(100..700);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if kills >= least {
            let t = tally(env, live, gone).await;
            if (t.up, t.vanished) == (live.len(), gone.len()) {
                break;
            }
        }
        op.restart();
        kills += 1;
    }
    kills
}

#[tokio::test]
async fn r1_routes_are_created_and_deleted_exactly_once_while_the_operator_is_killed_at_random() {
    let started = Instant::now();
    let fleet = Fleet::from_env("VPCROUTE_R1_ROUTES", 60, "VPCROUTE_R1_TABLES", 4);
    let (n, least) = (fleet.routes, env_size("VPCROUTE_R1_KILLS", 8));
    let env = test_env("r1-kills").await;
    install_crds(&env.client).await;
    let sim = Sim::start(&fleet.world());
    sim.fault(json!({"action": backend::create(), "kind": "latency", "latencyMs": 300})).await;
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", "16"]);
    let mut op = Operator::start(&env, &sim, &flags);

    let all: Vec<usize> = (0..n).collect();
    let (_, mut kills) =
        tokio::join!(fleet.create(&env, 0..n), kill_repeatedly(&mut op, &env, least.div_ceil(2), &all, &[]));
    wait_converged(&env, &all, &[], convergence_budget(n)).await;

    let (live, gone): (Vec<usize>, Vec<usize>) = all.iter().partition(|i| *i % 2 == 0);
    let rest = least - least.div_ceil(2);
    let (_, more) = tokio::join!(delete_each(&env, &gone), kill_repeatedly(&mut op, &env, rest, &live, &gone));
    kills += more;
    wait_converged(&env, &live, &gone, convergence_budget(n)).await;

    let desired = Desired {
        live: live.iter().map(|i| (fleet.key(*i), hop(0))).collect(),
        deleted: gone.iter().map(|i| fleet.key(*i)).collect(),
    };
    let findings = verify(&sim, &desired, &fleet.scope()).await;
    let t = tally(&env, &live, &gone).await;
    let (created, vanished) = (t.created, t.vanished);
    println!(
        "R1 api={}: {n} routes / {} tables, {kills} kills, {findings}, {vanished}/{} deleted resources gone, \
         {created}/{} Created, {} s",
        backend::api(),
        fleet.tables.len(),
        gone.len(),
        live.len(),
        started.elapsed().as_secs()
    );
    t.assert_final(&findings, live.len(), gone.len());
    assert!(kills >= least, "the operator was killed only {kills} times");
}
