//! The `VpcRoute` custom resource (`vpc.qcloud.dev/v1alpha1`): spec, status and admission rules.
//! Types only; no I/O.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use vpc_wire::domain::NextType;

/// One Tencent Cloud VPC route: traffic in `routeTableId` for `destinationCidrBlock` goes to `nextHub`.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vpc.qcloud.dev",
    version = "v1alpha1",
    kind = "VpcRoute",
    plural = "vpcroutes",
    shortname = "vrt",
    category = "qcloud",
    namespaced,
    status = "VpcRouteStatus",
    doc = "A route in a Tencent Cloud VPC route table, created and kept in place by vpcroute-operator.",
    printcolumn = r#"{"name":"Destination","type":"string","jsonPath":".spec.destinationCidrBlock"}"#,
    printcolumn = r#"{"name":"NextType","type":"string","jsonPath":".spec.nextType"}"#,
    printcolumn = r#"{"name":"NextHub","type":"string","jsonPath":".spec.nextHub"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"RouteItemId","type":"string","priority":1,"jsonPath":".status.route.routeItemId"}"#,
    printcolumn = r#"{"name":"Message","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#
)]
#[x_kube(
    validation = Rule::new("self.nextType != 'PublicGateway' || self.nextHub.matches('^ins-[0-9a-z]+$')").message("nextHub for nextType PublicGateway must be a CVM instance id such as ins-09dx96dg").field_path(".nextHub"),
    validation = Rule::new("!(self.nextType in ['VpnGateway', 'SslVpnGateway']) || self.nextHub.matches('^vpngw-[0-9a-z]+$')").message("nextHub for nextType VpnGateway or SslVpnGateway must be a VPN gateway id such as vpngw-dystbrkv").field_path(".nextHub"),
    validation = Rule::new("self.nextType != 'DirectConnectGateway' || self.nextHub.matches('^dcg-[0-9a-z]+$')").message("nextHub for nextType DirectConnectGateway must be a Direct Connect gateway id such as dcg-1a2b3c4d").field_path(".nextHub"),
    validation = Rule::new("self.nextType != 'PeeringConnection' || self.nextHub.matches('^pcx-[0-9a-z]+$')").message("nextHub for nextType PeeringConnection must be a peering connection id such as pcx-1a2b3c4d").field_path(".nextHub"),
    validation = Rule::new("self.nextType != 'NatGateway' || self.nextHub.matches('^nat-[0-9a-z]+$')").message("nextHub for nextType NatGateway must be a NAT gateway id such as nat-0a1b2c3d").field_path(".nextHub"),
    validation = Rule::new("self.nextType != 'NormalCvm' || (isIP(self.nextHub) && ip(self.nextHub).family() == 4)").message("nextHub for nextType NormalCvm must be the CVM's private IPv4 address such as 10.0.1.7").field_path(".nextHub"),
    validation = Rule::new("has(self.region) == has(oldSelf.region)").message("region is immutable: create a new VpcRoute to route in another region")
)]
#[serde(rename_all = "camelCase")]
pub struct VpcRouteSpec {
    /// The VPC that holds the route table, e.g. `vpc-amhnnao5`. Immutable.
    #[x_kube(validation = Rule::new("self.matches('^vpc-[0-9a-z]{1,32}$')").message("vpcId must be a VPC id such as vpc-amhnnao5"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("vpcId is immutable: create a new VpcRoute to route in another VPC"))]
    pub vpc_id: String,

    /// The route table to add the route to, e.g. `rtb-4ahe1qy2`. Immutable.
    #[x_kube(validation = Rule::new("self.matches('^rtb-[0-9a-z]{1,32}$')").message("routeTableId must be a route table id such as rtb-4ahe1qy2"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("routeTableId is immutable: create a new VpcRoute to route in another table"))]
    pub route_table_id: String,

    /// Destination IPv4 CIDR, e.g. `112.20.51.0/24`; must lie outside the VPC's CIDR. Host bits are
    /// allowed (`121.0.23.51/16`): the cloud stores the network (`121.0.0.0/16`), shown in
    /// `status.destinationCidrBlock`. Immutable.
    #[x_kube(validation = Rule::new("self.matches('^[0-9]{1,3}([.][0-9]{1,3}){3}/[0-9]{1,2}$') && isCIDR(self)").message("destinationCidrBlock must be an IPv4 CIDR such as 112.20.51.0/24"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("destinationCidrBlock is immutable: create a new VpcRoute for another destination"))]
    pub destination_cidr_block: String,

    /// Kind of next hop, with its Tencent API wire code: `PublicGateway` (0, a CVM acting as a
    /// public gateway, hub `ins-…`), `VpnGateway` (1, `vpngw-…`), `DirectConnectGateway` (3, `dcg-…`),
    /// `PeeringConnection` (4, `pcx-…`), `SslVpnGateway` (7, `vpngw-…`), `NatGateway` (8, `nat-…`),
    /// `NormalCvm` (9, the CVM's private IPv4 address). Changing it replaces the route.
    pub next_type: NextTypeName,

    /// The next hop: a gateway id whose prefix matches `nextType`, or an IPv4 address for
    /// `NormalCvm`. Changing it replaces the route (delete, then create).
    #[x_kube(validation = Rule::new("size(self) >= 1 && size(self) <= 64").message("nextHub must be 1 to 64 characters"))]
    pub next_hub: String,

    /// Tencent Cloud region, e.g. `ap-guangzhou`. Defaults to the operator's `--region`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self.matches('^[a-z]{2,}(-[a-z0-9]+)*$') && size(self) <= 64").message("region must be a Tencent Cloud region such as ap-guangzhou"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("region is immutable: create a new VpcRoute to route in another region"))]
    pub region: Option<String>,

    /// A Secret in this namespace with keys `secretId`, `secretKey` and optional `token`, used
    /// for this route's API calls. Default: the operator's own credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<SecretRef>,

    /// Tencent's `RouteDescription` (API 3.0), shown in the console; mutable. API 2.0 has no
    /// description: there the route is made without it and the Ready message says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("size(self) <= 100").message("description must be at most 100 characters"))]
    pub description: Option<String>,

    /// Whether the route carries traffic (default `true`); `false` disables it in place (API 3.0
    /// `DisableRoutes`), `true` enables it again. API 2.0 cannot disable a route, so there
    /// `false` is refused with reason `InvalidSpec` and nothing is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,

    /// `Full` (default): the operator creates, repairs and deletes the route. `ObserveOnly`: it
    /// never writes to the cloud; it reports whether the route exists exactly as specified
    /// (`Observed`), differs (`RouteDiffers`, naming what differs) or is missing
    /// (`RouteMissing`), and deleting the resource never deletes the route. Switching to `Full`
    /// adopts or creates as usual.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// What deleting this resource does to the cloud route: `Delete` (default) removes the route
    /// this resource owns; `Orphan` leaves it in the table.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Whether an identical route that already exists in the table (same destination, type and
    /// hub) may be taken over: `IfIdentical` (default) or `Never`.
    #[serde(default)]
    pub adoption_policy: AdoptionPolicy,
}

/// Next-hop kinds by name; the wire code is in each variant's doc.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextTypeName {
    /// 0: a CVM acting as a public gateway (`ins-…`).
    PublicGateway,
    /// 1: a VPN gateway (`vpngw-…`).
    VpnGateway,
    /// 3: a Direct Connect gateway (`dcg-…`).
    DirectConnectGateway,
    /// 4: a peering connection (`pcx-…`).
    PeeringConnection,
    /// 7: an SSL VPN gateway (`vpngw-…`).
    SslVpnGateway,
    /// 8: a NAT gateway (`nat-…`).
    NatGateway,
    /// 9: a normal CVM, addressed by its private IPv4 address.
    NormalCvm,
}

impl From<NextTypeName> for NextType {
    fn from(n: NextTypeName) -> NextType {
        match n {
            NextTypeName::PublicGateway => NextType::PublicGateway,
            NextTypeName::VpnGateway => NextType::VpnGateway,
            NextTypeName::DirectConnectGateway => NextType::DirectConnectGateway,
            NextTypeName::PeeringConnection => NextType::PeeringConnection,
            NextTypeName::SslVpnGateway => NextType::SslVpnGateway,
            NextTypeName::NatGateway => NextType::NatGateway,
            NextTypeName::NormalCvm => NextType::NormalCvm,
        }
    }
}

impl From<NextType> for NextTypeName {
    fn from(n: NextType) -> NextTypeName {
        match n {
            NextType::PublicGateway => NextTypeName::PublicGateway,
            NextType::VpnGateway => NextTypeName::VpnGateway,
            NextType::DirectConnectGateway => NextTypeName::DirectConnectGateway,
            NextType::PeeringConnection => NextTypeName::PeeringConnection,
            NextType::SslVpnGateway => NextTypeName::SslVpnGateway,
            NextType::NatGateway => NextTypeName::NatGateway,
            NextType::NormalCvm => NextTypeName::NormalCvm,
        }
    }
}

/// A reference to a Secret in the resource's namespace.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    /// Name of the Secret.
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$') && size(self) <= 253").message("credentialsSecretRef.name must be a Secret name"))]
    pub name: String,
}

/// What deleting the resource does to the cloud route.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// Delete the route this resource owns.
    #[default]
    Delete,
    /// Leave the route in the table.
    Orphan,
}

/// Whether the operator writes to the cloud for a resource.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ManagementPolicy {
    /// Create, repair and delete the route.
    #[default]
    Full,
    /// Only read and report; never write to the cloud.
    ObserveOnly,
}

/// The annotation that pauses a resource: `vpc.qcloud.dev/paused: "true"` stops every cloud call
/// for it (deletion included: the finalizer waits) until it is removed or set to another value.
pub const PAUSED_ANNOTATION: &str = "vpc.qcloud.dev/paused";

/// Whether a resource is paused by [`PAUSED_ANNOTATION`].
pub fn is_paused(obj: &VpcRoute) -> bool {
    obj.metadata.annotations.as_ref().and_then(|a| a.get(PAUSED_ANNOTATION)).is_some_and(|v| v.trim() == "true")
}

/// Whether an identical pre-existing route may be taken over.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AdoptionPolicy {
    /// Adopt a route with the same destination, type and hub.
    #[default]
    IfIdentical,
    /// Never adopt: an existing route is always a conflict.
    Never,
}

/// What the operator last observed and did.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VpcRouteStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions; `Ready` says whether the route is in place.
    #[serde(default)]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The destination as the cloud holds it (host bits cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_cidr_block: Option<String>,
    /// The cloud route this resource owns, once created or adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<OwnedRoute>,
    /// A cloud write that was started and not yet confirmed (crash safety).
    // Boxed: almost always absent, and the cache may hold 10,000 statuses (368 bytes each inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Box<PendingWrite>>,
}

/// A route this resource owns in the cloud.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OwnedRoute {
    /// Region of the route.
    pub region: String,
    /// VPC of the route table.
    pub vpc_id: String,
    /// Route table holding the route.
    pub route_table_id: String,
    /// Normalised destination.
    pub destination_cidr_block: String,
    /// Next-hop kind.
    pub next_type: NextTypeName,
    /// Next hop.
    pub next_hub: String,
    /// `Created` (this operator made it) or `Adopted` (it existed and was taken over).
    pub origin: Origin,
    /// The cloud's stable id of the route (`rti-…`), where the API has one (3.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_item_id: Option<String>,
    /// The cloud's numeric route id, where the API has one (3.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<i64>")]
    pub route_id: Option<u64>,
}

/// How a resource came to own its route.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// This operator created it.
    Created,
    /// It existed, identical, and was taken over.
    Adopted,
}

/// A cloud write in flight: recorded before the call, cleared once its outcome is known.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PendingWrite {
    /// `Create`, `Delete` or `Replace`.
    pub operation: PendingOperation,
    /// The route being written (for `Replace`: the route as it will be).
    pub route: OwnedRoute,
    /// For `Replace`: the route as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<OwnedRoute>,
    /// When the write was recorded (RFC 3339). A write whose answer never came may still land
    /// at the cloud for a while (`--write-landing-seconds`): until then, not finding it in the
    /// table proves nothing, and the record stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// The kind of cloud write in flight.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingOperation {
    /// Adding the route.
    Create,
    /// Removing the route.
    Delete,
    /// Changing the route's next hop.
    Replace,
}

/// A Kubernetes-style condition.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// One-word CamelCase reason, e.g. `Created` or `RouteAlreadyExists`.
    pub reason: String,
    /// Human-readable detail, including Tencent's code and message on failure.
    pub message: String,
    /// When `status` last changed (RFC 3339).
    pub last_transition_time: String,
    /// The generation this condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
