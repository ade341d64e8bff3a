//! The embedded Tencent Cloud VPC API 2.0 client: configuration, the shared HTTPS client, and
//! credentials from the environment. Does I/O (HTTPS, reading the CA bundle and env vars).

mod actions;
mod calls;
mod error;
pub mod request;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use actions::{PAGE_LIMIT, RawRoute, RouteTable, Vpc, route_batch_params};
pub use calls::Reply;
pub use error::{Action, ApiError, ApiErrorKind, ClientConfigError, CredentialsError, ErrorClass, classify};
pub use request::{Endpoint, HttpMethod};

use vpc_wire::domain::{Credentials, Secret};
pub use vpc_wire::v2::sign::SignatureMethod;

/// The public API 2.0 endpoint for VPC actions.
pub const DEFAULT_ENDPOINT: &str = "https://vpc.api.qcloud.com/v2/index.php";

/// Environment variable holding the SecretId.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// Environment variable holding the SecretKey.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
/// Environment variable holding the optional STS token.
pub const ENV_SECURITY_TOKEN: &str = "TENCENTCLOUD_SECURITY_TOKEN";

/// A source of UNIX-second timestamps for the `Timestamp` parameter.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;
/// A source of `Nonce` values (positive integers), called once per request.
pub type NonceSource = Arc<dyn Fn() -> u64 + Send + Sync>;

/// How to reach the API. Certificate verification is always on; `ca_file` only adds roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The API 2.0 endpoint URL (`https://host[:port]/v2/index.php`).
    pub endpoint: String,
    /// Extra PEM CA certificates trusted on top of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Time allowed to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, connection to last byte.
    pub request_timeout: Duration,
    /// HmacSHA256 (default) or HmacSHA1.
    pub signature_method: SignatureMethod,
    /// POST (default) or GET.
    pub http_method: HttpMethod,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            signature_method: SignatureMethod::default(),
            http_method: HttpMethod::default(),
        }
    }
}

/// The API 2.0 client. Cheap to clone: every clone shares one `reqwest::Client`.
/// Credentials are passed per call, so one client serves every resource's credentials.
#[derive(Clone)]
pub struct VpcClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    config: ClientConfig,
    clock: Clock,
    nonce: NonceSource,
}

impl VpcClient {
    /// Builds the client: parses the endpoint, loads the extra CA bundle and builds one HTTPS
    /// client with rustls (ring), the timeouts, verification on and no redirects.
    pub fn new(cfg: ClientConfig) -> Result<VpcClient, ClientConfigError> {
        // Another part of the process may have installed a provider already; that is fine.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let endpoint = Endpoint::parse(&cfg.endpoint)?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_rustls()
            .https_only(true)
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vpcroute-operator/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &cfg.ca_file {
            builder = builder.tls_certs_merge(load_ca_bundle(path)?);
        }
        let http = builder.build().map_err(|e| ClientConfigError::Build(e.without_url()))?;
        let inner = Inner { http, endpoint, config: cfg, clock: Arc::new(unix_now), nonce: Arc::new(random_nonce) };
        Ok(VpcClient { inner: Arc::new(inner) })
    }

    /// Replaces the `Timestamp` source (tests, or a corrected clock).
    pub fn with_clock(self, clock: Clock) -> VpcClient {
        self.rebuild(|inner| inner.clock = clock)
    }

    /// Replaces the `Nonce` source (tests only: a fixed nonce makes every call after the first
    /// a replay).
    pub fn with_nonce(self, nonce: NonceSource) -> VpcClient {
        self.rebuild(|inner| inner.nonce = nonce)
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> VpcClient {
        let i = &self.inner;
        let mut inner = Inner {
            http: i.http.clone(),
            endpoint: i.endpoint.clone(),
            config: i.config.clone(),
            clock: i.clock.clone(),
            nonce: i.nonce.clone(),
        };
        change(&mut inner);
        VpcClient { inner: Arc::new(inner) }
    }
}

impl fmt::Debug for VpcClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VpcClient").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

pub(crate) fn load_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientConfigError> {
    let pem = std::fs::read(path).map_err(|source| ClientConfigError::ReadCa { path: path.to_owned(), source })?;
    let parse_error = |source| ClientConfigError::ParseCa { path: path.to_owned(), source };
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| parse_error(Some(e)))?;
    if certs.is_empty() {
        return Err(parse_error(None));
    }
    Ok(certs)
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn random_nonce() -> u64 {
    rand::random_range(1..=u64::from(u32::MAX))
}

/// Reads credentials from `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY` and the optional
/// `TENCENTCLOUD_SECURITY_TOKEN`.
pub fn credentials_from_env() -> Result<Credentials, CredentialsError> {
    credentials_from_lookup(|name| std::env::var(name).ok())
}

/// Reads credentials through `lookup` (a variable name to its value), as `credentials_from_env`
/// does from the process environment. Empty values count as unset.
pub fn credentials_from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Credentials, CredentialsError> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let secret_id = get(ENV_SECRET_ID).ok_or(CredentialsError(ENV_SECRET_ID))?;
    let secret_key = get(ENV_SECRET_KEY).ok_or(CredentialsError(ENV_SECRET_KEY))?;
    Ok(Credentials { secret_id, secret_key: Secret::new(secret_key), token: get(ENV_SECURITY_TOKEN).map(Secret::new) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn credentials_come_from_the_three_variables() {
        let c =
            credentials_from_lookup(env(&[(ENV_SECRET_ID, "AKID1"), (ENV_SECRET_KEY, "k"), (ENV_SECURITY_TOKEN, "t")]))
                .unwrap();
        assert_eq!(c.secret_id, "AKID1");
        assert_eq!(c.secret_key.expose(), "k");
        assert_eq!(c.token.as_ref().map(Secret::expose), Some("t"));
        let c =
            credentials_from_lookup(env(&[(ENV_SECRET_ID, "AKID1"), (ENV_SECRET_KEY, "k"), (ENV_SECURITY_TOKEN, "")]))
                .unwrap();
        assert_eq!(c.token, None);
    }

    #[test]
    fn a_missing_key_names_the_variable_but_not_any_value() {
        let e = credentials_from_lookup(env(&[(ENV_SECRET_ID, "AKID1")])).unwrap_err();
        assert_eq!(e.to_string(), "environment variable TENCENTCLOUD_SECRET_KEY is not set or empty");
    }

    #[test]
    fn the_client_refuses_plain_http_and_a_missing_ca_file() {
        let http = ClientConfig { endpoint: "http://127.0.0.1:1/v2/index.php".into(), ..ClientConfig::default() };
        assert!(matches!(VpcClient::new(http), Err(ClientConfigError::Endpoint { .. })));
        let ca = ClientConfig { ca_file: Some("/nonexistent/ca.pem".into()), ..ClientConfig::default() };
        assert!(matches!(VpcClient::new(ca), Err(ClientConfigError::ReadCa { .. })));
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let path = std::env::temp_dir().join(format!("vpcroute-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let cfg = ClientConfig { ca_file: Some(path.clone()), ..ClientConfig::default() };
        let result = VpcClient::new(cfg);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(result, Err(ClientConfigError::ParseCa { .. })), "{result:?}");
    }

    #[test]
    fn default_nonces_are_positive_and_vary() {
        let nonces: std::collections::BTreeSet<u64> = (0..20).map(|_| random_nonce()).collect();
        assert!(nonces.len() > 15 && !nonces.contains(&0));
    }

    fn vector_client(method: SignatureMethod) -> VpcClient {
        let cfg = ClientConfig {
            endpoint: "https://cvm.api.qcloud.com/v2/index.php".into(),
            signature_method: method,
            http_method: HttpMethod::Get,
            ..ClientConfig::default()
        };
        VpcClient::new(cfg).unwrap().with_clock(Arc::new(|| 1465185768)).with_nonce(Arc::new(|| 11886))
    }

    fn vector_creds() -> Credentials {
        Credentials {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA".into(),
            secret_key: Secret::new("Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"),
            token: None,
        }
    }

    #[test]
    fn injected_clock_and_nonce_reproduce_official_vectors_a_and_b() {
        let params = || vec![("InstanceIds.0".to_owned(), "ins-09dx96dg".to_owned())];
        let a = vector_client(SignatureMethod::HmacSha256).sign(
            &vector_creds(),
            "ap-guangzhou",
            "DescribeInstances",
            params(),
        );
        assert_eq!(
            a.string_to_sign,
            "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Nonce=11886\
             &Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA256&Timestamp=1465185768"
        );
        assert_eq!(a.signature, "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s=");
        let b = vector_client(SignatureMethod::HmacSha1).sign(
            &vector_creds(),
            "ap-guangzhou",
            "DescribeInstances",
            params(),
        );
        assert_eq!(b.signature, "nPVnY6njQmwQ8ciqbPl5Qe+Oru4=");
    }

    #[test]
    fn every_request_gets_a_fresh_nonce_and_the_current_time() {
        let client = VpcClient::new(ClientConfig::default()).unwrap();
        let nonce_of = |r: request::SignedRequest| {
            r.string_to_sign.split('&').find_map(|p| p.strip_prefix("Nonce=").map(str::to_owned)).unwrap()
        };
        let first = client.sign(&vector_creds(), "ap-guangzhou", "DescribeVpcEx", vec![]);
        let second = client.sign(&vector_creds(), "ap-guangzhou", "DescribeVpcEx", vec![]);
        assert!((first.timestamp - unix_now()).abs() < 5);
        assert_ne!(nonce_of(first), nonce_of(second));
    }

    #[test]
    fn client_debug_shows_the_config_and_no_secrets() {
        let client = VpcClient::new(ClientConfig::default()).unwrap();
        let shown = format!("{client:?}");
        assert!(shown.contains("vpc.api.qcloud.com") && shown.contains("HmacSha256"), "{shown}");
    }
}
