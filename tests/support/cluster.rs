//! The real Kubernetes control plane for integration tests: starts one launcher per test binary
//! (or uses the cluster named by `VPCROUTE_TEST_KUBECONFIG`), and gives each test a fresh
//! namespace and client, CRD installation and a polling `wait_for`. Does cluster and file I/O.

pub mod launcher;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use launcher::{Launcher, bin_dir, repo_root};
use serde::Deserialize;

/// Names an existing cluster's kubeconfig to test against instead of starting one.
pub const EXTERNAL_KUBECONFIG_ENV: &str = "VPCROUTE_TEST_KUBECONFIG";

/// Field manager for everything the test support applies.
pub const FIELD_MANAGER: &str = "vpcroute-tests";

/// Label put on every test namespace (an external cluster's leftovers can be deleted by it).
pub const TEST_NAMESPACE_LABEL: &str = "vpcroute.test/ephemeral";

/// One test's view of the cluster.
pub struct TestEnv {
    /// An admin client, built for this test's runtime.
    pub client: Client,
    /// A fresh namespace, already created.
    pub namespace: String,
    /// The admin kubeconfig, for subprocesses (the operator, kubectl, helm).
    pub kubeconfig: PathBuf,
    /// kubectl built with the control plane (or `kubectl` from PATH on an external cluster).
    pub kubectl: PathBuf,
    /// helm built with the control plane (or `helm` from PATH on an external cluster).
    pub helm: PathBuf,
    /// True when testing against `VPCROUTE_TEST_KUBECONFIG` rather than our own control plane.
    pub external: bool,
}

/// The control plane of this test process: started once, shared by every test in it.
struct Cluster {
    kubeconfig: PathBuf,
    external: bool,
    /// Holds the launcher's stdin open; the launcher stops when this process exits.
    _launcher: Option<Launcher>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn cluster() -> &'static Cluster {
    let cluster = CLUSTER.get_or_init(|| match std::env::var_os(EXTERNAL_KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => {
            let kubeconfig = PathBuf::from(path);
            if kubeconfig.is_file() {
                Ok(Cluster { kubeconfig, external: true, _launcher: None })
            } else {
                Err(format!("{EXTERNAL_KUBECONFIG_ENV}={} is not a file", kubeconfig.display()))
            }
        }
        _ => {
            Launcher::start().map(|l| Cluster { kubeconfig: l.kubeconfig.clone(), external: false, _launcher: Some(l) })
        }
    });
    match cluster {
        Ok(cluster) => cluster,
        Err(why) => panic!("cannot start the test Kubernetes control plane: {why}"),
    }
}

/// The admin kubeconfig of the test cluster, starting the control plane if needed.
pub fn kubeconfig_path() -> PathBuf {
    cluster().kubeconfig.clone()
}

/// True when the tests run against `VPCROUTE_TEST_KUBECONFIG`.
pub fn is_external() -> bool {
    cluster().external
}

/// A fresh admin client for the test cluster (clients are tied to one tokio runtime, so every
/// test builds its own).
pub async fn client() -> Client {
    client_from_kubeconfig(&kubeconfig_path()).await
}

/// A client for any kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> Client {
    let config = config_from_kubeconfig(path).await;
    Client::try_from(config).unwrap_or_else(|e| panic!("building client from {}: {e}", path.display()))
}

/// The client configuration a kubeconfig file gives.
pub async fn config_from_kubeconfig(path: &Path) -> Config {
    let kubeconfig =
        Kubeconfig::read_from(path).unwrap_or_else(|e| panic!("reading kubeconfig {}: {e}", path.display()));
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("loading kubeconfig {}: {e}", path.display()))
}

/// Writes a kubeconfig at `path` for the test cluster that authenticates with `token` (for
/// example a ServiceAccount token from the TokenRequest API) instead of the admin certificate.
pub fn write_token_kubeconfig(token: &str, path: &Path) {
    let admin = kubeconfig_path();
    let mut kubeconfig = Kubeconfig::read_from(&admin).unwrap_or_else(|e| panic!("reading {}: {e}", admin.display()));
    let auth: kube::config::AuthInfo =
        serde_json::from_value(serde_json::json!({ "token": token })).expect("token auth");
    for named in &mut kubeconfig.auth_infos {
        named.auth_info = Some(auth.clone());
    }
    let yaml = serde_norway::to_string(&kubeconfig).expect("serializing kubeconfig");
    std::fs::write(path, yaml).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// A client for the test cluster that authenticates with a bearer `token`.
pub async fn client_for_token(token: &str) -> Client {
    let path =
        std::env::temp_dir().join(format!("vpcroute-token-{}-{}.kubeconfig", std::process::id(), random_suffix()));
    write_token_kubeconfig(token, &path);
    let client = client_from_kubeconfig(&path).await;
    let _ = std::fs::remove_file(&path);
    client
}

/// Starts (once) the control plane and returns a client plus a freshly created namespace whose
/// name starts with `prefix`. Panics, saying why and how to fix it, if there is no cluster.
pub async fn test_env(prefix: &str) -> TestEnv {
    let cluster = cluster();
    env_on(&cluster.kubeconfig, cluster.external, prefix).await
}

/// Like [`test_env`] on a control plane of this test's own, started with `launcher_args`
/// (launcher flags, e.g. `-apiserver-arg=--watch-cache=false`), for tests that take the
/// control plane down or reconfigure it: the shared one serves every test of the binary at
/// once. Also with `VPCROUTE_TEST_KUBECONFIG` set, since no external cluster can be restarted
/// at will. Dropping the returned [`Launcher`] stops that control plane.
pub async fn private_test_env(prefix: &str, launcher_args: &[&str]) -> (TestEnv, Launcher) {
    let args: Vec<String> = launcher_args.iter().map(|a| (*a).to_owned()).collect();
    let started = tokio::task::spawn_blocking(move || {
        Launcher::start_with_args(&args.iter().map(String::as_str).collect::<Vec<_>>())
    });
    let launcher = match started.await {
        Ok(Ok(launcher)) => launcher,
        Ok(Err(why)) => panic!("cannot start a private test control plane: {why}"),
        Err(e) => panic!("starting a private test control plane: {e}"),
    };
    let env = env_on(&launcher.kubeconfig, false, prefix).await;
    (env, launcher)
}

/// An admin client of the cluster at `kubeconfig` and a fresh namespace there.
async fn env_on(kubeconfig: &Path, external: bool, prefix: &str) -> TestEnv {
    let client = client_from_kubeconfig(kubeconfig).await;
    let namespace = format!("{}-{}", dns_label_prefix(prefix), random_suffix());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.clone()),
            labels: Some(BTreeMap::from([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())])),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("creating test namespace {namespace}: {e}"));
    TestEnv {
        client,
        namespace,
        kubeconfig: kubeconfig.to_path_buf(),
        kubectl: tool("kubectl"),
        helm: tool("helm"),
        external,
    }
}

/// The built binary `name`, or just `name` (looked up on PATH) if it was not built.
fn tool(name: &str) -> PathBuf {
    let built = bin_dir().join(name);
    if built.is_file() { built } else { PathBuf::from(name) }
}

/// The Kubernetes version the control plane is built from: `k8s.io/kubernetes`'s version in
/// `tests/cluster/go.mod`, e.g. `v1.37.2`.
pub fn kubernetes_version() -> String {
    let go_mod = repo_root().join("tests/cluster/go.mod");
    let text = std::fs::read_to_string(&go_mod).unwrap_or_else(|e| panic!("reading {}: {e}", go_mod.display()));
    text.lines()
        .find_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w == "require");
            (words.next()? == "k8s.io/kubernetes").then(|| words.next().map(str::to_owned))?
        })
        .unwrap_or_else(|| panic!("{} does not require k8s.io/kubernetes", go_mod.display()))
}

/// Server-side applies every CRD in the repository's `crds/` directory and waits until each is
/// Established and its resources can be listed. Returns the CRD names.
pub async fn install_crds(client: &Client) -> Vec<String> {
    install_crds_from(client, &repo_root().join("crds")).await
}

/// Like [`install_crds`] for any directory: every YAML document of every `*.yaml`/`*.yml` file
/// in `dir` must be a CustomResourceDefinition.
pub async fn install_crds_from(client: &Client, dir: &Path) -> Vec<String> {
    let crds = read_crds(dir);
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    let mut names = Vec::new();
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_else(|| panic!("a CRD in crds/ has no metadata.name"));
        api.patch(&name, &apply, &Patch::Apply(&crd)).await.unwrap_or_else(|e| panic!("applying CRD {name}: {e}"));
        wait_for(&format!("CRD {name} to be Established"), Duration::from_secs(60), || established(&api, &name)).await;
        let resource = served_resource(&crd);
        let objects = Api::<DynamicObject>::all_with(client.clone(), &resource);
        wait_for(&format!("{} to be listable", resource.plural), Duration::from_secs(60), || async {
            objects.list(&ListParams::default().limit(1)).await.ok().map(|_| ())
        })
        .await;
        names.push(name);
    }
    names
}

fn read_crds(dir: &Path) -> Vec<CustomResourceDefinition> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading CRD directory {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "yaml" || ext == "yml"))
        .collect();
    files.sort();
    let mut crds = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = serde_norway::Value::deserialize(document)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
            if value.is_null() {
                continue;
            }
            crds.push(
                serde_norway::from_value(value).unwrap_or_else(|e| panic!("{} is not a CRD: {e}", file.display())),
            );
        }
    }
    assert!(!crds.is_empty(), "no CRDs found in {}", dir.display());
    crds
}

async fn established(api: &Api<CustomResourceDefinition>, name: &str) -> Option<()> {
    let crd = api.get(name).await.ok()?;
    let conditions = crd.status?.conditions?;
    conditions.iter().any(|c| c.type_ == "Established" && c.status == "True").then_some(())
}

/// The CRD's storage version (or first served one) as a dynamic API resource.
fn served_resource(crd: &CustomResourceDefinition) -> ApiResource {
    let versions = &crd.spec.versions;
    let version = versions
        .iter()
        .find(|v| v.storage)
        .or_else(|| versions.iter().find(|v| v.served))
        .unwrap_or_else(|| panic!("CRD {:?} serves no version", crd.metadata.name));
    let gvk = GroupVersionKind::gvk(&crd.spec.group, &version.name, &crd.spec.names.kind);
    ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural)
}

/// Polls `f` until it returns `Some`, backing off from 20 ms to 500 ms between tries. Panics
/// with `what` if `timeout` passes first.
pub async fn wait_for<F, Fut, T>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(20);
    loop {
        if let Some(value) = f().await {
            return value;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

/// kube-apiserver's own `/metrics` text (needs an admin client). Counters start at zero
/// whenever kube-apiserver starts.
pub async fn apiserver_metrics(client: &Client) -> String {
    let request = kube::core::Request::new("").get("metrics", &kube::api::GetParams::default()).expect("GET /metrics");
    client.request_text(request).await.unwrap_or_else(|e| panic!("reading kube-apiserver /metrics: {e}"))
}

/// The sum of kube-apiserver's `apiserver_request_total` samples whose labels include every
/// `(name, value)` of `labels`, e.g. `[("resource", "vpcroutes"), ("code", "409")]`.
pub fn requests_total(metrics: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("apiserver_request_total{"))
        .filter_map(|rest| {
            let (set, value) = rest.rsplit_once("} ")?;
            let has = |(name, want): &(&str, &str)| {
                set.split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .any(|(n, v)| n == *name && v.trim_matches('"') == *want)
            };
            labels.iter().all(has).then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

/// `prefix` made into the start of a DNS label: lower case, `[a-z0-9-]`, at most 40 characters.
fn dns_label_prefix(prefix: &str) -> String {
    let cleaned: String =
        prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(40).collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() { "test".to_owned() } else { trimmed.to_owned() }
}

fn random_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}
