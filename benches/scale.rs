//! Scale benchmark, run on demand: `cargo bench --bench scale` (BENCH_ROUTES, default 2000).
//! Applies many VpcRoutes at once against the real API server, vpc-sim and the release operator
//! binary, and prints time to all-Ready, throughput, cloud calls, operator memory and how quiet
//! the operator is afterwards. Prints numbers; asserts nothing about time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::ListParams;
use support::cluster::{install_crds, test_env};
use support::operator::Operator;
use support::routes::{api, create, spec};
use support::sim::{Sim, TEST_TABLE, TEST_TABLE_2, WORLD};

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn ready_count(client: &kube::Client, ns: &str) -> usize {
    let list = api(client, ns).list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    list.iter()
        .filter(|o| {
            o.status.as_ref().is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .count()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ROUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let env = test_env("bench-scale").await;
    install_crds(&env.client).await;
    let sim = Sim::start(&WORLD.replace("routeQuota: 50", "routeQuota: 100000"));
    let op = Operator::start(&env, &sim, &["--concurrency", "64", "--resync-seconds", "60"]);
    let pid = op.pid().unwrap_or(0);
    let start = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(32, |i| {
            let (client, ns) = (env.client.clone(), env.namespace.clone());
            async move {
                let mut s = spec(&format!("10.{}.{}.0/24", 128 + i / 256, i % 256));
                if i % 2 == 1 {
                    s.route_table_id = TEST_TABLE_2.into();
                }
                create(&client, &ns, &format!("r{i}"), s).await;
            }
        })
        .await;
    let applied = start.elapsed();
    let mut peak = 0;
    while ready_count(&env.client, &env.namespace).await < n {
        peak = peak.max(rss_kib(pid, "VmRSS:"));
        assert!(start.elapsed() < Duration::from_secs(1800), "not converged in 30 minutes");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let converged = start.elapsed();
    let calls = sim.calls().await;
    let held = sim.routes(TEST_TABLE).await.len() + sim.routes(TEST_TABLE_2).await.len();
    println!(
        "scale: {n} VpcRoutes applied in {:.1} s; all Ready after {:.1} s ({:.0} routes/s)",
        applied.as_secs_f64(),
        converged.as_secs_f64(),
        n as f64 / converged.as_secs_f64()
    );
    println!("scale: cloud calls {calls:?}; routes held by vpc-sim {held} (1 pre-existing)");
    println!(
        "scale: operator RSS peak {} MiB during convergence, high-water {} MiB",
        peak / 1024,
        rss_kib(pid, "VmHWM:") / 1024
    );
    let before = sim.calls().await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let after = sim.calls().await;
    println!("scale: 30 s idle afterwards: cloud calls before {before:?}, after {after:?}");
    println!("scale: operator RSS idle {} MiB", rss_kib(pid, "VmRSS:") / 1024);
    drop(op);
}
