//! The one cloud error the controller sees, whatever the API generation: what failed, its class,
//! the product reason it was classified into (by the backend, once), and Tencent's own words.
//! Pure data; no I/O.

use std::fmt;

use crate::reasons::Reason;

/// What a caller should do about a failed call: the one classification every backend uses.
pub use crate::client::ErrorClass;

/// A failed cloud call, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudError {
    /// The backend's own action name (`CreateRoute`, `CreateRoutes`, …).
    pub action: &'static str,
    /// What to do about it.
    pub class: ErrorClass,
    /// The condition reason it maps to.
    pub reason: Reason,
    /// Tencent's code as a string (`InvalidParameterValue.Duplicate`; 2.0 renders its numeric
    /// code with its `codeDesc`: `4000 RouteAlreadyExists`); `None` when the API did not answer.
    pub code: Option<String>,
    /// Tencent's message, or what went wrong in transport.
    pub message: String,
    /// Tencent's request id, when it answered.
    pub request_id: Option<String>,
}

impl CloudError {
    /// Whether retrying with backoff may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Retryable | ErrorClass::Transport)
    }

    /// Whether the thing acted on does not exist (on delete: already gone).
    pub fn is_not_found(&self) -> bool {
        self.class == ErrorClass::NotFound
    }

    /// Whether the outcome is unknown (the write may have landed).
    pub fn is_transport(&self) -> bool {
        self.class == ErrorClass::Transport
    }

    /// What a condition message says: `CreateRoutes failed: InvalidParameterValue.Duplicate: <msg>
    /// (requestId …)`, or for transport failures `CreateRoutes failed: transport error: timed out`.
    pub fn describe(&self) -> String {
        let detail = match &self.code {
            Some(code) => format!("code {code}: {}", self.message),
            None => format!("{} error: {}", self.class, self.message),
        };
        match &self.request_id {
            Some(id) => format!("{} failed: {detail} (requestId {id})", self.action),
            None => format!("{} failed: {detail}", self.action),
        }
    }
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for CloudError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_the_action_code_message_and_request_id() {
        let e = CloudError {
            action: "CreateRoutes",
            class: ErrorClass::Permanent,
            reason: Reason::InvalidRouteNextHub,
            code: Some("InvalidParameterValue.RouteNextHopInvalid".into()),
            message: "no such gateway".into(),
            request_id: Some("req-1".into()),
        };
        assert_eq!(
            e.describe(),
            "CreateRoutes failed: code InvalidParameterValue.RouteNextHopInvalid: no such gateway (requestId req-1)"
        );
        assert!(!e.is_retryable());
        let t =
            CloudError { class: ErrorClass::Transport, code: None, request_id: None, message: "timed out".into(), ..e };
        assert_eq!(t.describe(), "CreateRoutes failed: transport error: timed out");
        assert!(t.is_retryable() && t.is_transport());
    }
}
