//! Runs the control-plane launcher (`tests/cluster/launcher`) as a child process: finds the
//! built binaries, waits for its `READY` line, takes its control plane down and brings it back
//! (SIGUSR1 / SIGUSR2, acknowledged on its stdout), and stops it. Blocking std I/O only.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// The command that builds the binaries this module runs.
pub const BUILD_COMMAND: &str = "bash tests/cluster/build.sh";

/// How long a launcher may take to print `READY` on a busy 2-core machine; a little longer than
/// the launcher's own `-ready-timeout` (3 minutes), so its explanation arrives first.
const READY_TIMEOUT: Duration = Duration::from_secs(200);

/// How long stopping kube-controller-manager, kube-apiserver and etcd may take (each child gets
/// 10 s to exit on SIGTERM before it is killed).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root (where `Cargo.toml` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/cluster`, or `$CARGO_TARGET_DIR/cluster` when that is an absolute path
/// (the same rule as `tests/cluster/build.sh`).
pub fn cluster_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("cluster"),
        _ => repo_root().join("target").join("cluster"),
    }
}

/// The stable directory holding the current kube-apiserver, kube-controller-manager, kubectl,
/// launcher and helm.
pub fn bin_dir() -> PathBuf {
    cluster_dir().join("bin")
}

/// A running launcher: one embedded etcd, one kube-apiserver and (by default) one
/// kube-controller-manager, with its own ports and state.
#[derive(Debug)]
pub struct Launcher {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The launcher's acknowledgement lines (`READY ...`, `STOPPED ...`), in order.
    acks: Mutex<mpsc::Receiver<String>>,
    /// The admin kubeconfig the launcher wrote (inside its state directory).
    pub kubeconfig: PathBuf,
    /// The kube-apiserver URL, `https://127.0.0.1:<port>`.
    pub url: String,
    /// The launcher's state directory, removed when it exits.
    pub state_dir: PathBuf,
    /// Where the launcher's stderr goes.
    pub log: PathBuf,
}

impl Launcher {
    /// Starts a launcher and blocks until it reports `READY`. The launcher exits when the
    /// returned value's stdin pipe closes, including when this process dies.
    pub fn start() -> Result<Self, String> {
        Launcher::start_with_args(&[])
    }

    /// [`Launcher::start`] with launcher flags, e.g. `-controller-manager=false` or
    /// `-apiserver-arg=--watch-cache=false` (see `launcher -h`).
    pub fn start_with_args(args: &[&str]) -> Result<Self, String> {
        let bin = check_built()?;
        let logs = cluster_dir().join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
        prune_old_logs(&logs);
        let log = logs.join(format!("launcher-{}-{}.log", std::process::id(), unique()));
        let stderr = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;

        let mut child = Command::new(bin.join("launcher"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bin.join("launcher").display()))?;
        let stdin = child.stdin.take();
        let Some(acks) = child.stdout.take().map(read_acks) else {
            return Err("the launcher has no stdout pipe".into());
        };
        let line = match acks.recv_timeout(READY_TIMEOUT) {
            Ok(line) if line.starts_with("READY ") => line,
            Ok(line) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failure(&log, &format!("said {line:?} before READY")));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failure(&log, &format!("not ready after {READY_TIMEOUT:?}")));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(failure(&log, &format!("exited before READY ({status})")));
            }
        };
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
                .ok_or_else(|| format!("launcher READY line lacks {key}=: {line}"))
        };
        Ok(Self {
            kubeconfig: PathBuf::from(field("kubeconfig")?),
            url: field("url")?,
            state_dir: PathBuf::from(field("state")?),
            log,
            child,
            stdin,
            acks: Mutex::new(acks),
        })
    }

    /// Stops kube-controller-manager, kube-apiserver and etcd, keeping etcd's data and the PKI
    /// (SIGUSR1), and blocks until the launcher acknowledges it. Returns how long that took.
    pub fn stop_control_plane(&self) -> Result<Duration, String> {
        self.signal_and_wait("USR1", "STOPPED", STOP_TIMEOUT).map(|(took, _)| took)
    }

    /// Starts a stopped control plane again on the same ports with the same data (SIGUSR2), and
    /// blocks until the launcher reports it `READY` again: `/readyz` is OK, and
    /// kube-controller-manager collects garbage. The kubeconfig stays valid. Returns how long it took.
    pub fn start_control_plane(&self) -> Result<Duration, String> {
        let (took, line) = self.signal_and_wait("USR2", "READY", READY_TIMEOUT)?;
        if !line.split_whitespace().any(|field| field.strip_prefix("url=") == Some(self.url.as_str())) {
            return Err(format!("the control plane came back at another address than {}: {line}", self.url));
        }
        Ok(took)
    }

    /// Sends `signal` and waits up to `timeout` for the acknowledgement line starting with `ack`.
    fn signal_and_wait(&self, signal: &str, ack: &str, timeout: Duration) -> Result<(Duration, String), String> {
        let acks = self.acks.lock().map_err(|_| "a previous control-plane restart panicked".to_string())?;
        let started = Instant::now();
        let sent = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status();
        if !sent.as_ref().is_ok_and(|s| s.success()) {
            return Err(format!("kill -{signal} {}: {sent:?}", self.pid()));
        }
        match acks.recv_timeout(timeout) {
            Ok(line) if line.split_whitespace().next() == Some(ack) => Ok((started.elapsed(), line)),
            Ok(line) => Err(failure(&self.log, &format!("answered SIG{signal} with {line:?}, not {ack}"))),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(failure(&self.log, &format!("did not answer SIG{signal} with {ack} within {timeout:?}")))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(failure(&self.log, &format!("exited instead of answering SIG{signal} with {ack}")))
            }
        }
    }

    /// The launcher's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the launcher's stdin (its signal to shut down) and waits for it to exit.
    pub fn stop(mut self) -> Result<ExitStatus, String> {
        drop(self.stdin.take());
        self.wait(Duration::from_secs(60))
    }

    /// Waits for the launcher to exit on its own (after a signal, say); kills it past `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(failure(&self.log, &format!("did not exit within {timeout:?}")));
                }
                Err(e) => return Err(format!("waiting for launcher: {e}")),
            }
        }
    }
}

/// The bin directory, or why the control plane cannot start from it.
fn check_built() -> Result<PathBuf, String> {
    let bin = bin_dir();
    match ["launcher", "kube-apiserver", "kube-controller-manager"]
        .iter()
        .map(|tool| bin.join(tool))
        .find(|path| !path.is_file())
    {
        Some(missing) => Err(format!(
            "{} is missing: the test control plane is not built; run `{BUILD_COMMAND}` \
             (a cold build takes 15-25 minutes on 2 cores, later ones seconds)",
            missing.display()
        )),
        None => Ok(bin),
    }
}

/// Reads the launcher's stdout on a thread and sends each acknowledgement line (`READY ...`,
/// `STOPPED ...`); it drains everything, so the launcher can never block on a full pipe. The
/// channel closes when stdout ends (the launcher exited).
fn read_acks(stdout: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("READY ") || line.starts_with("STOPPED ") {
                let _ = tx.send(line);
            }
        }
    });
    rx
}

fn failure(log: &Path, what: &str) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    format!(
        "test control plane launcher {what}; its log is {}:\n{tail}\n\
         (if the binaries are stale or broken, rebuild with `{BUILD_COMMAND}`)",
        log.display()
    )
}

/// Deletes launcher logs older than a day, so `target/cluster/logs` does not grow forever.
fn prune_old_logs(dir: &Path) {
    let day = Duration::from_secs(24 * 60 * 60);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > day) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A per-process counter, to tell apart the launchers one test binary starts.
fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
