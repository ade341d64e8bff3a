//! Helpers for VpcRoute resources in tests: build specs, apply them, and wait for conditions.

use std::time::Duration;

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use vpcroute_operator::crd::{Condition, NextTypeName, VpcRoute, VpcRouteSpec};

use super::cluster::wait_for;
use super::sim::{TEST_TABLE, TEST_VPC, TEST_VPN};

/// How long a route may take to settle in tests.
pub const SETTLE: Duration = Duration::from_secs(60);

/// A spec for the demo VPC and table with a VPN gateway hop.
pub fn spec(destination: &str) -> VpcRouteSpec {
    VpcRouteSpec {
        vpc_id: TEST_VPC.into(),
        route_table_id: TEST_TABLE.into(),
        destination_cidr_block: destination.into(),
        next_type: NextTypeName::VpnGateway,
        next_hub: TEST_VPN.into(),
        region: None,
        credentials_secret_ref: None,
        description: None,
        enabled: None,
        management_policy: Default::default(),
        deletion_policy: Default::default(),
        adoption_policy: Default::default(),
    }
}

/// The VpcRoute API in a namespace.
pub fn api(client: &Client, ns: &str) -> Api<VpcRoute> {
    Api::namespaced(client.clone(), ns)
}

/// Creates a VpcRoute.
pub async fn create(client: &Client, ns: &str, name: &str, spec: VpcRouteSpec) -> VpcRoute {
    api(client, ns)
        .create(&PostParams::default(), &VpcRoute::new(name, spec))
        .await
        .unwrap_or_else(|e| panic!("creating VpcRoute {ns}/{name}: {e}"))
}

/// Merge-patches a VpcRoute's spec.
pub async fn patch_spec(client: &Client, ns: &str, name: &str, spec: serde_json::Value) {
    api(client, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(json!({ "spec": spec })))
        .await
        .unwrap_or_else(|e| panic!("patching VpcRoute {ns}/{name}: {e}"));
}

/// Deletes a VpcRoute (its finalizer may keep it a while).
pub async fn delete(client: &Client, ns: &str, name: &str) {
    let _ = api(client, ns).delete(name, &DeleteParams::default()).await;
}

/// Waits until the VpcRoute is gone.
pub async fn wait_gone(client: &Client, ns: &str, name: &str) {
    let api = api(client, ns);
    wait_for(&format!("VpcRoute {ns}/{name} to be deleted"), SETTLE, || async {
        matches!(api.get_opt(name).await, Ok(None)).then_some(())
    })
    .await
}

/// The Ready condition, if any.
pub async fn ready(client: &Client, ns: &str, name: &str) -> Option<Condition> {
    let obj = api(client, ns).get_opt(name).await.ok()??;
    obj.status?.conditions.into_iter().find(|c| c.type_ == "Ready")
}

/// Waits for Ready with `status` and `reason` for the current generation; returns the condition.
pub async fn wait_reason(client: &Client, ns: &str, name: &str, status: &str, reason: &str) -> Condition {
    wait_reason_within(client, ns, name, status, reason, SETTLE).await
}

/// [`wait_reason`] with a deadline.
pub async fn wait_reason_within(
    client: &Client,
    ns: &str,
    name: &str,
    status: &str,
    reason: &str,
    timeout: Duration,
) -> Condition {
    let api = api(client, ns);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    loop {
        if let Ok(Some(obj)) = api.get_opt(name).await {
            let generation = obj.metadata.generation;
            if let Some(c) = obj.status.and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready")) {
                if c.status == status && c.reason == reason && c.observed_generation == generation {
                    return c;
                }
                last = Some(c);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            panic!(
                "timed out after {timeout:?} waiting for VpcRoute {ns}/{name} to be Ready={status} {reason}; last Ready condition: {last:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The operator's namespace in tests that start it without `--namespace` (no POD_NAMESPACE):
/// where its create journal lives.
pub const OPERATOR_NAMESPACE: &str = "default";

/// The open create-journal entries (ConfigMap data values, JSON) of the resources in namespace
/// `ns`: the pending records of creates whose batch is on its way or whose status is not yet
/// written.
pub async fn journal_entries(client: &Client, ns: &str) -> Vec<String> {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), OPERATOR_NAMESPACE);
    let params = kube::api::ListParams::default().labels("vpc.qcloud.dev/journal");
    let Ok(list) = api.list(&params).await else { return vec![] };
    let prefix = format!("\"resource\":\"{ns}/");
    list.items
        .into_iter()
        .flat_map(|cm| cm.data.unwrap_or_default().into_values())
        .filter(|v| v.contains(&prefix))
        .collect()
}
