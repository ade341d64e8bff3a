//! Per-object retry timing: exponential backoff for retryable failures (reset on success) and
//! jittered long periods for resync and permanent failures. In-memory state; no I/O.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

/// Failure counts by object key (`namespace/name`).
/// Also remembers, per object, a generation that failed permanently and until when it is left
/// alone, so that watch relists and duplicate triggers do not call the cloud again.
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: Mutex<HashMap<String, u32>>,
    holds: Mutex<HashMap<String, (Option<i64>, Instant)>>,
}

impl Backoff {
    /// Delays start at `base`, double per failure and stop growing at `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap, failures: Mutex::default(), holds: Mutex::default() }
    }

    /// Records a failure and returns how long to wait: base, 2×base, 4×base … up to cap, with up
    /// to 20% jitter so that many objects failing together do not retry together.
    pub fn next_delay(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        let delay = exponential(self.base, self.cap, *n);
        *n = n.saturating_add(1);
        jitter(delay, 0.2)
    }

    /// Forgets an object's failures and hold after a success.
    pub fn reset(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        self.holds.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    /// Leaves `generation` of an object alone for `wait` after a permanent failure.
    pub fn hold(&self, key: &str, generation: Option<i64>, wait: Duration) {
        self.holds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), (generation, Instant::now() + wait));
    }

    /// The time left on a hold for this generation; `None` when the object may be acted on.
    pub fn held(&self, key: &str, generation: Option<i64>) -> Option<Duration> {
        let holds = self.holds.lock().unwrap_or_else(|p| p.into_inner());
        let (held_generation, until) = holds.get(key)?;
        let left = until.checked_duration_since(Instant::now())?;
        (*held_generation == generation && !left.is_zero()).then_some(left)
    }
}

/// `base * 2^n`, capped at `cap`.
pub fn exponential(base: Duration, cap: Duration, n: u32) -> Duration {
    base.saturating_mul(2u32.saturating_pow(n.min(16))).min(cap)
}

/// `period` plus up to `fraction` of it at random.
pub fn jitter(period: Duration, fraction: f64) -> Duration {
    let extra = rand::rng().random_range(0.0..=fraction.max(0.0));
    period + period.mul_f64(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(2);
    const CAP: Duration = Duration::from_secs(300);

    #[test]
    fn delays_grow_exponentially_to_a_cap_and_reset_on_success() {
        assert_eq!(exponential(BASE, CAP, 0), Duration::from_secs(2));
        assert_eq!(exponential(BASE, CAP, 3), Duration::from_secs(16));
        assert_eq!(exponential(BASE, CAP, 40), CAP);
        let b = Backoff::new(BASE, CAP);
        let first = b.next_delay("ns/a");
        let second = b.next_delay("ns/a");
        assert!(first >= BASE && first <= BASE.mul_f64(1.2));
        assert!(second >= BASE * 2 && second <= (BASE * 2).mul_f64(1.2));
        b.reset("ns/a");
        assert!(b.next_delay("ns/a") <= BASE.mul_f64(1.2));
    }

    #[test]
    fn a_permanent_failure_holds_only_its_generation() {
        let b = Backoff::new(BASE, CAP);
        b.hold("ns/a", Some(1), Duration::from_secs(60));
        assert!(b.held("ns/a", Some(1)).is_some());
        assert_eq!(b.held("ns/a", Some(2)), None);
        b.reset("ns/a");
        assert_eq!(b.held("ns/a", Some(1)), None);
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(100), 0.1);
            assert!(d >= Duration::from_secs(100) && d <= Duration::from_secs(110));
        }
    }
}
