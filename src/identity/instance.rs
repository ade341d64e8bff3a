//! The CVM instance role: temporary credentials from the instance metadata service
//! (`/latest/meta-data/cam/security-credentials/` names the role, `…/<role>` answers its keys),
//! over plain HTTP as on every CVM. The role name is asked once. Does network I/O.

use futures::future::BoxFuture;
use tokio::sync::OnceCell;
use vpc_wire::domain::{Credentials, Secret};
use vpc_wire::v3::models::identity::{METADATA_ROLE_PATH, METADATA_SUCCESS, RoleCredentials};

use super::oidc::lifetime_until;
use super::{Fetch, IdentityError, Issued};

/// The metadata service of Tencent Cloud's CVMs.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://metadata.tencentyun.com";
const WHAT_ROLE: &str = "metadata role name";
const WHAT_KEYS: &str = "metadata role credentials";

/// One read of the instance role's current credentials.
pub struct InstanceRoleFetch {
    http: reqwest::Client,
    base: reqwest::Url,
    role: OnceCell<String>,
}

impl InstanceRoleFetch {
    /// `endpoint` is the metadata service's base URL (`http://host[:port]`).
    pub fn new(http: reqwest::Client, endpoint: &str) -> Result<InstanceRoleFetch, IdentityError> {
        let bad = |reason| IdentityError::Endpoint { endpoint: endpoint.to_owned(), reason };
        let base = reqwest::Url::parse(endpoint).map_err(|_| bad("not a URL"))?;
        if base.host_str().is_none() || !matches!(base.scheme(), "http" | "https") {
            return Err(bad("the metadata endpoint must be an http URL"));
        }
        Ok(InstanceRoleFetch { http, base, role: OnceCell::new() })
    }

    async fn get(&self, path: &str, what: &'static str) -> Result<Vec<u8>, IdentityError> {
        let url = self.base.join(path).map_err(|_| IdentityError::Parse { what, reason: "bad path".into() })?;
        let http = |source: reqwest::Error| IdentityError::Http { what, source: source.without_url() };
        let response = self.http.get(url).send().await.map_err(http)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND && what == WHAT_ROLE {
            return Err(IdentityError::NoRole);
        }
        if response.status() != reqwest::StatusCode::OK {
            return Err(IdentityError::Status { what, status: response.status().as_u16() });
        }
        Ok(response.bytes().await.map_err(http)?.to_vec())
    }

    /// The instance's role name (asked once, then kept).
    pub async fn role(&self) -> Result<&str, IdentityError> {
        let role = self
            .role
            .get_or_try_init(|| async {
                let body = self.get(METADATA_ROLE_PATH, WHAT_ROLE).await?;
                let text = String::from_utf8_lossy(&body).into_owned();
                text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_owned).ok_or(IdentityError::NoRole)
            })
            .await?;
        Ok(role.as_str())
    }

    async fn read(&self) -> Result<Issued, IdentityError> {
        let role = self.role().await?;
        if !role.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.+=,@".contains(&b)) {
            return Err(IdentityError::Parse {
                what: WHAT_ROLE,
                reason: "the role name has unexpected characters".into(),
            });
        }
        let body = self.get(&format!("{METADATA_ROLE_PATH}{role}"), WHAT_KEYS).await?;
        let answer: RoleCredentials = serde_json::from_slice(&body)
            .map_err(|e| IdentityError::Parse { what: WHAT_KEYS, reason: e.to_string() })?;
        if answer.code != METADATA_SUCCESS {
            return Err(IdentityError::Parse { what: WHAT_KEYS, reason: format!("Code is {}", answer.code) });
        }
        Ok(Issued {
            credentials: Credentials {
                secret_id: answer.tmp_secret_id,
                secret_key: Secret::new(answer.tmp_secret_key),
                token: Some(Secret::new(answer.token)),
            },
            lifetime: lifetime_until(answer.expired_time),
        })
    }
}

impl Fetch for InstanceRoleFetch {
    fn fetch(&self) -> BoxFuture<'_, Result<Issued, IdentityError>> {
        Box::pin(self.read())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_endpoint_must_be_an_http_url() {
        assert!(
            InstanceRoleFetch::new(
                crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
                DEFAULT_METADATA_ENDPOINT
            )
            .is_ok()
        );
        assert!(
            InstanceRoleFetch::new(
                crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
                "metadata.tencentyun.com"
            )
            .is_err()
        );
        assert!(
            InstanceRoleFetch::new(
                crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
                "file:///etc/passwd"
            )
            .is_err()
        );
    }
}
