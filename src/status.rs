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
    /// What the `Synced` condition says about this reconcile.
    pub synced: Synced,
}

/// Whether the last reconcile could do its job (Crossplane's split of `Ready` from `Synced`): a
/// route can be in place (`Ready=True`) while a check of it failed (`Synced=False`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Synced {
    /// The reconcile did what it had to (`ReconcileSuccess`).
    #[default]
    Ok,
    /// It failed (`ReconcileError`, with what failed).
    Failed(String),
    /// The resource is paused (`ReconcilePaused`): nothing is done until the annotation goes.
    Paused,
}

impl Readiness {
    /// Ready=True with a reason.
    pub fn ready(reason: Reason, message: impl Into<String>) -> Readiness {
        Readiness { ready: true, reason, message: message.into(), synced: Synced::Ok }
    }

    /// Ready=False with a reason.
    pub fn not_ready(reason: Reason, message: impl Into<String>) -> Readiness {
        Readiness { ready: false, reason, message: message.into(), synced: Synced::Ok }
    }

    /// The same readiness, with `Synced` saying how the reconcile went.
    pub fn with_synced(self, synced: Synced) -> Readiness {
        Readiness { synced, ..self }
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
    let ready = (readiness.ready, readiness.reason.as_str(), readiness.message.as_str());
    set_condition(&mut draft.conditions, reasons::READY, ready, generation, now);
    let synced = match &readiness.synced {
        Synced::Ok => (true, reasons::RECONCILE_SUCCESS, ""),
        Synced::Failed(why) => (false, reasons::RECONCILE_ERROR, why.as_str()),
        Synced::Paused => (false, reasons::RECONCILE_PAUSED, "paused by the vpc.qcloud.dev/paused annotation"),
    };
    set_condition(&mut draft.conditions, reasons::SYNCED, synced, generation, now);
    draft.observed_generation = generation;
    draft
}

/// Sets one condition (kept in the order Ready, Synced); its transition time moves only when its
/// status flips.
fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    (ok, reason, message): (bool, &str, &str),
    generation: Option<i64>,
    now: &str,
) {
    let status = if ok { "True" } else { "False" };
    let last_transition_time = match conditions.iter().find(|c| c.type_ == type_) {
        Some(c) if c.status == status => c.last_transition_time.clone(),
        _ => now.to_string(),
    };
    let condition = Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: printable(message, MAX_MESSAGE_BYTES),
        last_transition_time,
        observed_generation: generation,
    };
    let position = conditions.iter().position(|c| c.type_ == type_);
    match position {
        Some(i) => conditions[i] = condition,
        None if type_ == reasons::READY => conditions.insert(0, condition),
        None => conditions.push(condition),
    }
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
    fn a_failed_check_of_a_ready_route_keeps_ready_and_turns_synced_false() {
        let ok =
            with_readiness(VpcRouteStatus::default(), &Readiness::ready(Reason::Created, "in place"), Some(1), "T1");
        let failed = Readiness::ready(Reason::Created, "in place").with_synced(Synced::Failed("read failed".into()));
        let next = with_readiness(ok, &failed, Some(1), "T2");
        assert_eq!((ready_of(&next).status.as_str(), ready_of(&next).last_transition_time.as_str()), ("True", "T1"));
        let synced = next.conditions.iter().find(|c| c.type_ == "Synced").expect("Synced");
        assert_eq!((synced.status.as_str(), synced.reason.as_str()), ("False", "ReconcileError"));
        assert_eq!((synced.message.as_str(), synced.last_transition_time.as_str()), ("read failed", "T2"));
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
        assert_eq!(next.conditions.len(), 2, "Ready and Synced");
        assert_eq!(next.conditions[0].type_, "Ready");
    }
}
