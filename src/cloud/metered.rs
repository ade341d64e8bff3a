//! A [`RouteApi`] decorator that counts every cloud call by action and result code and times it.
//! Does the wrapped API's I/O.

use std::sync::Arc;
use std::time::Instant;

use super::{RouteApi, TableRef};
use crate::client::{ApiError, ApiErrorKind, RouteTable};
use crate::metrics::Metrics;
use vpc_wire::domain::{Credentials, Route};

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

    fn record<T>(&self, action: &str, start: Instant, result: &Result<T, ApiError>) {
        let code = match result {
            Ok(_) => "0".to_string(),
            Err(ApiError { kind: ApiErrorKind::Api { code, .. }, .. }) => code.to_string(),
            Err(_) => "transport".to_string(),
        };
        self.metrics.cloud_call(action, &code, start.elapsed().as_secs_f64());
    }
}

impl<A: RouteApi> RouteApi for Metered<A> {
    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<RouteTable, ApiError> {
        let start = Instant::now();
        let result = self.inner.describe_table(creds, table).await;
        self.record("DescribeRouteTable", start, &result);
        result
    }

    async fn create_routes(&self, creds: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        let start = Instant::now();
        let result = self.inner.create_routes(creds, table, routes).await;
        self.record("CreateRoute", start, &result);
        result
    }

    async fn delete_routes(&self, creds: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        let start = Instant::now();
        let result = self.inner.delete_routes(creds, table, routes).await;
        self.record("DeleteRoute", start, &result);
        result
    }
}
