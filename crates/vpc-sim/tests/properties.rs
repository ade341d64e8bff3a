//! Property tests of the emulator's input decoding (proptest; there is no nightly toolchain for
//! cargo-fuzz): the world file loader never panics on arbitrary text or YAML documents and loads
//! every generated valid world; `Params::decode` never panics on arbitrary query strings and bodies
//! and reads back what `encode_params` writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use vpc_sim::params::Params;
use vpc_sim::world;
use vpc_wire::domain::{NextType, normalize_cidr};
use vpc_wire::v2::sign::encode_params;

/// Keys of the world file, so that generated documents reach past the first unknown field.
const WORLD_KEYS: &[&str] = &[
    "routeQuota",
    "accounts",
    "faults",
    "rateLimits",
    "oidc",
    "instanceRole",
    "secretId",
    "secretKey",
    "token",
    "regions",
    "gz",
    "ap-guangzhou",
    "vpcs",
    "vpcId",
    "vpcName",
    "cidrBlock",
    "createTime",
    "isDefault",
    "routeTables",
    "gateways",
    "id",
    "name",
    "routes",
    "destinationCidrBlock",
    "nextType",
    "nextHub",
    "action",
    "kind",
    "probability",
    "count",
    "latencyMs",
    "providerId",
    "roleArn",
    "account",
    "durationSeconds",
    "roleName",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(WORLD_KEYS).prop_map(String::from), 1 => ".{0,8}"]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(&["10.0.0.0/16", "0.0.0.0/0", "10.0.0.0/33", "rtb-1", "vpngw-1", "AKID1", "1", "0"][..])
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(6, 128, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Canonical regions and a short alias where one exists; a world names each region once.
const REGIONS: &[(&str, Option<&str>)] = &[
    ("ap-guangzhou", Some("gz")),
    ("ap-shanghai", Some("sh")),
    ("ap-beijing", Some("bj")),
    ("ap-singapore", Some("sg")),
    ("na-ashburn", None),
];

/// One generated initial route: a destination outside 10.0.0.0/8 (the VPCs' space) and a hop.
fn route() -> impl Strategy<Value = (String, u32, String)> {
    (
        11u8..=223,
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        8u8..=32,
        prop::sample::select(&NextType::ALL[..]),
        "[a-z0-9]{1,8}",
    )
        .prop_map(|(a, b, c, d, p, t, suffix)| {
            let hub = match t.hub_prefix() {
                Some(prefix) => format!("{prefix}{suffix}"),
                None => format!("10.{b}.{c}.{d}"),
            };
            (format!("{a}.{b}.{c}.{d}/{p}"), t.code(), hub)
        })
}

/// A table: `(plain id?, name, routes)`; routes are made unique by destination when the world is built.
fn table() -> impl Strategy<Value = (bool, Option<String>, Vec<(String, u32, String)>)> {
    (any::<bool>(), proptest::option::of("[a-zA-Z0-9 _-]{1,12}"), prop::collection::vec(route(), 0..5))
}

fn gateway() -> impl Strategy<Value = (String, u32)> {
    let hop_types: Vec<NextType> = NextType::ALL.into_iter().filter(|t| *t != NextType::NormalCvm).collect();
    (prop::sample::select(hop_types), "[a-z0-9]{1,8}")
        .prop_map(|(t, suffix)| (format!("{}{suffix}", t.hub_prefix().unwrap()), t.code()))
}

/// A VPC: `(second octet of 10.x.0.0/16, name, tables (1–3), gateways)`.
type VpcShape = (u8, Option<String>, bool, Vec<(bool, Option<String>, Vec<(String, u32, String)>)>, Vec<(String, u32)>);

fn vpc() -> impl Strategy<Value = VpcShape> {
    (
        any::<u8>(),
        proptest::option::of("[a-zA-Z0-9 _-]{1,12}"),
        any::<bool>(),
        prop::collection::vec(table(), 1..=3),
        prop::collection::vec(gateway(), 0..3),
    )
}

/// An account: `(secret key, token, regions: (index into REGIONS, short spelling?, vpcs))`.
type AccountShape = (String, Option<String>, Vec<(usize, bool, Vec<VpcShape>)>);

fn account() -> impl Strategy<Value = AccountShape> {
    (
        "[A-Za-z0-9+/]{8,32}",
        proptest::option::of("[A-Za-z0-9]{8,24}"),
        prop::sample::subsequence((0..REGIONS.len()).collect::<Vec<_>>(), 1..=2).prop_flat_map(|indices| {
            indices
                .into_iter()
                .map(|i| (Just(i), any::<bool>(), prop::collection::vec(vpc(), 1..=2)))
                .collect::<Vec<_>>()
        }),
    )
}

/// A valid world (1–3 accounts) as JSON, with the counts of tables and routes it must load with.
fn valid_world() -> impl Strategy<Value = (Value, Vec<usize>)> {
    (proptest::option::of(5usize..100), prop::collection::vec(account(), 1..=3)).prop_map(|(quota, accounts)| {
        let mut expected = Vec::new();
        let accounts: Vec<Value> = accounts
            .into_iter()
            .enumerate()
            .map(|(a, (secret_key, token, regions))| {
                let mut region_map = Map::new();
                for (r, (index, short, vpcs)) in regions.into_iter().enumerate() {
                    let (long, alias) = REGIONS[index];
                    let name = if short { alias.unwrap_or(long) } else { long };
                    let vpcs: Vec<Value> = vpcs
                        .into_iter()
                        .enumerate()
                        .map(|(v, (octet, vpc_name, is_default, tables, gateways))| {
                            let tables: Vec<Value> = tables
                                .into_iter()
                                .enumerate()
                                .map(|(t, (plain, table_name, routes))| {
                                    let id = format!("rtb-{a}{r}{v}{t}");
                                    let mut seen = BTreeMap::new();
                                    for (destination, next_type, next_hub) in routes {
                                        let net = normalize_cidr(&destination).unwrap();
                                        seen.entry(net).or_insert(json!({
                                            "destinationCidrBlock": destination,
                                            "nextType": next_type,
                                            "nextHub": next_hub,
                                        }));
                                    }
                                    let routes: Vec<Value> = seen.into_values().collect();
                                    expected.push(routes.len());
                                    if plain && routes.is_empty() {
                                        Value::String(id)
                                    } else {
                                        let mut table = json!({"id": id, "routes": routes});
                                        if let Some(n) = table_name {
                                            table["name"] = Value::String(n);
                                        }
                                        table
                                    }
                                })
                                .collect();
                            let gateways: Vec<Value> =
                                gateways.into_iter().map(|(id, t)| json!({"id": id, "nextType": t})).collect();
                            let mut vpc = json!({
                                "vpcId": format!("vpc-{a}{r}{v}"),
                                "cidrBlock": format!("10.{octet}.0.0/16"),
                                "isDefault": is_default,
                                "routeTables": tables,
                                "gateways": gateways,
                            });
                            if let Some(n) = vpc_name {
                                vpc["vpcName"] = Value::String(n);
                            }
                            vpc
                        })
                        .collect();
                    region_map.insert(name.to_string(), json!({"vpcs": vpcs}));
                }
                let mut account =
                    json!({"secretId": format!("AKID{a}"), "secretKey": secret_key, "regions": region_map});
                if let Some(t) = token {
                    account["token"] = Value::String(t);
                }
                account
            })
            .collect();
        let mut world = json!({"accounts": accounts});
        if let Some(q) = quota {
            world["routeQuota"] = Value::from(q);
        }
        (world, expected)
    })
}

/// Replaces the value at the path the selectors pick (each picks a child by index) with `new`.
fn replace_at(value: &mut Value, selectors: &[prop::sample::Index], new: Value) {
    let Some((first, rest)) = selectors.split_first() else {
        *value = new;
        return;
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let i = first.index(map.len());
            let child = map.values_mut().nth(i).unwrap();
            replace_at(child, rest, new);
        }
        Value::Array(items) if !items.is_empty() => {
            let i = first.index(items.len());
            replace_at(&mut items[i], rest, new);
        }
        leaf => *leaf = new,
    }
}

fn to_yaml(value: &Value) -> String {
    serde_norway::to_string(value).unwrap()
}

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &["Action", "offset", "limit", "routeSet.0.nextHub", "routeSet_1_nextType", "routeSet.x.y", "Signature"][..]
        )
        .prop_map(String::from),
        ".{0,10}",
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

proptest! {
    #![proptest_config(config())]

    // ---- the world file ----

    #[test]
    fn the_world_loader_never_panics_on_arbitrary_text(text in ".{0,200}", shaped in "[a-zA-Z:{}\\[\\],\n -]{0,120}") {
        let _ = world::parse(&text);
        let _ = world::parse(&shaped);
    }

    #[test]
    fn the_world_loader_never_panics_on_arbitrary_yaml_documents(value in json()) {
        let _ = world::parse(&to_yaml(&value));
        let _ = world::parse(&to_yaml(&json!({"accounts": [value]})));
    }

    #[test]
    fn every_generated_valid_world_loads((world_json, expected) in valid_world()) {
        let text = to_yaml(&world_json);
        let loaded = world::parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        let accounts = world_json["accounts"].as_array().unwrap();
        prop_assert_eq!(loaded.cloud.accounts.len(), accounts.len());
        let tables: Vec<usize> = loaded
            .cloud
            .accounts
            .iter()
            .flat_map(|a| a.regions.values())
            .flat_map(|r| &r.vpcs)
            .flat_map(|v| &v.tables)
            .map(|t| t.routes.len())
            .collect();
        // Regions are keyed by canonical name, so compare the multisets of route counts.
        let (mut got, mut want) = (tables, expected);
        got.sort_unstable();
        want.sort_unstable();
        prop_assert_eq!(got, want);
        for region in loaded.cloud.accounts.iter().flat_map(|a| a.regions.keys()) {
            prop_assert!(REGIONS.iter().any(|(long, _)| long == region), "region {}", region);
        }
    }

    #[test]
    fn the_world_loader_never_panics_on_a_valid_world_with_one_value_replaced(
        (mut world_json, _) in valid_world(),
        selectors in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        new in json(),
    ) {
        replace_at(&mut world_json, &selectors, new);
        let _ = world::parse(&to_yaml(&world_json));
    }

    // ---- API 2.0 request parameters ----

    #[test]
    fn params_decode_never_panics_on_arbitrary_queries_and_bodies(
        query in proptest::option::of(".{0,80}"),
        body in prop::collection::vec(any::<u8>(), 0..160),
    ) {
        if let Ok(params) = Params::decode(query.as_deref(), &body) {
            let _ = params.page();
            let _ = params.route_set();
            let _ = params.get("Action");
        }
    }

    #[test]
    fn params_decode_never_panics_on_parameter_shaped_input(
        pairs in prop::collection::vec((param_name(), ".{0,10}"), 0..8),
        split in any::<prop::sample::Index>(),
    ) {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let at = split.index(refs.len() + 1);
        let (query, body) = (encode_params(refs[..at].iter().copied()), encode_params(refs[at..].iter().copied()));
        if let Ok(params) = Params::decode(Some(&query), body.as_bytes()) {
            let _ = params.page();
            let _ = params.route_set();
        }
        if let Ok(params) = Params::decode(Some(&raw.join("&")), raw.join("&").as_bytes()) {
            let _ = params.route_set();
        }
    }

    #[test]
    fn params_decode_reads_back_what_encode_params_writes(
        values in prop::collection::btree_map("[a-zA-Z0-9.~ -]{1,10}", ".{0,12}", 0..8),
    ) {
        // Names are distinct and free of `_`, so none is refused as given twice.
        let refs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let params = Params::decode(Some(&encode_params(refs.iter().copied())), b"").unwrap();
        let got: Vec<(&str, &str)> = params.pairs().collect();
        prop_assert_eq!(got, refs);
    }
}
