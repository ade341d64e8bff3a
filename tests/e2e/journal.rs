//! The create journal (src/controller/journal.rs): the pending record of a batched create is in
//! a ConfigMap of the operator's namespace before the cloud is called, survives a crash, and is
//! what lets the restarted operator own the route that create made (Created, not Adopted).

use serde_json::json;

use crate::support::cluster::{TestEnv, wait_for};
use crate::support::operator::setup;
use crate::support::routes::{SETTLE, create, journal_entries, spec, wait_reason};
use crate::support::sim::{TEST_TABLE, WORLD};

/// The journal entries of the resource `name`.
async fn entries_for(env: &TestEnv, name: &str) -> Vec<String> {
    let resource = format!("\"{}/{name}\"", env.namespace);
    journal_entries(&env.client, &env.namespace).await.into_iter().filter(|v| v.contains(&resource)).collect()
}

#[tokio::test]
async fn a_create_in_flight_when_the_operator_is_killed_is_owned_as_created_after_the_restart() {
    let (env, sim, mut op) = setup("journal-kill", WORLD, &[]).await;
    // The create reaches the emulator at once but is answered (and applied) 4 s later.
    sim.fault(json!({"action": crate::support::backend::create(), "kind": "latency", "latencyMs": 4000, "count": 1}))
        .await;
    create(&env.client, &env.namespace, "inflight", spec("10.150.0.0/24")).await;
    let entry = wait_for("the create's journal entry", SETTLE, || async {
        entries_for(&env, "inflight").await.into_iter().next()
    })
    .await;
    assert!(entry.contains("\"operation\":\"Create\"") && entry.contains("10.150.0.0/24"), "{entry}");
    wait_for("the create to reach the emulator", SETTLE, || async {
        let calls = sim.calls().await;
        (calls.get(crate::support::backend::create()).copied().unwrap_or(0) >= 1).then_some(())
    })
    .await;
    op.kill();
    // The route lands while no operator runs; the status never heard of the create.
    wait_for("the slowed create to land", SETTLE, || async {
        sim.routes(TEST_TABLE).await.iter().any(|r| r.0 == "10.150.0.0/24").then_some(())
    })
    .await;
    op.restart();
    let c = wait_reason(&env.client, &env.namespace, "inflight", "True", "Created").await;
    assert!(!c.message.contains("adopted"), "{}", c.message);
    let routes = sim.routes(TEST_TABLE).await;
    assert_eq!(routes.iter().filter(|r| r.0 == "10.150.0.0/24").count(), 1, "{routes:?}");
    wait_for("the settled entry to leave the journal", SETTLE, || async {
        entries_for(&env, "inflight").await.is_empty().then_some(())
    })
    .await;
}
