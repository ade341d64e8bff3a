//! Soak: random creates (always of a fresh destination), next-hop changes and deletes under
//! lighter faults than R2, while every few seconds the ledger is read for duplicates and the
//! emulator compared with the desired set; a difference is a violation once it has lasted past a
//! grace period (convergence lag is not one). At the end it waits for convergence and checks
//! everything, and reports the operator's RSS at the start of the churn and at its end.
//! Duration: VPCROUTE_SOAK_SECONDS (CI 120; on demand 1800); routes live at once at most:
//! VPCROUTE_SOAK_ROUTES (40) over VPCROUTE_SOAK_TABLES (4) tables.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use super::{Fleet, HOPS, convergence_budget, env_size, hop, name, published_rate_limits, tally, wait_converged};
use crate::support::backend;
use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::ledger::{Desired, Key, LedgerWalk, Scope, compare, routes_in};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::routes::{delete, patch_spec};
use crate::support::sim::Sim;

/// How long a difference may last before it is a violation.
const GRACE: Duration = Duration::from_secs(30);
/// How often the checker looks.
const CHECK_EVERY: Duration = Duration::from_secs(3);

/// What the churn has asked for so far: live routes (index → hop) and deleted ones.
#[derive(Default)]
struct Churn {
    live: BTreeMap<usize, usize>,
    deleted: BTreeSet<usize>,
    next: usize,
    changes: usize,
}

impl Churn {
    fn desired(&self, fleet: &Fleet) -> Desired {
        Desired {
            live: self.live.iter().map(|(i, h)| (fleet.key(*i), hop(*h))).collect(),
            deleted: self.deleted.iter().map(|i| fleet.key(*i)).collect(),
        }
    }

    /// Makes one random change; returns the route it changed and whether it asked for another
    /// next hop.
    async fn step(&mut self, env: &TestEnv, fleet: &Fleet) -> (usize, bool) {
        let roll = rand::rng().random_range(0..10);
        let pick = |live: &BTreeMap<usize, usize>| *live.keys().nth(rand::rng().random_range(0..live.len())).unwrap();
        let low = self.live.len() < fleet.routes / 4;
        let full = self.live.len() >= fleet.routes;
        self.changes += 1;
        if low || (!full && roll < 4) {
            let i = self.next;
            self.next += 1;
            fleet.create(env, i..i + 1).await;
            self.live.insert(i, 0);
            (i, false)
        } else if roll < 7 {
            let i = pick(&self.live);
            let to = 1 - self.live[&i];
            let (next_type, hub) = (HOPS[to].0, HOPS[to].1);
            patch_spec(&env.client, &env.namespace, &name(i), json!({"nextType": next_type, "nextHub": hub})).await;
            self.live.insert(i, to);
            (i, true)
        } else {
            let i = pick(&self.live);
            delete(&env.client, &env.namespace, &name(i)).await;
            self.live.remove(&i);
            self.deleted.insert(i);
            (i, false)
        }
    }
}

/// The running invariant check: ledger duplicates at once, differences past `grace`.
#[derive(Default)]
struct Watch {
    grace: Duration,
    walk: LedgerWalk,
    since: BTreeMap<(&'static str, Key), Instant>,
    reported: BTreeSet<(&'static str, Key)>,
    /// One line per violation, with the time since the churn started.
    violations: Vec<String>,
    /// Differences seen that went away within the grace period (convergence lag).
    transient: usize,
}

impl Watch {
    /// A change to `key` starts its grace period again.
    fn changed(&mut self, key: &Key) {
        self.keep_only(|(_, k)| k != key);
    }

    /// Forgets the differences `keep` refuses, counting those not reported as transient.
    fn keep_only(&mut self, keep: impl Fn(&(&'static str, Key)) -> bool) {
        let gone: Vec<_> = self.since.keys().filter(|m| !keep(m)).cloned().collect();
        for m in gone {
            self.since.remove(&m);
            self.transient += usize::from(!self.reported.contains(&m));
        }
    }

    /// Looks once; returns the violations found this time.
    async fn check(&mut self, sim: &Sim, desired: &Desired, scope: &Scope, started: Instant) -> &[String] {
        let (elapsed, already) = (started.elapsed().as_secs_f64(), self.violations.len());
        let before = self.walk.duplicates.len();
        self.walk.catch_up(sim, scope).await;
        for duplicate in &self.walk.duplicates[before..] {
            self.violations.push(format!("soak violation at {elapsed:.1} s: {duplicate}"));
        }
        let findings = compare(&self.walk, &routes_in(sim, scope).await, desired, scope);
        let now: BTreeSet<(&'static str, Key)> =
            findings.mismatches().into_iter().map(|(w, k)| (w, k.clone())).collect();
        self.keep_only(|m| now.contains(m));
        for m in now {
            let first = *self.since.entry(m.clone()).or_insert_with(Instant::now);
            if first.elapsed() > self.grace && self.reported.insert(m.clone()) {
                let (what, (table, destination)) = (m.0, &m.1);
                let (grace, history) = (self.grace, self.walk.history(&m.1).join("; "));
                let line = format!(
                    "soak violation at {elapsed:.1} s: {what} {table} {destination} for more than {grace:?}; \
                     ledger: {history}"
                );
                self.violations.push(line);
            }
        }
        &self.violations[already..]
    }
}

/// Now, in the ledger's clock (Unix ms; the emulator runs on this machine).
fn unix_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// The operator's resident set size in MiB, from /proc.
fn rss_mib(op: &Operator) -> f64 {
    let pid = op.pid().expect("the operator is running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc/PID/status");
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.expect("VmRSS in /proc/PID/status") / 1024.0
}

#[tokio::test]
async fn soak_random_churn_under_faults_keeps_the_emulator_as_desired_and_memory_flat() {
    let fleet = Fleet::from_env("VPCROUTE_SOAK_ROUTES", 40, "VPCROUTE_SOAK_TABLES", 4);
    let duration = Duration::from_secs(env_size("VPCROUTE_SOAK_SECONDS", 120) as u64);
    let env = test_env("soak").await;
    install_crds(&env.client).await;
    let sim = Sim::start(&fleet.world());
    sim.fault(json!({"action": null, "kind": "internalError", "probability": 0.05})).await;
    sim.fault(json!({"action": null, "kind": "responseLost", "probability": 0.05})).await;
    sim.fault(json!({"action": null, "kind": "latency", "latencyMs": 3000, "probability": 0.02})).await;
    sim.rate_limits(published_rate_limits()).await;
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", "16", "--request-timeout-seconds", "2"]);
    let op = Operator::start(&env, &sim, &flags);
    let (scope, mut churn) = (fleet.scope(), Churn::default());
    let mut watch = Watch { grace: GRACE, ..Watch::default() };
    churn.next = fleet.routes / 2;
    fleet.create(&env, 0..churn.next).await;
    churn.live = (0..churn.next).map(|i| (i, 0)).collect();
    let first: Vec<usize> = churn.live.keys().copied().collect();
    wait_converged(&env, &first, &[], convergence_budget(first.len())).await;
    let rss_start = rss_mib(&op);

    let started = Instant::now();
    let mut next_check = Instant::now() + CHECK_EVERY;
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(100..600))).await;
        let (changed, new_hop) = churn.step(&env, &fleet).await;
        watch.changed(&fleet.key(changed));
        // On 2.0 a hop change is a delete and a create; one reverted in between re-creates the
        // old hop, rightly (3.0 replaces in place, so there it stays a duplicate).
        if new_hop && backend::api() == "2.0" {
            watch.walk.hop_change_asked(fleet.key(changed), unix_ms());
        }
        if Instant::now() >= next_check {
            for violation in watch.check(&sim, &churn.desired(&fleet), &scope, started).await {
                println!("{violation}");
            }
            next_check = Instant::now() + CHECK_EVERY;
        }
    }
    let rss_end = rss_mib(&op);
    let live: Vec<usize> = churn.live.keys().copied().collect();
    let gone: Vec<usize> = churn.deleted.iter().copied().collect();
    wait_converged(&env, &live, &gone, convergence_budget(live.len())).await;
    watch.walk.catch_up(&sim, &scope).await;
    let findings = compare(&watch.walk, &routes_in(&sim, &scope).await, &churn.desired(&fleet), &scope);
    let t = tally(&env, &live, &gone).await;
    let (created, vanished) = (t.created, t.vanished);
    println!(
        "Soak api={}: {} s, {} changes, {} violations ({} differences seen and gone within {GRACE:?}; {} hop changes \
         reverted before their create), final: {findings}, {created}/{} Created, {vanished}/{} deleted resources gone, \
         RSS {rss_start:.0}→{rss_end:.0} MiB",
        backend::api(),
        started.elapsed().as_secs(),
        churn.changes,
        watch.violations.len(),
        watch.transient,
        watch.walk.reverted_hop_changes,
        live.len(),
        gone.len()
    );
    assert!(watch.violations.is_empty(), "violations during the churn:\n{}", watch.violations.join("\n"));
    t.assert_final(&findings, live.len(), gone.len());
    assert!(rss_end <= rss_start * 1.5 + 16.0, "RSS grew from {rss_start:.1} to {rss_end:.1} MiB");
}

#[tokio::test]
async fn the_watch_reports_a_difference_once_it_outlasts_the_grace_period_and_a_change_restarts_it() {
    let fleet = Fleet::new(2, 1);
    let sim = Sim::start(&fleet.world());
    let desired = Desired { live: [(fleet.key(0), hop(0))].into(), ..Desired::default() };
    let mut watch = Watch { grace: Duration::from_millis(50), ..Watch::default() };
    let started = Instant::now();
    watch.check(&sim, &desired, &fleet.scope(), started).await;
    assert!(watch.violations.is_empty(), "a difference just seen may be convergence lag");
    tokio::time::sleep(Duration::from_millis(100)).await;
    watch.changed(&fleet.key(0));
    watch.check(&sim, &desired, &fleet.scope(), started).await;
    assert_eq!((watch.violations.len(), watch.transient), (0, 1), "a change to the route starts its grace again");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(watch.check(&sim, &desired, &fleet.scope(), started).await.len(), 1);
    assert!(watch.check(&sim, &desired, &fleet.scope(), started).await.is_empty(), "reported once");
    assert!(watch.violations[0].contains("missing rtb-rel00 10.128.0.0/24"), "{:?}", watch.violations);
}
