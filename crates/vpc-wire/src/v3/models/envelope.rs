//! The API 3.0 envelope: `{"Response": {...data..., "RequestId": "…"}}` and its error form
//! `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`, with a parser and builders. Pure.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::nullable;

/// A success envelope, typed: the action's fields flattened beside `RequestId`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Response<T> {
    /// The `Response` object.
    #[serde(rename = "Response")]
    pub response: ResponseBody<T>,
}

/// The inside of a success envelope.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResponseBody<T> {
    /// The action's fields.
    #[serde(flatten)]
    pub data: T,
    /// Tencent's request id.
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// The `Error` object of a failed call.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ApiError {
    /// The string code (see [`crate::v3::codes`]).
    pub code: String,
    /// A human-readable message; never parse it.
    #[serde(default, deserialize_with = "nullable")]
    pub message: String,
}

/// An error envelope, typed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The `Response` object.
    #[serde(rename = "Response")]
    pub response: ErrorBody,
}

/// The inside of an error envelope.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
    /// Tencent's request id (`""` when absent).
    #[serde(default, deserialize_with = "nullable")]
    pub request_id: String,
}

/// A failed call as a client sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiErrorBody {
    /// The string code.
    pub code: String,
    /// The message.
    pub message: String,
    /// Tencent's request id (`""` when absent).
    pub request_id: String,
}

/// Parses a 200 answer. `Ok(Ok((data, request_id)))` on success, `Ok(Err(error))` for an error
/// envelope, `Err(reason)` when the body is not a 3.0 envelope: not JSON, no `Response` object, a
/// malformed `Error`, neither `Error` nor `RequestId`, or data that does not fit `T`.
pub fn parse_response<T: DeserializeOwned>(body: &[u8]) -> Result<Result<(T, String), ApiErrorBody>, String> {
    let mut top: Map<String, Value> = serde_json::from_slice(body).map_err(|e| format!("envelope: {e}"))?;
    let Some(Value::Object(mut response)) = top.remove("Response") else {
        return Err("envelope: no Response object".into());
    };
    let request_id = match response.remove("RequestId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(format!("envelope: RequestId is not a string: {other}")),
    };
    if let Some(error) = response.remove("Error") {
        let error: ApiError = serde_json::from_value(error).map_err(|e| format!("envelope: Error: {e}"))?;
        let request_id = request_id.unwrap_or_default();
        return Ok(Err(ApiErrorBody { code: error.code, message: error.message, request_id }));
    }
    let request_id = request_id.ok_or("envelope: Response has neither Error nor RequestId")?;
    let data = T::deserialize(Value::Object(response)).map_err(|e| format!("data: {e}"))?;
    Ok(Ok((data, request_id)))
}

/// The success envelope as JSON. `data` must serialise to an object (every response model here
/// does); anything else contributes no fields.
pub fn success_value<T: Serialize>(request_id: &str, data: &T) -> Value {
    let mut fields = match serde_json::to_value(data) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    fields.insert("RequestId".into(), Value::String(request_id.into()));
    let mut top = Map::new();
    top.insert("Response".into(), Value::Object(fields));
    Value::Object(top)
}

/// The success envelope as bytes, ready to send.
pub fn success_body<T: Serialize>(request_id: &str, data: &T) -> Vec<u8> {
    success_value(request_id, data).to_string().into_bytes()
}

/// The error envelope as bytes, ready to send.
pub fn error_body(request_id: &str, code: &str, message: &str) -> Vec<u8> {
    let error = ApiError { code: code.into(), message: message.into() };
    let envelope = ErrorResponse { response: ErrorBody { error, request_id: request_id.into() } };
    serde_json::to_value(&envelope).unwrap_or(Value::Null).to_string().into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::v3::codes;
    use crate::v3::models::{DescribeVpcLimitsResponse, EmptyResponse, VpcLimit};

    #[test]
    fn a_success_body_parses_back_with_its_request_id() {
        let data = DescribeVpcLimitsResponse {
            vpc_limit_set: vec![VpcLimit { limit_type: "route-table-max-policies".into(), limit_value: 50 }],
        };
        let body = success_body("req-1", &data);
        assert_eq!(parse_response::<DescribeVpcLimitsResponse>(&body), Ok(Ok((data.clone(), "req-1".into()))));
        let typed: Response<DescribeVpcLimitsResponse> = serde_json::from_slice(&body).unwrap();
        assert_eq!(typed.response, ResponseBody { data: data.clone(), request_id: "req-1".into() });
        assert_eq!(serde_json::to_value(&typed).unwrap(), success_value("req-1", &data));
    }

    #[test]
    fn an_empty_response_is_just_a_request_id() {
        let body = success_body("r", &EmptyResponse {});
        assert_eq!(body, br#"{"Response":{"RequestId":"r"}}"#);
        assert_eq!(parse_response::<EmptyResponse>(&body), Ok(Ok((EmptyResponse {}, "r".into()))));
        let typed: Response<EmptyResponse> = serde_json::from_slice(&body).unwrap();
        assert_eq!(typed.response.request_id, "r");
    }

    #[test]
    fn an_error_envelope_parses_to_its_code_message_and_request_id() {
        let body = error_body("req-2", codes::LIMIT_EXCEEDED, "entry 3: quota 50");
        let want = ApiErrorBody {
            code: codes::LIMIT_EXCEEDED.into(),
            message: "entry 3: quota 50".into(),
            request_id: "req-2".into(),
        };
        assert_eq!(parse_response::<EmptyResponse>(&body), Ok(Err(want)));
        let tencent = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure",
            "Message":"The provided credentials could not be validated."},
            "RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#;
        let got = parse_response::<DescribeVpcLimitsResponse>(tencent).unwrap().unwrap_err();
        assert_eq!(got.code, codes::AUTH_SIGNATURE_FAILURE);
        assert_eq!(got.request_id, "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6");
        let bare = br#"{"Response":{"Error":{"Code":"InternalError","Message":null}}}"#;
        assert_eq!(parse_response::<EmptyResponse>(bare).unwrap().unwrap_err().request_id, "");
    }

    #[test]
    fn bodies_that_are_not_envelopes_are_decode_errors() {
        let cases: [&[u8]; 9] = [
            b"",
            b"<html>502</html>",
            b"[1]",
            br#"{"code":0,"codeDesc":"Success"}"#,
            br#"{"Response":"x"}"#,
            br#"{"Response":{}}"#,
            br#"{"Response":{"TotalCount":1}}"#,
            br#"{"Response":{"Error":{"Message":"no code"},"RequestId":"r"}}"#,
            br#"{"Response":{"RequestId":5}}"#,
        ];
        for body in cases {
            assert!(parse_response::<EmptyResponse>(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
        let wrong_shape = br#"{"Response":{"VpcLimitSet":"nope","RequestId":"r"}}"#;
        assert!(parse_response::<DescribeVpcLimitsResponse>(wrong_shape).unwrap_err().starts_with("data:"));
    }
}
