//! API 3.0 answers and inputs: the error type every 3.0 check returns, the `{"Response": …}`
//! envelopes (built with `vpc-wire`'s builders, always HTTP 200), and the unflattening of
//! `Routes.0.GatewayId=…` style parameters (GET, v1 and form bodies) into the JSON the request
//! models parse. No I/O.

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use vpc_wire::v2::codes::desc;
use vpc_wire::v3::codes;
use vpc_wire::v3::models::{error_body, success_body};

use crate::app::NotSaved;
use crate::reply::ApiError;

/// A 3.0 failure: the string `Code` and a human `Message` (naming the parameter or entry).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct V3Error {
    /// One of [`vpc_wire::v3::codes`].
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl V3Error {
    /// Any error.
    pub fn new(code: &'static str, message: impl Into<String>) -> V3Error {
        V3Error { code, message: message.into() }
    }

    /// A required parameter (or header) is absent or empty.
    pub fn missing(name: &str) -> V3Error {
        V3Error::new(codes::MISSING_PARAMETER, format!("missing required parameter {name}"))
    }
}

impl From<NotSaved> for V3Error {
    fn from(error: NotSaved) -> V3Error {
        V3Error::new(codes::INTERNAL_ERROR, error.to_string())
    }
}

impl From<ApiError> for V3Error {
    /// The 3.0 code for an error of the checks shared with 2.0 (v1 signatures, replay guard).
    fn from(error: ApiError) -> V3Error {
        let code = match error.code_desc {
            desc::SIGNATURE_FAILURE => codes::AUTH_SIGNATURE_FAILURE,
            desc::SECRET_ID_NOT_FOUND => codes::AUTH_SECRET_ID_NOT_FOUND,
            desc::TOKEN_FAILURE => codes::AUTH_TOKEN_FAILURE,
            desc::SIGNATURE_EXPIRE => codes::AUTH_SIGNATURE_EXPIRE,
            desc::INTERNAL_ERROR => codes::INTERNAL_ERROR,
            desc::REQUEST_LIMIT_EXCEEDED => codes::REQUEST_LIMIT_EXCEEDED,
            _ if error.message.starts_with("missing required parameter") => codes::MISSING_PARAMETER,
            _ => codes::INVALID_PARAMETER,
        };
        V3Error::new(code, error.message)
    }
}

fn json(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A success envelope around `data`.
pub fn success<T: Serialize>(request_id: &str, data: &T) -> Response {
    json(success_body(request_id, data))
}

/// An error envelope.
pub fn failure(request_id: &str, error: &V3Error) -> Response {
    json(error_body(request_id, error.code, &error.message))
}

/// Parses an action's input into its request model; a shape mismatch is `InvalidParameter`.
pub fn parse_input<T: DeserializeOwned>(input: Value) -> Result<T, V3Error> {
    serde_json::from_value(input).map_err(|e| V3Error::new(codes::INVALID_PARAMETER, format!("request: {e}")))
}

/// A tree of flattened names before arrays are recognised.
#[derive(Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn into_value(self) -> Value {
        if self.children.is_empty() {
            return Value::String(self.value.unwrap_or_default());
        }
        if self.children.keys().all(|k| k.parse::<usize>().is_ok()) {
            let mut items: Vec<(usize, Node)> =
                self.children.into_iter().filter_map(|(k, n)| Some((k.parse().ok()?, n))).collect();
            items.sort_by_key(|(i, _)| *i);
            return Value::Array(items.into_iter().map(|(_, n)| n.into_value()).collect());
        }
        Value::Object(self.children.into_iter().map(|(k, n)| (k, n.into_value())).collect::<Map<_, _>>())
    }
}

/// `Routes.0.GatewayId=x&Limit=10` as `{"Routes": [{"GatewayId": "x"}], "Limit": "10"}`: names
/// split at dots, all-numeric levels become arrays in index order, every leaf a string (the
/// request models read numbers and flags from strings). `_` is not a separator here.
pub fn unflatten<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut root = Node::default();
    for (name, value) in pairs {
        let mut node = &mut root;
        for part in name.split('.') {
            node = node.children.entry(part.to_string()).or_default();
        }
        node.value = Some(value.to_string());
    }
    if root.children.is_empty() { Value::Object(Map::new()) } else { root.into_value() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flattened_names_become_nested_arrays_and_objects_in_index_order() {
        let pairs = [
            ("Filters.1.Name", "vpc-id"),
            ("Filters.0.Values.0", "rtb-1"),
            ("Filters.0.Name", "route-table-id"),
            ("Filters.10.Name", "x"),
            ("Offset", "0"),
        ];
        let v = unflatten(pairs);
        assert_eq!(v["Filters"][0], serde_json::json!({"Name": "route-table-id", "Values": ["rtb-1"]}));
        assert_eq!((v["Filters"][1]["Name"].as_str(), v["Filters"][2]["Name"].as_str()), (Some("vpc-id"), Some("x")));
        assert_eq!(v["Offset"], "0");
        assert_eq!(unflatten([]), serde_json::json!({}));
    }

    #[test]
    fn errors_of_the_shared_v1_checks_get_their_3_0_codes() {
        let e = V3Error::from(ApiError::missing("Nonce"));
        assert_eq!(e.code, codes::MISSING_PARAMETER);
        let e = V3Error::from(ApiError::new(4100, desc::SIGNATURE_FAILURE, "x"));
        assert_eq!(e.code, codes::AUTH_SIGNATURE_FAILURE);
    }
}
