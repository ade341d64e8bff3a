//! Unit tests of `import.rs`.

use super::*;
use crate::crd::{DeletionPolicy, NextTypeName};
use vpc_wire::domain::NextType;

fn table() -> TableRef {
    TableRef { region: "ap-guangzhou".into(), vpc_id: "vpc-amhnnao5".into(), route_table_id: "rtb-4ahe1qy2".into() }
}

fn net(cidr: &str) -> Ipv4Net {
    cidr.parse().unwrap()
}

fn route(destination: &str, next_type: NextType, hub: &str) -> Route {
    Route::new(destination, next_type, hub).unwrap()
}

/// The Kubernetes DNS-1123 subdomain rule, written out.
fn is_dns1123_subdomain(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.split('.').all(label_ok)
}

#[test]
fn a_name_joins_the_table_and_the_normalised_destination() {
    assert_eq!(resource_name("rtb-4ahe1qy2", net("121.0.0.0/16")), "rtb-4ahe1qy2-121-0-0-0-16");
    assert_eq!(resource_name("rtb-4ahe1qy2", net("121.0.23.51/16")), "rtb-4ahe1qy2-121-0-0-0-16");
    assert_eq!(resource_name("rtb-4ahe1qy2", net("0.0.0.0/0")), "rtb-4ahe1qy2-0-0-0-0-0");
    assert_eq!(resource_name("rtb-4ahe1qy2", net("255.255.255.255/32")), "rtb-4ahe1qy2-255-255-255-255-32");
}

#[test]
fn names_are_the_same_on_every_call() {
    let first = resource_name("rtb-4ahe1qy2", net("10.20.30.0/24"));
    for _ in 0..3 {
        assert_eq!(resource_name("rtb-4ahe1qy2", net("10.20.30.0/24")), first);
    }
}

#[test]
fn names_are_valid_subdomains_even_for_odd_table_ids() {
    let long = "RTB_".repeat(100);
    for rtb in ["rtb-4ahe1qy2", "RTB-ABC", "rtb_x.y", "--rtb", "", "...", long.as_str()] {
        for dest in ["0.0.0.0/0", "255.255.255.255/32", "10.0.0.0/8"] {
            let name = resource_name(rtb, net(dest));
            assert!(is_dns1123_subdomain(&name), "{rtb:?} {dest}: {name:?}");
            assert!(name.ends_with(&dest.replace(['.', '/'], "-")), "{name}");
        }
    }
}

#[test]
fn destinations_that_differ_only_where_the_dots_fall_or_in_prefix_get_different_names() {
    let pairs = [("1.11.0.0/16", "11.1.0.0/16"), ("10.0.0.0/16", "10.0.0.0/8"), ("1.2.3.0/24", "1.2.30.0/24")];
    for (a, b) in pairs {
        assert_ne!(resource_name("rtb-1", net(a)), resource_name("rtb-1", net(b)), "{a} {b}");
    }
}

#[test]
fn distinct_destinations_of_a_table_never_share_a_name() {
    let mut seen = std::collections::HashMap::new();
    for prefix in 0..=32u8 {
        for a in [0u8, 1, 12, 123] {
            for last in [0u8, 1, 12, 123] {
                let dest = Ipv4Net::new(std::net::Ipv4Addr::new(a, 1, 2, last), prefix).unwrap().trunc();
                let name = resource_name("rtb-4ahe1qy2", dest);
                if let Some(other) = seen.insert(name.clone(), dest) {
                    assert_eq!(other, dest, "{name} for both {other} and {dest}");
                }
            }
        }
    }
}

#[test]
fn a_manifest_carries_the_route_the_table_and_the_import_label() {
    let routes = vec![(route("121.0.23.51/16", NextType::VpnGateway, "vpngw-dystbrkv"), RouteAttrs::default())];
    let (manifests, skipped) = manifests(&table(), Some("net"), &routes);
    assert!(skipped.is_empty());
    let [m] = manifests.as_slice() else { panic!("{manifests:?}") };
    assert_eq!(m.metadata.name.as_deref(), Some("rtb-4ahe1qy2-121-0-0-0-16"));
    assert_eq!(m.metadata.namespace.as_deref(), Some("net"));
    let labels = m.metadata.labels.clone().unwrap();
    assert_eq!(labels.get(IMPORTED_FROM_LABEL).map(String::as_str), Some("rtb-4ahe1qy2"));
    let s = &m.spec;
    assert_eq!((s.vpc_id.as_str(), s.route_table_id.as_str()), ("vpc-amhnnao5", "rtb-4ahe1qy2"));
    assert_eq!(s.destination_cidr_block, "121.0.0.0/16");
    assert_eq!((s.next_type, s.next_hub.as_str()), (NextTypeName::VpnGateway, "vpngw-dystbrkv"));
    assert_eq!(s.region.as_deref(), Some("ap-guangzhou"));
    assert_eq!(s.adoption_policy, AdoptionPolicy::IfIdentical);
    assert_eq!(s.deletion_policy, DeletionPolicy::Delete);
    assert_eq!((s.description.as_deref(), s.enabled, s.credentials_secret_ref.as_ref()), (None, None, None));
    assert!(m.status.is_none());
}

#[test]
fn description_and_disabled_state_are_kept_and_defaults_left_out() {
    let routes = vec![
        (
            route("10.1.0.0/16", NextType::NatGateway, "nat-1"),
            RouteAttrs { description: "to the nat".into(), enabled: false },
        ),
        (route("10.2.0.0/16", NextType::NatGateway, "nat-1"), RouteAttrs { description: "".into(), enabled: true }),
    ];
    let (manifests, _) = manifests(&table(), None, &routes);
    assert_eq!(manifests[0].spec.description.as_deref(), Some("to the nat"));
    assert_eq!(manifests[0].spec.enabled, Some(false));
    assert_eq!((manifests[1].spec.description.as_deref(), manifests[1].spec.enabled), (None, None));
    assert!(manifests.iter().all(|m| m.metadata.namespace.is_none()));
}

#[test]
fn manifests_are_sorted_by_destination_whatever_the_table_order() {
    let a = (route("192.168.0.0/16", NextType::NatGateway, "nat-1"), RouteAttrs::default());
    let b = (route("10.0.0.0/8", NextType::VpnGateway, "vpngw-1"), RouteAttrs::default());
    let c = (route("10.0.0.0/16", NextType::VpnGateway, "vpngw-1"), RouteAttrs::default());
    let one = manifests(&table(), None, &[a.clone(), b.clone(), c.clone()]).0;
    let other = manifests(&table(), None, &[c, a, b]).0;
    assert_eq!(serde_json::to_value(&one).unwrap(), serde_json::to_value(&other).unwrap());
    let dests: Vec<_> = one.iter().map(|m| m.spec.destination_cidr_block.as_str()).collect();
    assert_eq!(dests, ["10.0.0.0/8", "10.0.0.0/16", "192.168.0.0/16"]);
}

#[test]
fn a_repeated_destination_keeps_the_first_route_and_reports_the_other() {
    let routes = vec![
        (route("10.0.0.0/16", NextType::VpnGateway, "vpngw-1"), RouteAttrs::default()),
        (route("10.0.9.9/16", NextType::NatGateway, "nat-1"), RouteAttrs::default()),
    ];
    let (manifests, skipped) = manifests(&table(), None, &routes);
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0].spec.next_hub, "vpngw-1");
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].to_string().starts_with("skipped 10.0.0.0/16 via NatGateway(8) nat-1"), "{}", skipped[0]);
}

#[test]
fn the_yaml_stream_has_one_document_per_route_and_parses_back_to_the_same_resources() {
    let routes = vec![
        (route("10.1.0.0/16", NextType::NatGateway, "nat-1"), RouteAttrs { description: "d".into(), enabled: false }),
        (route("10.2.0.0/16", NextType::NormalCvm, "10.0.1.7"), RouteAttrs::default()),
    ];
    let (manifests, _) = manifests(&table(), Some("ns"), &routes);
    let text = to_yaml(&manifests).unwrap();
    assert_eq!(text.matches("---\n").count(), 2, "{text}");
    assert!(text.contains("apiVersion: vpc.qcloud.dev/v1alpha1") && text.contains("kind: VpcRoute"), "{text}");
    assert!(text.contains("adoptionPolicy: IfIdentical") && text.contains("nextType: NormalCvm"), "{text}");
    assert!(!text.contains("status") && !text.contains("null"), "{text}");
    let parsed: Vec<VpcRoute> =
        serde_norway::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), serde_json::to_value(&manifests).unwrap());
    assert_eq!(to_yaml(&[]).unwrap(), "");
}

#[test]
fn import_args_parse_from_the_command_line_with_optional_vpc_and_namespace() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: ImportArgs,
    }
    let cli = Cli::try_parse_from(["import", "--region", "ap-guangzhou", "--route-table-id", "rtb-1"]).unwrap();
    assert_eq!(cli.args.route_table_id, "rtb-1");
    assert!(cli.args.vpc_id.is_none() && cli.args.namespace.is_none() && cli.args.credentials.is_none());
    let cli = Cli::try_parse_from([
        "import",
        "--region",
        "ap-guangzhou",
        "--route-table-id",
        "rtb-1",
        "--vpc-id",
        "vpc-1",
        "--namespace",
        "net",
        "--api",
        "2.0",
    ])
    .unwrap();
    assert_eq!((cli.args.vpc_id.as_deref(), cli.args.namespace.as_deref()), (Some("vpc-1"), Some("net")));
    assert_eq!(cli.args.api, ApiVersion::V2);
    assert!(Cli::try_parse_from(["import", "--region", "ap-guangzhou"]).is_err(), "the table is required");
}

#[test]
fn a_table_in_another_vpc_fails_naming_both_vpcs() {
    let err =
        ImportError::WrongVpc { route_table_id: "rtb-1".into(), expected: "vpc-a".into(), actual: "vpc-b".into() };
    assert_eq!(err.to_string(), "route table rtb-1 belongs to vpc-b, not to vpc-a");
    assert_eq!(err.exit_code(), 1);
}
