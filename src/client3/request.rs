//! Building a signed API 3.0 request: the flattened GET query, the TC3 signature over the exact
//! host and content type that are sent, and the `X-TC-*` headers. Pure functions; no I/O.

use std::fmt;

use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use super::{Endpoint, HttpMethod, REQUEST_CLIENT};
use vpc_wire::domain::Credentials;
use vpc_wire::v2::sign::encode;
use vpc_wire::v3::sign::{self, Tc3Request, header};

/// Everything that varies per request besides the action's parameters.
pub struct Common<'a> {
    /// The key pair (and token) to sign with.
    pub credentials: &'a Credentials,
    /// `X-TC-Action`.
    pub action: &'a str,
    /// `X-TC-Region`; not sent when empty.
    pub region: &'a str,
    /// `X-TC-Timestamp` (UNIX seconds).
    pub timestamp: i64,
    /// `X-TC-Language`, when configured.
    pub language: Option<&'a str>,
    /// The service in the credential scope ([`sign::SERVICE`] for VPC; tests use `cvm`).
    pub service: &'a str,
}

/// The parameters of one request as they travel.
pub enum Params {
    /// A POST with this JSON body, sent byte for byte.
    Json(Vec<u8>),
    /// A GET with this (already encoded) query string.
    Query(String),
}

/// A signed request ready to send. Its `Debug` shows neither the signature nor the token.
pub struct Signed3Request {
    /// GET or POST.
    pub method: HttpMethod,
    /// The URL (with the query for GET).
    pub url: Url,
    /// Every header to send, `Host` and `Content-Type` included, exactly as signed.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
    /// The timestamp that was signed.
    pub timestamp: i64,
    /// The canonical request (kept for tests; never logged).
    pub canonical_request: String,
    /// The hex signature (kept for tests; never logged).
    pub signature: String,
}

impl Signed3Request {
    /// The value of a header to be sent, by exact name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for Signed3Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed3Request")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("action", &self.header(header::ACTION))
            .finish_non_exhaustive()
    }
}

/// Signs `params` for `endpoint` with TC3-HMAC-SHA256 and lays out the request to send.
pub fn sign_request(endpoint: &Endpoint, common: &Common<'_>, params: Params) -> Signed3Request {
    let mut url = endpoint.url().clone();
    let (method, body) = match params {
        Params::Json(body) => (HttpMethod::Post, body),
        Params::Query(query) => {
            url.set_query(Some(&query).filter(|q| !q.is_empty()).map(String::as_str));
            (HttpMethod::Get, Vec::new())
        }
    };
    let host = endpoint.host();
    let query = url.query().unwrap_or("");
    let tc3 = match method {
        HttpMethod::Post => Tc3Request::post_json(host, &body, common.timestamp),
        HttpMethod::Get => Tc3Request::get(host, query, common.timestamp),
    };
    let tc3 = Tc3Request { service: common.service, ..tc3 };
    let canonical_request = tc3.canonical_request();
    let signature = tc3.signature(common.credentials.secret_key.expose());
    let date = tc3.date();
    let authorization =
        sign::authorization(&common.credentials.secret_id, &date, common.service, sign::SIGNED_HEADERS, &signature);
    let mut headers = vec![
        (header::AUTHORIZATION, authorization),
        (header::CONTENT_TYPE, tc3.content_type.to_owned()),
        (header::HOST, host.to_owned()),
        (header::ACTION, common.action.to_owned()),
        (header::VERSION, sign::VERSION.to_owned()),
        (header::TIMESTAMP, common.timestamp.to_string()),
    ];
    if !common.region.is_empty() {
        headers.push((header::REGION, common.region.to_owned()));
    }
    if let Some(token) = &common.credentials.token {
        headers.push((header::TOKEN, token.expose().to_owned()));
    }
    if let Some(language) = common.language {
        headers.push((header::LANGUAGE, language.to_owned()));
    }
    headers.push((header::REQUEST_CLIENT, REQUEST_CLIENT.to_owned()));
    Signed3Request { method, url, headers, body, timestamp: common.timestamp, canonical_request, signature }
}

/// Flattens a request into a query string the way Tencent's GET expects: object fields by name,
/// array items by index (`RouteTableIds.0=rtb-…`, `Filters.0.Values.0=…`), `null` left out, every
/// name and value percent-encoded (RFC 3986).
pub fn flatten_query<T: Serialize>(request: &T) -> Result<String, String> {
    let value = serde_json::to_value(request).map_err(|e| format!("request does not serialise: {e}"))?;
    let mut pairs = Vec::new();
    flatten_into("", &value, &mut pairs);
    Ok(pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&"))
}

fn flatten_into(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let name = |key: &str| if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") };
    match value {
        Value::Null => {}
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten_into(&name(k), v, out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| flatten_into(&name(&i.to_string()), v, out)),
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Bool(b) => out.push((prefix.to_owned(), b.to_string())),
        Value::Number(n) => out.push((prefix.to_owned(), n.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpc_wire::domain::Secret;
    use vpc_wire::v3::models::{DescribeRouteTablesRequest, Filter};

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const POST_BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    pub(crate) fn creds(token: Option<&str>) -> Credentials {
        Credentials { secret_id: ID.into(), secret_key: Secret::new(KEY), token: token.map(Secret::new) }
    }

    fn common<'a>(creds: &'a Credentials, timestamp: i64) -> Common<'a> {
        Common {
            credentials: creds,
            action: "DescribeInstances",
            region: "ap-guangzhou",
            timestamp,
            language: None,
            service: "cvm",
        }
    }

    #[test]
    fn the_official_post_vector_is_reproduced_by_the_request_builder() {
        let creds = creds(None);
        let ep = Endpoint::parse("https://cvm.tencentcloudapi.com/").unwrap();
        let req = sign_request(&ep, &common(&creds, 1551113065), Params::Json(POST_BODY.as_bytes().to_vec()));
        assert_eq!(req.signature, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
        assert_eq!(
            req.header(header::AUTHORIZATION),
            Some(
                "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
                 SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
            )
        );
        assert_eq!(req.header(header::CONTENT_TYPE), Some("application/json; charset=utf-8"));
        assert_eq!(req.header(header::HOST), Some("cvm.tencentcloudapi.com"));
        assert_eq!(req.header(header::TIMESTAMP), Some("1551113065"));
        assert_eq!(req.header(header::VERSION), Some("2017-03-12"));
        assert_eq!(req.body, POST_BODY.as_bytes());
        assert_eq!(req.url.as_str(), "https://cvm.tencentcloudapi.com/");
    }

    #[test]
    fn the_official_get_vector_is_reproduced_by_the_request_builder() {
        let creds = creds(None);
        let ep = Endpoint::parse("https://cvm.tencentcloudapi.com/").unwrap();
        let req = sign_request(&ep, &common(&creds, 1539084154), Params::Query("Limit=10&Offset=0".into()));
        assert_eq!(req.signature, "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474");
        assert_eq!(req.url.as_str(), "https://cvm.tencentcloudapi.com/?Limit=10&Offset=0");
        assert_eq!(req.header(header::CONTENT_TYPE), Some("application/x-www-form-urlencoded"));
        assert!(req.body.is_empty() && req.canonical_request.starts_with("GET\n/\nLimit=10&Offset=0\n"));
    }

    #[test]
    fn the_signed_host_keeps_a_non_default_port_and_drops_443() {
        let creds = creds(None);
        for (endpoint, host) in [
            ("https://127.0.0.1:8443/", "127.0.0.1:8443"),
            ("https://vpc.ap-guangzhou.tencentcloudapi.com:443/", "vpc.ap-guangzhou.tencentcloudapi.com"),
        ] {
            let ep = Endpoint::parse(endpoint).unwrap();
            let req = sign_request(&ep, &common(&creds, 1551113065), Params::Json(b"{}".to_vec()));
            assert_eq!(req.header(header::HOST), Some(host));
            assert!(req.canonical_request.contains(&format!("\nhost:{host}\n")), "{}", req.canonical_request);
        }
    }

    #[test]
    fn the_token_header_is_present_only_with_a_token() {
        let ep = Endpoint::parse("https://vpc.tencentcloudapi.com/").unwrap();
        let with = creds(Some("sts-token"));
        let req = sign_request(&ep, &common(&with, 1), Params::Json(b"{}".to_vec()));
        assert_eq!(req.header(header::TOKEN), Some("sts-token"));
        let without = creds(None);
        let req = sign_request(&ep, &common(&without, 1), Params::Json(b"{}".to_vec()));
        assert_eq!(req.header(header::TOKEN), None);
        assert_eq!(req.header(header::LANGUAGE), None);
        assert!(req.header(header::REQUEST_CLIENT).unwrap().starts_with("vpcroute-operator/"));
    }

    #[test]
    fn debug_of_a_signed_request_hides_the_signature_the_token_and_the_key() {
        let ep = Endpoint::parse("https://vpc.tencentcloudapi.com/").unwrap();
        let with = creds(Some("sts-token-value"));
        let req = sign_request(&ep, &common(&with, 1), Params::Json(b"{}".to_vec()));
        let shown = format!("{req:?}");
        assert!(!shown.contains(&req.signature) && !shown.contains("sts-token-value") && !shown.contains(KEY));
        assert!(shown.contains("DescribeInstances"), "{shown}");
    }

    #[test]
    fn requests_flatten_into_indexed_query_parameters() {
        let req = DescribeRouteTablesRequest {
            route_table_ids: Some(vec!["rtb-1".into(), "rtb-2".into()]),
            filters: Some(vec![Filter::new("vpc-id", ["vpc-1", "a b/未"])]),
            offset: Some("0".into()),
            limit: Some("100".into()),
        };
        let query = flatten_query(&req).unwrap();
        let mut pairs: Vec<&str> = query.split('&').collect();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            [
                "Filters.0.Name=vpc-id",
                "Filters.0.Values.0=vpc-1",
                "Filters.0.Values.1=a%20b%2F%E6%9C%AA",
                "Limit=100",
                "Offset=0",
                "RouteTableIds.0=rtb-1",
                "RouteTableIds.1=rtb-2",
            ]
        );
        let scalars = serde_json::json!({"Enabled": true, "RouteId": 7, "Gone": null});
        assert_eq!(flatten_query(&scalars).unwrap(), "Enabled=true&RouteId=7");
    }

    #[test]
    fn a_get_query_is_signed_exactly_as_sent() {
        let creds = creds(None);
        let ep = Endpoint::parse("https://vpc.tencentcloudapi.com/").unwrap();
        let query = "Filters.0.Values.0=a%20b&RouteTableIds.0=rtb-1".to_owned();
        let req = sign_request(&ep, &common(&creds, 1), Params::Query(query.clone()));
        assert_eq!(req.url.query(), Some(query.as_str()));
        assert!(req.canonical_request.starts_with(&format!("GET\n/\n{query}\n")));
    }
}
