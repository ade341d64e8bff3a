//! Client-side rate limiting of cloud calls: a [`RouteApi`] decorator that holds one token bucket
//! per (account, region, action), filled at Tencent's published limit for the action unless
//! configured otherwise, and that slows a bucket down when the cloud answers
//! `RequestLimitExceeded` and lets it recover gradually (AIMD). Waits on tokio time; the wrapped
//! API does the I/O.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use vpc_wire::domain::{Credentials, Route};

use super::{CloudError, Operation, RouteApi, RouteAttrs, RouteIds, TableRef, TableView};
use crate::config::ApiVersion;
use crate::reasons::Reason;

/// Share of its default rate a slowed-down bucket regains per second without throttling.
pub const RECOVERY_PER_SECOND: f64 = 0.1;

/// Lowest rate, in calls per second, that throttling slows a bucket to (or its default, if lower).
pub const MIN_RATE: f64 = 1.0;

const OPERATIONS: [Operation; 6] = {
    use Operation::*;
    [Describe, Create, Delete, Replace, SetDescription, SetEnabled]
};

/// Tencent's published limit, in calls per second per account and region, of an action of an API
/// generation: on 3.0 `CreateRoutes`, `DescribeRouteTables` and `DescribeVpcs` 100/s,
/// `DeleteRoutes` 50/s, anything else (`ReplaceRoutes`, `EnableRoutes`/`DisableRoutes`, …) 20/s;
/// on 2.0 every action 20/s.
pub fn published_rate(api: ApiVersion, action: &str) -> f64 {
    match (api, action) {
        (ApiVersion::V3, "CreateRoutes" | "DescribeRouteTables" | "DescribeVpcs") => 100.0,
        (ApiVersion::V3, "DeleteRoutes") => 50.0,
        _ => 20.0,
    }
}

/// One `NAME=RATE` rate-limit setting (e.g. `CreateRoutes=50`): the action's calls per second.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimit {
    /// The backend's action name, e.g. `CreateRoutes` (3.0) or `CreateRoute` (2.0).
    pub action: String,
    /// Calls per second: positive, fractions allowed.
    pub rate: f64,
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(spec: &str) -> Result<RateLimit, String> {
        const FORM: &str = "expected NAME=RATE, e.g. CreateRoutes=50";
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(format!("empty rate limit; {FORM}"));
        }
        let Some((name, rate)) = spec.split_once('=') else {
            return Err(format!("rate limit `{spec}` has no `=`; {FORM}"));
        };
        let (action, rate) = (name.trim(), rate.trim());
        if action.is_empty() {
            return Err(format!("rate limit `{spec}` names no action; {FORM}"));
        }
        if !action.chars().all(|c| c.is_ascii_alphanumeric() || c == '/') {
            return Err(format!("rate limit `{spec}`: `{action}` is not an action name (letters and digits); {FORM}"));
        }
        let rate = match rate.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => r,
            Ok(_) => {
                return Err(format!("rate limit `{spec}`: the rate must be a positive number of calls per second"));
            }
            Err(_) => return Err(format!("rate limit `{spec}`: `{rate}` is not a number of calls per second; {FORM}")),
        };
        Ok(RateLimit { action: action.to_string(), rate })
    }
}

/// Which rate each action gets: the published limits times a scale, except where set explicitly.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    overrides: BTreeMap<String, f64>,
    scale: f64,
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits { overrides: BTreeMap::new(), scale: 1.0 }
    }
}

impl RateLimits {
    /// Explicit rates (a later setting for the same action wins) and a scale for the published
    /// limits of the other actions (e.g. `0.5` when two operators share an account). Refuses a
    /// scale that is not a positive number.
    pub fn new(limits: impl IntoIterator<Item = RateLimit>, scale: f64) -> Result<RateLimits, String> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(format!("rate limit scale {scale} must be a positive number"));
        }
        Ok(RateLimits { overrides: limits.into_iter().map(|l| (l.action, l.rate)).collect(), scale })
    }

    /// The rate, in calls per second, of an action of an API generation. A combined name such as
    /// `EnableRoutes/DisableRoutes` also takes a rate set for either part (the lower one).
    pub fn rate_for(&self, api: ApiVersion, action: &str) -> f64 {
        if let Some(rate) = self.overrides.get(action) {
            return *rate;
        }
        let parts = action.split('/').filter_map(|part| self.overrides.get(part).copied());
        parts.reduce(f64::min).unwrap_or_else(|| published_rate(api, action) * self.scale)
    }
}

/// What one bucket is for: the account (`SecretId`), the region and the backend's action name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RateKey {
    /// The `SecretId` calls are signed with.
    pub account: String,
    /// The region called.
    pub region: String,
    /// The backend's action name.
    pub action: &'static str,
}

impl RateKey {
    /// The key of a call of `action` with `creds` on `table`.
    pub fn new(creds: &Credentials, table: &TableRef, action: &'static str) -> RateKey {
        RateKey { account: creds.secret_id.clone(), region: table.region.clone(), action }
    }
}

/// One token bucket with a burst of one call: calls are spaced 1/rate apart, so no sliding
/// one-second window (how Tencent, and vpc-sim, count) ever sees more than the rate. Tokens may go
/// negative: a caller takes its token at once and waits until the debt is paid, so callers go out
/// in arrival order and no lock is held while waiting.
#[derive(Clone, Debug)]
struct Bucket {
    default: f64,
    rate: f64,
    tokens: f64,
    updated: Instant,
    /// How many times throttling slowed the bucket: a throttled call reserved before the latest
    /// cut carries no news.
    cuts: u64,
}

/// Tokens a bucket can save: one call. A larger burst lets a window of one second hold more than
/// the published rate (the benchmark saw `RequestLimitExceeded` answers with one second's burst).
const BURST: f64 = 1.0;

impl Bucket {
    fn new(default: f64, now: Instant) -> Bucket {
        Bucket { default, rate: default, tokens: BURST, updated: now, cuts: 0 }
    }

    /// Adds the tokens earned since the last update, while the rate climbs back linearly.
    fn advance(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = self.updated.max(now);
        let ramp = RECOVERY_PER_SECOND * self.default;
        let to_full = (self.default - self.rate).max(0.0) / ramp;
        if dt <= to_full {
            self.tokens += dt * (self.rate + ramp * dt / 2.0);
            self.rate += ramp * dt;
        } else {
            self.tokens += to_full * (self.rate + self.default) / 2.0 + (dt - to_full) * self.default;
            self.rate = self.default;
        }
        self.tokens = self.tokens.min(BURST);
    }

    fn rate_at(&mut self, now: Instant) -> f64 {
        self.advance(now);
        self.rate
    }

    /// Takes a token; returns how long to wait before the call may go out, and the ticket.
    fn reserve(&mut self, now: Instant) -> (Duration, u64) {
        self.advance(now);
        self.tokens -= 1.0;
        let wait = if self.tokens >= 0.0 { 0.0 } else { -self.tokens / self.rate };
        (Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX), self.cuts)
    }

    /// The cloud throttled a call reserved with `ticket`: halves the rate (down to the floor) and
    /// drops any saved burst, unless the bucket was already slowed since that call was reserved.
    fn throttled(&mut self, ticket: u64, now: Instant) -> bool {
        self.advance(now);
        if ticket != self.cuts {
            return false;
        }
        self.rate = (self.rate / 2.0).max(MIN_RATE.min(self.default));
        self.tokens = self.tokens.min(0.0);
        self.cuts += 1;
        true
    }
}

/// The buckets of one [`RateLimited`], shared by all its callers (and cheap to clone, e.g. for a
/// metrics collector).
#[derive(Clone, Debug)]
pub struct RateLimiter {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    api: ApiVersion,
    limits: RateLimits,
    buckets: Mutex<HashMap<RateKey, Bucket>>,
}

impl RateLimiter {
    fn new(api: ApiVersion, limits: RateLimits) -> RateLimiter {
        RateLimiter { shared: Arc::new(Shared { api, limits, buckets: Mutex::new(HashMap::new()) }) }
    }

    fn with_bucket<T>(&self, key: &RateKey, now: Instant, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut buckets = self.shared.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry(key.clone())
            .or_insert_with(|| Bucket::new(self.shared.limits.rate_for(self.shared.api, key.action), now));
        f(bucket)
    }

    fn reserve_at(&self, key: &RateKey, now: Instant) -> (Duration, u64) {
        self.with_bucket(key, now, |b| b.reserve(now))
    }

    fn throttled_at(&self, key: &RateKey, ticket: u64, now: Instant) {
        if let Some(rate) = self.with_bucket(key, now, |b| b.throttled(ticket, now).then_some(b.rate)) {
            tracing::info!(account = %key.account, region = %key.region, action = key.action, rate,
                "the cloud throttled a call; slowing down");
        }
    }

    fn rate_at(&self, key: &RateKey, now: Instant) -> Option<f64> {
        self.shared.buckets.lock().unwrap_or_else(|p| p.into_inner()).get_mut(key).map(|b| b.rate_at(now))
    }

    /// The current rate, in calls per second, of a key that has been called.
    pub fn current_rate(&self, key: &RateKey) -> Option<f64> {
        self.rate_at(key, Instant::now())
    }

    /// The current rate of every key called so far, in key order.
    pub fn rates(&self) -> Vec<(RateKey, f64)> {
        let now = Instant::now();
        let mut buckets = self.shared.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut rates: Vec<(RateKey, f64)> = buckets.iter_mut().map(|(k, b)| (k.clone(), b.rate_at(now))).collect();
        rates.sort_by(|a, b| a.0.cmp(&b.0));
        rates
    }
}

/// Wraps an API so that each call waits for a token of its (account, region, action) bucket
/// before it goes out. Never fails because of the limiter; a throttled answer is passed on as is.
pub struct RateLimited<A> {
    inner: A,
    limiter: RateLimiter,
}

impl<A: RouteApi> RateLimited<A> {
    /// Wraps `inner`, which speaks API generation `api`, with the rates of `limits`. Refuses a
    /// rate set for an action `inner` never calls (a typo would otherwise be silently ignored).
    pub fn new(inner: A, api: ApiVersion, limits: RateLimits) -> Result<RateLimited<A>, String> {
        let names = OPERATIONS.iter().map(|op| inner.action_name(*op));
        let mut known: Vec<&str> = names.flat_map(|a| std::iter::once(a).chain(a.split('/'))).collect();
        known.sort_unstable();
        known.dedup();
        if let Some(unknown) = limits.overrides.keys().find(|a| !known.contains(&a.as_str())) {
            return Err(format!(
                "rate limit for {unknown}: API {} makes no such call (its calls: {})",
                api.as_str(),
                known.join(", ")
            ));
        }
        Ok(RateLimited { inner, limiter: RateLimiter::new(api, limits) })
    }

    /// The wrapped API.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// A handle on the buckets, for their current rates.
    pub fn limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }

    /// Waits for a token of each action the operations send, makes the call, and slows down the
    /// bucket of the action a `Throttled` answer names (or of the first action).
    async fn limited<T, F: Future<Output = Result<T, CloudError>>>(
        &self,
        creds: &Credentials,
        table: &TableRef,
        ops: &[Operation],
        call: impl FnOnce() -> F,
    ) -> Result<T, CloudError> {
        let now = Instant::now();
        let mut tickets: Vec<(RateKey, u64)> = Vec::with_capacity(ops.len());
        let mut wait = Duration::ZERO;
        for op in ops {
            let key = RateKey::new(creds, table, self.inner.action_name(*op));
            if tickets.iter().all(|(k, _)| *k != key) {
                let (w, ticket) = self.limiter.reserve_at(&key, now);
                wait = wait.max(w);
                tickets.push((key, ticket));
            }
        }
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let result = call().await;
        if let Some(e) = result.as_ref().err().filter(|e| e.reason == Reason::Throttled) {
            let named = tickets.iter().find(|(k, _)| k.action.split('/').any(|part| part == e.action));
            if let Some((key, ticket)) = named.or(tickets.first()) {
                self.limiter.throttled_at(key, *ticket, Instant::now());
            }
        }
        result
    }

    /// The operations a replace sends: 2.0 has no modify and deletes, then creates.
    fn replace_ops(&self) -> &'static [Operation] {
        match self.limiter.shared.api {
            ApiVersion::V3 => &[Operation::Replace],
            ApiVersion::V2 => &[Operation::Replace, Operation::Create],
        }
    }

    /// An attribute change goes out only where the API has attributes; elsewhere it is refused
    /// locally and takes no token.
    fn attribute_ops(&self, ops: &'static [Operation]) -> &'static [Operation] {
        if self.inner.supports_attributes() { ops } else { &[] }
    }
}

impl<A: RouteApi> RouteApi for RateLimited<A> {
    fn action_name(&self, op: Operation) -> &'static str {
        self.inner.action_name(op)
    }

    fn supports_attributes(&self) -> bool {
        self.inner.supports_attributes()
    }

    async fn route_quota(&self, creds: &Credentials, region: &str) -> Option<usize> {
        self.inner.route_quota(creds, region).await
    }

    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<TableView, CloudError> {
        self.limited(creds, table, &[Operation::Describe], || self.inner.describe_table(creds, table)).await
    }

    async fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        routes: &[(Route, RouteAttrs)],
    ) -> Result<Vec<RouteIds>, CloudError> {
        self.limited(creds, table, &[Operation::Create], || self.inner.create_routes(creds, table, routes)).await
    }

    async fn delete_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
    ) -> Result<(), CloudError> {
        self.limited(creds, table, &[Operation::Delete], || self.inner.delete_route(creds, table, route, ids)).await
    }

    async fn replace_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        new: &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        let ops = self.replace_ops();
        self.limited(creds, table, ops, || self.inner.replace_route(creds, table, old, ids, new)).await
    }

    async fn set_description(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        description: &str,
    ) -> Result<(), CloudError> {
        let ops = self.attribute_ops(&[Operation::SetDescription]);
        self.limited(creds, table, ops, || self.inner.set_description(creds, table, route, ids, description)).await
    }

    async fn set_enabled(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        enabled: bool,
    ) -> Result<(), CloudError> {
        let ops = self.attribute_ops(&[Operation::SetEnabled]);
        self.limited(creds, table, ops, || self.inner.set_enabled(creds, table, route, ids, enabled)).await
    }
}

#[cfg(test)]
#[path = "ratelimit_tests.rs"]
mod tests;
