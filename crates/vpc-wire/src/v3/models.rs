//! API 3.0 wire models, defined once: the actions, the `Response` envelope, the resource models
//! (`Route`, `RouteTable`, `Vpc`) and every action's request and response. The client serialises
//! requests and parses responses with them; the emulator parses requests and builds responses.
//! Parsing is lenient (unknown fields ignored, `null` as default, numbers as strings). Pure; no I/O.

use std::fmt;

use crate::domain::NextType;

mod envelope;
pub mod identity;
mod lenient;
mod messages;
mod resources;

pub use envelope::{ApiError, ApiErrorBody, ErrorBody, ErrorResponse, Response, ResponseBody};
pub use envelope::{error_body, parse_response, success_body, success_value};
pub use messages::{CreateRoutesRequest, CreateRoutesResponse, DeleteRoutesRequest, DeleteRoutesResponse};
pub use messages::{DescribeRouteTablesRequest, DescribeRouteTablesResponse, DescribeVpcLimitsRequest};
pub use messages::{DescribeVpcLimitsResponse, DescribeVpcsRequest, DescribeVpcsResponse, DisableRoutesRequest};
pub use messages::{EmptyResponse, EnableRoutesRequest, Filter, ReplaceRoutesRequest, ReplaceRoutesResponse};
pub use messages::{RouteRef, VpcLimit};
pub use resources::{AssistantCidr, CidrForCcn, Route, RouteTable, RouteTableAssociation, Tag, Vpc};

/// The API 3.0 actions of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Add a batch of routes to one route table.
    CreateRoutes,
    /// Remove a batch of routes (by `RouteId` or `RouteItemId`).
    DeleteRoutes,
    /// Change routes in place, keeping their ids.
    ReplaceRoutes,
    /// Enable routes.
    EnableRoutes,
    /// Disable routes.
    DisableRoutes,
    /// List route tables and their routes.
    DescribeRouteTables,
    /// List VPCs.
    DescribeVpcs,
    /// Read quotas.
    DescribeVpcLimits,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 8] = [
        Action::CreateRoutes,
        Action::DeleteRoutes,
        Action::ReplaceRoutes,
        Action::EnableRoutes,
        Action::DisableRoutes,
        Action::DescribeRouteTables,
        Action::DescribeVpcs,
        Action::DescribeVpcLimits,
    ];

    /// The value of `X-TC-Action` (or the v1 `Action` parameter).
    pub fn name(self) -> &'static str {
        match self {
            Action::CreateRoutes => "CreateRoutes",
            Action::DeleteRoutes => "DeleteRoutes",
            Action::ReplaceRoutes => "ReplaceRoutes",
            Action::EnableRoutes => "EnableRoutes",
            Action::DisableRoutes => "DisableRoutes",
            Action::DescribeRouteTables => "DescribeRouteTables",
            Action::DescribeVpcs => "DescribeVpcs",
            Action::DescribeVpcLimits => "DescribeVpcLimits",
        }
    }

    /// The action a name denotes, if the contract has it (exact, case-sensitive).
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The published per-second rate limit (§2.5; 20 where Tencent publishes none).
    pub fn published_rate_limit(self) -> u32 {
        match self {
            Action::CreateRoutes | Action::DescribeRouteTables | Action::DescribeVpcs => 100,
            Action::DeleteRoutes => 50,
            Action::ReplaceRoutes | Action::EnableRoutes | Action::DisableRoutes | Action::DescribeVpcLimits => 20,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `GatewayType` of the system route to the VPC CIDR.
pub const GATEWAY_TYPE_LOCAL: &str = "LOCAL";
/// `GatewayId` of the system route.
pub const GATEWAY_ID_LOCAL: &str = "Local";
/// `RouteType` of an editable (user) route.
pub const ROUTE_TYPE_USER: &str = "USER";
/// `RouteType` of the system route (`[project rule]`).
pub const ROUTE_TYPE_NETD: &str = "NETD";

/// The 3.0 `GatewayType` of a legacy next type.
pub fn gateway_type(next_type: NextType) -> &'static str {
    match next_type {
        NextType::PublicGateway => "CVM",
        NextType::VpnGateway => "VPN",
        NextType::DirectConnectGateway => "DIRECTCONNECT",
        NextType::PeeringConnection => "PEERCONNECTION",
        NextType::SslVpnGateway => "SSLVPN",
        NextType::NatGateway => "NAT",
        NextType::NormalCvm => "NORMAL_CVM",
    }
}

/// The legacy next type of a 3.0 `GatewayType` (exact); `None` for `LOCAL` and the out-of-scope ones.
pub fn next_type_of(gateway_type_name: &str) -> Option<NextType> {
    NextType::ALL.into_iter().find(|t| gateway_type(*t) == gateway_type_name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn action_names_round_trip_and_rate_limits_are_the_published_ones() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(a));
            assert_eq!(a.to_string(), a.name());
        }
        assert_eq!(Action::parse("CreateRoute"), None);
        assert_eq!(Action::parse("createroutes"), None);
        let limits = Action::ALL.map(Action::published_rate_limit);
        assert_eq!(limits, [100, 50, 20, 20, 20, 100, 100, 20]);
    }

    #[test]
    fn gateway_types_map_both_ways_and_local_is_not_a_next_type() {
        let names = NextType::ALL.map(gateway_type);
        assert_eq!(names, ["CVM", "VPN", "DIRECTCONNECT", "PEERCONNECTION", "SSLVPN", "NAT", "NORMAL_CVM"]);
        for t in NextType::ALL {
            assert_eq!(next_type_of(gateway_type(t)), Some(t));
        }
        assert_eq!(next_type_of(GATEWAY_TYPE_LOCAL), None);
        assert_eq!(next_type_of("nat"), None);
        assert_eq!(next_type_of("CCN"), None);
    }
}
