//! An in-memory [`RouteApi`] double for unit tests of reconcile decisions: route tables in a
//! map, per-action call counters and scripted failures. No I/O.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use vpc_wire::domain::{Credentials, Route};

use super::{CloudError, ErrorClass, Operation, RouteApi, RouteAttrs, RouteIds, TableRef, TableView, unsupported};
use crate::reasons::Reason;

/// Credentials for tests of code that takes them (the double ignores them).
pub fn sample_credentials() -> Credentials {
    Credentials { secret_id: "AKID1".into(), secret_key: vpc_wire::domain::Secret::new("k"), token: None }
}

/// A table reference for tests.
pub fn sample_table() -> TableRef {
    TableRef { region: "ap-guangzhou".into(), vpc_id: "vpc-1".into(), route_table_id: "rtb-1".into() }
}

/// A classified error as a backend would produce it.
pub fn error(op: Operation, class: ErrorClass, reason: Reason) -> CloudError {
    CloudError {
        action: MemoryApi::name(op),
        class,
        reason,
        code: (class != ErrorClass::Transport).then(|| reason.as_str().to_string()),
        message: format!("{reason} (memory double)"),
        request_id: None,
    }
}

/// In-memory route tables.
#[derive(Default)]
pub struct MemoryApi {
    tables: Mutex<BTreeMap<TableRef, Vec<Route>>>,
    calls: Mutex<BTreeMap<Operation, u64>>,
    failures: Mutex<VecDeque<(Operation, CloudError)>>,
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

    /// How many times an operation was called.
    pub fn calls(&self, op: Operation) -> u64 {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).get(&op).copied().unwrap_or(0)
    }

    /// Makes the next call of `op` fail with `error`.
    pub fn fail_next(&self, op: Operation, error: CloudError) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).push_back((op, error));
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

    fn name(op: Operation) -> &'static str {
        match op {
            Operation::Describe => "Describe",
            Operation::Create => "Create",
            Operation::Delete => "Delete",
            Operation::Replace => "Replace",
            Operation::SetDescription => "SetDescription",
            Operation::SetEnabled => "SetEnabled",
        }
    }

    fn enter(&self, op: Operation) -> Result<(), CloudError> {
        *self.calls.lock().unwrap_or_else(|p| p.into_inner()).entry(op).or_default() += 1;
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.iter().position(|(o, _)| *o == op) {
            Some(i) => Err(failures.remove(i).map(|(_, e)| e).unwrap_or_else(|| unreachable!())),
            None => Ok(()),
        }
    }
}

impl RouteApi for MemoryApi {
    fn action_name(&self, op: Operation) -> &'static str {
        MemoryApi::name(op)
    }

    fn supports_attributes(&self) -> bool {
        false
    }

    async fn route_quota(&self, _: &Credentials, _: &str) -> Option<usize> {
        None
    }

    async fn describe_table(&self, _: &Credentials, table: &TableRef) -> Result<TableView, CloudError> {
        self.enter(Operation::Describe)?;
        let routes = self.lock_tables().get(table).cloned();
        let routes =
            routes.ok_or_else(|| error(Operation::Describe, ErrorClass::NotFound, Reason::InvalidRouteTableId))?;
        Ok(TableView { routes, ..TableView::default() })
    }

    async fn create_routes(
        &self,
        _: &Credentials,
        table: &TableRef,
        planned: &[(Route, RouteAttrs)],
    ) -> Result<Vec<RouteIds>, CloudError> {
        let routes: Vec<Route> = planned.iter().map(|(r, _)| r.clone()).collect();
        self.delay().await;
        self.enter(Operation::Create)?;
        let mut tables = self.lock_tables();
        let Some(existing) = tables.get_mut(table) else {
            return Err(error(Operation::Create, ErrorClass::Permanent, Reason::InvalidRouteTableId));
        };
        if routes.iter().any(|r| existing.iter().any(|e| e.destination == r.destination)) {
            return Err(error(Operation::Create, ErrorClass::Permanent, Reason::RouteAlreadyExists));
        }
        existing.extend(routes.iter().cloned());
        drop(tables);
        let mut lose = self.lose_create_responses.lock().unwrap_or_else(|p| p.into_inner());
        if *lose > 0 {
            *lose -= 1;
            return Err(error(Operation::Create, ErrorClass::Transport, Reason::CloudUnavailable));
        }
        Ok(vec![RouteIds::default(); routes.len()])
    }

    async fn delete_route(
        &self,
        _: &Credentials,
        table: &TableRef,
        route: &Route,
        _: &RouteIds,
    ) -> Result<(), CloudError> {
        self.enter(Operation::Delete)?;
        let mut tables = self.lock_tables();
        let existing = tables.entry(table.clone()).or_default();
        if !existing.contains(route) {
            return Err(error(Operation::Delete, ErrorClass::NotFound, Reason::CloudRejected));
        }
        existing.retain(|e| e != route);
        Ok(())
    }

    async fn replace_route(
        &self,
        _: &Credentials,
        table: &TableRef,
        old: &Route,
        _: &RouteIds,
        (new, _): &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        self.enter(Operation::Replace)?;
        let mut tables = self.lock_tables();
        let existing = tables.entry(table.clone()).or_default();
        let Some(slot) = existing.iter_mut().find(|e| *e == old) else {
            return Err(error(Operation::Replace, ErrorClass::NotFound, Reason::CloudRejected));
        };
        *slot = new.clone();
        Ok(RouteIds::default())
    }

    async fn set_description(
        &self,
        _: &Credentials,
        _: &TableRef,
        _: &Route,
        _: &RouteIds,
        _: &str,
    ) -> Result<(), CloudError> {
        Err(unsupported("SetDescription", "a route description"))
    }

    async fn set_enabled(
        &self,
        _: &Credentials,
        _: &TableRef,
        _: &Route,
        _: &RouteIds,
        _: bool,
    ) -> Result<(), CloudError> {
        Err(unsupported("SetEnabled", "enabling or disabling a route"))
    }
}
