//! Convergence benchmark, run on demand: `cargo bench --bench converge`.
//!
//! "Fastest to converge under a real cloud's limits": applies N VpcRoutes over T route tables
//! against the real kube-apiserver, vpc-sim with a per-call latency and Tencent's published
//! per-action rate limits, and the release operator binary; prints tables and a "targets"
//! section and writes JSON to `target/bench/converge-<timestamp>.json`. Prints numbers and
//! asserts nothing about time. It builds the control plane itself (`bash tests/cluster/build.sh`,
//! seconds when cached).
//!
//! Scenarios (`VPCROUTE_BENCH=P1,P2,P3,P4,P5`, default all):
//! - P1 convergence of N in four modes (API 3.0/2.0 × batched/`--max-batch 1`) and a write-only
//!   baseline (the minimum API-server writes per object, no operator);
//! - P2 one resync of everything in sync (`--resync-seconds`, default 10);
//! - P3 operator restart with BIG_N in sync; P4 operator memory at BIG_N (same run as P3);
//! - P5 a single apply on an idle system, repeated.
//!
//! Sizes: `VPCROUTE_BENCH_N` (1000), `VPCROUTE_BENCH_TABLES` (20), `VPCROUTE_BENCH_BIG_N` (10000);
//! also `VPCROUTE_BENCH_LATENCY_MS` (80), `VPCROUTE_BENCH_RESYNC_SECONDS` (10),
//! `VPCROUTE_BENCH_SINGLE_REPS` (20), `VPCROUTE_BENCH_TIMEOUT_SECONDS` (1800 per convergence);
//! `VPCROUTE_BENCH_OPERATOR_ARGS` adds operator flags to every mode (e.g. `--batch-linger-ms 300`);
//! `VPCROUTE_BENCH_KUBE_IN_FLIGHT` (32, the operator's default) is the operator's
//! `--kube-in-flight` and the capped baseline's cap. P1 runs the baseline twice, capped and with
//! kube's default client, and compares with the faster; `VPCROUTE_BENCH_BASELINE_STATUS=merge`
//! makes their status write a JSON merge patch instead of server-side apply (the operator's),
//! `=operator` two applies shaped like the operator's (pending record, then outcome).
//! Small example: `VPCROUTE_BENCH_N=40 VPCROUTE_BENCH_TABLES=4 VPCROUTE_BENCH_BIG_N=200 cargo bench --bench converge`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/mod.rs"]
mod support;

mod measure;
mod modes;
mod report;
mod world;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use modes::{Bench, Mode};
use report::Report;
use support::cluster::launcher::repo_root;

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("converge: {name}={v:?} is not a number; using the default");
            default
        }),
        Err(_) => default,
    }
}

/// `$CARGO_TARGET_DIR` (relative paths are relative to the package root, the bench's cwd) or
/// `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// Builds (or finds cached) kube-apiserver, the launcher and kubectl.
fn build_cluster() -> bool {
    eprintln!("converge: bash tests/cluster/build.sh (seconds when cached; a cold build takes 10-15 minutes)");
    let status =
        Command::new("bash").arg("tests/cluster/build.sh").current_dir(repo_root()).stdout(std::io::stderr()).status();
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => {
            eprintln!("converge: tests/cluster/build.sh failed ({s})");
            false
        }
        Err(e) => {
            eprintln!("converge: cannot run bash tests/cluster/build.sh: {e}");
            false
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let selected: Vec<String> = std::env::var("VPCROUTE_BENCH")
        .unwrap_or_else(|_| "P1,P2,P3,P4,P5".into())
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let on = |p: &str| selected.iter().any(|s| s == p);
    let n: usize = env_num("VPCROUTE_BENCH_N", 1000);
    let tables: usize = env_num::<usize>("VPCROUTE_BENCH_TABLES", 20).max(1);
    let big_n: usize = env_num("VPCROUTE_BENCH_BIG_N", 10_000);
    let latency_ms: u64 = env_num("VPCROUTE_BENCH_LATENCY_MS", 80);
    let resync_s: u64 = env_num::<u64>("VPCROUTE_BENCH_RESYNC_SECONDS", 10).max(1);
    let reps: usize = env_num::<usize>("VPCROUTE_BENCH_SINGLE_REPS", 20).max(1);
    let timeout = Duration::from_secs(env_num("VPCROUTE_BENCH_TIMEOUT_SECONDS", 1800));

    if !build_cluster() {
        return ExitCode::FAILURE;
    }
    let max_routes = world::max_per_table(n.max(if on("P3") || on("P4") { big_n } else { 0 }), tables);
    let kube_in_flight: usize =
        env_num::<usize>("VPCROUTE_BENCH_KUBE_IN_FLIGHT", modes::OPERATOR_KUBE_IN_FLIGHT).max(1);
    let world = world::world_yaml(tables, max_routes, latency_ms);
    let bench = Bench { tables, kube_in_flight, world, latency_ms, timeout };
    if let Err(e) = vpc_sim::world::parse(&bench.world) {
        eprintln!("converge: the generated world is not valid: {e}");
        return ExitCode::FAILURE;
    }
    let operator = env!("CARGO_BIN_EXE_vpcroute-operator");
    println!(
        "converge: scenarios {} | N={n} T={tables} BIG_N={big_n} | emulator latency {latency_ms} ms per call, published rate limits | operator {operator}",
        selected.join(",")
    );
    eprintln!("converge: warming the API server up");
    modes::warm_up(&bench).await;
    let mut report = Report::default();
    let config = [
        ("scenarios", selected.join(",")),
        ("n", n.to_string()),
        ("tables", tables.to_string()),
        ("big_n", big_n.to_string()),
        ("latency_ms", latency_ms.to_string()),
        ("resync_seconds", resync_s.to_string()),
        ("single_reps", reps.to_string()),
        ("client_concurrency", modes::CLIENT_CONCURRENCY.to_string()),
        ("kube_in_flight", kube_in_flight.to_string()),
        ("operator", operator.to_string()),
        ("rate_limits", world::RATE_LIMITS.iter().map(|(a, r)| format!("{a}={r}")).collect::<Vec<_>>().join(",")),
    ];
    report.config = config.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<_, _>>();

    if on("P1") {
        eprintln!("converge: P1 write-only baselines (capped like the operator's client, and uncapped), N={n}");
        let capped = modes::baseline(&bench, n, true).await;
        let uncapped = modes::baseline(&bench, n, false).await;
        let faster = |a: &modes::RunResult, b: &modes::RunResult| {
            a.all_ready_s.unwrap_or(f64::MAX) <= b.all_ready_s.unwrap_or(f64::MAX)
        };
        let (best, other) = if faster(&uncapped, &capped) { (uncapped, capped) } else { (capped, uncapped) };
        report.p1_baseline = Some(best);
        report.p1_baseline_other = Some(other);
        for mode in [
            Mode { api: "3.0", max_batch: None },
            Mode { api: "3.0", max_batch: Some(1) },
            Mode { api: "2.0", max_batch: None },
            Mode { api: "2.0", max_batch: Some(1) },
        ] {
            eprintln!("converge: P1 {}, N={n}", mode.label());
            report.p1_modes.push(modes::run_mode(&bench, mode, n).await);
        }
        report::print_p1(&report);
    }
    if on("P2") {
        eprintln!("converge: P2 converge N={n} with --resync-seconds {resync_s}, then one resync");
        let (setup, window) = modes::resync(&bench, n, resync_s).await;
        report.p2_setup = Some(setup);
        report.p2_resync = Some(window);
    }
    if on("P3") || on("P4") {
        eprintln!("converge: P3/P4 converge BIG_N={big_n}, then restart the operator");
        let (setup, in_sync, window, restarted) = modes::restart(&bench, big_n).await;
        if on("P4") {
            report.p4_converging = Some(setup.operator);
            report.p4_in_sync = Some(in_sync);
            report.p4_after_restart = Some(restarted);
        }
        if on("P3") {
            report.p3_restart = Some(window);
        }
        report.p3_setup = Some(setup);
    }
    if on("P5") {
        eprintln!("converge: P5 single apply, {reps} times");
        report.p5_single = Some(modes::single(&bench, reps).await);
    }
    report::print_rest(&report);
    report.targets = report::targets(&report, tables);
    report::print_targets(&report.targets);

    let dir = target_dir().join("bench");
    let file = dir.join(format!("converge-{}.json", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&file, serde_json::to_string_pretty(&report).unwrap_or_default()));
    match written {
        Ok(()) => println!("\nconverge: JSON written to {}", file.display()),
        Err(e) => eprintln!("converge: cannot write {}: {e}", file.display()),
    }
    ExitCode::SUCCESS
}
