//! The operator's view of the cloud: a small, version-neutral trait of route-table operations
//! (implemented by each API generation's backend, and by an in-memory double in tests), the one
//! cloud error type, and the one component every cloud read and write goes through
//! ([`RouteCloud`]). This module defines types; I/O happens in implementations.

mod batch;
mod component;
mod error;
pub mod memory;
mod metered;
mod ratelimit;
mod v2;
mod v3;

use std::collections::BTreeMap;
use std::future::Future;

use ipnet::Ipv4Net;
pub use vpc_wire::domain::RouteAttrs;
use vpc_wire::domain::{Credentials, Route};

pub use batch::{Batching, Intent, Record};
pub use component::RouteCloud;
pub use error::{CloudError, ErrorClass};
pub use metered::Metered;
pub use ratelimit::{RateKey, RateLimit, RateLimited, RateLimiter, RateLimits, published_rate};

/// Where a route table lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableRef {
    /// Tencent region, e.g. `ap-guangzhou`.
    pub region: String,
    /// The VPC holding the table.
    pub vpc_id: String,
    /// The route table id.
    pub route_table_id: String,
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.region, self.vpc_id, self.route_table_id)
    }
}

/// The cloud's own identity of a route, where the API has one (3.0); empty on 2.0, where a
/// route is known by its table and destination.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RouteIds {
    /// `RouteItemId` (`rti-…`), the stable identity.
    pub route_item_id: Option<String>,
    /// `RouteId`.
    pub route_id: Option<u64>,
}

impl RouteIds {
    /// Whether the cloud gave no id.
    pub fn is_empty(&self) -> bool {
        self.route_item_id.is_none() && self.route_id.is_none()
    }
}

/// A route table as the controller sees it: user routes with a known next type, destinations in
/// network form, system routes dropped, and each route's cloud ids where the API has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableView {
    /// The routes.
    pub routes: Vec<Route>,
    /// Cloud ids by destination (destinations are unique in a table).
    pub ids: BTreeMap<Ipv4Net, RouteIds>,
    /// Description and `Enabled` by destination, where the API has them (3.0).
    pub attrs: BTreeMap<Ipv4Net, RouteAttrs>,
}

impl TableView {
    /// The route for a destination, if the table has one.
    pub fn at(&self, destination: &Ipv4Net) -> Option<&Route> {
        self.routes.iter().find(|r| r.destination == *destination)
    }

    /// The cloud ids of the route for a destination.
    pub fn ids_of(&self, destination: &Ipv4Net) -> RouteIds {
        self.ids.get(destination).cloned().unwrap_or_default()
    }

    /// The description and `Enabled` of the route for a destination, where the API has them.
    pub fn attrs_of(&self, destination: &Ipv4Net) -> Option<&RouteAttrs> {
        self.attrs.get(destination)
    }
}

/// The operations of [`RouteApi`], for call counting and metric labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// Read one table.
    Describe,
    /// Add routes.
    Create,
    /// Remove one route.
    Delete,
    /// Change one route's next hop.
    Replace,
    /// Change one route's description.
    SetDescription,
    /// Enable or disable one route.
    SetEnabled,
}

/// The route-table operations the controller needs, as domain calls.
pub trait RouteApi: Send + Sync + 'static {
    /// The backend's action name for an operation (metric labels use it).
    fn action_name(&self, op: Operation) -> &'static str;

    /// Whether routes have a description and an `Enabled` flag (3.0 yes, 2.0 no).
    fn supports_attributes(&self) -> bool;

    /// Routes a table may hold in this account and region, where the API says (3.0
    /// `DescribeVpcLimits` `route-table-max-policies`); `None` when unknown.
    fn route_quota(&self, creds: &Credentials, region: &str) -> impl Future<Output = Option<usize>> + Send;

    /// Reads one route table (all pages).
    fn describe_table(
        &self,
        creds: &Credentials,
        table: &TableRef,
    ) -> impl Future<Output = Result<TableView, CloudError>> + Send;

    /// Adds routes to a table in one atomic batch; returns each route's cloud ids, in order.
    /// Backends without attributes ignore them.
    fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[(Route, RouteAttrs)],
    ) -> impl Future<Output = Result<Vec<RouteIds>, CloudError>> + Send;

    /// Removes one route: by id where the API has ids, else by exact match.
    fn delete_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Points the route `old` (with `ids`) at `new`'s next hop; returns the ids it then has.
    /// 3.0 does it in place; 2.0 has no modify and deletes, then creates.
    fn replace_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        new: &(Route, RouteAttrs),
    ) -> impl Future<Output = Result<RouteIds, CloudError>> + Send;

    /// Sets a route's description (only called where [`RouteApi::supports_attributes`]).
    fn set_description(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        description: &str,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;

    /// Enables or disables a route (only called where [`RouteApi::supports_attributes`]).
    fn set_enabled(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        enabled: bool,
    ) -> impl Future<Output = Result<(), CloudError>> + Send;
}

/// What a backend without route attributes answers if asked to change one.
pub fn unsupported(action: &'static str, what: &str) -> CloudError {
    CloudError {
        action,
        class: ErrorClass::Permanent,
        reason: crate::reasons::Reason::CloudRejected,
        code: None,
        message: format!("{what} is not supported by this API generation"),
        request_id: None,
    }
}
