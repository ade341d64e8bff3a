//! Resolves the credentials a VpcRoute's cloud calls use: its `credentialsSecretRef` Secret, or
//! the operator's default. Reads Secrets from the Kubernetes API (cached for a short time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::Api;
use tokio::time::Instant;

use super::errors::Error;
use vpc_wire::domain::{Credentials, Secret};

/// How long a Secret read is reused.
const TTL: Duration = Duration::from_secs(30);

/// Credential resolution with a short-lived cache of Secret reads.
pub struct CredentialSource {
    kube: kube::Client,
    default: Option<Credentials>,
    cache: Mutex<HashMap<(String, String), (Instant, Credentials)>>,
}

impl CredentialSource {
    /// `default` is what resources without a `credentialsSecretRef` use.
    pub fn new(kube: kube::Client, default: Option<Credentials>) -> CredentialSource {
        CredentialSource { kube, default, cache: Mutex::new(HashMap::new()) }
    }

    /// The credentials for a resource in `namespace` naming `secret` (or none).
    pub async fn resolve(&self, namespace: &str, secret: Option<&str>) -> Result<Credentials, Error> {
        let Some(name) = secret else {
            return self.default.clone().ok_or_else(|| {
                Error::Credentials(
                    "no credentialsSecretRef and the operator has no default credentials \
                     (--credentials-secret or TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY)"
                        .into(),
                )
            });
        };
        let key = (namespace.to_string(), name.to_string());
        if let Some((at, creds)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && at.elapsed() < TTL
        {
            return Ok(creds.clone());
        }
        let creds = read_secret(&self.kube, namespace, name).await?;
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (Instant::now(), creds.clone()));
        Ok(creds)
    }
}

/// Reads `secretId`, `secretKey` and optional `token` from a Secret.
pub async fn read_secret(kube: &kube::Client, namespace: &str, name: &str) -> Result<Credentials, Error> {
    let api: Api<KubeSecret> = Api::namespaced(kube.clone(), namespace);
    let secret = api.get_opt(name).await.map_err(Error::Kube)?.ok_or_else(|| {
        Error::Credentials(format!("Secret {namespace}/{name} not found (needs keys secretId and secretKey)"))
    })?;
    let data = secret.data.unwrap_or_default();
    let field =
        |k: &str| data.get(k).map(|v| String::from_utf8_lossy(&v.0).trim().to_string()).filter(|v| !v.is_empty());
    let missing = |k: &str| Error::Credentials(format!("Secret {namespace}/{name} has no key {k}"));
    Ok(Credentials {
        secret_id: field("secretId").ok_or_else(|| missing("secretId"))?,
        secret_key: Secret::new(field("secretKey").ok_or_else(|| missing("secretKey"))?),
        token: field("token").map(Secret::new),
    })
}
