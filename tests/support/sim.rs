//! Test harness for the vpc-sim emulator: starts the real server in process (its own thread and
//! runtime, its log in a file) on a free loopback port with a world, restarts it, and drives its
//! `/_sim/` control API over HTTPS. Writes files under the test target dir, does network I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use vpc_wire::domain::{Credentials, Secret};

/// The shipped example world.
pub const WORLD: &str = include_str!("../../deploy/world.yaml");
/// The demo account in [`WORLD`].
pub const TEST_SECRET_ID: &str = "AKIDdemoVpcSimPrimary0000000000000001";
/// The demo account's key.
pub const TEST_SECRET_KEY: &str = "demoKeyNotARealSecretPrimary0001";
/// A second, unrelated account in [`WORLD`].
pub const OTHER_SECRET_ID: &str = "AKIDdemoVpcSimSecondary00000000000002";
/// The second account's key.
pub const OTHER_SECRET_KEY: &str = "demoKeyNotARealSecretSecond0002";
/// An account in [`WORLD`] with temporary credentials (requires a Token).
pub const STS_SECRET_ID: &str = "AKIDdemoVpcSimTemporary00000000000003";
/// Its key.
pub const STS_SECRET_KEY: &str = "demoKeyNotARealSecretTemp00003";
/// Its token.
pub const STS_TOKEN: &str = "demoStsTokenNotReal0003";
/// The demo region, VPC, tables and VPN gateway (the CreateRoute seed's example).
pub const TEST_REGION: &str = "ap-guangzhou";
pub const TEST_VPC: &str = "vpc-amhnnao5";
pub const TEST_TABLE: &str = "rtb-4ahe1qy2";
pub const TEST_TABLE_2: &str = "rtb-9cmf3w7s";
pub const TEST_VPN: &str = "vpngw-dystbrkv";
pub const TEST_NAT: &str = "nat-0fkvq2hd";
/// The route [`TEST_TABLE`] starts with: (destination, nextType, hub).
pub const PREEXISTING_ROUTE: (&str, u32, &str) = ("192.168.0.0/16", 8, TEST_NAT);

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// The demo account's credentials.
pub fn credentials() -> Credentials {
    Credentials { secret_id: TEST_SECRET_ID.into(), secret_key: Secret::new(TEST_SECRET_KEY), token: None }
}

/// Who makes the TLS certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Certs {
    /// The harness makes a CA and server certificate once and passes them with --tls-cert/--tls-key,
    /// so a restart keeps the CA every client already trusts.
    Harness,
    /// vpc-sim generates its own CA at every start and writes it to --ca-out.
    Generated,
}

/// A running vpc-sim; killed on drop.
pub struct Sim {
    /// `https://127.0.0.1:PORT/v2/index.php`.
    pub endpoint: String,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The CA certificate (PEM) that clients must trust.
    pub ca_file: PathBuf,
    /// The port it listens on.
    pub port: u16,
    dir: PathBuf,
    world_file: PathBuf,
    state_file: Option<PathBuf>,
    certs: Certs,
    server: Option<vpc_sim::Server>,
    http: reqwest::Client,
}

impl Sim {
    /// Starts vpc-sim with this world (YAML).
    pub fn start(world_yaml: &str) -> Sim {
        Sim::launch(world_yaml, false, Certs::Harness)
    }

    /// Starts vpc-sim with this world and a state file, so `restart` keeps routes.
    pub fn start_with_state(world_yaml: &str) -> Sim {
        Sim::launch(world_yaml, true, Certs::Harness)
    }

    /// Starts vpc-sim letting it generate its own CA (written to `ca_file`); a restart makes a new one.
    pub fn start_generating_ca(world_yaml: &str) -> Sim {
        Sim::launch(world_yaml, false, Certs::Generated)
    }

    fn launch(world_yaml: &str, with_state: bool, certs: Certs) -> Sim {
        install_crypto_provider();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "vpc-sim-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let world_file = dir.join("world.yaml");
        std::fs::write(&world_file, world_yaml).unwrap();
        if certs == Certs::Harness {
            write_harness_certs(&dir);
        }
        let mut sim = Sim {
            endpoint: String::new(),
            base: String::new(),
            ca_file: dir.join("ca.pem"),
            port: 0,
            state_file: with_state.then(|| dir.join("state.json")),
            world_file,
            dir,
            certs,
            server: None,
            http: reqwest::Client::new(),
        };
        assert!(sim.spawn(0), "vpc-sim did not become ready; its log:\n{}", sim.log());
        sim
    }

    /// Stops vpc-sim (every connection is cut, as when the process dies) and starts it again, on
    /// the same port if that port can be had again.
    pub fn restart(&mut self) {
        self.stop();
        if !self.spawn(self.port) {
            assert!(self.spawn(0), "vpc-sim did not restart; its log:\n{}", self.log());
        }
    }

    /// Stops vpc-sim; returns whether it was running.
    pub fn stop(&mut self) -> bool {
        self.server.take().map(|mut s| s.stop()).is_some()
    }

    /// Everything vpc-sim logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("vpc-sim.log")).unwrap_or_default()
    }

    /// The state file, when started with one.
    pub fn state_file(&self) -> Option<&Path> {
        self.state_file.as_deref()
    }

    fn spawn(&mut self, port: u16) -> bool {
        let world = vpc_sim::world::load(&self.world_file).unwrap_or_else(|e| panic!("world: {e:?}"));
        let tls = match self.certs {
            Certs::Harness => {
                vpc_sim::TlsSource::Files { cert: self.dir.join("server.pem"), key: self.dir.join("server.key") }
            }
            Certs::Generated => vpc_sim::TlsSource::Generate { ca_out: Some(self.ca_file.clone()) },
        };
        let options = vpc_sim::Options {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            world,
            state: self.state_file.clone(),
            tls,
        };
        let server = match vpc_sim::Server::start(options, Some(log_dispatch(&self.dir.join("vpc-sim.log")))) {
            Ok(server) => server,
            Err(e) => {
                eprintln!("vpc-sim did not start on port {port}: {e}");
                return false;
            }
        };
        self.port = server.addr().port();
        self.base = format!("https://{}", server.addr());
        self.endpoint = format!("{}/v2/index.php", self.base);
        self.http = https_client(&self.ca_file);
        self.server = Some(server);
        true
    }

    async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response.json().await.unwrap()
    }

    async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// `GET /_sim/state`.
    pub async fn state(&self) -> serde_json::Value {
        self.get_json("/_sim/state").await
    }

    /// `GET /_sim/calls`.
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.get_json("/_sim/calls").await).unwrap()
    }

    /// `GET /_sim/ledger?since=N`: the successful writes numbered above `since`.
    pub async fn ledger(&self, since: u64) -> Vec<vpc_sim::ledger::Entry> {
        #[derive(serde::Deserialize)]
        struct Answer {
            entries: Vec<vpc_sim::ledger::Entry>,
        }
        let answer: Answer =
            serde_json::from_value(self.get_json(&format!("/_sim/ledger?since={since}")).await).unwrap();
        answer.entries
    }

    /// `POST /_sim/calls/reset`.
    pub async fn reset_calls(&self) {
        self.send_json(reqwest::Method::POST, "/_sim/calls/reset", None).await;
    }

    /// `POST /_sim/faults`; returns the fault id.
    pub async fn fault(&self, spec: serde_json::Value) -> u64 {
        let answer = self.send_json(reqwest::Method::POST, "/_sim/faults", Some(spec)).await;
        answer["id"].as_u64().expect("fault id")
    }

    /// `DELETE /_sim/faults`.
    pub async fn clear_faults(&self) {
        self.send_json(reqwest::Method::DELETE, "/_sim/faults", None).await;
    }

    /// `PUT /_sim/rate-limits`.
    pub async fn rate_limits(&self, spec: serde_json::Value) {
        self.send_json(reqwest::Method::PUT, "/_sim/rate-limits", Some(spec)).await;
    }

    /// `POST /_sim/edit`.
    pub async fn edit(&self, spec: serde_json::Value) {
        self.send_json(reqwest::Method::POST, "/_sim/edit", Some(spec)).await;
    }

    /// The routes of a table in any account, `Local` excluded: (destination, nextType, hub).
    pub async fn routes(&self, route_table_id: &str) -> Vec<(String, u32, String)> {
        let routes = self.route_details(route_table_id).await;
        routes
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap().to_string();
                (text("destinationCidrBlock"), r["nextType"].as_u64().unwrap() as u32, text("nextHub"))
            })
            .collect()
    }

    /// The route of a table for a destination as `/_sim/state` shows it (with `routeId`,
    /// `routeItemId`, `enabled`, `description`), if there is one.
    pub async fn route(&self, route_table_id: &str, destination: &str) -> Option<serde_json::Value> {
        let routes = self.route_details(route_table_id).await;
        routes.into_iter().find(|r| r["destinationCidrBlock"] == destination)
    }

    async fn route_details(&self, route_table_id: &str) -> Vec<serde_json::Value> {
        let state = self.state().await;
        let tables = state["accounts"].as_array().into_iter().flatten().flat_map(|a| {
            a["regions"]
                .as_object()
                .into_iter()
                .flat_map(|r| r.values())
                .flat_map(|r| r["vpcs"].as_array().into_iter().flatten())
        });
        let table = tables
            .flat_map(|vpc| vpc["routeTables"].as_array().into_iter().flatten())
            .find(|t| t["routeTableId"] == route_table_id)
            .unwrap_or_else(|| panic!("no route table {route_table_id} in the sim state"));
        table["routes"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("vpc-sim log ({}):\n{}", self.dir.display(), self.log());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Installs rustls' ring provider for this process (reqwest is built without one).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTPS client that trusts only the CA in `ca_file`.
pub fn https_client(ca_file: &Path) -> reqwest::Client {
    install_crypto_provider();
    let pem = std::fs::read(ca_file).unwrap();
    let ca = reqwest::Certificate::from_pem(&pem).unwrap();
    reqwest::Client::builder().tls_certs_only([ca]).timeout(Duration::from_secs(20)).build().unwrap()
}

/// A tracing dispatcher that appends the emulator's events (level `info`) to `file`.
fn log_dispatch(file: &Path) -> tracing::Dispatch {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(file).unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(Arc::new(file))
        .finish();
    tracing::Dispatch::new(subscriber)
}

/// A CA and a server certificate for 127.0.0.1, ::1 and localhost, as the harness's own files.
fn write_harness_certs(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(DnType::CommonName, "vpc-sim harness CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let names = vec!["127.0.0.1".to_string(), "::1".to_string(), "localhost".to_string()];
    let mut params = CertificateParams::new(names).unwrap();
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}
