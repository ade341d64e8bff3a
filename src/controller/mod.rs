//! The VpcRoute controller: wiring of the kube-runtime `Controller`, its watch filter and its
//! context. Does Kubernetes I/O.

mod backoff;
mod claims;
mod context;
mod converge;
mod credentials;
mod decide;
mod desired;
pub mod errors;
mod events;
mod fresh;
mod index;
mod journal;
mod modes;
mod reconcile;
mod report;
mod rotation;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector;
use kube::runtime::utils::Predicate;
use kube::runtime::utils::WatchStreamExt;
use kube::runtime::{predicates, watcher};
use kube::{Api, Resource};

pub use context::Context;
pub use credentials::{DefaultCredentials, read_secret};
pub use reconcile::FINALIZER;
pub use report::FIELD_MANAGER;

use crate::cloud::{RouteApi, RouteCloud};
use crate::config::RunArgs;
use crate::crd::VpcRoute;
use crate::metrics::Metrics;
use crate::status::ready_condition;

/// Runs the controller until `shutdown` resolves; in-flight reconciles finish first.
pub async fn run<A: RouteApi>(
    kube: kube::Client,
    api: A,
    config: Arc<RunArgs>,
    default_credentials: credentials::DefaultCredentials,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let routes: Api<VpcRoute> = match &config.watch_namespace {
        Some(ns) => Api::namespaced(kube.clone(), ns),
        None => Api::all(kube.clone()),
    };
    let (reader, writer) = reflector::store();
    // Lists are consistent reads (not `any_semantic` from the watch cache): after a restart
    // the first list must hold every status written before the crash, pending writes included.
    let mut watch_config = watcher::Config::default();
    if let Some(selector) = &config.selector {
        watch_config = watch_config.labels(selector);
    }
    // The cache keeps no managedFields and no last-applied copy: the operator never reads them,
    // and at 10,000 objects they are most of the memory.
    let claims = Arc::new(index::ClaimIndex::new(config.region.clone()));
    let indexing = claims.clone();
    let stream = watcher(routes, watch_config)
        .backoff(watch_backoff())
        .modify(|route| {
            kube::ResourceExt::managed_fields_mut(route).clear();
            // kubectl's client-side apply keeps a copy of the whole manifest here; never read.
            kube::ResourceExt::annotations_mut(route).remove("kubectl.kubernetes.io/last-applied-configuration");
        })
        .inspect_ok(move |event| indexing.apply(event))
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers).combine(deletion).combine(paused),
            Default::default(),
        );
    let journal = Arc::new(load_journal(&kube, &config).await);
    let ctx = Arc::new(Context {
        kube: kube.clone(),
        cloud: RouteCloud::new(
            api,
            crate::cloud::Batching {
                max: config.max_batch,
                quiet: Duration::from_millis(config.batch_linger_ms),
                // No linger, no waiting at all (not even for announced creates).
                max_wait: match config.batch_linger_ms {
                    0 => Duration::ZERO,
                    _ => Duration::from_millis(config.batch_max_wait_ms),
                },
            },
        ),
        config: config.clone(),
        store: reader.clone(),
        backoff: backoff::Backoff::new(
            Duration::from_millis(config.retry_base_ms.max(1)),
            Duration::from_secs(config.retry_max_seconds.max(1)),
        ),
        credentials: credentials::CredentialSource::new(kube.clone(), default_credentials),
        events: events::EventSink::start(kube.clone(), config.event_rate, metrics.clone()),
        metrics: metrics.clone(),
        written: fresh::Written::default(),
        claims,
        journal,
    });
    tokio::spawn(watch_readiness(reader.clone(), metrics, ready));
    let (rotated, rotations) = futures::channel::mpsc::unbounded();
    let poll = Duration::from_secs(config.secret_poll_seconds.max(1));
    tokio::spawn(rotation::poll(ctx.clone(), poll, rotated));
    let journal = ctx.journal.clone();
    Controller::for_stream(stream, reader)
        // The controller backs off its trigger stream too (kube's default, up to 30 s): the same cap.
        .trigger_backoff(watch_backoff())
        .with_config(ControllerConfig::default().concurrency(config.concurrency))
        .reconcile_on(rotations)
        .graceful_shutdown_on(shutdown)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(error = %e, "reconcile ended with an error");
            }
        })
        .await;
    journal.flush_all().await;
}

/// The create journal this instance left, read before any reconcile: its entries are the
/// pending records of creates that may have been sent. Retried until it can be read.
async fn load_journal(kube: &kube::Client, config: &RunArgs) -> journal::Journal {
    let instance =
        journal::instance_of(&config.lease_name, config.watch_namespace.as_deref(), config.selector.as_deref());
    let mut retry = watch_backoff();
    loop {
        match journal::Journal::load(kube.clone(), &config.namespace, &instance).await {
            Ok(j) => return j,
            Err(e) => {
                let wait = Iterator::next(&mut retry).unwrap_or(Duration::from_secs(3));
                tracing::error!(namespace = %config.namespace, error = %e, retry_in = ?wait,
                    "cannot read the create journal (ConfigMaps labelled {}); not reconciling until it can be read",
                    journal::JOURNAL_LABEL);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Marks the operator ready once the cache is filled, then keeps the resources-by-reason gauge.
async fn watch_readiness(store: reflector::Store<VpcRoute>, metrics: Arc<Metrics>, ready: Arc<AtomicBool>) {
    // The store's readiness wakes only its most recent waiter (the controller also waits on it),
    // so poll again every second; once another waiter has seen it, it answers at once.
    loop {
        match tokio::time::timeout(Duration::from_secs(1), store.wait_until_ready()).await {
            Ok(Ok(())) => break,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the VpcRoute cache never filled");
                return;
            }
            Err(_) => continue,
        }
    }
    ready.store(true, Ordering::Relaxed);
    tracing::info!("VpcRoute cache filled; ready");
    loop {
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for obj in store.state() {
            let reason =
                ready_condition(obj.status.as_ref()).map(|c| c.reason.clone()).unwrap_or_else(|| "Pending".into());
            *counts.entry(reason).or_default() += 1;
        }
        metrics.set_resources(&counts.into_iter().collect::<Vec<_>>());
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// A predicate that changes when the pause annotation is set or removed.
fn paused(obj: &VpcRoute) -> Option<u64> {
    Some(u64::from(crate::crd::is_paused(obj)))
}

/// A predicate that changes when deletion starts.
fn deletion(obj: &VpcRoute) -> Option<u64> {
    obj.meta().deletion_timestamp.as_ref().map(|_| 1)
}

/// How the watch retries after an error: like kube-runtime's default (0.8 s doubling, with
/// jitter), but capped at 3 s (plus up to as much jitter: at most 6 s) instead of 30 s, so after
/// an API-server outage the operator lists again within seconds of it coming back (every route
/// still pending waits for that list); a list every few seconds during an outage is still
/// gentle. Resets after a minute without errors.
fn watch_backoff() -> kube::runtime::utils::ResetTimerBackoff<WatchBackoff> {
    kube::runtime::utils::ResetTimerBackoff::new(WatchBackoff::new(), Duration::from_secs(60))
}

/// Exponential backoff from 0.8 s to 3 s, each delay plus up to as much jitter, never giving up.
struct WatchBackoff {
    builder: backon::ExponentialBuilder,
    current: backon::ExponentialBackoff,
}

impl WatchBackoff {
    fn new() -> WatchBackoff {
        use backon::BackoffBuilder;
        let builder = backon::ExponentialBuilder::new()
            .with_min_delay(Duration::from_millis(800))
            .with_max_delay(Duration::from_secs(3))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        WatchBackoff { builder, current: builder.build() }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.current.next()
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        use backon::BackoffBuilder;
        self.current = self.builder.build();
    }
}

#[cfg(test)]
mod watch_backoff_tests {
    use super::*;
    use kube::runtime::utils::Backoff;

    #[test]
    fn the_watch_retries_forever_within_six_seconds_and_starts_small_again_after_a_reset() {
        let mut b = WatchBackoff::new();
        let delays: Vec<Duration> = b.by_ref().take(50).collect();
        assert_eq!(delays.len(), 50, "never gives up");
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(6)), "{delays:?}");
        assert!(delays[49] >= Duration::from_secs(3), "reaches the cap: {:?}", delays[49]);
        b.reset();
        assert!(b.next().is_some_and(|d| d < Duration::from_secs(2)), "small again after a reset");
    }
}

#[cfg(test)]
mod future_size_tests {
    use std::sync::Arc;

    use super::Context;
    use crate::crd::VpcRoute;

    /// The size of the future `f` returns, without calling it.
    fn future_size<A, F, Fut>(_: F) -> usize
    where
        F: Fn(Arc<VpcRoute>, Arc<Context<A>>) -> Fut,
    {
        std::mem::size_of::<Fut>()
    }

    /// A thousand reconciles are in flight while a burst converges (--concurrency 1024): each
    /// holds its future. Cloud calls, reads and the rare paths (cleanup, paused, replace, …) are
    /// boxed so they do not make every reconcile as large as the largest; unboxed it was 12 KiB.
    #[test]
    fn a_reconcile_in_flight_holds_less_than_8_kib() {
        type Api3 = crate::cloud::Metered<crate::cloud::RateLimited<crate::client3::VpcClient3>>;
        type Api2 = crate::cloud::Metered<crate::cloud::RateLimited<crate::client::VpcClient>>;
        let sizes =
            [future_size(super::reconcile::reconcile::<Api3>), future_size(super::reconcile::reconcile::<Api2>)];
        assert!(sizes.iter().all(|s| *s < 8 * 1024), "reconcile futures of {sizes:?} bytes (3.0, 2.0)");
    }
}
