//! An index of claims: which VpcRoutes claim or hold each (region, route table, destination),
//! kept from the same watch events that fill the cache, so finding a resource's rivals costs a
//! lookup, not a scan of every object. In-memory; no I/O.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;

use super::claims::{ClaimKey, keys_of};
use crate::crd::VpcRoute;

/// (namespace, name), shared by every entry about one resource.
type Name = Arc<(String, String)>;

/// At 10,000 resources this is kept small: one shared name per resource, and a plain vector
/// per key (almost always one resource; a one-element B-tree set costs a whole node).
#[derive(Default)]
struct Inner {
    by_key: HashMap<ClaimKey, Vec<Name>>,
    keys: HashMap<Name, Vec<ClaimKey>>,
    /// During a relist: the objects seen so far (the rest are gone at `InitDone`).
    relist: Option<HashSet<Name>>,
}

/// Resources by the claim keys their spec and status name.
#[derive(Default)]
pub struct ClaimIndex {
    default_region: Option<String>,
    inner: Mutex<Inner>,
}

impl ClaimIndex {
    /// An empty index; `default_region` is the operator's `--region`.
    pub fn new(default_region: Option<String>) -> ClaimIndex {
        ClaimIndex { default_region, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows one watch event.
    pub fn apply(&self, event: &watcher::Event<VpcRoute>) {
        let mut inner = self.lock();
        match event {
            watcher::Event::Apply(obj) => drop(self.put(&mut inner, obj)),
            watcher::Event::Delete(obj) => remove(&mut inner, &name_of(obj)),
            watcher::Event::Init => inner.relist = Some(HashSet::new()),
            watcher::Event::InitApply(obj) => {
                let name = self.put(&mut inner, obj);
                if let Some(seen) = inner.relist.as_mut() {
                    seen.insert(name);
                }
            }
            watcher::Event::InitDone => {
                if let Some(seen) = inner.relist.take() {
                    let gone: Vec<Name> = inner.keys.keys().filter(|n| !seen.contains(*n)).cloned().collect();
                    for name in gone {
                        remove(&mut inner, &name);
                    }
                }
            }
        }
    }

    /// Indexes `obj` under its keys (replacing what it had); returns its shared name.
    fn put(&self, inner: &mut Inner, obj: &VpcRoute) -> Name {
        let name = name_of(obj);
        remove(inner, &name);
        let keys = keys_of(obj, self.default_region.as_deref());
        for key in &keys {
            inner.by_key.entry(key.clone()).or_default().push(name.clone());
        }
        inner.keys.insert(name.clone(), keys);
        name
    }

    /// The resources that claim or hold `key`.
    pub fn candidates(&self, key: &ClaimKey) -> Vec<ObjectRef<VpcRoute>> {
        let inner = self.lock();
        let names = inner.by_key.get(key).into_iter().flatten();
        names.map(|n| ObjectRef::new(&n.1).within(&n.0)).collect()
    }
}

fn name_of(obj: &VpcRoute) -> Name {
    Arc::new((obj.namespace().unwrap_or_default(), obj.name_any()))
}

fn remove(inner: &mut Inner, name: &Name) {
    for key in inner.keys.remove(name).unwrap_or_default() {
        if let Some(names) = inner.by_key.get_mut(&key) {
            names.retain(|n| n != name);
            if names.is_empty() {
                inner.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str, destination: &str) -> VpcRoute {
        let spec = serde_json::json!({
            "vpcId": "vpc-1", "routeTableId": "rtb-1", "destinationCidrBlock": destination,
            "nextType": "VpnGateway", "nextHub": "vpngw-1", "region": "gz"
        });
        let mut obj = VpcRoute::new(name, serde_json::from_value(spec).unwrap());
        obj.metadata.namespace = Some("ns".into());
        obj
    }

    fn key(destination: &str) -> ClaimKey {
        ClaimKey { region: "ap-guangzhou".into(), route_table_id: "rtb-1".into(), destination: destination.into() }
    }

    #[test]
    fn rivals_are_found_by_key_follow_changes_and_leave_with_deletes_and_relists() {
        let index = ClaimIndex::new(None);
        index.apply(&watcher::Event::Apply(route("a", "10.9.0.0/16")));
        index.apply(&watcher::Event::Apply(route("b", "10.9.1.2/16")));
        index.apply(&watcher::Event::Apply(route("c", "10.8.0.0/16")));
        assert_eq!(index.candidates(&key("10.9.0.0/16")).len(), 2, "host bits do not hide a rival");
        index.apply(&watcher::Event::Apply(route("b", "10.7.0.0/16")));
        assert_eq!(index.candidates(&key("10.9.0.0/16")).len(), 1, "a changed spec moves its claim");
        index.apply(&watcher::Event::Delete(route("a", "10.9.0.0/16")));
        assert!(index.candidates(&key("10.9.0.0/16")).is_empty());
        index.apply(&watcher::Event::Init);
        index.apply(&watcher::Event::InitApply(route("c", "10.8.0.0/16")));
        index.apply(&watcher::Event::InitDone);
        assert!(index.candidates(&key("10.7.0.0/16")).is_empty(), "gone from the relist");
        assert_eq!(index.candidates(&key("10.8.0.0/16")).len(), 1);
    }
}
