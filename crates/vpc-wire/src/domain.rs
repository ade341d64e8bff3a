//! Domain types shared by the operator and the emulator: next-hop types, routes, credentials.
//! Pure data and validation; no I/O.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;

/// The kind of next hop a route points at, with its API 2.0 wire code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextType {
    /// 0: a public gateway (a CVM acting as one), hub `ins-…`.
    PublicGateway,
    /// 1: a VPN gateway, hub `vpngw-…`.
    VpnGateway,
    /// 3: a Direct Connect gateway, hub `dcg-…`.
    DirectConnectGateway,
    /// 4: a peering connection, hub `pcx-…`.
    PeeringConnection,
    /// 7: an SSL VPN gateway, hub `vpngw-…`.
    SslVpnGateway,
    /// 8: a NAT gateway, hub `nat-…`.
    NatGateway,
    /// 9: a normal CVM, hub is its private IPv4 address.
    NormalCvm,
}

impl NextType {
    /// Every next type the API accepts, in wire-code order.
    pub const ALL: [NextType; 7] = [
        NextType::PublicGateway,
        NextType::VpnGateway,
        NextType::DirectConnectGateway,
        NextType::PeeringConnection,
        NextType::SslVpnGateway,
        NextType::NatGateway,
        NextType::NormalCvm,
    ];

    /// The API 2.0 wire code (`routeSet.n.nextType`).
    pub fn code(self) -> u32 {
        match self {
            NextType::PublicGateway => 0,
            NextType::VpnGateway => 1,
            NextType::DirectConnectGateway => 3,
            NextType::PeeringConnection => 4,
            NextType::SslVpnGateway => 7,
            NextType::NatGateway => 8,
            NextType::NormalCvm => 9,
        }
    }

    /// The next type for a wire code, if the API defines one (2, the `Local` route, is not one).
    pub fn from_code(code: u32) -> Option<NextType> {
        NextType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The id prefix a next hub of this type carries; `None` for `NormalCvm` (an IPv4 address).
    pub fn hub_prefix(self) -> Option<&'static str> {
        match self {
            NextType::PublicGateway => Some("ins-"),
            NextType::VpnGateway | NextType::SslVpnGateway => Some("vpngw-"),
            NextType::DirectConnectGateway => Some("dcg-"),
            NextType::PeeringConnection => Some("pcx-"),
            NextType::NatGateway => Some("nat-"),
            NextType::NormalCvm => None,
        }
    }

    /// The name used in the `VpcRoute` resource (`spec.nextType`).
    pub fn name(self) -> &'static str {
        match self {
            NextType::PublicGateway => "PublicGateway",
            NextType::VpnGateway => "VpnGateway",
            NextType::DirectConnectGateway => "DirectConnectGateway",
            NextType::PeeringConnection => "PeeringConnection",
            NextType::SslVpnGateway => "SslVpnGateway",
            NextType::NatGateway => "NatGateway",
            NextType::NormalCvm => "NormalCvm",
        }
    }

    /// Whether `hub` has the shape a next hub of this type must have.
    pub fn hub_shape_ok(self, hub: &str) -> bool {
        match self.hub_prefix() {
            Some(prefix) => hub.len() > prefix.len() && hub.starts_with(prefix),
            None => Ipv4Addr::from_str(hub).is_ok(),
        }
    }
}

impl fmt::Display for NextType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.code())
    }
}

/// Short region names older API pages use, and the long names they stand for.
const REGION_ALIASES: [(&str, &str); 7] = [
    ("gz", "ap-guangzhou"),
    ("sh", "ap-shanghai"),
    ("bj", "ap-beijing"),
    ("cd", "ap-chengdu"),
    ("cq", "ap-chongqing"),
    ("hk", "ap-hongkong"),
    ("sg", "ap-singapore"),
];

/// The long form of a region name: `gz` becomes `ap-guangzhou`; long names pass unchanged.
/// Two spellings of one region are one region (claims between resources are keyed on this).
pub fn canonical_region(name: &str) -> &str {
    let name = name.trim();
    REGION_ALIASES.iter().find(|(short, _)| *short == name).map_or(name, |(_, long)| long)
}

/// Parses an IPv4 CIDR and returns its network form (host bits cleared):
/// `121.0.23.51/16` becomes `121.0.0.0/16`.
pub fn normalize_cidr(cidr: &str) -> Option<Ipv4Net> {
    Ipv4Net::from_str(cidr.trim()).ok().map(|n| n.trunc())
}

/// One route in a route table, in normalised form. Identity within a table is `destination`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// Destination network, host bits cleared.
    pub destination: Ipv4Net,
    /// Kind of next hop.
    pub next_type: NextType,
    /// Next hop id (or IPv4 address for `NormalCvm`).
    pub next_hub: String,
}

impl Route {
    /// Builds a route, normalising the destination. `None` if the CIDR does not parse.
    pub fn new(destination: &str, next_type: NextType, next_hub: impl Into<String>) -> Option<Route> {
        Some(Route { destination: normalize_cidr(destination)?, next_type, next_hub: next_hub.into() })
    }

    /// Whether `other` points the same destination at the same next hop.
    pub fn same_hop(&self, other: &Route) -> bool {
        self.next_type == other.next_type && self.next_hub == other.next_hub
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}", self.destination, self.next_type, self.next_hub)
    }
}

/// What a route carries besides its destination and hop, where the API has it (3.0:
/// `RouteDescription`, `Enabled`; 2.0 has neither).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteAttrs {
    /// The route's description (`""` for none).
    pub description: String,
    /// Whether the route is enabled (carries traffic).
    pub enabled: bool,
}

impl Default for RouteAttrs {
    fn default() -> RouteAttrs {
        RouteAttrs { description: String::new(), enabled: true }
    }
}

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value; call only where it is used (signing), never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// API credentials: a key pair and, for temporary credentials, a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The SecretId (not secret; it names the key and appears in requests).
    pub secret_id: String,
    /// The SecretKey, used only to sign.
    pub secret_key: Secret,
    /// The STS token for temporary credentials.
    pub token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_cleared_when_normalising() {
        assert_eq!(normalize_cidr("121.0.23.51/16").map(|n| n.to_string()), Some("121.0.0.0/16".into()));
        assert_eq!(normalize_cidr("10.0.0.0/33"), None);
        assert_eq!(normalize_cidr("Local"), None);
    }

    #[test]
    fn wire_codes_round_trip_and_local_is_not_a_next_type() {
        for t in NextType::ALL {
            assert_eq!(NextType::from_code(t.code()), Some(t));
        }
        assert_eq!(NextType::from_code(2), None);
    }

    #[test]
    fn hub_shape_follows_the_type() {
        assert!(NextType::VpnGateway.hub_shape_ok("vpngw-dystbrkv"));
        assert!(!NextType::VpnGateway.hub_shape_ok("nat-0a1b2c3d"));
        assert!(!NextType::NatGateway.hub_shape_ok("nat-"));
        assert!(NextType::NormalCvm.hub_shape_ok("10.0.1.7"));
        assert!(!NextType::NormalCvm.hub_shape_ok("ins-1"));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let c = Credentials {
            secret_id: "AKID1".into(),
            secret_key: Secret::new("topsecret"),
            token: Some(Secret::new("tok")),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("topsecret") && !s.contains("tok\""), "{s}");
    }
}
