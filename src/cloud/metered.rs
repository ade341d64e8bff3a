//! A [`RouteApi`] decorator that counts every cloud call by the backend's action name and result
//! code and times it. Does the wrapped API's I/O.

use std::sync::Arc;
use std::time::Instant;

use vpc_wire::domain::{Credentials, Route};

use super::{CloudError, Operation, RouteApi, RouteAttrs, RouteIds, TableRef, TableView};
use crate::metrics::Metrics;

/// Wraps an API with metrics.
pub struct Metered<A> {
    inner: A,
    metrics: Arc<Metrics>,
}

impl<A> Metered<A> {
    /// Wraps `inner`.
    pub fn new(inner: A, metrics: Arc<Metrics>) -> Metered<A> {
        Metered { inner, metrics }
    }

    /// The wrapped API.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    fn record<T>(&self, action: &str, start: Instant, result: &Result<T, CloudError>) {
        let code = match result {
            Ok(_) => "0",
            Err(CloudError { code: Some(code), .. }) => code.as_str(),
            Err(_) => "transport",
        };
        self.metrics.cloud_call(action, code, start.elapsed().as_secs_f64());
    }
}

impl<A: RouteApi> RouteApi for Metered<A> {
    fn action_name(&self, op: Operation) -> &'static str {
        self.inner.action_name(op)
    }

    fn supports_attributes(&self) -> bool {
        self.inner.supports_attributes()
    }

    async fn route_quota(&self, creds: &Credentials, region: &str) -> Option<usize> {
        self.inner.route_quota(creds, region).await
    }

    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<TableView, CloudError> {
        let start = Instant::now();
        let result = self.inner.describe_table(creds, table).await;
        self.record(self.action_name(Operation::Describe), start, &result);
        result
    }

    async fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[(Route, RouteAttrs)],
    ) -> Result<Vec<RouteIds>, CloudError> {
        let start = Instant::now();
        let result = self.inner.create_routes(creds, table, routes).await;
        self.record(self.action_name(Operation::Create), start, &result);
        result
    }

    async fn delete_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
    ) -> Result<(), CloudError> {
        let start = Instant::now();
        let result = self.inner.delete_route(creds, table, route, ids).await;
        self.record(self.action_name(Operation::Delete), start, &result);
        result
    }

    async fn replace_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        new: &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        let start = Instant::now();
        let result = self.inner.replace_route(creds, table, old, ids, new).await;
        self.record(result.as_ref().err().map_or(self.action_name(Operation::Replace), |e| e.action), start, &result);
        result
    }

    async fn set_description(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        description: &str,
    ) -> Result<(), CloudError> {
        let start = Instant::now();
        let result = self.inner.set_description(creds, table, route, ids, description).await;
        self.record(self.action_name(Operation::SetDescription), start, &result);
        result
    }

    async fn set_enabled(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        enabled: bool,
    ) -> Result<(), CloudError> {
        let start = Instant::now();
        let result = self.inner.set_enabled(creds, table, route, ids, enabled).await;
        let action = match (&result, enabled) {
            (Err(e), _) => e.action,
            (Ok(()), true) => "EnableRoutes",
            (Ok(()), false) => "DisableRoutes",
        };
        self.record(action, start, &result);
        result
    }
}
