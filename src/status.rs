//! Pure construction of `VpcRoute` status: the Ready condition and its transitions.
//! Inputs are the previous status, the outcome and `now`; no I/O.

use crate::crd::{Condition, VpcRouteStatus};
use crate::reasons::{self, Reason};

/// What a reconcile concluded about the route, as the Ready condition will say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// Whether the route is in place and owned.
    pub ready: bool,
    /// The condition reason.
    pub reason: Reason,
    /// Human-readable detail.
    pub message: String,
}

impl Readiness {
    /// Ready=True with a reason.
    pub fn ready(reason: Reason, message: impl Into<String>) -> Readiness {
        Readiness { ready: true, reason, message: message.into() }
    }

    /// Ready=False with a reason.
    pub fn not_ready(reason: Reason, message: impl Into<String>) -> Readiness {
        Readiness { ready: false, reason, message: message.into() }
    }
}

/// Returns `draft` with the Ready condition set from `readiness` and `observedGeneration` set.
/// `lastTransitionTime` is kept unless the condition's status changes, so a reconcile that
/// concludes the same thing produces an identical status (and nothing is written).
pub fn with_readiness(
    mut draft: VpcRouteStatus,
    readiness: &Readiness,
    generation: Option<i64>,
    now: &str,
) -> VpcRouteStatus {
    let status = if readiness.ready { "True" } else { "False" };
    let previous = draft.conditions.iter().find(|c| c.type_ == reasons::READY);
    let last_transition_time = match previous {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now.to_string(),
    };
    let ready = Condition {
        type_: reasons::READY.to_string(),
        status: status.to_string(),
        reason: readiness.reason.as_str().to_string(),
        message: printable(&readiness.message, MAX_MESSAGE_BYTES),
        last_transition_time,
        observed_generation: generation,
    };
    draft.conditions.retain(|c| c.type_ != reasons::READY);
    draft.conditions.insert(0, ready);
    draft.observed_generation = generation;
    draft
}

/// A condition message may hold at most 32 KiB.
const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// `text` safe to show to people: control characters (CR, LF, ESC, …, as a hostile Secret
/// value could carry) are written as escapes, and the result is cut to `max` bytes at a
/// character boundary, ending in `…` when cut.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let piece: String = if c.is_control() { c.escape_default().collect() } else { c.to_string() };
        if out.len() + piece.len() > max.saturating_sub('…'.len_utf8()) {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
    }
    out
}

/// The Ready condition of a status, if any.
pub fn ready_condition(status: Option<&VpcRouteStatus>) -> Option<&Condition> {
    status?.conditions.iter().find(|c| c.type_ == reasons::READY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_of(s: &VpcRouteStatus) -> &Condition {
        ready_condition(Some(s)).expect("a Ready condition")
    }

    #[test]
    fn first_condition_gets_now_as_transition_time() {
        let s = with_readiness(VpcRouteStatus::default(), &Readiness::ready(Reason::Created, "ok"), Some(1), "T1");
        assert_eq!(ready_of(&s).last_transition_time, "T1");
        assert_eq!(ready_of(&s).status, "True");
        assert_eq!(s.observed_generation, Some(1));
    }

    #[test]
    fn same_status_keeps_transition_time_and_is_identical() {
        let r = Readiness::not_ready(Reason::Throttled, "4400");
        let first = with_readiness(VpcRouteStatus::default(), &r, Some(2), "T1");
        let again = with_readiness(first.clone(), &r, Some(2), "T2");
        assert_eq!(first, again);
    }

    #[test]
    fn reason_change_without_status_change_keeps_transition_time() {
        let first =
            with_readiness(VpcRouteStatus::default(), &Readiness::not_ready(Reason::Creating, ""), Some(1), "T1");
        let next = with_readiness(first, &Readiness::not_ready(Reason::CloudUnavailable, "x"), Some(1), "T2");
        assert_eq!(ready_of(&next).last_transition_time, "T1");
        assert_eq!(ready_of(&next).reason, "CloudUnavailable");
    }

    #[test]
    fn messages_never_carry_control_characters_and_stay_within_their_size() {
        assert_eq!(printable("AKID\r\n&Action=Delete\u{1b}[31m", 100), "AKID\\r\\n&Action=Delete\\u{1b}[31m");
        let long = "é".repeat(600);
        let cut = printable(&long, 1024);
        assert!(cut.len() <= 1024 && cut.ends_with('…'), "{}", cut.len());
        assert_eq!(printable("plain", 1024), "plain");
    }

    #[test]
    fn status_change_moves_transition_time() {
        let first =
            with_readiness(VpcRouteStatus::default(), &Readiness::not_ready(Reason::Creating, ""), Some(1), "T1");
        let next = with_readiness(first, &Readiness::ready(Reason::Created, ""), Some(1), "T2");
        assert_eq!(ready_of(&next).last_transition_time, "T2");
        assert_eq!(next.conditions.len(), 1);
    }
}
