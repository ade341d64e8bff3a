//! Temporary credentials end to end: the operator's pod identity (OIDC) and instance-role
//! providers obtain keys from vpc-sim's STS and metadata service, the 3.0 client signs with them,
//! the keys really expire and the providers refresh them; and Tencent's official Python SDK gets
//! pod identity credentials from the same STS. Starts vpc-sim in process, spawns Python.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::sim::{self, Sim};
use vpc_wire::domain::Credentials;
use vpcroute_operator::client3::{Client3Config, VpcClient3};
use vpcroute_operator::identity::instance::InstanceRoleFetch;
use vpcroute_operator::identity::oidc::{OidcFetch, OidcSettings};
use vpcroute_operator::identity::{ChainConfig, IdentityError, Refreshing, Source, http_client};

const PROVIDER: &str = "tke-oidc-sim";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/vpcroute-operator";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.projected.token";

/// The demo world with an OIDC provider and an instance role mapped onto the demo account, whose
/// keys live 3 seconds whatever the caller asks.
fn world() -> String {
    format!(
        "{}\noidc:\n  providerId: {PROVIDER}\n  roleArn: \"{ROLE_ARN}\"\n  token: {TOKEN}\n  account: {}\n  durationSeconds: 3\n\
         instanceRole:\n  roleName: vpcroute-node\n  account: {}\n  durationSeconds: 3\n",
        sim::WORLD,
        sim::TEST_SECRET_ID,
        sim::TEST_SECRET_ID
    )
}

fn client(base: &str, ca_file: &Path) -> VpcClient3 {
    let cfg =
        Client3Config { endpoint: format!("{base}/"), ca_file: Some(ca_file.to_owned()), ..Client3Config::default() };
    VpcClient3::new(cfg).unwrap()
}

fn token_file(name: &str, token: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::write(&path, token).unwrap();
    path
}

fn oidc_settings(token_file: PathBuf) -> OidcSettings {
    OidcSettings {
        region: sim::TEST_REGION.into(),
        provider_id: PROVIDER.into(),
        token_file,
        role_arn: ROLE_ARN.into(),
        duration_seconds: 3,
    }
}

async fn vpc_ids(client: &VpcClient3, creds: &Credentials) -> Result<Vec<String>, Option<String>> {
    match client.describe_vpcs(creds, sim::TEST_REGION, &[]).await {
        Ok(vpcs) => Ok(vpcs.into_iter().map(|v| v.vpc_id).collect()),
        Err(e) => Err(e.code),
    }
}

/// Polls until the cloud refuses `creds`; answers the code it refused them with.
async fn refused_code(client: &VpcClient3, creds: &Credentials) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Err(code) = vpc_ids(client, creds).await {
            return code;
        }
        assert!(Instant::now() < deadline, "the temporary key was still accepted after 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Calls through the provider every 250 ms for `span`; every call must succeed.
async fn keep_calling<F: vpcroute_operator::identity::Fetch>(
    provider: &Refreshing<F>,
    client: &VpcClient3,
    span: Duration,
) -> usize {
    let (end, mut ids) = (Instant::now() + span, std::collections::BTreeSet::new());
    while Instant::now() < end {
        let creds = provider.current().await.unwrap();
        let vpcs = vpc_ids(client, &creds).await.unwrap_or_else(|code| panic!("call refused: {code:?}"));
        assert!(vpcs.contains(&sim::TEST_VPC.to_string()), "{vpcs:?}");
        ids.insert(creds.secret_id);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ids.len()
}

#[tokio::test]
async fn pod_identity_keys_from_sts_sign_calls_expire_and_are_refreshed_before_they_do() {
    let sim = Sim::start(&world());
    let http = http_client(&ChainConfig { ca_file: Some(sim.ca_file.clone()), ..ChainConfig::default() }).unwrap();
    let fetch =
        OidcFetch::new(http, &format!("{}/", sim.base), oidc_settings(token_file("oidc-token", TOKEN))).unwrap();
    let provider = Refreshing::new(fetch, Source::Oidc);
    let client = client(&sim.base, &sim.ca_file);

    let first = provider.current().await.unwrap();
    assert!(first.token.is_some() && first.secret_id != sim::TEST_SECRET_ID);
    assert!(vpc_ids(&client, &first).await.unwrap().contains(&sim::TEST_VPC.to_string()));
    assert_eq!(refused_code(&client, &first).await.as_deref(), Some("AuthFailure.TokenFailure"));

    let keys_used = keep_calling(&provider, &client, Duration::from_secs(7)).await;
    assert!(keys_used >= 2, "the provider never refreshed ({keys_used} key used)");
    assert_eq!(sim.calls().await.get("AssumeRoleWithWebIdentity").copied().unwrap_or(0) as usize, keys_used + 1);
}

#[tokio::test]
async fn sts_refuses_a_token_or_role_it_does_not_know() {
    let sim = Sim::start(&world());
    let http = http_client(&ChainConfig { ca_file: Some(sim.ca_file.clone()), ..ChainConfig::default() }).unwrap();
    let endpoint = format!("{}/", sim.base);
    let wrong_token =
        OidcFetch::new(http.clone(), &endpoint, oidc_settings(token_file("oidc-wrong", "other"))).unwrap();
    let error = Refreshing::new(wrong_token, Source::Oidc).current().await.unwrap_err();
    assert!(
        matches!(&error, IdentityError::Refused { code, .. } if code == "InvalidParameter.WebIdentityTokenError"),
        "{error}"
    );
    let mut settings = oidc_settings(token_file("oidc-role", TOKEN));
    settings.role_arn = "qcs::cam::uin/1:roleName/nobody".into();
    let error =
        Refreshing::new(OidcFetch::new(http, &endpoint, settings).unwrap(), Source::Oidc).current().await.unwrap_err();
    assert!(
        matches!(&error, IdentityError::Refused { code, .. } if code == "ResourceNotFound.RoleNotExist"),
        "{error}"
    );
}

#[tokio::test]
async fn instance_role_keys_from_the_metadata_listener_expire_and_are_refreshed() {
    sim::install_crypto_provider();
    let ca = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("metadata-ca-{}.pem", std::process::id()));
    let options = vpc_sim::Options {
        listen: "127.0.0.1:0".parse().unwrap(),
        world: vpc_sim::world::parse(&world()).unwrap(),
        state: None,
        tls: vpc_sim::TlsSource::Generate { ca_out: Some(ca.clone()) },
    };
    let server = vpc_sim::Server::start(options, None).unwrap();
    let metadata = server.start_metadata("127.0.0.1:0".parse().unwrap()).unwrap();
    let http = http_client(&ChainConfig::default()).unwrap();
    let fetch = InstanceRoleFetch::new(http, &format!("http://{metadata}")).unwrap();
    assert_eq!(fetch.role().await.unwrap(), "vpcroute-node");
    let provider = Refreshing::new(fetch, Source::InstanceRole);
    let client = client(&format!("https://{}", server.addr()), &ca);

    let first = provider.current().await.unwrap();
    assert!(vpc_ids(&client, &first).await.unwrap().contains(&sim::TEST_VPC.to_string()));
    assert_eq!(refused_code(&client, &first).await.as_deref(), Some("AuthFailure.TokenFailure"));
    let keys_used = keep_calling(&provider, &client, Duration::from_secs(7)).await;
    assert!(keys_used >= 2, "the provider never refreshed ({keys_used} key used)");
}

/// A certifi package whose bundle also trusts `ca_file`, in a fresh directory to put first on
/// PYTHONPATH; the venv itself is not changed.
fn certifi_with(ca_file: &Path, dir: &Path) -> PathBuf {
    let venv_certifi =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/lib/python3.11/site-packages/certifi");
    assert!(venv_certifi.is_dir(), "no certifi in the venv; create it with: bash tests/interop/setup-venv.sh");
    let copy = dir.join("certifi");
    std::fs::create_dir_all(&copy).unwrap();
    for name in ["__init__.py", "core.py", "cacert.pem"] {
        std::fs::copy(venv_certifi.join(name), copy.join(name)).unwrap();
    }
    let mut bundle = std::fs::read_to_string(copy.join("cacert.pem")).unwrap();
    bundle.push('\n');
    bundle.push_str(&std::fs::read_to_string(ca_file).unwrap());
    std::fs::write(copy.join("cacert.pem"), bundle).unwrap();
    dir.to_owned()
}

fn run_python_sdk(sim: &Sim, token: &Path, pythonpath: Option<&Path>) -> std::process::Output {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-venv/bin/python");
    assert!(python.exists(), "the Python SDK venv is missing; create it with: bash tests/interop/setup-venv.sh");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/qcloud_sdk3_oidc.py");
    let mut command = std::process::Command::new(python);
    command
        .arg(script)
        .args([format!("127.0.0.1:{}", sim.port), sim.ca_file.display().to_string(), "4".into()])
        .env("TKE_REGION", sim::TEST_REGION)
        .env("TKE_PROVIDER_ID", PROVIDER)
        .env("TKE_WEB_IDENTITY_TOKEN_FILE", token)
        .env("TKE_ROLE_ARN", ROLE_ARN)
        .env("REQUESTS_CA_BUNDLE", &sim.ca_file)
        .env("SSL_CERT_FILE", &sim.ca_file)
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY");
    if let Some(path) = pythonpath {
        command.env("PYTHONPATH", path);
    }
    command.output().unwrap()
}

#[tokio::test]
async fn the_official_python_sdk_gets_pod_identity_credentials_from_the_emulator() {
    let sim = Sim::start(&world());
    let token = token_file("oidc-python", TOKEN);
    // REQUESTS_CA_BUNDLE and SSL_CERT_FILE alone do not work: the SDK passes certifi's path itself.
    let without = run_python_sdk(&sim, &token, None);
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(!without.status.success() && stderr.contains("CERTIFICATE_VERIFY_FAILED"), "{stderr}");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("certifi-sim-{}", std::process::id()));
    let run = run_python_sdk(&sim, &token, Some(&certifi_with(&sim.ca_file, &dir)));
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the SDK failed: {stderr}");
    let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(answer["temporary"], true, "{answer}");
    assert_eq!(answer["rotated"], true, "{answer}");
    assert!(answer["vpcs"][1].as_array().unwrap().iter().any(|v| v == sim::TEST_VPC), "{answer}");
    assert!(sim.calls().await.get("AssumeRoleWithWebIdentity").copied().unwrap_or(0) >= 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
