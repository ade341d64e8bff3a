//! Events, published off the reconcile path: a reconcile hands its Event to a bounded queue and
//! goes on, and one task publishes the queue in order, at most `--event-rate` per second. So an
//! Event never delays a route, a slow or failing events API never stalls reconciles, and when
//! thousands of routes converge at once their Events do not crowd out the status writes
//! (client-go's recorder is asynchronous and rate-limited for the same reasons). A full queue
//! drops the Event, counted in `vpcroute_events_dropped_total`. The task does Kubernetes I/O.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Api;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use tokio::sync::mpsc;

use super::report::FIELD_MANAGER;
use crate::metrics::Metrics;

/// Events waiting to be published, at most.
pub const QUEUE: usize = 4096;

/// kube-runtime's recorder names an Event `<object name>.<16 hex digits>`; past this length the
/// name is no valid object name (253 characters) and every Event would be refused.
const LONGEST_RECORDER_NAME: usize = 253 - 17;

type Queued = (Event, ObjectReference);

/// Where reconciles put their Events.
pub struct EventSink {
    tx: mpsc::Sender<Queued>,
    metrics: Arc<Metrics>,
}

impl EventSink {
    /// A sink holding up to `capacity` Events, and the queue's other end.
    pub fn new(capacity: usize, metrics: Arc<Metrics>) -> (EventSink, mpsc::Receiver<Queued>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (EventSink { tx, metrics }, rx)
    }

    /// A sink whose Events a spawned task publishes, at most `rate` per second.
    pub fn start(kube: kube::Client, rate: f64, metrics: Arc<Metrics>) -> EventSink {
        let (sink, rx) = EventSink::new(QUEUE, metrics);
        tokio::spawn(publish_all(kube, rx, rate));
        sink
    }

    /// Queues an Event without waiting; a full queue drops it.
    pub fn send(&self, ev: Event, reference: ObjectReference) {
        if let Err(e) = self.tx.try_send((ev, reference)) {
            self.metrics.event_dropped();
            let (ev, reference) = e.into_inner();
            tracing::debug!(reason = %ev.reason, object = ?reference.name, "event queue full; event dropped");
        }
    }
}

/// Publishes queued Events one at a time, spaced at least 1/`rate` apart (the recorder
/// aggregates repeats); failures are logged.
async fn publish_all(kube: kube::Client, mut rx: mpsc::Receiver<Queued>, rate: f64) {
    let recorder = Recorder::new(kube.clone(), Reporter { controller: FIELD_MANAGER.into(), instance: None });
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.01)));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while let Some((ev, reference)) = rx.recv().await {
        pace.tick().await;
        let long = reference.name.as_ref().is_some_and(|n| n.len() > LONGEST_RECORDER_NAME);
        let result =
            if long { publish_directly(&kube, &ev, reference).await } else { recorder.publish(&ev, &reference).await };
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not publish event");
        }
    }
}

/// Creates an Event with a shortened generated name for objects whose names are too long for
/// the recorder (no aggregation of repeats: these are rare).
async fn publish_directly(kube: &kube::Client, ev: &Event, reference: ObjectReference) -> Result<(), kube::Error> {
    use k8s_openapi::api::events::v1::Event as KubeEvent;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
    let namespace = reference.namespace.clone().unwrap_or_else(|| "default".into());
    let prefix: String = reference.name.as_deref().unwrap_or("vpcroute").chars().take(200).collect();
    let event = KubeEvent {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", prefix.trim_end_matches(['.', '-']))),
            namespace: Some(namespace.clone()),
            ..Default::default()
        },
        action: Some(ev.action.clone()),
        reason: Some(ev.reason.clone()),
        note: ev.note.clone(),
        event_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
        regarding: Some(reference),
        reporting_controller: Some(FIELD_MANAGER.into()),
        reporting_instance: Some(FIELD_MANAGER.into()),
        type_: Some(match ev.type_ {
            EventType::Normal => "Normal".into(),
            EventType::Warning => "Warning".into(),
        }),
        ..Default::default()
    };
    let api: Api<KubeEvent> = Api::namespaced(kube.clone(), &namespace);
    api.create(&kube::api::PostParams::default(), &event).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(reason: &str) -> Event {
        Event {
            type_: EventType::Normal,
            reason: reason.into(),
            note: None,
            action: "Reconcile".into(),
            secondary: None,
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_event_and_counts_it_without_waiting() {
        let metrics = Arc::new(Metrics::new());
        let (sink, mut rx) = EventSink::new(2, metrics.clone());
        for reason in ["A", "B", "C"] {
            sink.send(event(reason), ObjectReference::default());
        }
        assert!(metrics.encode().contains("vpcroute_events_dropped_total 1"), "{}", metrics.encode());
        let queued: Vec<String> =
            [rx.recv().await, rx.recv().await].into_iter().flatten().map(|(e, _)| e.reason).collect();
        assert_eq!(queued, ["A", "B"], "the first ones stay, in order");
    }
}
