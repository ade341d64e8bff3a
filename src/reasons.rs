//! Every condition reason the operator writes, in one place. Constants only; no I/O.
//! Reasons are CamelCase with no dots (Tencent's `.NotFound` suffixes are dropped).

/// `Ready` condition type.
pub const READY: &str = "Ready";

/// Ready=True: this operator created the route.
pub const CREATED: &str = "Created";
/// Ready=True: an identical route existed and this resource took it over.
pub const ADOPTED: &str = "Adopted";

/// Ready=False: a CreateRoute call is in flight (or its outcome is being confirmed).
pub const CREATING: &str = "Creating";
/// Ready=False: the next hop changed; the old route is being replaced (delete, then create).
pub const REPLACING: &str = "Replacing";

/// Ready=False: the destination is already routed in the table (by something else).
pub const ROUTE_ALREADY_EXISTS: &str = "RouteAlreadyExists";
/// Ready=False: `InvalidRouteNextHub.NotFound`.
pub const INVALID_ROUTE_NEXT_HUB: &str = "InvalidRouteNextHub";
/// Ready=False: `InvalidRouteNextType`.
pub const INVALID_ROUTE_NEXT_TYPE: &str = "InvalidRouteNextType";
/// Ready=False: `InvalidDestinationCidr`.
pub const INVALID_DESTINATION_CIDR: &str = "InvalidDestinationCidr";
/// Ready=False: `RouteLimitExceeded`.
pub const ROUTE_LIMIT_EXCEEDED: &str = "RouteLimitExceeded";
/// Ready=False: `InvalidVpc.NotFound`.
pub const INVALID_VPC: &str = "InvalidVpc";
/// Ready=False: `InvalidRouteTableId.NotFound`.
pub const INVALID_ROUTE_TABLE_ID: &str = "InvalidRouteTableId";
/// Ready=False: the cloud refused the request for a reason not listed above (permanent).
pub const CLOUD_REJECTED: &str = "CloudRejected";

/// Ready=False, retrying: 4400 RequestLimitExceeded.
pub const THROTTLED: &str = "Throttled";
/// Ready=False, retrying: 5100/6000/6200, replay rejections, or a transport failure.
pub const CLOUD_UNAVAILABLE: &str = "CloudUnavailable";
/// Ready=False: 41xx/4300 authentication or authorisation failure.
pub const AUTH_FAILURE: &str = "AuthFailure";
/// Ready=False: the credentials Secret or one of its keys is missing.
pub const CREDENTIALS_NOT_FOUND: &str = "CredentialsNotFound";
/// Ready=False: the spec cannot be acted on (e.g. no region and no operator default).
pub const INVALID_SPEC: &str = "InvalidSpec";

/// Every reason, for metrics label sets and tests.
pub const ALL: &[&str] = &[
    CREATED,
    ADOPTED,
    CREATING,
    REPLACING,
    ROUTE_ALREADY_EXISTS,
    INVALID_ROUTE_NEXT_HUB,
    INVALID_ROUTE_NEXT_TYPE,
    INVALID_DESTINATION_CIDR,
    ROUTE_LIMIT_EXCEEDED,
    INVALID_VPC,
    INVALID_ROUTE_TABLE_ID,
    CLOUD_REJECTED,
    THROTTLED,
    CLOUD_UNAVAILABLE,
    AUTH_FAILURE,
    CREDENTIALS_NOT_FOUND,
    INVALID_SPEC,
];

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_are_valid_kubernetes_condition_reasons() {
        for r in super::ALL {
            let first = r.chars().next().unwrap_or('0');
            assert!(first.is_ascii_uppercase() && r.chars().all(|c| c.is_ascii_alphanumeric()), "{r}");
        }
    }
}
