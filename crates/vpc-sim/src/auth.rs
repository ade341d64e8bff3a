//! Authentication of API 2.0 calls: common parameters, signature (4100), token (4105), and the
//! timestamp window and nonce replay guard (4500). Pure given the clock; no I/O.
//! Keys, tokens and signatures never appear in an error message.

use std::collections::HashMap;

use vpc_wire::domain::Secret;
use vpc_wire::v2::codes::{self, desc};
use vpc_wire::v2::sign::{self, SignatureMethod};

use crate::params::Params;
use crate::reply::ApiError;

/// How far a `Timestamp` may be from the server's clock, and how long a nonce is remembered.
pub const WINDOW_SECS: i64 = 300;

/// The common parameters every call must carry, checked for shape.
#[derive(Debug)]
pub struct Common<'a> {
    /// `SecretId`.
    pub secret_id: &'a str,
    /// `Signature`.
    signature: &'a str,
    /// `Timestamp`, UNIX seconds.
    pub timestamp: i64,
    /// `Nonce`, a positive integer.
    pub nonce: u64,
}

/// Reads the common parameters; a missing or malformed one is 4000 `InvalidParameter`.
pub fn common(params: &Params) -> Result<Common<'_>, ApiError> {
    let secret_id = params.required("SecretId")?;
    let signature = params.required("Signature")?;
    let timestamp = params.required("Timestamp")?;
    let timestamp = timestamp.parse().map_err(|_| ApiError::malformed("Timestamp", "must be UNIX seconds"))?;
    let nonce = params.required("Nonce")?;
    let nonce = nonce.parse().ok().filter(|n| *n > 0);
    let nonce = nonce.ok_or_else(|| ApiError::malformed("Nonce", "must be a positive integer"))?;
    Ok(Common { secret_id, signature, timestamp, nonce })
}

/// What the server needs to know about the request line to check its signature.
#[derive(Debug)]
pub struct Signed<'a> {
    /// `GET` or `POST`.
    pub http_method: &'a str,
    /// The `Host` header as received (with `:port`).
    pub host: &'a str,
    /// The request path (`/v2/index.php`).
    pub path: &'a str,
}

/// Checks the signature (4100) and, when the account has one, the token (4105).
pub fn verify(
    request: &Signed<'_>,
    params: &Params,
    common: &Common<'_>,
    secret_key: &Secret,
    token: Option<&Secret>,
) -> Result<(), ApiError> {
    let method = SignatureMethod::from_param(params.get("SignatureMethod"));
    let text = sign::string_to_sign(request.http_method, request.host, request.path, params.pairs());
    if !sign::verify(secret_key.expose(), method, &text, common.signature) {
        let message = format!("signature does not match ({} over host {})", method.param(), request.host);
        return Err(ApiError::new(codes::AUTH_SIGNATURE, desc::SIGNATURE_FAILURE, message));
    }
    let Some(token) = token else { return Ok(()) };
    match params.get("Token") {
        Some(sent) if sent == token.expose() => Ok(()),
        Some(_) => Err(ApiError::new(codes::AUTH_TOKEN, desc::TOKEN_FAILURE, "token is not valid for this SecretId")),
        None => Err(ApiError::new(codes::AUTH_TOKEN, desc::TOKEN_FAILURE, "this SecretId requires a Token")),
    }
}

/// Remembers `(SecretId, Nonce)` pairs while a replay of them could still pass the clock check.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    expiry: HashMap<(String, u64), i64>,
    last_prune: i64,
}

impl ReplayGuard {
    /// Refuses a stale or future `Timestamp` and a nonce seen within the window; records the nonce.
    pub fn check(&mut self, common: &Common<'_>, now: i64) -> Result<(), ApiError> {
        let skew = common.timestamp.saturating_sub(now);
        if skew.abs() > WINDOW_SECS {
            let message = format!("Timestamp is {skew} s from server time; at most {WINDOW_SECS} s allowed");
            return Err(ApiError::new(codes::REPLAY, desc::SIGNATURE_EXPIRE, message));
        }
        self.prune(now);
        let key = (common.secret_id.to_string(), common.nonce);
        if self.expiry.get(&key).is_some_and(|until| *until > now) {
            let message = format!("Nonce {} was already used within {WINDOW_SECS} s", common.nonce);
            return Err(ApiError::new(codes::REPLAY, desc::SIGNATURE_EXPIRE, message));
        }
        self.expiry.insert(key, common.timestamp.max(now) + WINDOW_SECS);
        Ok(())
    }

    fn prune(&mut self, now: i64) {
        if now > self.last_prune {
            self.expiry.retain(|_, until| *until > now);
            self.last_prune = now;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn common_at(timestamp: i64, nonce: u64) -> Common<'static> {
        Common { secret_id: "AKID1", signature: "x", timestamp, nonce }
    }

    #[test]
    fn a_nonce_is_refused_while_remembered_and_accepted_after() {
        let mut guard = ReplayGuard::default();
        assert!(guard.check(&common_at(1000, 7), 1000).is_ok());
        assert_eq!(guard.check(&common_at(1001, 7), 1001).unwrap_err().code, codes::REPLAY);
        assert!(guard.check(&common_at(1001, 8), 1001).is_ok());
        assert!(guard.check(&common_at(1400, 7), 1400).is_ok());
    }

    #[test]
    fn timestamps_more_than_300_s_away_either_way_are_refused() {
        let mut guard = ReplayGuard::default();
        assert!(guard.check(&common_at(700, 1), 1000).is_ok());
        assert!(guard.check(&common_at(699, 2), 1000).is_err());
        assert!(guard.check(&common_at(1301, 3), 1000).is_err());
    }

    #[test]
    fn the_token_must_match_when_the_account_has_one() {
        let key = Secret::new("k");
        let params = Params::decode(Some("Action=A&Nonce=1&SecretId=AKID1&Timestamp=5"), b"").unwrap();
        let text = sign::string_to_sign("GET", "h", "/p", params.pairs());
        let signature = sign::signature("k", SignatureMethod::HmacSha1, &text);
        let common = Common { secret_id: "AKID1", signature: &signature, timestamp: 5, nonce: 1 };
        let request = Signed { http_method: "GET", host: "h", path: "/p" };
        assert!(verify(&request, &params, &common, &key, None).is_ok());
        let err = verify(&request, &params, &common, &key, Some(&Secret::new("t"))).unwrap_err();
        assert_eq!(err.code, codes::AUTH_TOKEN);
        let other_host = Signed { host: "h:443", ..request };
        assert_eq!(verify(&other_host, &params, &common, &key, None).unwrap_err().code, codes::AUTH_SIGNATURE);
    }
}
