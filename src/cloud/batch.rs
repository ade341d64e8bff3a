//! Coalesces concurrent creates for one route table into batches (2.0 `routeSet.n`, 3.0 `Routes`).
//! The first caller for an idle table sends at once; callers arriving while that call is in
//! flight form the next batch, which waits a little longer while routes keep arriving (a quiet
//! gap ends it, or a full batch, or a cap on the wait), so a burst of thousands of creates goes
//! out in full batches. A batch the API refuses for one entry (batches are atomic) is retried
//! entry by entry so every caller gets its own answer. Does I/O through the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};

use vpc_wire::domain::{Credentials, Route};

use super::{CloudError, ErrorClass, RouteApi, RouteAttrs, RouteIds, TableRef};
use crate::reasons::Reason;

type Answer = oneshot::Sender<Result<RouteIds, CloudError>>;
type Queues = HashMap<(String, TableRef), Arc<Mutex<Queue>>>;

#[derive(Default)]
struct Queue {
    waiting: Vec<((Route, RouteAttrs), Answer)>,
    busy: bool,
    /// When the latest route joined.
    last_arrival: Option<Instant>,
    /// Whether the latest route joined within a quiet gap of the one before: routes are
    /// streaming in, so the next batch waits for more.
    streaming: bool,
    /// Creates on their way here (announced with [`Batcher::intend`]): the next batch waits
    /// for them.
    expected: usize,
    /// Makes the pending records of the routes queued here durable; run before each batch is
    /// sent (the latest one given: they all record into the same table's journal).
    record: Option<Record>,
}

/// Makes the pending records of a table's queued creates durable (the operator's create
/// journal): a batch is sent only once it succeeded.
pub type Record = Arc<dyn Fn() -> BoxFuture<'static, Result<(), CloudError>> + Send + Sync>;

/// A create on its way to its table's batch: the next batch for the table waits for it. Spent when the route joins the batch; dropping it unspent
/// (the reconcile stopped first) withdraws it.
pub struct Intent {
    queue: Arc<Mutex<Queue>>,
    live: bool,
    record: Option<Record>,
}

impl Intent {
    /// The create's pending record is made durable by `record`, before its batch is sent.
    pub fn recorded_by(mut self, record: Record) -> Intent {
        self.record = Some(record);
        self
    }

    fn spend(mut self, q: &mut Queue) {
        self.live = false;
        q.expected = q.expected.saturating_sub(1);
        if let Some(record) = self.record.take() {
            q.record = Some(record);
        }
    }
}

impl Drop for Intent {
    fn drop(&mut self) {
        if self.live {
            let mut q = lock(&self.queue);
            q.expected = q.expected.saturating_sub(1);
        }
    }
}

/// How batches are formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batching {
    /// Most routes in one call (1 turns batching off).
    pub max: usize,
    /// While routes keep arriving less than this apart, a batch waits for more (zero: never).
    pub quiet: Duration,
    /// The most a batch waits for more routes, however steadily they arrive.
    pub max_wait: Duration,
}

impl Batching {
    /// Batches of at most `max` routes, sent as soon as the table is free (no waiting).
    pub fn eager(max: usize) -> Batching {
        Batching { max, quiet: Duration::ZERO, max_wait: Duration::ZERO }
    }
}

/// What the batcher knows of a table's route quota: room left (`None` when the API gives no
/// quota) and a hook told of every route it created, so the room follows its own writes.
pub trait Room: Send + Sync {
    /// Routes that still fit, as far as is known.
    fn left(&self) -> Option<usize>;
    /// `n` routes were just created.
    fn created(&self, n: usize);
}

/// No quota known: never trims a batch.
#[cfg(test)]
pub struct Unknown;

#[cfg(test)]
impl Room for Unknown {
    fn left(&self) -> Option<usize> {
        None
    }
    fn created(&self, _: usize) {}
}

/// The answer for a route that cannot fit: the table is full as far as the last read and the
/// operator's own writes since say. Retryable, since the count may be behind the cloud.
fn full(left: usize) -> CloudError {
    CloudError {
        action: "CreateRoutes",
        class: ErrorClass::Retryable,
        reason: Reason::RouteLimitExceeded,
        code: None,
        message: format!(
            "LimitExceeded expected, so not sent: the route table's quota (DescribeVpcLimits \
             route-table-max-policies) leaves room for {left} more route(s)"
        ),
        request_id: None,
    }
}

/// Per-table create queues.
pub struct Batcher {
    how: Batching,
    queues: Mutex<Queues>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Answers every caller still queued if the caller driving the queue is cancelled mid-way.
struct Abandon {
    queue: Arc<Mutex<Queue>>,
    armed: bool,
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut q = lock(&self.queue);
        q.busy = false;
        for (_, answer) in q.waiting.drain(..) {
            let _ = answer.send(Err(abandoned()));
        }
    }
}

fn abandoned() -> CloudError {
    CloudError {
        action: "CreateRoutes",
        class: ErrorClass::Transport,
        reason: Reason::CloudUnavailable,
        code: None,
        message: "batch abandoned; outcome unknown".into(),
        request_id: None,
    }
}

impl Batcher {
    /// Batches formed as `how` says.
    pub fn new(how: Batching) -> Batcher {
        Batcher { how: Batching { max: how.max.max(1), ..how }, queues: Mutex::new(HashMap::new()) }
    }

    /// Announces a create for the table that will reach [`Batcher::create`] shortly.
    pub fn intend(&self, creds: &Credentials, table: &TableRef) -> Intent {
        let queue = self.queue(creds, table);
        lock(&queue).expected += 1;
        Intent { queue, live: true, record: None }
    }

    fn queue(&self, creds: &Credentials, table: &TableRef) -> Arc<Mutex<Queue>> {
        lock(&self.queues).entry((creds.secret_id.clone(), table.clone())).or_default().clone()
    }

    /// Waits, while the batch is not full, for creates announced and on their way, and while
    /// routes are streaming in until a quiet gap; never past `max_wait`. A lone route on an idle
    /// table never waits.
    async fn gather(&self, queue: &Mutex<Queue>) {
        /// How often to look again while announced creates are on their way.
        const POLL: Duration = Duration::from_millis(5);
        let started = Instant::now();
        loop {
            let wait = {
                let q = lock(queue);
                let since = q.last_arrival.map_or(Duration::MAX, |t| t.elapsed());
                let left = self.how.max_wait.saturating_sub(started.elapsed());
                let room = q.waiting.len() < self.how.max;
                if room && q.expected > 0 && self.how.max_wait > Duration::ZERO {
                    Some(POLL.min(left))
                } else if room && q.streaming && since < self.how.quiet {
                    Some((self.how.quiet - since).min(left))
                } else {
                    None
                }
            };
            match wait {
                Some(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
                _ => return,
            }
        }
    }

    /// Creates one route, possibly together with other callers' routes for the same table.
    pub async fn create<A: RouteApi>(
        &self,
        api: &A,
        creds: &Credentials,
        table: &TableRef,
        route: &(Route, RouteAttrs),
        room: &dyn Room,
        intent: Option<Intent>,
    ) -> Result<RouteIds, CloudError> {
        let queue = self.queue(creds, table);
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut q = lock(&queue);
            q.waiting.push((route.clone(), tx));
            if let Some(intent) = intent {
                intent.spend(&mut q);
            }
            let now = Instant::now();
            q.streaming = q.last_arrival.is_some_and(|t| now.duration_since(t) < self.how.quiet);
            q.last_arrival = Some(now);
            !std::mem::replace(&mut q.busy, true)
        };
        if lead {
            let mut guard = Abandon { queue: queue.clone(), armed: true };
            loop {
                self.gather(&queue).await;
                let left = room.left();
                let (batch, refused, record): (Vec<_>, Vec<_>, _) = {
                    let mut q = lock(&queue);
                    if q.waiting.is_empty() {
                        q.busy = false;
                        break;
                    }
                    let n = q.waiting.len().min(self.how.max);
                    let fit = left.map_or(n, |left| n.min(left));
                    let mut taken: Vec<_> = q.waiting.drain(..n).collect();
                    let over = taken.split_off(fit);
                    (taken, over, q.record.clone())
                };
                // A batch that must fail with LimitExceeded is not sent: what cannot fit is told so.
                for (_, answer) in refused {
                    let _ = answer.send(Err(full(left.unwrap_or(0))));
                }
                if batch.is_empty() {
                    continue;
                }
                // Nothing is sent before every route's pending record is durable.
                let recorded = match record {
                    Some(record) => record().await,
                    None => Ok(()),
                };
                match recorded {
                    Ok(()) => Box::pin(send(api, creds, table, batch, room)).await,
                    Err(e) => batch.into_iter().for_each(|(_, answer)| drop(answer.send(Err(e.clone())))),
                }
            }
            guard.armed = false;
        }
        rx.await.unwrap_or_else(|_| Err(abandoned()))
    }
}

async fn send<A: RouteApi>(
    api: &A,
    creds: &Credentials,
    table: &TableRef,
    batch: Vec<((Route, RouteAttrs), Answer)>,
    room: &dyn Room,
) {
    let routes: Vec<(Route, RouteAttrs)> = batch.iter().map(|(r, _)| r.clone()).collect();
    match api.create_routes(creds, table, &routes).await {
        Err(e) if batch.len() > 1 && matches!(e.class, ErrorClass::Permanent | ErrorClass::NotFound) => {
            for (route, answer) in batch {
                let one = api.create_routes(creds, table, std::slice::from_ref(&route)).await;
                if one.is_ok() {
                    room.created(1);
                }
                let _ = answer.send(one.map(|mut ids| ids.pop().unwrap_or_default()));
            }
        }
        Ok(ids) => {
            room.created(batch.len());
            for ((_, answer), id) in
                batch.into_iter().zip(ids.into_iter().chain(std::iter::repeat_with(RouteIds::default)))
            {
                let _ = answer.send(Ok(id));
            }
        }
        Err(e) => {
            for (_, answer) in batch {
                let _ = answer.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use super::*;
    use crate::cloud::Operation;
    use crate::cloud::memory::MemoryApi;
    use vpc_wire::domain::NextType;

    use crate::cloud::memory::{sample_credentials as creds, sample_table as table};

    fn route(i: usize) -> Route {
        let (b, c) = (9 + i / 256, i % 256);
        Route::new(&format!("10.{b}.{c}.0/24"), NextType::VpnGateway, "vpngw-1").unwrap_or_else(|| panic!("cidr"))
    }

    async fn create_many(
        api: Arc<MemoryApi>,
        batcher: Arc<Batcher>,
        routes: Vec<Route>,
    ) -> Vec<Result<RouteIds, CloudError>> {
        let calls = routes.into_iter().map(|r| {
            let (api, batcher) = (api.clone(), batcher.clone());
            tokio::spawn(async move {
                batcher.create(api.as_ref(), &creds(), &table(), &(r, RouteAttrs::default()), &Unknown, None).await
            })
        });
        futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect()
    }

    #[tokio::test]
    async fn concurrent_creates_for_one_table_share_calls() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let results =
            create_many(api.clone(), Arc::new(Batcher::new(Batching::eager(50))), (0..40).map(route).collect()).await;
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(api.routes(&table()).len(), 40);
        let calls = api.calls(Operation::Create);
        assert!(calls < 10, "40 concurrent creates took {calls} calls");
    }

    #[tokio::test]
    async fn a_batch_refused_for_one_entry_answers_each_route_on_its_own() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.put(&table(), route(3));
        api.set_latency(Duration::from_millis(20));
        let results =
            create_many(api.clone(), Arc::new(Batcher::new(Batching::eager(50))), (0..8).map(route).collect()).await;
        let refused: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, _)| i).collect();
        assert_eq!(refused, vec![3], "only the existing destination is refused");
        assert_eq!(api.routes(&table()).len(), 8);
    }

    #[tokio::test]
    async fn a_transport_failure_reaches_every_caller_in_the_batch() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        api.lose_create_responses(100);
        let results =
            create_many(api.clone(), Arc::new(Batcher::new(Batching::eager(50))), (0..6).map(route).collect()).await;
        assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.class == ErrorClass::Transport)));
        assert_eq!(api.routes(&table()).len(), 6, "the lost responses still applied the routes");
    }

    fn lingering(max: usize) -> Batching {
        Batching { max, quiet: Duration::from_millis(100), max_wait: Duration::from_secs(2) }
    }

    /// Routes arriving one every 10 ms for a second, on a 20 ms call.
    async fn trickle(how: Batching) -> (usize, Vec<Result<RouteIds, CloudError>>) {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let batcher = Arc::new(Batcher::new(how));
        let mut calls = Vec::new();
        for i in 0..100 {
            let (api, batcher) = (api.clone(), batcher.clone());
            calls.push(tokio::spawn(async move {
                batcher
                    .create(api.as_ref(), &creds(), &table(), &(route(i), RouteAttrs::default()), &Unknown, None)
                    .await
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let results = futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
        (api.calls(Operation::Create) as usize, results)
    }

    #[tokio::test(start_paused = true)]
    async fn routes_streaming_in_wait_for_full_batches_where_an_eager_batcher_sends_dozens() {
        let (eager, results) = trickle(Batching::eager(50)).await;
        assert!(results.iter().all(Result::is_ok));
        let (gathered, results) = trickle(lingering(50)).await;
        assert!(results.iter().all(Result::is_ok));
        // The first route goes alone; the rest fill batches of 50 and one remainder.
        assert!(gathered <= 4, "streaming creates took {gathered} calls");
        assert!(eager >= 30, "without waiting, each call holds what arrived during the last: {eager}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_route_on_an_idle_table_is_sent_without_waiting() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        let batcher = Batcher::new(lingering(50));
        let started = Instant::now();
        let one = (route(1), RouteAttrs::default());
        assert!(batcher.create(api.as_ref(), &creds(), &table(), &one, &Unknown, None).await.is_ok());
        assert_eq!(started.elapsed(), Duration::ZERO, "no linger on an idle table");
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_stream_is_sent_after_the_maximum_wait_even_if_not_full() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let batcher = Arc::new(Batcher::new(lingering(1000)));
        let started = Instant::now();
        let mut first_answer = None;
        let mut calls = Vec::new();
        for i in 0..400 {
            let (api, batcher) = (api.clone(), batcher.clone());
            calls.push(tokio::spawn(async move {
                let one = (route(i), RouteAttrs::default());
                batcher.create(api.as_ref(), &creds(), &table(), &one, &Unknown, None).await.map(|_| Instant::now())
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for call in calls.into_iter().skip(1) {
            let at = call.await.unwrap().unwrap();
            first_answer = Some(first_answer.map_or(at, |f: Instant| f.min(at)));
        }
        let waited = first_answer.unwrap().duration_since(started);
        assert!(waited <= lingering(1).max_wait + Duration::from_millis(100), "the second batch waited {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_waits_for_announced_creates_and_goes_once_the_last_arrives() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let batcher = Arc::new(Batcher::new(lingering(50)));
        let intents: Vec<Intent> = (0..10).map(|_| batcher.intend(&creds(), &table())).collect();
        let started = Instant::now();
        let calls = intents.into_iter().enumerate().map(|(i, intent)| {
            let (api, batcher) = (api.clone(), batcher.clone());
            tokio::spawn(async move {
                // Each pending write takes a different time (up to 450 ms, past the quiet gap).
                tokio::time::sleep(Duration::from_millis(50 * i as u64)).await;
                let one = (route(i), RouteAttrs::default());
                batcher.create(api.as_ref(), &creds(), &table(), &one, &Unknown, Some(intent)).await
            })
        });
        let results: Vec<_> = futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(api.calls(Operation::Create), 1, "the first route waited for the nine announced after it");
        // The last arrives at 450 ms; then one quiet gap (100 ms) and the call (20 ms), not max_wait.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(450) && took <= Duration::from_millis(600), "sent at {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_withdrawn_announcement_does_not_hold_the_batch() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        let batcher = Batcher::new(lingering(50));
        let withdrawn = batcher.intend(&creds(), &table());
        let mine = batcher.intend(&creds(), &table());
        let started = Instant::now();
        let dropper = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(withdrawn);
        };
        let (one, creds, table) = ((route(1), RouteAttrs::default()), creds(), table());
        let (created, ()) =
            futures::join!(batcher.create(api.as_ref(), &creds, &table, &one, &Unknown, Some(mine)), dropper);
        assert!(created.is_ok());
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(30) && waited < Duration::from_millis(100), "{waited:?}");
    }

    /// A record that counts its runs and fails while `fail` is set.
    fn counting_record(runs: Arc<std::sync::atomic::AtomicUsize>, fail: Arc<AtomicBool>) -> Record {
        Arc::new(move || {
            let (runs, fail) = (runs.clone(), fail.clone());
            Box::pin(async move {
                runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if fail.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(CloudError {
                        action: "CreateRoutes",
                        class: ErrorClass::Retryable,
                        reason: Reason::CloudUnavailable,
                        code: None,
                        message: "journal down".into(),
                        request_id: None,
                    });
                }
                Ok(())
            })
        })
    }

    async fn recorded_creates(
        api: &Arc<MemoryApi>,
        batcher: &Arc<Batcher>,
        record: &Record,
        routes: std::ops::Range<usize>,
    ) -> Vec<Result<RouteIds, CloudError>> {
        let intents: Vec<_> =
            routes.clone().map(|_| batcher.intend(&creds(), &table()).recorded_by(record.clone())).collect();
        let calls = routes.zip(intents).map(|(i, intent)| {
            let (api, batcher) = (api.clone(), batcher.clone());
            tokio::spawn(async move {
                let one = (route(i), RouteAttrs::default());
                batcher.create(api.as_ref(), &creds(), &table(), &one, &Unknown, Some(intent)).await
            })
        });
        futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_is_sent_only_after_its_record_and_not_at_all_when_the_record_fails() {
        use std::sync::atomic::Ordering::SeqCst;
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let batcher = Arc::new(Batcher::new(lingering(50)));
        let (runs, fail) = (Arc::new(std::sync::atomic::AtomicUsize::new(0)), Arc::new(AtomicBool::new(true)));
        let record = counting_record(runs.clone(), fail.clone());
        let refused = recorded_creates(&api, &batcher, &record, 0..20).await;
        assert!(refused.iter().all(|r| r.as_ref().is_err_and(|e| !e.is_transport())), "{refused:?}");
        assert_eq!((api.calls(Operation::Create), api.routes(&table()).len()), (0, 0), "nothing sent");
        fail.store(false, SeqCst);
        let before = runs.load(SeqCst);
        let created = recorded_creates(&api, &batcher, &record, 0..20).await;
        assert!(created.iter().all(Result::is_ok));
        let batches = api.calls(Operation::Create);
        assert_eq!((runs.load(SeqCst) - before) as u64, batches, "one record per batch sent");
        assert_eq!(api.routes(&table()).len(), 20);
    }

    struct Fixed(std::sync::atomic::AtomicUsize);

    impl Room for Fixed {
        fn left(&self) -> Option<usize> {
            Some(self.0.load(std::sync::atomic::Ordering::SeqCst))
        }
        fn created(&self, n: usize) {
            self.0.fetch_sub(n, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn routes_that_cannot_fit_the_quota_are_refused_without_a_call_and_the_rest_go_out() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let batcher = Arc::new(Batcher::new(Batching::eager(50)));
        let room = Arc::new(Fixed(std::sync::atomic::AtomicUsize::new(3)));
        let calls = (0..8).map(|i| {
            let (api, batcher, room) = (api.clone(), batcher.clone(), room.clone());
            tokio::spawn(async move {
                batcher
                    .create(api.as_ref(), &creds(), &table(), &(route(i), RouteAttrs::default()), room.as_ref(), None)
                    .await
            })
        });
        let results: Vec<_> = futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect();
        let created = results.iter().filter(|r| r.is_ok()).count();
        let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!((created, refused.len()), (3, 5));
        assert!(refused.iter().all(|e| e.reason == Reason::RouteLimitExceeded && e.code.is_none()));
        assert_eq!(api.routes(&table()).len(), 3);
        assert!(api.calls(Operation::Create) <= 3, "no call for what cannot fit");
    }
}
