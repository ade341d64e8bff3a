//! Writing what a reconcile learned: the status (server-side apply under one field manager,
//! only when it changed) and Events. Does Kubernetes I/O.

use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::Context;
use super::errors::Error;
use crate::crd::{OwnedRoute, PendingWrite, VpcRoute, VpcRouteStatus};
use crate::reasons::Reason;
use crate::status::{Readiness, ready_condition, with_readiness};

/// The field manager for everything the operator writes.
pub const FIELD_MANAGER: &str = "vpcroute-operator";

/// One reconcile's view of a resource's status: the last written status and a draft.
pub struct Progress {
    obj: Arc<VpcRoute>,
    written: VpcRouteStatus,
    /// The status being built; `save` writes it with a readiness.
    pub draft: VpcRouteStatus,
}

impl Progress {
    /// Starts from the resource's current status, with the create journal's entry for it as
    /// its pending record when that entry is the later record (see `journal.rs`).
    pub fn new<A>(obj: Arc<VpcRoute>, ctx: &Context<A>) -> Progress {
        let written = obj.status.clone().unwrap_or_default();
        let mut draft = written.clone();
        let journaled = obj.metadata.uid.as_deref().and_then(|uid| ctx.journal.pending_for(uid));
        if journaled.is_some() {
            draft.pending = super::journal::newer(draft.pending.map(|b| *b), journaled).map(Box::new);
        }
        Progress { obj, draft, written }
    }

    /// The resource.
    pub fn obj(&self) -> &VpcRoute {
        &self.obj
    }

    /// The owned route, if any.
    pub fn owned(&self) -> Option<&OwnedRoute> {
        self.draft.route.as_ref()
    }

    /// Whether `readiness` changes the Ready reason the resource had when this reconcile began
    /// (Warnings are published on changes, so a failure that repeats does not repeat its event).
    pub fn reason_changes(&self, readiness: &Readiness) -> bool {
        ready_condition(self.obj.status.as_ref()).map(|c| c.reason.as_str()) != Some(readiness.reason.as_str())
    }

    /// The pending write, if any.
    pub fn pending(&self) -> Option<&PendingWrite> {
        self.draft.pending.as_deref()
    }

    /// Writes the draft with `readiness` if it differs from what is stored; returns whether it
    /// wrote. Either way the status now holds what the resource's journal entry held (or what
    /// became of it), so the entry is closed.
    pub async fn save<A>(&mut self, ctx: &Context<A>, readiness: &Readiness) -> Result<bool, Error> {
        let wrote = self.write(ctx, readiness).await?;
        if let Some(uid) = self.obj.metadata.uid.as_deref() {
            ctx.journal.close(uid);
        }
        Ok(wrote)
    }

    async fn write<A>(&mut self, ctx: &Context<A>, readiness: &Readiness) -> Result<bool, Error> {
        let next = with_readiness(self.draft.clone(), readiness, self.obj.meta().generation, &now());
        if next == self.written {
            return Ok(false);
        }
        let api: Api<VpcRoute> = Api::namespaced(ctx.kube.clone(), &self.obj.namespace().unwrap_or_default());
        let body = json!({
            "apiVersion": "vpc.qcloud.dev/v1alpha1",
            "kind": "VpcRoute",
            "status": next,
        });
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let stored =
            api.patch_status(&self.obj.name_any(), &params, &Patch::Apply(&body)).await.map_err(Error::Kube)?;
        ctx.written.record(&super::reconcile::key_of(&self.obj), stored.resource_version());
        ctx.metrics.status_written();
        self.written = next.clone();
        self.draft = next;
        Ok(true)
    }
}

/// Queues an Event on the resource (published off the reconcile path; see `events.rs`). The
/// note is made printable and cut to the 1 KiB the API allows.
pub fn event<A>(ctx: &Context<A>, obj: &VpcRoute, warning: bool, reason: Reason, note: String) {
    let ev = Event {
        type_: if warning { EventType::Warning } else { EventType::Normal },
        reason: reason.as_str().to_string(),
        note: Some(crate::status::printable(&note, MAX_NOTE_BYTES)),
        action: "Reconcile".into(),
        secondary: None,
    };
    ctx.events.send(ev, obj.object_ref(&()));
}

/// An Event's note may hold at most 1024 bytes.
const MAX_NOTE_BYTES: usize = 1024;

/// Now, RFC 3339 with second precision.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
