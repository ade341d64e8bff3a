//! What every reconcile shares: clients, configuration, the resource cache, retry state,
//! credentials, the Event queue and metrics. Built once at start.

use std::sync::Arc;

use kube::runtime::reflector::Store;

use super::backoff::Backoff;
use super::credentials::CredentialSource;
use crate::cloud::RouteCloud;
use crate::config::RunArgs;
use crate::crd::VpcRoute;
use crate::metrics::Metrics;

/// Shared reconcile context, generic over the cloud API so tests can use a double.
pub struct Context<A> {
    /// Kubernetes client.
    pub kube: kube::Client,
    /// The one component for cloud reads and writes.
    pub cloud: RouteCloud<A>,
    /// Parsed configuration.
    pub config: Arc<RunArgs>,
    /// All VpcRoutes the controller sees (for claims between resources).
    pub store: Store<VpcRoute>,
    /// Per-object retry state.
    pub backoff: Backoff,
    /// Credentials lookup.
    pub credentials: CredentialSource,
    /// Where Events go (published off the reconcile path, rate-limited).
    pub events: super::events::EventSink,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The resourceVersion of each object after its last status write by this process.
    pub written: super::fresh::Written,
    /// Which resources claim or hold each route (for conflicts between resources).
    pub claims: Arc<super::index::ClaimIndex>,
    /// The record made before every batched create (one ConfigMap per route table).
    pub journal: Arc<super::journal::Journal>,
}
