//! Credential rotation: when a Secret that VpcRoutes name in `credentialsSecretRef` changes,
//! every VpcRoute using it is reconciled at once (its cached credentials and any long hold after
//! an `AuthFailure` dropped). Least privilege: the operator only GETs the Secrets its resources
//! name, as it already must to read them — no list or watch of Secrets — once per period.
//! Does Kubernetes I/O.

use std::collections::{BTreeMap, BTreeSet};
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

/// Whether a Secret changed since its credentials were read: it has another version now, or
/// appeared after it was found missing. A Secret not read yet has nothing to compare. Pure.
pub fn changed(read_at: Option<Option<String>>, now: &Option<String>) -> bool {
    read_at.is_some_and(|read| read != *now)
}

/// Polls the named Secrets every `period` and sends every user of a changed one to `trigger`.
pub async fn poll<A>(ctx: Arc<Context<A>>, period: Duration, trigger: UnboundedSender<ObjectRef<VpcRoute>>) {
    loop {
        tokio::time::sleep(period).await;
        let state = ctx.store.state();
        let users = users_of_secrets(state.iter().map(|o| o.as_ref()));
        for ((namespace, name), names) in users {
            let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), &namespace);
            let now = match api.get_opt(&name).await {
                Ok(secret) => secret.and_then(|s| s.resource_version()),
                Err(e) => {
                    tracing::debug!(namespace, secret = name, error = %e, "could not read a credentials Secret");
                    continue;
                }
            };
            if !changed(ctx.credentials.version_read(&namespace, &name), &now) {
                continue;
            }
            ctx.credentials.forget(&namespace, &name);
            tracing::info!(
                namespace,
                secret = name,
                resources = names.len(),
                "credentials Secret changed; reconciling its users"
            );
            for resource in names {
                ctx.backoff.reset(&format!("{namespace}/{resource}"));
                let _ = trigger.unbounded_send(ObjectRef::<VpcRoute>::new(&resource).within(&namespace));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_a_new_version_or_a_secret_that_appeared_never_a_secret_not_read_yet() {
        let v = |s: &str| Some(s.to_string());
        assert!(changed(Some(v("1")), &v("2")));
        assert!(changed(Some(None), &v("1")), "it appeared after it was found missing");
        assert!(changed(Some(v("1")), &None), "it went");
        assert!(!changed(Some(v("1")), &v("1")));
        assert!(!changed(None, &v("1")), "never read: nothing to compare");
    }
}
