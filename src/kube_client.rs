//! The operator's Kubernetes client: kube's inferred configuration (in-cluster or KUBECONFIG),
//! with its transient-failure retries (429, 503, 504; honouring Retry-After) capped at 2 s per
//! wait instead of kube's default of up to 1000 s: after an API-server restart, its first
//! seconds of 503s must not leave a list sleeping for tens of seconds once it is ready again.

use std::time::Duration;

use kube::client::ClientBuilder;
use kube::client::retry::RetryPolicy;
use tower::ServiceBuilder;
use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;

/// Longest wait between two tries of one request.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Requests queued for the client's connection task at most (the retry layer needs a service it
/// can clone, which a buffer in front of kube's boxed stack gives it); above the reconcile
/// concurrency, so it never holds a request back.
const BUFFER: usize = 4096;

/// Connects to the cluster.
pub async fn client() -> Result<kube::Client, String> {
    let mut config = kube::Config::infer().await.map_err(|e| format!("cannot reach kubernetes: {e}"))?;
    config.default_retry = false;
    let policy = RetryPolicy::new(Duration::from_millis(5), MAX_RETRY_DELAY, 10, true)
        .map_err(|e| format!("kubernetes retry policy: {e}"))?;
    let builder = ClientBuilder::try_from(config).map_err(|e| format!("cannot reach kubernetes: {e}"))?;
    let layers = ServiceBuilder::new().layer(RetryLayer::new(policy)).layer(BufferLayer::new(BUFFER));
    Ok(builder.with_layer(&layers).build())
}
