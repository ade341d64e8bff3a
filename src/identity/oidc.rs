//! TKE pod identity: exchanges the projected service-account token (re-read from
//! `TKE_WEB_IDENTITY_TOKEN_FILE` at every refresh) for temporary credentials with STS
//! `AssumeRoleWithWebIdentity`, sent unsigned as Tencent's SDKs send it (`Authorization: SKIP`).
//! Does I/O (reads the token file, HTTPS to STS).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use vpc_wire::domain::{Credentials, Secret};
use vpc_wire::v3::models::identity::{
    ASSUME_ROLE_WITH_WEB_IDENTITY, AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse, STS_VERSION,
};
use vpc_wire::v3::models::parse_response;
use vpc_wire::v3::sign::{CONTENT_TYPE_JSON, header};

use super::{Fetch, IdentityError, Issued};

/// The public STS endpoint.
pub const DEFAULT_STS_ENDPOINT: &str = "https://sts.tencentcloudapi.com/";
/// The region STS is asked in.
pub const ENV_REGION: &str = "TKE_REGION";
/// The CAM identity provider's name.
pub const ENV_PROVIDER_ID: &str = "TKE_PROVIDER_ID";
/// The projected service-account token file.
pub const ENV_TOKEN_FILE: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
/// The role to assume.
pub const ENV_ROLE_ARN: &str = "TKE_ROLE_ARN";
/// Lifetime asked for, seconds (STS grants at most 43200).
pub const DEFAULT_DURATION_SECONDS: u64 = 7200;
const WHAT: &str = "sts AssumeRoleWithWebIdentity";

/// Pod identity settings, from the `TKE_*` variables the pod identity webhook sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// `TKE_REGION`.
    pub region: String,
    /// `TKE_PROVIDER_ID`.
    pub provider_id: String,
    /// `TKE_WEB_IDENTITY_TOKEN_FILE`.
    pub token_file: PathBuf,
    /// `TKE_ROLE_ARN`.
    pub role_arn: String,
    /// `DurationSeconds` asked for.
    pub duration_seconds: u64,
}

impl OidcSettings {
    /// `None` when no `TKE_*` variable is set; an error naming the first missing one when only
    /// some are.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<OidcSettings>, IdentityError> {
        let names = [ENV_REGION, ENV_PROVIDER_ID, ENV_TOKEN_FILE, ENV_ROLE_ARN];
        let values: Vec<Option<String>> =
            names.iter().map(|n| lookup(n).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let get = |i: usize| values[i].clone().ok_or(IdentityError::MissingEnv(names[i]));
        Ok(Some(OidcSettings {
            region: get(0)?,
            provider_id: get(1)?,
            token_file: PathBuf::from(get(2)?),
            role_arn: get(3)?,
            duration_seconds: DEFAULT_DURATION_SECONDS,
        }))
    }
}

/// One exchange of the current token for temporary credentials.
pub struct OidcFetch {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    settings: OidcSettings,
}

impl OidcFetch {
    /// Checks the endpoint (HTTPS: the token travels in the body).
    pub fn new(http: reqwest::Client, endpoint: &str, settings: OidcSettings) -> Result<OidcFetch, IdentityError> {
        let bad = |reason| IdentityError::Endpoint { endpoint: endpoint.to_owned(), reason };
        let url = reqwest::Url::parse(endpoint).map_err(|_| bad("not a URL"))?;
        if url.scheme() != "https" || url.host_str().is_none() {
            return Err(bad("sts must be reached over https"));
        }
        Ok(OidcFetch { http, endpoint: url, settings })
    }

    /// The request for the token in the file now (read afresh: kubelet rotates it).
    pub async fn request(&self) -> Result<AssumeRoleWithWebIdentityRequest, IdentityError> {
        let path = &self.settings.token_file;
        let read_error = |source| IdentityError::ReadToken { path: path.clone(), source };
        let token = tokio::fs::read_to_string(path).await.map_err(read_error)?;
        let token = token.trim();
        if token.is_empty() {
            return Err(read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is empty")));
        }
        let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        Ok(AssumeRoleWithWebIdentityRequest {
            provider_id: self.settings.provider_id.clone(),
            web_identity_token: token.to_owned(),
            role_arn: self.settings.role_arn.clone(),
            role_session_name: format!("vpcroute-operator-{micros}"),
            duration_seconds: Some(self.settings.duration_seconds),
        })
    }

    async fn exchange(&self) -> Result<Issued, IdentityError> {
        let request = self.request().await?;
        let http = |source| IdentityError::Http { what: WHAT, source };
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(header::CONTENT_TYPE, CONTENT_TYPE_JSON)
            .header(header::ACTION, ASSUME_ROLE_WITH_WEB_IDENTITY)
            .header(header::VERSION, STS_VERSION)
            .header(header::REGION, &self.settings.region)
            .header(header::TIMESTAMP, crate::client::unix_now().to_string())
            .header(header::REQUEST_CLIENT, concat!("vpcroute-operator/", env!("CARGO_PKG_VERSION")))
            .header(header::AUTHORIZATION, "SKIP")
            .json(&request)
            .send()
            .await
            .map_err(|e| http(e.without_url()))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(IdentityError::Status { what: WHAT, status: response.status().as_u16() });
        }
        let body = response.bytes().await.map_err(|e| http(e.without_url()))?;
        let answer: AssumeRoleWithWebIdentityResponse = match parse_response(&body) {
            Ok(Ok((answer, _request_id))) => answer,
            Ok(Err(error)) => return Err(IdentityError::Refused { code: error.code, message: error.message }),
            Err(reason) => return Err(IdentityError::Parse { what: WHAT, reason }),
        };
        let c = answer.credentials;
        Ok(Issued {
            credentials: Credentials {
                secret_id: c.tmp_secret_id,
                secret_key: Secret::new(c.tmp_secret_key),
                token: Some(Secret::new(c.token)),
            },
            lifetime: lifetime_until(answer.expired_time),
        })
    }
}

impl Fetch for OidcFetch {
    fn fetch(&self) -> BoxFuture<'_, Result<Issued, IdentityError>> {
        Box::pin(self.exchange())
    }
}

/// Time from now (to the nanosecond, not rounded to seconds) until `expired_time` (UNIX
/// seconds); zero when it has passed.
pub(super) fn lifetime_until(expired_time: i64) -> Duration {
    let expiry = UNIX_EPOCH + Duration::from_secs(u64::try_from(expired_time).unwrap_or(0));
    expiry.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings(token_file: PathBuf) -> OidcSettings {
        OidcSettings {
            region: "ap-guangzhou".into(),
            provider_id: "tke-oidc".into(),
            token_file,
            role_arn: "qcs::cam::uin/1:roleName/vpcroute".into(),
            duration_seconds: 3,
        }
    }

    #[tokio::test]
    async fn every_request_reads_the_token_file_again() {
        let path = std::env::temp_dir().join(format!("vpcroute-oidc-token-{}", std::process::id()));
        std::fs::write(&path, "first-token\n").unwrap();
        let fetch = OidcFetch::new(
            crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
            DEFAULT_STS_ENDPOINT,
            settings(path.clone()),
        )
        .unwrap();
        let first = fetch.request().await.unwrap();
        std::fs::write(&path, "rotated-token").unwrap();
        let second = fetch.request().await.unwrap();
        std::fs::write(&path, "  \n").unwrap();
        let empty = fetch.request().await;
        std::fs::remove_file(&path).unwrap();
        assert_eq!(first.web_identity_token, "first-token");
        assert_eq!(second.web_identity_token, "rotated-token");
        assert_eq!((first.provider_id.as_str(), first.duration_seconds), ("tke-oidc", Some(3)));
        assert!(first.role_session_name.starts_with("vpcroute-operator-"));
        assert!(matches!(empty, Err(IdentityError::ReadToken { .. })), "{empty:?}");
    }

    #[tokio::test]
    async fn a_missing_token_file_is_named_in_the_error() {
        let fetch = OidcFetch::new(
            crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
            DEFAULT_STS_ENDPOINT,
            settings("/nonexistent/token".into()),
        )
        .unwrap();
        let error = fetch.request().await.unwrap_err();
        assert_eq!(error.to_string(), "cannot read the web identity token file /nonexistent/token");
    }

    #[test]
    fn sts_over_plain_http_is_refused() {
        let result = OidcFetch::new(
            crate::identity::http_client(&crate::identity::ChainConfig::default()).unwrap(),
            "http://sts.example/",
            settings("/t".into()),
        );
        assert!(matches!(result, Err(IdentityError::Endpoint { .. })));
    }

    #[test]
    fn the_lifetime_counts_from_now_to_the_expiry_second_without_rounding_up() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let expiry = i64::try_from(now.as_secs()).unwrap() + 3;
        let lifetime = lifetime_until(expiry);
        assert!(
            lifetime <= Duration::from_secs(3) - Duration::from_nanos(u64::from(now.subsec_nanos())),
            "{lifetime:?}"
        );
        assert_eq!(lifetime_until(0), Duration::ZERO);
    }

    #[test]
    fn no_tke_variable_means_no_pod_identity() {
        assert_eq!(OidcSettings::from_lookup(|_| None).unwrap(), None);
    }
}
