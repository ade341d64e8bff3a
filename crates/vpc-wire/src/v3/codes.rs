//! API 3.0 error codes (`Response.Error.Code`) both sides agree on, and their classes.
//! Constants and a pure classifier; no I/O. Never parse `Message`; the code is the contract.

/// Bad signature.
pub const AUTH_SIGNATURE_FAILURE: &str = "AuthFailure.SignatureFailure";
/// Unknown SecretId.
pub const AUTH_SECRET_ID_NOT_FOUND: &str = "AuthFailure.SecretIdNotFound";
/// Timestamp more than 300 s away from the server's clock.
pub const AUTH_SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
/// Temporary key without its token, or a wrong token.
pub const AUTH_TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
/// Malformed `Authorization` header.
pub const AUTH_INVALID_AUTHORIZATION: &str = "AuthFailure.InvalidAuthorization";
/// CAM denies the operation.
pub const AUTH_UNAUTHORIZED_OPERATION: &str = "AuthFailure.UnauthorizedOperation";

/// Unknown action.
pub const INVALID_ACTION: &str = "InvalidAction";
/// Unknown version.
pub const NO_SUCH_VERSION: &str = "NoSuchVersion";
/// A required parameter is absent.
pub const MISSING_PARAMETER: &str = "MissingParameter";
/// A parameter is wrong (also: unknown `GatewayType`).
pub const INVALID_PARAMETER: &str = "InvalidParameter";
/// A parameter value is wrong (also: unknown `GatewayType`).
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
/// Not a valid CIDR or id.
pub const INVALID_PARAMETER_VALUE_MALFORMED: &str = "InvalidParameterValue.Malformed";
/// The destination overlaps the VPC CIDR.
pub const INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT: &str = "InvalidParameterValue.VpcCidrConflict";
/// No gateway with that id, or not of that type, or not in this VPC.
pub const INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID: &str = "InvalidParameterValue.RouteNextHopInvalid";
/// [project rule] The table already has an identical route, or the batch names a destination twice.
pub const INVALID_PARAMETER_VALUE_DUPLICATE: &str = "InvalidParameterValue.Duplicate";
/// An unknown parameter was sent.
pub const UNKNOWN_PARAMETER: &str = "UnknownParameter";
/// The region is not supported.
pub const UNSUPPORTED_REGION: &str = "UnsupportedRegion";
/// Rate limited (back off).
pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
/// Rate limited per account.
pub const REQUEST_LIMIT_EXCEEDED_UIN: &str = "RequestLimitExceeded.UinLimitExceeded";
/// Rate limited per source IP.
pub const REQUEST_LIMIT_EXCEEDED_IP: &str = "RequestLimitExceeded.IPLimitExceeded";
/// Internal error (retry).
pub const INTERNAL_ERROR: &str = "InternalError";
/// Resource temporarily unavailable (retry).
pub const RESOURCE_UNAVAILABLE: &str = "ResourceUnavailable";
/// Resource busy (retry).
pub const RESOURCE_IN_USE: &str = "ResourceInUse";
/// Operation failed (retry).
pub const FAILED_OPERATION: &str = "FailedOperation";
/// Service temporarily unavailable (retry).
pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
/// Unknown route table or VPC for this account and region; on delete, an unknown route id.
pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFound";
/// The route table would exceed its quota.
pub const LIMIT_EXCEEDED: &str = "LimitExceeded";
/// [project rule] The destination is already routed to another hop (ECMP is not emulated).
pub const UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE: &str = "UnsupportedOperation.EcmpWithUserRoute";
/// `ReplaceRoutes` names an unknown route (drift: re-read the table).
pub const UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS: &str = "UnsupportedOperation.RecordNotExists";
/// An operation names a system route.
pub const UNSUPPORTED_OPERATION_SYSTEM_ROUTE: &str = "UnsupportedOperation.SystemRoute";

/// Every code above.
pub const ALL: [&str; 30] = [
    AUTH_SIGNATURE_FAILURE,
    AUTH_SECRET_ID_NOT_FOUND,
    AUTH_SIGNATURE_EXPIRE,
    AUTH_TOKEN_FAILURE,
    AUTH_INVALID_AUTHORIZATION,
    AUTH_UNAUTHORIZED_OPERATION,
    INVALID_ACTION,
    NO_SUCH_VERSION,
    MISSING_PARAMETER,
    INVALID_PARAMETER,
    INVALID_PARAMETER_VALUE,
    INVALID_PARAMETER_VALUE_MALFORMED,
    INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT,
    INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID,
    INVALID_PARAMETER_VALUE_DUPLICATE,
    UNKNOWN_PARAMETER,
    UNSUPPORTED_REGION,
    REQUEST_LIMIT_EXCEEDED,
    REQUEST_LIMIT_EXCEEDED_UIN,
    REQUEST_LIMIT_EXCEEDED_IP,
    INTERNAL_ERROR,
    RESOURCE_UNAVAILABLE,
    RESOURCE_IN_USE,
    FAILED_OPERATION,
    SERVICE_UNAVAILABLE,
    RESOURCE_NOT_FOUND,
    LIMIT_EXCEEDED,
    UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE,
    UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS,
    UNSUPPORTED_OPERATION_SYSTEM_ROUTE,
];

/// What a client should do about an error code (§2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// `RequestLimitExceeded*`: back off, then retry.
    Throttled,
    /// `InternalError*`, `ResourceUnavailable*`, `ResourceInUse*`, `FailedOperation*`,
    /// `ServiceUnavailable*`: retry.
    Retryable,
    /// `AuthFailure*`: the credentials are wrong, expired or not allowed.
    Credentials,
    /// `ResourceNotFound*`: the resource does not exist.
    NotFound,
    /// Everything else: do not retry the same request.
    Permanent,
}

/// Whether `code` is `family` or one of its sub-codes (`family.…`).
fn in_family(code: &str, family: &str) -> bool {
    code.strip_prefix(family).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The class of an error code.
pub fn classify(code: &str) -> Class {
    const RETRYABLE: [&str; 5] =
        [INTERNAL_ERROR, RESOURCE_UNAVAILABLE, RESOURCE_IN_USE, FAILED_OPERATION, SERVICE_UNAVAILABLE];
    if in_family(code, REQUEST_LIMIT_EXCEEDED) {
        Class::Throttled
    } else if RETRYABLE.iter().any(|f| in_family(code, f)) {
        Class::Retryable
    } else if in_family(code, "AuthFailure") {
        Class::Credentials
    } else if in_family(code, RESOURCE_NOT_FOUND) {
        Class::NotFound
    } else {
        Class::Permanent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_falls_in_the_class_the_contract_gives_it() {
        let table: [(&str, Class); 32] = [
            (AUTH_SIGNATURE_FAILURE, Class::Credentials),
            (AUTH_SECRET_ID_NOT_FOUND, Class::Credentials),
            (AUTH_SIGNATURE_EXPIRE, Class::Credentials),
            (AUTH_TOKEN_FAILURE, Class::Credentials),
            (AUTH_INVALID_AUTHORIZATION, Class::Credentials),
            (AUTH_UNAUTHORIZED_OPERATION, Class::Credentials),
            (INVALID_ACTION, Class::Permanent),
            (NO_SUCH_VERSION, Class::Permanent),
            (MISSING_PARAMETER, Class::Permanent),
            (INVALID_PARAMETER, Class::Permanent),
            (INVALID_PARAMETER_VALUE, Class::Permanent),
            (INVALID_PARAMETER_VALUE_MALFORMED, Class::Permanent),
            (INVALID_PARAMETER_VALUE_VPC_CIDR_CONFLICT, Class::Permanent),
            (INVALID_PARAMETER_VALUE_ROUTE_NEXT_HOP_INVALID, Class::Permanent),
            (INVALID_PARAMETER_VALUE_DUPLICATE, Class::Permanent),
            (UNKNOWN_PARAMETER, Class::Permanent),
            (UNSUPPORTED_REGION, Class::Permanent),
            (REQUEST_LIMIT_EXCEEDED, Class::Throttled),
            (REQUEST_LIMIT_EXCEEDED_UIN, Class::Throttled),
            (REQUEST_LIMIT_EXCEEDED_IP, Class::Throttled),
            (INTERNAL_ERROR, Class::Retryable),
            (RESOURCE_UNAVAILABLE, Class::Retryable),
            (RESOURCE_IN_USE, Class::Retryable),
            (FAILED_OPERATION, Class::Retryable),
            (SERVICE_UNAVAILABLE, Class::Retryable),
            (RESOURCE_NOT_FOUND, Class::NotFound),
            (LIMIT_EXCEEDED, Class::Permanent),
            (UNSUPPORTED_OPERATION_ECMP_WITH_USER_ROUTE, Class::Permanent),
            (UNSUPPORTED_OPERATION_RECORD_NOT_EXISTS, Class::Permanent),
            (UNSUPPORTED_OPERATION_SYSTEM_ROUTE, Class::Permanent),
            ("InternalError.UnknownError", Class::Retryable),
            ("ResourceNotFound.InvalidRouteTable", Class::NotFound),
        ];
        assert_eq!(table[..ALL.len()].iter().map(|(c, _)| *c).collect::<Vec<_>>(), ALL);
        for (code, class) in table {
            assert_eq!(classify(code), class, "{code}");
        }
    }

    #[test]
    fn families_match_whole_names_only() {
        assert_eq!(classify("FailedOperation.RouteBusy"), Class::Retryable);
        assert_eq!(classify("AuthFailure"), Class::Credentials);
        assert_eq!(classify("AuthFailureX"), Class::Permanent);
        assert_eq!(classify("ResourceInsufficient"), Class::Permanent);
        assert_eq!(classify("InternalErrorish"), Class::Permanent);
        assert_eq!(classify(""), Class::Permanent);
    }

    #[test]
    fn no_code_is_listed_twice() {
        let mut codes = ALL.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL.len());
    }
}
