//! The report of `cargo bench --bench converge` (see `main.rs`): tables on stdout, the
//! "targets" section (MET / NOT MET with the measured figure; nothing is asserted) and the JSON
//! document written under `target/bench/`. Pure apart from printing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::measure::ProcStats;
use crate::modes::{RunResult, Single, Window};

/// Everything measured in one invocation.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub config: BTreeMap<String, String>,
    /// The faster write-only baseline (the machine's limit), and the other one.
    pub p1_baseline: Option<RunResult>,
    pub p1_baseline_other: Option<RunResult>,
    pub p1_modes: Vec<RunResult>,
    pub p2_setup: Option<RunResult>,
    pub p2_resync: Option<Window>,
    pub p3_setup: Option<RunResult>,
    pub p3_restart: Option<Window>,
    pub p4_converging: Option<ProcStats>,
    pub p4_in_sync: Option<ProcStats>,
    pub p4_after_restart: Option<ProcStats>,
    pub p5_single: Option<Single>,
    pub targets: Vec<Target>,
}

/// One target of the issue, compared with what was measured.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub scenario: &'static str,
    pub target: String,
    pub measured: String,
    /// `None` when the figure could not be measured (e.g. not everything converged).
    pub met: Option<bool>,
}

fn fmt_s(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.2}")).unwrap_or_else(|| "—".into())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn fmt_x(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "—".into())
}

fn per(v: f64, n: usize) -> f64 {
    v / n.max(1) as f64
}

fn calls_text(calls: &BTreeMap<String, f64>) -> String {
    if calls.is_empty() {
        return "none".into();
    }
    let fmt = |v: &f64| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.2}") };
    calls.iter().map(|(a, v)| format!("{a} {}", fmt(v))).collect::<Vec<_>>().join(", ")
}

fn verbs_text(map: &BTreeMap<String, f64>) -> String {
    if map.is_empty() {
        return "0".into();
    }
    map.iter().map(|(v, n)| format!("{v} {n:.0}")).collect::<Vec<_>>().join(" + ")
}

/// The batched run of the same API as `run`, for the one-per-call ratio.
fn batched_of<'a>(modes: &'a [RunResult], run: &RunResult) -> Option<&'a RunResult> {
    let api = run.label.split(' ').next()?;
    modes.iter().find(|m| m.label == format!("{api} batched"))
}

/// Prints P1's table: one row per mode plus the baseline.
pub fn print_p1(report: &Report) {
    let base = report.p1_baseline.as_ref();
    let base_s = base.and_then(|b| b.all_ready_s);
    println!();
    println!("P1 convergence: apply→Ready of N objects over T tables (latency per object from a WATCH)");
    println!(
        "{:<22} {:>6} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7}",
        "mode",
        "ready",
        "apply s",
        "all Rdy s",
        "×basel.",
        "×batch.",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "cloud/rt",
        "throt",
        "obj/rt",
        "st/rt",
        "jr/rt",
        "ev/rt",
        "RSS MiB",
    );
    let baselines = base.into_iter().chain(report.p1_baseline_other.as_ref());
    let rows = baselines.clone().chain(report.p1_modes.iter());
    for run in rows {
        let batched = batched_of(&report.p1_modes, run).filter(|b| b.label != run.label);
        let cloud = run.cloud_calls.values().fold(0.0, |sum, v| sum + v);
        println!(
            "{:<22} {:>6} {:>8.2} {:>9} {:>8} {:>8} {:>8.0} {:>8.0} {:>8.0} {:>9.3} {:>6.0} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>7.1}",
            run.label,
            format!("{}/{}", run.ready, run.n),
            run.apply_s,
            fmt_s(run.all_ready_s),
            fmt_x(ratio(run.all_ready_s, base_s)),
            fmt_x(ratio(run.all_ready_s, batched.and_then(|b| b.all_ready_s))),
            run.latency.p50_ms,
            run.latency.p95_ms,
            run.latency.p99_ms,
            per(cloud, run.n),
            run.throttled,
            per(run.writes.object_writes(), run.n),
            per(run.writes.status_writes(), run.n),
            per(run.writes.journal_writes(), run.n),
            per(run.writes.event_writes(), run.n),
            run.operator.peak_rss_mib,
        );
    }
    println!(
        "  columns: ×basel. = all-Ready time / the faster write-only baseline's; ×batch. = one-per-call / batched (same API);"
    );
    println!("  cloud/rt = cloud calls per route; throt = throttled answers (operator's metrics);");
    println!("  obj/rt, st/rt, jr/rt, ev/rt = kube-apiserver writes per route on vpcroutes (client CREATE excluded),");
    println!("  vpcroutes/status, configmaps (the create journal) and events; RSS = operator peak (VmHWM).");
    for run in baselines.chain(report.p1_modes.iter()) {
        println!("  {}:", run.label);
        if !run.cloud_calls.is_empty() {
            println!("    cloud calls (vpc-sim): {}", calls_text(&run.cloud_calls));
            println!("    operator's calls by code: {}", calls_text(&run.operator_calls));
            println!(
                "    operator: CPU {:.2} s, peak RSS {:.1} MiB, status writes (own counter) {:.0}",
                run.operator.cpu_seconds, run.operator.peak_rss_mib, run.operator_status_writes
            );
        }
        println!(
            "    control plane until all Ready: kube-apiserver CPU {:.2} s ({:.1} ms per route), etcd CPU {:.2} s",
            run.control_plane_cpu.apiserver_s,
            1000.0 * per(run.control_plane_cpu.apiserver_s, run.n),
            run.control_plane_cpu.etcd_s
        );
        println!("    apiserver reads: {}", crate::measure::reads_text(&run.apiserver_requests));
        println!(
            "    apiserver writes: vpcroutes [{}], vpcroutes/status [{}], events [{}], configmaps (create journal) [{}]",
            verbs_text(&run.writes.vpcroutes),
            verbs_text(&run.writes.status),
            verbs_text(&run.writes.events),
            verbs_text(&run.writes.configmaps)
        );
    }
}

fn print_window(w: &Window) {
    println!(
        "  {} over {:.1} s, N={}: cloud reads {:.0}, cloud writes {:.0} [{}]",
        w.label,
        w.seconds,
        w.n,
        w.cloud_reads,
        w.cloud_writes,
        calls_text(&w.cloud_calls)
    );
    println!(
        "    apiserver writes: vpcroutes [{}], vpcroutes/status [{}], events [{}], configmaps [{}]; operator status writes {:.0}; reconciles ok {:.0}",
        verbs_text(&w.writes.vpcroutes),
        verbs_text(&w.writes.status),
        verbs_text(&w.writes.events),
        verbs_text(&w.writes.configmaps),
        w.operator_status_writes,
        w.reconciles_ok
    );
    if let Some(v) = w.verified_s {
        println!("    every object verified (reconciles ok ≥ N) {v:.2} s after the restart");
    } else if w.label == "operator restart" {
        println!("    NOT every object verified before the timeout");
    }
}

/// Prints P2–P5.
pub fn print_rest(report: &Report) {
    if let (Some(setup), Some(w)) = (&report.p2_setup, &report.p2_resync) {
        println!();
        println!("P2 one resync of everything in sync (converged {} in {} s first)", setup.n, fmt_s(setup.all_ready_s));
        print_window(w);
    }
    if let (Some(setup), Some(w)) = (&report.p3_setup, &report.p3_restart) {
        println!();
        println!("P3 operator restart with {} in sync (converged in {} s first)", setup.n, fmt_s(setup.all_ready_s));
        print_window(w);
    }
    if let Some(c) = &report.p4_converging {
        println!();
        println!("P4 operator memory at {} objects", report.p3_setup.as_ref().map_or(0, |s| s.n));
        println!("  while converging: peak RSS {:.1} MiB, CPU {:.2} s", c.peak_rss_mib, c.cpu_seconds);
        if let Some(s) = &report.p4_in_sync {
            println!("  in sync afterwards: RSS {:.1} MiB (peak so far {:.1} MiB)", s.rss_mib, s.peak_rss_mib);
        }
        if let Some(r) = &report.p4_after_restart {
            println!(
                "  restarted process, once everything was verified: peak RSS {:.1} MiB, RSS {:.1} MiB, CPU {:.2} s",
                r.peak_rss_mib, r.rss_mib, r.cpu_seconds
            );
        }
    }
    if let Some(p5) = &report.p5_single {
        println!();
        println!(
            "P5 single apply on an idle system, to a table the operator knows ({} times): p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; emulator latency {} ms per call; p50 − latency = {:.0} ms",
            p5.repetitions,
            p5.latency.p50_ms,
            p5.latency.p95_ms,
            p5.latency.max_ms,
            p5.latency_ms_of_emulator,
            p5.p50_above_emulator_ms
        );
        println!("  cloud calls per apply: {}", calls_text(&p5.cloud_calls_per_apply));
        let first = &p5.first_of_table;
        println!(
            "  the first route of each table (a read, then the create): p50 {:.0} ms, p95 {:.0} ms; calls per apply: {}",
            first.p50_ms,
            first.p95_ms,
            calls_text(&p5.first_of_table_calls_per_apply)
        );
    }
}

fn target(scenario: &'static str, target: &str, measured: String, met: Option<bool>) -> Target {
    Target { scenario, target: target.into(), measured, met }
}

/// Compares the measurements with the targets.
pub fn targets(report: &Report, tables: usize) -> Vec<Target> {
    let mut out = Vec::new();
    let find = |label: &str| report.p1_modes.iter().find(|m| m.label == label);
    let batched = find("3.0 batched");
    if let Some(b) = batched {
        if let Some(base) = &report.p1_baseline {
            let r = ratio(b.all_ready_s, base.all_ready_s);
            let text = format!("{} s vs baseline {} s = {}", fmt_s(b.all_ready_s), fmt_s(base.all_ready_s), fmt_x(r));
            out.push(target("P1", "all Ready within 1.25× the write-only baseline", text, r.map(|r| r <= 1.25)));
        }
        if let Some(slow) = find("2.0 max-batch 1") {
            let r = ratio(slow.all_ready_s, b.all_ready_s);
            let text = format!(
                "2.0 one-per-call {} s / 3.0 batched {} s = {}",
                fmt_s(slow.all_ready_s),
                fmt_s(b.all_ready_s),
                fmt_x(r)
            );
            out.push(target("P1", "≥10× faster than one-route-per-call on 2.0", text, r.map(|r| r >= 10.0)));
        }
        let creates = b.cloud_calls.get("CreateRoutes").copied().unwrap_or(0.0);
        let limit = 2.0 * b.n as f64 / 50.0;
        out.push(target(
            "P1",
            "CreateRoutes calls ≤ 2×N/50",
            format!("{creates:.0} (limit {limit:.1})"),
            Some(creates <= limit),
        ));
        let writes = per(b.writes.object_writes() + b.writes.status_writes() + b.writes.journal_writes(), b.n);
        out.push(target(
            "P1",
            "API-server writes on the create path ≤ 2 per route besides Events",
            format!(
                "{writes:.2} per route (vpcroutes [{}], status [{}], create journal [{}]; events {:.2}/route)",
                verbs_text(&b.writes.vpcroutes),
                verbs_text(&b.writes.status),
                verbs_text(&b.writes.configmaps),
                per(b.writes.event_writes(), b.n)
            ),
            Some(writes <= 2.0),
        ));
    }
    if !report.p1_modes.is_empty() {
        let throttled = report.p1_modes.iter().fold(0.0, |sum, m| sum + m.throttled);
        let each = report.p1_modes.iter().map(|m| format!("{} {:.0}", m.label, m.throttled)).collect::<Vec<_>>();
        out.push(target(
            "P1",
            "0 throttled answers under the limits",
            format!("{throttled:.0} ({})", each.join(", ")),
            Some(throttled == 0.0),
        ));
    }
    if let Some(w) = &report.p2_resync {
        let api_writes = w.writes.object_writes() + w.writes.status_writes();
        out.push(target(
            "P2",
            &format!("one resync = T ({tables}) reads, 0 writes"),
            format!(
                "{:.0} reads, {:.0} cloud writes, {:.0} API-server writes to VpcRoutes",
                w.cloud_reads, w.cloud_writes, api_writes
            ),
            Some(w.cloud_reads == tables as f64 && w.cloud_writes == 0.0 && api_writes == 0.0),
        ));
    }
    if let Some(w) = &report.p3_restart {
        let status = w.operator_status_writes.max(w.writes.status_writes());
        out.push(target(
            "P3",
            &format!("restart: 0 cloud writes, 0 status writes, ≤ T ({tables}) reads"),
            format!(
                "{:.0} cloud writes, {status:.0} status writes, {:.0} reads; verified in {} s",
                w.cloud_writes,
                w.cloud_reads,
                fmt_s(w.verified_s)
            ),
            Some(w.cloud_writes == 0.0 && status == 0.0 && w.cloud_reads <= tables as f64 && w.verified_s.is_some()),
        ));
    }
    if let Some(c) = &report.p4_converging {
        let in_sync = report.p4_after_restart.or(report.p4_in_sync).map_or(0.0, |s| s.peak_rss_mib);
        out.push(target(
            "P4",
            "operator RSS ≤ 64 MiB (converging and in sync)",
            format!("converging peak {:.1} MiB, in-sync (restarted) peak {in_sync:.1} MiB", c.peak_rss_mib),
            Some(c.peak_rss_mib <= 64.0 && in_sync <= 64.0),
        ));
    }
    if let Some(p5) = &report.p5_single {
        let d = p5.p50_above_emulator_ms;
        out.push(target(
            "P5",
            "single apply p50 ≤ 100 ms above the emulator latency",
            format!("p50 {:.0} ms − {} ms = {d:.0} ms", p5.latency.p50_ms, p5.latency_ms_of_emulator),
            (!d.is_nan()).then_some(d <= 100.0),
        ));
    }
    out
}

/// Prints the targets section.
pub fn print_targets(targets: &[Target]) {
    println!();
    println!("targets");
    for t in targets {
        let verdict = match t.met {
            Some(true) => "MET",
            Some(false) => "NOT MET",
            None => "NOT MEASURED",
        };
        println!("  [{verdict:^12}] {} {}: {}", t.scenario, t.target, t.measured);
    }
}
