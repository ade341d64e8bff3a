//! Coalesces concurrent creates for one route table into batches (2.0 `routeSet.n`, 3.0 `Routes`).
//! The first caller for an idle table sends at once; callers arriving while that call is in
//! flight form the next batch. A batch the API refuses for one entry (batches are atomic) is
//! retried entry by entry so every caller gets its own answer. Does I/O through the API.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use vpc_wire::domain::{Credentials, Route};

use super::{CloudError, ErrorClass, RouteApi, RouteAttrs, RouteIds, TableRef};
use crate::reasons::Reason;

type Answer = oneshot::Sender<Result<RouteIds, CloudError>>;
type Queues = HashMap<(String, TableRef), Arc<Mutex<Queue>>>;

#[derive(Default)]
struct Queue {
    waiting: Vec<((Route, RouteAttrs), Answer)>,
    busy: bool,
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
    max: usize,
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
    /// Batches of at most `max` routes.
    pub fn new(max: usize) -> Batcher {
        Batcher { max: max.max(1), queues: Mutex::new(HashMap::new()) }
    }

    /// Creates one route, possibly together with other callers' routes for the same table.
    pub async fn create<A: RouteApi>(
        &self,
        api: &A,
        creds: &Credentials,
        table: &TableRef,
        route: &(Route, RouteAttrs),
        room: &dyn Room,
    ) -> Result<RouteIds, CloudError> {
        let queue = lock(&self.queues).entry((creds.secret_id.clone(), table.clone())).or_default().clone();
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut q = lock(&queue);
            q.waiting.push((route.clone(), tx));
            !std::mem::replace(&mut q.busy, true)
        };
        if lead {
            let mut guard = Abandon { queue: queue.clone(), armed: true };
            loop {
                let left = room.left();
                let (batch, refused): (Vec<_>, Vec<_>) = {
                    let mut q = lock(&queue);
                    if q.waiting.is_empty() {
                        q.busy = false;
                        break;
                    }
                    let n = q.waiting.len().min(self.max);
                    let fit = left.map_or(n, |left| n.min(left));
                    let mut taken: Vec<_> = q.waiting.drain(..n).collect();
                    let over = taken.split_off(fit);
                    (taken, over)
                };
                // A batch that must fail with LimitExceeded is not sent: what cannot fit is told so.
                for (_, answer) in refused {
                    let _ = answer.send(Err(full(left.unwrap_or(0))));
                }
                if !batch.is_empty() {
                    send(api, creds, table, batch, room).await;
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
    use std::time::Duration;

    use super::*;
    use crate::cloud::Operation;
    use crate::cloud::memory::MemoryApi;
    use vpc_wire::domain::NextType;

    use crate::cloud::memory::{sample_credentials as creds, sample_table as table};

    fn route(i: usize) -> Route {
        Route::new(&format!("10.9.{i}.0/24"), NextType::VpnGateway, "vpngw-1").unwrap_or_else(|| panic!("cidr"))
    }

    async fn create_many(
        api: Arc<MemoryApi>,
        batcher: Arc<Batcher>,
        routes: Vec<Route>,
    ) -> Vec<Result<RouteIds, CloudError>> {
        let calls = routes.into_iter().map(|r| {
            let (api, batcher) = (api.clone(), batcher.clone());
            tokio::spawn(async move {
                batcher.create(api.as_ref(), &creds(), &table(), &(r, RouteAttrs::default()), &Unknown).await
            })
        });
        futures::future::join_all(calls).await.into_iter().map(|r| r.unwrap()).collect()
    }

    #[tokio::test]
    async fn concurrent_creates_for_one_table_share_calls() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        let results = create_many(api.clone(), Arc::new(Batcher::new(50)), (0..40).map(route).collect()).await;
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
        let results = create_many(api.clone(), Arc::new(Batcher::new(50)), (0..8).map(route).collect()).await;
        let refused: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, _)| i).collect();
        assert_eq!(refused, vec![3], "only the existing destination is refused");
        assert_eq!(api.routes(&table()).len(), 8);
    }

    #[tokio::test]
    async fn a_transport_failure_reaches_every_caller_in_the_batch() {
        let api = Arc::new(MemoryApi::with_table(&table()));
        api.set_latency(Duration::from_millis(20));
        api.lose_create_responses(100);
        let results = create_many(api.clone(), Arc::new(Batcher::new(50)), (0..6).map(route).collect()).await;
        assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.class == ErrorClass::Transport)));
        assert_eq!(api.routes(&table()).len(), 6, "the lost responses still applied the routes");
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
        let batcher = Arc::new(Batcher::new(50));
        let room = Arc::new(Fixed(std::sync::atomic::AtomicUsize::new(3)));
        let calls = (0..8).map(|i| {
            let (api, batcher, room) = (api.clone(), batcher.clone(), room.clone());
            tokio::spawn(async move {
                batcher
                    .create(api.as_ref(), &creds(), &table(), &(route(i), RouteAttrs::default()), room.as_ref())
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
