//! Prometheus metrics (`vpcroute_` prefix) and their text encoding. In-memory; no I/O.

use std::time::Instant;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// All operator metrics.
pub struct Metrics {
    registry: Registry,
    reconciles: Family<Labels, Counter>,
    reconcile_duration: Histogram,
    cloud_calls: Family<Labels, Counter>,
    cloud_duration: Family<Labels, Histogram>,
    resources: Family<Labels, Gauge>,
    drift: Counter,
    status_writes: Counter,
    events_dropped: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("vpcroute");
        let m = Metrics {
            registry: Registry::default(),
            reconciles: Family::default(),
            reconcile_duration: latency_histogram(),
            cloud_calls: Family::default(),
            cloud_duration: Family::new_with_constructor(latency_histogram),
            resources: Family::default(),
            drift: Counter::default(),
            status_writes: Counter::default(),
            events_dropped: Counter::default(),
        };
        registry.register("reconciles", "Reconciles by result and error reason", m.reconciles.clone());
        registry.register("reconcile_duration_seconds", "Reconcile duration", m.reconcile_duration.clone());
        registry.register("cloud_calls", "Cloud API calls by action and result code", m.cloud_calls.clone());
        registry.register("cloud_call_duration_seconds", "Cloud API call latency by action", m.cloud_duration.clone());
        registry.register("resources", "VpcRoutes by Ready condition reason", m.resources.clone());
        registry.register("drift_corrections", "Routes repaired after a change outside the operator", m.drift.clone());
        registry.register("status_writes", "Status writes to the Kubernetes API", m.status_writes.clone());
        registry.register(
            "events_dropped",
            "Events not published because the event queue was full",
            m.events_dropped.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Marks the start of a reconcile; the guard records its duration when dropped.
    pub fn reconcile_started(&self) -> DurationGuard<'_> {
        DurationGuard { histogram: &self.reconcile_duration, start: Instant::now() }
    }

    /// Counts a finished reconcile; `error` is the error's bounded reason.
    pub fn reconcile_finished(&self, error: Option<&str>) {
        let labels = match error {
            None => vec![("result".into(), "ok".into()), ("reason".into(), String::new())],
            Some(r) => vec![("result".into(), "error".into()), ("reason".into(), r.into())],
        };
        self.reconciles.get_or_create(&labels).inc();
    }

    /// Counts a cloud call and its latency; `code` is Tencent's code, or `transport`.
    pub fn cloud_call(&self, action: &str, code: &str, seconds: f64) {
        let labels = vec![("action".into(), action.into()), ("code".into(), code.into())];
        self.cloud_calls.get_or_create(&labels).inc();
        self.cloud_duration.get_or_create(&vec![("action".into(), action.into())]).observe(seconds);
    }

    /// Replaces the resources-by-reason gauge.
    pub fn set_resources(&self, counts: &[(String, i64)]) {
        self.resources.clear();
        for (reason, n) in counts {
            self.resources.get_or_create(&vec![("reason".into(), reason.clone())]).set(*n);
        }
    }

    /// Counts a drift correction.
    pub fn drift_corrected(&self) {
        self.drift.inc();
    }

    /// Counts a status write.
    pub fn status_written(&self) {
        self.status_writes.inc();
    }

    /// Counts an Event dropped because the queue was full.
    pub fn event_dropped(&self) {
        self.events_dropped.inc();
    }

    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Records a reconcile's duration when dropped.
pub struct DurationGuard<'a> {
    histogram: &'a Histogram,
    start: Instant,
}

impl Drop for DurationGuard<'_> {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_uses_the_prefix_and_counts_calls() {
        let m = Metrics::new();
        m.cloud_call("CreateRoute", "0", 0.01);
        m.reconcile_finished(Some("Throttled"));
        let text = m.encode();
        assert!(text.contains("vpcroute_cloud_calls_total{action=\"CreateRoute\",code=\"0\"} 1"), "{text}");
        assert!(text.contains("vpcroute_reconciles_total{result=\"error\",reason=\"Throttled\"} 1"), "{text}");
    }
}
