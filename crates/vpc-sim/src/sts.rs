//! Temporary credentials: the world's `oidc:` and `instanceRole:` sections, the store of issued
//! temporary keys (each mapped onto an account, refused after its `ExpiredTime`), and STS
//! `AssumeRoleWithWebIdentity` on the 3.0 endpoint (unsigned, as Tencent's SDKs send it).
//! Pure given the clock; no I/O.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Deserialize;
use serde_json::Value;
use vpc_wire::domain::Secret;
use vpc_wire::v3::codes;
use vpc_wire::v3::models::identity::{
    ASSUME_ROLE_WITH_WEB_IDENTITY, AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse,
    RoleCredentials, STS_VERSION, TemporaryCredentials,
};

use crate::app::App;
use crate::v3_reply::{self, V3Error, parse_input};
use crate::{api, v3_auth};

/// Lifetime when neither the request nor the world says.
const DEFAULT_DURATION: u64 = 7200;
/// The longest lifetime STS grants.
const MAX_DURATION: u64 = 43_200;
/// The web identity token does not match the provider's.
pub const WEB_IDENTITY_TOKEN_ERROR: &str = "InvalidParameter.WebIdentityTokenError";
/// No such role (or provider) for this token.
pub const ROLE_NOT_EXIST: &str = "ResourceNotFound.RoleNotExist";

/// `oidc:` in the world: one identity provider and the role it may assume.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcSpec {
    /// The `ProviderId` callers must send.
    pub provider_id: String,
    /// The `RoleArn` callers must send.
    pub role_arn: String,
    /// When set, the only `WebIdentityToken` accepted; otherwise any non-empty token is.
    #[serde(default)]
    pub token: Option<String>,
    /// The SecretId of the account whose routes the role reaches.
    pub account: String,
    /// When set, the longest lifetime granted (seconds), whatever the caller asks.
    #[serde(default)]
    pub duration_seconds: Option<u64>,
}

/// `instanceRole:` in the world: the role the metadata service hands out.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceRoleSpec {
    /// The role name listed under `cam/security-credentials/`.
    pub role_name: String,
    /// The SecretId of the account whose routes the role reaches.
    pub account: String,
    /// Lifetime of each issued key, seconds (default 7200).
    #[serde(default)]
    pub duration_seconds: Option<u64>,
}

/// A temporary key that was handed out.
#[derive(Debug)]
struct TempKey {
    secret_key: Secret,
    token: Secret,
    account: String,
    expires: i64,
}

/// A freshly issued temporary key.
#[derive(Debug)]
pub struct Issued {
    /// The temporary SecretId.
    pub secret_id: String,
    /// Its key.
    pub secret_key: Secret,
    /// Its token.
    pub token: Secret,
    /// UNIX seconds after which it is refused.
    pub expires: i64,
}

/// The identity sections of the world and the keys issued so far.
#[derive(Debug, Default)]
pub struct Identity {
    /// The OIDC provider, when the world has one.
    pub oidc: Option<OidcSpec>,
    /// The instance role, when the world has one.
    pub instance_role: Option<InstanceRoleSpec>,
    keys: HashMap<String, TempKey>,
}

fn random(len: usize) -> String {
    rand::rng().sample_iter(Alphanumeric).take(len).map(char::from).collect()
}

/// ISO 8601 of UNIX seconds, as `Expiration` shows it.
pub fn iso8601(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

impl Identity {
    /// The identity sections, with no key issued yet.
    pub fn new(oidc: Option<OidcSpec>, instance_role: Option<InstanceRoleSpec>) -> Identity {
        Identity { oidc, instance_role, keys: HashMap::new() }
    }

    /// Issues a key for `account` valid for `seconds` from `now`; forgets keys long expired.
    pub fn issue(&mut self, account: &str, seconds: u64, now: i64) -> Issued {
        self.keys.retain(|_, k| k.expires + 3600 > now);
        let secret_id = format!("AKIDtmp{}", random(29));
        let (secret_key, token) = (Secret::new(random(32)), Secret::new(random(64)));
        let expires = now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
        let key = TempKey { secret_key: secret_key.clone(), token: token.clone(), account: account.into(), expires };
        self.keys.insert(secret_id.clone(), key);
        Issued { secret_id, secret_key, token, expires }
    }

    /// A temporary key's (key, token, account): `None` for an unknown SecretId,
    /// `AuthFailure.TokenFailure` once it has expired.
    pub fn lookup(&self, secret_id: &str, now: i64) -> Option<Result<(Secret, Secret, String), V3Error>> {
        let key = self.keys.get(secret_id)?;
        if now >= key.expires {
            let message = format!("the temporary credentials of {secret_id} expired at {}", iso8601(key.expires));
            return Some(Err(V3Error::new(codes::AUTH_TOKEN_FAILURE, message)));
        }
        Some(Ok((key.secret_key.clone(), key.token.clone(), key.account.clone())))
    }
}

/// Answers `AssumeRoleWithWebIdentity` when that is the call (by action name, signed or not);
/// `None` for every other call.
pub fn intercept(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    request_id: &str,
) -> Option<Response> {
    let incoming = v3_auth::decode(method, headers, uri, body).ok()?;
    if incoming.action.as_deref() != Some(ASSUME_ROLE_WITH_WEB_IDENTITY) {
        return None;
    }
    *app.control().calls.entry(ASSUME_ROLE_WITH_WEB_IDENTITY.to_string()).or_default() += 1;
    let outcome = assume_role(app, incoming.version.as_deref(), incoming.input);
    Some(match outcome {
        Ok(answer) => {
            tracing::info!(request_id, secret_id = answer.credentials.tmp_secret_id, "role assumed");
            v3_reply::success(request_id, &answer)
        }
        Err(error) => {
            tracing::info!(request_id, code = error.code, detail = %error.message, "AssumeRoleWithWebIdentity refused");
            v3_reply::failure(request_id, &error)
        }
    })
}

fn assume_role(app: &App, version: Option<&str>, input: Value) -> Result<AssumeRoleWithWebIdentityResponse, V3Error> {
    match version {
        None => return Err(V3Error::missing("X-TC-Version (or Version)")),
        Some(STS_VERSION) => {}
        Some(other) => {
            let message = format!("version {other} does not exist for sts; use {STS_VERSION}");
            return Err(V3Error::new(codes::NO_SUCH_VERSION, message));
        }
    }
    let request: AssumeRoleWithWebIdentityRequest = parse_input(input)?;
    for (name, value) in [
        ("ProviderId", &request.provider_id),
        ("WebIdentityToken", &request.web_identity_token),
        ("RoleArn", &request.role_arn),
        ("RoleSessionName", &request.role_session_name),
    ] {
        if value.trim().is_empty() {
            return Err(V3Error::missing(name));
        }
    }
    let asked = request.duration_seconds.unwrap_or(DEFAULT_DURATION);
    if asked == 0 || asked > MAX_DURATION {
        return Err(V3Error::new(
            codes::INVALID_PARAMETER_VALUE,
            format!("DurationSeconds must be 1..={MAX_DURATION}"),
        ));
    }
    let mut identity = app.identity();
    let Some(spec) = identity.oidc.clone() else {
        return Err(V3Error::new(ROLE_NOT_EXIST, "no identity provider is configured (world: oidc)"));
    };
    if request.provider_id != spec.provider_id || request.role_arn != spec.role_arn {
        let message = format!("no role {} trusts provider {}", request.role_arn, request.provider_id);
        return Err(V3Error::new(ROLE_NOT_EXIST, message));
    }
    if spec.token.as_deref().is_some_and(|t| t.trim() != request.web_identity_token.trim()) {
        return Err(V3Error::new(WEB_IDENTITY_TOKEN_ERROR, "the web identity token is not valid"));
    }
    let seconds = spec.duration_seconds.map_or(asked, |cap| asked.min(cap));
    let issued = identity.issue(&spec.account, seconds, api::now());
    Ok(AssumeRoleWithWebIdentityResponse {
        credentials: TemporaryCredentials {
            token: issued.token.expose().to_string(),
            tmp_secret_id: issued.secret_id,
            tmp_secret_key: issued.secret_key.expose().to_string(),
        },
        expired_time: issued.expires,
        expiration: iso8601(issued.expires),
    })
}

/// A fresh key for the world's instance role named `role`, as the metadata service answers it;
/// `None` when the world has no such role.
pub fn instance_role_credentials(app: &App, role: &str) -> Option<RoleCredentials> {
    let mut identity = app.identity();
    let spec = identity.instance_role.clone().filter(|spec| spec.role_name == role)?;
    let issued = identity.issue(&spec.account, spec.duration_seconds.unwrap_or(DEFAULT_DURATION), api::now());
    Some(RoleCredentials {
        tmp_secret_id: issued.secret_id,
        tmp_secret_key: issued.secret_key.expose().to_string(),
        token: issued.token.expose().to_string(),
        expired_time: issued.expires,
        expiration: iso8601(issued.expires),
        code: vpc_wire::v3::models::identity::METADATA_SUCCESS.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_key_maps_to_its_account_until_it_expires_then_is_a_token_failure() {
        let mut identity = Identity::default();
        let issued = identity.issue("AKIDaccount", 3, 1000);
        assert_eq!(issued.expires, 1003);
        let (key, token, account) = identity.lookup(&issued.secret_id, 1002).unwrap().unwrap();
        assert_eq!(
            (key.expose(), token.expose(), account.as_str()),
            (issued.secret_key.expose(), issued.token.expose(), "AKIDaccount")
        );
        let expired = identity.lookup(&issued.secret_id, 1003).unwrap().unwrap_err();
        assert_eq!(expired.code, codes::AUTH_TOKEN_FAILURE);
        assert!(identity.lookup("AKIDunknown", 1000).is_none());
    }

    #[test]
    fn expiration_is_iso_8601_in_utc() {
        assert_eq!(iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
