//! Operating the operator (issue 6): metrics and health endpoints, and two replicas with leader
//! election where only the leader calls the cloud and a standby takes over after a SIGKILL.

use std::time::{Duration, Instant};

use crate::support::cluster::{install_crds, test_env, wait_for};
use crate::support::operator::{FAST_RETRY, Operator, free_port};
use crate::support::routes::{create, spec, wait_reason};
use crate::support::sim::{Sim, TEST_TABLE, WORLD};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn metrics_and_health_endpoints_report_what_happened() {
    let env = test_env("op-metrics").await;
    install_crds(&env.client).await;
    let sim = Sim::start(WORLD);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--http-addr", &addr]);
    let _op = Operator::start(&env, &sim, &flags);
    create(&env.client, &env.namespace, "m", spec("10.120.0.0/16")).await;
    wait_reason(&env.client, &env.namespace, "m", "True", "Created").await;
    let http = http();
    for path in ["healthz", "readyz"] {
        // Readiness follows the cache within a second of it filling.
        wait_for(&format!("/{path} to answer 200"), Duration::from_secs(10), || async {
            let status = http.get(format!("http://{addr}/{path}")).send().await.map(|r| r.status().as_u16());
            (status.ok() == Some(200)).then_some(())
        })
        .await;
    }
    let text = wait_for("metrics to count the Created resource", Duration::from_secs(30), || async {
        let text = http.get(format!("http://{addr}/metrics")).send().await.ok()?.text().await.ok()?;
        text.contains("vpcroute_resources{reason=\"Created\"} 1").then_some(text)
    })
    .await;
    let create = crate::support::backend::create();
    let calls = format!("vpcroute_cloud_calls_total{{action=\"{create}\",code=\"0\"}} 1");
    let duration = format!("vpcroute_cloud_call_duration_seconds_count{{action=\"{create}\"}} 1");
    for needle in [
        calls.as_str(),
        duration.as_str(),
        "vpcroute_reconciles_total{result=\"ok\"",
        "vpcroute_reconcile_duration_seconds_count",
        "vpcroute_status_writes_total",
        "vpcroute_drift_corrections_total 0",
    ] {
        assert!(text.contains(needle), "/metrics lacks {needle}:\n{text}");
    }
}

#[tokio::test]
async fn only_the_leader_reconciles_and_a_standby_takes_over_after_a_kill() {
    let env = test_env("op-ha").await;
    install_crds(&env.client).await;
    let sim = Sim::start(WORLD);
    let mut flags = FAST_RETRY.to_vec();
    flags.extend_from_slice(&["--leader-elect", "--lease-seconds", "6", "--namespace", &env.namespace]);
    let mut a = Operator::start(&env, &sim, &flags);
    wait_for("the first replica to lead", Duration::from_secs(30), || async {
        a.log().contains("became leader").then_some(())
    })
    .await;
    // The standby talks to its own emulator, so "the standby made no cloud call" is a count.
    let standby_sim = Sim::start(WORLD);
    let mut args: Vec<String> = vec!["run".into(), "--watch-namespace".into(), env.namespace.clone()];
    args.extend(crate::support::operator::common_args(&standby_sim));
    args.extend(flags.iter().map(|s| s.to_string()));
    let b = Operator::start_with(&env, args, &format!("{}-standby", env.namespace));
    for i in 0..5 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.121.{i}.0/24"))).await;
    }
    for i in 0..5 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    assert!(b.log().contains("waiting to become leader") && !b.log().contains("became leader"), "{}", b.log());
    let standby_calls: u64 = standby_sim.calls().await.values().sum();
    assert_eq!(standby_calls, 0, "the standby must not call the cloud while the leader lives");
    a.kill();
    let killed = Instant::now();
    for i in 5..10 {
        create(&env.client, &env.namespace, &format!("r{i}"), spec(&format!("10.121.{i}.0/24"))).await;
    }
    wait_for("the standby to take over", Duration::from_secs(30), || async {
        b.log().contains("became leader").then_some(())
    })
    .await;
    let takeover = killed.elapsed();
    for i in 0..10 {
        wait_reason(&env.client, &env.namespace, &format!("r{i}"), "True", "Created").await;
    }
    println!("ha: standby took over {takeover:?} after SIGKILL (lease 6 s)");
    assert!(takeover < Duration::from_secs(6 + 6), "takeover took {takeover:?}");
    // The old leader made r0..r4 in its emulator; the new one made r5..r9 and, finding r0..r4
    // missing from its own emulator, recreated them there: once each, in each.
    let (first, second) = (sim.routes(TEST_TABLE).await, standby_sim.routes(TEST_TABLE).await);
    for i in 0..10 {
        let dest = format!("10.121.{i}.0/24");
        let expected_first = usize::from(i < 5);
        assert_eq!(first.iter().filter(|r| r.0 == dest).count(), expected_first, "{dest}: {first:?}");
        assert_eq!(second.iter().filter(|r| r.0 == dest).count(), 1, "{dest}: {second:?}");
    }
}
