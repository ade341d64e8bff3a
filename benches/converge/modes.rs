//! The runs of `cargo bench --bench converge` (see `main.rs`): one convergence of N VpcRoutes in
//! a mode (API generation × batching) on a fresh namespace, emulator and release operator; the
//! write-only baseline; and the P2 resync, P3/P4 restart-and-memory and P5 single-apply runs.
//! Does cluster, emulator and process I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde_json::json;
use vpcroute_operator::crd::VpcRoute;

use crate::measure::{
    Latency, PlaneCpu, ProcStats, ReadyWatch, Requests, WriteSummary, apiserver_requests, as_f64, control_plane_cpu,
    control_plane_pids, diff, ms, operator_calls, operator_metrics, proc_stats, throttled, total,
};
use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::operator::{Operator, free_port};
use crate::support::routes::api;
use crate::support::sim::{Sim, TEST_REGION};
use crate::world::{name, route_spec};

/// Requests the applying client keeps in flight.
pub const CLIENT_CONCURRENCY: usize = 32;

/// The operator's default `--concurrency`, which the write-only baseline's writer matches.
const OPERATOR_CONCURRENCY: usize = 1024;
/// The operator's default `--kube-in-flight`; `VPCROUTE_BENCH_KUBE_IN_FLIGHT` sets it for the
/// operator and the capped baseline alike.
pub const OPERATOR_KUBE_IN_FLIGHT: usize = 32;
/// Field manager of the baseline's writes.
const BASELINE_MANAGER: &str = "vpcroute-bench-baseline";
/// The operator's finalizer.
const FINALIZER: &str = "vpc.qcloud.dev/route";

/// What every run shares.
pub struct Bench {
    pub tables: usize,
    /// `--kube-in-flight` for the operator, and the capped baseline's cap.
    pub kube_in_flight: usize,
    pub world: String,
    pub latency_ms: u64,
    pub timeout: Duration,
}

/// An API generation and batching choice.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    pub api: &'static str,
    /// `--max-batch`; `None` keeps the default (batched).
    pub max_batch: Option<usize>,
}

impl Mode {
    pub fn label(&self) -> String {
        match self.max_batch {
            None => format!("{} batched", self.api),
            Some(n) => format!("{} max-batch {n}", self.api),
        }
    }
}

/// One convergence of N objects, measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunResult {
    pub label: String,
    pub n: usize,
    pub tables: usize,
    /// Until every create returned, seconds.
    pub apply_s: f64,
    /// Until every object was seen Ready, seconds from the first create; `None` if not all were.
    pub all_ready_s: Option<f64>,
    pub ready: usize,
    /// Create returned → Ready=True first seen on the watch.
    pub latency: Latency,
    /// vpc-sim's call counts during the run.
    pub cloud_calls: BTreeMap<String, f64>,
    /// The operator's cloud calls by `action code`.
    pub operator_calls: BTreeMap<String, f64>,
    pub throttled: f64,
    /// kube-apiserver requests during the run (cluster-wide), by `verb resource`: writes, and
    /// reads (GET, LIST, WATCH).
    pub apiserver_requests: Requests,
    pub writes: WriteSummary,
    /// The operator's own `vpcroute_status_writes_total`.
    pub operator_status_writes: f64,
    pub operator: ProcStats,
    /// The control plane's CPU from the first create until all were Ready.
    pub control_plane_cpu: PlaneCpu,
}

/// A namespace, emulator and operator for one run.
pub struct Live {
    pub env: TestEnv,
    pub sim: Sim,
    pub op: Operator,
    pub addr: String,
}

/// A fresh namespace with the CRDs.
pub async fn fresh_env(prefix: &str) -> TestEnv {
    let env = test_env(prefix).await;
    install_crds(&env.client).await;
    env
}

/// A fresh namespace, emulator and release operator in `mode` with `extra` flags; returns once
/// the operator answers on /metrics.
pub async fn start(bench: &Bench, prefix: &str, mode: Mode, extra: &[&str]) -> Live {
    let env = fresh_env(prefix).await;
    // As the chart installs it: the finalizer comes from admission, not from an operator write.
    crate::support::policy::install_finalizer_policy(&env).await;
    let sim = Sim::start(&bench.world);
    let endpoint = if mode.api == "2.0" { format!("{}/v2/index.php", sim.base) } else { format!("{}/", sim.base) };
    let addr = format!("127.0.0.1:{}", free_port());
    let mut args: Vec<String> = vec!["run".into(), "--watch-namespace".into(), env.namespace.clone()];
    let ca = sim.ca_file.display().to_string();
    for a in ["--api", mode.api, "--endpoint", &endpoint, "--ca-file", &ca, "--region", TEST_REGION] {
        args.push(a.into());
    }
    args.extend(["--http-addr".into(), addr.clone()]);
    if let Some(n) = mode.max_batch {
        args.extend(["--max-batch".into(), n.to_string()]);
    }
    args.extend(["--kube-in-flight".into(), bench.kube_in_flight.to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    // Extra operator flags for every mode, to try settings side by side across runs.
    if let Ok(more) = std::env::var("VPCROUTE_BENCH_OPERATOR_ARGS") {
        args.extend(more.split_whitespace().map(str::to_string));
    }
    let log_name = format!("bench-converge-{}", env.namespace);
    // Logging as the chart sets it (JSON, info; the tests' debug level logs every cloud call).
    args.extend(["--log-format".into(), "json".into()]);
    let op = Operator::start_with_env(&env, args, &log_name, |vars| {
        vars.retain(|(k, _)| k != "RUST_LOG");
        vars.push(("RUST_LOG".into(), "info,kube=warn".into()));
    });
    wait_up(&addr).await;
    Live { env, sim, op, addr }
}

/// Waits (up to 60 s) until the operator answers on /metrics.
pub async fn wait_up(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while crate::support::operator::scrape(addr).await.is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates objects `0..n` (spread over `tables`) with [`CLIENT_CONCURRENCY`] in flight; notes
/// when each create returned and sends the name on `done` if given. Returns the elapsed time.
async fn apply(
    client: &Client,
    ns: &str,
    n: usize,
    tables: usize,
    created: &Mutex<HashMap<String, Instant>>,
    done: Option<futures::channel::mpsc::UnboundedSender<String>>,
) -> Duration {
    let start = Instant::now();
    let objects = api(client, ns);
    futures::stream::iter(0..n)
        .for_each_concurrent(CLIENT_CONCURRENCY, |i| {
            let (objects, done) = (&objects, done.clone());
            async move {
                let object = VpcRoute::new(&name(i), route_spec(i, tables));
                match objects.create(&PostParams::default(), &object).await {
                    Ok(_) => {
                        created.lock().unwrap().insert(name(i), Instant::now());
                        if let Some(done) = done {
                            let _ = done.unbounded_send(name(i));
                        }
                    }
                    Err(e) => eprintln!("converge: creating {}: {e}", name(i)),
                }
            }
        })
        .await;
    start.elapsed()
}

/// Per-object create-returned → Ready-seen latencies, milliseconds.
fn latencies(created: &Mutex<HashMap<String, Instant>>, watch: &ReadyWatch) -> Vec<f64> {
    let created = created.lock().unwrap();
    created.iter().filter_map(|(n, c)| watch.seen(n).map(|r| ms(r.saturating_duration_since(*c)))).collect()
}

/// Applies `n` objects to a live run and measures until all are Ready (plus a short settle so
/// trailing writes are counted).
pub async fn converge(bench: &Bench, live: &Live, label: &str, n: usize) -> RunResult {
    let client = &live.env.client;
    let watch = ReadyWatch::start(client, &live.env.namespace).await;
    live.sim.reset_calls().await;
    let writes_before = apiserver_requests(client).await;
    let created = Mutex::new(HashMap::new());
    let plane = control_plane_pids(&live.env.kubeconfig);
    let cpu_before = control_plane_cpu(plane);
    let start = Instant::now();
    let apply_time = apply(client, &live.env.namespace, n, bench.tables, &created, None).await;
    let all = watch.wait_all(n, bench.timeout).await;
    let all_ready = watch.last().filter(|_| all).map(|t| t.duration_since(start).as_secs_f64());
    let operator = proc_stats(live.op.pid());
    let cpu = control_plane_cpu(plane);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let writes = diff(&writes_before, &apiserver_requests(client).await);
    let metrics = operator_metrics(&live.addr).await;
    RunResult {
        label: label.into(),
        n,
        tables: bench.tables,
        apply_s: apply_time.as_secs_f64(),
        all_ready_s: all_ready,
        ready: watch.count(),
        latency: Latency::of(&latencies(&created, &watch)),
        cloud_calls: as_f64(live.sim.calls().await),
        operator_calls: operator_calls(&metrics),
        throttled: throttled(&metrics),
        writes: WriteSummary::of(&writes),
        apiserver_requests: writes,
        operator_status_writes: total(&metrics, "vpcroute_status_writes_total", &[]),
        operator,
        control_plane_cpu: cpu.since(cpu_before),
    }
}

/// P1 in one mode: fresh everything, converge `n`, stop the operator.
pub async fn run_mode(bench: &Bench, mode: Mode, n: usize) -> RunResult {
    let live = start(bench, "bench-p1", mode, &[]).await;
    converge(bench, &live, &mode.label(), n).await
}

/// The write-only baseline: the same creates, and for each created object (as many in flight as
/// the operator's default concurrency) the minimum an operator must write: a merge patch adding
/// the finalizer and one server-side-apply status write with Ready=True. `capped`: through a
/// client with the operator's requests-in-flight cap; otherwise kube's default client (one
/// connection per request in flight). The faster of the two is the machine's limit.
pub async fn baseline(bench: &Bench, n: usize, capped: bool) -> RunResult {
    let env = fresh_env("bench-baseline").await;
    let (by_policy, status_kind) = (finalizer_by_policy(), baseline_status());
    if by_policy {
        crate::support::policy::install_finalizer_policy(&env).await;
    }
    let client = &env.client;
    let watch = ReadyWatch::start(client, &env.namespace).await;
    let writes_before = apiserver_requests(client).await;
    let created = Mutex::new(HashMap::new());
    let (tx, rx) = futures::channel::mpsc::unbounded::<String>();
    let config = crate::support::cluster::config_from_kubeconfig(&env.kubeconfig).await;
    let writer_client = match capped {
        true => vpcroute_operator::kube_client::with_limit(config, bench.kube_in_flight).expect("client"),
        false => kube::Client::try_from(config).expect("client"),
    };
    let objects = api(&writer_client, &env.namespace);
    let plane = control_plane_pids(&env.kubeconfig);
    let writer = rx.for_each_concurrent(OPERATOR_CONCURRENCY, |name| {
        let objects = &objects;
        async move {
            let finalizer = json!({ "metadata": { "finalizers": [FINALIZER] } });
            let patched = match by_policy {
                true => Ok(()),
                false => objects.patch(&name, &PatchParams::default(), &Patch::Merge(&finalizer)).await.map(drop),
            };
            if let Err(e) = patched {
                eprintln!("converge: baseline finalizer patch of {name}: {e}");
            }
            let ssa = PatchParams::apply(BASELINE_MANAGER).force();
            let bodies = match status_kind {
                BaselineStatus::OperatorShaped => vec![operator_like_status(false), operator_like_status(true)],
                _ => vec![minimal_status()],
            };
            for status in bodies {
                let written = match status_kind {
                    BaselineStatus::Merge => {
                        objects.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await
                    }
                    _ => objects.patch_status(&name, &ssa, &Patch::Apply(&status)).await,
                };
                if let Err(e) = written {
                    eprintln!("converge: baseline status write of {name}: {e}");
                }
            }
        }
    });
    let cpu_before = control_plane_cpu(plane);
    let start = Instant::now();
    let creates = apply(client, &env.namespace, n, bench.tables, &created, Some(tx));
    let (apply_time, ()) = futures::join!(creates, writer);
    let all = watch.wait_all(n, bench.timeout).await;
    let all_ready = watch.last().filter(|_| all).map(|t| t.duration_since(start).as_secs_f64());
    let cpu = control_plane_cpu(plane);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes = diff(&writes_before, &apiserver_requests(client).await);
    RunResult {
        label: match capped {
            true => format!("baseline, ≤{} in flight", bench.kube_in_flight),
            false => "baseline, uncapped".into(),
        },
        n,
        tables: bench.tables,
        apply_s: apply_time.as_secs_f64(),
        all_ready_s: all_ready,
        ready: watch.count(),
        latency: Latency::of(&latencies(&created, &watch)),
        writes: WriteSummary::of(&writes),
        apiserver_requests: writes,
        control_plane_cpu: cpu.since(cpu_before),
        ..RunResult::default()
    }
}

/// How the baselines write status (`VPCROUTE_BENCH_BASELINE_STATUS`), to see what each part of
/// the operator's status writes costs the API server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BaselineStatus {
    /// One small status, server-side apply (the default).
    Apply,
    /// `merge`: the same, as a JSON merge patch.
    Merge,
    /// `operator`: two server-side applies shaped like the operator's (the pending record, then
    /// the outcome with the route record).
    OperatorShaped,
}

fn baseline_status() -> BaselineStatus {
    match std::env::var("VPCROUTE_BENCH_BASELINE_STATUS").as_deref() {
        Ok("merge") => BaselineStatus::Merge,
        Ok("operator") => BaselineStatus::OperatorShaped,
        _ => BaselineStatus::Apply,
    }
}

fn status_body(status: serde_json::Value) -> serde_json::Value {
    json!({ "apiVersion": VpcRoute::api_version(&()), "kind": VpcRoute::kind(&()), "status": status })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn minimal_status() -> serde_json::Value {
    let ready = json!({ "type": "Ready", "status": "True", "reason": "Created", "message": "baseline: no cloud call",
                        "observedGeneration": 1, "lastTransitionTime": now() });
    status_body(json!({ "observedGeneration": 1, "conditions": [ready] }))
}

/// A status as the operator writes it, built with its own types: `done` false is the pending
/// record written before a create, true the outcome.
fn operator_like_status(done: bool) -> serde_json::Value {
    use vpcroute_operator::crd::{NextTypeName, Origin, OwnedRoute, PendingOperation, PendingWrite, VpcRouteStatus};
    use vpcroute_operator::reasons::Reason;
    use vpcroute_operator::status::{Readiness, with_readiness};
    let route = OwnedRoute {
        region: "ap-guangzhou".into(),
        vpc_id: "vpc-amhnnao5".into(),
        route_table_id: "rtb-rel03".into(),
        destination_cidr_block: "10.128.107.0/24".into(),
        next_type: NextTypeName::VpnGateway,
        next_hub: "vpngw-dystbrkv".into(),
        origin: Origin::Created,
        route_item_id: None,
        route_id: None,
    };
    let what = "route 10.128.107.0/24 -> VpnGateway(1) vpngw-dystbrkv in rtb-rel03";
    let draft =
        VpcRouteStatus { destination_cidr_block: Some(route.destination_cidr_block.clone()), ..Default::default() };
    let (draft, readiness) = match done {
        false => {
            let pending =
                PendingWrite { operation: PendingOperation::Create, route, previous: None, started_at: Some(now()) };
            let draft = VpcRouteStatus { pending: Some(Box::new(pending)), ..draft };
            (draft, Readiness::not_ready(Reason::Creating, format!("creating {what}")))
        }
        true => {
            let route = OwnedRoute { route_item_id: Some("rti-b176vcqs".into()), route_id: Some(119), ..route };
            let draft = VpcRouteStatus { route: Some(route), ..draft };
            (draft, Readiness::ready(Reason::Created, format!("{what} is in place (created by this resource)")))
        }
    };
    status_body(serde_json::to_value(with_readiness(draft, &readiness, Some(1), &now())).expect("status"))
}

/// `VPCROUTE_BENCH_BASELINE_FINALIZER=policy`: the baselines get the finalizer from the chart's
/// admission policy, as the operator does, instead of a patch of their own.
fn finalizer_by_policy() -> bool {
    std::env::var("VPCROUTE_BENCH_BASELINE_FINALIZER").is_ok_and(|v| v == "policy")
}

/// Warms the API server up (the first writes after the CRD is installed are slow) so the first
/// measured run is not penalised: creates 2×[`CLIENT_CONCURRENCY`] objects in a scratch namespace.
pub async fn warm_up(bench: &Bench) {
    let env = fresh_env("bench-warmup").await;
    let created = Mutex::new(HashMap::new());
    apply(&env.client, &env.namespace, 2 * CLIENT_CONCURRENCY, bench.tables, &created, None).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Cloud calls that only read (`Describe…`).
pub fn reads(calls: &BTreeMap<String, f64>) -> f64 {
    calls.iter().filter(|(a, _)| a.starts_with("Describe")).fold(0.0, |sum, (_, v)| sum + v)
}

/// Cloud calls that change something.
pub fn cloud_writes(calls: &BTreeMap<String, f64>) -> f64 {
    calls.iter().filter(|(a, _)| !a.starts_with("Describe")).fold(0.0, |sum, (_, v)| sum + v)
}

/// What happened in a quiet window (P2) or a restart (P3).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Window {
    pub label: String,
    pub n: usize,
    pub seconds: f64,
    pub cloud_calls: BTreeMap<String, f64>,
    pub cloud_reads: f64,
    pub cloud_writes: f64,
    pub writes: WriteSummary,
    pub apiserver_requests: Requests,
    /// The operator's status writes in the window.
    pub operator_status_writes: f64,
    /// Successful reconciles in the window.
    pub reconciles_ok: f64,
    /// P3: until `vpcroute_reconciles_total{result="ok"}` ≥ N after the restart; `None` if never.
    pub verified_s: Option<f64>,
}

/// P2: converge `n` with a short resync, then measure exactly one resync period.
pub async fn resync(bench: &Bench, n: usize, resync_s: u64) -> (RunResult, Window) {
    let resync_flag = resync_s.to_string();
    let live =
        start(bench, "bench-p2", Mode { api: "3.0", max_batch: None }, &["--resync-seconds", &resync_flag]).await;
    let converged = converge(bench, &live, "3.0 batched (P2 setup)", n).await;
    let client = &live.env.client;
    let before = (as_f64(live.sim.calls().await), apiserver_requests(client).await, operator_metrics(&live.addr).await);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(resync_s)).await;
    let after = (as_f64(live.sim.calls().await), apiserver_requests(client).await, operator_metrics(&live.addr).await);
    let calls = diff(&before.0, &after.0);
    let writes = diff(&before.1, &after.1);
    let counter = |m: &[crate::measure::Sample], name: &str, want: &[(&str, &str)]| total(m, name, want);
    let window = Window {
        label: format!("one resync ({resync_s} s)"),
        n,
        seconds: started.elapsed().as_secs_f64(),
        cloud_reads: reads(&calls),
        cloud_writes: cloud_writes(&calls),
        cloud_calls: calls,
        writes: WriteSummary::of(&writes),
        apiserver_requests: writes,
        operator_status_writes: counter(&after.2, "vpcroute_status_writes_total", &[])
            - counter(&before.2, "vpcroute_status_writes_total", &[]),
        reconciles_ok: counter(&after.2, "vpcroute_reconciles_total", &[("result", "ok")])
            - counter(&before.2, "vpcroute_reconciles_total", &[("result", "ok")]),
        verified_s: None,
    };
    (converged, window)
}

/// P3 and P4: converge `n` (peak memory while converging), let it settle (memory in sync), kill
/// and restart the operator and measure until it has verified every object.
pub async fn restart(bench: &Bench, n: usize) -> (RunResult, ProcStats, Window, ProcStats) {
    let mut live = start(bench, "bench-p3", Mode { api: "3.0", max_batch: None }, &[]).await;
    let converged = converge(bench, &live, "3.0 batched (P3/P4 setup)", n).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let in_sync = proc_stats(live.op.pid());
    let client = live.env.client.clone();
    let before = (as_f64(live.sim.calls().await), apiserver_requests(&client).await);
    let started = Instant::now();
    live.op.restart();
    let deadline = started + bench.timeout;
    let mut verified = None;
    let mut metrics = Vec::new();
    while Instant::now() < deadline {
        metrics = operator_metrics(&live.addr).await;
        if total(&metrics, "vpcroute_reconciles_total", &[("result", "ok")]) >= n as f64 {
            verified = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restarted = proc_stats(live.op.pid());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = diff(&before.0, &as_f64(live.sim.calls().await));
    let writes = diff(&before.1, &apiserver_requests(&client).await);
    let window = Window {
        label: "operator restart".into(),
        n,
        seconds: started.elapsed().as_secs_f64(),
        cloud_reads: reads(&calls),
        cloud_writes: cloud_writes(&calls),
        cloud_calls: calls,
        writes: WriteSummary::of(&writes),
        apiserver_requests: writes,
        operator_status_writes: total(&metrics, "vpcroute_status_writes_total", &[]),
        reconciles_ok: total(&metrics, "vpcroute_reconciles_total", &[("result", "ok")]),
        verified_s: verified,
    };
    (converged, in_sync, window, restarted)
}

/// P5 result.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Single {
    pub repetitions: usize,
    pub latency: Latency,
    pub latency_ms_of_emulator: u64,
    /// p50 minus the emulator's per-call latency.
    pub p50_above_emulator_ms: f64,
    pub cloud_calls_per_apply: BTreeMap<String, f64>,
    /// The T applies before, each the first route of a table the operator had not read.
    pub first_of_table: Latency,
    pub first_of_table_calls_per_apply: BTreeMap<String, f64>,
}

/// P5: one object at a time on an idle system. First one route for each of the T tables (the
/// operator has never read them: a read and a create), then `reps` more on those tables, now
/// known (the steady state of a running operator, which reads every table it manages at each
/// resync: a create only).
pub async fn single(bench: &Bench, reps: usize) -> Single {
    let live = start(bench, "bench-p5", Mode { api: "3.0", max_batch: None }, &[]).await;
    let client = &live.env.client;
    let watch = ReadyWatch::start(client, &live.env.namespace).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let objects = api(client, &live.env.namespace);
    let mut applied = 0;
    let mut one_at_a_time = async |count: usize| {
        let mut samples = Vec::new();
        for _ in 0..count {
            let i = applied;
            applied += 1;
            let object = VpcRoute::new(&name(i), route_spec(i, bench.tables));
            if let Err(e) = objects.create(&PostParams::default(), &object).await {
                eprintln!("converge: P5 create {}: {e}", name(i));
                continue;
            }
            let created = Instant::now();
            if watch.wait_all(i + 1, Duration::from_secs(60)).await
                && let Some(seen) = watch.seen(&name(i))
            {
                samples.push(ms(seen.saturating_duration_since(created)));
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Latency::of(&samples)
    };
    live.sim.reset_calls().await;
    let first_of_table = one_at_a_time(bench.tables).await;
    let first_calls = as_f64(live.sim.calls().await);
    live.sim.reset_calls().await;
    let latency = one_at_a_time(reps).await;
    let per_apply =
        |calls: BTreeMap<String, f64>, n: usize| calls.into_iter().map(|(k, v)| (k, v / n.max(1) as f64)).collect();
    Single {
        repetitions: reps,
        p50_above_emulator_ms: latency.p50_ms - bench.latency_ms as f64,
        latency,
        latency_ms_of_emulator: bench.latency_ms,
        cloud_calls_per_apply: per_apply(as_f64(live.sim.calls().await), reps),
        first_of_table,
        first_of_table_calls_per_apply: per_apply(first_calls, bench.tables),
    }
}
