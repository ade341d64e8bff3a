//! What the emulator's own tests share: the shipped demo world and its accounts, an in-process
//! emulator with an HTTPS client that trusts it, and signed API 2.0 / 3.0 calls (TC3 and v1)
//! built with vpc-wire's signing code. Network I/O against the in-process emulator only.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vpc_wire::v2::sign::{self as v1sign, SignatureMethod};
use vpc_wire::v3::sign::{self as tc3, Tc3Request, header};

/// The shipped example world.
pub const WORLD: &str = include_str!("../../../../deploy/world.yaml");
/// The demo account in [`WORLD`].
pub const TEST_SECRET_ID: &str = "AKIDdemoVpcSimPrimary0000000000000001";
/// The demo account's key.
pub const TEST_SECRET_KEY: &str = "demoKeyNotARealSecretPrimary0001";
/// The demo region and table.
pub const TEST_REGION: &str = "ap-guangzhou";
pub const TEST_TABLE: &str = "rtb-4ahe1qy2";
/// The demo VPC (CIDR 10.0.0.0/16) holding [`TEST_TABLE`] and `rtb-9cmf3w7s`.
pub const TEST_VPC: &str = "vpc-amhnnao5";
/// The demo VPN gateway.
pub const TEST_VPN: &str = "vpngw-dystbrkv";

/// A key pair (with the token of temporary credentials).
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub id: &'static str,
    pub key: &'static str,
    pub token: Option<&'static str>,
}

/// The demo account.
pub const DEMO: Key = Key { id: TEST_SECRET_ID, key: TEST_SECRET_KEY, token: None };
/// The STS account: every call needs its token.
pub const STS: Key = Key {
    id: "AKIDdemoVpcSimTemporary00000000000003",
    key: "demoKeyNotARealSecretTemp00003",
    token: Some("demoStsTokenNotReal0003"),
};

/// Changes to an otherwise correct TC3 call.
#[derive(Clone, Debug, Default)]
pub struct Tweak {
    /// `X-TC-Version`: `None` for 2017-03-12, `Some("")` to leave it out.
    pub version: Option<&'static str>,
    /// `X-TC-Region` (default the demo region).
    pub region: Option<&'static str>,
    /// Seconds added to the signed timestamp.
    pub skew: i64,
    /// Leave the token out.
    pub no_token: bool,
    /// Send this token instead of the key's.
    pub token: Option<&'static str>,
    /// Send this `Authorization` instead of the computed one.
    pub authorization: Option<&'static str>,
}

/// An emulator in this process with the demo world, and a client that trusts its CA.
pub struct Sim {
    pub server: vpc_sim::Server,
    pub http: reqwest::Client,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Starts the emulator with `world` (YAML) on a free port.
pub fn start_with(world: &str) -> Sim {
    start_with_state(world, None)
}

/// Starts the emulator with `world` (YAML) on a free port, keeping its routes in `state`.
pub fn start_with_state(world: &str, state: Option<std::path::PathBuf>) -> Sim {
    let world = vpc_sim::world::parse(world).unwrap();
    let options = vpc_sim::Options {
        listen: "127.0.0.1:0".parse().unwrap(),
        world,
        state,
        tls: vpc_sim::TlsSource::Generate { ca_out: None },
    };
    let server = vpc_sim::Server::start(options, None).unwrap();
    let ca = reqwest::Certificate::from_pem(server.ca_pem().unwrap().as_bytes()).unwrap();
    let http = reqwest::Client::builder().tls_certs_only([ca]).build().unwrap();
    let host = server.addr().to_string();
    Sim { server, http, host }
}

/// Starts the emulator with the demo world.
pub fn start() -> Sim {
    start_with(WORLD)
}

/// The `Response` object of a 3.0 answer.
pub fn response(body: &Value) -> &Value {
    &body["Response"]
}

/// The error code of a 3.0 answer, `""` on success.
pub fn code(body: &Value) -> &str {
    body["Response"]["Error"]["Code"].as_str().unwrap_or("")
}

impl Sim {
    pub fn base(&self) -> String {
        format!("https://{}", self.host)
    }

    /// A TC3 POST with a JSON body.
    pub async fn tc3(&self, key: Key, action: &str, body: Value) -> Value {
        self.tc3_tweaked(key, action, body, Tweak::default()).await
    }

    /// A TC3 POST with a JSON body, changed as `tweak` says.
    pub async fn tc3_tweaked(&self, key: Key, action: &str, body: Value, tweak: Tweak) -> Value {
        self.tc3_sent(key, action, body, tweak).await.unwrap().json().await.unwrap()
    }

    /// A TC3 POST as [`Sim::tc3_tweaked`] sends it, answering what came back (an error when the
    /// connection closed without an answer).
    pub async fn tc3_sent(
        &self,
        key: Key,
        action: &str,
        body: Value,
        tweak: Tweak,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let payload = serde_json::to_vec(&body).unwrap();
        let timestamp = now() + tweak.skew;
        let signed = Tc3Request::post_json(&self.host, &payload, timestamp);
        let authorization = tweak.authorization.map_or_else(|| signed.authorization(key.id, key.key), String::from);
        let mut request = self
            .http
            .post(format!("{}/", self.base()))
            .header(header::CONTENT_TYPE, tc3::CONTENT_TYPE_JSON)
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACTION, action)
            .header(header::TIMESTAMP, timestamp.to_string())
            .header(header::REGION, tweak.region.unwrap_or(TEST_REGION));
        match tweak.version {
            Some("") => {}
            version => request = request.header(header::VERSION, version.unwrap_or(tc3::VERSION)),
        }
        if let Some(token) = tweak.token.or(key.token).filter(|_| !tweak.no_token) {
            request = request.header(header::TOKEN, token);
        }
        request.body(payload).send().await
    }

    /// A TC3 GET with `query` (flattened, already percent-encoded where needed).
    pub async fn tc3_get(&self, key: Key, action: &str, query: &str) -> Value {
        let timestamp = now();
        let signed = Tc3Request::get(&self.host, query, timestamp);
        self.http
            .get(format!("{}/?{query}", self.base()))
            .header(header::CONTENT_TYPE, tc3::CONTENT_TYPE_FORM)
            .header(header::AUTHORIZATION, signed.authorization(key.id, key.key))
            .header(header::ACTION, action)
            .header(header::VERSION, tc3::VERSION)
            .header(header::TIMESTAMP, timestamp.to_string())
            .header(header::REGION, TEST_REGION)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A signature-v1 call on `path` (`/` for 3.0, `/v2/index.php` for 2.0): GET query or POST form.
    pub async fn v1(&self, path: &str, post: bool, method: SignatureMethod, params: &[(&str, &str)]) -> Value {
        let timestamp = now().to_string();
        let nonce = rand::random_range(1..u32::MAX).to_string();
        let mut all: Vec<(&str, &str)> = vec![
            ("Region", TEST_REGION),
            ("SecretId", TEST_SECRET_ID),
            ("SignatureMethod", method.param()),
            ("Timestamp", &timestamp),
            ("Nonce", &nonce),
        ];
        all.extend_from_slice(params);
        let http_method = if post { "POST" } else { "GET" };
        let text = v1sign::string_to_sign(http_method, &self.host, path, all.iter().copied());
        let signature = v1sign::signature(TEST_SECRET_KEY, method, &text);
        all.push(("Signature", &signature));
        let encoded = v1sign::encode_params(all.iter().copied());
        let url = format!("{}{path}", self.base());
        let request = if post {
            self.http.post(url).header("Content-Type", "application/x-www-form-urlencoded").body(encoded)
        } else {
            self.http.get(format!("{url}?{encoded}"))
        };
        request.send().await.unwrap().json().await.unwrap()
    }

    /// A 2.0 GET on `/v2/index.php` for the demo account.
    pub async fn v2(&self, params: &[(&str, &str)]) -> Value {
        self.v1("/v2/index.php", false, SignatureMethod::HmacSha256, params).await
    }

    /// A control-API call under `/_sim/`.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}/_sim/{path}", self.base()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// Creates one VPN route in the demo table via 3.0; answers the new route.
    pub async fn create_vpn_route(&self, destination: &str) -> Value {
        let body = json!({"RouteTableId": TEST_TABLE, "Routes": [
            {"DestinationCidrBlock": destination, "GatewayType": "VPN", "GatewayId": TEST_VPN}]});
        let answer = self.tc3(DEMO, "CreateRoutes", body).await;
        assert_eq!(code(&answer), "", "{answer}");
        answer["Response"]["RouteTableSet"][0]["RouteSet"][0].clone()
    }

    /// The demo table's routes as DescribeRouteTables shows them.
    pub async fn demo_routes(&self) -> Vec<Value> {
        let answer = self.tc3(DEMO, "DescribeRouteTables", json!({"RouteTableIds": [TEST_TABLE]})).await;
        assert_eq!(code(&answer), "", "{answer}");
        answer["Response"]["RouteTableSet"][0]["RouteSet"].as_array().unwrap().clone()
    }
}
