//! The `check` command end to end against vpc-sim: its summary and its failures.
//! Spawns vpc-sim; loopback I/O only.

use vpc_wire::domain::{Credentials, Secret};
use vpcroute_operator::check::{CheckArgs, CheckError, run_check};
use vpcroute_operator::client::ErrorClass;
use vpcroute_operator::config::ApiVersion;

use crate::support::sim::{self, Sim};

const BOTH: [ApiVersion; 2] = [ApiVersion::V3, ApiVersion::V2];

fn args(sim: &Sim, api: ApiVersion, vpc_id: &str, route_table_id: Option<&str>, creds: Credentials) -> CheckArgs {
    let endpoint = match api {
        ApiVersion::V3 => format!("{}/", sim.base),
        ApiVersion::V2 => sim.endpoint.clone(),
    };
    CheckArgs {
        api,
        endpoint: Some(endpoint),
        region: sim::TEST_REGION.into(),
        vpc_id: vpc_id.into(),
        route_table_id: route_table_id.map(str::to_owned),
        ca_file: Some(sim.ca_file.clone()),
        connect_timeout_secs: 5,
        request_timeout_secs: 10,
        credentials: Some(creds),
    }
}

#[tokio::test]
async fn check_prints_the_vpc_cidr_and_every_tables_routes_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let mut out = Vec::new();
        run_check(args(&sim, api, sim::TEST_VPC, None, sim::credentials()), &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("api {} at https://127.0.0.1:", api.as_str())), "{text}");
        assert!(text.contains(&format!("vpc {} name \"demo-vpc\" cidr 10.0.0.0/16", sim::TEST_VPC)), "{text}");
        assert!(text.contains("route tables: 2"), "{text}");
        assert!(text.contains(sim::TEST_TABLE) && text.contains(sim::TEST_TABLE_2), "{text}");
        let line =
            text.lines().find(|l| l.contains("192.168.0.0/16")).unwrap_or_else(|| panic!("no route line: {text}"));
        assert!(line.contains("NatGateway(8)") && line.contains(sim::TEST_NAT), "{line}");
        assert!(!text.lines().any(|l| l.trim_start().starts_with("Local")), "the Local route is not listed: {text}");
        assert!(!text.contains("LOCAL") && !text.contains("unknown"), "system routes are not listed: {text}");
    }
}

#[tokio::test]
async fn check_of_one_route_table_prints_only_that_table_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let mut out = Vec::new();
        run_check(args(&sim, api, sim::TEST_VPC, Some(sim::TEST_TABLE_2), sim::credentials()), &mut out).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("route tables: 1") && text.contains(sim::TEST_TABLE_2), "{text}");
        assert!(!text.contains(sim::TEST_TABLE), "{text}");
        assert!(text.contains("0 routes"), "{text}");
    }
}

#[tokio::test]
async fn check_with_a_wrong_key_fails_with_the_class_and_tencents_code_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for (api, action, code) in [(ApiVersion::V3, "DescribeVpcs", ""), (ApiVersion::V2, "DescribeVpcEx", "4100 ")] {
        let creds = Credentials { secret_key: Secret::new("not-the-key"), ..sim::credentials() };
        let mut out = Vec::new();
        let err = run_check(args(&sim, api, sim::TEST_VPC, None, creds), &mut out).await.unwrap_err();
        assert_eq!(err.class(), Some(ErrorClass::Permanent));
        assert_ne!(err.exit_code(), 0);
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("calling {action} failed (permanent)")), "{shown}");
        assert!(shown.contains(&format!("{code}AuthFailure.SignatureFailure")), "{shown}");
        assert!(!shown.contains("not-the-key"), "{shown}");
        let printed = String::from_utf8(out).unwrap();
        assert_eq!(printed.lines().count(), 2, "only the api and credentials lines before the first call: {printed}");
        assert!(printed.contains("credentials from given"), "{printed}");
    }
}

#[tokio::test]
async fn check_of_a_vpc_that_does_not_exist_fails_not_found_on_both_apis() {
    let sim = Sim::start(sim::WORLD);
    for api in BOTH {
        let mut out = Vec::new();
        let err = run_check(args(&sim, api, "vpc-nosuch01", None, sim::credentials()), &mut out).await.unwrap_err();
        assert!(matches!(err, CheckError::Api(_) | CheckError::Api3(_)), "{err:?}");
        assert_eq!(err.class(), Some(ErrorClass::NotFound), "{api:?}");
        assert!(err.to_string().contains("vpc-nosuch01"), "{err}");
    }
}
