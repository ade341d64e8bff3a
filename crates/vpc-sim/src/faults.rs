//! Injected trouble and bookkeeping: faults (by probability or for the next N calls), per-action
//! rate limits, and the per-action call counts. Pure state machines; no I/O.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// What a fault does to a call it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// Answer code 6000 `InternalError`; the action does not run.
    InternalError,
    /// Answer code 4400 `RequestLimitExceeded`; the action does not run.
    RequestLimitExceeded,
    /// Answer HTTP 500 with a non-API body; the action does not run.
    Http500,
    /// Answer HTTP 503 with a non-API body; the action does not run.
    Http503,
    /// Close the connection before the action runs.
    DropBeforeAction,
    /// Run the action, then close the connection without answering.
    ResponseLost,
    /// Wait `latencyMs` before handling the call; combines with one other fault.
    Latency,
}

/// A fault as the control API and the world file describe it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// The action it applies to; `None` for every action.
    #[serde(default)]
    pub action: Option<String>,
    /// What it does.
    pub kind: FaultKind,
    /// Chance that a matching call is hit; `None` hits every matching call.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Hit only this many calls, then expire; `None` never expires.
    #[serde(default)]
    pub count: Option<u64>,
    /// Delay for `latency` faults.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

/// Why a fault spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// Probability outside [0, 1].
    #[error("probability must be between 0 and 1, got {0}")]
    Probability(f64),
    /// A latency fault without `latencyMs`, or `latencyMs` on another kind.
    #[error("latencyMs is required for kind latency and only allowed there")]
    Latency,
}

/// What the faults decided for one call.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Total delay before handling the call.
    pub latency: Duration,
    /// The fault that replaces or disturbs the action, if any.
    pub outcome: Option<FaultKind>,
}

#[derive(Debug)]
struct Fault {
    id: u64,
    spec: FaultSpec,
    remaining: Option<u64>,
}

/// The active faults, in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    active: Vec<Fault>,
}

impl Faults {
    /// Adds a fault and returns its id.
    pub fn add(&mut self, spec: FaultSpec) -> Result<u64, FaultError> {
        if let Some(p) = spec.probability.filter(|p| !(0.0..=1.0).contains(p)) {
            return Err(FaultError::Probability(p));
        }
        if (spec.kind == FaultKind::Latency) != spec.latency_ms.is_some() {
            return Err(FaultError::Latency);
        }
        self.next_id += 1;
        self.active.push(Fault { id: self.next_id, remaining: spec.count, spec });
        Ok(self.next_id)
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// Decides what happens to one call of `action`. `roll` yields uniform numbers in [0, 1);
    /// it is asked once per matching fault that has a probability.
    pub fn plan(&mut self, action: &str, mut roll: impl FnMut() -> f64) -> Plan {
        let mut plan = Plan::default();
        for fault in &mut self.active {
            let matches = fault.spec.action.as_deref().is_none_or(|a| a == action);
            if !matches || fault.remaining == Some(0) {
                continue;
            }
            let is_latency = fault.spec.kind == FaultKind::Latency;
            if !is_latency && plan.outcome.is_some() {
                continue;
            }
            if fault.spec.probability.is_some_and(|p| roll() >= p) {
                continue;
            }
            if is_latency {
                plan.latency += Duration::from_millis(fault.spec.latency_ms.unwrap_or(0));
            } else {
                plan.outcome = Some(fault.spec.kind);
            }
            fault.remaining = fault.remaining.map(|n| n - 1);
        }
        self.active.retain(|f| f.remaining != Some(0));
        plan
    }

    /// Ids of the faults still active.
    pub fn ids(&self) -> Vec<u64> {
        self.active.iter().map(|f| f.id).collect()
    }
}

/// Per-action limits in requests per second, over a sliding one-second window.
#[derive(Debug, Default)]
pub struct RateLimits {
    limits: BTreeMap<String, u32>,
    admitted: HashMap<String, VecDeque<Instant>>,
}

impl RateLimits {
    /// Replaces every limit (an action left out has none; 0 refuses every call).
    pub fn set(&mut self, limits: BTreeMap<String, u32>) {
        self.limits = limits;
        self.admitted.clear();
    }

    /// Whether a call of `action` at `now` is within its limit; admitted calls are counted.
    pub fn admit(&mut self, action: &str, now: Instant) -> bool {
        let Some(&limit) = self.limits.get(action) else {
            return true;
        };
        let window = self.admitted.entry(action.to_string()).or_default();
        while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            return false;
        }
        window.push_back(now);
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec(action: Option<&str>, kind: FaultKind, count: Option<u64>) -> FaultSpec {
        FaultSpec { action: action.map(Into::into), kind, probability: None, count, latency_ms: None }
    }

    #[test]
    fn a_counted_fault_hits_exactly_the_next_n_matching_calls() {
        let mut faults = Faults::default();
        faults.add(spec(Some("CreateRoute"), FaultKind::InternalError, Some(2))).unwrap();
        assert_eq!(faults.plan("DescribeRouteTable", || 0.0).outcome, None);
        assert_eq!(faults.plan("CreateRoute", || 0.0).outcome, Some(FaultKind::InternalError));
        assert_eq!(faults.plan("CreateRoute", || 0.0).outcome, Some(FaultKind::InternalError));
        assert_eq!(faults.plan("CreateRoute", || 0.0).outcome, None);
        assert!(faults.ids().is_empty());
    }

    #[test]
    fn probability_decides_with_the_roll_and_latency_adds_to_another_fault() {
        let mut faults = Faults::default();
        let mut latency = spec(None, FaultKind::Latency, None);
        latency.latency_ms = Some(30);
        faults.add(latency).unwrap();
        let mut flaky = spec(None, FaultKind::Http503, None);
        flaky.probability = Some(0.5);
        faults.add(flaky).unwrap();
        let hit = faults.plan("DeleteRoute", || 0.2);
        assert_eq!(hit, Plan { latency: Duration::from_millis(30), outcome: Some(FaultKind::Http503) });
        assert_eq!(faults.plan("DeleteRoute", || 0.7).outcome, None);
    }

    #[test]
    fn bad_fault_specs_are_refused() {
        let mut faults = Faults::default();
        let mut p = spec(None, FaultKind::Http500, None);
        p.probability = Some(1.5);
        assert!(faults.add(p).is_err());
        assert!(faults.add(spec(None, FaultKind::Latency, None)).is_err());
    }

    #[test]
    fn a_rate_limit_refuses_calls_beyond_n_per_second_and_recovers() {
        let mut limits = RateLimits::default();
        limits.set(BTreeMap::from([("CreateRoute".to_string(), 2)]));
        let t0 = Instant::now();
        assert!(limits.admit("CreateRoute", t0));
        assert!(limits.admit("CreateRoute", t0));
        assert!(!limits.admit("CreateRoute", t0 + Duration::from_millis(500)));
        assert!(limits.admit("DescribeRouteTable", t0));
        assert!(limits.admit("CreateRoute", t0 + Duration::from_millis(1000)));
    }
}
