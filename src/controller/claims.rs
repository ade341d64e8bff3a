//! Which VpcRoute owns a destination when several claim the same (region, route table,
//! destination). Route table ids are unique across accounts, so the account is implied; regions
//! are compared in their long form (`gz` is `ap-guangzhou`). Pure.

use kube::ResourceExt;

use vpc_wire::domain::{canonical_region, normalize_cidr};

use crate::crd::VpcRoute;

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
        region: canonical_region(region).to_string(),
        route_table_id: obj.spec.route_table_id.clone(),
        destination: normalize_cidr(&obj.spec.destination_cidr_block)?.to_string(),
    })
}

/// Every key a resource is indexed under: what its spec claims and what its status holds.
pub fn keys_of(obj: &VpcRoute, default_region: Option<&str>) -> Vec<ClaimKey> {
    let mut keys: Vec<ClaimKey> = claim_of(obj, default_region).into_iter().chain(held_by(obj)).collect();
    keys.dedup();
    keys
}

/// The key of the route a resource owns (or is writing), from its status.
fn held_by(obj: &VpcRoute) -> Option<ClaimKey> {
    let status = obj.status.as_ref()?;
    let route = status.route.as_ref().or(status.pending.as_ref().map(|p| &p.route))?;
    Some(ClaimKey {
        region: canonical_region(&route.region).to_string(),
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
        .filter(|o| claims(o, default_region, key) || held_by(o).as_ref() == Some(key))
        .collect();
    if let Some(holder) = rivals.iter().find(|o| held_by(o).as_ref() == Some(key)) {
        return Some(display(holder));
    }
    let mine = seniority(me);
    rivals.iter().filter(|o| o.metadata.deletion_timestamp.is_none()).find(|o| seniority(o) < mine).map(|o| display(o))
}

/// Whether a resource claims `key` by its spec (an `ObserveOnly` resource claims nothing: it
/// never writes, so it never stands in another's way).
fn claims(obj: &VpcRoute, default_region: Option<&str>, key: &ClaimKey) -> bool {
    obj.spec.management_policy == crate::crd::ManagementPolicy::Full
        && claim_of(obj, default_region).as_ref() == Some(key)
}

fn display(obj: &VpcRoute) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{NextTypeName, VpcRouteSpec};

    fn route(name: &str, region: &str) -> VpcRoute {
        let mut obj = VpcRoute::new(
            name,
            VpcRouteSpec {
                vpc_id: "vpc-1".into(),
                route_table_id: "rtb-1".into(),
                destination_cidr_block: "10.9.0.0/16".into(),
                next_type: NextTypeName::VpnGateway,
                next_hub: "vpngw-1".into(),
                region: Some(region.into()),
                credentials_secret_ref: None,
                description: None,
                enabled: None,
                management_policy: Default::default(),
                deletion_policy: Default::default(),
                adoption_policy: Default::default(),
            },
        );
        obj.metadata.namespace = Some("ns".into());
        obj.metadata.uid = Some(format!("uid-{name}"));
        obj
    }

    #[test]
    fn two_spellings_of_one_region_claim_the_same_route() {
        let (long, short) = (route("a", "ap-guangzhou"), route("b", "gz"));
        assert_eq!(claim_of(&long, None), claim_of(&short, None));
        let mut holder = long.clone();
        let held = crate::crd::OwnedRoute {
            region: "ap-guangzhou".into(),
            vpc_id: "vpc-1".into(),
            route_table_id: "rtb-1".into(),
            destination_cidr_block: "10.9.0.0/16".into(),
            next_type: NextTypeName::VpnGateway,
            next_hub: "vpngw-1".into(),
            origin: crate::crd::Origin::Created,
            route_item_id: None,
            route_id: None,
        };
        holder.status = Some(crate::crd::VpcRouteStatus { route: Some(held), ..Default::default() });
        let key = claim_of(&short, None).unwrap();
        assert_eq!(winner_over(&short, &key, [&holder], None), Some("ns/a".into()), "the holder wins, not an adoption");
        assert_eq!(winner_over(&holder, &key, [&short], None), None);
    }
}
