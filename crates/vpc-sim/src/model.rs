//! The emulated cloud: accounts, regions, VPCs, route tables, gateways, and lookups on them.
//! Pure data; no I/O.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_wire::domain::{NextType, Route, Secret};

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
pub fn canonical_region(name: &str) -> &str {
    REGION_ALIASES.iter().find(|(short, _)| *short == name).map_or(name, |(_, long)| long)
}

/// Everything the emulator knows about: every account and the routes in every table.
#[derive(Debug)]
pub struct Cloud {
    /// Routes a table may hold, the `Local` system route not counted.
    pub route_quota: usize,
    /// The accounts, in world-file order.
    pub accounts: Vec<Account>,
}

/// One API key pair (with an optional STS token) and the regions it owns.
#[derive(Debug)]
pub struct Account {
    /// The SecretId requests name.
    pub secret_id: String,
    /// The key requests are signed with.
    pub secret_key: Secret,
    /// When set, every request must carry this `Token`.
    pub token: Option<Secret>,
    /// Regions by long name (`ap-guangzhou`).
    pub regions: BTreeMap<String, Region>,
}

/// The VPCs of one account in one region.
#[derive(Debug, Default)]
pub struct Region {
    /// VPCs in world-file order.
    pub vpcs: Vec<Vpc>,
}

/// One VPC with its route tables and the gateways routes may point at.
#[derive(Debug)]
pub struct Vpc {
    /// `vpc-…` id.
    pub vpc_id: String,
    /// Display name.
    pub name: String,
    /// The VPC's own address range; routes may not point into it.
    pub cidr: Ipv4Net,
    /// `createTime` as DescribeVpcEx shows it.
    pub create_time: String,
    /// Whether this is the region's default VPC.
    pub is_default: bool,
    /// Route tables, the first being the VPC's default table.
    pub tables: Vec<Table>,
    /// Next hops that exist in this VPC.
    pub gateways: Vec<Gateway>,
}

/// One route table and its routes (the `Local` system route is implicit).
#[derive(Debug)]
pub struct Table {
    /// `rtb-…` id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Routes in the order they were created.
    pub routes: Vec<Route>,
}

/// A next hop a route may point at.
#[derive(Debug, Clone)]
pub struct Gateway {
    /// Its id (`vpngw-…`, `nat-…`, `ins-…`, …).
    pub id: String,
    /// The next type a route must name to use it.
    pub next_type: NextType,
}

impl Cloud {
    /// The account a SecretId names.
    pub fn account(&self, secret_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.secret_id == secret_id)
    }

    /// The account a SecretId names, for changes.
    pub fn account_mut(&mut self, secret_id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.secret_id == secret_id)
    }
}

impl Account {
    /// The region by long or short name.
    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.get(canonical_region(name))
    }

    /// The region by long or short name, for changes.
    pub fn region_mut(&mut self, name: &str) -> Option<&mut Region> {
        self.regions.get_mut(canonical_region(name))
    }
}

impl Region {
    /// The VPC with this id.
    #[cfg(test)]
    pub fn vpc(&self, vpc_id: &str) -> Option<&Vpc> {
        self.vpcs.iter().find(|v| v.vpc_id == vpc_id)
    }

    /// The VPC with this id, for changes.
    pub fn vpc_mut(&mut self, vpc_id: &str) -> Option<&mut Vpc> {
        self.vpcs.iter_mut().find(|v| v.vpc_id == vpc_id)
    }

    /// The table with this id, in whichever VPC holds it.
    pub fn table_mut(&mut self, table_id: &str) -> Option<&mut Table> {
        self.vpcs.iter_mut().flat_map(|v| v.tables.iter_mut()).find(|t| t.id == table_id)
    }
}

impl Vpc {
    /// The table with this id, if it belongs to this VPC.
    pub fn table(&self, table_id: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == table_id)
    }

    /// The table with this id, if it belongs to this VPC, for changes.
    pub fn table_mut(&mut self, table_id: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.id == table_id)
    }

    /// Whether `destination` shares addresses with the VPC's own range.
    pub fn overlaps(&self, destination: &Ipv4Net) -> bool {
        self.cidr.contains(&destination.network()) || destination.contains(&self.cidr.network())
    }

    /// Whether a route of `next_type` may point at `hub` in this VPC: a listed gateway of that
    /// type, or for `NormalCvm` any private IPv4 address inside the VPC's range.
    pub fn hub_exists(&self, next_type: NextType, hub: &str) -> bool {
        match next_type {
            NextType::NormalCvm => hub.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_private() && self.cidr.contains(&ip)),
            _ => self.gateways.iter().any(|g| g.next_type == next_type && g.id == hub),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vpc() -> Vpc {
        Vpc {
            vpc_id: "vpc-1".into(),
            name: "v".into(),
            cidr: "10.0.0.0/16".parse().unwrap(),
            create_time: String::new(),
            is_default: false,
            tables: Vec::new(),
            gateways: vec![Gateway { id: "vpngw-1".into(), next_type: NextType::VpnGateway }],
        }
    }

    #[test]
    fn short_region_names_mean_the_long_ones() {
        assert_eq!(canonical_region("gz"), "ap-guangzhou");
        assert_eq!(canonical_region("ap-shanghai"), "ap-shanghai");
    }

    #[test]
    fn destinations_inside_or_around_the_vpc_overlap_it() {
        let v = vpc();
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        assert!(v.overlaps(&net("10.0.3.0/24")));
        assert!(v.overlaps(&net("10.0.0.0/8")));
        assert!(!v.overlaps(&net("10.1.0.0/16")));
    }

    #[test]
    fn a_hub_must_be_a_gateway_of_that_type_or_an_address_inside_the_vpc() {
        let v = vpc();
        assert!(v.hub_exists(NextType::VpnGateway, "vpngw-1"));
        assert!(!v.hub_exists(NextType::SslVpnGateway, "vpngw-1"));
        assert!(v.hub_exists(NextType::NormalCvm, "10.0.1.7"));
        assert!(!v.hub_exists(NextType::NormalCvm, "10.9.1.7"));
    }
}
