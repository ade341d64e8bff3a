//! Caching of temporary credentials: a [`Fetch`] obtains a fresh set with its lifetime, and
//! [`Refreshing`] keeps it until shortly before expiry (less than 5 minutes or a fifth of the
//! lifetime left), so concurrent callers share one refresh. Timing uses tokio's clock, so tests
//! run on paused time; no I/O of its own.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::Mutex;
use tokio::time::Instant;
use vpc_wire::domain::Credentials;

use super::{IdentityError, Provider, Source};

/// The most time before expiry at which a refresh starts.
const MAX_MARGIN: Duration = Duration::from_secs(300);
/// After a failed refresh while the old credentials still hold, how long before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A set of temporary credentials and how long it stays valid from now.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The credentials (with their token).
    pub credentials: Credentials,
    /// Time left before the cloud refuses them.
    pub lifetime: Duration,
}

/// Obtains a fresh set of temporary credentials (one exchange with STS or the metadata service).
pub trait Fetch: Send + Sync + 'static {
    /// One fetch.
    fn fetch(&self) -> BoxFuture<'_, Result<Issued, IdentityError>>;
}

/// How long before expiry a set of this lifetime is replaced: a fifth of it, at most 5 minutes.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(MAX_MARGIN)
}

struct Cached {
    credentials: Credentials,
    refresh_at: Instant,
    expires_at: Instant,
}

/// A [`Provider`] over a [`Fetch`]: cached, refreshed before expiry, one refresh at a time.
pub struct Refreshing<F> {
    fetch: F,
    source: Source,
    cached: Mutex<Option<Cached>>,
}

impl<F: Fetch> Refreshing<F> {
    /// Wraps `fetch`; nothing is fetched before the first call.
    pub fn new(fetch: F, source: Source) -> Refreshing<F> {
        Refreshing { fetch, source, cached: Mutex::new(None) }
    }

    /// The current credentials, refreshing them first when due. A failed refresh falls back to
    /// the cached set while it has not expired (and waits a few seconds before trying again).
    pub async fn current(&self) -> Result<Credentials, IdentityError> {
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        if let Some(c) = cached.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(c.credentials.clone());
        }
        match self.fetch.fetch().await {
            Ok(issued) => {
                let now = Instant::now();
                let credentials = issued.credentials.clone();
                let expires_at = now + issued.lifetime;
                let refresh_at = expires_at - refresh_margin(issued.lifetime);
                tracing::debug!(source = self.source.as_str(), lifetime = ?issued.lifetime, "credentials refreshed");
                *cached = Some(Cached { credentials: issued.credentials, refresh_at, expires_at });
                Ok(credentials)
            }
            Err(error) => match cached.as_mut().filter(|c| now < c.expires_at) {
                Some(c) => {
                    tracing::warn!(source = self.source.as_str(), %error, "refresh failed; using the current credentials");
                    c.refresh_at = (now + RETRY_AFTER_FAILURE).min(c.expires_at);
                    Ok(c.credentials.clone())
                }
                None => Err(error),
            },
        }
    }
}

impl<F: Fetch> Provider for Refreshing<F> {
    fn credentials(&self) -> BoxFuture<'_, Result<Credentials, IdentityError>> {
        Box::pin(self.current())
    }

    fn source(&self) -> Source {
        self.source
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use vpc_wire::domain::Secret;

    use super::*;

    /// Issues `AKID<n>` for the n-th fetch, each valid for `lifetime`; fails when `fail` is set.
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Fetch for Counting {
        fn fetch(&self) -> BoxFuture<'_, Result<Issued, IdentityError>> {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(IdentityError::NoRole);
                }
                let credentials = Credentials {
                    secret_id: format!("AKID{n}"),
                    secret_key: Secret::new("k"),
                    token: Some(Secret::new("t")),
                };
                Ok(Issued { credentials, lifetime: self.lifetime })
            })
        }
    }

    fn provider(
        lifetime: Duration,
    ) -> (Arc<Refreshing<Counting>>, Arc<AtomicUsize>, Arc<std::sync::atomic::AtomicBool>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let fetch = Counting { calls: calls.clone(), lifetime, fail: fail.clone() };
        (Arc::new(Refreshing::new(fetch, Source::Oidc)), calls, fail)
    }

    #[test]
    fn the_margin_is_a_fifth_of_the_lifetime_but_at_most_five_minutes() {
        assert_eq!(refresh_margin(Duration::from_secs(7200)), Duration::from_secs(300));
        assert_eq!(refresh_margin(Duration::from_secs(600)), Duration::from_secs(120));
        assert_eq!(refresh_margin(Duration::from_secs(3)), Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn credentials_are_reused_until_five_minutes_before_expiry_then_refreshed() {
        let (p, calls, _) = provider(Duration::from_secs(3600));
        assert_eq!(p.current().await.unwrap().secret_id, "AKID1");
        tokio::time::advance(Duration::from_secs(3600 - 301)).await;
        assert_eq!(p.current().await.unwrap().secret_id, "AKID1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(p.current().await.unwrap().secret_id, "AKID2");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_refresh() {
        let (p, calls, _) = provider(Duration::from_secs(3600));
        let all = futures::future::join_all((0..16).map(|_| p.current())).await;
        assert!(all.iter().all(|c| c.as_ref().unwrap().secret_id == "AKID1"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_the_unexpired_credentials_and_fails_once_they_expired() {
        let (p, calls, fail) = provider(Duration::from_secs(100));
        p.current().await.unwrap();
        fail.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(85)).await;
        assert_eq!(p.current().await.unwrap().secret_id, "AKID1");
        assert_eq!(p.current().await.unwrap().secret_id, "AKID1", "no new attempt within the hold-off");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(matches!(p.current().await, Err(IdentityError::NoRole)));
    }
}
