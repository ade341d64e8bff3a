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
use super::converge::{LANDING_RECHECK, Stop, converge, landing_left, read, settle_pending, stop};
use super::decide::{Cleanup, DeleteStep, cleanup as cleanup_step, delete_step};
use super::desired::{Desired, located};
use super::errors::Error;
use super::report::{Progress, event};
use crate::cloud::RouteApi;
use crate::crd::{ManagementPolicy, VpcRoute};
use crate::reasons::Reason;
use crate::status::{Readiness, Synced};

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
    let key = key_of(&obj);
    let Some(obj) = Box::pin(super::fresh::current(&ctx.kube, &ctx.written, &key, obj)).await? else {
        return Ok(Action::await_change());
    };
    if crate::crd::is_paused(&obj) {
        let result = Box::pin(super::modes::paused(obj, &ctx)).await;
        ctx.metrics.reconcile_finished(result.as_ref().err().map(Error::reason));
        return result;
    }
    let api: Api<VpcRoute> = Api::namespaced(ctx.kube.clone(), &obj.namespace().unwrap_or_default());
    let result = finalizer(&api, FINALIZER, obj, |ev| async {
        match ev {
            Event::Apply(obj) => apply(obj, &ctx).await,
            Event::Cleanup(obj) => {
                let uid = obj.metadata.uid.clone();
                let done = Box::pin(cleanup(obj, &ctx)).await;
                // Released: nothing of this resource is left to settle.
                if let (Ok(_), Some(uid)) = (&done, uid) {
                    ctx.journal.close(&uid);
                }
                done
            }
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
    let mut p = Progress::new(obj.clone(), ctx);
    let d = match Desired::of(&obj, ctx.config.region.as_deref()) {
        Ok(d) => d,
        Err(msg) => {
            return finish(p, ctx, Err(Stop::Permanent(Readiness::not_ready(Reason::InvalidSpec, msg)))).await;
        }
    };
    p.draft.destination_cidr_block = Some(d.route.destination.to_string());
    if !d.attrs.enabled && !ctx.cloud.api().supports_attributes() {
        let msg = "spec.enabled: false needs API 3.0; this operator runs API 2.0, which cannot disable a route, \
                   so nothing was created (remove enabled: false, or run the operator with --api 3.0)";
        return finish(p, ctx, Err(Stop::Permanent(Readiness::not_ready(Reason::InvalidSpec, msg)))).await;
    }
    let creds = match Box::pin(ctx.credentials.resolve(&obj.namespace().unwrap_or_default(), secret_name(&obj))).await {
        Ok(c) => c,
        Err(e) => {
            let reason = match e {
                Error::InvalidCredentials(_) => Reason::InvalidCredentials,
                _ => Reason::CredentialsNotFound,
            };
            let r = Readiness::not_ready(reason, e.to_string());
            return finish(p, ctx, Err(Stop::Retry(r, e))).await;
        }
    };
    if obj.spec.management_policy == ManagementPolicy::ObserveOnly {
        let outcome = Box::pin(super::modes::observe_only(ctx, &d, &creds)).await;
        return finish(p, ctx, outcome).await;
    }
    let rivals: Vec<_> = ctx.claims.candidates(&d.key).iter().filter_map(|r| ctx.store.get(r)).collect();
    if let Some(owner) = winner_over(&obj, &d.key, rivals.iter().map(|o| o.as_ref()), ctx.config.region.as_deref()) {
        let msg = format!(
            "{} in {} is already claimed by VpcRoute {owner}; waiting without calling the cloud",
            d.route.destination, d.table.route_table_id
        );
        let r = Readiness::not_ready(Reason::RouteAlreadyExists, msg);
        warn_on_change(&p, ctx, &r).await;
        p.save(ctx, &r).await?;
        return Ok(Action::requeue(jitter(CLAIM_RECHECK, 0.2)));
    }
    let outcome = converge(&mut p, ctx, &d, &creds).await;
    finish(p, ctx, outcome.map(|r| with_attribute_note(r, &d, ctx))).await
}

/// On API 2.0 a route is made without the description the spec asks for: the Ready message says so.
fn with_attribute_note<A: RouteApi>(mut r: Readiness, d: &Desired, ctx: &Context<A>) -> Readiness {
    if d.attrs_set && !d.attrs.description.is_empty() && !ctx.cloud.api().supports_attributes() {
        r.message = format!("{}; spec.description is not applied: API 2.0 routes have no description", r.message);
    }
    r
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
            warn_on_change(&p, ctx, &r).await;
            p.save(ctx, &r).await?;
            ctx.backoff.reset(&key);
            Ok(Action::requeue(jitter(ctx.config.resync(), 0.1)))
        }
        Err(Stop::Permanent(r)) => {
            warn_on_change(&p, ctx, &r).await;
            p.save(ctx, &failed(r)).await?;
            let wait = jitter(ctx.config.permanent_retry(), 0.1);
            ctx.backoff.hold(&key, generation, wait);
            Ok(Action::requeue(wait))
        }
        Err(Stop::Retry(r, e)) => {
            warn_on_change(&p, ctx, &r).await;
            p.save(ctx, &failed(r)).await?;
            Err(e)
        }
        Err(Stop::Kube(e)) => Err(e),
    }
}

/// A failure's readiness with `Synced=False` saying what failed (unless it already says).
fn failed(r: Readiness) -> Readiness {
    match r.synced {
        Synced::Ok => {
            let why = r.message.clone();
            r.with_synced(Synced::Failed(why))
        }
        _ => r,
    }
}

/// Publishes a Warning when the Ready reason changes, so a failure that repeats is told once.
async fn warn_on_change<A>(p: &Progress, ctx: &Context<A>, r: &Readiness) {
    if p.reason_changes(r) {
        event(ctx, p.obj(), true, r.reason, r.message.clone());
    }
}

/// On delete: removes the route this resource owns (unless `Orphan`), then releases it. The
/// delete is decided on a fresh read of the table: only a route that still has the destination,
/// hop (and id) this resource owns is deleted.
async fn cleanup<A: RouteApi>(obj: Arc<VpcRoute>, ctx: &Context<A>) -> Result<Action, Error> {
    let mut p = Progress::new(obj.clone(), ctx);
    ctx.backoff.reset(&key_of(&obj));
    match cleanup_step(obj.spec.deletion_policy, obj.spec.management_policy, p.owned(), p.pending()) {
        Cleanup::Release => return Ok(Action::await_change()),
        Cleanup::Orphan => {
            let why = match obj.spec.management_policy {
                ManagementPolicy::ObserveOnly => "managementPolicy ObserveOnly",
                ManagementPolicy::Full => "deletionPolicy Orphan",
            };
            let note = format!("{why}: left route {} in place", describe_owned(&p));
            event(ctx, &obj, false, Reason::Orphaned, note);
            return Ok(Action::await_change());
        }
        Cleanup::Inspect => {}
    }
    let creds = ctx.credentials.resolve(&obj.namespace().unwrap_or_default(), secret_name(&obj)).await?;
    settle_pending(&mut p, ctx, &creds).await.map_err(into_error)?;
    if let Some(left) = p.pending().and_then(|w| landing_left(w, ctx.config.write_landing())) {
        // A write whose answer never came may still land: releasing now could leave its route
        // behind. Decide once the cloud can no longer apply it.
        // Looked at again every few seconds: the route is deleted as soon as the table shows it.
        return Err(Error::WriteMayLand(left.min(LANDING_RECHECK) + Duration::from_millis(200)));
    }
    let Some(owned) = p.owned().cloned() else { return Ok(Action::await_change()) };
    let Some((table, _)) = located(&owned) else { return Ok(Action::await_change()) };
    let view = read(ctx, &creds, &table, Duration::ZERO).await.map_err(into_error)?;
    let note = match delete_step(&owned, &view) {
        DeleteStep::Delete(route, ids) => {
            ctx.cloud.delete(&creds, &table, &route, &ids).await.map_err(|e| into_error(stop(e)))?;
            format!("deleted route {route} from {}", table.route_table_id)
        }
        DeleteStep::Gone => format!("route {} was already gone from {}", describe_owned(&p), table.route_table_id),
        DeleteStep::NotOurs(found) => {
            let note = format!(
                "not deleting {found} from {}: it is no longer the route this resource owned ({})",
                table.route_table_id,
                describe_owned(&p)
            );
            event(ctx, &obj, true, Reason::Orphaned, note);
            return Ok(Action::await_change());
        }
    };
    event(ctx, &obj, false, Reason::Deleted, note);
    Ok(Action::await_change())
}

fn describe_owned(p: &Progress) -> String {
    p.owned().and_then(located).map(|(_, r)| r.to_string()).unwrap_or_else(|| "(unknown)".into())
}

fn into_error(s: Stop) -> Error {
    match s {
        Stop::Retry(_, e) | Stop::Kube(e) => e,
        Stop::Permanent(r) | Stop::Resync(r) => Error::Inconsistent(format!("{}: {}", r.reason, r.message)),
    }
}

fn secret_name(obj: &VpcRoute) -> Option<&str> {
    obj.spec.credentials_secret_ref.as_ref().map(|s| s.name.as_str())
}

/// Decides the retry delay after a failed reconcile: per-object exponential backoff.
pub fn error_policy<A: RouteApi>(obj: Arc<VpcRoute>, err: &Error, ctx: Arc<Context<A>>) -> Action {
    if let Some(wait) = err.retry_after() {
        tracing::info!(vpcroute = %key_of(&obj), error = %err, retry_in = ?wait, "waiting");
        return Action::requeue(wait);
    }
    let delay = ctx.backoff.next_delay(&key_of(&obj));
    tracing::warn!(vpcroute = %key_of(&obj), reason = err.reason(), error = %err, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}
