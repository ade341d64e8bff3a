//! The create journal: the record made before every batched cloud create, kept for all the
//! creates of one route table in one ConfigMap of the operator's namespace. A create stages its
//! entry; the batch that carries it writes the journal, with every entry staged by then, before
//! it is sent, so a batch of 50 creates costs one API-server write instead of 50 status writes
//! of a pending record.
//!
//! An entry stands for the resource's pending record (`status.pending`) until a status write of
//! that resource supersedes it: a reconcile starts from the newer of the two, settles it by a
//! read as it settles any pending record, and once its status is written (with the record, if
//! the write may still land) the entry is closed. Closed entries leave the ConfigMap with the
//! table's next write, or a second after the last close. Only the leader writes its journal,
//! and reads it once, when it starts leading (a leader that lost its lease stops before the
//! next one starts: kube-lease-manager's grace period). Does Kubernetes I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cloud::{CloudError, ErrorClass, Record, TableRef};
use crate::crd::PendingWrite;
use crate::reasons::Reason;

/// The label that marks a journal, valued with the operator instance it belongs to.
pub const JOURNAL_LABEL: &str = "vpc.qcloud.dev/journal";
/// The annotation naming the route table a journal is for (`region/vpc/table`, as `TableRef`
/// displays it).
const TABLE_ANNOTATION: &str = "vpc.qcloud.dev/route-table";
/// How long after a close the table's journal is written without the closed entries.
const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// One open create: the resource (for people reading the ConfigMap) and its pending record.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
struct Entry {
    resource: String,
    pending: PendingWrite,
}

#[derive(Default)]
struct State {
    /// Open entries by resource uid.
    open: BTreeMap<String, Entry>,
    /// Bumped by every change of `open`.
    version: u64,
    /// The version the ConfigMap holds.
    persisted: u64,
    /// A flush of closed entries is scheduled.
    flushing: bool,
}

/// One table's journal.
struct Log {
    name: String,
    table: TableRef,
    state: Mutex<State>,
    /// Held while the ConfigMap is written: one write at a time, later callers ride the next.
    write: tokio::sync::Mutex<()>,
}

/// The journals of one operator instance.
pub struct Journal {
    kube: kube::Client,
    namespace: String,
    instance: String,
    logs: Mutex<HashMap<TableRef, Arc<Log>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A short stable hash (FNV-1a), for names.
fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Who the journals belong to: operators sharing a namespace but not a lease (or watching other
/// namespaces or labels) keep separate journals.
pub fn instance_of(lease_name: &str, watch_namespace: Option<&str>, selector: Option<&str>) -> String {
    short_hash(&format!("{lease_name}\n{}\n{}", watch_namespace.unwrap_or(""), selector.unwrap_or("")))
}

/// The ConfigMap name of a table's journal: readable, unique per instance and table.
fn name_of(instance: &str, table: &TableRef) -> String {
    let id: String = table
        .route_table_id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("vpcroute-journal-{instance}-{id}-{}", short_hash(&table.to_string()))
}

fn table_of(cm: &ConfigMap) -> Option<TableRef> {
    let text = cm.metadata.annotations.as_ref()?.get(TABLE_ANNOTATION)?;
    let mut parts = text.splitn(3, '/');
    Some(TableRef {
        region: parts.next()?.to_string(),
        vpc_id: parts.next()?.to_string(),
        route_table_id: parts.next()?.to_string(),
    })
}

impl Journal {
    /// Reads the journals this instance left (after a restart their entries are the pending
    /// records of creates that may have been sent).
    pub async fn load(kube: kube::Client, namespace: &str, instance: &str) -> Result<Journal, kube::Error> {
        let api: Api<ConfigMap> = Api::namespaced(kube.clone(), namespace);
        let list = api.list(&ListParams::default().labels(&format!("{JOURNAL_LABEL}={instance}"))).await?;
        let journal = Journal {
            kube,
            namespace: namespace.to_string(),
            instance: instance.to_string(),
            logs: Mutex::new(HashMap::new()),
        };
        let mut loaded = 0;
        for cm in list.items {
            let Some(table) = table_of(&cm) else { continue };
            let log = journal.log(&table);
            let mut state = lock(&log.state);
            for (uid, text) in cm.data.unwrap_or_default() {
                match serde_json::from_str::<Entry>(&text) {
                    Ok(entry) => {
                        state.open.insert(uid, entry);
                        loaded += 1;
                    }
                    Err(e) => tracing::warn!(journal = %log.name, %uid, error = %e, "unreadable journal entry skipped"),
                }
            }
            // What was loaded is what the ConfigMap holds.
            (state.version, state.persisted) = (1, 1);
        }
        tracing::info!(entries = loaded, %namespace, "create journal loaded");
        Ok(journal)
    }

    /// Every table's journal, as of now.
    fn logs(&self) -> Vec<Arc<Log>> {
        lock(&self.logs).values().cloned().collect()
    }

    fn log(&self, table: &TableRef) -> Arc<Log> {
        lock(&self.logs)
            .entry(table.clone())
            .or_insert_with(|| {
                Arc::new(Log {
                    name: name_of(&self.instance, table),
                    table: table.clone(),
                    state: Mutex::new(State::default()),
                    write: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }

    /// Stages a create of the resource `uid` (`resource` is `namespace/name`) in the table's
    /// journal; it is written, with every create staged for the table by then, when the batch
    /// that carries it is about to be sent (see [`Journal::recorder`]).
    pub fn stage(&self, table: &TableRef, uid: &str, resource: &str, pending: &PendingWrite) {
        let log = self.log(table);
        let mut s = lock(&log.state);
        s.open.insert(uid.to_string(), Entry { resource: resource.to_string(), pending: pending.clone() });
        s.version += 1;
    }

    /// Writes the table's journal unless it already holds everything staged so far (a write
    /// that began after the last stage did it: callers ride one write).
    pub async fn persist(&self, table: &TableRef) -> Result<(), kube::Error> {
        let log = self.log(table);
        let wanted = lock(&log.state).version;
        let _writing = log.write.lock().await;
        if lock(&log.state).persisted >= wanted {
            return Ok(());
        }
        self.write(&log).await
    }

    /// What the table's batches run before they are sent: [`Journal::persist`].
    pub fn recorder(self: &Arc<Self>, table: &TableRef) -> Record {
        let (journal, table) = (self.clone(), table.clone());
        Arc::new(move || {
            let (journal, table) = (journal.clone(), table.clone());
            Box::pin(async move { journal.persist(&table).await.map_err(not_recorded) })
        })
    }

    /// Writes what is open now (the caller holds `log.write`).
    async fn write(&self, log: &Log) -> Result<(), kube::Error> {
        let (open, version) = {
            let s = lock(&log.state);
            (s.open.clone(), s.version)
        };
        let data: BTreeMap<String, String> =
            open.iter().map(|(uid, e)| (uid.clone(), serde_json::to_string(e).unwrap_or_default())).collect();
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": log.name,
                "namespace": self.namespace,
                "labels": {
                    JOURNAL_LABEL: self.instance,
                    "app.kubernetes.io/managed-by": "vpcroute-operator",
                },
                "annotations": {
                    TABLE_ANNOTATION: log.table.to_string(),
                },
            },
            "data": data,
        });
        let api: Api<ConfigMap> = Api::namespaced(self.kube.clone(), &self.namespace);
        let params = PatchParams::apply(super::report::FIELD_MANAGER).force();
        api.patch(&log.name, &params, &Patch::Apply(&body)).await?;
        let mut s = lock(&log.state);
        s.persisted = s.persisted.max(version);
        Ok(())
    }

    /// The open entry for the resource `uid`, if a create of it was recorded and no status
    /// write has superseded it since.
    pub fn pending_for(&self, uid: &str) -> Option<PendingWrite> {
        self.logs().iter().find_map(|log| lock(&log.state).open.get(uid).map(|e| e.pending.clone()))
    }

    /// The resource `uid`'s status now says what its entry said (or what became of it): the
    /// entry is closed, and leaves the ConfigMap shortly.
    pub fn close(self: &Arc<Self>, uid: &str) {
        for log in self.logs() {
            let schedule = {
                let mut s = lock(&log.state);
                if s.open.remove(uid).is_none() {
                    continue;
                }
                s.version += 1;
                !std::mem::replace(&mut s.flushing, true)
            };
            if schedule {
                let journal = self.clone();
                tokio::spawn(async move { journal.flush(log).await });
            }
        }
    }

    /// Writes every journal that still holds closed entries (at a graceful stop, once the
    /// reconciles in flight have finished), so a restart has nothing to settle.
    pub async fn flush_all(&self) {
        for log in self.logs() {
            self.flush_now(&log).await;
        }
    }

    /// Writes a table's journal without its closed entries, a moment after a close.
    async fn flush(&self, log: Arc<Log>) {
        tokio::time::sleep(FLUSH_AFTER).await;
        self.flush_now(&log).await;
    }

    /// Writes a table's journal without its closed entries, unless a record did meanwhile.
    async fn flush_now(&self, log: &Log) {
        let _writing = log.write.lock().await;
        let stale = {
            let mut s = lock(&log.state);
            s.flushing = false;
            s.persisted < s.version
        };
        if stale && let Err(e) = self.write(log).await {
            // Harmless: a closed entry left behind is settled by a read after a restart.
            tracing::debug!(journal = %log.name, error = %e, "closed journal entries not yet removed");
        }
    }
}

/// The answer of the creates of a batch that was not sent because their journal could not be
/// written: retried with backoff (nothing reached the cloud).
fn not_recorded(e: kube::Error) -> CloudError {
    CloudError {
        action: "CreateRoutes",
        class: ErrorClass::Retryable,
        reason: Reason::CloudUnavailable,
        code: None,
        message: format!("not sent: writing its pending record to the create journal failed: {e}"),
        request_id: None,
    }
}

/// The record a reconcile starts from: the status's pending record or the journal's entry,
/// whichever was made later (the journal's when they were made in the same second).
pub fn newer(status: Option<PendingWrite>, journal: Option<PendingWrite>) -> Option<PendingWrite> {
    match (status, journal) {
        (Some(s), Some(j)) if s.started_at > j.started_at => Some(s),
        (s, j) => j.or(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{NextTypeName, Origin, OwnedRoute, PendingOperation};

    fn pending(at: &str) -> PendingWrite {
        PendingWrite {
            operation: PendingOperation::Create,
            route: OwnedRoute {
                region: "ap-guangzhou".into(),
                vpc_id: "vpc-1".into(),
                route_table_id: "rtb-1".into(),
                destination_cidr_block: "10.0.0.0/24".into(),
                next_type: NextTypeName::VpnGateway,
                next_hub: "vpngw-1".into(),
                origin: Origin::Created,
                route_item_id: None,
                route_id: None,
            },
            previous: None,
            started_at: Some(at.into()),
        }
    }

    #[test]
    fn the_later_of_the_status_record_and_the_journal_entry_counts() {
        let (early, late) = (pending("2026-12-01T10:00:00Z"), pending("2026-12-01T10:00:05Z"));
        assert_eq!(newer(Some(early.clone()), Some(late.clone())), Some(late.clone()));
        assert_eq!(newer(Some(late.clone()), Some(early.clone())), Some(late.clone()));
        assert_eq!(newer(Some(early.clone()), Some(early.clone())), Some(early.clone()));
        assert_eq!(newer(None, Some(early.clone())), Some(early.clone()));
        assert_eq!(newer(Some(early.clone()), None), Some(early));
        assert_eq!(newer(None, None), None);
    }

    #[test]
    fn journal_names_are_valid_distinct_per_instance_and_table_and_stable() {
        let t = |id: &str, vpc: &str| TableRef {
            region: "ap-guangzhou".into(),
            vpc_id: vpc.into(),
            route_table_id: id.into(),
        };
        let a = instance_of("vpcroute-operator", None, None);
        let b = instance_of("vpcroute-operator", Some("team-a"), None);
        assert_ne!(a, b);
        let n = name_of(&a, &t("rtb-Abc_1", "vpc-1"));
        assert!(n.starts_with(&format!("vpcroute-journal-{a}-rtb-abc-1-")), "{n}");
        assert!(n.len() <= 253 && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{n}");
        assert_ne!(n, name_of(&a, &t("rtb-Abc_1", "vpc-2")));
        assert_eq!(n, name_of(&a, &t("rtb-Abc_1", "vpc-1")));
    }
}
