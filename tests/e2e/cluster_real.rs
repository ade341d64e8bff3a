//! Proves the test control plane is a real Kubernetes API server: CRUD and server-side apply,
//! RBAC denials, CRDs with CEL validation, watches that outlive server-side expiry, isolated
//! concurrent launchers, a control plane restarted with its data, the built version, and
//! kube-controller-manager's namespace deletion and garbage collection.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::cluster::launcher::Launcher;
use crate::support::cluster::{self, FIELD_MANAGER, test_env, wait_for};
use futures::StreamExt;
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, DynamicObject, GetParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind, Request};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, ResourceExt};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(30);

fn config_map(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta { name: Some(name.to_owned()), ..ObjectMeta::default() },
        data: Some(data.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
        ..ConfigMap::default()
    }
}

fn status_code(result: Result<impl Sized, kube::Error>) -> Option<u16> {
    match result {
        Err(kube::Error::Api(status)) => Some(status.code),
        _ => None,
    }
}

#[tokio::test]
async fn config_maps_are_created_read_applied_and_deleted() -> TestResult {
    let env = test_env("crud").await;
    let api = Api::<ConfigMap>::namespaced(env.client.clone(), &env.namespace);

    let created = api.create(&PostParams::default(), &config_map("settings", &[("a", "1")])).await?;
    assert!(created.metadata.uid.is_some(), "the server assigns a uid");
    assert_eq!(api.get("settings").await?.data, Some(BTreeMap::from([("a".into(), "1".into())])));

    let patch = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "settings" }, "data": { "b": "2" }
    });
    let applied = api.patch("settings", &PatchParams::apply(FIELD_MANAGER), &Patch::Apply(&patch)).await?;
    let data = applied.data.clone().unwrap_or_default();
    assert_eq!((data.get("a"), data.get("b")), (Some(&"1".to_owned()), Some(&"2".to_owned())));
    let managers: Vec<_> = applied.managed_fields().iter().filter_map(|m| m.manager.clone()).collect();
    assert!(managers.iter().any(|m| m == FIELD_MANAGER), "managed fields name our manager: {managers:?}");

    let mut stale = created.clone();
    stale.data = Some(BTreeMap::from([("a".into(), "stale".into())]));
    assert_eq!(status_code(api.replace("settings", &PostParams::default(), &stale).await), Some(409));

    api.delete("settings", &DeleteParams::default()).await?;
    assert_eq!(status_code(api.get("settings").await), Some(404));
    Ok(())
}

#[tokio::test]
async fn service_account_without_bindings_is_forbidden_where_admin_is_allowed() -> TestResult {
    let env = test_env("rbac").await;
    let ns = env.namespace.as_str();
    let sa = ServiceAccount {
        metadata: ObjectMeta { name: Some("nobody".into()), ..ObjectMeta::default() },
        ..ServiceAccount::default()
    };
    Api::<ServiceAccount>::namespaced(env.client.clone(), ns).create(&PostParams::default(), &sa).await?;
    let request = TokenRequest {
        spec: Some(TokenRequestSpec { expiration_seconds: Some(600), ..TokenRequestSpec::default() }),
        ..TokenRequest::default()
    };
    let token = Api::<ServiceAccount>::namespaced(env.client.clone(), ns)
        .create_token_request("nobody", &PostParams::default(), &request)
        .await?
        .status
        .and_then(|s| s.token)
        .ok_or("TokenRequest returned no token")?;
    let sa_client = cluster::client_for_token(&token).await;

    let review = Api::<SelfSubjectReview>::all(sa_client.clone())
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await?;
    let username = review.status.and_then(|s| s.user_info).and_then(|u| u.username);
    assert_eq!(username.as_deref(), Some(format!("system:serviceaccount:{ns}:nobody").as_str()));

    let as_sa = Api::<ConfigMap>::namespaced(sa_client.clone(), ns);
    let as_admin = Api::<ConfigMap>::namespaced(env.client.clone(), ns);
    assert_eq!(status_code(as_sa.list(&ListParams::default()).await), Some(403));
    assert_eq!(status_code(as_sa.create(&PostParams::default(), &config_map("x", &[])).await), Some(403));
    as_admin.list(&ListParams::default()).await?;
    as_admin.create(&PostParams::default(), &config_map("x", &[])).await?;

    grant_config_map_reads(&env.client, ns, "nobody").await?;
    wait_for("the RoleBinding to let the ServiceAccount list ConfigMaps", WAIT, || async {
        as_sa.list(&ListParams::default()).await.ok()
    })
    .await;
    assert_eq!(status_code(as_sa.create(&PostParams::default(), &config_map("y", &[])).await), Some(403));
    Ok(())
}

async fn grant_config_map_reads(client: &Client, ns: &str, service_account: &str) -> Result<(), kube::Error> {
    let meta = || ObjectMeta { name: Some("read-config-maps".into()), ..ObjectMeta::default() };
    let role = Role {
        metadata: meta(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".into()]),
            verbs: vec!["get".into(), "list".into()],
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta(),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: "read-config-maps".into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: service_account.into(),
            namespace: Some(ns.into()),
            ..Subject::default()
        }]),
    };
    Api::<Role>::namespaced(client.clone(), ns).create(&PostParams::default(), &role).await?;
    Api::<RoleBinding>::namespaced(client.clone(), ns).create(&PostParams::default(), &binding).await?;
    Ok(())
}

#[tokio::test]
async fn watcher_keeps_delivering_events_after_the_server_ends_its_watches() -> TestResult {
    let env = test_env("watch").await;
    let api = Api::<ConfigMap>::namespaced(env.client.clone(), &env.namespace);
    // The server closes each watch after one second; the watcher must resume from where it was.
    let mut names = NameWatch::start(api.clone(), watcher::Config::default().timeout(1));

    api.create(&PostParams::default(), &config_map("before", &[])).await?;
    names.delivered("before").await?;
    let ended_before = finished_config_map_watches(&env.client).await?;
    wait_for("the server to end two more ConfigMap watches", WAIT, || async {
        let ended = finished_config_map_watches(&env.client).await.ok()?;
        (ended >= ended_before + 2.0).then_some(())
    })
    .await;
    api.create(&PostParams::default(), &config_map("after", &[])).await?;
    names.delivered("after").await?;
    Ok(())
}

/// The names of the ConfigMaps a kube-runtime watcher delivers, as it delivers them.
struct NameWatch {
    names: tokio::sync::mpsc::UnboundedReceiver<String>,
    consumer: tokio::task::JoinHandle<()>,
}

impl NameWatch {
    fn start(api: Api<ConfigMap>, config: watcher::Config) -> NameWatch {
        let stream = watcher(api, config).default_backoff().applied_objects();
        let (tx, names) = tokio::sync::mpsc::unbounded_channel();
        let consumer = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                if let Ok(cm) = event {
                    let _ = tx.send(cm.name_any());
                }
            }
        });
        NameWatch { names, consumer }
    }

    /// Waits until the watcher delivers `name`. A relist may deliver an object again, so this
    /// waits for the named one rather than the next one.
    async fn delivered(&mut self, name: &str) -> Result<(), String> {
        let arrived = async {
            while let Some(got) = self.names.recv().await {
                if got == name {
                    return true;
                }
            }
            false // the watcher stream ended
        };
        match tokio::time::timeout(WAIT, arrived).await {
            Ok(true) => Ok(()),
            _ => Err(format!("the watcher did not deliver {name}")),
        }
    }
}

impl Drop for NameWatch {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}

/// Counts the ConfigMap WATCH requests the server has completed, from its own metrics.
async fn finished_config_map_watches(client: &Client) -> Result<f64, Box<dyn std::error::Error>> {
    let metrics = client.request_text(Request::new("").get("metrics", &GetParams::default())?).await?;
    Ok(metrics
        .lines()
        .filter(|l| {
            l.starts_with("apiserver_request_total{")
                && l.contains("verb=\"WATCH\"")
                && l.contains("resource=\"configmaps\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::test]
async fn concurrent_launchers_get_separate_control_planes() -> TestResult {
    let starts = [0, 1].map(|_| tokio::task::spawn_blocking(Launcher::start));
    let [a, b] = starts;
    let (a, b) = (a.await??, b.await??);
    assert_ne!(a.url, b.url, "each launcher picks its own port");
    assert_ne!(a.state_dir, b.state_dir);

    let (client_a, client_b) =
        (cluster::client_from_kubeconfig(&a.kubeconfig).await, cluster::client_from_kubeconfig(&b.kubeconfig).await);
    let ns = Namespace {
        metadata: ObjectMeta { name: Some("only-in-a".into()), ..ObjectMeta::default() },
        ..Namespace::default()
    };
    Api::<Namespace>::all(client_a.clone()).create(&PostParams::default(), &ns).await?;
    Api::<Namespace>::all(client_a).get("only-in-a").await?;
    assert_eq!(status_code(Api::<Namespace>::all(client_b).get("only-in-a").await), Some(404));

    // One stops because its stdin closed, the other because of SIGTERM; both clean up.
    let (a_state, b_state) = (a.state_dir.clone(), b.state_dir.clone());
    let a_status = tokio::task::spawn_blocking(move || a.stop()).await??;
    let kill = std::process::Command::new("kill").args(["-TERM", &b.pid().to_string()]).status()?;
    assert!(kill.success());
    let mut b = b;
    let b_status = tokio::task::spawn_blocking(move || b.wait(Duration::from_secs(60))).await??;
    assert!(a_status.success() && b_status.success(), "launchers exit cleanly: {a_status}, {b_status}");
    assert!(!a_state.exists() && !b_state.exists(), "launchers remove their state directories");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_control_plane_keeps_its_objects_address_and_credentials_and_watches_resume() -> TestResult {
    let (env, launcher) = cluster::private_test_env("restart", &[]).await;
    let api = Api::<ConfigMap>::namespaced(env.client.clone(), &env.namespace);
    let mut names = NameWatch::start(api.clone(), watcher::Config::default());
    api.create(&PostParams::default(), &config_map("before", &[("a", "1")])).await?;
    names.delivered("before").await?;

    tokio::task::block_in_place(|| launcher.stop_control_plane())?;
    assert!(api.get("before").await.is_err(), "kube-apiserver still answers after the stop");
    // A stop that finds it stopped is acknowledged all the same.
    tokio::task::block_in_place(|| launcher.stop_control_plane())?;
    let took = tokio::task::block_in_place(|| launcher.start_control_plane())?;
    assert!(took < Duration::from_secs(120), "the restart took {took:?}");

    // The same client (same address, same CA and admin certificate) sees the data of before.
    let data = api.get("before").await?.data.unwrap_or_default();
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    api.create(&PostParams::default(), &config_map("after", &[])).await?;
    names.delivered("after").await?;
    // kube-controller-manager is back too.
    deleting_an_owner_deletes_its_dependent(&api).await
}

#[tokio::test]
async fn version_endpoint_and_tools_report_the_built_releases() -> TestResult {
    let env = test_env("version").await;
    let info = env.client.apiserver_version().await?;
    if env.external {
        eprintln!(
            "external cluster reports {}; the exact-version check applies only to the built control plane",
            info.git_version
        );
        assert!(info.git_version.starts_with("v1."), "odd server version {}", info.git_version);
        return Ok(());
    }
    let expected = cluster::kubernetes_version();
    assert_eq!(info.git_version, expected);

    let kubectl = std::process::Command::new(&env.kubectl)
        .arg("--kubeconfig")
        .arg(&env.kubeconfig)
        .args(["version", "-o", "json"])
        .output()?;
    assert!(kubectl.status.success(), "kubectl version failed: {}", String::from_utf8_lossy(&kubectl.stderr));
    let versions: serde_json::Value = serde_json::from_slice(&kubectl.stdout)?;
    assert_eq!(versions["clientVersion"]["gitVersion"], expected.as_str());
    assert_eq!(versions["serverVersion"]["gitVersion"], expected.as_str());

    let helm = std::process::Command::new(&env.helm).args(["version", "--short"]).output()?;
    let helm_version = String::from_utf8_lossy(&helm.stdout);
    assert!(helm.status.success() && helm_version.starts_with("v3."), "helm version: {helm_version}");
    Ok(())
}

#[tokio::test]
async fn deleted_namespaces_are_emptied_and_removed_and_dependents_are_garbage_collected() -> TestResult {
    let env = test_env("kcm").await;
    let api = Api::<ConfigMap>::namespaced(env.client.clone(), &env.namespace);

    deleting_an_owner_deletes_its_dependent(&api).await?;

    // Namespace controller: a deleted namespace is emptied (a finalizer holds its object until it
    // is removed) and then disappears.
    let mut held = config_map("held", &[]);
    held.metadata.finalizers = Some(vec!["vpcroute.test/hold".into()]);
    api.create(&PostParams::default(), &held).await?;
    api.create(&PostParams::default(), &config_map("plain", &[])).await?;
    let namespaces = Api::<Namespace>::all(env.client.clone());
    namespaces.delete(&env.namespace, &DeleteParams::default()).await?;
    wait_for("the namespace controller to delete the held ConfigMap", WAIT, || async {
        api.get("held").await.ok()?.metadata.deletion_timestamp.map(|_| ())
    })
    .await;
    wait_for("the namespace controller to delete the plain ConfigMap", WAIT, || async {
        (status_code(api.get("plain").await) == Some(404)).then_some(())
    })
    .await;
    let phase = namespaces.get(&env.namespace).await?.status.and_then(|s| s.phase);
    assert_eq!(phase.as_deref(), Some("Terminating"), "the finalizer keeps the namespace");

    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    api.patch("held", &PatchParams::default(), &Patch::Merge(&release)).await?;
    wait_for("the namespace to be gone", Duration::from_secs(90), || async {
        (status_code(namespaces.get(&env.namespace).await) == Some(404)).then_some(())
    })
    .await;
    Ok(())
}

/// The garbage collector at work: ConfigMap `dependent`, owned by ConfigMap `owner`, goes once
/// `owner` is deleted.
async fn deleting_an_owner_deletes_its_dependent(api: &Api<ConfigMap>) -> TestResult {
    let owner = api.create(&PostParams::default(), &config_map("owner", &[])).await?;
    let mut dependent = config_map("dependent", &[]);
    dependent.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "owner".into(),
        uid: owner.metadata.uid.clone().ok_or("the owner has no uid")?,
        ..OwnerReference::default()
    }]);
    api.create(&PostParams::default(), &dependent).await?;
    api.delete("owner", &DeleteParams::background()).await?;
    wait_for("the dependent to be garbage-collected", Duration::from_secs(60), || async {
        (status_code(api.get("dependent").await) == Some(404)).then_some(())
    })
    .await;
    Ok(())
}

#[tokio::test]
async fn crds_install_and_the_server_enforces_their_cel_rules() -> TestResult {
    let env = test_env("cel").await;
    let dir = std::env::temp_dir().join(format!("vpcroute-test-crds-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("widgets.yaml"), WIDGET_CRD)?;
    let installed = cluster::install_crds_from(&env.client, &dir).await;
    std::fs::remove_dir_all(&dir)?;
    assert_eq!(installed, ["widgets.tests.vpcroute.dev"]);

    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("tests.vpcroute.dev", "v1", "Widget"), "widgets");
    let api = Api::<DynamicObject>::namespaced_with(env.client.clone(), &env.namespace, &resource);
    let widget = |name: &str, min: i64, max: i64| {
        let mut object = DynamicObject::new(name, &resource);
        object.data = serde_json::json!({ "spec": { "min": min, "max": max } });
        object
    };
    api.create(&PostParams::default(), &widget("ok", 1, 3)).await?;
    let rejected = api.create(&PostParams::default(), &widget("bad", 5, 3)).await;
    match rejected {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422);
            assert!(status.message.contains("min must not exceed max"), "{}", status.message);
        }
        other => panic!("the CEL rule should reject min > max, got {other:?}"),
    }
    Ok(())
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.tests.vpcroute.dev
spec:
  group: tests.vpcroute.dev
  names: { kind: Widget, plural: widgets, singular: widget }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [min, max]
              properties:
                min: { type: integer }
                max: { type: integer }
              x-kubernetes-validations:
                - rule: self.min <= self.max
                  message: min must not exceed max
"#;
