//! API 2.0 response codes and the business `codeDesc` strings both sides agree on.
//! Constants only; no I/O. Which codes are retryable is the client's decision, not this module's.

/// Success.
pub const OK: i64 = 0;
/// Invalid parameter or business rule; the string code is in `codeDesc`.
pub const INVALID_PARAMETER: i64 = 4000;
/// Signature check failed.
pub const AUTH_SIGNATURE: i64 = 4100;
/// Not authorised for the API.
pub const AUTH_UNAUTHORIZED_API: i64 = 4101;
/// Not authorised for the resource.
pub const AUTH_UNAUTHORIZED_RESOURCE: i64 = 4102;
/// Not authorised (other).
pub const AUTH_UNAUTHORIZED: i64 = 4103;
/// SecretId does not exist.
pub const AUTH_SECRET_ID_NOT_FOUND: i64 = 4104;
/// Token error.
pub const AUTH_TOKEN: i64 = 4105;
/// Account banned.
pub const ACCESS_DENIED: i64 = 4300;
/// Request rate or quota exceeded.
pub const REQUEST_LIMIT_EXCEEDED: i64 = 4400;
/// Stale Timestamp or reused Nonce.
pub const REPLAY: i64 = 4500;
/// Plain HTTP used.
pub const HTTPS_ONLY: i64 = 4600;
/// Resource does not exist.
pub const RESOURCE_NOT_FOUND: i64 = 5000;
/// Resource operation failed, retry later.
pub const RESOURCE_OP_FAILED: i64 = 5100;
/// Internal error.
pub const INTERNAL_ERROR: i64 = 6000;
/// API temporarily unavailable.
pub const UNAVAILABLE: i64 = 6200;

/// `codeDesc` values.
pub mod desc {
    /// Success.
    pub const SUCCESS: &str = "Success";
    /// The VPC does not exist for this account and region.
    pub const INVALID_VPC: &str = "InvalidVpc.NotFound";
    /// The route table does not exist or is not in that VPC.
    pub const INVALID_ROUTE_TABLE: &str = "InvalidRouteTableId.NotFound";
    /// Not a valid IPv4 CIDR, or it overlaps the VPC CIDR.
    pub const INVALID_DESTINATION_CIDR: &str = "InvalidDestinationCidr";
    /// The table would exceed its quota.
    pub const ROUTE_LIMIT_EXCEEDED: &str = "RouteLimitExceeded";
    /// The destination is already routed in the table, or named twice in the batch.
    pub const ROUTE_ALREADY_EXISTS: &str = "RouteAlreadyExists";
    /// Unknown next type.
    pub const INVALID_ROUTE_NEXT_TYPE: &str = "InvalidRouteNextType";
    /// No such gateway of that type in this VPC.
    pub const INVALID_ROUTE_NEXT_HUB: &str = "InvalidRouteNextHub.NotFound";
    /// DeleteRoute entry matches no route [project rule].
    pub const INVALID_ROUTE: &str = "InvalidRoute.NotFound";
    /// Bad signature.
    pub const SIGNATURE_FAILURE: &str = "AuthFailure.SignatureFailure";
    /// Unknown SecretId.
    pub const SECRET_ID_NOT_FOUND: &str = "AuthFailure.SecretIdNotFound";
    /// Token error.
    pub const TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
    /// Stale timestamp or replayed nonce.
    pub const SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
    /// Rate limited.
    pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
    /// Internal error.
    pub const INTERNAL_ERROR: &str = "InternalError";
    /// Missing or malformed parameter.
    pub const INVALID_PARAMETER: &str = "InvalidParameter";
    /// Unknown action.
    pub const INVALID_ACTION: &str = "InvalidAction";
    /// Plain HTTP.
    pub const HTTPS_ONLY: &str = "HttpsOnly";
}
