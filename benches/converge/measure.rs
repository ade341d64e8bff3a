//! Measuring instruments of `cargo bench --bench converge` (see `main.rs`): a WATCH on VpcRoutes
//! that notes when each object's Ready=True is first seen, kube-apiserver's own
//! `apiserver_request_total` counters, the operator's `/metrics`, vpc-sim's call counts and the
//! operator process's memory and CPU from `/proc`. Does cluster, network and /proc I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::Client;
use kube::runtime::watcher;
use serde::Serialize;
use vpcroute_operator::crd::VpcRoute;

use crate::support::routes::api;

/// When each object's Ready=True was first seen by a watch on one namespace.
pub struct ReadyWatch {
    seen: Arc<Mutex<HashMap<String, Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

fn is_ready(obj: &VpcRoute) -> bool {
    obj.status.as_ref().is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

impl ReadyWatch {
    /// Starts watching `ns` and returns once the watch's initial list is done.
    pub async fn start(client: &Client, ns: &str) -> ReadyWatch {
        let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let (synced_tx, synced_rx) = tokio::sync::oneshot::channel();
        let stream = watcher(api(client, ns), watcher::Config::default());
        let record = seen.clone();
        let task = tokio::spawn(async move {
            let mut synced = Some(synced_tx);
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                let now = Instant::now();
                match event {
                    Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj)) if is_ready(&obj) => {
                        let name = obj.metadata.name.clone().unwrap_or_default();
                        record.lock().unwrap().entry(name).or_insert(now);
                    }
                    Ok(watcher::Event::InitDone) => {
                        if let Some(tx) = synced.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("converge: watch error (the watcher retries): {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        let _ = tokio::time::timeout(Duration::from_secs(60), synced_rx).await;
        ReadyWatch { seen, task }
    }

    /// How many objects were seen Ready.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    /// When `name` was first seen Ready.
    pub fn seen(&self, name: &str) -> Option<Instant> {
        self.seen.lock().unwrap().get(name).copied()
    }

    /// The latest first-seen-Ready instant.
    pub fn last(&self) -> Option<Instant> {
        self.seen.lock().unwrap().values().max().copied()
    }

    /// Waits until `n` objects were seen Ready or `timeout` passes; returns whether all were.
    pub async fn wait_all(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.count() < n {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `p`-th percentile (0–100, nearest rank) of `values`, in the values' unit.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50/p95/p99/max of a latency sample, milliseconds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(ms: &[f64]) -> Latency {
        Latency {
            count: ms.len(),
            p50_ms: percentile(ms, 50.0),
            p95_ms: percentile(ms, 95.0),
            p99_ms: percentile(ms, 99.0),
            max_ms: percentile(ms, 100.0),
        }
    }
}

/// One Prometheus sample: name, labels, value.
pub type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the samples of a Prometheus text exposition (comments skipped).
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).filter_map(parse_sample).collect()
}

fn parse_sample(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let Some((name, rest)) = series.split_once('{') else {
        return Some((series.to_string(), BTreeMap::new(), value));
    };
    let mut labels = BTreeMap::new();
    let mut rest = rest.strip_suffix('}')?;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut val = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => val.extend(chars.next().map(|(_, c)| c)),
                '"' => {
                    end = i + 1;
                    break;
                }
                c => val.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_string(), val);
        rest = &after[end..];
    }
    Some((name.to_string(), labels, value))
}

/// kube-apiserver requests by `verb resource[/subresource]`, e.g. `PATCH vpcroutes/status`.
pub type Requests = BTreeMap<String, f64>;

/// Write verbs as kube-apiserver labels them in `apiserver_request_total` (a create is `POST`,
/// a replace `PUT`, a server-side apply `APPLY`).
const WRITE_VERBS: &[&str] = &["POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"];

/// Read verbs, counted too (a reconcile that reads an object first costs the API server).
const READ_VERBS: &[&str] = &["GET", "LIST", "WATCH"];

/// kube-apiserver's own counters of write (and read) requests (its `/metrics`), cluster-wide.
pub async fn apiserver_requests(client: &Client) -> Requests {
    // kube's request builder makes the `http::Request` for the plain path `/metrics`.
    let request = kube::core::Request::new("").get("metrics", &kube::api::GetParams::default()).unwrap();
    let text = match client.request_text(request).await {
        Ok(text) => text,
        Err(e) => {
            eprintln!("converge: cannot read kube-apiserver /metrics: {e}");
            return Requests::new();
        }
    };
    let mut requests = Requests::new();
    for (name, labels, value) in parse_metrics(&text) {
        if name != "apiserver_request_total" {
            continue;
        }
        let get = |k: &str| labels.get(k).map(String::as_str).unwrap_or("");
        if !WRITE_VERBS.contains(&get("verb")) && !READ_VERBS.contains(&get("verb")) {
            continue;
        }
        let resource = match get("subresource") {
            "" => get("resource").to_string(),
            sub => format!("{}/{sub}", get("resource")),
        };
        *requests.entry(format!("{} {resource}", get("verb"))).or_default() += value;
    }
    requests
}

/// `after - before`, dropping zeros.
pub fn diff<K: Ord + Clone>(before: &BTreeMap<K, f64>, after: &BTreeMap<K, f64>) -> BTreeMap<K, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v != 0.0)
        .collect()
}

/// vpc-sim call counts as floats (to share [`diff`]).
pub fn as_f64(calls: BTreeMap<String, u64>) -> BTreeMap<String, f64> {
    calls.into_iter().map(|(k, v)| (k, v as f64)).collect()
}

/// Writes to VpcRoutes broken down the way the report wants them (totals, not per route).
#[derive(Clone, Debug, Default, Serialize)]
pub struct WriteSummary {
    /// Every write verb on `vpcroutes` (the object itself) by verb.
    pub vpcroutes: BTreeMap<String, f64>,
    /// Every write verb on `vpcroutes/status` by verb.
    pub status: BTreeMap<String, f64>,
    /// Every write verb on `events` by verb.
    pub events: BTreeMap<String, f64>,
    /// Every write verb on `configmaps` by verb: the operator's create journal (plus the
    /// namespace's `kube-root-ca.crt`, one per run).
    pub configmaps: BTreeMap<String, f64>,
}

impl WriteSummary {
    pub fn of(writes: &Requests) -> WriteSummary {
        let mut s = WriteSummary::default();
        for (key, v) in writes {
            let Some((verb, resource)) = key.split_once(' ') else { continue };
            if !WRITE_VERBS.contains(&verb) {
                continue;
            }
            let bucket = match resource {
                "vpcroutes" => &mut s.vpcroutes,
                "vpcroutes/status" => &mut s.status,
                "events" => &mut s.events,
                "configmaps" => &mut s.configmaps,
                _ => continue,
            };
            *bucket.entry(verb.to_string()).or_default() += v;
        }
        s
    }

    fn sum(map: &BTreeMap<String, f64>, skip: &[&str]) -> f64 {
        map.iter().filter(|(k, _)| !skip.contains(&k.as_str())).fold(0.0, |sum, (_, v)| sum + v)
    }

    /// Writes to `vpcroutes` other than creates (`POST`: the client's).
    pub fn object_writes(&self) -> f64 {
        Self::sum(&self.vpcroutes, &["POST"])
    }

    /// Writes to `vpcroutes/status`.
    pub fn status_writes(&self) -> f64 {
        Self::sum(&self.status, &[])
    }

    /// Writes to `events`.
    pub fn event_writes(&self) -> f64 {
        Self::sum(&self.events, &[])
    }

    /// Writes to `configmaps` (the create journal).
    pub fn journal_writes(&self) -> f64 {
        Self::sum(&self.configmaps, &[])
    }
}

/// The operator's `/metrics`, parsed; empty while it does not answer.
pub async fn operator_metrics(addr: &str) -> Vec<Sample> {
    crate::support::operator::scrape(addr).await.map(|t| parse_metrics(&t)).unwrap_or_default()
}

/// Sum of the samples named `name` whose labels include every `(key, value)` of `want`.
pub fn total(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, labels, _)| n == name && want.iter().all(|(k, v)| labels.get(*k).is_some_and(|x| x == v)))
        .fold(0.0, |sum, (_, _, v)| sum + v)
}

/// Cloud answers that said "throttled": code `RequestLimitExceeded` on 3.0, `4400 …` on 2.0.
pub fn throttled(samples: &[Sample]) -> f64 {
    let throttle = |code: &str| code.contains("RequestLimitExceeded") || code.starts_with("4400");
    samples
        .iter()
        .filter(|(n, labels, _)| n == "vpcroute_cloud_calls_total" && labels.get("code").is_some_and(|c| throttle(c)))
        .fold(0.0, |sum, (_, _, v)| sum + v)
}

/// Cloud calls by action as the operator counted them.
pub fn operator_calls(samples: &[Sample]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (name, labels, v) in samples {
        if name == "vpcroute_cloud_calls_total" {
            let key = format!(
                "{}[{}]",
                labels.get("action").cloned().unwrap_or_default(),
                labels.get("code").cloned().unwrap_or_default()
            );
            *out.entry(key).or_default() += v;
        }
    }
    out
}

/// Memory and CPU of a process.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ProcStats {
    /// Peak resident set (VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// Current resident set (VmRSS), MiB.
    pub rss_mib: f64,
    /// utime + stime, seconds.
    pub cpu_seconds: f64,
}

/// `/proc/<pid>` figures, zeros if the process is gone.
pub fn proc_stats(pid: Option<u32>) -> ProcStats {
    let Some(pid) = pid else { return ProcStats::default() };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |field: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    // After the command name: field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ProcStats {
        peak_rss_mib: kib("VmHWM:") / 1024.0,
        rss_mib: kib("VmRSS:") / 1024.0,
        cpu_seconds: (ticks(11) + ticks(12)) / clock_ticks(),
    }
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The processes of the local control plane behind `kubeconfig`: kube-apiserver (found by its
/// `--secure-port`) and its parent, the launcher, which embeds etcd. `None` on an external
/// cluster or when they cannot be found.
pub fn control_plane_pids(kubeconfig: &std::path::Path) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(kubeconfig).ok()?;
    let server = text.lines().find_map(|l| l.trim().strip_prefix("server:"))?.trim();
    let port = server.rsplit(':').next()?.trim_end_matches('/');
    let flag = format!("--secure-port={port}");
    let apiserver = std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
        let is_apiserver = args.next().is_some_and(|a| a.ends_with("kube-apiserver"));
        (is_apiserver && args.any(|a| a == flag)).then_some(pid)
    })?;
    let stat = std::fs::read_to_string(format!("/proc/{apiserver}/stat")).ok()?;
    let parent = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
    Some((apiserver, parent))
}

/// CPU seconds of kube-apiserver and of etcd's process (the launcher embedding it).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct PlaneCpu {
    pub apiserver_s: f64,
    pub etcd_s: f64,
}

impl PlaneCpu {
    /// What was used since `before`.
    pub fn since(self, before: PlaneCpu) -> PlaneCpu {
        PlaneCpu { apiserver_s: self.apiserver_s - before.apiserver_s, etcd_s: self.etcd_s - before.etcd_s }
    }
}

/// CPU used so far by the control plane's processes (zeros when unknown).
pub fn control_plane_cpu(pids: Option<(u32, u32)>) -> PlaneCpu {
    let cpu = |pid| proc_stats(Some(pid)).cpu_seconds;
    pids.map(|(apiserver, etcd)| PlaneCpu { apiserver_s: cpu(apiserver), etcd_s: cpu(etcd) }).unwrap_or_default()
}

/// The read requests among `requests`, as `verb resource count` for people.
pub fn reads_text(requests: &Requests) -> String {
    let reads: Vec<String> = requests
        .iter()
        .filter(|(k, _)| k.split_once(' ').is_some_and(|(verb, _)| READ_VERBS.contains(&verb)))
        .map(|(k, v)| format!("{k} {v:.0}"))
        .collect();
    if reads.is_empty() { "none".into() } else { reads.join(", ") }
}
