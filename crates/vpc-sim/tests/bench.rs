//! On-demand benchmark: DescribeRouteTable requests per second that vpc-sim answers over loopback
//! HTTPS, with vpc-sim pinned to one core (`taskset -c 0`) when taskset exists. Prints the number;
//! asserts only that every answer was a success, never a rate. Run it with
//! `cargo test --release -p vpc-sim --test bench -- --ignored --nocapture`.
//! Spawns vpc-sim; network and file I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common as sim;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vpc_wire::v2::sign::{self, SignatureMethod};

/// Concurrent keep-alive connections driving the emulator.
const CONNECTIONS: usize = 16;
/// How long to measure, after a short warm-up.
const MEASURE: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_millis(500);
/// Upper bound on requests, whatever the speed.
const MAX_REQUESTS: u64 = 1_000_000;

struct Pinned {
    child: Child,
    base: String,
    ca_file: std::path::PathBuf,
    pinned: bool,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts vpc-sim on a free port, under `taskset -c 0` when available.
fn start_pinned() -> Pinned {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let world = dir.join("world.yaml");
    std::fs::write(&world, sim::WORLD).unwrap();
    let ca_file = dir.join("ca.pem");
    let pinned = Command::new("taskset").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0", env!("CARGO_BIN_EXE_vpc-sim")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_vpc-sim"))
    };
    cmd.args(["--listen", "127.0.0.1:0", "--world"]).arg(&world).arg("--ca-out").arg(&ca_file);
    cmd.env("RUST_LOG", "warn").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("no READY line: {line:?}")).to_string();
    Pinned { child, base, ca_file, pinned }
}

/// A signed DescribeRouteTable URL for the demo table.
fn describe_url(base: &str, host: &str) -> String {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let nonce = rand::random_range(1..u64::MAX).to_string();
    let mut params = vec![
        ("Action", "DescribeRouteTable"),
        ("Region", sim::TEST_REGION),
        ("SecretId", sim::TEST_SECRET_ID),
        ("SignatureMethod", "HmacSHA256"),
        ("Timestamp", timestamp.as_str()),
        ("Nonce", nonce.as_str()),
        ("routeTableId", sim::TEST_TABLE),
    ];
    let text = sign::string_to_sign("GET", host, "/v2/index.php", params.iter().copied());
    let signature = sign::signature(sim::TEST_SECRET_KEY, SignatureMethod::HmacSha256, &text);
    params.push(("Signature", &signature));
    format!("{base}/v2/index.php?{}", sign::encode_params(params))
}

/// Sends DescribeRouteTable calls back to back until `until`; counts successes and failures.
async fn drive(http: reqwest::Client, base: Arc<String>, until: Instant, ok: Arc<AtomicU64>, failed: Arc<AtomicU64>) {
    let host = base.trim_start_matches("https://").to_string();
    while Instant::now() < until && ok.load(Ordering::Relaxed) < MAX_REQUESTS {
        let answer = match http.get(describe_url(&base, &host)).send().await {
            Ok(response) => response.json::<serde_json::Value>().await.ok(),
            Err(_) => None,
        };
        let counter = if answer.is_some_and(|a| a["code"] == 0 && a["totalCount"] == 1) { &ok } else { &failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs the load for `duration` and returns (successes, failures).
async fn load(http: &reqwest::Client, base: &Arc<String>, duration: Duration) -> (u64, u64) {
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let until = Instant::now() + duration;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(drive(http.clone(), Arc::clone(base), until, Arc::clone(&ok), Arc::clone(&failed))))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run on demand with --release --ignored --nocapture"]
async fn describe_route_table_requests_per_second_on_loopback() {
    let sim = start_pinned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&sim.ca_file).unwrap()).unwrap();
    let http = reqwest::Client::builder().tls_certs_only([ca]).pool_max_idle_per_host(CONNECTIONS).build().unwrap();
    let base = Arc::new(sim.base.clone());
    load(&http, &base, WARM_UP).await;
    let started = Instant::now();
    let (ok, failed) = load(&http, &base, MEASURE).await;
    let seconds = started.elapsed().as_secs_f64();
    let pinned = if sim.pinned { "pinned to CPU 0 with taskset" } else { "not pinned (no taskset)" };
    println!(
        "vpc-sim DescribeRouteTable: {ok} answers in {seconds:.2} s = {:.0} requests/s ({CONNECTIONS} keep-alive connections, vpc-sim {pinned})",
        ok as f64 / seconds
    );
    assert_eq!(failed, 0, "some answers were not successes");
    assert!(ok > 0, "no answers at all");
}
