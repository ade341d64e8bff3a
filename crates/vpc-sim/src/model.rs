//! The emulated cloud: accounts, regions, VPCs, route tables, gateways, and lookups on them.
//! Also hands out route ids (`RouteId` counter, random `rti-` ids) and creation times. No I/O.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use vpc_wire::domain::{NextType, Route, Secret};

pub use vpc_wire::domain::canonical_region;

/// Everything the emulator knows about: every account and the routes in every table.
#[derive(Debug)]
pub struct Cloud {
    /// Routes a table may hold, the `Local` system route not counted.
    pub route_quota: usize,
    /// The accounts, in world-file order.
    pub accounts: Vec<Account>,
    /// Hands out route ids, unique across the cloud.
    pub ids: RouteIds,
}

/// Hands out `RouteId`s (a counter shared by every table) and `RouteItemId`s (`rti-` and 8
/// random lower-case letters and digits).
#[derive(Debug, Clone)]
pub struct RouteIds {
    next: u64,
}

impl Default for RouteIds {
    fn default() -> RouteIds {
        RouteIds { next: 1 }
    }
}

impl RouteIds {
    /// A fresh numeric id and item id.
    pub fn allocate(&mut self) -> (u64, String) {
        let id = self.next;
        self.next += 1;
        (id, item_id())
    }

    /// Makes sure ids handed out later are above `used`.
    fn reserve(&mut self, used: u64) {
        self.next = self.next.max(used.saturating_add(1));
    }
}

/// A fresh `rti-` id: 8 random lower-case letters and digits.
fn item_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..8).map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())])).collect();
    format!("rti-{suffix}")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of now.
pub fn now_text() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (y, m, d) = vpc_wire::v3::sign::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// A route with its identity and the 3.0 attributes 2.0 does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoute {
    /// Destination and next hop.
    pub route: Route,
    /// `RouteId` (0 until [`Cloud::fill_ids`] gives it one).
    pub id: u64,
    /// `RouteItemId` (`rti-…`; empty until [`Cloud::fill_ids`]).
    pub item_id: String,
    /// `RouteDescription`.
    pub description: String,
    /// `Enabled`.
    pub enabled: bool,
    /// `CreatedTime`, `YYYY-MM-DD HH:MM:SS` UTC.
    pub created: String,
}

impl StoredRoute {
    /// A new enabled route with fresh ids, created now.
    pub fn new(route: Route, ids: &mut RouteIds) -> StoredRoute {
        let (id, item_id) = ids.allocate();
        StoredRoute { route, id, item_id, description: String::new(), enabled: true, created: now_text() }
    }

    /// A route without ids yet (world file, old state files).
    pub fn unnumbered(route: Route) -> StoredRoute {
        StoredRoute {
            route,
            id: 0,
            item_id: String::new(),
            description: String::new(),
            enabled: true,
            created: now_text(),
        }
    }
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

/// One route table and its routes (the `Local` system route is implicit, with its own ids).
#[derive(Debug)]
pub struct Table {
    /// `rtb-…` id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Routes in the order they were created.
    pub routes: Vec<StoredRoute>,
    /// `RouteId` of the system route (0 until [`Cloud::fill_ids`]).
    pub local_id: u64,
    /// `RouteItemId` of the system route.
    pub local_item_id: String,
}

impl Table {
    /// An empty table without ids yet.
    pub fn new(id: String, name: String, routes: Vec<StoredRoute>) -> Table {
        Table { id, name, routes, local_id: 0, local_item_id: String::new() }
    }

    /// The route for this destination, if any.
    pub fn route_to(&self, destination: &Ipv4Net) -> Option<&StoredRoute> {
        self.routes.iter().find(|r| r.route.destination == *destination)
    }
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
    /// Gives every route and system route that has no id yet a fresh one, above every id in use.
    pub fn fill_ids(&mut self) {
        let tables = || self.accounts.iter().flat_map(|a| a.regions.values()).flat_map(|r| &r.vpcs);
        let used = tables().flat_map(|v| &v.tables).flat_map(|t| t.routes.iter().map(|r| r.id).chain([t.local_id]));
        let used = used.max().unwrap_or(0);
        self.ids.reserve(used);
        let Cloud { accounts, ids, .. } = self;
        let tables = accounts.iter_mut().flat_map(|a| a.regions.values_mut()).flat_map(|r| &mut r.vpcs);
        for table in tables.flat_map(|v| &mut v.tables) {
            if table.local_id == 0 {
                table.local_id = ids.allocate().0;
            }
            if table.local_item_id.is_empty() {
                table.local_item_id = item_id();
            }
            for route in &mut table.routes {
                if route.id == 0 {
                    route.id = ids.allocate().0;
                }
                if route.item_id.is_empty() {
                    route.item_id = item_id();
                }
            }
        }
    }

    /// One region of an account, with the id allocator beside it (for changes).
    pub fn region_and_ids(&mut self, secret_id: &str, region: &str) -> (Option<&mut Region>, &mut RouteIds) {
        let Cloud { accounts, ids, .. } = self;
        let account = accounts.iter_mut().find(|a| a.secret_id == secret_id);
        (account.and_then(|a| a.region_mut(region)), ids)
    }

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
