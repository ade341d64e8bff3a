//! The committed CRD in `crds/` is exactly what the Rust types generate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube::CustomResourceExt;
use vpcroute_operator::crd::VpcRoute;

#[test]
fn committed_crd_matches_the_rust_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/vpcroutes.yaml");
    let committed = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let committed: serde_json::Value =
        serde_norway::from_str(&committed).unwrap_or_else(|e| panic!("parsing {path}: {e}"));
    let generated = serde_json::to_value(VpcRoute::crd()).unwrap();
    assert!(
        committed == generated,
        "crds/vpcroutes.yaml is out of date; regenerate it with: cargo run --bin crdgen > crds/vpcroutes.yaml"
    );
}
