//! Never acting on an object older than the operator's own last status write. The reflector's
//! copy of a resource can lag behind a status the operator has just written (its watch event
//! is still on the way); acting on the older copy could miss a pending write and, say, adopt
//! the operator's own route. So the resourceVersion of every status write is remembered, and
//! a reconcile handed a different version reads the object from the API server first (a
//! consistent read). Opaque versions are only compared for equality. Does Kubernetes I/O.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::{Api, ResourceExt};

use super::errors::Error;
use crate::crd::VpcRoute;

/// The resourceVersion each object had after this process last wrote its status.
#[derive(Default)]
pub struct Written {
    versions: Mutex<HashMap<String, String>>,
}

impl Written {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.versions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers the version a status write produced.
    pub fn record(&self, key: &str, version: Option<String>) {
        if let Some(v) = version {
            self.lock().insert(key.to_string(), v);
        }
    }

    /// Forgets an object (deleted).
    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Whether `obj` may be older than this process's last write of it. Pure given the map.
    pub fn may_be_stale(&self, key: &str, obj: &VpcRoute) -> bool {
        match self.lock().get(key) {
            Some(written) => obj.resource_version().as_deref() != Some(written.as_str()),
            None => false,
        }
    }
}

/// `obj`, or — when it may predate this process's last status write — the object as the API
/// server has it now. `None` when it is gone.
pub async fn current(
    kube: &kube::Client,
    written: &Written,
    key: &str,
    obj: Arc<VpcRoute>,
) -> Result<Option<Arc<VpcRoute>>, Error> {
    if !written.may_be_stale(key, &obj) {
        return Ok(Some(obj));
    }
    let api: Api<VpcRoute> = Api::namespaced(kube.clone(), &obj.namespace().unwrap_or_default());
    let now = api.get_opt(&obj.name_any()).await.map_err(Error::Kube)?;
    match now {
        Some(now) => {
            // The API server's copy is the truth from here on; the store will catch up.
            written.record(key, now.resource_version());
            Ok(Some(Arc::new(now)))
        }
        None => {
            written.forget(key);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(version: &str) -> VpcRoute {
        let mut obj = VpcRoute::new(
            "r",
            serde_json::from_value(serde_json::json!({
                "vpcId": "vpc-1", "routeTableId": "rtb-1", "destinationCidrBlock": "10.9.0.0/16",
                "nextType": "VpnGateway", "nextHub": "vpngw-1"
            }))
            .unwrap(),
        );
        obj.metadata.resource_version = Some(version.into());
        obj
    }

    #[test]
    fn an_object_is_suspect_only_when_its_version_differs_from_our_last_write() {
        let w = Written::default();
        assert!(!w.may_be_stale("ns/r", &at("5")), "never written: trusted");
        w.record("ns/r", Some("7".into()));
        assert!(w.may_be_stale("ns/r", &at("5")));
        assert!(!w.may_be_stale("ns/r", &at("7")));
        w.forget("ns/r");
        assert!(!w.may_be_stale("ns/r", &at("5")));
    }
}
