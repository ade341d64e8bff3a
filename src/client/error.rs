//! Errors of the API 2.0 client and their one-time classification (permanent, retryable,
//! not-found, transport) from the contract's code table. Pure data; no I/O.

use std::fmt;
use std::path::PathBuf;

use vpc_wire::v2::codes;

pub use vpc_wire::v2::Action;

/// What a caller should do about a failed call; decided once, here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Bad input, a business rule, a conflict or an authentication problem: retrying the same
    /// request will fail again until something changes.
    Permanent,
    /// The API asked us to come back later (rate limit, replay, internal error): retry with backoff
    /// (every retry is signed with a new Nonce).
    Retryable,
    /// The resource does not exist (code 5000); on delete it means "already gone".
    NotFound,
    /// The request may or may not have reached the API (timeout, connection error, non-200 HTTP,
    /// unreadable body): retry, but after a `CreateRoute` read the table first.
    Transport,
}

impl ErrorClass {
    /// A bounded, lower-case label for logs, condition messages and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Permanent => "permanent",
            ErrorClass::Retryable => "retryable",
            ErrorClass::NotFound => "not-found",
            ErrorClass::Transport => "transport",
        }
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a non-zero API 2.0 `code`, per the contract's table. Codes outside the table:
/// other 4xxx are client-side and permanent; 5100 and above are server-side and retryable.
pub fn classify(code: i64) -> ErrorClass {
    match code {
        codes::REQUEST_LIMIT_EXCEEDED | codes::REPLAY => ErrorClass::Retryable,
        codes::RESOURCE_NOT_FOUND => ErrorClass::NotFound,
        codes::RESOURCE_OP_FAILED | codes::INTERNAL_ERROR | codes::UNAVAILABLE => ErrorClass::Retryable,
        c if c > codes::RESOURCE_NOT_FOUND => ErrorClass::Retryable,
        _ => ErrorClass::Permanent,
    }
}

/// What went wrong in a call. Cheap to clone, so one batch's outcome can reach every caller.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiErrorKind {
    /// The API processed the request and answered with a non-zero code.
    #[error("api answered code {code} {code_desc}: {message}")]
    Api {
        /// The numeric `code`.
        code: i64,
        /// The string code (`codeDesc`), e.g. `InvalidDestinationCidr`; empty when absent.
        code_desc: String,
        /// The human-readable `message`; empty when absent.
        message: String,
    },
    /// No complete answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// No connection could be made (DNS, refused, TLS handshake or certificate verification).
    #[error("could not connect to the endpoint: {}", root_cause(.0))]
    Connect(#[source] std::sync::Arc<reqwest::Error>),
    /// The request failed after connecting (connection reset, body read error).
    #[error("request failed: {}", root_cause(.0))]
    Send(#[source] std::sync::Arc<reqwest::Error>),
    /// The endpoint answered with an HTTP status other than 200.
    #[error("endpoint answered http status {0}")]
    HttpStatus(u16),
    /// The body is not an API 2.0 envelope of the expected shape.
    #[error("response body did not parse: {0}")]
    Decode(String),
    /// The call succeeded but the asked-for resource is not in the answer.
    #[error("{0} is not in the response")]
    Absent(String),
}

/// The innermost cause of a transport error (e.g. `invalid peer certificate: UnknownIssuer`),
/// so a one-line message says why; the errors are built without their URL.
fn root_cause(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A failed API 2.0 call: which action, its class, what happened and Tencent's request id.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The action that failed.
    pub action: Action,
    /// What to do about it.
    pub class: ErrorClass,
    /// What happened.
    pub kind: ApiErrorKind,
    /// Tencent's `requestId`, when the answer carried one.
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error answered by the API (non-zero `code`), classified by its code.
    pub fn api(action: Action, code: i64, code_desc: &str, message: &str, request_id: Option<String>) -> ApiError {
        let kind = ApiErrorKind::Api { code, code_desc: code_desc.to_owned(), message: message.to_owned() };
        ApiError { action, class: classify(code), kind, request_id }
    }

    /// A transport failure (timeout, connection, HTTP status, unreadable body).
    pub fn transport(action: Action, kind: ApiErrorKind) -> ApiError {
        ApiError { action, class: ErrorClass::Transport, kind, request_id: None }
    }

    /// The asked-for resource is missing from a successful answer.
    pub fn absent(action: Action, what: impl Into<String>, request_id: Option<String>) -> ApiError {
        ApiError { action, class: ErrorClass::NotFound, kind: ApiErrorKind::Absent(what.into()), request_id }
    }

    /// Maps a reqwest failure to a transport error; the URL (which for GET holds the signed
    /// query) is dropped so it can never reach a log.
    pub fn from_reqwest(action: Action, err: reqwest::Error) -> ApiError {
        let err = err.without_url();
        let kind = if err.is_timeout() {
            ApiErrorKind::Timeout
        } else if err.is_connect() {
            ApiErrorKind::Connect(std::sync::Arc::new(err))
        } else if err.is_decode() {
            ApiErrorKind::Decode(err.to_string())
        } else {
            ApiErrorKind::Send(std::sync::Arc::new(err))
        };
        ApiError::transport(action, kind)
    }

    /// The numeric API code, when the API answered.
    pub fn code(&self) -> Option<i64> {
        match &self.kind {
            ApiErrorKind::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The string code (`codeDesc`), when the API answered with one.
    pub fn code_desc(&self) -> Option<&str> {
        match &self.kind {
            ApiErrorKind::Api { code_desc, .. } if !code_desc.is_empty() => Some(code_desc),
            _ => None,
        }
    }

    /// The API's message, when it answered with one.
    pub fn message(&self) -> Option<&str> {
        match &self.kind {
            ApiErrorKind::Api { message, .. } if !message.is_empty() => Some(message),
            _ => None,
        }
    }

    /// Whether retrying (with backoff, a new Nonce, and for `CreateRoute` a read first) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Retryable | ErrorClass::Transport)
    }

    /// Whether the resource does not exist (on delete: already gone).
    pub fn is_not_found(&self) -> bool {
        self.class == ErrorClass::NotFound
    }

    /// Whether the API rejected the request as a replay (stale Timestamp or reused Nonce).
    pub fn is_replay(&self) -> bool {
        self.code() == Some(codes::REPLAY)
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, ApiErrorKind::Timeout)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "calling {} failed ({}): {}", self.action, self.class, self.kind)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// A client configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// The endpoint is not an absolute `https://` URL without query.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The CA bundle could not be read.
    #[error("could not read the ca bundle {path:?}")]
    ReadCa {
        /// The bundle's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CA bundle holds no usable PEM certificate.
    #[error("the ca bundle {path:?} holds no valid pem certificate")]
    ParseCa {
        /// The bundle's path.
        path: PathBuf,
        /// The parse error, if any.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The HTTP client could not be built.
    #[error("could not build the https client")]
    Build(#[source] reqwest::Error),
}

/// Credentials missing from the environment.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set or empty")]
pub struct CredentialsError(pub &'static str);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_contract_table_has_its_class() {
        let table = [
            (4000, ErrorClass::Permanent),
            (4100, ErrorClass::Permanent),
            (4101, ErrorClass::Permanent),
            (4102, ErrorClass::Permanent),
            (4103, ErrorClass::Permanent),
            (4104, ErrorClass::Permanent),
            (4105, ErrorClass::Permanent),
            (4300, ErrorClass::Permanent),
            (4400, ErrorClass::Retryable),
            (4500, ErrorClass::Retryable),
            (4600, ErrorClass::Permanent),
            (5000, ErrorClass::NotFound),
            (5100, ErrorClass::Retryable),
            (6000, ErrorClass::Retryable),
            (6200, ErrorClass::Retryable),
        ];
        for (code, class) in table {
            assert_eq!(classify(code), class, "code {code}");
        }
    }

    #[test]
    fn codes_outside_the_table_are_permanent_below_5000_and_retryable_above() {
        assert_eq!(classify(4999), ErrorClass::Permanent);
        assert_eq!(classify(1), ErrorClass::Permanent);
        assert_eq!(classify(6100), ErrorClass::Retryable);
    }

    #[test]
    fn api_errors_carry_code_desc_and_message_and_say_what_failed() {
        let e = ApiError::api(Action::CreateRoute, 4000, "RouteAlreadyExists", "entry 0", Some("req-1".into()));
        assert_eq!(e.code(), Some(4000));
        assert_eq!(e.code_desc(), Some("RouteAlreadyExists"));
        assert_eq!(e.message(), Some("entry 0"));
        assert!(!e.is_retryable());
        let shown = e.to_string();
        assert!(shown.starts_with("calling CreateRoute failed (permanent)"), "{shown}");
        assert!(shown.contains("4000 RouteAlreadyExists: entry 0"), "{shown}");
    }

    #[test]
    fn replay_is_retryable_and_recognised() {
        let e = ApiError::api(Action::DeleteRoute, 4500, "AuthFailure.SignatureExpire", "", None);
        assert!(e.is_retryable() && e.is_replay());
        assert_eq!(e.message(), None);
    }

    #[test]
    fn transport_errors_are_retryable_and_have_no_code() {
        let e = ApiError::transport(Action::DescribeVpcEx, ApiErrorKind::HttpStatus(503));
        assert!(e.is_retryable());
        assert_eq!(e.code_desc(), None);
        assert_eq!(e.to_string(), "calling DescribeVpcEx failed (transport): endpoint answered http status 503");
    }

    #[test]
    fn not_found_is_not_retryable() {
        let e = ApiError::api(Action::DeleteRoute, 5000, "InvalidRoute.NotFound", "", None);
        assert!(e.is_not_found() && !e.is_retryable());
    }
}
