//! Where the operator's default credentials come from when no Secret names them, and keeping
//! temporary ones fresh: the [`Provider`] abstraction, fixed keys from the environment, TKE pod
//! identity (OIDC, [`oidc`]) and the CVM instance role ([`instance`]), tried in [`chain`] order.
//! Does I/O (HTTP to STS and the metadata service, reading the token file).
//!
//! The full order, first match wins:
//! 1. the resource's `credentialsSecretRef` Secret (`secret`, in the controller);
//! 2. the operator's `--credentials-secret` (`operator-secret`, in `main`);
//! 3. `TENCENTCLOUD_SECRET_ID`/`_SECRET_KEY`/`_SECURITY_TOKEN` (`environment`);
//! 4. TKE pod identity, when `TKE_REGION`, `TKE_PROVIDER_ID`, `TKE_WEB_IDENTITY_TOKEN_FILE` and
//!    `TKE_ROLE_ARN` are all set (`oidc`);
//! 5. the CVM instance role, only with `--instance-role` (`instance-role`).

pub mod instance;
pub mod oidc;
pub mod refresh;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use vpc_wire::domain::Credentials;

pub use refresh::{Fetch, Issued, Refreshing};

/// Where a set of credentials came from; shown in conditions and logs, never the key itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The resource's own `credentialsSecretRef` Secret.
    Secret,
    /// The operator's `--credentials-secret`.
    OperatorSecret,
    /// `TENCENTCLOUD_SECRET_ID`/`_SECRET_KEY` in the operator's environment.
    Environment,
    /// TKE pod identity: an OIDC token exchanged with STS.
    Oidc,
    /// The CVM instance role from the metadata service.
    InstanceRole,
}

impl Source {
    /// The label: `secret`, `operator-secret`, `environment`, `oidc` or `instance-role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Secret => "secret",
            Source::OperatorSecret => "operator-secret",
            Source::Environment => "environment",
            Source::Oidc => "oidc",
            Source::InstanceRole => "instance-role",
        }
    }
}

/// Why credentials could not be had. Messages name what failed, never a key or token.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Some but not all TKE pod identity variables are set.
    #[error("pod identity is half configured: {0} is not set or empty")]
    MissingEnv(&'static str),
    /// The projected token file could not be read (or is empty).
    #[error("cannot read the web identity token file {path}")]
    ReadToken {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The extra CA bundle could not be used.
    #[error("cannot use the CA bundle {path}: {reason}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An endpoint URL is not usable.
    #[error("endpoint {endpoint}: {reason}")]
    Endpoint {
        /// As configured.
        endpoint: String,
        /// Why.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the http client")]
    Build(#[source] reqwest::Error),
    /// The request failed in transport (or its body could not be read).
    #[error("{what} request failed")]
    Http {
        /// Which request.
        what: &'static str,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The answer had a status other than 200.
    #[error("{what} answered HTTP {status}")]
    Status {
        /// Which request.
        what: &'static str,
        /// The status.
        status: u16,
    },
    /// STS refused the exchange.
    #[error("sts refused: {code}: {message}")]
    Refused {
        /// The error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The answer did not have the expected shape.
    #[error("{what} answer is not valid: {reason}")]
    Parse {
        /// Which request.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The metadata service lists no role for this instance.
    #[error("the instance has no role (metadata lists none)")]
    NoRole,
}

/// Something that hands out the current credentials: fixed, or temporary and refreshed.
pub trait Provider: Send + Sync {
    /// The credentials to sign the next call with.
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IdentityError>>;
    /// Where they come from.
    fn source(&self) -> Source;
}

/// Fixed credentials (a Secret or the environment).
pub struct Static {
    credentials: Credentials,
    source: Source,
}

impl Static {
    /// Wraps fixed credentials from `source`.
    pub fn new(credentials: Credentials, source: Source) -> Static {
        Static { credentials, source }
    }
}

impl Provider for Static {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IdentityError>> {
        Box::pin(std::future::ready(Ok(self.credentials.clone())))
    }

    fn source(&self) -> Source {
        self.source
    }
}

/// How the temporary-credential providers reach their services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// STS, `https://sts.tencentcloudapi.com/` by default.
    pub sts_endpoint: String,
    /// The metadata service, `http://metadata.tencentyun.com` by default.
    pub metadata_endpoint: String,
    /// Whether to ask the metadata service for the instance role.
    pub instance_role: bool,
    /// Extra PEM CA certificates trusted for STS (private endpoints, the emulator).
    pub ca_file: Option<PathBuf>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Request timeout.
    pub request_timeout: Duration,
}

impl Default for ChainConfig {
    fn default() -> ChainConfig {
        ChainConfig {
            sts_endpoint: oidc::DEFAULT_STS_ENDPOINT.into(),
            metadata_endpoint: instance::DEFAULT_METADATA_ENDPOINT.into(),
            instance_role: false,
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
        }
    }
}

/// Steps 3–5 of the order above, reading variables through `lookup` (`std::env::var` in `main`):
/// environment keys, else pod identity when its variables are set, else the instance role when
/// enabled, else `None`. Builds no connection; the first fetch happens at the first call.
pub fn chain(
    cfg: &ChainConfig,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Arc<dyn Provider>>, IdentityError> {
    if let Ok(creds) = crate::client::credentials_from_lookup(&lookup) {
        return Ok(Some(Arc::new(Static::new(creds, Source::Environment))));
    }
    if let Some(settings) = oidc::OidcSettings::from_lookup(&lookup)? {
        let fetch = oidc::OidcFetch::new(http_client(cfg)?, &cfg.sts_endpoint, settings)?;
        return Ok(Some(Arc::new(Refreshing::new(fetch, Source::Oidc))));
    }
    if cfg.instance_role {
        let fetch = instance::InstanceRoleFetch::new(http_client(cfg)?, &cfg.metadata_endpoint)?;
        return Ok(Some(Arc::new(Refreshing::new(fetch, Source::InstanceRole))));
    }
    Ok(None)
}

/// The one HTTP client of the providers: rustls (ring), timeouts, no redirects, the extra CA.
/// Not HTTPS-only, since the metadata service is plain HTTP; the STS endpoint is checked instead.
pub fn http_client(cfg: &ChainConfig) -> Result<reqwest::Client, IdentityError> {
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .tls_backend_rustls()
        .connect_timeout(cfg.connect_timeout)
        .timeout(cfg.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("vpcroute-operator/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &cfg.ca_file {
        builder = builder.tls_certs_merge(load_ca(path)?);
    }
    builder.build().map_err(IdentityError::Build)
}

fn load_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, IdentityError> {
    let ca_error = |reason: String| IdentityError::Ca { path: path.to_owned(), reason };
    let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(ca_error("no certificate in it".into()));
    }
    Ok(certs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    const TKE: [(&str, &str); 4] = [
        ("TKE_REGION", "ap-guangzhou"),
        ("TKE_PROVIDER_ID", "tke-oidc"),
        ("TKE_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/tke/token"),
        ("TKE_ROLE_ARN", "qcs::cam::uin/1:roleName/vpcroute"),
    ];

    fn source(cfg: &ChainConfig, pairs: &[(&str, &str)]) -> Option<&'static str> {
        chain(cfg, env(pairs)).unwrap().map(|p| p.source().as_str())
    }

    #[test]
    fn the_chain_prefers_environment_keys_then_pod_identity_then_the_instance_role_when_enabled() {
        let on = ChainConfig { instance_role: true, ..ChainConfig::default() };
        let keys = [("TENCENTCLOUD_SECRET_ID", "AKID1"), ("TENCENTCLOUD_SECRET_KEY", "k")];
        let both: Vec<_> = keys.iter().chain(TKE.iter()).copied().collect();
        assert_eq!(source(&on, &both), Some("environment"));
        assert_eq!(source(&on, &TKE), Some("oidc"));
        assert_eq!(source(&on, &[]), Some("instance-role"));
        assert_eq!(source(&ChainConfig::default(), &[]), None);
    }

    #[test]
    fn half_configured_pod_identity_names_the_missing_variable() {
        let Err(error) = chain(&ChainConfig::default(), env(&TKE[..3])) else { panic!("accepted") };
        assert_eq!(error.to_string(), "pod identity is half configured: TKE_ROLE_ARN is not set or empty");
    }

    #[test]
    fn sources_have_stable_labels() {
        let all = [Source::Secret, Source::OperatorSecret, Source::Environment, Source::Oidc, Source::InstanceRole];
        let labels: Vec<_> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(labels, ["secret", "operator-secret", "environment", "oidc", "instance-role"]);
    }
}
