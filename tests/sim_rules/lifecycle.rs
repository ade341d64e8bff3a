//! The process: generated CA, READY line, SIGTERM, bad worlds, and `--state` persistence.

use std::process::{Command, Stdio};

use super::signer::{Api, Call};
use crate::sim::{self, Sim};

#[tokio::test]
async fn routes_survive_a_restart_with_a_state_file() {
    let mut sim = Sim::start_with_state(sim::WORLD);
    Api::new(&sim).ok(&Call::create().route(0, "121.0.23.51/16", "1", sim::TEST_VPN)).await;
    Api::new(&sim).ok(&Call::delete().route(0, "192.168.0.0/16", "8", sim::TEST_NAT)).await;
    let saved = std::fs::read_to_string(sim.state_file().unwrap()).unwrap();
    assert!(saved.contains("121.0.0.0/16") && !saved.contains(sim::TEST_SECRET_KEY), "{saved}");
    sim.restart();
    assert_eq!(sim.routes(sim::TEST_TABLE).await, vec![("121.0.0.0/16".into(), 1, sim::TEST_VPN.into())]);
    Api::new(&sim)
        .refused(&Call::create().route(0, "121.0.0.0/16", "1", sim::TEST_VPN), 4000, "RouteAlreadyExists")
        .await;
    let leftovers: Vec<_> = std::fs::read_dir(sim.state_file().unwrap().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn without_a_state_file_a_restart_starts_from_the_world_again() {
    let mut sim = Sim::start(sim::WORLD);
    Api::new(&sim).ok(&Call::create().route(0, "1.0.0.0/8", "1", sim::TEST_VPN)).await;
    sim.restart();
    assert_eq!(sim.routes(sim::TEST_TABLE).await.len(), 1);
}

#[tokio::test]
async fn sigterm_makes_the_emulator_exit_with_success() {
    let mut sim = Sim::start(sim::WORLD);
    let status = sim.terminate().unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn the_generated_ca_verifies_the_server_as_127_0_0_1_and_as_localhost() {
    let sim = Sim::start_generating_ca(sim::WORLD);
    let pem = std::fs::read_to_string(&sim.ca_file).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    Api::new(&sim).ok(&Call::new("DescribeVpcEx")).await;
    Api::via_localhost(&sim).ok(&Call::new("DescribeVpcEx")).await;
    let stranger = sim::https_client(&write_foreign_ca());
    assert!(stranger.get(format!("{}/_sim/state", sim.base)).send().await.is_err());
}

/// A CA that did not sign the emulator's certificate.
fn write_foreign_ca() -> std::path::PathBuf {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("foreign-ca-{}.pem", std::process::id()));
    std::fs::write(&path, params.self_signed(&key).unwrap().pem()).unwrap();
    path
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
    let world = sim::WORLD.replace("cidrBlock: 172.16.0.0/16", "cidrBlock: 172.16.0.0/99");
    let stderr = failed_start("bad-world", &world, &[]);
    assert!(stderr.contains("172.16.0.0/99"), "{stderr}");
}

#[test]
fn a_state_file_that_cannot_be_written_stops_the_start() {
    let stderr = failed_start("bad-state", sim::WORLD, &["--state", "/nonexistent-dir/vpc-sim/state.json"]);
    assert!(stderr.contains("state file"), "{stderr}");
}
