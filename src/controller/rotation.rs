//! Credential rotation: when a Secret that VpcRoutes name in `credentialsSecretRef` changes,
//! every VpcRoute using it is reconciled at once (its cached credentials and any long hold after
//! an `AuthFailure` dropped). Least privilege: the operator only GETs the Secrets its resources
//! name, as it already must to read them — no list or watch of Secrets — once per period.
//! Does Kubernetes I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};

use super::context::Context;
use crate::crd::VpcRoute;

/// A Secret by namespace and name.
type SecretKey = (String, String);

/// The Secrets the resources name, and who names each. Pure.
pub fn users_of_secrets<'a>(objs: impl IntoIterator<Item = &'a VpcRoute>) -> BTreeMap<SecretKey, BTreeSet<String>> {
    let mut users: BTreeMap<SecretKey, BTreeSet<String>> = BTreeMap::new();
    for obj in objs {
        if let Some(secret) = &obj.spec.credentials_secret_ref {
            let key = (obj.namespace().unwrap_or_default(), secret.name.clone());
            users.entry(key).or_default().insert(obj.name_any());
        }
    }
    users
}

/// Which Secrets changed between two polls (a version that differs, or one that appeared or
/// went); a Secret seen for the first time is not a change. Pure.
pub fn changed(
    before: &HashMap<SecretKey, Option<String>>,
    now: &HashMap<SecretKey, Option<String>>,
) -> Vec<SecretKey> {
    now.iter().filter(|(k, v)| before.get(*k).is_some_and(|old| old != *v)).map(|(k, _)| k.clone()).collect()
}

/// Polls the named Secrets every `period` and sends every user of a changed one to `trigger`.
pub async fn poll<A>(ctx: Arc<Context<A>>, period: Duration, trigger: UnboundedSender<ObjectRef<VpcRoute>>) {
    let mut seen: HashMap<SecretKey, Option<String>> = HashMap::new();
    loop {
        tokio::time::sleep(period).await;
        let state = ctx.store.state();
        let users = users_of_secrets(state.iter().map(|o| o.as_ref()));
        let mut now = HashMap::new();
        for (namespace, name) in users.keys() {
            let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), namespace);
            match api.get_opt(name).await {
                Ok(secret) => {
                    now.insert((namespace.clone(), name.clone()), secret.and_then(|s| s.resource_version()));
                }
                Err(e) => tracing::debug!(namespace, secret = name, error = %e, "could not read a credentials Secret"),
            }
        }
        for key in changed(&seen, &now) {
            let (namespace, name) = &key;
            ctx.credentials.forget(namespace, name);
            let names = users.get(&key).cloned().unwrap_or_default();
            tracing::info!(
                namespace,
                secret = name,
                resources = names.len(),
                "credentials Secret changed; reconciling its users"
            );
            for resource in names {
                let objref = ObjectRef::<VpcRoute>::new(&resource).within(namespace);
                ctx.backoff.reset(&format!("{namespace}/{resource}"));
                let _ = trigger.unbounded_send(objref);
            }
        }
        // Secrets no resource names any more are forgotten; the rest keep their version.
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> SecretKey {
        (ns.into(), name.into())
    }

    #[test]
    fn a_change_is_a_new_version_or_a_secret_that_appeared_or_went_never_a_first_sight() {
        let before: HashMap<_, _> =
            [(key("a", "s1"), Some("1".to_string())), (key("a", "s2"), None), (key("b", "s3"), Some("5".into()))]
                .into();
        let now: HashMap<_, _> = [
            (key("a", "s1"), Some("2".to_string())),
            (key("a", "s2"), Some("1".into())),
            (key("b", "s3"), Some("5".into())),
            (key("c", "new"), Some("9".into())),
        ]
        .into();
        let mut got = changed(&before, &now);
        got.sort();
        assert_eq!(got, vec![key("a", "s1"), key("a", "s2")]);
    }
}
