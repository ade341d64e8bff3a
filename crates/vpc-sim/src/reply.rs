//! API 2.0 answers: the error type every check returns, and the JSON envelope
//! `{"code", "message", "codeDesc", "requestId", ...data}` (always HTTP 200). No I/O.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vpc_wire::v2::codes::{self, desc};

/// An API failure: the numeric `code`, the string `codeDesc` and a human `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code_desc} ({code}): {message}")]
pub struct ApiError {
    /// Numeric code (4000, 4100, …).
    pub code: i64,
    /// String code (`InvalidVpc.NotFound`, …).
    pub code_desc: &'static str,
    /// What went wrong, naming the parameter or entry.
    pub message: String,
}

impl ApiError {
    /// Any error.
    pub fn new(code: i64, code_desc: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { code, code_desc, message: message.into() }
    }

    /// A business or parameter error: code 4000 with `codeDesc`.
    pub fn business(code_desc: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_PARAMETER, code_desc, message)
    }

    /// A required parameter is absent.
    pub fn missing(param: &str) -> ApiError {
        ApiError::business(desc::INVALID_PARAMETER, format!("missing required parameter {param}"))
    }

    /// A parameter is present but malformed.
    pub fn malformed(param: &str, why: &str) -> ApiError {
        ApiError::business(desc::INVALID_PARAMETER, format!("parameter {param} {why}"))
    }
}

/// Data-less success payload.
#[derive(Serialize)]
pub struct Empty {}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    code: i64,
    message: &'a str,
    #[serde(rename = "codeDesc")]
    code_desc: &'a str,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(flatten)]
    data: T,
}

/// A success envelope carrying `data`'s fields beside the common ones.
pub fn success<T: Serialize>(request_id: &str, data: T) -> Response {
    let envelope = Envelope { code: codes::OK, message: "", code_desc: desc::SUCCESS, request_id, data };
    Json(envelope).into_response()
}

/// A failure envelope.
pub fn failure(request_id: &str, error: &ApiError) -> Response {
    let envelope =
        Envelope { code: error.code, message: &error.message, code_desc: error.code_desc, request_id, data: Empty {} };
    Json(envelope).into_response()
}

/// A fresh uuid-shaped request id (version-4 layout).
pub fn request_id() -> String {
    let a: u32 = rand::random();
    let b: u16 = rand::random();
    let c: u16 = rand::random::<u16>() & 0x0fff;
    let d: u16 = (rand::random::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = rand::random::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_uuids_and_differ() {
        let (a, b) = (request_id(), request_id());
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert_eq!(a.as_bytes()[14], b'4');
    }
}
