//! The process: generated CA, READY line, SIGTERM, bad worlds, and `--state` persistence.

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
