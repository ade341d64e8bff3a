//! Tencent's official API 3.0 Python SDK (tencentcloud-sdk-python, in target/py-venv made by
//! `bash tests/interop/setup-venv.sh`) against the in-process emulator: routes made, listed,
//! replaced and deleted, a business error, auth failures and STS tokens. Spawns Python; network
//! and file I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

const CASES: [&str; 16] = [
    "create-routes",
    "describe-route-tables",
    "replace-routes",
    "delete-routes",
    "business-error",
    "error-malformed-cidr",
    "error-vpc-cidr-conflict",
    "error-unknown-gateway-type",
    "error-duplicate",
    "error-ecmp",
    "error-unknown-table",
    "bad-signature",
    "unknown-secret-id",
    "sts-with-token",
    "sts-without-token",
    "stale-timestamp",
];

#[test]
fn the_official_python_sdk_drives_routes_and_sees_every_error_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join("target/py-venv/bin/python");
    assert!(python.exists(), "{} is missing: run `bash tests/interop/setup-venv.sh` first", python.display());
    let sim = common::start();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sdk3-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.server.ca_pem().unwrap()).unwrap();
    let output = Command::new(&python)
        .arg(root.join("tests/interop/qcloud_sdk3_routes.py"))
        .arg(&sim.host)
        .arg(&ca)
        .args([common::DEMO.id, common::DEMO.key, common::STS.id, common::STS.key])
        .arg(common::STS.token.unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "script failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    for case in CASES {
        assert!(
            stdout.lines().any(|l| l == format!("ok {case}")),
            "no `ok {case}` line\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
}
