//! The operator's view of the cloud: a small trait of route-table operations (implemented by the
//! HTTP client, and by an in-memory double in tests) and the one component every cloud read and
//! write goes through ([`RouteCloud`]). This module defines types; I/O happens in implementations.

mod batch;
mod component;
pub mod memory;
mod metered;

use std::future::Future;

pub use component::RouteCloud;
pub use metered::Metered;

use crate::client::{ApiError, RouteTable, VpcClient};
use vpc_wire::domain::{Credentials, Route};

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

/// The route-table operations the controller needs, as domain calls.
pub trait RouteApi: Send + Sync + 'static {
    /// Reads one route table (all pages), `Local` route dropped, destinations normalised.
    fn describe_table(
        &self,
        creds: &Credentials,
        table: &TableRef,
    ) -> impl Future<Output = Result<RouteTable, ApiError>> + Send;

    /// Adds routes to a table in one atomic batch.
    fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[Route],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Removes routes (each must match exactly) from a table.
    fn delete_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[Route],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

impl RouteApi for VpcClient {
    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<RouteTable, ApiError> {
        self.describe_route_table(creds, &table.region, Some(&table.vpc_id), &table.route_table_id).await
    }

    async fn create_routes(&self, creds: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        VpcClient::create_routes(self, creds, &table.region, &table.vpc_id, &table.route_table_id, routes).await
    }

    async fn delete_routes(&self, creds: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        VpcClient::delete_routes(self, creds, &table.region, &table.vpc_id, &table.route_table_id, routes).await
    }
}
