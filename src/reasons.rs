//! Every reason the operator writes — condition reasons and Event reasons — as one enum. No I/O.
//! Reasons are CamelCase with no dots (Tencent's `.NotFound` suffixes are dropped).

use std::fmt;

/// `Ready` condition type: whether the route is in place as specified.
pub const READY: &str = "Ready";
/// `Synced` condition type: whether the last reconcile could do its job.
pub const SYNCED: &str = "Synced";
/// `Synced=True` reason.
pub const RECONCILE_SUCCESS: &str = "ReconcileSuccess";
/// `Synced=False` reason: the reconcile failed (the message says what).
pub const RECONCILE_ERROR: &str = "ReconcileError";
/// `Synced=False` reason: the `vpc.qcloud.dev/paused` annotation stops every action.
pub const RECONCILE_PAUSED: &str = "ReconcilePaused";

/// A condition or Event reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Ready=True: this operator created the route.
    Created,
    /// Ready=True: an identical route existed and this resource took it over.
    Adopted,
    /// Ready=False: a create is in flight (or its outcome is being confirmed).
    Creating,
    /// Ready=False: the next hop changed; the route is being replaced.
    Replacing,
    /// Ready=False: the destination is already routed in the table (by something else), or
    /// another VpcRoute claims it.
    RouteAlreadyExists,
    /// Ready=False: no gateway with that id and type in the VPC.
    InvalidRouteNextHub,
    /// Ready=False: the next type is not one the API knows.
    InvalidRouteNextType,
    /// Ready=False: not a valid IPv4 CIDR, or it overlaps the VPC.
    InvalidDestinationCidr,
    /// Ready=False: the table would exceed its route quota.
    RouteLimitExceeded,
    /// Ready=False: the VPC does not exist for this account and region.
    InvalidVpc,
    /// Ready=False: the route table does not exist (in that VPC).
    InvalidRouteTableId,
    /// Ready=False: the cloud refused the request for a reason not listed above (permanent).
    CloudRejected,
    /// Ready=False, retrying: the API's rate limit.
    Throttled,
    /// Ready=False, retrying: server-side errors, replay rejections, or a transport failure.
    CloudUnavailable,
    /// Ready=False: authentication or authorisation failure.
    AuthFailure,
    /// Ready=False: the credentials Secret or one of its keys is missing.
    CredentialsNotFound,
    /// Ready=False: the credentials Secret holds something that cannot be a credential.
    InvalidCredentials,
    /// Ready=False: the spec cannot be acted on (e.g. no region and no operator default).
    InvalidSpec,
    /// Event: a route was repaired after someone changed or deleted it outside the operator.
    DriftCorrected,
    /// Event: the route this resource owned was deleted with it.
    Deleted,
    /// Event: the resource was deleted and its route left in place (`deletionPolicy: Orphan`).
    Orphaned,
    /// Event: the route's description or `Enabled` was set to what the spec says.
    Updated,
    /// Ready=True, `managementPolicy: ObserveOnly`: the route exists exactly as specified.
    Observed,
    /// Ready=False, `ObserveOnly`: the table has no route for the destination.
    RouteMissing,
    /// Ready=False, `ObserveOnly`: the table routes the destination differently (the message says how).
    RouteDiffers,
    /// Ready=False: paused before the operator learnt anything about the route.
    Paused,
}

impl Reason {
    /// Every reason, for metrics label sets and tests.
    pub const ALL: [Reason; 26] = [
        Reason::Created,
        Reason::Adopted,
        Reason::Creating,
        Reason::Replacing,
        Reason::RouteAlreadyExists,
        Reason::InvalidRouteNextHub,
        Reason::InvalidRouteNextType,
        Reason::InvalidDestinationCidr,
        Reason::RouteLimitExceeded,
        Reason::InvalidVpc,
        Reason::InvalidRouteTableId,
        Reason::CloudRejected,
        Reason::Throttled,
        Reason::CloudUnavailable,
        Reason::AuthFailure,
        Reason::CredentialsNotFound,
        Reason::InvalidCredentials,
        Reason::InvalidSpec,
        Reason::DriftCorrected,
        Reason::Deleted,
        Reason::Orphaned,
        Reason::Updated,
        Reason::Observed,
        Reason::RouteMissing,
        Reason::RouteDiffers,
        Reason::Paused,
    ];

    /// The reason as written into conditions, Events and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Created => "Created",
            Reason::Adopted => "Adopted",
            Reason::Creating => "Creating",
            Reason::Replacing => "Replacing",
            Reason::RouteAlreadyExists => "RouteAlreadyExists",
            Reason::InvalidRouteNextHub => "InvalidRouteNextHub",
            Reason::InvalidRouteNextType => "InvalidRouteNextType",
            Reason::InvalidDestinationCidr => "InvalidDestinationCidr",
            Reason::RouteLimitExceeded => "RouteLimitExceeded",
            Reason::InvalidVpc => "InvalidVpc",
            Reason::InvalidRouteTableId => "InvalidRouteTableId",
            Reason::CloudRejected => "CloudRejected",
            Reason::Throttled => "Throttled",
            Reason::CloudUnavailable => "CloudUnavailable",
            Reason::AuthFailure => "AuthFailure",
            Reason::CredentialsNotFound => "CredentialsNotFound",
            Reason::InvalidCredentials => "InvalidCredentials",
            Reason::InvalidSpec => "InvalidSpec",
            Reason::DriftCorrected => "DriftCorrected",
            Reason::Deleted => "Deleted",
            Reason::Orphaned => "Orphaned",
            Reason::Updated => "Updated",
            Reason::Observed => "Observed",
            Reason::RouteMissing => "RouteMissing",
            Reason::RouteDiffers => "RouteDiffers",
            Reason::Paused => "Paused",
        }
    }

    /// The reason a condition names, if it is one of ours.
    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_valid_kubernetes_condition_reasons_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for r in Reason::ALL {
            let s = r.as_str();
            let first = s.chars().next().unwrap_or('0');
            assert!(first.is_ascii_uppercase() && s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
            assert!(seen.insert(s), "{s} twice");
            assert_eq!(format!("{r:?}"), s, "the variant name is the wire name");
        }
    }
}
