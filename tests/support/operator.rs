//! Runs the real `vpcroute-operator` binary as a child process against the test cluster and the
//! emulator, so tests see exactly what a user runs; it can be killed (SIGKILL) and restarted.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::cluster::TestEnv;
use super::sim::{Sim, TEST_REGION, TEST_SECRET_ID, TEST_SECRET_KEY};

/// A running operator process.
pub struct Operator {
    child: Option<Child>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    starts: u32,
}

/// Flags that make retries quick in tests (production defaults are seconds → minutes).
pub const FAST_RETRY: &[&str] =
    &["--retry-base-ms", "100", "--retry-max-seconds", "2", "--write-landing-seconds", "10"];

impl Operator {
    /// Starts the operator watching `env.namespace`, using the emulator with the demo account's
    /// credentials as defaults; `extra` adds or overrides flags.
    pub fn start(env: &TestEnv, sim: &Sim, extra: &[&str]) -> Operator {
        let mut args: Vec<String> = vec!["run".into(), "--watch-namespace".into(), env.namespace.clone()];
        args.extend(common_args(sim));
        args.extend(extra.iter().map(|s| s.to_string()));
        Operator::start_with(env, args, &env.namespace)
    }

    /// Starts the operator with exactly `args` (after `run`), e.g. to watch by label selector.
    /// Without `--http-addr` in `args`, the HTTP endpoints bind a free port.
    pub fn start_with(env: &TestEnv, args: Vec<String>, log_name: &str) -> Operator {
        Operator::start_with_env(env, args, log_name, |_| {})
    }

    /// Like [`Operator::start_with`], with the child's environment changed by `tweak` (it gets
    /// the default variables: KUBECONFIG, the demo account's keys, RUST_LOG).
    pub fn start_with_env(
        env: &TestEnv,
        mut args: Vec<String>,
        log_name: &str,
        tweak: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Operator {
        if !args.iter().any(|a| a == "--http-addr" || a.starts_with("--http-addr=")) {
            args.extend(["--http-addr".to_string(), "127.0.0.1:0".to_string()]);
        }
        let log_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
        std::fs::create_dir_all(&log_dir).unwrap_or_else(|e| panic!("creating {}: {e}", log_dir.display()));
        let env_vars = vec![
            ("KUBECONFIG".to_string(), env.kubeconfig.display().to_string()),
            ("TENCENTCLOUD_SECRET_ID".to_string(), TEST_SECRET_ID.to_string()),
            ("TENCENTCLOUD_SECRET_KEY".to_string(), TEST_SECRET_KEY.to_string()),
            ("RUST_LOG".to_string(), "info,kube=warn,vpcroute_operator=debug".to_string()),
        ];
        let mut env_vars = env_vars;
        tweak(&mut env_vars);
        let mut op =
            Operator { child: None, args, env: env_vars, log: log_dir.join(format!("{log_name}.log")), starts: 0 };
        op.spawn();
        op
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("opening {}: {e}", self.log.display()));
        let err = log.try_clone().expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_vpcroute-operator"))
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .env_remove("TENCENTCLOUD_SECURITY_TOKEN")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("starting vpcroute-operator");
        self.child = Some(child);
        self.starts += 1;
    }

    /// Kills the process (SIGKILL), or with `VPCROUTE_GRACEFUL_STOP` set stops it with SIGTERM
    /// (so an operator built with `--features dhat-heap` writes its heap profile).
    fn stop(&mut self) {
        if std::env::var_os("VPCROUTE_GRACEFUL_STOP").is_some() {
            self.terminate();
        }
        self.kill();
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the process again with the same flags.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Sends SIGTERM and waits; returns whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return false };
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        c.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The operator's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Path of the log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Endpoint, CA and region flags for the emulator.
pub fn common_args(sim: &Sim) -> Vec<String> {
    let endpoint = super::backend::endpoint(&sim.base);
    let ca = sim.ca_file.display().to_string();
    ["--api", super::backend::api(), "--endpoint", &endpoint, "--ca-file", &ca, "--region", TEST_REGION]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

impl Operator {
    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

/// A free loopback TCP port (bound and released; good enough for one test process).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("finding a free port")
}

/// A fresh namespace with the CRDs installed, an emulator with `world`, and an operator with
/// quick retries plus `extra` flags, watching that namespace.
pub async fn setup(prefix: &str, world: &str, extra: &[&str]) -> (TestEnv, Sim, Operator) {
    let env = super::cluster::test_env(prefix).await;
    super::cluster::install_crds(&env.client).await;
    let sim = Sim::start(world);
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(extra);
    let op = Operator::start(&env, &sim, &flags);
    (env, sim, op)
}

/// The operator's `/metrics` text at `addr` (`host:port`), or `None` while it does not answer.
pub async fn scrape(addr: &str) -> Option<String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().ok()?;
    http.get(format!("http://{addr}/metrics")).send().await.ok()?.text().await.ok()
}

/// The sum of every sample of `series` (a metric name, optionally with the start of its label
/// set, e.g. `vpcroute_reconciles_total{result="ok"`) in a metrics text.
pub fn metric_total(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(series) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
