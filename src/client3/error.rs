//! The failure of an API 3.0 call: the action, its class (from the string code, or transport),
//! Tencent's code, message and request id. Pure data; no I/O.

use std::fmt;

use vpc_wire::v3::Action;
use vpc_wire::v3::codes::{self, Class};
use vpc_wire::v3::models::ApiErrorBody;

use super::ErrorClass;

/// A failed API 3.0 call. Never carries keys, tokens, signatures or the request URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError3 {
    /// The action that failed.
    pub action: Action,
    /// What to do about it: the code's class, or `Transport` when the API did not answer.
    pub class: ErrorClass,
    /// Tencent's string code (`Response.Error.Code`); `None` when the API did not answer.
    pub code: Option<String>,
    /// Tencent's message, or what went wrong in transport.
    pub message: String,
    /// Tencent's `RequestId`, when the answer carried one.
    pub request_id: Option<String>,
}

impl ApiError3 {
    /// An error envelope answered by the API, classified by its code (§2.3): throttling and
    /// server-side codes are retryable, `ResourceNotFound*` not-found, everything else
    /// (`AuthFailure.*` included) permanent.
    pub fn api(action: Action, body: ApiErrorBody) -> ApiError3 {
        let class = match codes::classify(&body.code) {
            Class::Throttled | Class::Retryable => ErrorClass::Retryable,
            Class::NotFound => ErrorClass::NotFound,
            Class::Credentials | Class::Permanent => ErrorClass::Permanent,
        };
        let request_id = Some(body.request_id).filter(|r| !r.is_empty());
        ApiError3 { action, class, code: Some(body.code), message: body.message, request_id }
    }

    /// A transport failure: timeout, connection, non-200 status or an undecodable body.
    pub fn transport(action: Action, message: impl Into<String>) -> ApiError3 {
        ApiError3 { action, class: ErrorClass::Transport, code: None, message: message.into(), request_id: None }
    }

    /// A failure before anything was sent (the request did not serialise); permanent.
    pub fn local(action: Action, message: impl Into<String>) -> ApiError3 {
        ApiError3 { action, class: ErrorClass::Permanent, code: None, message: message.into(), request_id: None }
    }

    /// The asked-for resource is missing from a successful answer.
    pub fn absent(action: Action, what: &str, request_id: Option<String>) -> ApiError3 {
        let message = format!("{what} is not in the response");
        ApiError3 { action, class: ErrorClass::NotFound, code: None, message, request_id }
    }

    /// Maps a reqwest failure to a transport error, without its URL (a GET URL holds the query)
    /// and with the innermost cause, e.g. `invalid peer certificate: UnknownIssuer`.
    pub fn from_reqwest(action: Action, err: reqwest::Error) -> ApiError3 {
        let err = err.without_url();
        let what = if err.is_timeout() {
            "request timed out"
        } else if err.is_connect() {
            "could not connect to the endpoint"
        } else {
            "request failed"
        };
        let mut cause: &dyn std::error::Error = &err;
        while let Some(next) = cause.source() {
            cause = next;
        }
        ApiError3::transport(action, format!("{what}: {cause}"))
    }

    /// Whether retrying with backoff may succeed (after a create: read the table first).
    pub fn is_retryable(&self) -> bool {
        matches!(self.class, ErrorClass::Retryable | ErrorClass::Transport)
    }

    /// Whether the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.class == ErrorClass::NotFound
    }

    /// Whether the code is `family` or one of its sub-codes.
    pub fn has_code(&self, family: &str) -> bool {
        self.code.as_deref().and_then(|c| c.strip_prefix(family)).is_some_and(|r| r.is_empty() || r.starts_with('.'))
    }
}

impl fmt::Display for ApiError3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "calling {} failed ({}): ", self.action, self.class)?;
        match &self.code {
            Some(code) => write!(f, "code {code}: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        match &self.request_id {
            Some(id) => write!(f, " (requestId {id})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for ApiError3 {}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> ApiErrorBody {
        ApiErrorBody { code: code.into(), message: "msg".into(), request_id: "req-1".into() }
    }

    #[test]
    fn api_errors_are_classed_by_their_code() {
        let cases = [
            (codes::REQUEST_LIMIT_EXCEEDED_UIN, ErrorClass::Retryable),
            ("InternalError.DbError", ErrorClass::Retryable),
            (codes::RESOURCE_NOT_FOUND, ErrorClass::NotFound),
            (codes::AUTH_SIGNATURE_FAILURE, ErrorClass::Permanent),
            (codes::INVALID_PARAMETER_VALUE_DUPLICATE, ErrorClass::Permanent),
        ];
        for (code, class) in cases {
            let e = ApiError3::api(Action::CreateRoutes, body(code));
            assert_eq!((e.class, e.code.as_deref()), (class, Some(code)), "{code}");
            assert_eq!(e.request_id.as_deref(), Some("req-1"));
        }
        let bare = ApiError3::api(Action::CreateRoutes, ApiErrorBody { request_id: String::new(), ..body("X") });
        assert_eq!(bare.request_id, None);
    }

    #[test]
    fn the_display_names_action_class_code_message_and_request_id() {
        let e = ApiError3::api(Action::CreateRoutes, body(codes::LIMIT_EXCEEDED));
        assert_eq!(e.to_string(), "calling CreateRoutes failed (permanent): code LimitExceeded: msg (requestId req-1)");
        let t = ApiError3::transport(Action::DescribeVpcs, "endpoint answered http status 502");
        assert!(t.is_retryable() && t.code.is_none());
        assert_eq!(t.to_string(), "calling DescribeVpcs failed (transport): endpoint answered http status 502");
    }

    #[test]
    fn code_families_match_whole_names() {
        let e = ApiError3::api(Action::DeleteRoutes, body("RequestLimitExceeded.IPLimitExceeded"));
        assert!(e.has_code("RequestLimitExceeded") && !e.has_code("RequestLimit"));
        assert!(ApiError3::absent(Action::DescribeRouteTables, "route table rtb-1", None).is_not_found());
    }
}
