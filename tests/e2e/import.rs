//! `vpcroute-operator import` end to end: routes made by hand in the emulator are imported,
//! the manifests applied with kubectl to the real API server, and the running operator adopts
//! every one of them without a single cloud write.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::backend;
use crate::support::operator::setup;
use crate::support::routes::wait_reason;
use crate::support::sim::{Sim, TEST_NAT, TEST_REGION, TEST_SECRET_ID, TEST_TABLE, TEST_VPN, WORLD, credentials};
use serde::Deserialize;
use serde_json::json;
use vpcroute_operator::config::ApiVersion;
use vpcroute_operator::crd::VpcRoute;
use vpcroute_operator::import::{ImportArgs, run_import};

/// Every action that changes a route, on either generation.
const WRITES: [&str; 7] =
    ["CreateRoutes", "ReplaceRoutes", "DeleteRoutes", "EnableRoutes", "DisableRoutes", "CreateRoute", "DeleteRoute"];

async fn writes(sim: &Sim) -> Vec<(&'static str, u64)> {
    let calls = sim.calls().await;
    let mut actions = WRITES.to_vec();
    actions.extend([backend::create(), backend::delete(), backend::replace()]);
    actions.into_iter().map(|a| (a, calls.get(a).copied().unwrap_or(0))).collect()
}

async fn import(sim: &Sim, namespace: &str) -> String {
    let api = if backend::is_v3() { ApiVersion::V3 } else { ApiVersion::V2 };
    let args = ImportArgs {
        api,
        endpoint: Some(backend::endpoint(&sim.base)),
        region: TEST_REGION.into(),
        route_table_id: TEST_TABLE.into(),
        vpc_id: None,
        namespace: Some(namespace.into()),
        ca_file: Some(sim.ca_file.clone()),
        connect_timeout_secs: 5,
        request_timeout_secs: 10,
        credentials: Some(credentials()),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run_import(args, &mut out, &mut err).await.unwrap_or_else(|e| panic!("import failed: {e}"));
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn imported_manifests_applied_with_kubectl_are_adopted_without_any_cloud_write() {
    let (env, sim, op) = setup("import-adopt", WORLD, &[]).await;
    // Three routes made by hand, beside the one the table starts with (192.168.0.0/16 via NAT).
    for (destination, next_type, hub) in
        [("121.0.0.0/16", 1, TEST_VPN), ("172.20.0.0/24", 8, TEST_NAT), ("172.21.0.0/16", 9, "10.0.1.7")]
    {
        sim.edit(json!({"op": "put", "secretId": TEST_SECRET_ID, "region": TEST_REGION, "routeTableId": TEST_TABLE,
                        "destinationCidrBlock": destination, "nextType": next_type, "nextHub": hub}))
            .await;
    }
    let routes_before = sim.routes(TEST_TABLE).await;
    let yaml = import(&sim, &env.namespace).await;
    let manifests: Vec<VpcRoute> =
        serde_norway::Deserializer::from_str(&yaml).map(|d| VpcRoute::deserialize(d).unwrap()).collect();
    assert_eq!(manifests.len(), 4, "{yaml}");
    let writes_before = writes(&sim).await;

    let mut kubectl = Command::new(&env.kubectl)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", env.kubectl.display()));
    kubectl.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let applied = kubectl.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&applied.stdout), String::from_utf8_lossy(&applied.stderr));
    assert!(applied.status.success(), "kubectl apply failed:\n{said}\n{yaml}");

    for m in &manifests {
        let name = m.metadata.name.as_deref().unwrap();
        assert!(said.contains(&format!("vpcroute.vpc.qcloud.dev/{name} created")), "{said}");
        wait_reason(&env.client, &env.namespace, name, "True", "Adopted").await;
    }
    assert_eq!(writes(&sim).await, writes_before, "adopting must not write to the cloud:\n{}", op.log());
    assert_eq!(sim.routes(TEST_TABLE).await, routes_before, "the table is unchanged");
    assert_eq!(import(&sim, &env.namespace).await, yaml, "a second import prints the same manifests");
}
