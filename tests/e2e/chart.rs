//! The Helm chart (the repository root) with the real helm and kubectl and the real API server:
//! lint, rendering, package contents, the plain manifests in deploy/ kept in sync, and least
//! privilege proven by running the operator binary with nothing but the chart's ServiceAccount.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::support::cluster::launcher::bin_dir;
use crate::support::cluster::{TestEnv, client_for_token, install_crds, test_env, wait_for, write_token_kubeconfig};
use crate::support::operator::Operator;
use crate::support::routes::{SETTLE, api, create, delete, patch_spec, spec, wait_gone, wait_reason};
use crate::support::sim::{Sim, TEST_NAT, TEST_REGION, TEST_SECRET_ID, TEST_SECRET_KEY, TEST_TABLE, TEST_VPN, WORLD};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, ServiceAccount};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::PolicyRule;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// The chart is the repository root.
const CHART: &str = env!("CARGO_MANIFEST_DIR");
/// What regenerates deploy/operator.yaml.
const REGENERATE: &str = "bash deploy/render.sh";

// ---- running helm, kubectl and scripts ----

/// Runs `program` in the chart directory with an isolated helm home; `Err` holds its output.
async fn exec(program: &Path, args: &[&str], kubeconfig: Option<&Path>, input: Option<&str>) -> Result<String, String> {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("helm-home-{}", std::process::id()));
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(CHART)
        .env("HELM", helm())
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match kubeconfig {
        Some(path) => cmd.env("KUBECONFIG", path),
        None => cmd.env_remove("KUBECONFIG"),
    };
    let what = format!("{} {}", program.display(), args.join(" "));
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("starting `{what}`: {e}"));
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).await.unwrap_or_else(|e| panic!("writing to `{what}`: {e}"));
    }
    let out = child.wait_with_output().await.unwrap_or_else(|e| panic!("running `{what}`: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{what}` failed: {text}"))
    }
}

async fn ok(program: &Path, args: &[&str], kubeconfig: Option<&Path>, input: Option<&str>) -> String {
    exec(program, args, kubeconfig, input).await.unwrap()
}

/// helm from `bash tests/cluster/build.sh`, else from PATH (the same rule as `TestEnv.helm`).
fn helm() -> PathBuf {
    let built = bin_dir().join("helm");
    if built.is_file() { built } else { PathBuf::from("helm") }
}

/// `helm template` of the chart into `namespace` with `--set` values; the documents as JSON.
async fn render(namespace: &str, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "vrt", CHART, "--namespace", namespace];
    for set in sets {
        args.extend(["--set", set]);
    }
    documents(&ok(&helm(), &args, None, None).await)
}

/// [`render`] for a cluster that serves MutatingAdmissionPolicy (so the finalizer policy is in).
async fn render_for_policy_api(namespace: &str, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "vrt", CHART, "--namespace", namespace, "--api-versions", POLICY_API];
    for set in sets {
        args.extend(["--set", set]);
    }
    documents(&ok(&helm(), &args, None, None).await)
}

const POLICY_API: &str = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy";

fn documents(yaml: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_norway::Deserializer::from_str(yaml)
        .map(|doc| serde_norway::Value::deserialize(doc).expect("rendered YAML does not parse"))
        .filter(|doc| !doc.is_null())
        .map(|doc| serde_json::to_value(doc).expect("rendered YAML is not JSON-like"))
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The only object of `kind`, typed.
fn the<T: DeserializeOwned>(docs: &[Value], kind: &str) -> T {
    let found = of_kind(docs, kind);
    assert_eq!(found.len(), 1, "expected one {kind}, rendered {}", found.len());
    serde_json::from_value(found[0].clone()).unwrap_or_else(|e| panic!("rendered {kind} is invalid: {e}"))
}

/// Rules as comparable lines: `group resource [names] verbs`.
fn rules(role: &Value) -> BTreeSet<String> {
    let rules: Vec<PolicyRule> = serde_json::from_value(role["rules"].clone()).unwrap_or_default();
    let mut lines = BTreeSet::new();
    for r in rules {
        let mut verbs = r.verbs.clone();
        verbs.sort();
        let names = r.resource_names.unwrap_or_default().join(",");
        for group in r.api_groups.unwrap_or_default() {
            for resource in r.resources.clone().unwrap_or_default() {
                lines.insert(format!("{group} {resource} [{names}] {}", verbs.join(",")));
            }
        }
    }
    lines
}

/// The Role rule for the create journal (ConfigMaps in the release namespace).
const JOURNAL: &str = " configmaps [] create,list,patch";

fn lines(expected: &[&str]) -> BTreeSet<String> {
    expected.iter().map(|s| s.to_string()).collect()
}

fn args_of(deployment: &Deployment) -> Vec<String> {
    let pod = deployment.spec.as_ref().and_then(|s| s.template.spec.as_ref());
    pod.and_then(|p| p.containers.first()).and_then(|c| c.args.clone()).unwrap_or_default()
}

// ---- rendering and packaging ----

#[tokio::test]
async fn chart_lints_strictly_and_its_app_version_is_the_crate_version() {
    let text = std::fs::read_to_string(Path::new(CHART).join("Chart.yaml")).expect("Chart.yaml");
    let chart: Value = serde_norway::from_str(&text).expect("Chart.yaml");
    assert_eq!(chart["name"], "vpcroute-operator");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"), "Chart.yaml appVersion must be the crate version");
    assert_eq!(chart["version"], env!("CARGO_PKG_VERSION"), "Chart.yaml version must be the crate version");
    let variants: [&[&str]; 3] = [
        &[],
        &["replicaCount=2", "metrics.serviceMonitor.enabled=true", "watchNamespace=team-a"],
        &["credentials.create=true", "credentials.secretId=id", "credentials.secretKey=key", "cloud.caBundle=pem"],
    ];
    for sets in variants {
        let mut args = vec!["lint", CHART, "--strict"];
        for set in sets {
            args.extend(["--set", set]);
        }
        let out = ok(&helm(), &args, None, None).await;
        assert!(out.contains("1 chart(s) linted, 0 chart(s) failed"), "helm lint {sets:?}: {out}");
    }
}

#[tokio::test]
async fn default_render_is_a_hardened_operator_with_route_event_and_journal_rights_only() {
    let docs = render("ops", &[]).await;
    let d: Deployment = the(&docs, "Deployment");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(1));
    let args = args_of(&d);
    assert_eq!(args.first().map(String::as_str), Some("run"), "{args:?}");
    assert!(args.contains(&"--http-addr=0.0.0.0:8080".to_string()), "{args:?}");
    assert!(!args.iter().any(|a| a.starts_with("--leader-elect") || a.starts_with("--credentials-secret")), "{args:?}");
    let pod = serde_json::to_value(d.spec.map(|s| s.template)).unwrap_or_default();
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["image"], format!("ghcr.io/vpcroute/vpcroute-operator:{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(c["ports"][0], json!({"name": "http", "containerPort": 8080, "protocol": "TCP"}));
    assert_eq!(c["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": "http"}));
    assert_eq!(c["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": "http"}));
    let sc = &c["securityContext"];
    assert_eq!(
        (&sc["runAsNonRoot"], &sc["readOnlyRootFilesystem"], &sc["allowPrivilegeEscalation"]),
        (&json!(true), &json!(true), &json!(false))
    );
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(pod["spec"]["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert!(c["resources"]["requests"]["cpu"].is_string() && c["resources"]["limits"]["memory"].is_string(), "{c}");
    let env: Vec<_> = c["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].clone(), e["valueFrom"]["fieldRef"]["fieldPath"].clone()))
        .collect();
    assert!(env.contains(&(json!("POD_NAMESPACE"), json!("metadata.namespace"))), "{env:?}");
    assert!(env.contains(&(json!("POD_NAME"), json!("metadata.name"))), "{env:?}");
    let cluster_roles = of_kind(&docs, "ClusterRole");
    assert_eq!(cluster_roles.len(), 1, "one ClusterRole by default");
    assert_eq!(
        rules(cluster_roles[0]),
        lines(&[
            "events.k8s.io events [] create,patch",
            "vpc.qcloud.dev vpcroutes [] get,list,patch,update,watch",
            "vpc.qcloud.dev vpcroutes/finalizers [] update",
            "vpc.qcloud.dev vpcroutes/status [] get,patch,update",
        ])
    );
    assert_eq!(of_kind(&docs, "ClusterRoleBinding").len(), 1);
    let roles = of_kind(&docs, "Role");
    assert_eq!(roles.len(), 1, "one Role, in the release namespace");
    assert_eq!(roles[0]["metadata"]["namespace"], "ops");
    assert_eq!(rules(roles[0]), lines(&[JOURNAL]), "the create journal's ConfigMaps only");
    assert_eq!(of_kind(&docs, "RoleBinding").len(), 1);
    for absent in ["Secret", "PodDisruptionBudget", "ServiceMonitor", "ConfigMap"] {
        assert!(of_kind(&docs, absent).is_empty(), "no {absent} by default");
    }
    assert_eq!(of_kind(&docs, "Service")[0]["spec"]["ports"][0]["targetPort"], "http");
}

#[tokio::test]
async fn two_replicas_turn_on_leader_election_a_lease_role_and_a_disruption_budget() {
    let docs = render("ops", &["replicaCount=2"]).await;
    let args = args_of(&the(&docs, "Deployment"));
    for flag in ["--leader-elect", "--lease-name=vrt-vpcroute-operator", "--lease-seconds=15"] {
        assert!(args.contains(&flag.to_string()), "{flag} missing from {args:?}");
    }
    assert_eq!(of_kind(&docs, "PodDisruptionBudget")[0]["spec"]["minAvailable"], 1);
    assert_eq!(
        rules(of_kind(&docs, "Role")[0]),
        lines(&[
            JOURNAL,
            "coordination.k8s.io leases [] create",
            "coordination.k8s.io leases [vrt-vpcroute-operator] get,patch,update",
        ])
    );
}

#[tokio::test]
async fn credential_values_grant_exactly_the_secrets_they_name() {
    let created =
        render("ops", &["credentials.create=true", "credentials.secretId=id", "credentials.secretKey=key"]).await;
    let secret: Secret = the(&created, "Secret");
    assert_eq!(secret.metadata.name.as_deref(), Some("vrt-vpcroute-operator-credentials"));
    let data = secret.string_data.unwrap_or_default();
    assert_eq!((data.get("secretId"), data.get("secretKey")), (Some(&"id".to_string()), Some(&"key".to_string())));
    assert!(
        args_of(&the(&created, "Deployment"))
            .contains(&"--credentials-secret=vrt-vpcroute-operator-credentials".into())
    );
    assert_eq!(
        rules(of_kind(&created, "Role")[0]),
        lines(&[JOURNAL, " secrets [vrt-vpcroute-operator-credentials] get"])
    );

    let existing =
        render("ops", &["credentials.existingSecret=mine", "credentials.perResourceSecrets.namespaces={a,b}"]).await;
    assert!(of_kind(&existing, "Secret").is_empty(), "existingSecret must not create a Secret");
    assert!(args_of(&the(&existing, "Deployment")).contains(&"--credentials-secret=mine".into()));
    let roles = of_kind(&existing, "Role");
    let places: Vec<_> = roles.iter().map(|r| (r["metadata"]["namespace"].as_str().unwrap_or(""), rules(r))).collect();
    assert_eq!(places.len(), 3, "{places:?}");
    assert!(places.contains(&("ops", lines(&[JOURNAL, " secrets [mine] get"]))), "{places:?}");
    for ns in ["a", "b"] {
        assert!(places.contains(&(ns, lines(&[" secrets [] get"]))), "{places:?}");
    }
    assert_eq!(of_kind(&existing, "ClusterRole").len(), 1, "no cluster-wide Secret access unless asked");

    let wide = render("ops", &["credentials.perResourceSecrets.clusterWide=true"]).await;
    let secret_roles: Vec<_> = of_kind(&wide, "ClusterRole")
        .into_iter()
        .filter(|r| r["metadata"]["name"] == "vrt-vpcroute-operator-credentials")
        .collect();
    assert_eq!(secret_roles.len(), 1);
    assert_eq!(rules(secret_roles[0]), lines(&[" secrets [] get"]));

    let both = ["template", "vrt", CHART, "--set", "credentials.create=true", "--set", "credentials.existingSecret=x"];
    match exec(&helm(), &both, None, None).await {
        Err(refused) => assert!(refused.contains("not both"), "{refused}"),
        Ok(_) => panic!("credentials.create and credentials.existingSecret together must fail"),
    }
}

#[tokio::test]
async fn a_service_monitor_scrapes_the_metrics_service_when_enabled() {
    let docs =
        render("ops", &["metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prom"]).await;
    let monitor = of_kind(&docs, "ServiceMonitor");
    assert_eq!(monitor.len(), 1);
    assert_eq!(monitor[0]["spec"]["endpoints"][0]["port"], "http");
    assert_eq!(monitor[0]["spec"]["endpoints"][0]["path"], "/metrics");
    assert_eq!(monitor[0]["metadata"]["labels"]["release"], "prom");
    assert_eq!(monitor[0]["spec"]["selector"]["matchLabels"], of_kind(&docs, "Service")[0]["spec"]["selector"]);
}

#[tokio::test]
async fn committed_plain_manifests_match_what_render_sh_renders() {
    let committed = std::fs::read_to_string(Path::new(CHART).join("deploy/operator.yaml"))
        .unwrap_or_else(|e| panic!("deploy/operator.yaml: {e}; generate it with `{REGENERATE}`"));
    let fresh = ok(Path::new("bash"), &["deploy/render.sh", "-"], None, None).await;
    assert!(
        documents(&committed) == documents(&fresh),
        "deploy/operator.yaml differs from the chart; regenerate it with `{REGENERATE}`"
    );
    assert!(committed.contains("kubectl apply --server-side -f crds/"), "the header must say how to install the CRD");
    let kinds: BTreeSet<_> =
        documents(&committed).iter().map(|d| d["kind"].as_str().unwrap_or("").to_string()).collect();
    assert!(kinds.contains("Deployment") && !kinds.contains("CustomResourceDefinition"), "{kinds:?}");
}

#[tokio::test]
async fn packaged_chart_holds_only_chart_files() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("package-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let dest = out.display().to_string();
    ok(&helm(), &["package", CHART, "--destination", &dest], None, None).await;
    let tgz = out.join(format!("vpcroute-operator-{}.tgz", env!("CARGO_PKG_VERSION")));
    let listing = ok(Path::new("tar"), &["-tzf", &tgz.display().to_string()], None, None).await;
    let _ = std::fs::remove_dir_all(&out);
    let entries: Vec<&str> = listing.lines().filter(|l| !l.ends_with('/')).collect();
    let allowed = |p: &str| {
        ["Chart.yaml", "values.yaml", ".helmignore", "README.md", "LICENSE"].contains(&p)
            || p.starts_with("templates/")
            || p.starts_with("crds/")
    };
    let mut strays = Vec::new();
    for entry in &entries {
        let inner = entry
            .strip_prefix("vpcroute-operator/")
            .unwrap_or_else(|| panic!("{entry} is outside the chart directory"));
        if !allowed(inner) {
            strays.push(inner);
        }
    }
    assert!(strays.is_empty(), "the package holds non-chart files {strays:?}; add them to .helmignore");
    for needed in
        ["Chart.yaml", "values.yaml", "crds/vpcroutes.yaml", "templates/deployment.yaml", "templates/_helpers.tpl"]
    {
        assert!(entries.contains(&format!("vpcroute-operator/{needed}").as_str()), "{needed} missing from {entries:?}");
    }
}

#[tokio::test]
async fn finalizer_policy_renders_where_the_api_serves_it_scoped_like_the_operator() {
    let policies = |docs: &[Value]| of_kind(docs, "MutatingAdmissionPolicyBinding").len();
    assert_eq!(policies(&render("ns", &[]).await), 0, "not without the policy API");
    let docs = render_for_policy_api("ns", &[]).await;
    assert_eq!((of_kind(&docs, "MutatingAdmissionPolicy").len(), policies(&docs)), (1, 1));
    let binding = of_kind(&docs, "MutatingAdmissionPolicyBinding")[0];
    assert_eq!(binding["spec"]["matchResources"]["namespaceSelector"], serde_json::json!({}), "all namespaces");
    let scoped = render_for_policy_api("ns", &["watchNamespace=team-a"]).await;
    let binding = of_kind(&scoped, "MutatingAdmissionPolicyBinding")[0];
    let only = serde_json::json!({"matchLabels": {"kubernetes.io/metadata.name": "team-a"}});
    assert_eq!(binding["spec"]["matchResources"]["namespaceSelector"], only);
    assert_eq!(policies(&render_for_policy_api("ns", &["labelSelector=shard=a"]).await), 0, "sharded: left out");
    assert_eq!(policies(&render_for_policy_api("ns", &["finalizerPolicy.enabled=false"]).await), 0);
}

#[tokio::test]
async fn rendered_chart_is_accepted_by_the_real_api_server() {
    let env = test_env("chart-dry-run").await;
    install_crds(&env.client).await;
    let ns = env.namespace.as_str();
    let per_resource = format!("credentials.perResourceSecrets.namespaces={{{ns}}}");
    let watch = format!("watchNamespace={ns}");
    let everything = vec![
        "replicaCount=2",
        "credentials.create=true",
        "credentials.secretId=id",
        "credentials.secretKey=key",
        "cloud.caBundle=pem",
        per_resource.as_str(),
        "credentials.perResourceSecrets.clusterWide=true",
    ];
    for sets in [vec![], everything, vec![watch.as_str()]] {
        let docs = render_for_policy_api(ns, &sets).await;
        let yaml: String =
            docs.iter().map(|d| format!("---\n{}", serde_norway::to_string(d).unwrap_or_default())).collect();
        let out =
            ok(&env.kubectl, &["apply", "--dry-run=server", "-n", ns, "-f", "-"], Some(&env.kubeconfig), Some(&yaml))
                .await;
        let accepted = out.lines().filter(|l| l.ends_with("(server dry run)")).count();
        assert_eq!(accepted, docs.len(), "every rendered object must be accepted ({sets:?}):\n{out}");
    }
}

// ---- least privilege, proven as the chart's ServiceAccount ----

/// A Helm release in a test namespace; uninstalled on drop (its cluster-scoped RBAC too).
struct Release {
    name: String,
    namespace: String,
    kubeconfig: PathBuf,
    helm: PathBuf,
}

impl Release {
    /// `helm install` with `--set` values and `--set-file` values (value name, file).
    async fn install(env: &TestEnv, sets: &[String], files: &[(&str, &Path)]) -> Release {
        let name = format!("r{}", env.namespace.rsplit('-').next().unwrap_or("x"));
        let mut args =
            vec!["install".to_string(), name.clone(), CHART.into(), "--namespace".into(), env.namespace.clone()];
        for set in sets {
            args.extend(["--set".to_string(), set.clone()]);
        }
        for (key, file) in files {
            args.extend(["--set-file".to_string(), format!("{key}={}", file.display())]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&env.helm, &args, Some(&env.kubeconfig), None).await;
        Release { name, namespace: env.namespace.clone(), kubeconfig: env.kubeconfig.clone(), helm: env.helm.clone() }
    }

    fn fullname(&self) -> String {
        format!("{}-vpcroute-operator", self.name)
    }

    /// A token for the release's ServiceAccount from the TokenRequest API.
    async fn token(&self, env: &TestEnv) -> String {
        let sa: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &self.namespace);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec { expiration_seconds: Some(3600), ..Default::default() }),
            ..Default::default()
        };
        let answer = sa.create_token_request(&self.fullname(), &PostParams::default(), &request).await;
        let answer = answer.unwrap_or_else(|e| panic!("TokenRequest for {}: {e}", self.fullname()));
        answer.status.and_then(|s| s.token).unwrap_or_else(|| panic!("TokenRequest returned no token"))
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let _ = std::process::Command::new(&self.helm)
            .args(["uninstall", &self.name, "--namespace", &self.namespace])
            .env("KUBECONFIG", &self.kubeconfig)
            .output();
    }
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, kube::Error>, what: &str) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what} must be refused with 403, got {other:?}"),
    }
}

fn hop(routes: &[(String, u32, String)], dest: &str) -> Option<(u32, String)> {
    routes.iter().find(|r| r.0 == dest).map(|r| (r.1, r.2.clone()))
}

async fn events_for(env: &TestEnv, name: &str, reason: &str) -> Option<()> {
    let list = Api::<Event>::namespaced(env.client.clone(), &env.namespace).list(&ListParams::default()).await.ok()?;
    list.items
        .iter()
        .any(|e| {
            e.reason.as_deref() == Some(reason) && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
        })
        .then_some(())
}

#[tokio::test]
async fn operator_running_as_the_chart_service_account_creates_changes_heals_and_deletes_a_route() {
    let env = test_env("chart-sa").await;
    install_crds(&env.client).await;
    let sim = Sim::start(WORLD);
    let sets: Vec<String> = [
        "replicaCount=2".to_string(),
        "credentials.create=true".into(),
        format!("credentials.secretId={TEST_SECRET_ID}"),
        format!("credentials.secretKey={TEST_SECRET_KEY}"),
        format!("cloud.api={}", crate::support::backend::api()),
        format!("cloud.endpoint={}", crate::support::backend::endpoint(&sim.base)),
        format!("cloud.region={TEST_REGION}"),
        "resyncSeconds=3".into(),
        "retry.baseMs=100".into(),
        "retry.maxSeconds=2".into(),
        // Scoped to this namespace, so the finalizer policy the chart installs (the cluster
        // serves the policy API) leaves other tests' VpcRoutes alone.
        format!("watchNamespace={}", env.namespace),
    ]
    .into();
    let release = Release::install(&env, &sets, &[("cloud.caBundle", &sim.ca_file)]).await;
    // Run exactly the flags the chart gave the Deployment, except what only makes sense in a Pod.
    let deployment = Api::<Deployment>::namespaced(env.client.clone(), &env.namespace).get(&release.fullname()).await;
    let chart_args = args_of(&deployment.expect("the chart's Deployment"));
    assert!(chart_args.contains(&"--leader-elect".to_string()), "{chart_args:?}");
    let pod_only = ["--ca-file=", "--http-addr=", "--watch-namespace="];
    let mut args: Vec<String> =
        chart_args.into_iter().filter(|a| !pod_only.iter().any(|flag| a.starts_with(flag))).collect();
    args.extend([
        format!("--ca-file={}", sim.ca_file.display()),
        "--http-addr=127.0.0.1:0".into(),
        format!("--namespace={}", env.namespace), // what POD_NAMESPACE gives the Pod
        format!("--watch-namespace={}", env.namespace),
    ]);
    let token_kubeconfig = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}.kubeconfig", env.namespace));
    write_token_kubeconfig(&release.token(&env).await, &token_kubeconfig);
    let as_sa = TestEnv {
        client: env.client.clone(),
        namespace: env.namespace.clone(),
        kubeconfig: token_kubeconfig,
        kubectl: env.kubectl.clone(),
        helm: env.helm.clone(),
        external: env.external,
    };
    let mut op = Operator::start_with(&as_sa, args, &env.namespace);
    eprintln!("operator log: {}", op.log_path().display());
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
    wait_for("the operator to hold the chart's Lease", SETTLE, || async {
        let lease = leases.get_opt(&release.fullname()).await.ok()??;
        lease.spec?.holder_identity.map(|_| ())
    })
    .await;

    let (ns, c, dest) = (env.namespace.as_str(), &env.client, "10.120.0.0/16");
    crate::support::policy::wait_for_policy(&env).await;
    let created = create(c, ns, "r", spec(dest)).await;
    let finalizers = created.metadata.finalizers.unwrap_or_default();
    assert_eq!(finalizers, [vpcroute_operator::controller::FINALIZER], "added by the chart's admission policy");
    wait_reason(c, ns, "r", "True", "Created").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, dest), Some((1, TEST_VPN.to_string())), "create");
    wait_for("a Created event on the resource", SETTLE, || events_for(&env, "r", "Created")).await;

    patch_spec(c, ns, "r", json!({"nextType": "NatGateway", "nextHub": TEST_NAT})).await;
    let changed = wait_reason(c, ns, "r", "True", "Created").await;
    assert_eq!(changed.observed_generation, Some(2));
    let routes = sim.routes(TEST_TABLE).await;
    assert_eq!(hop(&routes, dest), Some((8, TEST_NAT.to_string())), "change of next hop");
    assert_eq!(routes.iter().filter(|r| r.0 == dest).count(), 1, "one route per destination: {routes:?}");

    sim.edit(json!({"op": "delete", "secretId": TEST_SECRET_ID, "region": TEST_REGION, "routeTableId": TEST_TABLE,
                    "destinationCidrBlock": dest}))
        .await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, dest), None, "the route was deleted by hand");
    wait_for("drift: the route deleted by hand to come back", SETTLE, || async {
        hop(&sim.routes(TEST_TABLE).await, dest).filter(|h| *h == (8, TEST_NAT.to_string()))
    })
    .await;

    delete(c, ns, "r").await;
    wait_gone(c, ns, "r").await;
    assert_eq!(hop(&sim.routes(TEST_TABLE).await, dest), None, "delete");
    wait_for("a Deleted event on the resource", SETTLE, || events_for(&env, "r", "Deleted")).await;
    assert!(op.is_running(), "the operator must still run; its log:\n{}", op.log());
    let log = op.log();
    assert!(!log.to_lowercase().contains("forbidden"), "the ServiceAccount was refused something it needs:\n{log}");
}

#[tokio::test]
async fn chart_service_account_is_refused_what_the_operator_must_not_do() {
    let env = test_env("chart-deny").await;
    install_crds(&env.client).await;
    let sets =
        ["credentials.create=true".to_string(), "credentials.secretId=id".into(), "credentials.secretKey=key".into()];
    let release = Release::install(&env, &sets, &[]).await;
    let sa = client_for_token(&release.token(&env).await).await;
    let ns = env.namespace.as_str();
    let other = Secret {
        metadata: ObjectMeta { name: Some("not-for-the-operator".into()), ..Default::default() },
        string_data: Some([("k".to_string(), "v".to_string())].into()),
        ..Default::default()
    };
    Api::<Secret>::namespaced(env.client.clone(), ns).create(&PostParams::default(), &other).await.unwrap();

    // What it needs works (so the refusals below are about rights, not a broken token).
    let secrets: Api<Secret> = Api::namespaced(sa.clone(), ns);
    let own = secrets.get(&format!("{}-credentials", release.fullname())).await;
    assert!(own.is_ok(), "the configured Secret must be readable: {own:?}");
    assert!(api(&sa, ns).list(&ListParams::default()).await.is_ok(), "VpcRoutes must be listable");

    forbidden(Api::<Secret>::all(sa.clone()).list(&ListParams::default()).await, "listing Secrets cluster-wide");
    forbidden(secrets.list(&ListParams::default()).await, "listing Secrets in its own namespace");
    forbidden(secrets.get("not-for-the-operator").await, "reading a Secret other than the configured one");
    let pod: Pod = serde_json::from_value(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}),
    )
    .unwrap();
    forbidden(Api::<Pod>::namespaced(sa.clone(), ns).create(&PostParams::default(), &pod).await, "creating Pods");
    forbidden(Api::<Namespace>::all(sa.clone()).delete(ns, &DeleteParams::default()).await, "deleting namespaces");
    // ConfigMaps: its own namespace's, for the create journal (list, create, patch), no more.
    let config_maps: Api<ConfigMap> = Api::namespaced(sa.clone(), ns);
    assert!(config_maps.list(&ListParams::default()).await.is_ok(), "the journal's ConfigMaps must be listable");
    forbidden(Api::<ConfigMap>::all(sa.clone()).list(&ListParams::default()).await, "listing ConfigMaps cluster-wide");
    forbidden(config_maps.get("kube-root-ca.crt").await, "reading a ConfigMap");
    forbidden(config_maps.delete("kube-root-ca.crt", &DeleteParams::default()).await, "deleting a ConfigMap");
    forbidden(
        api(&sa, ns)
            .create(&PostParams::default(), &vpcroute_operator::crd::VpcRoute::new("x", spec("10.121.0.0/16")))
            .await,
        "creating VpcRoutes",
    );
    forbidden(api(&sa, ns).delete("x", &DeleteParams::default()).await, "deleting VpcRoutes");
    let lease: Lease = serde_json::from_value(json!({"metadata": {"name": "l"}})).unwrap();
    forbidden(
        Api::<Lease>::namespaced(sa.clone(), ns).create(&PostParams::default(), &lease).await,
        "creating Leases without leader election",
    );
    forbidden(
        Api::<CustomResourceDefinition>::all(sa.clone())
            .delete("vpcroutes.vpc.qcloud.dev", &DeleteParams::default())
            .await,
        "deleting its CRD",
    );
}

#[tokio::test]
async fn watch_namespace_and_per_resource_secret_namespaces_confine_the_grants() {
    let env = test_env("chart-scope").await;
    let tenant = test_env("chart-tenant").await;
    install_crds(&env.client).await;
    let sets = [
        format!("watchNamespace={}", env.namespace),
        format!("credentials.perResourceSecrets.namespaces={{{}}}", tenant.namespace),
    ];
    let release = Release::install(&env, &sets, &[]).await;
    let sa = client_for_token(&release.token(&env).await).await;
    let creds = Secret {
        metadata: ObjectMeta { name: Some("tenant-creds".into()), ..Default::default() },
        ..Default::default()
    };
    Api::<Secret>::namespaced(env.client.clone(), &tenant.namespace)
        .create(&PostParams::default(), &creds)
        .await
        .unwrap();

    assert!(api(&sa, &env.namespace).list(&ListParams::default()).await.is_ok(), "VpcRoutes in the watched namespace");
    forbidden(
        Api::<vpcroute_operator::crd::VpcRoute>::all(sa.clone()).list(&ListParams::default()).await,
        "VpcRoutes cluster-wide",
    );
    forbidden(
        api(&sa, &tenant.namespace).list(&ListParams::default()).await,
        "VpcRoutes outside the watched namespace",
    );
    let tenant_secrets: Api<Secret> = Api::namespaced(sa.clone(), &tenant.namespace);
    assert!(tenant_secrets.get("tenant-creds").await.is_ok(), "a credentialsSecretRef Secret in a listed namespace");
    forbidden(tenant_secrets.list(&ListParams::default()).await, "listing Secrets in a listed namespace");
    forbidden(
        Api::<Secret>::namespaced(sa.clone(), &env.namespace).get("anything").await,
        "Secrets without default credentials",
    );
}
