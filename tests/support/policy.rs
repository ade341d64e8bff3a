//! The chart's finalizer MutatingAdmissionPolicy for tests and the benchmark that run the
//! operator without Helm: rendered from the chart itself (`helm template --show-only`), scoped to
//! one namespace, applied with kubectl, and waited for until the API server applies it. Runs the
//! helm and kubectl subprocesses, does cluster I/O.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use kube::api::PostParams;
use vpcroute_operator::controller::FINALIZER;
use vpcroute_operator::crd::VpcRoute;

use super::cluster::{TestEnv, wait_for};
use super::routes::{api, spec};

/// The policy API the template is rendered for.
const POLICY_API: &str = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy";

/// The chart's policy and binding for `env.namespace`, as YAML.
pub fn render(env: &TestEnv) -> String {
    let release = format!("vrt-{}", env.namespace);
    let watch = format!("watchNamespace={}", env.namespace);
    let name = format!("fullnameOverride={release}");
    let chart = env!("CARGO_MANIFEST_DIR");
    let args = [
        "template",
        release.as_str(),
        chart,
        "--show-only",
        "templates/finalizer-policy.yaml",
        "--api-versions",
        POLICY_API,
        "--set",
        watch.as_str(),
        "--set",
        name.as_str(),
    ];
    let out = Command::new(&env.helm).args(args).output().unwrap_or_else(|e| panic!("running helm: {e}"));
    assert!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Installs the policy for `env.namespace` and returns once a create there gets the finalizer.
pub async fn install_finalizer_policy(env: &TestEnv) {
    let yaml = render(env);
    let mut child = Command::new(&env.kubectl)
        .args(["apply", "-f", "-"])
        .env("KUBECONFIG", &env.kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running kubectl: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(yaml.as_bytes()).unwrap_or_else(|e| panic!("kubectl stdin: {e}"));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("kubectl: {e}"));
    assert!(out.status.success(), "kubectl apply of the policy: {}", String::from_utf8_lossy(&out.stderr));
    wait_for_policy(env).await;
}

/// Waits until a server-side dry-run create in the namespace comes back with the finalizer
/// (the API server loads new policies asynchronously).
pub async fn wait_for_policy(env: &TestEnv) {
    let routes = api(&env.client, &env.namespace);
    let dry_run = PostParams { dry_run: true, ..PostParams::default() };
    wait_for("the finalizer policy to apply to creates", Duration::from_secs(60), || async {
        let probe = VpcRoute::new("policy-probe", spec("10.255.255.0/24"));
        let created = routes.create(&dry_run, &probe).await.ok()?;
        created.metadata.finalizers?.iter().any(|f| f == FINALIZER).then_some(())
    })
    .await;
}
