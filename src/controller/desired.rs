//! The route a VpcRoute asks for, derived from its spec and checked before anything reaches the
//! cloud, and conversions between that and what status records. Pure; no I/O.

use vpc_wire::domain::{NextType, Route, RouteAttrs, canonical_region, normalize_cidr};

use crate::cloud::{RouteIds, TableRef};
use crate::crd::{AdoptionPolicy, NextTypeName, Origin, OwnedRoute, VpcRoute};

use super::claims::{ClaimKey, claim_of};

/// Everything reconcile needs to know about the desired route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    /// Where the route goes.
    pub table: TableRef,
    /// The route, destination normalised.
    pub route: Route,
    /// Its identity among VpcRoutes.
    pub key: ClaimKey,
    /// Whether an identical existing route may be adopted.
    pub adoption: AdoptionPolicy,
    /// Description and `Enabled` as the spec asks (defaults: none, enabled).
    pub attrs: RouteAttrs,
    /// Whether the spec sets a description or `enabled` at all.
    pub attrs_set: bool,
}

impl Desired {
    /// Derives the desired route; `Err` explains what in the spec cannot be acted on.
    pub fn of(obj: &VpcRoute, default_region: Option<&str>) -> Result<Desired, String> {
        let spec = &obj.spec;
        let region = spec.region.as_deref().or(default_region).ok_or(
            "spec.region is not set and the operator has no default region (--region); set spec.region, e.g. ap-guangzhou",
        )?;
        let next_type = NextType::from(spec.next_type);
        let route = Route::new(&spec.destination_cidr_block, next_type, spec.next_hub.trim()).ok_or_else(|| {
            format!("destinationCidrBlock {:?} is not an IPv4 CIDR such as 10.1.0.0/16", spec.destination_cidr_block)
        })?;
        if !next_type.hub_shape_ok(&route.next_hub) {
            return Err(format!("nextHub {:?} cannot be a next hop of type {next_type}", route.next_hub));
        }
        let key = claim_of(obj, default_region).ok_or("cannot derive the route's identity")?;
        let table = TableRef {
            region: canonical_region(region).to_string(),
            vpc_id: spec.vpc_id.clone(),
            route_table_id: spec.route_table_id.clone(),
        };
        let attrs = RouteAttrs {
            description: spec.description.clone().unwrap_or_default(),
            enabled: spec.enabled.unwrap_or(true),
        };
        let attrs_set = spec.description.is_some() || spec.enabled.is_some();
        Ok(Desired { table, route, key, adoption: spec.adoption_policy, attrs, attrs_set })
    }

    /// The status record of this route with `origin` and the cloud's ids.
    pub fn owned(&self, origin: Origin, ids: &RouteIds) -> OwnedRoute {
        record(&self.table, &self.route, origin, ids)
    }

    /// The route with its attributes, as a create or replace sends it.
    pub fn planned(&self) -> (Route, RouteAttrs) {
        (self.route.clone(), self.attrs.clone())
    }

    /// Whether a recorded route is this one (same place, destination and hop).
    pub fn is(&self, owned: &OwnedRoute) -> bool {
        located(owned).is_some_and(|(t, r)| t == self.table && r == self.route)
    }
}

/// The table and route a status record names; `None` if it does not parse.
pub fn located(owned: &OwnedRoute) -> Option<(TableRef, Route)> {
    let route = Route {
        destination: normalize_cidr(&owned.destination_cidr_block)?,
        next_type: NextType::from(owned.next_type),
        next_hub: owned.next_hub.clone(),
    };
    let table = TableRef {
        region: canonical_region(&owned.region).to_string(),
        vpc_id: owned.vpc_id.clone(),
        route_table_id: owned.route_table_id.clone(),
    };
    Some((table, route))
}

/// The cloud ids a status record holds.
pub fn ids_of(owned: &OwnedRoute) -> RouteIds {
    RouteIds { route_item_id: owned.route_item_id.clone(), route_id: owned.route_id }
}

/// A status record for a route in a table.
pub fn record(table: &TableRef, route: &Route, origin: Origin, ids: &RouteIds) -> OwnedRoute {
    OwnedRoute {
        region: table.region.clone(),
        vpc_id: table.vpc_id.clone(),
        route_table_id: table.route_table_id.clone(),
        destination_cidr_block: route.destination.to_string(),
        next_type: NextTypeName::from(route.next_type),
        next_hub: route.next_hub.clone(),
        origin,
        route_item_id: ids.route_item_id.clone(),
        route_id: ids.route_id,
    }
}
