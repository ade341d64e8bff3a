//! Wire models of temporary credentials, defined once for the operator and the emulator: STS
//! `AssumeRoleWithWebIdentity` (API 3.0, service `sts`, version `2018-08-13`) and the CVM
//! metadata answer of `cam/security-credentials/<role>`. `Debug` never shows a key or token. Pure.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The STS service name (credential scope and host prefix).
pub const STS_SERVICE: &str = "sts";
/// The STS API version.
pub const STS_VERSION: &str = "2018-08-13";
/// The action that exchanges an OIDC token for temporary credentials.
pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// The `Code` of a metadata answer that carries credentials.
pub const METADATA_SUCCESS: &str = "Success";
/// The metadata path listing the instance's role (append the role name for its credentials).
pub const METADATA_ROLE_PATH: &str = "/latest/meta-data/cam/security-credentials/";

/// `AssumeRoleWithWebIdentity` input. Sent unsigned (`Authorization: SKIP`): the token is the proof.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityRequest {
    /// The identity provider's name in CAM.
    pub provider_id: String,
    /// The OIDC token issued by the provider (the projected service-account token).
    pub web_identity_token: String,
    /// The role to assume, `qcs::cam::uin/<uin>:roleName/<name>`.
    pub role_arn: String,
    /// A caller-chosen session name.
    pub role_session_name: String,
    /// Lifetime asked for, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<u64>,
}

impl fmt::Debug for AssumeRoleWithWebIdentityRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleWithWebIdentityRequest")
            .field("provider_id", &self.provider_id)
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("duration_seconds", &self.duration_seconds)
            .finish_non_exhaustive()
    }
}

/// Temporary credentials as STS answers them.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TemporaryCredentials {
    /// The token, sent as `X-TC-Token` with every signed call.
    pub token: String,
    /// The temporary SecretId.
    pub tmp_secret_id: String,
    /// The temporary SecretKey.
    pub tmp_secret_key: String,
}

impl fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryCredentials").field("tmp_secret_id", &self.tmp_secret_id).finish_non_exhaustive()
    }
}

/// `AssumeRoleWithWebIdentity` output (inside the `Response` envelope).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleWithWebIdentityResponse {
    /// The credentials.
    pub credentials: TemporaryCredentials,
    /// When they expire, UNIX seconds.
    pub expired_time: i64,
    /// When they expire, ISO 8601 (`2024-01-01T00:00:00Z`).
    #[serde(default)]
    pub expiration: String,
}

/// The metadata service's answer for a role: flat, with a `Code`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct RoleCredentials {
    /// The temporary SecretId.
    pub tmp_secret_id: String,
    /// The temporary SecretKey.
    pub tmp_secret_key: String,
    /// The token.
    pub token: String,
    /// When they expire, UNIX seconds.
    pub expired_time: i64,
    /// When they expire, ISO 8601.
    #[serde(default)]
    pub expiration: String,
    /// `Success` when the answer carries credentials.
    pub code: String,
}

impl fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleCredentials")
            .field("tmp_secret_id", &self.tmp_secret_id)
            .field("expired_time", &self.expired_time)
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_sts_answer_parses_from_the_sdk_shape_and_debug_hides_the_key_and_token() {
        let body = r#"{"Credentials":{"Token":"tok","TmpSecretId":"AKIDtmp","TmpSecretKey":"sk"},
                       "ExpiredTime":1700000000,"Expiration":"2023-11-14T22:13:20Z"}"#;
        let answer: AssumeRoleWithWebIdentityResponse = serde_json::from_str(body).unwrap();
        assert_eq!(answer.credentials.tmp_secret_id, "AKIDtmp");
        assert_eq!(answer.expired_time, 1_700_000_000);
        let shown = format!("{answer:?}");
        assert!(shown.contains("AKIDtmp") && !shown.contains("tok") && !shown.contains("\"sk\""), "{shown}");
    }

    #[test]
    fn the_request_serialises_with_the_sdk_parameter_names() {
        let request = AssumeRoleWithWebIdentityRequest {
            provider_id: "p".into(),
            web_identity_token: "jwt".into(),
            role_arn: "arn".into(),
            role_session_name: "s".into(),
            duration_seconds: Some(3),
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["ProviderId"], "p");
        assert_eq!(json["WebIdentityToken"], "jwt");
        assert_eq!(json["DurationSeconds"], 3);
        assert!(!format!("{request:?}").contains("jwt"));
    }
}
