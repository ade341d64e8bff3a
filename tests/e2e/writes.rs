//! How many times the operator writes a VpcRoute on the create path, counted from a watch on the
//! real API server: with the chart's finalizer policy the finalizer comes from admission and the
//! operator writes once (the outcome: the pending record went to the table's create journal, a
//! ConfigMap shared by the batch); without it, once more (the finalizer patch).

use futures::StreamExt;
use kube::api::WatchEvent;
use kube::api::WatchParams;

use crate::support::cluster::{TestEnv, install_crds, test_env};
use crate::support::operator::{FAST_RETRY, Operator};
use crate::support::policy::install_finalizer_policy;
use crate::support::routes::{SETTLE, api, create, spec};
use crate::support::sim::{Sim, WORLD};
use vpcroute_operator::controller::FINALIZER;
use vpcroute_operator::crd::VpcRoute;

fn is_ready(o: &VpcRoute) -> bool {
    o.status.as_ref().is_some_and(|s| s.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Creates one VpcRoute and counts the changes the API server reports for it until it is Ready.
async fn writes_until_ready(env: &TestEnv, name: &str, destination: &str) -> (VpcRoute, usize) {
    let created = create(&env.client, &env.namespace, name, spec(destination)).await;
    let rv = created.metadata.resource_version.clone().unwrap_or_default();
    let params = WatchParams::default().fields(&format!("metadata.name={name}")).timeout(60);
    let mut stream = api(&env.client, &env.namespace).watch(&params, &rv).await.expect("watching").boxed();
    let mut writes = 0;
    let outcome = tokio::time::timeout(SETTLE, async {
        while let Some(event) = stream.next().await {
            if let Ok(WatchEvent::Modified(o)) = event {
                writes += 1;
                if is_ready(&o) {
                    return;
                }
            }
        }
        panic!("the watch ended before {name} was Ready");
    })
    .await;
    assert!(outcome.is_ok(), "{name} not Ready within {SETTLE:?}");
    (created, writes)
}

#[tokio::test]
async fn with_the_finalizer_policy_a_created_route_costs_one_write_and_two_without() {
    let env = test_env("writes").await;
    install_crds(&env.client).await;
    let sim = Sim::start(WORLD);
    let _op = Operator::start(&env, &sim, FAST_RETRY);

    let (created, without) = writes_until_ready(&env, "without-policy", "10.140.1.0/24").await;
    assert!(created.metadata.finalizers.is_none(), "no policy yet: {:?}", created.metadata.finalizers);
    assert_eq!(without, 2, "finalizer patch, outcome");

    install_finalizer_policy(&env).await;
    let (created, with) = writes_until_ready(&env, "with-policy", "10.140.2.0/24").await;
    assert_eq!(created.metadata.finalizers, Some(vec![FINALIZER.to_string()]), "added at admission");
    assert_eq!(with, 1, "the outcome only");
    println!("writes per created route: {without} without the finalizer policy, {with} with it");
}
