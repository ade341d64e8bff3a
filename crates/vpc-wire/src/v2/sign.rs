//! API 2.0 request signing (HmacSHA256 / HmacSHA1) and RFC 3986 parameter encoding.
//! Pure functions; no I/O.

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters left as they are by RFC 3986 percent-encoding: `A-Z a-z 0-9 - _ . ~`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The signature algorithm named by the `SignatureMethod` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SignatureMethod {
    /// `HmacSHA256`, the default this client sends.
    #[default]
    HmacSha256,
    /// `HmacSHA1`, what the server assumes when the parameter is absent or unknown.
    HmacSha1,
}

impl SignatureMethod {
    /// The value of the `SignatureMethod` parameter.
    pub fn param(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha256 => "HmacSHA256",
            SignatureMethod::HmacSha1 => "HmacSHA1",
        }
    }

    /// What a server makes of the parameter: `HmacSHA256` means SHA-256, anything else SHA-1.
    pub fn from_param(value: Option<&str>) -> SignatureMethod {
        match value {
            Some("HmacSHA256") => SignatureMethod::HmacSha256,
            _ => SignatureMethod::HmacSha1,
        }
    }
}

/// Percent-encodes one value per RFC 3986 (`+`→`%2B`, `/`→`%2F`, `=`→`%3D`, UTF-8 bytes escaped).
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, RFC3986).to_string()
}

/// Encodes parameters as a query string or form body, in the order given.
pub fn encode_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    params.into_iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// The canonical parameter string: every parameter but `Signature`, `_` in names replaced with
/// `.`, sorted byte-wise by name, joined as raw `name=value` pairs with `&`.
pub fn canonical_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, &str)> =
        params.into_iter().filter(|(k, _)| *k != "Signature").map(|(k, v)| (k.replace('_', "."), v)).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The string to sign: `METHOD + host + path + "?" + canonical params`.
/// `host` is exactly the `Host` header (with `:port` when it is not 443).
pub fn string_to_sign<'a>(
    http_method: &str,
    host: &str,
    path: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    format!("{}{}{}?{}", http_method.to_ascii_uppercase(), host, path, canonical_params(params))
}

/// base64(HMAC(secret_key, string_to_sign)) with the given algorithm.
pub fn signature(secret_key: &str, method: SignatureMethod, string_to_sign: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    match method {
        SignatureMethod::HmacSha256 => {
            let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
            mac.update(string_to_sign.as_bytes());
            engine.encode(mac.finalize().into_bytes())
        }
        SignatureMethod::HmacSha1 => {
            let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret_key.as_bytes())
                .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
            mac.update(string_to_sign.as_bytes());
            engine.encode(mac.finalize().into_bytes())
        }
    }
}

/// Checks a received signature in constant time against the one computed from the request.
pub fn verify(secret_key: &str, method: SignatureMethod, string_to_sign: &str, received: &str) -> bool {
    let expected = signature(secret_key, method, string_to_sign);
    crate::constant_time_eq(expected.as_bytes(), received.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3Cozk1qA";
    const ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA";

    fn vector_ab(method: &str) -> String {
        let params = [
            ("Action", "DescribeInstances"),
            ("InstanceIds.0", "ins-09dx96dg"),
            ("Nonce", "11886"),
            ("Region", "ap-guangzhou"),
            ("SecretId", ID),
            ("SignatureMethod", method),
            ("Timestamp", "1465185768"),
        ];
        string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", params)
    }

    #[test]
    fn official_vector_a_hmac_sha256() {
        assert_eq!(
            signature(KEY, SignatureMethod::HmacSha256, &vector_ab("HmacSHA256")),
            "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s="
        );
    }

    #[test]
    fn official_vector_b_hmac_sha1() {
        assert_eq!(signature(KEY, SignatureMethod::HmacSha1, &vector_ab("HmacSHA1")), "nPVnY6njQmwQ8ciqbPl5Qe+Oru4=");
    }

    #[test]
    fn official_vector_c_without_signature_method_means_sha1() {
        let params = [
            ("Action", "DescribeInstances"),
            ("Nonce", "345122"),
            ("Region", "gz"),
            ("SecretId", ID),
            ("Timestamp", "1408704141"),
        ];
        let s = string_to_sign("GET", "cvm.api.qcloud.com", "/v2/index.php", params);
        let method = SignatureMethod::from_param(None);
        assert_eq!(signature(KEY, method, &s), "HgIYOPcx5lN6gz8JsCFBNAWp2oQ=");
    }

    #[test]
    fn canonical_order_is_bytewise_and_underscores_become_dots() {
        let c = canonical_params([
            ("routeSet.2.nextHub", "b"),
            ("routeSet.10.nextHub", "a"),
            ("Action", "x"),
            ("Signature", "s"),
            ("a_b", "1"),
        ]);
        assert_eq!(c, "Action=x&a.b=1&routeSet.10.nextHub=a&routeSet.2.nextHub=b");
    }

    #[test]
    fn encoding_escapes_reserved_and_non_ascii() {
        assert_eq!(encode("a+b/c=d"), "a%2Bb%2Fc%3Dd");
        assert_eq!(encode("未命名 x"), "%E6%9C%AA%E5%91%BD%E5%90%8D%20x");
        assert_eq!(encode("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn verify_rejects_a_changed_signature() {
        let s = vector_ab("HmacSHA256");
        assert!(verify(KEY, SignatureMethod::HmacSha256, &s, "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s="));
        assert!(!verify(KEY, SignatureMethod::HmacSha256, &s, "1EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s="));
    }
}
