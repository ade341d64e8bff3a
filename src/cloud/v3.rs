//! The API 3.0 backend of [`RouteApi`]: the 3.0 client's calls (routes known by their
//! `RouteItemId`/`RouteId`), and the one place where 3.0 answers are classified into the
//! product's reasons. Does network I/O through the client.

use vpc_wire::domain::{Credentials, Route};
use vpc_wire::v3::Action;
use vpc_wire::v3::codes;
use vpc_wire::v3::models::{self as wire, RouteRef};

use super::{CloudError, ErrorClass, Operation, RouteApi, RouteAttrs, RouteIds, TableRef, TableView};
use crate::client3::{ApiError3, VpcClient3, route_ref};
use crate::reasons::Reason;

impl RouteApi for VpcClient3 {
    fn action_name(&self, op: Operation) -> &'static str {
        match op {
            Operation::Describe => Action::DescribeRouteTables.name(),
            Operation::Create => Action::CreateRoutes.name(),
            Operation::Delete => Action::DeleteRoutes.name(),
            Operation::Replace | Operation::SetDescription => Action::ReplaceRoutes.name(),
            Operation::SetEnabled => "EnableRoutes/DisableRoutes",
        }
    }

    fn supports_attributes(&self) -> bool {
        true
    }

    async fn route_quota(&self, creds: &Credentials, region: &str) -> Option<usize> {
        let kinds = ["route-table-max-policies".to_string()];
        match self.describe_vpc_limits(creds, region, &kinds).await {
            Ok(limits) => {
                limits.iter().find(|l| l.limit_type == kinds[0]).and_then(|l| usize::try_from(l.limit_value).ok())
            }
            Err(e) => {
                tracing::warn!(region, error = %e, "could not read the route quota; batches are not trimmed to it");
                None
            }
        }
    }

    async fn describe_table(&self, creds: &Credentials, table: &TableRef) -> Result<TableView, CloudError> {
        let ids = std::slice::from_ref(&table.route_table_id);
        let tables = self.describe_route_tables(creds, &table.region, ids).await.map_err(|e| classify(&e))?;
        match tables.iter().find(|t| t.route_table_id == table.route_table_id) {
            // 3.0 writes name no VPC: the table must be checked to belong to the spec's VPC here.
            Some(t) if !t.vpc_id.is_empty() && t.vpc_id != table.vpc_id => Err(CloudError {
                action: Action::DescribeRouteTables.name(),
                class: ErrorClass::Permanent,
                reason: Reason::InvalidVpc,
                code: None,
                message: format!(
                    "route table {} belongs to {}, not to {}",
                    table.route_table_id, t.vpc_id, table.vpc_id
                ),
                request_id: None,
            }),
            Some(t) => Ok(view_of(t)),
            None => {
                Err(absent(Action::DescribeRouteTables, Reason::InvalidRouteTableId, format!("route table {table}")))
            }
        }
    }

    async fn create_routes(
        &self,
        creds: &Credentials,
        table: &TableRef,
        planned: &[(Route, RouteAttrs)],
    ) -> Result<Vec<RouteIds>, CloudError> {
        if planned.is_empty() {
            return Ok(Vec::new());
        }
        let reply = VpcClient3::create_routes(self, creds, &table.region, &table.route_table_id, planned)
            .await
            .map_err(|e| classify(&e))?;
        let routes: Vec<Route> = planned.iter().map(|(r, _)| r.clone()).collect();
        let routes = routes.as_slice();
        let returned: Vec<&wire::Route> = reply.data.route_table_set.iter().flat_map(|t| &t.route_set).collect();
        let mut ids = ids_in_order(routes, &returned);
        if ids.iter().any(RouteIds::is_empty) {
            // The answer did not name every new route's ids: read them from the table.
            match RouteApi::describe_table(self, creds, table).await {
                Ok(view) => {
                    for (slot, route) in ids.iter_mut().zip(routes).filter(|(slot, _)| slot.is_empty()) {
                        if view.at(&route.destination) == Some(route) {
                            *slot = view.ids_of(&route.destination);
                        }
                    }
                }
                Err(e) => tracing::warn!(table = %table, error = %e, "could not read the ids of created routes"),
            }
        }
        Ok(ids)
    }

    async fn delete_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
    ) -> Result<(), CloudError> {
        let (reference, _) = self.reference(creds, table, route, ids, Action::DeleteRoutes).await?;
        VpcClient3::delete_routes(self, creds, &table.region, &table.route_table_id, &[reference])
            .await
            .map(drop)
            .map_err(|e| classify(&e))
    }

    async fn replace_route(
        &self,
        creds: &Credentials,
        table: &TableRef,
        old: &Route,
        ids: &RouteIds,
        (new, attrs): &(Route, RouteAttrs),
    ) -> Result<RouteIds, CloudError> {
        let (reference, used) = self.reference(creds, table, old, ids, Action::ReplaceRoutes).await?;
        let change = [(reference, new.clone(), attrs.description.clone())];
        let reply = VpcClient3::replace_routes(self, creds, &table.region, &table.route_table_id, &change)
            .await
            .map_err(|e| classify(&e))?;
        let answered = reply.data.new_route_set.first().map(ids_of).filter(|i| !i.is_empty());
        Ok(answered.unwrap_or(used))
    }

    async fn set_description(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        description: &str,
    ) -> Result<(), CloudError> {
        let (reference, _) = self.reference(creds, table, route, ids, Action::ReplaceRoutes).await?;
        let change = [(reference, route.clone(), description.to_string())];
        VpcClient3::replace_routes(self, creds, &table.region, &table.route_table_id, &change)
            .await
            .map(drop)
            .map_err(|e| classify(&e))
    }

    async fn set_enabled(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        enabled: bool,
    ) -> Result<(), CloudError> {
        let action = if enabled { Action::EnableRoutes } else { Action::DisableRoutes };
        let (reference, _) = self.reference(creds, table, route, ids, action).await?;
        let (region, rtb) = (&table.region, &table.route_table_id);
        let result = if enabled {
            self.enable_routes(creds, region, rtb, &[reference]).await
        } else {
            self.disable_routes(creds, region, rtb, &[reference]).await
        };
        result.map(drop).map_err(|e| classify(&e))
    }
}

impl VpcClient3 {
    /// The id reference of `route`: from `ids`, or (a route recorded without ids, e.g. by 2.0)
    /// from the table, where the exact route (destination, type and hop) must be; else NotFound.
    async fn reference(
        &self,
        creds: &Credentials,
        table: &TableRef,
        route: &Route,
        ids: &RouteIds,
        action: Action,
    ) -> Result<(RouteRef, RouteIds), CloudError> {
        if let Some(reference) = route_ref(ids.route_item_id.as_deref(), ids.route_id) {
            return Ok((reference, ids.clone()));
        }
        let view = RouteApi::describe_table(self, creds, table).await?;
        let found = view.at(&route.destination).filter(|r| *r == route).map(|_| view.ids_of(&route.destination));
        found
            .and_then(|ids| route_ref(ids.route_item_id.as_deref(), ids.route_id).map(|r| (r, ids)))
            .ok_or_else(|| absent(action, Reason::CloudRejected, format!("route {route} in {table}")))
    }
}

/// The controller's view of a 3.0 table: `USER` routes with a known gateway type and a parsable
/// destination (normalised), and their ids; the first route wins for a repeated destination.
pub fn view_of(table: &wire::RouteTable) -> TableView {
    let mut view = TableView::default();
    for wire_route in table.route_set.iter().filter(|r| r.is_user()) {
        if let Some(route) = wire_route.to_domain() {
            if view.ids.contains_key(&route.destination) {
                continue;
            }
            view.ids.insert(route.destination, ids_of(wire_route));
            let attrs = RouteAttrs { description: wire_route.route_description.clone(), enabled: wire_route.enabled };
            view.attrs.insert(route.destination, attrs);
            view.routes.push(route);
        }
    }
    view
}

fn ids_of(route: &wire::Route) -> RouteIds {
    RouteIds {
        route_item_id: Some(route.route_item_id.clone()).filter(|s| !s.is_empty()),
        route_id: Some(route.route_id).filter(|id| *id != 0),
    }
}

/// Each input route's ids from the routes a `CreateRoutes` answered with: the exact route
/// (destination, type, hop) first, else the first with the same destination; empty if neither.
fn ids_in_order(routes: &[Route], returned: &[&wire::Route]) -> Vec<RouteIds> {
    routes
        .iter()
        .map(|route| {
            let same_dest = |r: &&&wire::Route| {
                vpc_wire::domain::normalize_cidr(&r.destination_cidr_block) == Some(route.destination)
            };
            let exact = returned.iter().filter(same_dest).find(|r| r.to_domain().as_ref() == Some(route));
            exact.or_else(|| returned.iter().find(same_dest)).map(|r| ids_of(r)).unwrap_or_default()
        })
        .collect()
}

/// A thing the call needed is not there (a table missing from the answer, a route without ids).
fn absent(action: Action, reason: Reason, what: String) -> CloudError {
    let message = format!("{what} does not exist");
    CloudError { action: action.name(), class: ErrorClass::NotFound, reason, code: None, message, request_id: None }
}

/// Classifies a 3.0 failure once (§2.3, §2.5): its class and the condition reason it maps to.
pub fn classify(err: &ApiError3) -> CloudError {
    let mut class = err.class;
    if err.has_code(codes::UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS) {
        // The route named by id is gone: drift, re-read the table.
        class = ErrorClass::NotFound;
    }
    CloudError {
        action: err.action.name(),
        class,
        reason: reason_for(err),
        code: err.code.clone(),
        message: err.message.clone(),
        request_id: err.request_id.clone(),
    }
}

fn reason_for(err: &ApiError3) -> Reason {
    let Some(code) = err.code.as_deref() else {
        return match err.class {
            ErrorClass::NotFound => not_found_reason(err.action),
            ErrorClass::Permanent => Reason::CloudRejected,
            _ => Reason::CloudUnavailable,
        };
    };
    match code {
        codes::INVALID_PARAMETER_VALUE_MALFORMED | codes::INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT => {
            Reason::InvalidDestinationCidr
        }
        codes::INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID => Reason::InvalidRouteNextHub,
        codes::INVALID_PARAMETER_VALUE | codes::INVALID_PARAMETER => Reason::InvalidRouteNextType,
        codes::INVALID_PARAMETER_VALUE_DUPLICATE | codes::UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE => {
            Reason::RouteAlreadyExists
        }
        _ => match codes::classify(code) {
            codes::Class::Throttled => Reason::Throttled,
            codes::Class::Retryable => Reason::CloudUnavailable,
            codes::Class::Credentials => Reason::AuthFailure,
            codes::Class::NotFound => not_found_reason(err.action),
            codes::Class::Permanent if err.has_code(codes::LIMIT_EXCEEDED) => Reason::RouteLimitExceeded,
            codes::Class::Permanent => Reason::CloudRejected,
        },
    }
}

/// `ResourceNotFound` names the VPC on VPC reads and the route table on every table operation.
fn not_found_reason(action: Action) -> Reason {
    match action {
        Action::DescribeVpcs => Reason::InvalidVpc,
        _ => Reason::InvalidRouteTableId,
    }
}

#[cfg(test)]
#[path = "v3_tests.rs"]
mod tests;
