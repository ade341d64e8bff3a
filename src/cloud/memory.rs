//! An in-memory [`RouteApi`] double for unit tests of reconcile decisions: route tables in a
//! map, per-action call counters and scripted failures. No I/O.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use super::{RouteApi, TableRef};
use crate::client::{Action, ApiError, RouteTable};
use vpc_wire::domain::{Credentials, Route};
use vpc_wire::v2::codes;

/// Credentials for tests of code that takes them (the double ignores them).
pub fn sample_credentials() -> Credentials {
    Credentials { secret_id: "AKID1".into(), secret_key: vpc_wire::domain::Secret::new("k"), token: None }
}

/// A table reference for tests.
pub fn sample_table() -> TableRef {
    TableRef { region: "ap-guangzhou".into(), vpc_id: "vpc-1".into(), route_table_id: "rtb-1".into() }
}

/// In-memory route tables.
#[derive(Default)]
pub struct MemoryApi {
    tables: Mutex<BTreeMap<TableRef, Vec<Route>>>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    failures: Mutex<VecDeque<(Action, ApiError)>>,
    /// When set, creates are applied and then answered with this transport error (response lost).
    lose_create_responses: Mutex<u32>,
    latency: Mutex<std::time::Duration>,
}

impl MemoryApi {
    /// A double holding one empty table.
    pub fn with_table(table: &TableRef) -> MemoryApi {
        let api = MemoryApi::default();
        api.lock_tables().insert(table.clone(), Vec::new());
        api
    }

    fn lock_tables(&self) -> std::sync::MutexGuard<'_, BTreeMap<TableRef, Vec<Route>>> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The routes in a table.
    pub fn routes(&self, table: &TableRef) -> Vec<Route> {
        self.lock_tables().get(table).cloned().unwrap_or_default()
    }

    /// Puts a route in a table as if by hand.
    pub fn put(&self, table: &TableRef, route: Route) {
        let mut tables = self.lock_tables();
        let routes = tables.entry(table.clone()).or_default();
        routes.retain(|r| r.destination != route.destination);
        routes.push(route);
    }

    /// How many times an action was called.
    pub fn calls(&self, action: Action) -> u64 {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).get(action.name()).copied().unwrap_or(0)
    }

    /// Makes the next call of `action` fail with `error`.
    pub fn fail_next(&self, action: Action, error: ApiError) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).push_back((action, error));
    }

    /// Makes the next `n` creates apply and then lose their response.
    pub fn lose_create_responses(&self, n: u32) {
        *self.lose_create_responses.lock().unwrap_or_else(|p| p.into_inner()) = n;
    }

    /// Makes every call take `latency` (so concurrent callers overlap).
    pub fn set_latency(&self, latency: std::time::Duration) {
        *self.latency.lock().unwrap_or_else(|p| p.into_inner()) = latency;
    }

    async fn delay(&self) {
        let latency = *self.latency.lock().unwrap_or_else(|p| p.into_inner());
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    fn enter(&self, action: Action) -> Result<(), ApiError> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(action.name()).or_default() += 1;
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.iter().position(|(a, _)| *a == action) {
            Some(i) => Err(failures.remove(i).map(|(_, e)| e).unwrap_or_else(|| unreachable!())),
            None => Ok(()),
        }
    }

    fn business(action: Action, desc: &str, message: String) -> ApiError {
        ApiError::api(action, codes::INVALID_PARAMETER, desc, &message, None)
    }
}

impl RouteApi for MemoryApi {
    async fn describe_table(&self, _: &Credentials, table: &TableRef) -> Result<RouteTable, ApiError> {
        self.enter(Action::DescribeRouteTable)?;
        let routes = self.lock_tables().get(table).cloned().ok_or_else(|| {
            ApiError::api(Action::DescribeRouteTable, codes::RESOURCE_NOT_FOUND, "", "no such table", None)
        })?;
        Ok(RouteTable {
            route_table_id: table.route_table_id.clone(),
            name: String::new(),
            vpc_id: table.vpc_id.clone(),
            vpc_cidr: "10.0.0.0/16".into(),
            routes,
            other_routes: Vec::new(),
        })
    }

    async fn create_routes(&self, _: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        self.delay().await;
        self.enter(Action::CreateRoute)?;
        let mut tables = self.lock_tables();
        let Some(existing) = tables.get_mut(table) else {
            return Err(Self::business(Action::CreateRoute, codes::desc::INVALID_ROUTE_TABLE, table.to_string()));
        };
        if let Some(dup) = routes.iter().find(|r| existing.iter().any(|e| e.destination == r.destination)) {
            return Err(Self::business(Action::CreateRoute, codes::desc::ROUTE_ALREADY_EXISTS, dup.to_string()));
        }
        existing.extend(routes.iter().cloned());
        drop(tables);
        let mut lose = self.lose_create_responses.lock().unwrap_or_else(|p| p.into_inner());
        if *lose > 0 {
            *lose -= 1;
            return Err(ApiError::transport(Action::CreateRoute, crate::client::ApiErrorKind::Timeout));
        }
        Ok(())
    }

    async fn delete_routes(&self, _: &Credentials, table: &TableRef, routes: &[Route]) -> Result<(), ApiError> {
        self.enter(Action::DeleteRoute)?;
        let mut tables = self.lock_tables();
        let existing = tables.entry(table.clone()).or_default();
        if routes.iter().any(|r| !existing.contains(r)) {
            return Err(ApiError::api(
                Action::DeleteRoute,
                codes::RESOURCE_NOT_FOUND,
                codes::desc::INVALID_ROUTE,
                "no such route",
                None,
            ));
        }
        existing.retain(|e| !routes.contains(e));
        Ok(())
    }
}
