//! The `vpc-sim` program as a process: READY line, SIGTERM, bad flags. Spawns the binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn world_file(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vpc-sim-program-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, common::WORLD).unwrap();
    path
}

#[test]
fn the_program_prints_ready_and_exits_with_success_on_sigterm() {
    let world = world_file("world.yaml");
    let ca = world.with_file_name("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpc-sim"))
        .args(["--listen", "127.0.0.1:0", "--world"])
        .arg(&world)
        .arg("--ca-out")
        .arg(&ca)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("READY https://127.0.0.1:"), "{line:?}");
    assert!(std::fs::read_to_string(&ca).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_missing_world_file_is_a_clear_error_and_a_failure_exit() {
    let out = Command::new(env!("CARGO_BIN_EXE_vpc-sim"))
        .args(["--listen", "127.0.0.1:0", "--world", "/nonexistent/world.yaml", "--ca-out", "/tmp/x.pem"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read world file /nonexistent/world.yaml"), "{err}");
}

/// Starts vpc-sim with `world` and extra arguments, expecting it to fail; returns its stderr.
fn failed_start(name: &str, world: &str, extra: &[&str]) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let world_file = dir.join("world.yaml");
    std::fs::write(&world_file, world).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vpc-sim"))
        .args(["--listen", "127.0.0.1:0", "--world"])
        .arg(&world_file)
        .arg("--ca-out")
        .arg(dir.join("ca.pem"))
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(dir);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_world_that_says_something_impossible_stops_the_start_with_a_message_and_no_ready_line() {
    let world = common::WORLD.replace("cidrBlock: 172.16.0.0/16", "cidrBlock: 172.16.0.0/99");
    let stderr = failed_start("bad-world", &world, &[]);
    assert!(stderr.contains("172.16.0.0/99"), "{stderr}");
}

#[test]
fn a_state_file_that_cannot_be_written_stops_the_start() {
    let stderr = failed_start("bad-state", common::WORLD, &["--state", "/nonexistent-dir/vpc-sim/state.json"]);
    assert!(stderr.contains("state file"), "{stderr}");
}
