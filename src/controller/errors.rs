//! Reconcile errors: why a reconcile stopped early, with a bounded reason label. Pure; no I/O.
//! Cloud failures arrive already classified (see `cloud::CloudError`); nothing here reads a wire code.

use crate::cloud::CloudError;
use crate::reasons::Reason;

/// Why a reconcile stopped early; retried with per-object backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Kubernetes API call failed.
    #[error("kubernetes api call failed: {0}")]
    Kube(#[source] kube::Error),
    /// A retryable cloud call failed (throttled, unavailable, transport).
    #[error("cloud call {} failed", .0.action)]
    Cloud(#[source] CloudError),
    /// The credentials Secret or one of its keys is missing.
    #[error("credentials not found: {0}")]
    Credentials(String),
    /// The credentials Secret holds something that cannot be a credential.
    #[error("invalid credentials: {0}")]
    InvalidCredentials(String),
    /// The cloud answered in a way that contradicts itself; retried.
    #[error("inconsistent cloud state: {0}")]
    Inconsistent(String),
    /// A deleted resource waits: a write of its whose answer never came may still land, and
    /// releasing it now could leave that route behind. Retried once the cloud can no longer
    /// apply the write (no backoff growth).
    #[error("a write whose answer never came may still land; deciding in {0:?}")]
    WriteMayLand(std::time::Duration),
    /// The finalizer helper failed.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
}

impl Error {
    /// A bounded label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubernetesError",
            Error::Cloud(e) => e.reason.as_str(),
            Error::Credentials(_) => Reason::CredentialsNotFound.as_str(),
            Error::InvalidCredentials(_) => Reason::InvalidCredentials.as_str(),
            Error::Inconsistent(_) => Reason::CloudUnavailable.as_str(),
            Error::WriteMayLand(_) => "WriteMayLand",
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e) | kube::runtime::finalizer::Error::CleanupFailed(e) => {
                    e.reason()
                }
                _ => "FinalizerError",
            },
        }
    }

    /// How long to wait before trying again, when the error itself says (not backoff).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::WriteMayLand(left) => Some(*left),
            Error::Finalizer(inner) => match inner.as_ref() {
                kube::runtime::finalizer::Error::ApplyFailed(e) | kube::runtime::finalizer::Error::CleanupFailed(e) => {
                    e.retry_after()
                }
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::ErrorClass;
    use crate::cloud::Operation;
    use crate::cloud::memory::error;

    #[test]
    fn a_cloud_error_is_labelled_with_its_reason_and_a_missing_secret_with_its_own() {
        let e = Error::Cloud(error(Operation::Create, ErrorClass::Retryable, Reason::Throttled));
        assert_eq!(e.reason(), "Throttled");
        assert_eq!(Error::Credentials("x".into()).reason(), "CredentialsNotFound");
        assert_eq!(Error::Inconsistent("x".into()).reason(), "CloudUnavailable");
    }
}
