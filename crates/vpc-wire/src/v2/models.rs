//! API 2.0 wire models, defined once: the actions, the response envelope and the typed bodies of
//! every action. The client parses with them; the emulator serialises them. Pure; no I/O.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The API 2.0 actions of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Add a batch of routes to one route table.
    CreateRoute,
    /// Remove a batch of routes from one route table.
    DeleteRoute,
    /// List route tables and their routes.
    DescribeRouteTable,
    /// List VPCs.
    DescribeVpcEx,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 4] =
        [Action::CreateRoute, Action::DeleteRoute, Action::DescribeRouteTable, Action::DescribeVpcEx];

    /// The value of the `Action` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateRoute => "CreateRoute",
            Action::DeleteRoute => "DeleteRoute",
            Action::DescribeRouteTable => "DescribeRouteTable",
            Action::DescribeVpcEx => "DescribeVpcEx",
        }
    }

    /// The action an `Action` parameter names, if the contract has it.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The common head of every API 2.0 answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// 0 on success; an integer, sometimes sent as a numeric string.
    #[serde(deserialize_with = "int_or_string")]
    pub code: i64,
    /// A human-readable message.
    #[serde(default, deserialize_with = "opt_string", serialize_with = "empty_if_none")]
    pub message: Option<String>,
    /// The string code (`Success`, `InvalidDestinationCidr`, …).
    #[serde(default, rename = "codeDesc", deserialize_with = "opt_string", serialize_with = "empty_if_none")]
    pub code_desc: Option<String>,
    /// Tencent's request id, when sent.
    #[serde(
        default,
        rename = "requestId",
        alias = "RequestId",
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
}

/// A whole answer as the emulator writes it: the head and the action's data side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Envelope<T: Serialize> {
    /// `code`, `message`, `codeDesc`, `requestId`.
    #[serde(flatten)]
    pub head: Head,
    /// The action's data fields.
    #[serde(flatten)]
    pub data: T,
}

/// The data of an answer that carries none (CreateRoute, DeleteRoute, every failure).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Parses the head of an answer. Anything that is not a JSON object with a `code` is an error.
pub fn parse_head(body: &[u8]) -> Result<Head, String> {
    serde_json::from_slice(body).map_err(|e| format!("envelope: {e}"))
}

/// Parses the action-specific data of a successful answer.
pub fn parse_data<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("data: {e}"))
}

/// `DescribeRouteTable` data: one page of route tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTablePage {
    /// How many tables match, over all pages.
    #[serde(rename = "totalCount", deserialize_with = "int_or_string")]
    pub total_count: i64,
    /// This page's tables.
    #[serde(default)]
    pub data: Vec<RouteTableItem>,
}

/// One route table as `DescribeRouteTable` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableItem {
    /// The VPC id (`vpc-…`).
    #[serde(rename = "unVpcId", default)]
    pub vpc_id: String,
    /// The VPC's name.
    #[serde(rename = "vpcName", default, deserialize_with = "string_or_null")]
    pub vpc_name: String,
    /// The VPC's CIDR.
    #[serde(rename = "vpcCidrBlock", default, deserialize_with = "string_or_null")]
    pub vpc_cidr: String,
    /// The route table id (`rtb-…`).
    #[serde(rename = "unRouteTableId")]
    pub route_table_id: String,
    /// The table's name.
    #[serde(rename = "routeTableName", default, deserialize_with = "string_or_null")]
    pub name: String,
    /// 0 normal, 1 default.
    #[serde(rename = "routeTableType", default, deserialize_with = "opt_int_or_string")]
    pub table_type: Option<i64>,
    /// How many routes the table holds, `Local` included.
    #[serde(
        rename = "routeNum",
        default,
        deserialize_with = "opt_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub route_num: Option<i64>,
    /// The routes, `Local` included (`routeSet`, or `routeTableSet` as one page documents it).
    #[serde(rename = "routeSet", alias = "routeTableSet", default)]
    pub routes: Vec<RouteItem>,
}

/// One route as `DescribeRouteTable` returns it, before normalisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteItem {
    /// The destination as sent (`Local` for the system route).
    #[serde(rename = "destinationCidrBlock")]
    pub destination: String,
    /// The wire next type code.
    #[serde(rename = "nextType", deserialize_with = "int_or_string")]
    pub next_type: i64,
    /// The next hop id or address.
    #[serde(rename = "nextHub", default, deserialize_with = "string_or_null")]
    pub next_hub: String,
    /// The next hop's unified id.
    #[serde(rename = "unNextHub", default, deserialize_with = "string_or_null")]
    pub un_next_hub: String,
    /// The route's description.
    #[serde(default, deserialize_with = "string_or_null")]
    pub description: String,
}

/// `DescribeVpcEx` data: one page of VPCs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcPage {
    /// How many VPCs match, over all pages.
    #[serde(rename = "totalCount", deserialize_with = "int_or_string")]
    pub total_count: i64,
    /// This page's VPCs.
    #[serde(default)]
    pub data: Vec<VpcItem>,
}

/// One VPC as `DescribeVpcEx` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcItem {
    /// The VPC id (`vpc-…`).
    #[serde(rename = "unVpcId")]
    pub vpc_id: String,
    /// The VPC's name.
    #[serde(rename = "vpcName", default, deserialize_with = "string_or_null")]
    pub name: String,
    /// The VPC's CIDR.
    #[serde(rename = "cidrBlock", default, deserialize_with = "string_or_null")]
    pub cidr_block: String,
    /// When it was created, as sent.
    #[serde(rename = "createTime", default, deserialize_with = "opt_string")]
    pub create_time: Option<String>,
    /// Whether it is the region's default VPC (boolean, or 0/1).
    #[serde(rename = "isDefault", default, deserialize_with = "flag")]
    pub is_default: bool,
    /// How many route tables it has.
    #[serde(
        rename = "routeTableNum",
        default,
        deserialize_with = "opt_int_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub route_table_num: Option<i64>,
}

fn empty_if_none<S: serde::Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_deref().unwrap_or(""))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IntOrString {
    Int(i64),
    Str(String),
}

fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match IntOrString::deserialize(d)? {
        IntOrString::Int(i) => Ok(i),
        IntOrString::Str(s) => s.trim().parse().map_err(|_| de::Error::custom(format!("not an integer: {s:?}"))),
    }
}

fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<IntOrString>::deserialize(d)? {
        None => Ok(None),
        Some(IntOrString::Int(i)) => Ok(Some(i)),
        Some(IntOrString::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(IntOrString::Str(s)) => s.trim().parse().map(Some).map_err(|_| de::Error::custom("not an integer")),
    }
}

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Int(i64),
    Str(String),
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Flag>::deserialize(d)? {
        None => false,
        Some(Flag::Bool(b)) => b,
        Some(Flag::Int(i)) => i != 0,
        Some(Flag::Str(s)) => matches!(s.as_str(), "1" | "true" | "True"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn code_parses_as_integer_or_numeric_string() {
        let a = parse_head(br#"{"code":0,"message":"","codeDesc":"Success"}"#).unwrap();
        assert_eq!((a.code, a.code_desc.as_deref(), a.message), (0, Some("Success"), None));
        let b = parse_head(br#"{"code":"4000","codeDesc":"RouteLimitExceeded","message":"quota 50"}"#).unwrap();
        assert_eq!(
            (b.code, b.code_desc.as_deref(), b.message.as_deref()),
            (4000, Some("RouteLimitExceeded"), Some("quota 50"))
        );
    }

    #[test]
    fn missing_optional_fields_are_none_and_request_id_is_kept() {
        let h = parse_head(br#"{"code":6000,"requestId":"r-1"}"#).unwrap();
        assert_eq!(h, Head { code: 6000, code_desc: None, message: None, request_id: Some("r-1".into()) });
    }

    #[test]
    fn garbage_and_codeless_bodies_are_errors() {
        assert!(parse_head(b"<html>502 Bad Gateway</html>").is_err());
        assert!(parse_head(b"").is_err());
        assert!(parse_head(br#"{"message":"no code"}"#).is_err());
        assert!(parse_head(br#"{"code":"zero"}"#).is_err());
        assert!(parse_head(br#"[1,2]"#).is_err());
    }

    #[test]
    fn route_table_page_accepts_route_set_or_route_table_set_and_string_numbers() {
        let body = br#"{"code":0,"totalCount":"2","data":[
            {"unVpcId":"vpc-1","unRouteTableId":"rtb-1","routeTableName":"a","routeTableType":1,"vpcCidrBlock":"10.0.0.0/16",
             "routeSet":[{"destinationCidrBlock":"Local","nextType":2,"nextHub":"Local"},
                         {"destinationCidrBlock":"192.168.0.0/24","nextType":"1","nextHub":"vpngw-1","unNextHub":"x"}]},
            {"unVpcId":"vpc-1","unRouteTableId":"rtb-2","routeTableName":null,
             "routeTableSet":[{"destinationCidrBlock":"172.16.0.0/16","nextType":8,"nextHub":"nat-1"}]}]}"#;
        let page: RouteTablePage = parse_data(body).unwrap();
        assert_eq!(page.total_count, 2);
        assert_eq!(page.data[0].routes.len(), 2);
        assert_eq!(page.data[0].routes[1].next_type, 1);
        assert_eq!(page.data[0].table_type, Some(1));
        assert_eq!(page.data[1].routes[0].next_hub, "nat-1");
        assert_eq!(page.data[1].name, "");
    }

    #[test]
    fn route_table_page_without_total_count_is_an_error() {
        assert!(parse_data::<RouteTablePage>(br#"{"code":0,"data":[]}"#).is_err());
    }

    #[test]
    fn vpc_page_reads_default_flag_as_bool_or_number() {
        let body = br#"{"code":0,"totalCount":1,"data":[{"unVpcId":"vpc-1","vpcName":"prod","cidrBlock":"10.0.0.0/16",
            "createTime":"2024-01-01 00:00:00","isDefault":1}]}"#;
        let page: VpcPage = parse_data(body).unwrap();
        assert_eq!(page.data[0].cidr_block, "10.0.0.0/16");
        assert!(page.data[0].is_default);
        let body = br#"{"totalCount":1,"data":[{"unVpcId":"vpc-1","isDefault":false}]}"#;
        assert!(!parse_data::<VpcPage>(body).unwrap().data[0].is_default);
    }

    #[test]
    fn what_the_emulator_writes_the_client_reads_back_unchanged() {
        let page = RouteTablePage {
            total_count: 1,
            data: vec![RouteTableItem {
                vpc_id: "vpc-1".into(),
                vpc_name: "prod".into(),
                vpc_cidr: "10.0.0.0/16".into(),
                route_table_id: "rtb-1".into(),
                name: "main".into(),
                table_type: Some(1),
                route_num: Some(2),
                routes: vec![
                    RouteItem {
                        destination: "Local".into(),
                        next_type: 2,
                        next_hub: "Local".into(),
                        ..RouteItem::default()
                    },
                    RouteItem {
                        destination: "192.168.0.0/24".into(),
                        next_type: 1,
                        next_hub: "vpngw-1".into(),
                        un_next_hub: "vpngw-1".into(),
                        description: "d".into(),
                    },
                ],
            }],
        };
        let head = Head { code: 0, message: None, code_desc: Some("Success".into()), request_id: Some("r".into()) };
        let body = serde_json::to_vec(&Envelope { head: head.clone(), data: page.clone() }).unwrap();
        assert_eq!(parse_head(&body).unwrap(), head);
        assert_eq!(parse_data::<RouteTablePage>(&body).unwrap(), page);
        let vpcs = VpcPage {
            total_count: 1,
            data: vec![VpcItem {
                vpc_id: "vpc-1".into(),
                name: "prod".into(),
                cidr_block: "10.0.0.0/16".into(),
                create_time: Some("2018-01-01 00:00:00".into()),
                is_default: true,
                route_table_num: Some(1),
            }],
        };
        let body = serde_json::to_vec(&Envelope { head, data: vpcs.clone() }).unwrap();
        assert_eq!(parse_data::<VpcPage>(&body).unwrap(), vpcs);
    }

    #[test]
    fn a_failure_envelope_round_trips_its_code_and_desc() {
        let head = Head {
            code: 4000,
            message: Some("entry 0".into()),
            code_desc: Some("RouteAlreadyExists".into()),
            request_id: Some("r".into()),
        };
        let body = serde_json::to_vec(&Envelope { head: head.clone(), data: Empty {} }).unwrap();
        assert_eq!(parse_head(&body).unwrap(), head);
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(a));
        }
        assert_eq!(Action::parse("CreateRoutes"), None);
    }
}
