//! Admission of VpcRoute specs by the real kube-apiserver: the CRD's schema and CEL rules reject
//! bad input at `kubectl apply` with a message that says what to write.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::cluster::{TestEnv, install_crds, test_env};

fn apply(env: &TestEnv, yaml: &str) -> (bool, String) {
    let mut child = Command::new(&env.kubectl)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .args(["-n", &env.namespace, "apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kubectl");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(yaml.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn route(name: &str, fields: &str) -> String {
    format!("apiVersion: vpc.qcloud.dev/v1alpha1\nkind: VpcRoute\nmetadata:\n  name: {name}\nspec:\n{fields}")
}

const GOOD: &str = "  vpcId: vpc-amhnnao5\n  routeTableId: rtb-4ahe1qy2\n  destinationCidrBlock: 121.0.23.51/16\n  nextType: VpnGateway\n  nextHub: vpngw-dystbrkv\n";

async fn env() -> TestEnv {
    let env = test_env("admission").await;
    install_crds(&env.client).await;
    env
}

#[tokio::test]
async fn a_good_route_with_host_bits_is_accepted() {
    let env = env().await;
    let (ok, out) = apply(&env, &route("good", GOOD));
    assert!(ok, "{out}");
}

/// What kube-apiserver adds after the first error when it skipped the CEL rules.
const SKIPPED: &str = "* <nil>: Invalid value: null: some validation rules were not checked because the object was \
                       invalid; correct the existing errors to complete validation";

#[tokio::test]
async fn each_invalid_spec_is_rejected_with_the_whole_message_naming_the_field_and_what_to_write() {
    let env = env().await;
    let cidr = "destinationCidrBlock must be an IPv4 CIDR such as 112.20.51.0/24";
    let cases = [
        ("cidr", GOOD.replace("121.0.23.51/16", "121.0.23/16"), format!(r#"spec.destinationCidrBlock: Invalid value: "121.0.23/16": {cidr}"#)),
        ("cidr6", GOOD.replace("121.0.23.51/16", "fd00::/8"), format!(r#"spec.destinationCidrBlock: Invalid value: "fd00::/8": {cidr}"#)),
        ("prefix", GOOD.replace("121.0.23.51/16", "10.1.0.0/33"), format!(r#"spec.destinationCidrBlock: Invalid value: "10.1.0.0/33": {cidr}"#)),
        ("type", GOOD.replace("VpnGateway", "Teleporter"), format!("\n* spec.nextType: Unsupported value: \"Teleporter\": supported values: \"PublicGateway\", \"VpnGateway\", \"DirectConnectGateway\", \"PeeringConnection\", \"SslVpnGateway\", \"NatGateway\", \"NormalCvm\"\n{SKIPPED}")),
        ("hub", GOOD.replace("vpngw-dystbrkv", "nat-0a1b2c3d"), "spec.nextHub: Invalid value: nextHub for nextType VpnGateway or SslVpnGateway must be a VPN gateway id such as vpngw-dystbrkv".to_string()),
        ("cvm", GOOD.replace("VpnGateway", "NormalCvm").replace("vpngw-dystbrkv", "ins-1234"), "spec.nextHub: Invalid value: nextHub for nextType NormalCvm must be the CVM's private IPv4 address such as 10.0.1.7".to_string()),
        ("vpc", GOOD.replace("vpc-amhnnao5", "amhnnao5"), r#"spec.vpcId: Invalid value: "amhnnao5": vpcId must be a VPC id such as vpc-amhnnao5"#.to_string()),
        ("table", GOOD.replace("rtb-4ahe1qy2", "table-1"), r#"spec.routeTableId: Invalid value: "table-1": routeTableId must be a route table id such as rtb-4ahe1qy2"#.to_string()),
        ("missing", GOOD.replace("  nextHub: vpngw-dystbrkv\n", ""), format!("\n* spec.nextHub: Required value\n{SKIPPED}")),
        ("policy", format!("{GOOD}  deletionPolicy: Keep\n"), format!("\n* spec.deletionPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Orphan\"\n{SKIPPED}")),
    ];
    for (name, spec, expected) in cases {
        let (ok, out) = apply(&env, &route(&format!("bad-{name}"), &spec));
        assert!(!ok, "{name} was accepted:\n{spec}");
        let whole = format!(r#"The VpcRoute "bad-{name}" is invalid: {expected}"#);
        assert_eq!(out.trim_end(), whole, "{name}");
    }
}

#[tokio::test]
async fn normal_cvm_accepts_an_ipv4_address_as_hub() {
    let env = env().await;
    let spec = GOOD.replace("VpnGateway", "NormalCvm").replace("vpngw-dystbrkv", "10.0.1.7");
    let (ok, out) = apply(&env, &route("cvm", &spec));
    assert!(ok, "{out}");
}

#[tokio::test]
async fn identity_fields_are_immutable_but_the_next_hop_may_change() {
    let env = env().await;
    let (ok, out) = apply(&env, &route("fixed", GOOD));
    assert!(ok, "{out}");
    for (field, from, to) in [
        ("destinationCidrBlock", "121.0.23.51/16", "121.1.0.0/16"),
        ("vpcId", "vpc-amhnnao5", "vpc-6xh2kq0r"),
        ("routeTableId", "rtb-4ahe1qy2", "rtb-9cmf3w7s"),
    ] {
        let (ok, out) = apply(&env, &route("fixed", &GOOD.replace(from, to)));
        assert!(!ok, "{field} change was accepted");
        assert!(out.contains(&format!("{field} is immutable")), "{field}: {out}");
    }
    let (ok, out) = apply(&env, &route("fixed", &format!("{GOOD}  region: ap-shanghai\n")));
    assert!(!ok && out.contains("region is immutable"), "{out}");
    let hop = GOOD.replace("VpnGateway", "NatGateway").replace("vpngw-dystbrkv", "nat-0fkvq2hd");
    let (ok, out) = apply(&env, &route("fixed", &hop));
    assert!(ok, "changing the next hop must be allowed: {out}");
}

/// Hostile and malformed manifests (issue 11, R4): each is refused by `kubectl apply` with a
/// message that names the field. `spec` replaces one field of GOOD (or adds one).
#[tokio::test]
async fn forty_hostile_or_malformed_manifests_are_each_rejected_naming_the_field() {
    let env = env().await;
    let set = |field: &str, value: &str| {
        let mut lines: Vec<String> =
            GOOD.lines().filter(|l| !l.trim_start().starts_with(&format!("{field}:"))).map(str::to_string).collect();
        if value != "<absent>" {
            lines.push(format!("  {field}: {value}"));
        }
        lines.join("\n") + "\n"
    };
    let hub = |next_type: &str, hub: &str| set("nextType", next_type).replace("vpngw-dystbrkv", hub);
    let cases: Vec<(&str, String, &str)> = vec![
        ("vpc-number", set("vpcId", "123"), "spec.vpcId"),
        ("vpc-empty", set("vpcId", "\"\""), "spec.vpcId"),
        ("vpc-long", set("vpcId", &format!("vpc-{}", "a".repeat(40))), "spec.vpcId"),
        ("vpc-unicode", set("vpcId", "vpc-ünïcode"), "spec.vpcId"),
        ("vpc-shell", set("vpcId", "\"vpc-1; rm -rf /\""), "spec.vpcId"),
        ("vpc-missing", set("vpcId", "<absent>"), "spec.vpcId"),
        ("rtb-sql", set("routeTableId", "\"rtb-1' OR '1'='1\""), "spec.routeTableId"),
        ("rtb-list", set("routeTableId", "[]"), "spec.routeTableId"),
        ("rtb-missing", set("routeTableId", "<absent>"), "spec.routeTableId"),
        ("rtb-upper", set("routeTableId", "RTB-4AHE1QY2"), "spec.routeTableId"),
        ("cidr-33", set("destinationCidrBlock", "10.0.0.0/33"), "spec.destinationCidrBlock"),
        ("cidr-leading-zero", set("destinationCidrBlock", "010.0.0.0/8"), "spec.destinationCidrBlock"),
        ("cidr-space", set("destinationCidrBlock", "\" 10.0.0.0/8 \""), "spec.destinationCidrBlock"),
        ("cidr-ipv6", set("destinationCidrBlock", "fd00::/8"), "spec.destinationCidrBlock"),
        ("cidr-no-prefix", set("destinationCidrBlock", "10.0.0.0"), "spec.destinationCidrBlock"),
        ("cidr-negative", set("destinationCidrBlock", "10.0.0.0/-1"), "spec.destinationCidrBlock"),
        ("cidr-256", set("destinationCidrBlock", "256.0.0.0/8"), "spec.destinationCidrBlock"),
        ("cidr-number", set("destinationCidrBlock", "10"), "spec.destinationCidrBlock"),
        (
            "cidr-injection",
            set("destinationCidrBlock", "\"10.0.0.0/8&Action=DeleteRoute\""),
            "spec.destinationCidrBlock",
        ),
        ("type-case", set("nextType", "vpngateway"), "spec.nextType"),
        ("type-number", set("nextType", "1"), "spec.nextType"),
        ("type-local", set("nextType", "Local"), "spec.nextType"),
        ("hub-public", hub("PublicGateway", "vpngw-1a"), "spec.nextHub"),
        ("hub-vpn", hub("VpnGateway", "ins-1a"), "spec.nextHub"),
        ("hub-sslvpn", hub("SslVpnGateway", "nat-1a"), "spec.nextHub"),
        ("hub-dcg", hub("DirectConnectGateway", "pcx-1a"), "spec.nextHub"),
        ("hub-pcx", hub("PeeringConnection", "dcg-1a"), "spec.nextHub"),
        ("hub-nat", hub("NatGateway", "ins-1a"), "spec.nextHub"),
        ("hub-cvm-id", hub("NormalCvm", "ins-1a"), "spec.nextHub"),
        ("hub-cvm-ipv6", hub("NormalCvm", "\"fd00::1\""), "spec.nextHub"),
        ("hub-cvm-bad-ip", hub("NormalCvm", "10.0.0.256"), "spec.nextHub"),
        ("hub-empty", set("nextHub", "\"\""), "spec.nextHub"),
        ("hub-long", set("nextHub", &format!("vpngw-{}", "a".repeat(60))), "spec.nextHub"),
        ("hub-upper", set("nextHub", "vpngw-DYSTBRKV"), "spec.nextHub"),
        ("hub-injection", set("nextHub", "\"vpngw-1&Action=DeleteRoute\""), "spec.nextHub"),
        ("region-upper", set("region", "AP-GUANGZHOU"), "spec.region"),
        ("region-empty", set("region", "\"\""), "spec.region"),
        ("region-long", set("region", &format!("ap-{}", "x".repeat(70))), "spec.region"),
        ("secret-path", set("credentialsSecretRef", "{name: ../etc}"), "spec.credentialsSecretRef.name"),
        ("secret-empty", set("credentialsSecretRef", "{}"), "spec.credentialsSecretRef.name"),
        ("deletion-policy", set("deletionPolicy", "Keep"), "spec.deletionPolicy"),
        ("adoption-policy", set("adoptionPolicy", "Always"), "spec.adoptionPolicy"),
        ("management-policy", set("managementPolicy", "ReadOnly"), "spec.managementPolicy"),
        ("enabled-string", set("enabled", "\"yes\""), "spec.enabled"),
        ("description-long", set("description", &"d".repeat(101)), "spec.description"),
        ("unknown-field", set("teleport", "true"), "teleport"),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (name, spec, field) in &cases {
        let (ok, out) = apply(&env, &route(&format!("h-{name}"), spec));
        if ok || !out.contains(field) {
            failures.push(format!("{name}: accepted={ok}, expected {field:?} in: {}", out.trim()));
        }
    }
    println!(
        "R4: {} malformed manifests, {} refused by kubectl apply naming the field, {} not",
        cases.len(),
        cases.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} of {} cases:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[tokio::test]
async fn cidr_edge_cases_the_cloud_may_accept_are_admitted() {
    let env = env().await;
    for (name, cidr) in [("default", "0.0.0.0/0"), ("broadcast", "255.255.255.255/32"), ("zero-prefix", "10.0.0.0/0")] {
        let spec = GOOD.replace("121.0.23.51/16", cidr);
        let (ok, out) = apply(&env, &route(&format!("edge-{name}"), &spec));
        assert!(ok, "{cidr} is a valid IPv4 CIDR and is left to the cloud: {out}");
    }
}
