//! Building a signed API 2.0 request: the endpoint's signed host, the common parameters, the
//! signature and the percent-encoded query or form body. Pure functions; no I/O.

use std::fmt;

use reqwest::Url;

use crate::client::error::ClientConfigError;
use vpc_wire::domain::Credentials;
use vpc_wire::v2::sign::{self, SignatureMethod};

/// How parameters travel: in the query string (GET) or a form body (POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HttpMethod {
    /// Parameters in the query string.
    Get,
    /// Parameters in an `application/x-www-form-urlencoded` body (the default: keeps the
    /// signature out of URLs).
    #[default]
    Post,
}

impl HttpMethod {
    /// The method as it is written into the string to sign.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// A parsed endpoint: the URL, and the host and path that are signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
    host: String,
    path: String,
}

impl Endpoint {
    /// Parses an `https://host[:port]/path` endpoint. The signed host is what reqwest puts in
    /// the `Host` header: the host, plus `:port` when the port is not 443.
    pub fn parse(endpoint: &str) -> Result<Endpoint, ClientConfigError> {
        let refuse = |reason| ClientConfigError::Endpoint { endpoint: endpoint.to_owned(), reason };
        let url = Url::parse(endpoint).map_err(|_| refuse("not an absolute url"))?;
        if url.scheme() != "https" {
            return Err(refuse("the api is served over https only"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(refuse("must not carry a query, fragment or user info"));
        }
        let name = url.host_str().ok_or_else(|| refuse("has no host"))?;
        let host = match url.port() {
            Some(port) => format!("{name}:{port}"),
            None => name.to_owned(),
        };
        let path = url.path().to_owned();
        Ok(Endpoint { url, host, path })
    }

    /// The host as signed and sent in the `Host` header.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URL as configured.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// Everything that varies per request besides the action parameters.
pub struct Signing<'a> {
    /// The key pair (and token) to sign with.
    pub credentials: &'a Credentials,
    /// GET or POST.
    pub http_method: HttpMethod,
    /// HmacSHA256 or HmacSHA1.
    pub signature_method: SignatureMethod,
    /// The `Region` parameter.
    pub region: &'a str,
    /// The `Timestamp` parameter (UNIX seconds).
    pub timestamp: i64,
    /// The `Nonce` parameter.
    pub nonce: u64,
}

/// A signed request ready to send. Its `Debug` shows neither the signature nor the token.
pub struct SignedRequest {
    /// GET or POST.
    pub method: HttpMethod,
    /// The URL (with the encoded parameters as query for GET).
    pub url: Url,
    /// The form body for POST.
    pub body: Option<String>,
    /// The `Timestamp` that was signed.
    pub timestamp: i64,
    /// The string that was signed (kept for tests; never logged).
    pub string_to_sign: String,
    /// The base64 signature (kept for tests; never logged).
    pub signature: String,
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest").field("method", &self.method).field("host", &self.url.host_str()).finish()
    }
}

/// Adds the common parameters to `params`, signs them and encodes them for the wire.
pub fn sign_request(
    endpoint: &Endpoint,
    signing: &Signing<'_>,
    action: &str,
    params: Vec<(String, String)>,
) -> SignedRequest {
    let mut all = common_params(signing, action);
    all.extend(params);
    let pairs = || all.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let method = signing.http_method;
    let string_to_sign = sign::string_to_sign(method.as_str(), &endpoint.host, &endpoint.path, pairs());
    let signature = sign::signature(signing.credentials.secret_key.expose(), signing.signature_method, &string_to_sign);
    let encoded = format!("{}&Signature={}", sign::encode_params(pairs()), sign::encode(&signature));
    let mut url = endpoint.url.clone();
    let body = match method {
        HttpMethod::Get => {
            url.set_query(Some(&encoded));
            None
        }
        HttpMethod::Post => Some(encoded),
    };
    SignedRequest { method, url, body, timestamp: signing.timestamp, string_to_sign, signature }
}

fn common_params(signing: &Signing<'_>, action: &str) -> Vec<(String, String)> {
    let creds = signing.credentials;
    let mut params = vec![
        ("Action".to_owned(), action.to_owned()),
        ("Region".to_owned(), signing.region.to_owned()),
        ("Timestamp".to_owned(), signing.timestamp.to_string()),
        ("Nonce".to_owned(), signing.nonce.to_string()),
        ("SecretId".to_owned(), creds.secret_id.clone()),
        ("SignatureMethod".to_owned(), signing.signature_method.param().to_owned()),
    ];
    if let Some(token) = &creds.token {
        params.push(("Token".to_owned(), token.expose().to_owned()));
    }
    params
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vpc_wire::domain::Secret;

    fn vector_creds(token: Option<&str>) -> Credentials {
        Credentials {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA".into(),
            secret_key: Secret::new("Gu5t9xGARNpq86cd98joQYCN3Cozk1qA"),
            token: token.map(Secret::new),
        }
    }

    fn signing(creds: &Credentials, http_method: HttpMethod, signature_method: SignatureMethod) -> Signing<'_> {
        Signing {
            credentials: creds,
            http_method,
            signature_method,
            region: "ap-guangzhou",
            timestamp: 1465185768,
            nonce: 11886,
        }
    }

    #[test]
    fn signed_host_has_port_only_when_not_443() {
        assert_eq!(Endpoint::parse("https://vpc.api.qcloud.com/v2/index.php").unwrap().host(), "vpc.api.qcloud.com");
        assert_eq!(
            Endpoint::parse("https://vpc.api.qcloud.com:443/v2/index.php").unwrap().host(),
            "vpc.api.qcloud.com"
        );
        assert_eq!(Endpoint::parse("https://127.0.0.1:8443/v2/index.php").unwrap().host(), "127.0.0.1:8443");
        assert_eq!(Endpoint::parse("https://[::1]:9443/v2/index.php").unwrap().host(), "[::1]:9443");
        assert_eq!(Endpoint::parse("HTTPS://VPC.Example.com/v2/index.php").unwrap().host(), "vpc.example.com");
    }

    #[test]
    fn endpoints_that_are_not_plain_https_urls_are_refused() {
        assert!(Endpoint::parse("http://vpc.api.qcloud.com/v2/index.php").is_err());
        assert!(Endpoint::parse("vpc.api.qcloud.com/v2/index.php").is_err());
        assert!(Endpoint::parse("https://vpc.api.qcloud.com/v2/index.php?x=1").is_err());
    }

    #[test]
    fn official_vector_a_is_reproduced_by_the_request_builder() {
        let creds = vector_creds(None);
        let ep = Endpoint::parse("https://cvm.api.qcloud.com/v2/index.php").unwrap();
        let s = signing(&creds, HttpMethod::Get, SignatureMethod::HmacSha256);
        let req = sign_request(&ep, &s, "DescribeInstances", vec![("InstanceIds.0".into(), "ins-09dx96dg".into())]);
        assert_eq!(
            req.string_to_sign,
            "GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Nonce=11886\
             &Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&SignatureMethod=HmacSHA256&Timestamp=1465185768"
        );
        assert_eq!(req.signature, "0EEm/HtGRr/VJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s=");
        let query = req.url.query().unwrap();
        assert!(query.ends_with("&Signature=0EEm%2FHtGRr%2FVJXTAD9tYMth1Bzm3lLHz5RCDv1GdM8s%3D"), "{query}");
        assert!(req.body.is_none());
    }

    #[test]
    fn official_vector_b_is_reproduced_with_hmac_sha1() {
        let creds = vector_creds(None);
        let ep = Endpoint::parse("https://cvm.api.qcloud.com/v2/index.php").unwrap();
        let s = signing(&creds, HttpMethod::Get, SignatureMethod::HmacSha1);
        let req = sign_request(&ep, &s, "DescribeInstances", vec![("InstanceIds.0".into(), "ins-09dx96dg".into())]);
        assert_eq!(req.signature, "nPVnY6njQmwQ8ciqbPl5Qe+Oru4=");
        assert!(req.url.query().unwrap().ends_with("Signature=nPVnY6njQmwQ8ciqbPl5Qe%2BOru4%3D"));
    }

    #[test]
    fn post_signs_post_and_puts_the_encoded_parameters_in_the_body() {
        let creds = vector_creds(None);
        let ep = Endpoint::parse("https://127.0.0.1:8443/v2/index.php").unwrap();
        let s = signing(&creds, HttpMethod::Post, SignatureMethod::HmacSha256);
        let req = sign_request(&ep, &s, "DescribeVpcEx", vec![("vpcId".into(), "vpc-1".into())]);
        assert!(req.string_to_sign.starts_with("POST127.0.0.1:8443/v2/index.php?Action=DescribeVpcEx&"));
        assert_eq!(req.url.query(), None);
        let body = req.body.unwrap();
        assert!(
            body.starts_with("Action=DescribeVpcEx&Region=ap-guangzhou&Timestamp=1465185768&Nonce=11886&"),
            "{body}"
        );
        assert!(body.contains("&vpcId=vpc-1&Signature="), "{body}");
    }

    #[test]
    fn token_is_sent_and_signed_when_the_credentials_have_one() {
        let creds = vector_creds(Some("tok+en/=="));
        let ep = Endpoint::parse("https://vpc.api.qcloud.com/v2/index.php").unwrap();
        let s = signing(&creds, HttpMethod::Post, SignatureMethod::HmacSha256);
        let req = sign_request(&ep, &s, "DescribeVpcEx", vec![]);
        assert!(req.string_to_sign.contains("&Timestamp=1465185768&Token=tok+en/=="), "{}", req.string_to_sign);
        assert!(req.body.unwrap().contains("&Token=tok%2Ben%2F%3D%3D&"));
        let without = sign_request(
            &ep,
            &signing(&vector_creds(None), HttpMethod::Post, SignatureMethod::HmacSha256),
            "DescribeVpcEx",
            vec![],
        );
        assert!(!without.string_to_sign.contains("Token"));
    }

    #[test]
    fn values_are_signed_raw_and_sent_percent_encoded() {
        let creds = vector_creds(None);
        let ep = Endpoint::parse("https://vpc.api.qcloud.com/v2/index.php").unwrap();
        let s = signing(&creds, HttpMethod::Get, SignatureMethod::HmacSha256);
        let req = sign_request(&ep, &s, "DescribeVpcEx", vec![("vpcName".into(), "a+b/c=d 未命名".into())]);
        assert!(req.string_to_sign.contains("&vpcName=a+b/c=d 未命名"));
        let query = req.url.query().unwrap();
        assert!(query.contains("&vpcName=a%2Bb%2Fc%3Dd%20%E6%9C%AA%E5%91%BD%E5%90%8D&"), "{query}");
    }

    #[test]
    fn debug_of_a_signed_request_hides_signature_and_token() {
        let creds = vector_creds(Some("sts-token-value"));
        let ep = Endpoint::parse("https://vpc.api.qcloud.com/v2/index.php").unwrap();
        let req =
            sign_request(&ep, &signing(&creds, HttpMethod::Get, SignatureMethod::HmacSha256), "DescribeVpcEx", vec![]);
        let shown = format!("{req:?}");
        assert!(!shown.contains(&req.signature) && !shown.contains("sts-token-value"), "{shown}");
        assert!(!shown.contains(&sign::encode(&req.signature)), "{shown}");
    }
}
