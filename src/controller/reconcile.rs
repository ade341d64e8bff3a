//! Reconcile, top-down: finalizer → validate → credentials → claims → converge → report; and
//! cleanup on delete. Does Kubernetes and cloud I/O through the context.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, Resource, ResourceExt};

use super::backoff::jitter;
use super::claims::winner_over;
use super::context::Context;
use super::converge::{Stop, converge, settle_pending, stop};
use super::desired::{Desired, located};
use super::errors::Error;
use super::report::{Progress, event};
use crate::cloud::RouteApi;
use crate::crd::{DeletionPolicy, VpcRoute};
use crate::reasons;
use crate::status::Readiness;

/// The finalizer the operator puts on every VpcRoute it acts on.
pub const FINALIZER: &str = "vpc.qcloud.dev/route";

/// How often a resource that lost a claim to another checks again (no cloud calls).
const CLAIM_RECHECK: Duration = Duration::from_secs(15);

/// `namespace/name` of a resource, the key for per-object state.
pub fn key_of(obj: &VpcRoute) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// Reconciles one VpcRoute.
#[tracing::instrument(skip_all, fields(vpcroute = %key_of(&obj)))]
pub async fn reconcile<A: RouteApi>(obj: Arc<VpcRoute>, ctx: Arc<Context<A>>) -> Result<Action, Error> {
    let _timer = ctx.metrics.reconcile_started();
    let api: Api<VpcRoute> = Api::namespaced(ctx.kube.clone(), &obj.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, obj, |ev| async {
        match ev {
            Event::Apply(obj) => apply(obj, &ctx).await,
            Event::Cleanup(obj) => cleanup(obj, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    ctx.metrics.reconcile_finished(result.as_ref().err().map(Error::reason));
    result
}

/// Brings the cloud route in line with the spec and reports it.
async fn apply<A: RouteApi>(obj: Arc<VpcRoute>, ctx: &Context<A>) -> Result<Action, Error> {
    let key = key_of(&obj);
    if let Some(wait) = ctx.backoff.held(&key, obj.meta().generation) {
        return Ok(Action::requeue(wait));
    }
    let mut p = Progress::new(obj.clone());
    let d = match Desired::of(&obj, ctx.config.region.as_deref()) {
        Ok(d) => d,
        Err(msg) => {
            return finish(p, ctx, Err(Stop::Permanent(Readiness::not_ready(reasons::INVALID_SPEC, msg)))).await;
        }
    };
    p.draft.destination_cidr_block = Some(d.route.destination.to_string());
    let creds = match ctx.credentials.resolve(&obj.namespace().unwrap_or_default(), secret_name(&obj)).await {
        Ok(c) => c,
        Err(e) => {
            let r = Readiness::not_ready(reasons::CREDENTIALS_NOT_FOUND, e.to_string());
            return finish(p, ctx, Err(Stop::Retry(r, e))).await;
        }
    };
    let others = ctx.store.state();
    if let Some(owner) = winner_over(&obj, &d.key, others.iter().map(|o| o.as_ref()), ctx.config.region.as_deref()) {
        let msg = format!(
            "{} in {} is already claimed by VpcRoute {owner}; waiting without calling the cloud",
            d.route.destination, d.table.route_table_id
        );
        p.save(ctx, &Readiness::not_ready(reasons::ROUTE_ALREADY_EXISTS, msg)).await?;
        return Ok(Action::requeue(jitter(CLAIM_RECHECK, 0.2)));
    }
    let outcome = converge(&mut p, ctx, &d, &creds).await;
    finish(p, ctx, outcome).await
}

/// Writes the outcome and decides when to look again.
async fn finish<A>(mut p: Progress, ctx: &Context<A>, outcome: Result<Readiness, Stop>) -> Result<Action, Error> {
    let key = key_of(p.obj());
    let generation = p.obj().meta().generation;
    match outcome {
        Ok(r) => {
            p.save(ctx, &r).await?;
            ctx.backoff.reset(&key);
            Ok(Action::requeue(jitter(ctx.config.resync(), 0.1)))
        }
        Err(Stop::Resync(r)) => {
            p.save(ctx, &r).await?;
            ctx.backoff.reset(&key);
            Ok(Action::requeue(jitter(ctx.config.resync(), 0.1)))
        }
        Err(Stop::Permanent(r)) => {
            if p.reason_changes(&r) {
                event(ctx, p.obj(), true, r.reason, r.message.clone()).await;
            }
            p.save(ctx, &r).await?;
            let wait = jitter(ctx.config.permanent_retry(), 0.1);
            ctx.backoff.hold(&key, generation, wait);
            Ok(Action::requeue(wait))
        }
        Err(Stop::Retry(r, e)) => {
            if p.reason_changes(&r) {
                event(ctx, p.obj(), true, r.reason, r.message.clone()).await;
            }
            p.save(ctx, &r).await?;
            Err(e)
        }
    }
}

/// On delete: removes the route this resource owns (unless `Orphan`), then releases it.
async fn cleanup<A: RouteApi>(obj: Arc<VpcRoute>, ctx: &Context<A>) -> Result<Action, Error> {
    let mut p = Progress::new(obj.clone());
    ctx.backoff.reset(&key_of(&obj));
    if p.owned().is_none() && p.pending().is_none() {
        return Ok(Action::await_change());
    }
    if obj.spec.deletion_policy == DeletionPolicy::Orphan {
        let note = format!("deletionPolicy Orphan: left route {} in place", describe_owned(&p));
        event(ctx, &obj, false, "Orphaned", note).await;
        return Ok(Action::await_change());
    }
    let creds = ctx.credentials.resolve(&obj.namespace().unwrap_or_default(), secret_name(&obj)).await?;
    if let Err(s) = settle_pending(&mut p, ctx, &creds).await {
        return Err(into_error(s));
    }
    let Some((table, route)) = p.owned().and_then(located) else { return Ok(Action::await_change()) };
    ctx.cloud.delete(&creds, &table, &route).await.map_err(|e| into_error(stop(e)))?;
    event(ctx, &obj, false, "Deleted", format!("deleted route {route} from {}", table.route_table_id)).await;
    Ok(Action::await_change())
}

fn describe_owned(p: &Progress) -> String {
    p.owned().and_then(located).map(|(_, r)| r.to_string()).unwrap_or_else(|| "(unknown)".into())
}

fn into_error(s: Stop) -> Error {
    match s {
        Stop::Retry(_, e) => e,
        Stop::Permanent(r) | Stop::Resync(r) => Error::Inconsistent(format!("{}: {}", r.reason, r.message)),
    }
}

fn secret_name(obj: &VpcRoute) -> Option<&str> {
    obj.spec.credentials_secret_ref.as_ref().map(|s| s.name.as_str())
}

/// Decides the retry delay after a failed reconcile: per-object exponential backoff.
pub fn error_policy<A: RouteApi>(obj: Arc<VpcRoute>, err: &Error, ctx: Arc<Context<A>>) -> Action {
    let delay = ctx.backoff.next_delay(&key_of(&obj));
    tracing::warn!(vpcroute = %key_of(&obj), reason = err.reason(), error = %err, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
