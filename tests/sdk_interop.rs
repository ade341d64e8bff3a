//! Interoperability with a client nobody here wrote: Tencent's legacy Python SDK
//! (qcloudapi-sdk-python) drives vpc-sim over HTTPS, verifying the emulator's CA through
//! SSL_CERT_FILE. Needs `bash tests/interop/setup-venv.sh`. Spawns vpc-sim and Python.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/sim.rs"]
#[allow(dead_code)]
mod sim;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sim::Sim;

/// The venv's Python; fails loudly (never skips) when the venv has not been made.
fn venv_python() -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python");
    assert!(
        python.exists(),
        "the Python SDK venv is missing ({}); create it with: bash tests/interop/setup-venv.sh",
        python.display()
    );
    python
}

/// What the SDK script reported: exit success, stdout, stderr.
struct SdkRun {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl SdkRun {
    fn answer(&self) -> Value {
        assert!(self.ok, "the SDK call failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs the SDK script against the emulator, trusting `ca_file`.
fn run_sdk(sim: &Sim, ca_file: &Path, config: Value) -> SdkRun {
    let mut config = config;
    let defaults = json!({
        "endpoint": format!("127.0.0.1:{}", sim.port),
        "secretId": sim::TEST_SECRET_ID,
        "secretKey": sim::TEST_SECRET_KEY,
        "region": sim::TEST_REGION,
    });
    for (k, v) in defaults.as_object().unwrap() {
        config.as_object_mut().unwrap().entry(k.clone()).or_insert(v.clone());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/qcloud_sdk_create_route.py");
    let output = Command::new(venv_python())
        .arg(script)
        .arg(config.to_string())
        .env("SSL_CERT_FILE", ca_file)
        .env("REQUESTS_CA_BUNDLE", ca_file)
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .output()
        .unwrap();
    SdkRun {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn create_params(destination: &str) -> Value {
    json!({
        "vpcId": sim::TEST_VPC,
        "routeTableId": sim::TEST_TABLE,
        "routeSet": [{"destinationCidrBlock": destination, "nextType": 1, "nextHub": sim::TEST_VPN}],
    })
}

#[tokio::test]
async fn a_route_created_with_tencents_python_sdk_over_get_and_sha1_is_in_the_emulator_state() {
    let sim = Sim::start_generating_ca(sim::WORLD);
    let run = run_sdk(&sim, &sim.ca_file, json!({"params": create_params("121.0.23.51/16")}));
    let answer = run.answer();
    assert_eq!((answer["code"].as_i64(), answer["codeDesc"].as_str()), (Some(0), Some("Success")), "{answer}");
    let routes = sim.routes(sim::TEST_TABLE).await;
    assert!(routes.contains(&("121.0.0.0/16".into(), 1, sim::TEST_VPN.into())), "{routes:?}");
    assert_eq!(sim.calls().await.get("CreateRoute"), Some(&1));
}

#[tokio::test]
async fn the_python_sdk_over_post_with_sha256_creates_and_describes_routes() {
    let sim = Sim::start(sim::WORLD);
    let post = |action: &str, params: Value| json!({"method": "POST", "signatureMethod": "HmacSHA256", "action": action, "params": params});
    let created = run_sdk(&sim, &sim.ca_file, post("CreateRoute", create_params("8.8.0.0/16"))).answer();
    assert_eq!(created["code"], 0, "{created}");
    let described =
        run_sdk(&sim, &sim.ca_file, post("DescribeRouteTable", json!({"routeTableId": sim::TEST_TABLE}))).answer();
    let routes: Vec<&str> = described["data"][0]["routeSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["destinationCidrBlock"].as_str().unwrap())
        .collect();
    assert_eq!(routes, vec!["Local", "192.168.0.0/16", "8.8.0.0/16"], "{described}");
}

#[tokio::test]
async fn a_wrong_key_in_the_python_sdk_gets_4100_and_creates_nothing() {
    let sim = Sim::start(sim::WORLD);
    let config = json!({"secretKey": "notTheKeyAtAll", "params": create_params("8.8.0.0/16")});
    let answer = run_sdk(&sim, &sim.ca_file, config).answer();
    assert_eq!(answer["code"], 4100, "{answer}");
    assert_eq!(answer["codeDesc"], "AuthFailure.SignatureFailure");
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
}

#[tokio::test]
async fn the_python_sdk_refuses_the_emulator_when_not_given_its_ca() {
    let sim = Sim::start(sim::WORLD);
    let other = Sim::start_generating_ca(sim::WORLD);
    let run = run_sdk(&sim, &other.ca_file, json!({"params": create_params("8.8.0.0/16")}));
    assert!(!run.ok, "the SDK trusted a certificate it had no CA for: {}", run.stdout);
    assert!(run.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "{}", run.stderr);
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
}
