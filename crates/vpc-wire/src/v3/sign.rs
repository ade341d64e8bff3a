//! API 3.0 request signing (TC3-HMAC-SHA256): canonical request, string to sign, derived key,
//! signature, the `Authorization` header and its parser for the emulator. Pure; no I/O, no clock.
//!
//! Signature v1 (HmacSHA1 / HmacSHA256 over `GET<host>/?<params>`) also works on 3.0; it is the
//! same algorithm as API 2.0, so use [`crate::v2::sign`] for it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The 3.0 service name of VPC (in the credential scope and the host).
pub const SERVICE: &str = "vpc";
/// The API version every VPC 3.0 call carries (`X-TC-Version`).
pub const VERSION: &str = "2017-03-12";
/// The signature algorithm name, first word of the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
/// The default endpoint host.
pub const DEFAULT_HOST: &str = "vpc.tencentcloudapi.com";
/// The signed headers this client always uses.
pub const SIGNED_HEADERS: &str = "content-type;host";
/// The content type of a POST with a JSON body.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";
/// The content type a TC3 GET signs.
pub const CONTENT_TYPE_FORM: &str = "application/x-www-form-urlencoded";
/// The last element of the credential scope.
pub const TERMINATOR: &str = "tc3_request";

mod authorization;

pub use authorization::{AuthorizationError, AuthorizationParts, parse_authorization};

/// HTTP header names of API 3.0.
pub mod header {
    /// `Authorization`: the TC3 signature.
    pub const AUTHORIZATION: &str = "Authorization";
    /// `Content-Type` (signed).
    pub const CONTENT_TYPE: &str = "Content-Type";
    /// `Host` (signed).
    pub const HOST: &str = "Host";
    /// `X-TC-Action`: the action name.
    pub const ACTION: &str = "X-TC-Action";
    /// `X-TC-Version`: the API version.
    pub const VERSION: &str = "X-TC-Version";
    /// `X-TC-Timestamp`: UNIX seconds.
    pub const TIMESTAMP: &str = "X-TC-Timestamp";
    /// `X-TC-Region`: the region, e.g. `ap-guangzhou`.
    pub const REGION: &str = "X-TC-Region";
    /// `X-TC-Token`: the STS token of temporary credentials.
    pub const TOKEN: &str = "X-TC-Token";
    /// `X-TC-Language`: `zh-CN` or `en-US`.
    pub const LANGUAGE: &str = "X-TC-Language";
    /// `X-TC-RequestClient`: the caller's name (unsigned).
    pub const REQUEST_CLIENT: &str = "X-TC-RequestClient";
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// The canonical request with the signed headers `content-type;host`:
/// `METHOD\n/\n<query>\ncontent-type:<ct>\nhost:<host>\n\ncontent-type;host\n<hex sha256(payload)>`.
/// `canonical_query` is the query string as sent for GET and `""` for POST; `payload` is `b""` for GET.
pub fn canonical_request(
    method: &str,
    canonical_query: &str,
    content_type: &str,
    host: &str,
    payload: &[u8],
) -> String {
    canonical_request_with_headers(method, canonical_query, &[("content-type", content_type), ("host", host)], payload)
}

/// The canonical request over any set of signed headers (some SDKs also sign `x-tc-action`).
/// Names and values are trimmed and lower-cased and sorted by name, as Tencent specifies.
pub fn canonical_request_with_headers(
    method: &str,
    canonical_query: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> String {
    let mut pairs: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase())).collect();
    pairs.sort();
    let canonical: String = pairs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    format!("{}\n/\n{canonical_query}\n{canonical}\n{signed}\n{}", method.to_ascii_uppercase(), sha256_hex(payload))
}

/// The credential scope `<date>/<service>/tc3_request`.
pub fn credential_scope(date: &str, service: &str) -> String {
    format!("{date}/{service}/{TERMINATOR}")
}

/// The string to sign: `TC3-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(timestamp: i64, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{timestamp}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The derived key: HMAC-SHA256 chain `"TC3"+key` → date → service → `tc3_request`.
pub fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, TERMINATOR.as_bytes())
}

/// The signature: hex HMAC-SHA256 of the string to sign under the derived key.
pub fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(&signing_key(secret_key, date, service), string_to_sign.as_bytes()))
}

/// The `Authorization` header value:
/// `TC3-HMAC-SHA256 Credential=<id>/<scope>, SignedHeaders=<names>, Signature=<hex>`.
pub fn authorization(secret_id: &str, date: &str, service: &str, signed_headers: &str, signature: &str) -> String {
    let scope = credential_scope(date, service);
    format!("{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}")
}

/// Checks a received hex signature in constant time against the one computed here.
pub fn verify(secret_key: &str, date: &str, service: &str, string_to_sign: &str, received: &str) -> bool {
    let expected = signature(secret_key, date, service, string_to_sign);
    crate::constant_time_eq(expected.as_bytes(), received.as_bytes())
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// The UTC date `YYYY-MM-DD` of a UNIX timestamp in seconds.
pub fn utc_date(timestamp: i64) -> String {
    let (y, m, d) = civil_from_days(timestamp.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Everything a TC3 signature covers, for the common cases of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tc3Request<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The `Host` header, byte for byte.
    pub host: &'a str,
    /// The query string as sent for GET; `""` for POST.
    pub canonical_query: &'a str,
    /// The `Content-Type` header, byte for byte.
    pub content_type: &'a str,
    /// The body (`b""` for GET).
    pub payload: &'a [u8],
    /// The service name ([`SERVICE`] for VPC).
    pub service: &'a str,
    /// `X-TC-Timestamp`, UNIX seconds.
    pub timestamp: i64,
}

impl<'a> Tc3Request<'a> {
    /// A VPC `POST` with a JSON body.
    pub fn post_json(host: &'a str, payload: &'a [u8], timestamp: i64) -> Tc3Request<'a> {
        let (method, canonical_query, content_type) = ("POST", "", CONTENT_TYPE_JSON);
        Tc3Request { method, host, canonical_query, content_type, payload, service: SERVICE, timestamp }
    }

    /// A VPC `GET` with the parameters in `query`.
    pub fn get(host: &'a str, query: &'a str, timestamp: i64) -> Tc3Request<'a> {
        let (method, payload, content_type) = ("GET", &b""[..], CONTENT_TYPE_FORM);
        Tc3Request { method, host, canonical_query: query, content_type, payload, service: SERVICE, timestamp }
    }

    /// The UTC date of the timestamp.
    pub fn date(&self) -> String {
        utc_date(self.timestamp)
    }

    /// The canonical request (signed headers `content-type;host`).
    pub fn canonical_request(&self) -> String {
        canonical_request(self.method, self.canonical_query, self.content_type, self.host, self.payload)
    }

    /// The string to sign.
    pub fn string_to_sign(&self) -> String {
        string_to_sign(self.timestamp, &credential_scope(&self.date(), self.service), &self.canonical_request())
    }

    /// The hex signature.
    pub fn signature(&self, secret_key: &str) -> String {
        signature(secret_key, &self.date(), self.service, &self.string_to_sign())
    }

    /// The `Authorization` header value.
    pub fn authorization(&self, secret_id: &str, secret_key: &str) -> String {
        authorization(secret_id, &self.date(), self.service, SIGNED_HEADERS, &self.signature(secret_key))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::v2::sign::SignatureMethod;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
    const POST_BODY: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const POST_SIGNATURE: &str = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168";
    const GET_SIGNATURE: &str = "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474";

    fn post_vector() -> Tc3Request<'static> {
        Tc3Request {
            service: "cvm",
            ..Tc3Request::post_json("cvm.tencentcloudapi.com", POST_BODY.as_bytes(), 1551113065)
        }
    }

    #[test]
    fn the_official_post_vector_reproduces() {
        let r = post_vector();
        let canonical = r.canonical_request();
        assert_eq!(
            canonical,
            format!(
                "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
                 content-type;host\n{}",
                sha256_hex(POST_BODY.as_bytes())
            )
        );
        assert_eq!(r.date(), "2019-02-25");
        assert!(r.string_to_sign().starts_with("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"));
        assert_eq!(r.signature(KEY), POST_SIGNATURE);
        assert_eq!(
            r.authorization(ID, KEY),
            format!(
                "TC3-HMAC-SHA256 Credential={ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, \
                 Signature={POST_SIGNATURE}"
            )
        );
    }

    #[test]
    fn the_official_get_vector_reproduces_with_the_free_functions() {
        let canonical =
            canonical_request("GET", "Limit=10&Offset=0", CONTENT_TYPE_FORM, "cvm.tencentcloudapi.com", b"");
        let date = utc_date(1539084154);
        assert_eq!(date, "2018-10-09");
        let to_sign = string_to_sign(1539084154, &credential_scope(&date, "cvm"), &canonical);
        assert_eq!(signature(KEY, &date, "cvm", &to_sign), GET_SIGNATURE);
        let get = Tc3Request {
            service: "cvm",
            ..Tc3Request::get("cvm.tencentcloudapi.com", "Limit=10&Offset=0", 1539084154)
        };
        assert_eq!(get.signature(KEY), GET_SIGNATURE);
    }

    #[test]
    fn the_official_v1_on_3_0_vector_is_reproduced_by_the_shared_v2_signer() {
        let s = "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886\
                 &Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768\
                 &Version=2017-03-12";
        assert_eq!(crate::v2::sign::signature(KEY, SignatureMethod::HmacSha1, s), "EliP9YW3pW28FpsEdkXt/+WcGeI=");
    }

    #[test]
    fn civil_dates_are_right_across_epochs_leap_days_and_centuries() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(utc_date(1551113065), "2019-02-25");
        assert_eq!(utc_date(86_399), "1970-01-01");
        assert_eq!(utc_date(86_400), "1970-01-02");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(1_709_251_199), "2024-02-29");
    }

    #[test]
    fn extra_signed_headers_are_lower_cased_sorted_and_listed() {
        let c = canonical_request_with_headers(
            "post",
            "",
            &[
                ("X-TC-Action", "DescribeVpcs"),
                ("Host", " vpc.tencentcloudapi.com "),
                ("Content-Type", "application/json"),
            ],
            b"{}",
        );
        let expected = format!(
            "POST\n/\n\ncontent-type:application/json\nhost:vpc.tencentcloudapi.com\nx-tc-action:describevpcs\n\n\
             content-type;host;x-tc-action\n{}",
            sha256_hex(b"{}")
        );
        assert_eq!(c, expected);
    }
}
