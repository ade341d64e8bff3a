//! Leader election with a coordination.k8s.io Lease (kube-lease-manager): only the leader
//! reconciles; losing the lease ends the process so it restarts as a standby. Does Kubernetes I/O.

use std::future::Future;

use kube_lease_manager::LeaseManagerBuilder;

use crate::config::RunArgs;

/// Waits for the lease, then runs `work` while holding it. Returns `Err` if the lease is lost.
pub async fn run_when_leader(
    kube: kube::Client,
    config: &RunArgs,
    work: impl Future<Output = ()>,
) -> Result<(), String> {
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| format!("vpcroute-operator-{}", std::process::id()));
    let manager = LeaseManagerBuilder::new(kube, &config.lease_name)
        .with_namespace(&config.namespace)
        .with_identity(identity.clone())
        .with_duration(config.lease_seconds.max(2))
        .with_grace((config.lease_seconds / 3).max(1))
        .build()
        .await
        .map_err(|e| format!("lease manager: {e}"))?;
    let (mut leading, task) = manager.watch().await;
    tracing::info!(%identity, lease = %config.lease_name, "waiting to become leader");
    while !*leading.borrow_and_update() {
        leading.changed().await.map_err(|_| "lease manager stopped".to_string())?;
    }
    tracing::info!(%identity, "became leader; reconciling");
    tokio::pin!(work);
    let outcome = loop {
        tokio::select! {
            _ = &mut work => break Ok(()),
            changed = leading.changed() => {
                if changed.is_err() || !*leading.borrow_and_update() {
                    break Err("lost the leader lease; exiting so a standby takes over".to_string());
                }
            }
        }
    };
    drop(leading);
    let _ = task.await;
    outcome
}
