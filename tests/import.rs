//! The `import` command against the real vpc-sim emulator on both API generations: the manifests
//! it prints for a table's user routes, what it skips, that it only reads, its failures, and the
//! binary's stdout, stderr and exit code. Spawns vpc-sim and the operator binary; loopback I/O only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use support::sim::{self, Sim, TEST_NAT, TEST_REGION, TEST_SECRET_ID, TEST_TABLE, TEST_VPC, TEST_VPN};
use vpc_wire::domain::{Credentials, NextType, Route, RouteAttrs, Secret};
use vpcroute_operator::client::ErrorClass;
use vpcroute_operator::client3::{Client3Config, VpcClient3};
use vpcroute_operator::config::ApiVersion;
use vpcroute_operator::crd::{AdoptionPolicy, NextTypeName, VpcRoute};
use vpcroute_operator::import::{IMPORTED_FROM_LABEL, ImportArgs, ImportError, run_import};

const BOTH: [ApiVersion; 2] = [ApiVersion::V3, ApiVersion::V2];

fn endpoint(sim: &Sim, api: ApiVersion) -> String {
    match api {
        ApiVersion::V3 => format!("{}/", sim.base),
        ApiVersion::V2 => sim.endpoint.clone(),
    }
}

fn args(sim: &Sim, api: ApiVersion, route_table_id: &str, creds: Credentials) -> ImportArgs {
    ImportArgs {
        api,
        endpoint: Some(endpoint(sim, api)),
        region: TEST_REGION.into(),
        route_table_id: route_table_id.into(),
        vpc_id: None,
        namespace: None,
        ca_file: Some(sim.ca_file.clone()),
        connect_timeout_secs: 5,
        request_timeout_secs: 10,
        credentials: Some(creds),
    }
}

async fn put(sim: &Sim, destination: &str, next_type: u32, hub: &str) {
    sim.edit(json!({"op": "put", "secretId": TEST_SECRET_ID, "region": TEST_REGION, "routeTableId": TEST_TABLE,
                    "destinationCidrBlock": destination, "nextType": next_type, "nextHub": hub}))
        .await;
}

/// Runs the import; returns (stdout, stderr) or the error with whatever reached stdout.
async fn import(args: ImportArgs) -> Result<(String, String), (ImportError, String)> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run_import(args, &mut out, &mut err).await;
    let out = String::from_utf8(out).unwrap();
    match result {
        Ok(()) => Ok((out, String::from_utf8(err).unwrap())),
        Err(e) => Err((e, out)),
    }
}

fn parse(yaml: &str) -> Vec<VpcRoute> {
    serde_norway::Deserializer::from_str(yaml)
        .map(|doc| VpcRoute::deserialize(doc).unwrap_or_else(|e| panic!("not a VpcRoute: {e}\n{yaml}")))
        .collect()
}

fn find<'a>(manifests: &'a [VpcRoute], destination: &str) -> &'a VpcRoute {
    manifests
        .iter()
        .find(|m| m.spec.destination_cidr_block == destination)
        .unwrap_or_else(|| panic!("no manifest for {destination}"))
}

#[tokio::test]
async fn import_prints_one_adoptable_manifest_per_user_route_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    put(&sim, "121.0.0.0/16", 1, TEST_VPN).await;
    put(&sim, "172.20.0.0/24", 8, TEST_NAT).await;
    for api in BOTH {
        let mut a = args(&sim, api, TEST_TABLE, sim::credentials());
        a.namespace = Some("network".into());
        let (yaml, log) = import(a).await.unwrap_or_else(|(e, _)| panic!("{}: {e}", api.as_str()));
        assert!(yaml.starts_with("---\n"), "{yaml}");
        let manifests = parse(&yaml);
        let names: Vec<_> = manifests.iter().map(|m| m.metadata.name.clone().unwrap()).collect();
        assert_eq!(
            names,
            ["rtb-4ahe1qy2-121-0-0-0-16", "rtb-4ahe1qy2-172-20-0-0-24", "rtb-4ahe1qy2-192-168-0-0-16"],
            "{}",
            api.as_str()
        );
        for m in &manifests {
            assert_eq!(m.metadata.namespace.as_deref(), Some("network"));
            let labels = m.metadata.labels.clone().unwrap_or_default();
            assert_eq!(labels.get(IMPORTED_FROM_LABEL).map(String::as_str), Some(TEST_TABLE));
            assert_eq!((m.spec.vpc_id.as_str(), m.spec.route_table_id.as_str()), (TEST_VPC, TEST_TABLE));
            assert_eq!(m.spec.region.as_deref(), Some(TEST_REGION));
            assert_eq!(m.spec.adoption_policy, AdoptionPolicy::IfIdentical);
            assert_eq!((m.spec.description.as_deref(), m.spec.enabled), (None, None));
        }
        let vpn = find(&manifests, "121.0.0.0/16");
        assert_eq!((vpn.spec.next_type, vpn.spec.next_hub.as_str()), (NextTypeName::VpnGateway, TEST_VPN));
        let nat = find(&manifests, "192.168.0.0/16");
        assert_eq!((nat.spec.next_type, nat.spec.next_hub.as_str()), (NextTypeName::NatGateway, TEST_NAT));
        assert!(log.contains("imported 3 routes from rtb-4ahe1qy2 (vpc-amhnnao5, ap-guangzhou)"), "{log}");
        if api == ApiVersion::V3 {
            assert!(log.contains("skipped 10.0.0.0/16 via LOCAL Local: system route"), "{log}");
        }
        assert!(!yaml.contains("Local") && !yaml.contains("10.0.0.0/16"), "no system route: {yaml}");
    }
}

#[tokio::test]
async fn on_api_3_the_description_and_a_disabled_route_are_carried_over() {
    let sim = Sim::start(sim::WORLD);
    let client = VpcClient3::new(Client3Config {
        endpoint: endpoint(&sim, ApiVersion::V3),
        ca_file: Some(sim.ca_file.clone()),
        request_timeout: Duration::from_secs(10),
        ..Client3Config::default()
    })
    .unwrap();
    let routes = [
        (
            Route::new("121.0.0.0/16", NextType::VpnGateway, TEST_VPN).unwrap(),
            RouteAttrs { description: "to the branch office".into(), enabled: false },
        ),
        (Route::new("172.20.0.0/24", NextType::NatGateway, TEST_NAT).unwrap(), RouteAttrs::default()),
    ];
    client.create_routes(&sim::credentials(), TEST_REGION, TEST_TABLE, &routes).await.unwrap();
    let (yaml, _) = import(args(&sim, ApiVersion::V3, TEST_TABLE, sim::credentials())).await.unwrap();
    let manifests = parse(&yaml);
    let vpn = find(&manifests, "121.0.0.0/16");
    assert_eq!(vpn.spec.description.as_deref(), Some("to the branch office"));
    assert_eq!(vpn.spec.enabled, Some(false));
    let nat = find(&manifests, "172.20.0.0/24");
    assert_eq!((nat.spec.description.as_deref(), nat.spec.enabled), (None, None));
    assert!(yaml.contains("description: to the branch office") && yaml.contains("enabled: false"), "{yaml}");
}

#[tokio::test]
async fn import_only_reads_the_one_table_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    put(&sim, "121.0.0.0/16", 1, TEST_VPN).await;
    for (api, describe) in [(ApiVersion::V3, "DescribeRouteTables"), (ApiVersion::V2, "DescribeRouteTable")] {
        sim.reset_calls().await;
        import(args(&sim, api, TEST_TABLE, sim::credentials())).await.unwrap_or_else(|(e, _)| panic!("{e}"));
        let calls = sim.calls().await;
        let made: Vec<_> = calls.iter().filter(|(_, n)| **n > 0).map(|(a, _)| a.as_str()).collect();
        assert_eq!(made, [describe], "{calls:?}");
    }
}

#[tokio::test]
async fn an_empty_table_prints_nothing_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let (yaml, log) = import(args(&sim, api, sim::TEST_TABLE_2, sim::credentials())).await.unwrap();
        assert_eq!(yaml, "", "{}", api.as_str());
        assert!(log.contains("imported 0 routes from rtb-9cmf3w7s"), "{log}");
    }
}

#[tokio::test]
async fn the_vpc_id_is_checked_when_given_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let mut a = args(&sim, api, TEST_TABLE, sim::credentials());
        a.vpc_id = Some(TEST_VPC.into());
        import(a).await.unwrap_or_else(|(e, _)| panic!("{}: {e}", api.as_str()));
        let mut a = args(&sim, api, TEST_TABLE, sim::credentials());
        a.vpc_id = Some("vpc-6xh2kq0r".into());
        let (err, out) = import(a).await.unwrap_err();
        assert_ne!(err.exit_code(), 0);
        assert_eq!(out, "", "nothing is printed on failure");
        let shown = err.to_string();
        assert_eq!(shown, "route table rtb-4ahe1qy2 belongs to vpc-amhnnao5, not to vpc-6xh2kq0r", "{}", api.as_str());
    }
}

#[tokio::test]
async fn a_wrong_key_fails_with_the_class_and_tencents_code_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for (api, action, code) in
        [(ApiVersion::V3, "DescribeRouteTables", ""), (ApiVersion::V2, "DescribeRouteTable", "4100 ")]
    {
        let creds = Credentials { secret_key: Secret::new("not-the-key"), ..sim::credentials() };
        let (err, out) = import(args(&sim, api, TEST_TABLE, creds)).await.unwrap_err();
        assert_eq!(err.class(), Some(ErrorClass::Permanent));
        assert_eq!(err.exit_code(), 1);
        assert_eq!(out, "");
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("calling {action} failed (permanent)")), "{shown}");
        assert!(shown.contains(&format!("{code}AuthFailure.SignatureFailure")), "{shown}");
        assert!(!shown.contains("not-the-key"), "{shown}");
    }
}

#[tokio::test]
async fn an_unknown_table_fails_naming_it_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let (err, out) = import(args(&sim, api, "rtb-nosuch01", sim::credentials())).await.unwrap_err();
        assert_ne!(err.exit_code(), 0);
        assert_eq!(out, "");
        assert_eq!(err.class(), Some(ErrorClass::NotFound), "{}: {err}", api.as_str());
        assert!(err.to_string().contains("route table rtb-nosuch01"), "{err}");
    }
}

#[tokio::test]
async fn the_binary_prints_yaml_on_stdout_reports_on_stderr_and_exits_non_zero_on_failure() {
    let sim = Sim::start(sim::WORLD);
    put(&sim, "121.0.0.0/16", 1, TEST_VPN).await;
    for api in BOTH {
        let run = |key: &str| {
            Command::new(env!("CARGO_BIN_EXE_vpcroute-operator"))
                .args(["import", "--api", api.as_str(), "--endpoint", &endpoint(&sim, api)])
                .args(["--ca-file", &sim.ca_file.display().to_string(), "--region", TEST_REGION])
                .args(["--route-table-id", TEST_TABLE, "--namespace", "net"])
                .env("TENCENTCLOUD_SECRET_ID", TEST_SECRET_ID)
                .env("TENCENTCLOUD_SECRET_KEY", key)
                .env_remove("TENCENTCLOUD_SECURITY_TOKEN")
                .env_remove("VPCROUTE_API")
                .env_remove("VPCROUTE_ENDPOINT")
                .env_remove("VPCROUTE_CA_FILE")
                .output()
                .expect("running vpcroute-operator import")
        };
        let ok = run(sim::TEST_SECRET_KEY);
        let (stdout, stderr) = (String::from_utf8(ok.stdout).unwrap(), String::from_utf8(ok.stderr).unwrap());
        assert!(ok.status.success(), "{}: {stderr}", api.as_str());
        let manifests = parse(&stdout);
        assert_eq!(manifests.len(), 2, "{stdout}");
        assert!(manifests.iter().all(|m| m.metadata.namespace.as_deref() == Some("net")), "{stdout}");
        assert!(stderr.contains("imported 2 routes"), "{stderr}");

        let failed = run("not-the-key");
        let stderr = String::from_utf8(failed.stderr).unwrap();
        assert_eq!(failed.status.code(), Some(1), "{stderr}");
        assert!(failed.stdout.is_empty());
        assert!(stderr.contains("error: calling") && stderr.contains("AuthFailure.SignatureFailure"), "{stderr}");
    }
}
