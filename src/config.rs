//! Operator configuration from flags and environment, parsed once at start. No I/O beyond
//! reading the environment through clap.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Which Tencent API generation the operator speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ApiVersion {
    /// API 3.0 (`vpc.tencentcloudapi.com`, TC3-HMAC-SHA256): what Tencent accounts use today.
    #[default]
    #[value(name = "3.0")]
    V3,
    /// API 2.0 (`vpc.api.qcloud.com/v2/index.php`): private cloud (TCE) and allow-listed accounts.
    #[value(name = "2.0")]
    V2,
}

impl ApiVersion {
    /// The public endpoint of this generation.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            ApiVersion::V3 => crate::client3::DEFAULT_ENDPOINT,
            ApiVersion::V2 => crate::client::DEFAULT_ENDPOINT,
        }
    }

    /// `3.0` or `2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V3 => "3.0",
            ApiVersion::V2 => "2.0",
        }
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Signature algorithm for API 2.0 requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SignatureChoice {
    /// HmacSHA256 (default).
    HmacSha256,
    /// HmacSHA1.
    HmacSha1,
}

/// `vpcroute-operator run` flags; each also reads an environment variable.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Tencent API generation: `3.0` (default; every Tencent account) or `2.0` (private cloud
    /// and allow-listed accounts).
    #[arg(long, env = "VPCROUTE_API", value_enum, default_value_t = ApiVersion::V3)]
    pub api: ApiVersion,
    /// Endpoint URL. Default: `https://vpc.tencentcloudapi.com/` on 3.0 (region endpoints such as
    /// `https://vpc.ap-guangzhou.tencentcloudapi.com/` work too),
    /// `https://vpc.api.qcloud.com/v2/index.php` on 2.0.
    #[arg(long, env = "VPCROUTE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Default region for VpcRoutes that do not name one, e.g. ap-guangzhou.
    #[arg(long, env = "VPCROUTE_REGION")]
    pub region: Option<String>,
    /// Extra CA bundle (PEM) to trust for the endpoint, for private endpoints and the emulator.
    #[arg(long, env = "VPCROUTE_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Secret in the operator's namespace holding default credentials (keys secretId,
    /// secretKey, optional token). Without it, TENCENTCLOUD_SECRET_ID/_SECRET_KEY/_SECURITY_TOKEN.
    #[arg(long, env = "VPCROUTE_CREDENTIALS_SECRET")]
    pub credentials_secret: Option<String>,
    /// STS endpoint for TKE pod identity (used when TKE_REGION, TKE_PROVIDER_ID,
    /// TKE_WEB_IDENTITY_TOKEN_FILE and TKE_ROLE_ARN are set and no keys are given).
    #[arg(long, env = "VPCROUTE_STS_ENDPOINT", default_value = crate::identity::oidc::DEFAULT_STS_ENDPOINT)]
    pub sts_endpoint: String,
    /// Instance metadata service, for --instance-role.
    #[arg(long, env = "VPCROUTE_METADATA_ENDPOINT", default_value = crate::identity::instance::DEFAULT_METADATA_ENDPOINT)]
    pub metadata_endpoint: String,
    /// Fall back to the CVM instance role (temporary keys from the metadata service) when no
    /// Secret, environment keys or pod identity give credentials. Off by default: off Tencent
    /// Cloud the metadata address leads nowhere.
    #[arg(long, env = "VPCROUTE_INSTANCE_ROLE", default_value_t = false)]
    pub instance_role: bool,
    /// The operator's own namespace (for --credentials-secret and the leader Lease).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// Watch VpcRoutes in this namespace only (default: all namespaces).
    #[arg(long, env = "VPCROUTE_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// Only reconcile VpcRoutes matching this label selector (e.g. to shard operators).
    #[arg(long, env = "VPCROUTE_LABEL_SELECTOR")]
    pub selector: Option<String>,
    /// How many VpcRoutes are reconciled at once. Reconciles mostly wait on the cloud, and a
    /// create waiting for its batch holds its place, so this is high: with 20 tables, 1024 lets
    /// every batch fill to 50 routes (256 would cap them near a dozen).
    #[arg(long, env = "VPCROUTE_CONCURRENCY", default_value_t = 1024)]
    pub concurrency: u16,
    /// Most requests to the Kubernetes API server awaiting an answer at once (status writes,
    /// reads, Events, lists); the rest queue in the operator. Each one in flight holds an HTTP/1.1
    /// connection, which kube's client keeps open afterwards, so this bounds the connections too.
    #[arg(long, env = "VPCROUTE_KUBE_IN_FLIGHT", default_value_t = 32)]
    pub kube_in_flight: usize,
    /// Most routes sent in one CreateRoute call: concurrent creates for one route table are
    /// batched (1 turns batching off).
    #[arg(long, env = "VPCROUTE_MAX_BATCH", default_value_t = 50)]
    pub max_batch: usize,
    /// A table's next batch waits for the creates other reconciles have announced for it, and,
    /// while creates keep arriving less than this many milliseconds apart, for more; never past
    /// --batch-max-wait-ms, never past a full batch. A lone create on an idle table never waits.
    /// 300 keeps a burst applied by a busy API server (a route every ~80 ms per table at 1,000
    /// routes over 20 tables) in full batches; 100 split it into 157 calls. 0 turns waiting off:
    /// a batch holds what arrived while the previous call was in flight.
    #[arg(long, env = "VPCROUTE_BATCH_LINGER_MS", default_value_t = 300)]
    pub batch_linger_ms: u64,
    /// The most a batch waits for more creates, however steadily they arrive, milliseconds.
    #[arg(long, env = "VPCROUTE_BATCH_MAX_WAIT_MS", default_value_t = 4000)]
    pub batch_max_wait_ms: u64,
    /// Most Events published per second. Events are queued and published off the reconcile
    /// path, so a burst of thousands of routes is not slowed by its own Events.
    #[arg(long, env = "VPCROUTE_EVENT_RATE", default_value_t = 50.0)]
    pub event_rate: f64,
    /// Seconds between drift checks of a route table (jittered by up to 10%).
    #[arg(long, env = "VPCROUTE_RESYNC_SECONDS", default_value_t = 300)]
    pub resync_seconds: u64,
    /// Seconds between checks of the credentials Secrets that VpcRoutes name: when one changes,
    /// every VpcRoute using it is reconciled at once (a GET per named Secret; no list or watch).
    #[arg(long, env = "VPCROUTE_SECRET_POLL_SECONDS", default_value_t = 30)]
    pub secret_poll_seconds: u64,
    /// Seconds before a permanently failed route is retried (jittered by up to 10%).
    #[arg(long, env = "VPCROUTE_PERMANENT_RETRY_SECONDS", default_value_t = 900)]
    pub permanent_retry_seconds: u64,
    /// First retry delay after a retryable failure, milliseconds (doubles per failure).
    #[arg(long, env = "VPCROUTE_RETRY_BASE_MS", default_value_t = 2000)]
    pub retry_base_ms: u64,
    /// Longest retry delay, seconds.
    #[arg(long, env = "VPCROUTE_RETRY_MAX_SECONDS", default_value_t = 300)]
    pub retry_max_seconds: u64,
    /// How long a cloud write whose answer never came (a timeout, a lost answer, a crash
    /// mid-call) may still be applied by the cloud, seconds. Until then its absence from the
    /// table proves nothing: a create is retried (the cloud refuses a duplicate) and still
    /// counted as this resource's, and a deleted resource is not released. Tencent documents no
    /// bound; this is an assumed one, above any request timeout.
    #[arg(long, env = "VPCROUTE_WRITE_LANDING_SECONDS", default_value_t = 60)]
    pub write_landing_seconds: u64,
    /// Cloud API connect timeout, seconds.
    #[arg(long, env = "VPCROUTE_CONNECT_TIMEOUT_SECONDS", default_value_t = 5)]
    pub connect_timeout_seconds: u64,
    /// Cloud API request timeout, seconds.
    #[arg(long, env = "VPCROUTE_REQUEST_TIMEOUT_SECONDS", default_value_t = 20)]
    pub request_timeout_seconds: u64,
    /// Calls per second of one cloud action, NAME=RATE (repeatable, or comma-separated), e.g.
    /// `CreateRoutes=50`, per account and region. Default: Tencent's published limits (3.0:
    /// CreateRoutes 100, DeleteRoutes 50, DescribeRouteTables 100, others 20; 2.0: 20 each).
    /// The operator waits for its own token bucket, slows down on RequestLimitExceeded and
    /// recovers.
    #[arg(long = "rate-limit", env = "VPCROUTE_RATE_LIMITS", value_delimiter = ',')]
    pub rate_limits: Vec<crate::cloud::RateLimit>,
    /// Scale of the published limits for actions without --rate-limit (e.g. 0.45 when two
    /// operators share an account and region). The default keeps 10% below the limit: the cloud
    /// counts calls as they arrive, and network jitter bunches calls sent evenly spaced.
    #[arg(long, env = "VPCROUTE_RATE_LIMIT_SCALE", default_value_t = 0.9)]
    pub rate_limit_scale: f64,
    /// Signature algorithm of API 2.0 requests (3.0 always signs with TC3-HMAC-SHA256).
    #[arg(long, env = "VPCROUTE_SIGNATURE_METHOD", value_enum, default_value_t = SignatureChoice::HmacSha256)]
    pub signature_method: SignatureChoice,
    /// Address for /metrics, /healthz and /readyz.
    #[arg(long, env = "VPCROUTE_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,
    /// Log format.
    #[arg(long, env = "VPCROUTE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Run leader election with a coordination.k8s.io Lease; only the leader reconciles.
    #[arg(long, env = "VPCROUTE_LEADER_ELECT", default_value_t = false)]
    pub leader_elect: bool,
    /// Name of the leader Lease.
    #[arg(long, env = "VPCROUTE_LEASE_NAME", default_value = "vpcroute-operator")]
    pub lease_name: String,
    /// Lease duration, seconds.
    #[arg(long, env = "VPCROUTE_LEASE_SECONDS", default_value_t = 15)]
    pub lease_seconds: u64,
}

impl RunArgs {
    /// The endpoint: as given, or the default of the API generation.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| self.api.default_endpoint().to_string())
    }

    /// Resync period.
    pub fn resync(&self) -> Duration {
        Duration::from_secs(self.resync_seconds.max(1))
    }

    /// How long an unanswered write may still land.
    pub fn write_landing(&self) -> Duration {
        Duration::from_secs(self.write_landing_seconds)
    }

    /// Retry period for permanent failures.
    pub fn permanent_retry(&self) -> Duration {
        Duration::from_secs(self.permanent_retry_seconds.max(1))
    }
}
