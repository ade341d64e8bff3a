//! What to do next, as pure functions of the desired route, what status records and the observed
//! table: settle a pending write, then create / adopt / report a conflict / replace / repair
//! drift / stay; and on delete: delete, orphan or release. No I/O; the async layer in
//! `converge.rs` carries the decision out.

use vpc_wire::domain::{Route, RouteAttrs};

use super::desired::{Desired, ids_of, located};
use crate::cloud::{RouteIds, TableView};
use crate::crd::{
    AdoptionPolicy, DeletionPolicy, ManagementPolicy, Origin, OwnedRoute, PendingOperation, PendingWrite,
};

/// The next step towards the desired route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The route is in place as desired (its ids as the table shows them).
    InPlace(RouteIds),
    /// Create the desired route; `drift` when it was ours and was deleted outside the operator.
    Create {
        /// The owned route vanished from the table.
        drift: bool,
    },
    /// Take over the identical route found in the table.
    Adopt(RouteIds),
    /// Something else routes the destination: report it and leave it alone.
    Conflict {
        /// What the table holds for the destination.
        found: Route,
        /// Whether it is identical (blocked only by `adoptionPolicy: Never`).
        identical: bool,
    },
    /// Our route is in place but its description or `Enabled` differ from the spec: set them.
    Update {
        /// Its cloud ids.
        ids: RouteIds,
        /// What the table holds now.
        have: RouteAttrs,
    },
    /// Point our route at the desired next hop, in place where the API can.
    Replace {
        /// The route as the table holds it.
        old: Route,
        /// Its cloud ids.
        ids: RouteIds,
        /// `true` when someone changed the hop outside the operator, `false` for a spec change.
        drift: bool,
    },
}

/// Whether a table's route at a destination is the one a status record owns, by cloud id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Identity {
    Same,
    Different,
    /// No ids to compare (2.0): a route is known by its table and destination.
    Unknown,
}

fn identity(owned: &OwnedRoute, ids: &RouteIds) -> Identity {
    match (&owned.route_item_id, &ids.route_item_id) {
        (Some(a), Some(b)) if a == b => Identity::Same,
        (Some(_), Some(_)) => Identity::Different,
        _ => Identity::Unknown,
    }
}

/// Decides the next step for `d`, given the route status owns (if any) and a view of the table.
pub fn decide(d: &Desired, owned: Option<&OwnedRoute>, view: &TableView) -> Step {
    let destination = &d.route.destination;
    let ids = view.ids_of(destination);
    let Some(found) = view.at(destination).cloned() else {
        return Step::Create { drift: owned.is_some_and(|o| d.is(o)) };
    };
    let identical = found == d.route;
    let ours = owned.is_some_and(|o| identity(o, &ids) != Identity::Different);
    let stale_attrs = view.attrs_of(destination).filter(|have| **have != d.attrs).cloned();
    match owned {
        Some(_) if ours && identical => match stale_attrs {
            Some(have) => Step::Update { ids, have },
            None => Step::InPlace(ids),
        },
        Some(o) if ours => Step::Replace { old: found, ids, drift: d.is(o) },
        _ if identical && d.adoption == AdoptionPolicy::IfIdentical => Step::Adopt(ids),
        _ => Step::Conflict { found, identical },
    }
}

/// Whether a step acted on a cached view must first be confirmed with a fresh read: anything
/// but "in place", and but creating a route nobody owns yet (the cloud refuses a duplicate).
pub fn needs_fresh_view(step: &Step, owned: Option<&OwnedRoute>) -> bool {
    match step {
        Step::InPlace(_) => false,
        Step::Create { .. } => owned.is_some(),
        _ => true,
    }
}

/// What settling a pending write against a fresh view of its table found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// What status owns now.
    pub owned: Option<OwnedRoute>,
    /// The write may still land (or, for a create, another attempt of it may): keep the
    /// pending record.
    pub unresolved: bool,
}

/// Settles a pending write against a fresh view of its table. `may_land`: the write's answer
/// never came and it is recent enough that the cloud may still apply it.
///
/// A create (or replace) found in the table is owned at once, but while `may_land` its record
/// stays: the route may have come from an earlier attempt, and this one, answer lost, may still
/// be on its way. The cloud refuses it while the route is there, but once the route is deleted (the
/// resource going away) it would land and leave an orphan. Seen in R2 (3.0 creates) and the soak
/// (2.0 hop changes): created, deleted, created again 100-200 ms later. So a delete waits until
/// the window has passed.
pub fn settle(pending: &PendingWrite, owned: Option<&OwnedRoute>, view: &TableView, may_land: bool) -> Settled {
    // A delete is safe to repeat; a replace on 2.0 is a delete and a create, whose create is
    // retried like any other.
    let unresolved = may_land && pending.operation != PendingOperation::Delete;
    Settled { owned: settled_route(pending, owned, view), unresolved }
}

/// What status owns once a pending write is settled (its outcome read from the table).
fn settled_route(pending: &PendingWrite, owned: Option<&OwnedRoute>, view: &TableView) -> Option<OwnedRoute> {
    let holds = |rec: &OwnedRoute| located(rec).is_some_and(|(_, r)| view.at(&r.destination) == Some(&r));
    let with_view_ids = |rec: &OwnedRoute| {
        let mut rec = rec.clone();
        if let Some((_, r)) = located(&rec) {
            let ids = view.ids_of(&r.destination);
            if !ids.is_empty() {
                (rec.route_item_id, rec.route_id) = (ids.route_item_id, ids.route_id);
            }
        }
        rec
    };
    let destination_free = located(&pending.route).is_some_and(|(_, r)| view.at(&r.destination).is_none());
    match pending.operation {
        PendingOperation::Create | PendingOperation::Replace if holds(&pending.route) => {
            Some(OwnedRoute { origin: Origin::Created, ..with_view_ids(&pending.route) })
        }
        PendingOperation::Create => owned.cloned(),
        PendingOperation::Delete if !holds(&pending.route) && owned == Some(&pending.route) => None,
        PendingOperation::Delete => owned.cloned(),
        PendingOperation::Replace if destination_free => None,
        PendingOperation::Replace => owned.cloned(),
    }
}

/// What an `ObserveOnly` resource reports about the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The route exists exactly as specified.
    Matches,
    /// No route for the destination.
    Missing,
    /// The destination is routed differently: what differs, for people.
    Differs(String),
}

/// Compares the table with the spec, writing nothing (`managementPolicy: ObserveOnly`).
pub fn observe(d: &Desired, view: &TableView) -> Observation {
    let Some(found) = view.at(&d.route.destination) else { return Observation::Missing };
    if *found != d.route {
        return Observation::Differs(format!(
            "the table routes {} to {} {}; the spec says {} {}",
            found.destination, found.next_type, found.next_hub, d.route.next_type, d.route.next_hub
        ));
    }
    let Some(have) = view.attrs_of(&d.route.destination) else { return Observation::Matches };
    let mut differs = Vec::new();
    if have.description != d.attrs.description {
        differs.push(format!("description is {:?}, the spec says {:?}", have.description, d.attrs.description));
    }
    if have.enabled != d.attrs.enabled {
        differs.push(format!("enabled is {}, the spec says {}", have.enabled, d.attrs.enabled));
    }
    if differs.is_empty() { Observation::Matches } else { Observation::Differs(differs.join("; ")) }
}

/// What deleting a resource does, before looking at the cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// It owns nothing and writes nothing: let it go with no cloud call.
    Release,
    /// `deletionPolicy: Orphan`: leave the route, let the resource go.
    Orphan,
    /// Settle and read the table, then [`delete_step`].
    Inspect,
}

/// The first cleanup decision. An `ObserveOnly` resource never deletes the route.
pub fn cleanup(
    policy: DeletionPolicy,
    management: ManagementPolicy,
    owned: Option<&OwnedRoute>,
    pending: Option<&PendingWrite>,
) -> Cleanup {
    match (owned, pending) {
        (None, None) => Cleanup::Release,
        _ if policy == DeletionPolicy::Orphan || management == ManagementPolicy::ObserveOnly => Cleanup::Orphan,
        _ => Cleanup::Inspect,
    }
}

/// What to delete, from a fresh view: the owned route only if the table still holds it with
/// the destination, hop (and id, where the API has ids) this resource owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteStep {
    /// Delete it.
    Delete(Route, RouteIds),
    /// Already gone.
    Gone,
    /// The destination now routes elsewhere or is another route: not ours to delete.
    NotOurs(Route),
}

/// Decides the delete of the route `owned` names.
pub fn delete_step(owned: &OwnedRoute, view: &TableView) -> DeleteStep {
    let Some((_, route)) = located(owned) else { return DeleteStep::Gone };
    let ids = view.ids_of(&route.destination);
    match view.at(&route.destination) {
        None => DeleteStep::Gone,
        Some(found) if *found == route && identity(owned, &ids) != Identity::Different => {
            let ids = if ids.is_empty() { ids_of(owned) } else { ids };
            DeleteStep::Delete(route, ids)
        }
        Some(found) => DeleteStep::NotOurs(found.clone()),
    }
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
