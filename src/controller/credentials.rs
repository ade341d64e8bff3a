//! Resolves the credentials a VpcRoute's cloud calls use: its `credentialsSecretRef` Secret, or
//! the operator's default provider (operator Secret, environment, pod identity or instance role;
//! see [`crate::identity`]), asked at every call so refreshed temporary keys are used. Reads
//! Secrets from the Kubernetes API (cached for a short time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::Api;
use tokio::time::Instant;

use super::errors::Error;
use crate::identity::{Provider, Source};
use vpc_wire::domain::{Credentials, Secret};

/// What resources without a `credentialsSecretRef` use: a provider, or nothing.
pub type DefaultCredentials = Option<Arc<dyn Provider>>;

/// How long a Secret read is reused.
const TTL: Duration = Duration::from_secs(30);

/// Credential resolution with a short-lived cache of Secret reads.
pub struct CredentialSource {
    kube: kube::Client,
    default: DefaultCredentials,
    cache: Mutex<HashMap<(String, String), (Instant, Credentials)>>,
    /// The resourceVersion of each Secret when its credentials were last read (`None`: it was
    /// missing), so a change can be told from a first sight.
    versions: Mutex<HashMap<(String, String), Option<String>>>,
}

impl CredentialSource {
    /// `default` is what resources without a `credentialsSecretRef` use.
    pub fn new(kube: kube::Client, default: DefaultCredentials) -> CredentialSource {
        CredentialSource { kube, default, cache: Mutex::new(HashMap::new()), versions: Mutex::new(HashMap::new()) }
    }

    /// Drops a Secret's cached credentials (it changed).
    pub fn forget(&self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        self.versions.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
    }

    /// The version of a Secret its credentials were last read at: `None` if never read,
    /// `Some(None)` if it was missing then.
    pub fn version_read(&self, namespace: &str, name: &str) -> Option<Option<String>> {
        let key = (namespace.to_string(), name.to_string());
        self.versions.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned()
    }

    /// The credentials for a resource in `namespace` naming `secret` (or none).
    pub async fn resolve(&self, namespace: &str, secret: Option<&str>) -> Result<Credentials, Error> {
        self.resolve_with_source(namespace, secret).await.map(|(creds, _)| creds)
    }

    /// Like [`CredentialSource::resolve`], also saying where the credentials came from (for a
    /// condition message; never the key).
    pub async fn resolve_with_source(
        &self,
        namespace: &str,
        secret: Option<&str>,
    ) -> Result<(Credentials, Source), Error> {
        let Some(name) = secret else {
            let Some(provider) = &self.default else {
                return Err(Error::Credentials(
                    "no credentialsSecretRef and the operator has no default credentials \
                     (--credentials-secret, TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, TKE pod identity \
                     or --instance-role)"
                        .into(),
                ));
            };
            let source = provider.source();
            let creds = provider
                .credentials()
                .await
                .map_err(|e| Error::Credentials(format!("{} credentials: {e}", source.as_str())))?;
            return Ok((creds, source));
        };
        let key = (namespace.to_string(), name.to_string());
        if let Some((at, creds)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && at.elapsed() < TTL
        {
            return Ok((creds.clone(), Source::Secret));
        }
        let api: Api<KubeSecret> = Api::namespaced(self.kube.clone(), namespace);
        let secret = api.get_opt(name).await.map_err(Error::Kube)?;
        let version = secret.as_ref().and_then(|s| s.metadata.resource_version.clone());
        self.versions.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), version);
        let creds = credentials_in(secret, namespace, name)?;
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (Instant::now(), creds.clone()));
        Ok((creds, Source::Secret))
    }
}

/// Which key of a credential set, if any, holds something that cannot be one: credentials travel
/// in query strings and HTTP headers, where only visible ASCII belongs. Pure.
pub fn check_shape(creds: &Credentials) -> Result<(), &'static str> {
    let visible = |s: &str| !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !visible(&creds.secret_id) {
        return Err("secretId");
    }
    if !visible(creds.secret_key.expose()) {
        return Err("secretKey");
    }
    match &creds.token {
        Some(t) if !visible(t.expose()) => Err("token"),
        _ => Ok(()),
    }
}

/// Reads `secretId`, `secretKey` and optional `token` from a Secret.
pub async fn read_secret(kube: &kube::Client, namespace: &str, name: &str) -> Result<Credentials, Error> {
    let api: Api<KubeSecret> = Api::namespaced(kube.clone(), namespace);
    credentials_in(api.get_opt(name).await.map_err(Error::Kube)?, namespace, name)
}

/// The credentials a Secret (if it exists) holds, checked for shape. Pure.
fn credentials_in(secret: Option<KubeSecret>, namespace: &str, name: &str) -> Result<Credentials, Error> {
    let secret = secret.ok_or_else(|| {
        Error::Credentials(format!("Secret {namespace}/{name} not found (needs keys secretId and secretKey)"))
    })?;
    let data = secret.data.unwrap_or_default();
    let field =
        |k: &str| data.get(k).map(|v| String::from_utf8_lossy(&v.0).trim().to_string()).filter(|v| !v.is_empty());
    let missing = |k: &str| Error::Credentials(format!("Secret {namespace}/{name} has no key {k}"));
    let creds = Credentials {
        secret_id: field("secretId").ok_or_else(|| missing("secretId"))?,
        secret_key: Secret::new(field("secretKey").ok_or_else(|| missing("secretKey"))?),
        token: field("token").map(Secret::new),
    };
    check_shape(&creds).map_err(|key| {
        Error::InvalidCredentials(format!(
            "Secret {namespace}/{name} key {key} holds characters no Tencent credential has \
             (only visible ASCII is allowed: no spaces, line breaks or control characters)"
        ))
    })?;
    Ok(creds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(id: &str, key: &str, token: Option<&str>) -> Credentials {
        Credentials { secret_id: id.into(), secret_key: Secret::new(key), token: token.map(Secret::new) }
    }

    #[test]
    fn credentials_with_line_breaks_spaces_or_control_characters_are_refused_by_key() {
        assert_eq!(check_shape(&creds("AKID1", "k", Some("t"))), Ok(()));
        assert_eq!(check_shape(&creds("AKID\r\n&Action=DeleteRoutes", "k", None)), Err("secretId"));
        assert_eq!(check_shape(&creds("AKID1", "a key", None)), Err("secretKey"));
        assert_eq!(check_shape(&creds("AKID1", "k", Some("t\u{1b}"))), Err("token"));
        assert_eq!(check_shape(&creds("AKIDé", "k", None)), Err("secretId"));
    }
}
