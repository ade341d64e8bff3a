//! The 3.0 resource models (`vpc/v20170312` `Route`, `RouteTable`, `Vpc` and their parts) and the
//! conversion of a route to and from the domain form. Pure data.

use serde::{Deserialize, Serialize};

use super::lenient::{flag, is_false, is_zero, nullable, u64_lenient, yes};
use super::{ROUTE_TYPE_USER, gateway_type, next_type_of};
use crate::domain;

/// A route (`vpc/v20170312` `Route`). Every field has a default, so partial inputs parse. The
/// response-only fields (`RouteId`, `RouteItemId`, `RouteType`, `RouteTableId`,
/// `DestinationIpv6CidrBlock`, `PublishedToVbc`, `CreatedTime`) are left out when empty, so a
/// request carries only what its caller set.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    /// The IPv4 destination as sent or stored.
    #[serde(default, deserialize_with = "nullable")]
    pub destination_cidr_block: String,
    /// `CVM`, `VPN`, …, `LOCAL` (see [`gateway_type`]).
    #[serde(default, deserialize_with = "nullable")]
    pub gateway_type: String,
    /// The next hop id; for `NORMAL_CVM` its private IPv4 address.
    #[serde(default, deserialize_with = "nullable")]
    pub gateway_id: String,
    /// The numeric route id (0 for IPv6 routes and in requests).
    #[serde(default, deserialize_with = "u64_lenient", skip_serializing_if = "is_zero")]
    pub route_id: u64,
    /// The stable route id `rti-…`.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub route_item_id: String,
    /// Free text.
    #[serde(default, deserialize_with = "nullable")]
    pub route_description: String,
    /// Whether the route is in effect; absent means enabled.
    #[serde(default = "yes", deserialize_with = "flag")]
    pub enabled: bool,
    /// `USER` for editable routes; anything else is a system route.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub route_type: String,
    /// The table that holds the route.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub route_table_id: String,
    /// The IPv6 destination (IPv6 routes only).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub destination_ipv6_cidr_block: String,
    /// Whether the route is published to CCN.
    #[serde(default, deserialize_with = "flag", skip_serializing_if = "is_false")]
    pub published_to_vbc: bool,
    /// `YYYY-MM-DD HH:MM:SS`.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "String::is_empty")]
    pub created_time: String,
}

impl Default for Route {
    fn default() -> Route {
        Route {
            destination_cidr_block: String::new(),
            gateway_type: String::new(),
            gateway_id: String::new(),
            route_id: 0,
            route_item_id: String::new(),
            route_description: String::new(),
            enabled: true,
            route_type: String::new(),
            route_table_id: String::new(),
            destination_ipv6_cidr_block: String::new(),
            published_to_vbc: false,
            created_time: String::new(),
        }
    }
}

impl Route {
    /// The request form of a domain route: destination, gateway type and id, description, enabled.
    pub fn from_domain(route: &domain::Route, description: &str) -> Route {
        Route {
            destination_cidr_block: route.destination.to_string(),
            gateway_type: gateway_type(route.next_type).to_owned(),
            gateway_id: route.next_hub.clone(),
            route_description: description.to_owned(),
            ..Route::default()
        }
    }

    /// Whether this is an editable user route (`RouteType` `USER`).
    pub fn is_user(&self) -> bool {
        self.route_type == ROUTE_TYPE_USER
    }

    /// The domain form: `None` for a destination that is not an IPv4 CIDR or a gateway type outside
    /// the legacy set (`LOCAL` included). Does not look at `RouteType`; filter with [`Route::is_user`].
    pub fn to_domain(&self) -> Option<domain::Route> {
        domain::Route::new(&self.destination_cidr_block, next_type_of(&self.gateway_type)?, self.gateway_id.clone())
    }
}

/// A subnet associated with a route table.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    /// `subnet-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub subnet_id: String,
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
}

/// A tag.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    #[serde(default, deserialize_with = "nullable")]
    pub key: String,
    /// Tag value.
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
}

/// A local CIDR a table publishes to CCN (`CidrForCcn`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct CidrForCcn {
    /// The CIDR.
    #[serde(default, deserialize_with = "nullable")]
    pub cidr: String,
    /// Whether it is published.
    #[serde(default, deserialize_with = "flag")]
    pub published_to_vbc: bool,
}

/// A route table (`vpc/v20170312` `RouteTable`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    /// `vpc-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_id: String,
    /// `rtb-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_id: String,
    /// The table's name.
    #[serde(default, deserialize_with = "nullable")]
    pub route_table_name: String,
    /// The associated subnets.
    #[serde(default, deserialize_with = "nullable")]
    pub association_set: Vec<RouteTableAssociation>,
    /// The routes, the system route included.
    #[serde(default, deserialize_with = "nullable")]
    pub route_set: Vec<Route>,
    /// Whether it is the VPC's main (default) table.
    #[serde(default, deserialize_with = "flag")]
    pub main: bool,
    /// `YYYY-MM-DD HH:MM:SS`.
    #[serde(default, deserialize_with = "nullable")]
    pub created_time: String,
    /// Tags.
    #[serde(default, deserialize_with = "nullable")]
    pub tag_set: Vec<Tag>,
    /// Local CIDRs published to CCN.
    #[serde(default, deserialize_with = "nullable")]
    pub local_cidr_for_ccn: Vec<CidrForCcn>,
}

/// A secondary CIDR of a VPC (`AssistantCidr`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AssistantCidr {
    /// `vpc-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_id: String,
    /// The CIDR.
    #[serde(default, deserialize_with = "nullable")]
    pub cidr_block: String,
    /// 0 ordinary, 1 container.
    #[serde(default, deserialize_with = "u64_lenient")]
    pub assistant_type: u64,
}

/// A VPC (`vpc/v20170312` `Vpc`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    /// `vpc-…`.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_id: String,
    /// The VPC's name.
    #[serde(default, deserialize_with = "nullable")]
    pub vpc_name: String,
    /// The VPC's IPv4 CIDR.
    #[serde(default, deserialize_with = "nullable")]
    pub cidr_block: String,
    /// Whether it is the region's default VPC.
    #[serde(default, deserialize_with = "flag")]
    pub is_default: bool,
    /// `YYYY-MM-DD HH:MM:SS`.
    #[serde(default, deserialize_with = "nullable")]
    pub created_time: String,
    /// Whether multicast is on.
    #[serde(default, deserialize_with = "flag")]
    pub enable_multicast: bool,
    /// DNS servers.
    #[serde(default, deserialize_with = "nullable")]
    pub dns_server_set: Vec<String>,
    /// DHCP domain name.
    #[serde(default, deserialize_with = "nullable")]
    pub domain_name: String,
    /// DHCP options set id.
    #[serde(default, deserialize_with = "nullable")]
    pub dhcp_options_id: String,
    /// Whether DHCP is on.
    #[serde(default, deserialize_with = "flag")]
    pub enable_dhcp: bool,
    /// The IPv6 CIDR, if any.
    #[serde(default, deserialize_with = "nullable")]
    pub ipv6_cidr_block: String,
    /// Tags.
    #[serde(default, deserialize_with = "nullable")]
    pub tag_set: Vec<Tag>,
    /// Secondary CIDRs.
    #[serde(default, deserialize_with = "nullable")]
    pub assistant_cidr_set: Vec<AssistantCidr>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::NextType;

    #[test]
    fn a_route_in_a_request_carries_only_what_was_set() {
        let d = domain::Route::new("10.1.2.3/24", NextType::NatGateway, "nat-1").unwrap();
        let r = Route::from_domain(&d, "owned");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"DestinationCidrBlock": "10.1.2.0/24", "GatewayType": "NAT", "GatewayId": "nat-1",
                               "RouteDescription": "owned", "Enabled": true})
        );
        assert_eq!(r.to_domain(), Some(d));
    }

    #[test]
    fn a_partial_or_null_laden_route_parses_with_defaults() {
        let r: Route = serde_json::from_str(r#"{"DestinationCidrBlock":"10.0.0.0/8","RouteId":"7"}"#).unwrap();
        assert_eq!((r.route_id, r.enabled, r.gateway_type.as_str()), (7, true, ""));
        let r: Route = serde_json::from_str(
            r#"{"DestinationCidrBlock":null,"GatewayType":"LOCAL","GatewayId":"Local","RouteId":null,
                "Enabled":0,"PublishedToVbc":null,"RouteType":"NETD","Extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!((r.destination_cidr_block.as_str(), r.enabled, r.is_user()), ("", false, false));
        assert_eq!(r.to_domain(), None);
        assert!(serde_json::from_str::<Route>(r#"{"RouteId":-1}"#).is_err());
    }

    #[test]
    fn a_full_route_table_and_vpc_round_trip_unchanged() {
        let route = Route {
            destination_cidr_block: "192.168.0.0/24".into(),
            gateway_type: "VPN".into(),
            gateway_id: "vpngw-1".into(),
            route_id: 12,
            route_item_id: "rti-1".into(),
            route_description: String::new(),
            enabled: false,
            route_type: ROUTE_TYPE_USER.into(),
            route_table_id: "rtb-1".into(),
            destination_ipv6_cidr_block: String::new(),
            published_to_vbc: true,
            created_time: "2024-01-01 00:00:00".into(),
        };
        let table = RouteTable {
            vpc_id: "vpc-1".into(),
            route_table_id: "rtb-1".into(),
            route_table_name: "main".into(),
            association_set: vec![RouteTableAssociation {
                subnet_id: "subnet-1".into(),
                route_table_id: "rtb-1".into(),
            }],
            route_set: vec![route, Route::default()],
            main: true,
            created_time: "2024-01-01 00:00:00".into(),
            tag_set: vec![Tag { key: "k".into(), value: "v".into() }],
            local_cidr_for_ccn: vec![CidrForCcn { cidr: "10.0.0.0/16".into(), published_to_vbc: true }],
        };
        let back: RouteTable = serde_json::from_slice(&serde_json::to_vec(&table).unwrap()).unwrap();
        assert_eq!(back, table);
        let vpc = Vpc {
            vpc_id: "vpc-1".into(),
            vpc_name: "prod".into(),
            cidr_block: "10.0.0.0/16".into(),
            is_default: true,
            dns_server_set: vec!["183.60.83.19".into()],
            assistant_cidr_set: vec![AssistantCidr {
                vpc_id: "vpc-1".into(),
                cidr_block: "10.1.0.0/16".into(),
                assistant_type: 0,
            }],
            ..Vpc::default()
        };
        let back: Vpc = serde_json::from_slice(&serde_json::to_vec(&vpc).unwrap()).unwrap();
        assert_eq!(back, vpc);
    }
}
