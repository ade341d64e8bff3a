//! Issue 11, scenario R3: restarts around the operator, which itself is never restarted.
//! kube-apiserver and etcd stopped and started again with the same data in the middle of a run
//! (on a control plane of the test's own), vpc-sim restarted from its `--state` in the middle of
//! a run, a writer racing the operator's status writes, and watches that expire ("too old
//! resource version"). Each test checks that the emulator holds every wanted destination exactly
//! once and nothing else, that every resource is `Ready` with reason `Created`, and that the
//! operator process it started with is still running; each prints a one-line summary.
//! Size: VPCROUTE_R3_ROUTES (default 40; on demand 400, see the README's Develop section).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::backend;
use crate::support::cluster::{
    TestEnv, apiserver_metrics, install_crds, private_test_env, requests_total, test_env, wait_for,
};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::routes::{api, create, delete, journal_entries, spec, wait_gone, wait_reason};
use crate::support::sim::{PREEXISTING_ROUTE, Sim, TEST_TABLE, TEST_VPN, WORLD};
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use vpcroute_operator::crd::VpcRoute;

/// How long the control plane stays down in the restart test.
const OUTAGE: Duration = Duration::from_secs(10);
/// How long vpc-sim stays down in its restart test.
const SIM_OUTAGE: Duration = Duration::from_secs(3);
/// Every create the emulator answers takes this long, so that with few reconciles at a time
/// (see [`start_operator`]) a run lasts long enough for a restart to land in the middle of it,
/// with creates in flight.
const CREATE_LATENCY_MS: u64 = 1000;

fn size() -> usize {
    std::env::var("VPCROUTE_R3_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn name(i: usize) -> String {
    format!("r{i}")
}

fn destination(i: usize) -> String {
    format!("10.{}.{}.0/24", 210 + i / 250, i % 250)
}

fn world() -> String {
    WORLD.replace("routeQuota: 50", "routeQuota: 5000")
}

/// How long a run of `n` routes may take to converge.
fn converge_within(n: usize) -> Duration {
    Duration::from_secs(180 + n as u64 / 4)
}

/// Quick retries, and one reconcile at a time per ten routes (at least four): with
/// [`CREATE_LATENCY_MS`], a run lasts about ten seconds whatever its size.
fn start_operator(env: &TestEnv, sim: &Sim, n: usize) -> Operator {
    let concurrency = (n / 10).max(4).to_string();
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--concurrency", &concurrency]);
    Operator::start(env, sim, &flags)
}

async fn slow_creates(sim: &Sim) {
    sim.fault(json!({"action": backend::create(), "kind": "latency", "latencyMs": CREATE_LATENCY_MS})).await;
}

async fn create_all(env: &TestEnv, indexes: RangeInclusive<usize>) {
    for i in indexes {
        create(&env.client, &env.namespace, &name(i), spec(&destination(i))).await;
    }
}

/// The Ready reason of every resource that is Ready=True for its current generation.
async fn ready_reasons(env: &TestEnv) -> BTreeMap<String, String> {
    ready_of(&list(env).await)
}

async fn list(env: &TestEnv) -> Vec<VpcRoute> {
    let list = api(&env.client, &env.namespace).list(&ListParams::default()).await;
    list.map(|l| l.items).unwrap_or_default()
}

fn ready_of(items: &[VpcRoute]) -> BTreeMap<String, String> {
    items
        .iter()
        .cloned()
        .filter_map(|o| {
            let (name, generation) = (o.metadata.name?, o.metadata.generation);
            let c = o.status?.conditions.into_iter().find(|c| c.type_ == "Ready")?;
            (c.status == "True" && c.observed_generation == generation).then_some((name, c.reason))
        })
        .collect()
}

/// Waits until exactly the resources `indexes` are Ready; returns how many are `Created`,
/// having asserted that all are (never `Adopted`: every route is the operator's own).
async fn wait_all_created(env: &TestEnv, indexes: RangeInclusive<usize>) -> usize {
    let names: BTreeSet<String> = indexes.map(name).collect();
    let what = format!("{} VpcRoutes in {} to be Ready", names.len(), env.namespace);
    let reasons = wait_for(&what, converge_within(names.len()), || async {
        let reasons = ready_reasons(env).await;
        (reasons.keys().cloned().collect::<BTreeSet<_>>() == names).then_some(reasons)
    })
    .await;
    let not_created: BTreeMap<_, _> = reasons.iter().filter(|(_, r)| *r != "Created").collect();
    assert!(not_created.is_empty(), "every route is the operator's own, so Created: {not_created:?}");
    reasons.len()
}

/// Waits until the run is under way: at least a quarter of `n` resources Ready, fewer than `n`,
/// and at least one with a cloud write pending, in its status or in the create journal (in
/// flight, or about to be). Returns (Ready, pending).
async fn wait_mid_run(env: &TestEnv, n: usize) -> (usize, usize) {
    let quarter = n.div_ceil(4);
    let what = format!("{quarter} of {n} VpcRoutes to be Ready and a cloud write to be pending");
    let (ready, pending) = wait_for(&what, converge_within(n), || async {
        let items = list(env).await;
        let ready = ready_of(&items).len();
        let in_status = items.iter().filter(|o| o.status.as_ref().is_some_and(|s| s.pending.is_some())).count();
        let pending = in_status + journal_entries(&env.client, &env.namespace).await.len();
        (ready >= quarter && pending > 0 || ready == n).then_some((ready, pending))
    })
    .await;
    assert!(ready < n, "all {n} routes were Ready already: the run is too short to restart in its middle");
    (ready, pending)
}

/// Asserts the emulator's table holds each destination of `indexes` exactly once, with the
/// operator's next hop, besides the route someone else made, and nothing else. Returns the
/// number of duplicates (0 once the assertion passed).
async fn assert_exactly_once(sim: &Sim, indexes: RangeInclusive<usize>) -> usize {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrong_hops = Vec::new();
    for (dest, kind, hub) in sim.routes(TEST_TABLE).await {
        if (dest.as_str(), kind, hub.as_str()) == PREEXISTING_ROUTE {
            continue;
        }
        if (kind, hub.as_str()) != (1, TEST_VPN) {
            wrong_hops.push(format!("{dest} via {kind} {hub}"));
        }
        *counts.entry(dest).or_default() += 1;
    }
    let wanted: BTreeSet<String> = indexes.map(destination).collect();
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    let missing: Vec<_> = wanted.iter().filter(|d| !counts.contains_key(*d)).collect();
    let unwanted: Vec<_> = counts.keys().filter(|d| !wanted.contains(*d)).collect();
    assert!(
        duplicates == 0 && missing.is_empty() && unwanted.is_empty() && wrong_hops.is_empty(),
        "the emulator's table is not the wanted set: {duplicates} duplicates, missing {missing:?}, \
         unwanted {unwanted:?}, wrong hops {wrong_hops:?}"
    );
    duplicates
}

/// One scenario's run: the test's namespace, its emulator and the operator watching it, with
/// the routes `0..n` created.
struct Run {
    env: TestEnv,
    sim: Sim,
    op: Operator,
    pid: Option<u32>,
    n: usize,
}

impl Run {
    /// Installs the CRDs, makes the emulator's creates slow when `slow`, starts the operator
    /// and creates the routes `0..n`.
    async fn begin(env: TestEnv, sim: Sim, slow: bool) -> Run {
        install_crds(&env.client).await;
        if slow {
            slow_creates(&sim).await;
        }
        let n = size();
        let op = start_operator(&env, &sim, n);
        let pid = op.pid();
        create_all(&env, 0..=n - 1).await;
        Run { env, sim, op, pid, n }
    }

    /// Creates route `i`.
    async fn add(&self, i: usize) {
        create(&self.env.client, &self.env.namespace, &name(i), spec(&destination(i))).await;
    }

    /// Waits until route `i` is Ready with reason Created.
    async fn wait_created(&self, i: usize) {
        wait_reason(&self.env.client, &self.env.namespace, &name(i), "True", "Created").await;
    }

    /// Deletes route `i` and waits until the resource is gone.
    async fn remove(&self, i: usize) {
        delete(&self.env.client, &self.env.namespace, &name(i)).await;
        wait_gone(&self.env.client, &self.env.namespace, &name(i)).await;
    }

    /// Asserts the operator process started at the beginning is still running.
    fn assert_same_operator(&mut self) {
        assert!(self.op.is_running(), "the operator exited; its log is {}", self.op.log_path().display());
        assert_eq!(self.op.pid(), self.pid, "the operator process was replaced");
    }
}

/// kube-apiserver, kube-controller-manager and etcd (a control plane of this test's own) are
/// stopped for [`OUTAGE`] in the middle of a run, while creates are in flight, and started again
/// with the same data on the same ports. The operator, never restarted, converges, and then
/// handles a new create and a delete: its watch came back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_rides_out_a_control_plane_restart_in_the_middle_of_a_run() {
    let started = Instant::now();
    let (env, launcher) = private_test_env("r3-control-plane", &[]).await;
    let mut run = Run::begin(env, Sim::start(&world()), true).await;
    let n = run.n;
    let (ready_at_stop, pending_at_stop) = wait_mid_run(&run.env, n).await;

    let down_at = Instant::now();
    tokio::task::block_in_place(|| launcher.stop_control_plane()).unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(OUTAGE).await; // the outage itself, not a wait for something to happen
    run.assert_same_operator();
    tokio::task::block_in_place(|| launcher.start_control_plane()).unwrap_or_else(|e| panic!("{e}"));
    let (down, back) = (down_at.elapsed(), Instant::now());

    wait_all_created(&run.env, 0..=n - 1).await;
    let converged = back.elapsed();
    assert_exactly_once(&run.sim, 0..=n - 1).await;
    // A change made after the restart reaches the operator only through a watch that came back.
    run.add(n).await;
    run.remove(0).await;
    run.wait_created(n).await;
    let created = wait_all_created(&run.env, 1..=n).await;
    let duplicates = assert_exactly_once(&run.sim, 1..=n).await;
    run.assert_same_operator();
    println!(
        "R3 api={} control-plane restart: {n} routes ({ready_at_stop} Ready, {pending_at_stop} writes pending when \
         it stopped), down {:.1} s, converged {:.1} s after it was back, operator pid unchanged, {duplicates} \
         duplicates, {created}/{n} Created, then 1 create + 1 delete handled, {:.0} s",
        backend::api(),
        down.as_secs_f64(),
        converged.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// vpc-sim, started with a state file, is stopped in the middle of a run while creates are in
/// flight (each takes [`CREATE_LATENCY_MS`]), stays down for [`SIM_OUTAGE`], and is started
/// again from its state on the same port. What it had created is still there, and the operator,
/// never restarted, converges with every route created exactly once.
#[tokio::test]
async fn the_operator_converges_without_duplicates_when_vpc_sim_restarts_from_its_state() {
    let started = Instant::now();
    let env = test_env("r3-sim").await;
    let mut run = Run::begin(env, Sim::start_with_state(&world()), true).await;
    let n = run.n;
    let (ready_at_stop, pending_at_stop) = wait_mid_run(&run.env, n).await;

    let port = run.sim.port;
    let down_at = Instant::now();
    assert!(run.sim.stop(), "vpc-sim was not running");
    tokio::time::sleep(SIM_OUTAGE).await; // the outage itself
    run.sim.restart();
    let (down, back) = (down_at.elapsed(), Instant::now());
    assert_eq!(run.sim.port, port, "vpc-sim came back on another port, where the operator cannot follow it");
    let restored = run.sim.routes(TEST_TABLE).await.len() - 1; // without the route someone else made
    assert!(
        restored >= ready_at_stop,
        "vpc-sim restored {restored} routes from its state, but {ready_at_stop} were Ready"
    );

    let created = wait_all_created(&run.env, 0..=n - 1).await;
    let converged = back.elapsed();
    let duplicates = assert_exactly_once(&run.sim, 0..=n - 1).await;
    run.assert_same_operator();
    println!(
        "R3 api={} vpc-sim restart: {n} routes ({ready_at_stop} Ready, {pending_at_stop} writes pending when it \
         stopped, {restored} routes restored from its state), down {:.1} s, converged {:.1} s after it was back, \
         operator pid unchanged, {duplicates} duplicates, {created}/{n} Created, {:.0} s",
        backend::api(),
        down.as_secs_f64(),
        converged.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// A writer races the operator: it lists every VpcRoute, waits, and writes each back with a new
/// annotation under the resourceVersion it read (an update with a precondition), round after
/// round while the operator converges. Conflicts are counted by kube-apiserver itself, on a
/// control plane of this test's own (no other test's requests count there).
///
/// The operator's writes cannot hit a 409 by construction: it writes status by server-side
/// apply (forced, under one field manager, with no resourceVersion) and its finalizer by JSON
/// patch, so kube-apiserver retries its own storage conflicts and never answers 409. The test
/// shows it: the writer's updates get 409s (the operator's writes changed the objects under it,
/// so the race is real), every 409 kube-apiserver answered on VpcRoutes is the writer's, and
/// the run converges exactly once. Should the operator ever write with a resourceVersion
/// precondition, the second check fails, and this test must then show recovery from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_writes_never_conflict_with_a_concurrent_writer_and_the_run_converges() {
    let started = Instant::now();
    let (env, _launcher) = private_test_env("r3-conflicts", &[]).await;
    let mut run = Run::begin(env, Sim::start(&world()), true).await;
    let n = run.n;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(race_writer(run.env.client.clone(), run.env.namespace.clone(), stop.clone()));

    let created = wait_all_created(&run.env, 0..=n - 1).await;
    stop.store(true, Ordering::Relaxed);
    let (updates, writer_conflicts) = writer.await.expect("the writer panicked");
    let metrics = apiserver_metrics(&run.env.client).await;
    let conflicts = requests_total(&metrics, &[("resource", "vpcroutes"), ("code", "409")]);
    let status_writes = requests_total(&metrics, &[("resource", "vpcroutes"), ("subresource", "status")]);
    let operator_conflicts = conflicts - writer_conflicts as f64;
    assert!(writer_conflicts > 0, "the writer never conflicted ({updates} updates): there was no race to test");
    assert!(status_writes > 0.0, "kube-apiserver counted no status write:\n{metrics}");
    assert_eq!(
        operator_conflicts, 0.0,
        "kube-apiserver answered {conflicts} 409s on VpcRoutes, {writer_conflicts} of them the writer's"
    );
    let duplicates = assert_exactly_once(&run.sim, 0..=n - 1).await;
    run.assert_same_operator();
    println!(
        "R3 api={} status conflicts: {n} routes, writer {updates} updates + {writer_conflicts} 409s, operator \
         {status_writes} status writes + {operator_conflicts} 409s (kube-apiserver's count), {duplicates} \
         duplicates, {created}/{n} Created, {:.0} s",
        backend::api(),
        started.elapsed().as_secs_f64()
    );
}

/// Until `stop`: lists the VpcRoutes, waits, and updates each with the resourceVersion it read,
/// bumping an annotation. Returns (updates that succeeded, 409 Conflict answers).
async fn race_writer(client: kube::Client, ns: String, stop: Arc<AtomicBool>) -> (u64, u64) {
    let api = api(&client, &ns);
    let (mut updates, mut conflicts) = (0, 0);
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let list = api.list(&ListParams::default()).await.unwrap_or_else(|e| panic!("the writer's list: {e}"));
        tokio::time::sleep(Duration::from_millis(200)).await; // widens the window for a conflict
        for mut obj in list.items {
            obj.metadata.managed_fields = None; // or the update would rewrite field ownership
            obj.annotations_mut().insert("r3.test/round".into(), round.to_string());
            match api.replace(&obj.name_any(), &PostParams::default(), &obj).await {
                Ok(_) => updates += 1,
                Err(kube::Error::Api(status)) if status.code == 409 => conflicts += 1,
                Err(e) => panic!("the writer's update of {}: {e}", obj.name_any()),
            }
        }
    }
    (updates, conflicts)
}

/// Watches that expire: a control plane of this test's own serves watches straight from etcd
/// (`--watch-cache=false`) and compacts etcd every second. Once the run has converged and etcd
/// has compacted past the last VpcRoute change, the control plane is restarted: the operator's
/// watch cannot resume where it was (410 "too old resource version") and must list again.
/// kube-apiserver's counters show that list (the test lists no VpcRoute itself until then);
/// a create and a delete made right after the restart, and a create after the new list, are
/// reconciled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_lists_again_when_its_watch_expires_and_reconciles_what_changed() {
    let started = Instant::now();
    let args = ["-apiserver-arg=--watch-cache=false", "-apiserver-arg=--etcd-compaction-interval=1s"];
    let (env, launcher) = private_test_env("r3-watch-expiry", &args).await;
    let mut run = Run::begin(env, Sim::start(&world()), false).await;
    let n = run.n;
    wait_all_created(&run.env, 0..=n - 1).await;
    wait_compacted_past_every_change(&run.env).await;

    let restart_at = Instant::now();
    tokio::task::block_in_place(|| launcher.stop_control_plane()).unwrap_or_else(|e| panic!("{e}"));
    tokio::task::block_in_place(|| launcher.start_control_plane()).unwrap_or_else(|e| panic!("{e}"));
    let restart = restart_at.elapsed();
    run.add(n).await;
    delete(&run.env.client, &run.env.namespace, &name(0)).await;
    // kube-apiserver's counters start at zero with it, and only the operator lists VpcRoutes.
    let lists = wait_for("the operator to list VpcRoutes again", Duration::from_secs(120), || async {
        let metrics = apiserver_metrics(&run.env.client).await;
        let lists = requests_total(&metrics, &[("resource", "vpcroutes"), ("verb", "LIST")]);
        (lists >= 1.0).then_some(lists)
    })
    .await;
    run.wait_created(n).await;
    run.remove(0).await;
    run.add(n + 1).await;
    let created = wait_all_created(&run.env, 1..=n + 1).await;
    let duplicates = assert_exactly_once(&run.sim, 1..=n + 1).await;
    run.assert_same_operator();
    let expiries = run.op.log().lines().filter(|l| l.contains("too old")).count();
    println!(
        "R3 api={} watch expiry: {n} routes, control plane restarted in {:.1} s after etcd compacted past the \
         operator's watch, {lists} re-list(s) ({expiries} operator log line(s) \"too old\"), 2 creates + 1 delete \
         after it reconciled, operator pid unchanged, {duplicates} duplicates, {created}/{} Created, {:.0} s",
        backend::api(),
        restart.as_secs_f64(),
        n + 1,
        started.elapsed().as_secs_f64()
    );
}

/// Waits until etcd has compacted past the last VpcRoute change the operator can have seen:
/// a watch from the revision of a list answers 410, and no VpcRoute changed after that list.
/// (Revisions are compared as numbers, which holds for etcd-backed kube-apiservers.)
async fn wait_compacted_past_every_change(env: &TestEnv) {
    let api = api(&env.client, &env.namespace);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let list = api.list(&ListParams::default()).await.expect("listing VpcRoutes");
        let revision = list.metadata.resource_version.expect("a list has a resourceVersion");
        wait_for(&format!("etcd to compact past revision {revision}"), Duration::from_secs(60), || async {
            watch_expired(&api, &revision).await.then_some(())
        })
        .await;
        let again = api.list(&ListParams::default()).await.expect("listing VpcRoutes");
        let newest = again.items.iter().filter_map(|o| o.resource_version()?.parse::<u64>().ok()).max();
        if newest.is_some_and(|newest| revision.parse::<u64>().is_ok_and(|r| newest <= r)) {
            return;
        }
        assert!(Instant::now() < deadline, "VpcRoutes kept changing after the run converged");
    }
}

/// Whether a watch from `revision` is refused with 410 Gone.
async fn watch_expired(api: &kube::Api<VpcRoute>, revision: &str) -> bool {
    let stream = match api.watch(&WatchParams::default().timeout(1), revision).await {
        Ok(stream) => stream,
        Err(kube::Error::Api(status)) => return status.code == 410,
        Err(_) => return false,
    };
    let mut stream = std::pin::pin!(stream);
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
    matches!(first, Ok(Some(Ok(WatchEvent::Error(e)))) if e.code == 410)
}
