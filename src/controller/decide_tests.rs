//! Table tests of every branch of `decide.rs`.

use vpc_wire::domain::{NextType, Route, RouteAttrs};

use super::*;
use crate::cloud::TableRef;
use crate::controller::claims::ClaimKey;
use crate::crd::ManagementPolicy;

fn table() -> TableRef {
    TableRef { region: "ap-guangzhou".into(), vpc_id: "vpc-1".into(), route_table_id: "rtb-1".into() }
}

fn route(hub: &str) -> Route {
    Route::new("10.9.0.0/16", NextType::VpnGateway, hub).expect("cidr")
}

fn desired(hub: &str, adoption: AdoptionPolicy) -> Desired {
    let key =
        ClaimKey { region: "ap-guangzhou".into(), route_table_id: "rtb-1".into(), destination: "10.9.0.0/16".into() };
    Desired { table: table(), route: route(hub), key, adoption, attrs: RouteAttrs::default(), attrs_set: false }
}

fn ids(item: &str) -> RouteIds {
    RouteIds { route_item_id: Some(item.into()), route_id: Some(7) }
}

fn owned(hub: &str, origin: Origin, ids: &RouteIds) -> OwnedRoute {
    super::super::desired::record(&table(), &route(hub), origin, ids)
}

fn view(routes: &[(Route, RouteIds)]) -> TableView {
    TableView {
        routes: routes.iter().map(|(r, _)| r.clone()).collect(),
        ids: routes.iter().map(|(r, i)| (r.destination, i.clone())).collect(),
        attrs: Default::default(),
    }
}

const NONE: RouteIds = RouteIds { route_item_id: None, route_id: None };

#[test]
fn every_branch_of_decide_has_its_step() {
    let d = desired("vpngw-a", AdoptionPolicy::IfIdentical);
    let never = desired("vpngw-a", AdoptionPolicy::Never);
    let changed = desired("vpngw-b", AdoptionPolicy::IfIdentical);
    let mine = owned("vpngw-a", Origin::Created, &ids("rti-1"));
    let mine_v2 = owned("vpngw-a", Origin::Created, &NONE);
    let empty = view(&[]);
    let holds_a = view(&[(route("vpngw-a"), ids("rti-1"))]);
    let holds_a_v2 = view(&[(route("vpngw-a"), NONE)]);
    let holds_a_other_id = view(&[(route("vpngw-a"), ids("rti-2"))]);
    let holds_x = view(&[(route("vpngw-x"), ids("rti-1"))]);
    let holds_x_other_id = view(&[(route("vpngw-x"), ids("rti-9"))]);
    let x_v2 = view(&[(route("vpngw-x"), NONE)]);
    let b_there = view(&[(route("vpngw-b"), ids("rti-1"))]);
    let cases: Vec<(&str, &Desired, Option<&OwnedRoute>, &TableView, Step)> = vec![
        ("nothing owned, destination free", &d, None, &empty, Step::Create { drift: false }),
        ("nothing owned, identical route", &d, None, &holds_a, Step::Adopt(ids("rti-1"))),
        (
            "nothing owned, identical, Never",
            &never,
            None,
            &holds_a,
            Step::Conflict { found: route("vpngw-a"), identical: true },
        ),
        ("nothing owned, other hop", &d, None, &holds_x, Step::Conflict { found: route("vpngw-x"), identical: false }),
        ("owned and in place", &d, Some(&mine), &holds_a, Step::InPlace(ids("rti-1"))),
        ("owned on 2.0 and in place", &d, Some(&mine_v2), &holds_a_v2, Step::InPlace(NONE)),
        ("owned, deleted by hand", &d, Some(&mine), &empty, Step::Create { drift: true }),
        (
            "owned, hop changed by hand",
            &d,
            Some(&mine),
            &holds_x,
            Step::Replace { old: route("vpngw-x"), ids: ids("rti-1"), drift: true },
        ),
        (
            "owned on 2.0, hop changed by hand",
            &d,
            Some(&mine_v2),
            &x_v2,
            Step::Replace { old: route("vpngw-x"), ids: NONE, drift: true },
        ),
        (
            "spec changed the hop",
            &changed,
            Some(&mine),
            &holds_a,
            Step::Replace { old: route("vpngw-a"), ids: ids("rti-1"), drift: false },
        ),
        ("spec changed, old route gone", &changed, Some(&mine), &empty, Step::Create { drift: false }),
        (
            "spec changed, new hop already there (crash mid replace)",
            &changed,
            Some(&mine),
            &b_there,
            Step::InPlace(ids("rti-1")),
        ),
        (
            "owned, someone else's route with another id and hop",
            &d,
            Some(&mine),
            &holds_x_other_id,
            Step::Conflict { found: route("vpngw-x"), identical: false },
        ),
        ("owned, an identical route with another id", &d, Some(&mine), &holds_a_other_id, Step::Adopt(ids("rti-2"))),
    ];
    for (name, d, owned, view, want) in cases {
        assert_eq!(decide(d, owned, view), want, "{name}");
    }
}

#[test]
fn only_in_place_and_creating_an_unowned_route_may_act_on_a_cached_view() {
    let mine = owned("vpngw-a", Origin::Created, &NONE);
    assert!(!needs_fresh_view(&Step::InPlace(NONE), Some(&mine)));
    assert!(!needs_fresh_view(&Step::Create { drift: false }, None));
    assert!(needs_fresh_view(&Step::Create { drift: true }, Some(&mine)));
    assert!(needs_fresh_view(&Step::Adopt(NONE), None));
    assert!(needs_fresh_view(&Step::Conflict { found: route("x"), identical: false }, None));
    let replace = Step::Replace { old: route("vpngw-x"), ids: NONE, drift: true };
    assert!(needs_fresh_view(&replace, Some(&mine)));
}

fn pending(op: PendingOperation, hub: &str, previous: Option<&str>) -> PendingWrite {
    PendingWrite {
        operation: op,
        route: owned(hub, Origin::Created, &NONE),
        previous: previous.map(|h| owned(h, Origin::Created, &ids("rti-1"))),
        started_at: None,
    }
}

#[test]
fn a_pending_write_is_settled_by_what_the_table_holds() {
    let was = owned("vpngw-a", Origin::Adopted, &ids("rti-1"));
    let created = |i: &RouteIds| owned("vpngw-a", Origin::Created, i);
    let plain = created(&NONE);
    type Case<'a> = (&'a str, PendingWrite, Option<&'a OwnedRoute>, TableView, Option<OwnedRoute>);
    let cases: Vec<Case> = vec![
        (
            "create landed (ids from the table)",
            pending(PendingOperation::Create, "vpngw-a", None),
            None,
            view(&[(route("vpngw-a"), ids("rti-5"))]),
            Some(created(&ids("rti-5"))),
        ),
        (
            "create landed on 2.0",
            pending(PendingOperation::Create, "vpngw-a", None),
            None,
            view(&[(route("vpngw-a"), NONE)]),
            Some(created(&NONE)),
        ),
        ("create did not land", pending(PendingOperation::Create, "vpngw-a", None), None, view(&[]), None),
        (
            "create did not land, something else there",
            pending(PendingOperation::Create, "vpngw-a", None),
            None,
            view(&[(route("vpngw-x"), NONE)]),
            None,
        ),
        ("delete landed", pending(PendingOperation::Delete, "vpngw-a", None), Some(&plain), view(&[]), None),
        (
            "delete did not land",
            pending(PendingOperation::Delete, "vpngw-a", None),
            Some(&plain),
            view(&[(route("vpngw-a"), NONE)]),
            Some(created(&NONE)),
        ),
        (
            "replace landed",
            pending(PendingOperation::Replace, "vpngw-b", Some("vpngw-a")),
            Some(&was),
            view(&[(route("vpngw-b"), ids("rti-1"))]),
            Some(owned("vpngw-b", Origin::Created, &ids("rti-1"))),
        ),
        (
            "replace did not land",
            pending(PendingOperation::Replace, "vpngw-b", Some("vpngw-a")),
            Some(&was),
            view(&[(route("vpngw-a"), ids("rti-1"))]),
            Some(was.clone()),
        ),
        (
            "2.0 replace deleted but did not create",
            pending(PendingOperation::Replace, "vpngw-b", Some("vpngw-a")),
            Some(&was),
            view(&[]),
            None,
        ),
    ];
    for (name, pending, owned, view, want) in cases {
        let settled = settle(&pending, owned, &view, false);
        assert_eq!(settled, Settled { owned: want, unresolved: false }, "{name}");
    }
}

#[test]
fn a_write_that_may_still_land_stays_pending_until_the_table_shows_it_and_a_create_until_its_window_ends() {
    let was = owned("vpngw-a", Origin::Adopted, &ids("rti-1"));
    let create = pending(PendingOperation::Create, "vpngw-a", None);
    let replace = pending(PendingOperation::Replace, "vpngw-b", Some("vpngw-a"));
    let delete = pending(PendingOperation::Delete, "vpngw-a", None);
    let unresolved = |owned: Option<OwnedRoute>| Settled { owned, unresolved: true };
    // Not in the table yet: nothing is concluded, the record stays.
    assert_eq!(settle(&create, None, &view(&[]), true), unresolved(None));
    assert_eq!(
        settle(&replace, Some(&was), &view(&[(route("vpngw-a"), ids("rti-1"))]), true),
        unresolved(Some(was.clone()))
    );
    assert_eq!(settle(&replace, Some(&was), &view(&[]), true), unresolved(None));
    // A create in the table is owned, but its record stays while another attempt may land.
    let there = view(&[(route("vpngw-a"), ids("rti-5"))]);
    let created = Some(owned("vpngw-a", Origin::Created, &ids("rti-5")));
    assert_eq!(settle(&create, None, &there, true), Settled { owned: created.clone(), unresolved: true });
    assert_eq!(settle(&create, None, &there, false), Settled { owned: created, unresolved: false }, "window over");
    // So does a replace (on 2.0 a delete and a create, retried like a create).
    let replaced = settle(&replace, Some(&was), &view(&[(route("vpngw-b"), ids("rti-1"))]), true);
    assert!(replaced.unresolved && replaced.owned.is_some_and(|o| o.next_hub == "vpngw-b"));
    // A delete is safe to repeat, so a route still there is simply still owned.
    let mine = owned("vpngw-a", Origin::Created, &NONE);
    let kept = settle(&delete, Some(&mine), &view(&[(route("vpngw-a"), NONE)]), true);
    assert_eq!(kept, Settled { owned: Some(mine), unresolved: false });
}

#[test]
fn cleanup_releases_what_owns_nothing_orphans_on_request_and_inspects_the_rest() {
    let mine = owned("vpngw-a", Origin::Created, &NONE);
    let p = pending(PendingOperation::Create, "vpngw-a", None);
    let (full, observe_only) = (ManagementPolicy::Full, ManagementPolicy::ObserveOnly);
    assert_eq!(cleanup(DeletionPolicy::Delete, full, None, None), Cleanup::Release);
    assert_eq!(cleanup(DeletionPolicy::Orphan, full, None, None), Cleanup::Release);
    assert_eq!(cleanup(DeletionPolicy::Orphan, full, Some(&mine), None), Cleanup::Orphan);
    assert_eq!(cleanup(DeletionPolicy::Delete, full, Some(&mine), None), Cleanup::Inspect);
    assert_eq!(cleanup(DeletionPolicy::Delete, full, None, Some(&p)), Cleanup::Inspect);
    assert_eq!(cleanup(DeletionPolicy::Delete, observe_only, Some(&mine), None), Cleanup::Orphan);
    assert_eq!(cleanup(DeletionPolicy::Delete, observe_only, None, None), Cleanup::Release);
}

#[test]
fn only_the_route_this_resource_owns_is_deleted() {
    let mine = owned("vpngw-a", Origin::Created, &ids("rti-1"));
    let mine_v2 = owned("vpngw-a", Origin::Created, &NONE);
    assert_eq!(
        delete_step(&mine, &view(&[(route("vpngw-a"), ids("rti-1"))])),
        DeleteStep::Delete(route("vpngw-a"), ids("rti-1"))
    );
    assert_eq!(delete_step(&mine_v2, &view(&[(route("vpngw-a"), NONE)])), DeleteStep::Delete(route("vpngw-a"), NONE));
    assert_eq!(delete_step(&mine, &view(&[])), DeleteStep::Gone);
    assert_eq!(delete_step(&mine, &view(&[(route("vpngw-x"), ids("rti-1"))])), DeleteStep::NotOurs(route("vpngw-x")));
    assert_eq!(delete_step(&mine, &view(&[(route("vpngw-a"), ids("rti-2"))])), DeleteStep::NotOurs(route("vpngw-a")));
}

#[test]
fn an_owned_route_whose_description_or_enabled_differ_is_updated_in_place() {
    let mut d = desired("vpngw-a", AdoptionPolicy::IfIdentical);
    d.attrs = RouteAttrs { description: "to the office".into(), enabled: false };
    let mine = owned("vpngw-a", Origin::Created, &ids("rti-1"));
    let mut v = view(&[(route("vpngw-a"), ids("rti-1"))]);
    assert_eq!(decide(&d, Some(&mine), &v), Step::InPlace(ids("rti-1")), "no attributes known (2.0): in place");
    v.attrs.insert(route("vpngw-a").destination, RouteAttrs::default());
    assert_eq!(decide(&d, Some(&mine), &v), Step::Update { ids: ids("rti-1"), have: RouteAttrs::default() });
    v.attrs.insert(route("vpngw-a").destination, d.attrs.clone());
    assert_eq!(decide(&d, Some(&mine), &v), Step::InPlace(ids("rti-1")));
    assert!(needs_fresh_view(&Step::Update { ids: NONE, have: RouteAttrs::default() }, Some(&mine)));
}

#[test]
fn observing_reports_a_match_a_missing_route_or_what_differs() {
    let d = desired("vpngw-a", AdoptionPolicy::IfIdentical);
    assert_eq!(observe(&d, &view(&[(route("vpngw-a"), NONE)])), Observation::Matches);
    assert_eq!(observe(&d, &view(&[])), Observation::Missing);
    let Observation::Differs(why) = observe(&d, &view(&[(route("vpngw-x"), NONE)])) else { panic!("differs") };
    assert!(why.contains("vpngw-x") && why.contains("vpngw-a"), "{why}");
    let mut v = view(&[(route("vpngw-a"), NONE)]);
    v.attrs.insert(route("vpngw-a").destination, RouteAttrs { description: "x".into(), enabled: false });
    let Observation::Differs(why) = observe(&d, &v) else { panic!("differs") };
    assert!(why.contains("description is \"x\"") && why.contains("enabled is false"), "{why}");
}
