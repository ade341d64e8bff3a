//! Reconcile errors and the one mapping from cloud errors to condition reasons. Pure; no I/O.

use crate::client::{ApiError, ApiErrorKind, ErrorClass};
use crate::reasons;
use crate::status::Readiness;
use vpc_wire::v2::codes;

/// Why a reconcile stopped early; retried with per-object backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes api call failed: {0}")]
    Kube(#[source] kube::Error),
    /// A retryable cloud call failed (throttled, unavailable, transport).
    #[error("cloud call {} failed", .0.action)]
    Cloud(#[source] ApiError),
    /// The credentials Secret or one of its keys is missing.
    #[error("credentials not found: {0}")]
    Credentials(String),
    /// The cloud answered in a way that contradicts itself; retried.
    #[error("inconsistent cloud state: {0}")]
    Inconsistent(String),
    /// The finalizer helper failed.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

impl Error {
    /// A bounded label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubernetesError",
            Error::Cloud(e) => readiness_for(e).reason,
            Error::Credentials(_) => reasons::CREDENTIALS_NOT_FOUND,
            Error::Inconsistent(_) => reasons::CLOUD_UNAVAILABLE,
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e) | kube::runtime::finalizer::Error::CleanupFailed(e) => {
                    e.reason()
                }
                _ => "FinalizerError",
            },
        }
    }
}

/// What the resource's Ready condition says about a failed cloud call.
pub fn readiness_for(err: &ApiError) -> Readiness {
    let reason = reason_for(err);
    Readiness::not_ready(reason, describe(err))
}

fn reason_for(err: &ApiError) -> &'static str {
    match (&err.kind, err.class) {
        (ApiErrorKind::Api { code, code_desc, .. }, _) => match *code {
            codes::REQUEST_LIMIT_EXCEEDED => reasons::THROTTLED,
            4100..=4199 | codes::ACCESS_DENIED => reasons::AUTH_FAILURE,
            codes::INVALID_PARAMETER => business_reason(code_desc),
            _ if matches!(err.class, ErrorClass::Retryable) => reasons::CLOUD_UNAVAILABLE,
            _ => reasons::CLOUD_REJECTED,
        },
        (_, ErrorClass::Permanent) => reasons::CLOUD_REJECTED,
        _ => reasons::CLOUD_UNAVAILABLE,
    }
}

fn business_reason(code_desc: &str) -> &'static str {
    match code_desc {
        codes::desc::ROUTE_ALREADY_EXISTS => reasons::ROUTE_ALREADY_EXISTS,
        codes::desc::INVALID_ROUTE_NEXT_HUB => reasons::INVALID_ROUTE_NEXT_HUB,
        codes::desc::INVALID_ROUTE_NEXT_TYPE => reasons::INVALID_ROUTE_NEXT_TYPE,
        codes::desc::INVALID_DESTINATION_CIDR => reasons::INVALID_DESTINATION_CIDR,
        codes::desc::ROUTE_LIMIT_EXCEEDED => reasons::ROUTE_LIMIT_EXCEEDED,
        codes::desc::INVALID_VPC => reasons::INVALID_VPC,
        codes::desc::INVALID_ROUTE_TABLE => reasons::INVALID_ROUTE_TABLE_ID,
        _ => reasons::CLOUD_REJECTED,
    }
}

/// `CreateRoute failed: code 4000 InvalidRouteNextHub.NotFound: <message> (requestId …)`.
pub fn describe(err: &ApiError) -> String {
    let detail = match &err.kind {
        ApiErrorKind::Api { code, code_desc, message } => format!("code {code} {code_desc}: {message}"),
        other => format!("{} error: {other}", err.class),
    };
    match &err.request_id {
        Some(id) => format!("{} failed: {detail} (requestId {id})", err.action),
        None => format!("{} failed: {detail}", err.action),
    }
}

/// Whether a failed call should be retried with backoff (rather than waiting for a change).
pub fn is_retryable(err: &ApiError) -> bool {
    matches!(err.class, ErrorClass::Retryable | ErrorClass::Transport)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Action;

    fn api(code: i64, desc: &str) -> ApiError {
        ApiError::api(Action::CreateRoute, code, desc, "msg", Some("req-1".into()))
    }

    #[test]
    fn each_business_code_maps_to_its_reason_without_the_not_found_suffix() {
        let cases = [
            (codes::desc::ROUTE_ALREADY_EXISTS, reasons::ROUTE_ALREADY_EXISTS),
            (codes::desc::INVALID_ROUTE_NEXT_HUB, reasons::INVALID_ROUTE_NEXT_HUB),
            (codes::desc::INVALID_ROUTE_NEXT_TYPE, reasons::INVALID_ROUTE_NEXT_TYPE),
            (codes::desc::INVALID_DESTINATION_CIDR, reasons::INVALID_DESTINATION_CIDR),
            (codes::desc::ROUTE_LIMIT_EXCEEDED, reasons::ROUTE_LIMIT_EXCEEDED),
            (codes::desc::INVALID_VPC, reasons::INVALID_VPC),
            (codes::desc::INVALID_ROUTE_TABLE, reasons::INVALID_ROUTE_TABLE_ID),
        ];
        for (desc, reason) in cases {
            let r = readiness_for(&api(4000, desc));
            assert_eq!(r.reason, reason);
            assert!(r.message.contains(desc) && r.message.contains("req-1"), "{}", r.message);
            assert!(!r.ready);
        }
    }

    #[test]
    fn throttling_auth_and_server_errors_have_their_own_reasons() {
        assert_eq!(readiness_for(&api(4400, "RequestLimitExceeded")).reason, reasons::THROTTLED);
        assert_eq!(readiness_for(&api(4100, "AuthFailure.SignatureFailure")).reason, reasons::AUTH_FAILURE);
        assert_eq!(readiness_for(&api(4104, "AuthFailure.SecretIdNotFound")).reason, reasons::AUTH_FAILURE);
        for code in [5100, 6000, 6200, 4500] {
            assert_eq!(readiness_for(&api(code, "")).reason, reasons::CLOUD_UNAVAILABLE, "{code}");
        }
        let t = ApiError::transport(Action::CreateRoute, ApiErrorKind::Timeout);
        assert_eq!(readiness_for(&t).reason, reasons::CLOUD_UNAVAILABLE);
        assert!(is_retryable(&t));
        assert!(!is_retryable(&api(4000, codes::desc::INVALID_VPC)));
    }
}
