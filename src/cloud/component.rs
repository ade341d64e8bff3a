//! [`RouteCloud`]: the one component every cloud read and write goes through, per account,
//! region and route table. It shares one table read among all callers of a table
//! (single-flight, with a freshness bound) and keeps that view in step with its own writes, so
//! drift checks cost one call per table per resync. Writes go through here so that batching can
//! be added without touching reconcile. Does I/O through the [`RouteApi`] it wraps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use vpc_wire::domain::{Credentials, Route};

use super::batch::{Batcher, Batching, Intent, Room};
use super::{CloudError, RouteApi, RouteAttrs, RouteIds, TableRef, TableView};

type Key = (String, TableRef);

#[derive(Default)]
struct Slot {
    /// The last view and when the call that produced it started.
    view: Option<(Instant, Arc<TableView>)>,
}

/// Cloud access for the controller: cached table reads and route writes.
pub struct RouteCloud<A> {
    api: A,
    batcher: Batcher,
    slots: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Slot>>>>,
    /// Route quota per (account, region), asked once (`None`: the API gives none).
    quotas: tokio::sync::Mutex<HashMap<(String, String), Option<usize>>>,
    /// Routes per table: as last read, plus those this component created since.
    counts: Arc<Mutex<HashMap<Key, (usize, usize)>>>,
}

/// The room left in one table under its quota, following the component's own creates.
struct TableRoom {
    quota: Option<usize>,
    key: Key,
    counts: Arc<Mutex<HashMap<Key, (usize, usize)>>>,
}

impl Room for TableRoom {
    fn left(&self) -> Option<usize> {
        let quota = self.quota?;
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let (read, created) = counts.get(&self.key)?;
        Some(quota.saturating_sub(read + created))
    }

    fn created(&self, n: usize) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, created)) = counts.get_mut(&self.key) {
            *created += n;
        }
    }
}

impl<A: RouteApi> RouteCloud<A> {
    /// Wraps a [`RouteApi`]; creates for one table go out in batches formed as `batching` says.
    pub fn new(api: A, batching: Batching) -> RouteCloud<A> {
        RouteCloud {
            api,
            batcher: Batcher::new(batching),
            slots: Mutex::new(HashMap::new()),
            quotas: tokio::sync::Mutex::new(HashMap::new()),
            counts: Arc::default(),
        }
    }

    /// The wrapped API.
    pub fn api(&self) -> &A {
        &self.api
    }

    fn slot(&self, creds: &Credentials, table: &TableRef) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry((creds.secret_id.clone(), table.clone())).or_default().clone()
    }

    /// A view of the table read no earlier than `max_age` ago. `Duration::ZERO` asks for a read
    /// that starts after this call; callers waiting on the same table share one call.
    pub async fn table(
        &self,
        creds: &Credentials,
        table: &TableRef,
        max_age: Duration,
    ) -> Result<Arc<TableView>, CloudError> {
        let asked = Instant::now();
        let slot = self.slot(creds, table);
        let mut slot = slot.lock().await;
        let reusable = slot.view.as_ref().filter(|(started, _)| *started >= asked || started.elapsed() < max_age);
        if let Some((_, view)) = reusable {
            return Ok(view.clone());
        }
        let started = Instant::now();
        let fresh = Arc::new(Box::pin(self.api.describe_table(creds, table)).await?);
        slot.view = Some((started, fresh.clone()));
        let key = (creds.secret_id.clone(), table.clone());
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (fresh.routes.len(), 0));
        Ok(fresh)
    }

    /// Announces a create for the table, made shortly (after its pending record is written):
    /// the table's next batch waits for it. Pass it to [`RouteCloud::create`].
    pub fn intend_create(&self, creds: &Credentials, table: &TableRef) -> Intent {
        self.batcher.intend(creds, table)
    }

    /// Creates one route (batched with concurrent creates for the same table) and returns its
    /// cloud ids. On success the cached view gains it; after a transport failure the view is
    /// dropped, since the route may or may not exist now.
    pub async fn create(
        &self,
        creds: &Credentials,
        table: &TableRef,
        planned: &(Route, RouteAttrs),
        intent: Option<Intent>,
    ) -> Result<RouteIds, CloudError> {
        let room = TableRoom {
            quota: self.quota(creds, &table.region).await,
            key: (creds.secret_id.clone(), table.clone()),
            counts: self.counts.clone(),
        };
        let result = self.batcher.create(&self.api, creds, table, planned, &room, intent).await;
        let attrs_known = self.api.supports_attributes();
        match &result {
            Ok(ids) => self.edit_view(creds, table, |v| upsert(v, planned, ids, attrs_known)).await,
            Err(e) if e.is_transport() => self.forget(creds, table).await,
            Err(_) => {}
        }
        result
    }

    /// The route quota of an account's region, asked once.
    async fn quota(&self, creds: &Credentials, region: &str) -> Option<usize> {
        let mut quotas = self.quotas.lock().await;
        let key = (creds.secret_id.clone(), region.to_string());
        if let Some(q) = quotas.get(&key) {
            return *q;
        }
        let q = Box::pin(self.api.route_quota(creds, region)).await;
        quotas.insert(key, q);
        q
    }

    /// Deletes one route. "Not found" means it is already gone and counts as success; either
    /// way the cached view loses it.
    pub async fn delete(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
    ) -> Result<(), CloudError> {
        let result = match Box::pin(self.api.delete_route(creds, table, route, ids)).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        };
        self.after_write(creds, table, &result, |v| remove(v, route)).await;
        result
    }

    /// Points the route `old` at `new`'s next hop; the cached view follows.
    pub async fn replace(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        new: &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        let result = Box::pin(self.api.replace_route(creds, table, old, ids, new)).await;
        let attrs_known = self.api.supports_attributes();
        match &result {
            Ok(new_ids) => {
                // ReplaceRoutes sets the description and keeps Enabled.
                let enabled = self.view_attrs(creds, table, &old.destination).await.is_none_or(|a| a.enabled);
                let kept = (new.0.clone(), RouteAttrs { enabled, ..new.1.clone() });
                self.edit_view(creds, table, |v| upsert(v, &kept, new_ids, attrs_known)).await
            }
            // A 2.0 replace may have deleted the old route before failing: read again.
            Err(_) => self.forget(creds, table).await,
        }
        result
    }

    /// Sets a route's description and `Enabled` to `want`, from `have`; the cached view follows.
    pub async fn set_attributes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        want: &RouteAttrs,
        have: &RouteAttrs,
    ) -> Result<(), CloudError> {
        if want.description != have.description {
            let result = Box::pin(self.api.set_description(creds, table, route, ids, &want.description)).await;
            self.after_write(creds, table, &result, |v| {
                set_attrs(v, route, |a| a.description.clone_from(&want.description))
            })
            .await;
            result?;
        }
        if want.enabled != have.enabled {
            let result = Box::pin(self.api.set_enabled(creds, table, route, ids, want.enabled)).await;
            self.after_write(creds, table, &result, |v| set_attrs(v, route, |a| a.enabled = want.enabled)).await;
            result?;
        }
        Ok(())
    }

    async fn view_attrs(
        &self,
        creds: &Credentials,
        table: &TableRef,
        destination: &ipnet::Ipv4Net,
    ) -> Option<RouteAttrs> {
        let slot = self.slot(creds, table);
        let slot = slot.lock().await;
        slot.view.as_ref().and_then(|(_, v)| v.attrs_of(destination).cloned())
    }

    async fn after_write<T>(
        &self,
        creds: &Credentials,
        table: &TableRef,
        result: &Result<T, CloudError>,
        edit: impl FnOnce(&mut TableView),
    ) {
        match result {
            Ok(_) => self.edit_view(creds, table, edit).await,
            Err(e) if e.is_transport() => self.forget(creds, table).await,
            Err(_) => {}
        }
    }

    async fn edit_view(&self, creds: &Credentials, table: &TableRef, edit: impl FnOnce(&mut TableView)) {
        let slot = self.slot(creds, table);
        let mut slot = slot.lock().await;
        if let Some((_, view)) = slot.view.as_mut() {
            // Copied only while a reader still holds this version (readers keep theirs briefly).
            edit(Arc::make_mut(view));
        }
    }

    async fn forget(&self, creds: &Credentials, table: &TableRef) {
        self.slot(creds, table).lock().await.view = None;
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).remove(&(creds.secret_id.clone(), table.clone()));
    }
}

fn upsert(view: &mut TableView, (route, attrs): &(Route, RouteAttrs), ids: &RouteIds, attrs_known: bool) {
    view.routes.retain(|r| r.destination != route.destination);
    view.routes.push(route.clone());
    view.ids.insert(route.destination, ids.clone());
    if attrs_known {
        view.attrs.insert(route.destination, attrs.clone());
    }
}

fn set_attrs(view: &mut TableView, route: &Route, change: impl FnOnce(&mut RouteAttrs)) {
    if let Some(attrs) = view.attrs.get_mut(&route.destination) {
        change(attrs);
    }
}

fn remove(view: &mut TableView, route: &Route) {
    view.routes.retain(|r| r != route);
    if view.at(&route.destination).is_none() {
        view.ids.remove(&route.destination);
        view.attrs.remove(&route.destination);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::memory::MemoryApi;
    use crate::cloud::{ErrorClass, Operation};
    use vpc_wire::domain::NextType;

    use crate::cloud::memory::{sample_credentials as creds, sample_table as table};

    fn route(dest: &str) -> Route {
        Route::new(dest, NextType::VpnGateway, "vpngw-1").unwrap_or_else(|| panic!("bad cidr {dest}"))
    }

    #[tokio::test]
    async fn reads_within_max_age_share_one_describe_call() {
        let cloud = RouteCloud::new(MemoryApi::with_table(&table()), Batching::eager(50));
        for _ in 0..5 {
            cloud.table(&creds(), &table(), Duration::from_secs(300)).await.unwrap();
        }
        assert_eq!(cloud.api().calls(Operation::Describe), 1);
        cloud.table(&creds(), &table(), Duration::ZERO).await.unwrap();
        assert_eq!(cloud.api().calls(Operation::Describe), 2);
    }

    #[tokio::test]
    async fn concurrent_fresh_reads_of_one_table_share_a_call() {
        let cloud = Arc::new(RouteCloud::new(MemoryApi::with_table(&table()), Batching::eager(50)));
        let reads = (0..20).map(|_| {
            let cloud = cloud.clone();
            tokio::spawn(async move { cloud.table(&creds(), &table(), Duration::from_secs(60)).await.is_ok() })
        });
        for r in futures::future::join_all(reads).await {
            assert!(r.unwrap_or(false));
        }
        assert_eq!(cloud.api().calls(Operation::Describe), 1);
    }

    #[tokio::test]
    async fn own_writes_update_the_cached_view_so_no_false_drift_is_seen() {
        let cloud = RouteCloud::new(MemoryApi::with_table(&table()), Batching::eager(50));
        let max = Duration::from_secs(300);
        assert!(cloud.table(&creds(), &table(), max).await.unwrap().routes.is_empty());
        cloud.create(&creds(), &table(), &(route("10.9.0.0/16"), RouteAttrs::default()), None).await.unwrap();
        let view = cloud.table(&creds(), &table(), max).await.unwrap();
        assert_eq!(view.routes, vec![route("10.9.0.0/16")]);
        cloud.delete(&creds(), &table(), &route("10.9.0.0/16"), &RouteIds::default()).await.unwrap();
        assert!(cloud.table(&creds(), &table(), max).await.unwrap().routes.is_empty());
        assert_eq!(cloud.api().calls(Operation::Describe), 1);
    }

    #[tokio::test]
    async fn deleting_a_route_that_is_already_gone_succeeds() {
        let cloud = RouteCloud::new(MemoryApi::with_table(&table()), Batching::eager(50));
        let gone = cloud.delete(&creds(), &table(), &route("10.9.0.0/16"), &RouteIds::default()).await;
        assert!(gone.is_ok(), "{gone:?}");
        assert_eq!(cloud.api().calls(Operation::Delete), 1);
    }

    #[tokio::test]
    async fn a_lost_create_response_drops_the_view_so_the_next_read_is_fresh() {
        let cloud = RouteCloud::new(MemoryApi::with_table(&table()), Batching::eager(50));
        let max = Duration::from_secs(300);
        cloud.table(&creds(), &table(), max).await.unwrap();
        cloud.api().lose_create_responses(1);
        let err = cloud.create(&creds(), &table(), &(route("10.9.0.0/16"), RouteAttrs::default()), None).await;
        assert_eq!(err.map_err(|e| e.class), Err(ErrorClass::Transport));
        let view = cloud.table(&creds(), &table(), max).await.unwrap();
        assert_eq!(view.routes, vec![route("10.9.0.0/16")]);
        assert_eq!(cloud.api().calls(Operation::Describe), 2);
    }
}
