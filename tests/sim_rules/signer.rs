//! Raw API 2.0 calls for the emulator tests, signed with the crate's `wire::sign` (not the client):
//! a builder for one call with every knob a rule test needs, and an HTTPS sender. Network I/O.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use vpc_wire::v2::sign::{self, SignatureMethod};

use crate::sim::{self, Sim};

/// One API call, before signing.
#[derive(Clone, Debug)]
pub struct Call {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub secret_id: String,
    pub secret_key: String,
    pub token: Option<String>,
    pub region: Option<String>,
    /// `None` leaves `SignatureMethod` out (the server then assumes HmacSHA1).
    pub signature_method: Option<String>,
    pub post: bool,
    /// The host to sign; `None` signs the Host header actually sent.
    pub sign_host: Option<String>,
    /// A Host header to send instead of reqwest's own.
    pub host_header: Option<String>,
    pub timestamp: Option<i64>,
    pub nonce: Option<u64>,
    /// Parameters added after the signature was computed.
    pub unsigned: Vec<(String, String)>,
    /// Sign with this algorithm whatever `signature_method` says.
    pub sign_with: Option<SignatureMethod>,
}

/// UNIX seconds now.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Call {
    /// A call by the demo account in ap-guangzhou, signed with HmacSHA256, sent with GET.
    pub fn new(action: &str) -> Call {
        Call {
            action: action.into(),
            params: Vec::new(),
            secret_id: sim::TEST_SECRET_ID.into(),
            secret_key: sim::TEST_SECRET_KEY.into(),
            token: None,
            region: Some(sim::TEST_REGION.into()),
            signature_method: Some("HmacSHA256".into()),
            post: false,
            sign_host: None,
            host_header: None,
            timestamp: None,
            nonce: None,
            unsigned: Vec::new(),
            sign_with: None,
        }
    }

    /// A CreateRoute of the demo table with no routes yet.
    pub fn create() -> Call {
        Call::new("CreateRoute").target(sim::TEST_VPC, sim::TEST_TABLE)
    }

    /// A DeleteRoute of the demo table with no routes yet.
    pub fn delete() -> Call {
        Call::new("DeleteRoute").target(sim::TEST_VPC, sim::TEST_TABLE)
    }

    pub fn param(mut self, name: &str, value: &str) -> Call {
        self.params.push((name.into(), value.into()));
        self
    }

    pub fn target(self, vpc_id: &str, route_table_id: &str) -> Call {
        self.param("vpcId", vpc_id).param("routeTableId", route_table_id)
    }

    /// Adds `routeSet.index.*`.
    pub fn route(self, index: usize, destination: &str, next_type: &str, next_hub: &str) -> Call {
        self.param(&format!("routeSet.{index}.destinationCidrBlock"), destination)
            .param(&format!("routeSet.{index}.nextType"), next_type)
            .param(&format!("routeSet.{index}.nextHub"), next_hub)
    }

    pub fn creds(mut self, secret_id: &str, secret_key: &str) -> Call {
        self.secret_id = secret_id.into();
        self.secret_key = secret_key.into();
        self
    }

    pub fn region(mut self, region: &str) -> Call {
        self.region = Some(region.into());
        self
    }

    pub fn post(mut self) -> Call {
        self.post = true;
        self
    }

    /// The parameters as sent, `Signature` included.
    pub fn wire_params(&self, sent_host: &str) -> Vec<(String, String)> {
        let mut params = vec![
            ("Action".to_string(), self.action.clone()),
            ("SecretId".to_string(), self.secret_id.clone()),
            ("Timestamp".to_string(), self.timestamp.unwrap_or_else(now).to_string()),
            ("Nonce".to_string(), self.nonce.unwrap_or_else(|| rand::random_range(1..u64::MAX)).to_string()),
        ];
        let optional = [("Region", &self.region), ("SignatureMethod", &self.signature_method), ("Token", &self.token)];
        for (name, value) in optional {
            if let Some(value) = value {
                params.push((name.into(), value.clone()));
            }
        }
        params.extend(self.params.iter().cloned());
        let method = self.sign_with.unwrap_or_else(|| SignatureMethod::from_param(self.signature_method.as_deref()));
        let host = self.sign_host.as_deref().unwrap_or(sent_host);
        let http_method = if self.post { "POST" } else { "GET" };
        let text = sign::string_to_sign(
            http_method,
            host,
            "/v2/index.php",
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        params.push(("Signature".into(), sign::signature(&self.secret_key, method, &text)));
        params.extend(self.unsigned.iter().cloned());
        params
    }
}

/// Sends signed calls to one emulator.
pub struct Api {
    http: reqwest::Client,
    base: String,
    host: String,
}

impl Api {
    /// A sender trusting the emulator's CA, reaching it as `127.0.0.1:PORT`.
    pub fn new(sim: &Sim) -> Api {
        Api { http: sim::https_client(&sim.ca_file), base: sim.base.clone(), host: format!("127.0.0.1:{}", sim.port) }
    }

    /// A sender reaching the emulator by the name `localhost` (pinned to 127.0.0.1).
    pub fn via_localhost(sim: &Sim) -> Api {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&sim.ca_file).unwrap()).unwrap();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], sim.port));
        let http = reqwest::Client::builder().tls_certs_only([ca]).resolve("localhost", addr).build().unwrap();
        Api { http, base: format!("https://localhost:{}", sim.port), host: format!("localhost:{}", sim.port) }
    }

    /// Sends a call; the HTTP status and body, or the transport error.
    pub async fn send(&self, call: &Call) -> Result<(u16, String), reqwest::Error> {
        let host = call.host_header.clone().unwrap_or_else(|| self.host.clone());
        let params = call.wire_params(&host);
        let encoded = sign::encode_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let url = format!("{}/v2/index.php", self.base);
        let mut request = if call.post {
            self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(encoded)
        } else {
            self.http.get(format!("{url}?{encoded}"))
        };
        if let Some(host) = &call.host_header {
            request = request.header(reqwest::header::HOST, host);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// Sends a call that must get an HTTP 200 JSON envelope, and returns it.
    pub async fn call(&self, call: &Call) -> Value {
        let (status, body) = self.send(call).await.unwrap_or_else(|e| panic!("{} failed: {e}", call.action));
        assert_eq!(status, 200, "{}: {body}", call.action);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{}: not JSON ({e}): {body}", call.action))
    }

    /// Sends a call that must succeed (code 0), and returns the envelope.
    pub async fn ok(&self, call: &Call) -> Value {
        let answer = self.call(call).await;
        assert_eq!(code(&answer), 0, "{} refused: {answer}", call.action);
        answer
    }

    /// Sends a call that must fail with `code` and `code_desc`, and returns the envelope.
    pub async fn refused(&self, call: &Call, code_expected: i64, code_desc_expected: &str) -> Value {
        let answer = self.call(call).await;
        assert_eq!((code(&answer), desc(&answer)), (code_expected, code_desc_expected), "{}: {answer}", call.action);
        answer
    }
}

/// The envelope's numeric code (accepting a string too).
pub fn code(answer: &Value) -> i64 {
    match &answer["code"] {
        Value::String(s) => s.parse().unwrap(),
        other => other.as_i64().unwrap(),
    }
}

/// The envelope's `codeDesc`.
pub fn desc(answer: &Value) -> &str {
    answer["codeDesc"].as_str().unwrap_or_default()
}

/// The envelope's `message`.
pub fn message(answer: &Value) -> &str {
    answer["message"].as_str().unwrap_or_default()
}

/// The routes DescribeRouteTable shows for a table (Local included): (destination, type, hub).
pub async fn described_routes(api: &Api, route_table_id: &str) -> Vec<(String, u64, String)> {
    let answer = api.ok(&Call::new("DescribeRouteTable").param("routeTableId", route_table_id)).await;
    assert_eq!(answer["totalCount"], 1, "{answer}");
    let routes = answer["data"][0]["routeSet"].as_array().unwrap();
    routes
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap().to_string();
            (text("destinationCidrBlock"), r["nextType"].as_u64().unwrap(), text("nextHub"))
        })
        .collect()
}
