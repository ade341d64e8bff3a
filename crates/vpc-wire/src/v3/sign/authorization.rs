//! Taking apart a received TC3 `Authorization` header and checking it (the emulator's side).
//! Pure; no I/O.

use std::fmt;

use super::{ALGORITHM, TERMINATOR, credential_scope, string_to_sign, utc_date, verify};

/// A received `Authorization` header, taken apart. `Debug` hides the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationParts {
    /// The SecretId from `Credential`.
    pub secret_id: String,
    /// The date from `Credential` (`YYYY-MM-DD`).
    pub date: String,
    /// The service from `Credential`.
    pub service: String,
    /// `SignedHeaders` as sent, e.g. `content-type;host`.
    pub signed_headers: String,
    /// The hex signature.
    pub signature: String,
}

impl AuthorizationParts {
    /// The signed header names, in the order sent.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }

    /// Whether the signature is the one `secret_key` gives for `canonical_request` at `timestamp`;
    /// false too when the credential date is not the timestamp's UTC date.
    pub fn verify(&self, secret_key: &str, timestamp: i64, canonical_request: &str) -> bool {
        let to_sign = string_to_sign(timestamp, &credential_scope(&self.date, &self.service), canonical_request);
        let signature_ok = verify(secret_key, &self.date, &self.service, &to_sign, &self.signature);
        signature_ok && self.date == utc_date(timestamp)
    }
}

impl fmt::Debug for AuthorizationParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationParts")
            .field("secret_id", &self.secret_id)
            .field("date", &self.date)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Why an `Authorization` header could not be taken apart (`AuthFailure.InvalidAuthorization`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizationError {
    /// It does not start with `TC3-HMAC-SHA256 `.
    Algorithm,
    /// A field (`Credential`, `SignedHeaders`, `Signature`) is absent or empty.
    Missing(&'static str),
    /// A field is malformed or repeated; the text says which.
    Malformed(&'static str),
}

impl fmt::Display for AuthorizationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthorizationError::Algorithm => write!(f, "Authorization must start with {ALGORITHM}"),
            AuthorizationError::Missing(what) => write!(f, "Authorization lacks {what}"),
            AuthorizationError::Malformed(what) => write!(f, "Authorization has a malformed {what}"),
        }
    }
}

impl std::error::Error for AuthorizationError {}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// Takes apart `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request,
/// SignedHeaders=<names>, Signature=<hex>`. `SignedHeaders` must name `content-type` and `host`.
pub fn parse_authorization(value: &str) -> Result<AuthorizationParts, AuthorizationError> {
    let rest = value.trim().strip_prefix(ALGORITHM).ok_or(AuthorizationError::Algorithm)?;
    if !rest.starts_with(char::is_whitespace) {
        return Err(AuthorizationError::Algorithm);
    }
    let (mut credential, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, val) = part.split_once('=').ok_or(AuthorizationError::Malformed("field"))?;
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut sig,
            _ => continue,
        };
        if slot.replace(val.trim()).is_some() {
            return Err(AuthorizationError::Malformed("repeated field"));
        }
    }
    let credential = credential.filter(|c| !c.is_empty()).ok_or(AuthorizationError::Missing("Credential"))?;
    let signed_headers = signed.filter(|s| !s.is_empty()).ok_or(AuthorizationError::Missing("SignedHeaders"))?;
    let signature = sig.filter(|s| !s.is_empty()).ok_or(AuthorizationError::Missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, terminator] = scope[..] else {
        return Err(AuthorizationError::Malformed("Credential"));
    };
    if secret_id.is_empty() || service.is_empty() || !is_date(date) || terminator != TERMINATOR {
        return Err(AuthorizationError::Malformed("Credential"));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err(AuthorizationError::Malformed("SignedHeaders"));
    }
    Ok(AuthorizationParts {
        secret_id: secret_id.to_owned(),
        date: date.to_owned(),
        service: service.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::v3::sign::Tc3Request;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const POST_BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const POST_SIGNATURE: &str = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";

    fn post_vector() -> Tc3Request<'static> {
        Tc3Request {
            service: "cvm",
            ..Tc3Request::post_json("cvm.tencentcloudapi.com", POST_BODY.as_bytes(), 1551113065)
        }
    }

    #[test]
    fn a_built_header_parses_back_into_its_parts_and_verifies() {
        let r = post_vector();
        let parts = parse_authorization(&r.authorization(ID, KEY)).unwrap();
        assert_eq!((parts.secret_id.as_str(), parts.date.as_str(), parts.service.as_str()), (ID, "2019-02-25", "cvm"));
        assert_eq!(parts.signed_header_names().collect::<Vec<_>>(), ["content-type", "host"]);
        assert_eq!(parts.signature, POST_SIGNATURE);
        assert!(parts.verify(KEY, 1551113065, &r.canonical_request()));
        assert!(!parts.verify("wrong", 1551113065, &r.canonical_request()));
        assert!(!format!("{parts:?}").contains(POST_SIGNATURE));
    }

    #[test]
    fn verify_rejects_a_changed_signature_and_a_date_that_is_not_the_timestamps() {
        let r = post_vector();
        let to_sign = r.string_to_sign();
        assert!(verify(KEY, "2019-02-25", "cvm", &to_sign, POST_SIGNATURE));
        assert!(!verify(KEY, "2019-02-25", "cvm", &to_sign, &POST_SIGNATURE.replace('7', "8")));
        let mut parts = parse_authorization(&r.authorization(ID, KEY)).unwrap();
        assert!(!parts.verify(KEY, 1551113065 + 86_400, &r.canonical_request()));
        parts.date = "2019-02-26".into();
        assert!(!parts.verify(KEY, 1551113065, &r.canonical_request()));
    }

    #[test]
    fn malformed_authorization_headers_are_refused_with_a_reason() {
        let ok = "Credential=AKID/2019-02-25/vpc/tc3_request, SignedHeaders=content-type;host, Signature=ab";
        assert!(parse_authorization(&format!("TC3-HMAC-SHA256 {ok}")).is_ok());
        assert!(parse_authorization(&format!("  TC3-HMAC-SHA256   {ok}, Extra=1 ")).is_ok());
        let cases: [(&str, AuthorizationError); 9] = [
            ("", AuthorizationError::Algorithm),
            ("HMAC-SHA256 Credential=x", AuthorizationError::Algorithm),
            ("TC3-HMAC-SHA256Credential=AKID/2019-02-25/vpc/tc3_request", AuthorizationError::Algorithm),
            (
                "TC3-HMAC-SHA256 SignedHeaders=content-type;host, Signature=ab",
                AuthorizationError::Missing("Credential"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/vpc/tc3_request, SignedHeaders=content-type;host, Signature=",
                AuthorizationError::Missing("Signature"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/vpc, SignedHeaders=content-type;host, Signature=ab",
                AuthorizationError::Malformed("Credential"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=AKID/20190225/vpc/tc3_request, SignedHeaders=content-type;host, Signature=ab",
                AuthorizationError::Malformed("Credential"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/vpc/tc3_request, SignedHeaders=host, Signature=ab",
                AuthorizationError::Malformed("SignedHeaders"),
            ),
            (
                "TC3-HMAC-SHA256 Credential=A/2019-02-25/vpc/tc3_request, Signature=a, SignedHeaders=content-type;host, Signature=b",
                AuthorizationError::Malformed("repeated field"),
            ),
        ];
        for (header, want) in cases {
            assert_eq!(parse_authorization(header), Err(want), "{header}");
        }
        assert!(!AuthorizationError::Missing("Signature").to_string().is_empty());
    }
}
