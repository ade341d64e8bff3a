//! The embedded Tencent Cloud VPC API 3.0 client (`vpc.tencentcloudapi.com`, TC3-HMAC-SHA256):
//! configuration and the shared HTTPS client. Does I/O (HTTPS, reading the CA bundle).

mod calls;
mod error;
pub mod request;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use calls::{MAX_PAGES, PAGE_LIMIT, Reply3, route_ref, wants_next_page};
pub use error::ApiError3;
pub use request::{Signed3Request, flatten_query};

pub use crate::client::{ClientConfigError, Clock, Endpoint, ErrorClass, HttpMethod};
use crate::client::{load_ca_bundle, unix_now};
pub use vpc_wire::v3::Action;

/// The public API 3.0 endpoint for VPC actions (region endpoints such as
/// `https://vpc.ap-guangzhou.tencentcloudapi.com/` work too).
pub const DEFAULT_ENDPOINT: &str = "https://vpc.tencentcloudapi.com/";

/// The `X-TC-RequestClient` value.
pub const REQUEST_CLIENT: &str = concat!("vpcroute-operator/", env!("CARGO_PKG_VERSION"));

/// How to reach API 3.0. Certificate verification is always on; `ca_file` only adds roots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client3Config {
    /// The endpoint URL (`https://host[:port]/`, path exactly `/`).
    pub endpoint: String,
    /// Extra PEM CA certificates trusted on top of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Time allowed to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, connection to last byte.
    pub request_timeout: Duration,
    /// POST with a JSON body (default) or GET with the parameters in the query.
    pub http_method: HttpMethod,
    /// `X-TC-Language` (`zh-CN` or `en-US`); not sent when `None`.
    pub language: Option<String>,
}

impl Default for Client3Config {
    fn default() -> Client3Config {
        Client3Config {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            ca_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            http_method: HttpMethod::Post,
            language: None,
        }
    }
}

/// The API 3.0 client. Cheap to clone: every clone shares one `reqwest::Client`.
/// Credentials are passed per call, so one client serves every resource's credentials.
#[derive(Clone)]
pub struct VpcClient3 {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    config: Client3Config,
    clock: Clock,
    /// The service in the credential scope: always `vpc`, but replaceable so tests can
    /// reproduce Tencent's `cvm` vectors through the client.
    service: &'static str,
}

impl VpcClient3 {
    /// Builds the client: parses the endpoint (https, path `/`), loads the extra CA bundle and
    /// builds one HTTPS client with rustls (ring), the timeouts, verification on and no redirects.
    pub fn new(cfg: Client3Config) -> Result<VpcClient3, ClientConfigError> {
        // Another part of the process may have installed a provider already; that is fine.
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let endpoint = Endpoint::parse(&cfg.endpoint)?;
        if endpoint.url().path() != "/" {
            let endpoint = cfg.endpoint.clone();
            return Err(ClientConfigError::Endpoint { endpoint, reason: "the api 3.0 path is /" });
        }
        let mut builder = reqwest::Client::builder()
            .tls_backend_rustls()
            .https_only(true)
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(REQUEST_CLIENT);
        if let Some(path) = &cfg.ca_file {
            builder = builder.tls_certs_merge(load_ca_bundle(path)?);
        }
        let http = builder.build().map_err(|e| ClientConfigError::Build(e.without_url()))?;
        let inner =
            Inner { http, endpoint, config: cfg, clock: Arc::new(unix_now), service: vpc_wire::v3::sign::SERVICE };
        Ok(VpcClient3 { inner: Arc::new(inner) })
    }

    /// Replaces the `X-TC-Timestamp` source (tests, or a corrected clock).
    pub fn with_clock(self, clock: Clock) -> VpcClient3 {
        self.rebuild(|inner| inner.clock = clock)
    }

    /// Replaces the signed service name (tests only: Tencent's vectors are for `cvm`).
    #[cfg(test)]
    pub(crate) fn with_service(self, service: &'static str) -> VpcClient3 {
        self.rebuild(|inner| inner.service = service)
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> VpcClient3 {
        let i = &self.inner;
        let mut inner = Inner {
            http: i.http.clone(),
            endpoint: i.endpoint.clone(),
            config: i.config.clone(),
            clock: i.clock.clone(),
            service: i.service,
        };
        change(&mut inner);
        VpcClient3 { inner: Arc::new(inner) }
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &Client3Config {
        &self.inner.config
    }
}

impl fmt::Debug for VpcClient3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VpcClient3").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_and_region_endpoints_are_accepted() {
        for endpoint in [DEFAULT_ENDPOINT, "https://vpc.ap-guangzhou.tencentcloudapi.com/", "https://127.0.0.1:8443"] {
            let cfg = Client3Config { endpoint: endpoint.into(), ..Client3Config::default() };
            assert!(VpcClient3::new(cfg).is_ok(), "{endpoint}");
        }
    }

    #[test]
    fn plain_http_other_paths_and_a_missing_ca_file_are_refused() {
        for endpoint in ["http://vpc.tencentcloudapi.com/", "https://vpc.tencentcloudapi.com/v2/index.php"] {
            let cfg = Client3Config { endpoint: endpoint.into(), ..Client3Config::default() };
            assert!(matches!(VpcClient3::new(cfg), Err(ClientConfigError::Endpoint { .. })), "{endpoint}");
        }
        let ca = Client3Config { ca_file: Some("/nonexistent/ca.pem".into()), ..Client3Config::default() };
        assert!(matches!(VpcClient3::new(ca), Err(ClientConfigError::ReadCa { .. })));
    }

    #[test]
    fn the_client_debug_shows_the_config_and_the_clock_can_be_replaced() {
        let client = VpcClient3::new(Client3Config::default()).unwrap().with_clock(Arc::new(|| 7));
        assert_eq!((client.inner.clock)(), 7);
        assert!(format!("{client:?}").contains("vpc.tencentcloudapi.com"));
        assert!((unix_now() - 1_700_000_000) > 0);
    }
}
