//! Prints the `VpcRoute` CustomResourceDefinition as YAML on stdout (`crds/vpcroutes.yaml`).
//! Regenerate with `cargo run --bin crdgen > crds/vpcroutes.yaml`; `tests/crd_sync.rs` checks it. No I/O besides stdout.

use std::process::ExitCode;

use kube::CustomResourceExt;
use vpcroute_operator::crd::VpcRoute;

fn main() -> ExitCode {
    match serde_norway::to_string(&VpcRoute::crd()) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("crdgen: cannot serialise the CRD: {e}");
            ExitCode::FAILURE
        }
    }
}
