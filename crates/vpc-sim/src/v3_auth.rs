//! Decoding and authentication of API 3.0 calls on `/`: TC3-HMAC-SHA256 (headers `Authorization`,
//! `X-TC-*`; JSON POST, form POST or GET query) and signature v1 on 3.0 (`Action`, `Version`,
//! `Signature`… as GET query or POST form, path `/`, nonce replay guard as in 2.0). Pure given
//! the clock and the app's state; no I/O. Keys, tokens and signatures never reach a message.

use axum::http::{HeaderMap, Method, Uri};
use serde_json::Value;
use vpc_wire::domain::Secret;
use vpc_wire::v3::codes;
use vpc_wire::v3::sign::{self, AuthorizationParts, canonical_request_with_headers, header, parse_authorization};

use crate::api;
use crate::app::App;
use crate::auth::{self, Signed, WINDOW_SECS};
use crate::params::Params;
use crate::v3_reply::{V3Error, unflatten};

/// Common parameters of signature v1: never part of an action's input.
const V1_COMMON: [&str; 11] = [
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "SignatureMethod",
    "Signature",
    "Token",
    "RequestClient",
    "Language",
];

/// How a call is signed.
enum Scheme {
    /// TC3: the header taken apart (or why it could not be).
    Tc3(Result<AuthorizationParts, V3Error>),
    /// Signature v1 with its parameters.
    V1(Params),
}

/// A decoded 3.0 call, not yet authenticated.
pub struct Incoming {
    /// `X-TC-Action` or `Action`, as sent.
    pub action: Option<String>,
    /// `X-TC-Version` or `Version`.
    pub version: Option<String>,
    /// `X-TC-Region` or `Region`.
    pub region: Option<String>,
    /// The action's parameters as JSON (body, or the unflattened query or form).
    pub input: Value,
    scheme: Scheme,
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

fn is_form(headers: &HeaderMap) -> bool {
    header_text(headers, header::CONTENT_TYPE).is_some_and(|ct| ct.starts_with(sign::CONTENT_TYPE_FORM))
}

/// Decodes a call: TC3 when it has an `Authorization` header or `X-TC-Action`, else v1.
pub fn decode(method: &Method, headers: &HeaderMap, uri: &Uri, body: &[u8]) -> Result<Incoming, V3Error> {
    let form_body: &[u8] = if method == Method::POST && is_form(headers) { body } else { &[] };
    let tc3 = headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::ACTION);
    if !tc3 {
        let params = Params::decode(uri.query(), form_body).map_err(V3Error::from)?;
        let owned = |name: &str| params.get(name).filter(|v| !v.is_empty()).map(str::to_string);
        let (action, version, region) = (owned("Action"), owned("Version"), owned("Region"));
        let input = unflatten(params.pairs().filter(|(n, _)| !V1_COMMON.contains(n)));
        return Ok(Incoming { action, version, region, input, scheme: Scheme::V1(params) });
    }
    let owned = |name: &str| header_text(headers, name).map(str::to_string);
    let (action, version, region) = (owned(header::ACTION), owned(header::VERSION), owned(header::REGION));
    let parts = match header_text(headers, header::AUTHORIZATION) {
        None => Err(V3Error::new(codes::AUTH_INVALID_AUTHORIZATION, "the Authorization header is missing")),
        Some(value) => {
            parse_authorization(value).map_err(|e| V3Error::new(codes::AUTH_INVALID_AUTHORIZATION, e.to_string()))
        }
    };
    let input = if method == Method::GET || is_form(headers) {
        let params = Params::decode(uri.query(), form_body).map_err(V3Error::from)?;
        unflatten(params.pairs())
    } else if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| V3Error::new(codes::INVALID_PARAMETER, format!("the body is not JSON: {e}")))?
    };
    Ok(Incoming { action, version, region, input, scheme: Scheme::Tc3(parts) })
}

/// The key, the token when the account has one, and the account a SecretId acts for: itself,
/// or for a temporary key (refused once expired) the account its role maps to.
fn credentials(app: &App, secret_id: &str) -> Result<(Secret, Option<Secret>, String), V3Error> {
    if let Some(account) = app.cloud().account(secret_id) {
        return Ok((account.secret_key.clone(), account.token.clone(), secret_id.to_string()));
    }
    match app.identity().lookup(secret_id, api::now()) {
        Some(found) => found.map(|(key, token, account)| (key, Some(token), account)),
        None => Err(V3Error::new(codes::AUTH_SECRET_ID_NOT_FOUND, format!("SecretId {secret_id} does not exist"))),
    }
}

/// Checks the token when the account has one; an account without one ignores a sent token.
fn check_token(expected: Option<&Secret>, sent: Option<&str>) -> Result<(), V3Error> {
    match (expected, sent) {
        (None, _) => Ok(()),
        (Some(token), Some(sent)) if sent == token.expose() => Ok(()),
        (Some(_), Some(_)) => Err(V3Error::new(codes::AUTH_TOKEN_FAILURE, "the token is not valid for this SecretId")),
        (Some(_), None) => Err(V3Error::new(codes::AUTH_TOKEN_FAILURE, "this SecretId requires a token")),
    }
}

/// Authenticates a decoded call; answers the SecretId of the account it acts for.
pub fn authenticate(
    app: &App,
    incoming: &Incoming,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<String, V3Error> {
    let host = api::host(headers, uri);
    match &incoming.scheme {
        Scheme::V1(params) => {
            let common = auth::common(params)?;
            let (key, token, account) = credentials(app, common.secret_id)?;
            let signed = Signed { http_method: method.as_str(), host: &host, path: "/" };
            auth::verify(&signed, params, &common, &key, token.as_ref())?;
            app.replay().check(&common, api::now())?;
            Ok(account)
        }
        Scheme::Tc3(parts) => {
            let parts = parts.as_ref().map_err(Clone::clone)?;
            let timestamp =
                header_text(headers, header::TIMESTAMP).ok_or_else(|| V3Error::missing(header::TIMESTAMP))?;
            let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
                V3Error::new(codes::INVALID_PARAMETER, format!("{} must be UNIX seconds", header::TIMESTAMP))
            })?;
            let skew = timestamp.saturating_sub(api::now());
            if skew.abs() > WINDOW_SECS {
                let message = format!("the timestamp is {skew} s from server time; at most {WINDOW_SECS} s allowed");
                return Err(V3Error::new(codes::AUTH_SIGNATURE_EXPIRE, message));
            }
            if parts.service != sign::SERVICE {
                let message = format!("the credential scope names service {}, not {}", parts.service, sign::SERVICE);
                return Err(V3Error::new(codes::AUTH_INVALID_AUTHORIZATION, message));
            }
            let (key, token, account) = credentials(app, &parts.secret_id)?;
            let canonical = canonical(parts, method, headers, uri, body, &host);
            if !parts.verify(key.expose(), timestamp, &canonical) {
                let message = format!("signature does not match (TC3-HMAC-SHA256 over host {host})");
                return Err(V3Error::new(codes::AUTH_SIGNATURE_FAILURE, message));
            }
            check_token(token.as_ref(), header_text(headers, header::TOKEN))?;
            Ok(account)
        }
    }
}

/// The canonical request over the headers the client says it signed, with their received values
/// (`host` is the `Host` header, or the request target's authority).
fn canonical(
    parts: &AuthorizationParts,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    host: &str,
) -> String {
    let signed: Vec<(&str, &str)> = parts
        .signed_header_names()
        .map(|name| {
            let value =
                if name == "host" { host } else { headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("") };
            (name, value)
        })
        .collect();
    let (query, payload): (&str, &[u8]) =
        if method == Method::POST { ("", body) } else { (uri.query().unwrap_or(""), &[]) };
    canonical_request_with_headers(method.as_str(), query, &signed, payload)
}
