//! Reliability at production scale (issue 11): R1 (SIGKILLs while converging and deleting), R2
//! (lost answers, errors, answers slower than the client timeout, the published rate limits)
//! and a soak of random churn under faults. Each is judged from vpc-sim's ledger of successful
//! writes as well as its final routes (`support::ledger`), on the backend `VPCROUTE_TEST_API`
//! names, and prints one summary line. Sizes come from the environment: CI runs small ones, the
//! README lists the full-size commands. This module holds what the scenarios share.

mod checker;
mod late_create;
mod r1;
mod r2;
mod soak;

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::ListParams;
use vpcroute_operator::crd::{NextTypeName, VpcRouteSpec};

use crate::support::cluster::{TestEnv, wait_for};
use crate::support::ledger::{Findings, Hop, Key, Scope};
use crate::support::routes::{api, create, delete, spec};
use crate::support::sim::{TEST_NAT, TEST_VPN, WORLD};

/// A whole number from the environment, or `default`.
fn env_size(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} must be a whole number, not {v:?}")),
        Err(_) => default,
    }
}

/// The next hops a scenario points routes at: (spec type, hub, 2.0 code).
const HOPS: [(NextTypeName, &str, u32); 2] =
    [(NextTypeName::VpnGateway, TEST_VPN, 1), (NextTypeName::NatGateway, TEST_NAT, 8)];

/// N routes spread over T generated tables of the demo VPC; route `i` is resource `r{i}` for
/// [`destination`]`(i)` in table `i % T`.
#[derive(Clone, Debug)]
struct Fleet {
    routes: usize,
    tables: Vec<String>,
}

impl Fleet {
    /// Sizes from `routes_var` and `tables_var`, with CI defaults.
    fn from_env(routes_var: &str, routes: usize, tables_var: &str, tables: usize) -> Fleet {
        Fleet::new(env_size(routes_var, routes), env_size(tables_var, tables))
    }

    fn new(routes: usize, tables: usize) -> Fleet {
        assert!(routes <= 32_768, "at most 32768 destinations fit the scenarios' range, not {routes}");
        Fleet { routes, tables: (0..tables.max(1)).map(|t| format!("rtb-rel{t:02}")).collect() }
    }

    /// The shipped world with these tables added to the demo VPC and room for every route.
    fn world(&self) -> String {
        let anchor = "              - id: rtb-9cmf3w7s\n                name: secondary\n";
        assert!(WORLD.contains(anchor), "deploy/world.yaml no longer has the secondary table where expected");
        let added: String = self.tables.iter().map(|t| format!("              - id: {t}\n")).collect();
        let quota = self.routes.max(50) + 50;
        WORLD.replace(anchor, &format!("{anchor}{added}")).replace("routeQuota: 50", &format!("routeQuota: {quota}"))
    }

    /// The tables and the destination range, for the ledger checker.
    fn scope(&self) -> Scope {
        Scope { tables: self.tables.iter().cloned().collect(), range: "10.128.0.0/9".parse().unwrap() }
    }

    fn table(&self, i: usize) -> &str {
        &self.tables[i % self.tables.len()]
    }

    fn key(&self, i: usize) -> Key {
        (self.table(i).to_string(), destination(i))
    }

    /// Route `i`'s spec, pointing at hop `hop` of [`HOPS`].
    fn spec(&self, i: usize, hop: usize) -> VpcRouteSpec {
        let mut s = spec(&destination(i));
        s.route_table_id = self.table(i).to_string();
        (s.next_type, s.next_hub) = (HOPS[hop].0, HOPS[hop].1.to_string());
        s
    }

    /// Creates resources `range` with the first hop.
    async fn create(&self, env: &TestEnv, range: std::ops::Range<usize>) {
        for i in range {
            create(&env.client, &env.namespace, &name(i), self.spec(i, 0)).await;
        }
    }
}

/// Route `i`'s destination: a /24 in 10.128.0.0/9, outside the demo VPC's 10.0.0.0/16.
fn destination(i: usize) -> String {
    format!("10.{}.{}.0/24", 128 + i / 256, i % 256)
}

fn name(i: usize) -> String {
    format!("r{i}")
}

/// Hop `hop` of [`HOPS`] as the checker compares it.
fn hop(hop: usize) -> Hop {
    (HOPS[hop].2, HOPS[hop].1.to_string())
}

/// Every VpcRoute's Ready condition for its current generation: name → (status, reason).
async fn ready(env: &TestEnv) -> BTreeMap<String, (String, String)> {
    let list = api(&env.client, &env.namespace).list(&ListParams::default()).await;
    let items = list.map(|l| l.items).unwrap_or_default();
    let current = |o: &vpcroute_operator::crd::VpcRoute| {
        let generation = o.metadata.generation;
        let c =
            o.status.as_ref()?.conditions.iter().find(|c| c.type_ == "Ready" && c.observed_generation == generation)?;
        Some((o.metadata.name.clone()?, (c.status.clone(), c.reason.clone())))
    };
    items.iter().filter_map(current).collect()
}

/// Where the resources of a scenario stand.
struct Tally {
    /// Live resources Ready=True for their current generation.
    up: usize,
    /// Of those, the ones with reason `Created`.
    created: usize,
    /// Deleted resources that no longer exist.
    vanished: usize,
    /// Live resources not Ready=True with reason `Created`: "name status reason".
    not_created: Vec<String>,
}

impl Tally {
    /// The end state every scenario promises: the ledger and routes clean, every one of `live`
    /// Created and every one of `gone` deleted.
    fn assert_final(&self, findings: &Findings, live: usize, gone: usize) {
        assert!(findings.is_clean(), "{}", findings.details());
        assert_eq!(
            (self.created, self.vanished),
            (live, gone),
            "every live route Created, every deleted one gone; not Created: {:?}",
            self.not_created
        );
    }
}

/// Counts which of `live` are Ready (and `Created`) and which of `gone` no longer exist.
async fn tally(env: &TestEnv, live: &[usize], gone: &[usize]) -> Tally {
    let ready = ready(env).await;
    let names =
        api(&env.client, &env.namespace).list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
    let exists: std::collections::BTreeSet<String> = names.into_iter().filter_map(|o| o.metadata.name).collect();
    let state = |i: &usize| ready.get(&name(*i));
    let not_created = live.iter().filter(|i| state(i).is_none_or(|(s, r)| s != "True" || r != "Created"));
    let not_created = not_created.map(|i| format!("{} {:?}", name(*i), state(i))).collect();
    Tally {
        up: live.iter().filter(|i| state(i).is_some_and(|(s, _)| s == "True")).count(),
        created: live.iter().filter(|i| state(i).is_some_and(|(s, r)| s == "True" && r == "Created")).count(),
        vanished: gone.iter().filter(|i| !exists.contains(&name(**i))).count(),
        not_created,
    }
}

/// Waits until every one of `live` is Ready=True and every one of `gone` no longer exists.
async fn wait_converged(env: &TestEnv, live: &[usize], gone: &[usize], timeout: Duration) {
    let what = format!("{} routes Ready and {} deleted resources gone", live.len(), gone.len());
    wait_for(&what, timeout, || async {
        let t = tally(env, live, gone).await;
        (t.up == live.len() && t.vanished == gone.len()).then_some(())
    })
    .await
}

/// Deletes resources `which`.
async fn delete_each(env: &TestEnv, which: &[usize]) {
    for i in which {
        delete(&env.client, &env.namespace, &name(*i)).await;
    }
}

/// How long convergence of `n` routes may take under trouble.
fn convergence_budget(n: usize) -> Duration {
    Duration::from_secs(300) + Duration::from_millis(600) * u32::try_from(n).unwrap_or(u32::MAX)
}

/// The published per-action rate limits of the backend under test (contract §2.5; 2.0: 20/s each).
fn published_rate_limits() -> serde_json::Value {
    let limits: BTreeMap<String, u32> = if crate::support::backend::is_v3() {
        vpc_wire::v3::Action::ALL.into_iter().map(|a| (a.name().to_string(), a.published_rate_limit())).collect()
    } else {
        ["CreateRoute", "DeleteRoute", "DescribeRouteTable", "DescribeVpcEx"].map(|a| (a.to_string(), 20)).into()
    };
    serde_json::to_value(limits).unwrap()
}
