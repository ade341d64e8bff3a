//! Which Tencent API generation the end-to-end suite drives: `VPCROUTE_TEST_API` = `3.0`
//! (default) or `2.0`. The same tests run on both; only action names and endpoints differ.

/// The generation under test, as the operator's `--api` flag spells it.
pub fn api() -> &'static str {
    match std::env::var("VPCROUTE_TEST_API").as_deref() {
        Ok("2.0") => "2.0",
        Ok("3.0") | Err(_) => "3.0",
        Ok(other) => panic!("VPCROUTE_TEST_API must be 3.0 or 2.0, not {other:?}"),
    }
}

/// Whether the suite runs on API 3.0.
pub fn is_v3() -> bool {
    api() == "3.0"
}

/// The emulator endpoint the operator is given for this generation (`base` is `https://host:port`).
pub fn endpoint(base: &str) -> String {
    if is_v3() { format!("{base}/") } else { format!("{base}/v2/index.php") }
}

/// The action that creates routes (`CreateRoutes` / `CreateRoute`).
pub fn create() -> &'static str {
    if is_v3() { "CreateRoutes" } else { "CreateRoute" }
}

/// The action that deletes routes (`DeleteRoutes` / `DeleteRoute`).
pub fn delete() -> &'static str {
    if is_v3() { "DeleteRoutes" } else { "DeleteRoute" }
}

/// The action that reads a route table (`DescribeRouteTables` / `DescribeRouteTable`).
pub fn describe() -> &'static str {
    if is_v3() { "DescribeRouteTables" } else { "DescribeRouteTable" }
}

/// The action a hop change or hop repair uses (`ReplaceRoutes`; on 2.0 `DeleteRoute`, then a create).
pub fn replace() -> &'static str {
    if is_v3() { "ReplaceRoutes" } else { "DeleteRoute" }
}

/// The code a condition message quotes for a reason, as this generation's backend renders it.
pub fn code_for(reason: &str) -> &'static str {
    let (v2, v3) = match reason {
        "InvalidRouteNextHub" => ("4000 InvalidRouteNextHub.NotFound", "InvalidParameterValue.RouteNextHopInvalid"),
        "InvalidDestinationCidr" => ("4000 InvalidDestinationCidr", "InvalidParameterValue.VpcCidrConflict"),
        "InvalidVpc" => ("4000 InvalidVpc.NotFound", "belongs to vpc-amhnnao5, not to vpc-nosuch01"),
        "InvalidRouteTableId" => ("4000 InvalidRouteTableId.NotFound", "ResourceNotFound"),
        "RouteLimitExceeded" => ("4000 RouteLimitExceeded", "LimitExceeded"),
        "Throttled" => ("4400 RequestLimitExceeded", "RequestLimitExceeded"),
        "CloudUnavailable" => ("6000 InternalError", "InternalError"),
        "AuthFailure" => ("4100 AuthFailure.SignatureFailure", "AuthFailure.SignatureFailure"),
        other => panic!("no code known for reason {other}"),
    };
    if is_v3() { v3 } else { v2 }
}
