//! Which VpcRoute owns a destination when several claim the same (region, route table,
//! destination). Route table ids are unique across accounts, so the account is implied. Pure.

use kube::ResourceExt;

use crate::crd::VpcRoute;
use vpc_wire::domain::normalize_cidr;

/// The identity of a route: where it lives and its normalised destination.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimKey {
    /// Region.
    pub region: String,
    /// Route table.
    pub route_table_id: String,
    /// Normalised destination.
    pub destination: String,
}

/// The key a resource claims, with `default_region` for resources that name none.
pub fn claim_of(obj: &VpcRoute, default_region: Option<&str>) -> Option<ClaimKey> {
    let region = obj.spec.region.as_deref().or(default_region)?;
    Some(ClaimKey {
        region: region.to_string(),
        route_table_id: obj.spec.route_table_id.clone(),
        destination: normalize_cidr(&obj.spec.destination_cidr_block)?.to_string(),
    })
}

/// The key of the route a resource owns (or is writing), from its status.
fn held_by(obj: &VpcRoute) -> Option<ClaimKey> {
    let status = obj.status.as_ref()?;
    let route = status.route.as_ref().or(status.pending.as_ref().map(|p| &p.route))?;
    Some(ClaimKey {
        region: route.region.clone(),
        route_table_id: route.route_table_id.clone(),
        destination: route.destination_cidr_block.clone(),
    })
}

fn seniority(obj: &VpcRoute) -> (Option<k8s_openapi::jiff::Timestamp>, String, String) {
    (obj.creation_timestamp().map(|t| t.0), obj.namespace().unwrap_or_default(), obj.name_any())
}

/// The `namespace/name` of another resource that holds `key` ahead of `me`, if any: one that
/// owns it (or is writing it) wins; otherwise the oldest claimant that is not being deleted.
pub fn winner_over<'a>(
    me: &VpcRoute,
    key: &ClaimKey,
    others: impl IntoIterator<Item = &'a VpcRoute>,
    default_region: Option<&str>,
) -> Option<String> {
    if held_by(me).as_ref() == Some(key) {
        return None;
    }
    let rivals: Vec<&VpcRoute> = others
        .into_iter()
        .filter(|o| o.uid() != me.uid())
        .filter(|o| claim_of(o, default_region).as_ref() == Some(key) || held_by(o).as_ref() == Some(key))
        .collect();
    if let Some(holder) = rivals.iter().find(|o| held_by(o).as_ref() == Some(key)) {
        return Some(display(holder));
    }
    let mine = seniority(me);
    rivals.iter().filter(|o| o.metadata.deletion_timestamp.is_none()).find(|o| seniority(o) < mine).map(|o| display(o))
}

fn display(obj: &VpcRoute) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}
