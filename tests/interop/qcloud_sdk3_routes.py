#!/usr/bin/env python3
"""Drives vpc-sim's API 3.0 endpoint with Tencent's official Python SDK (tencentcloud-sdk-python).

Usage: qcloud_sdk3_routes.py HOST:PORT CA_FILE SECRET_ID SECRET_KEY [STS_ID STS_KEY STS_TOKEN]
(each also from env VPCSIM_ENDPOINT, VPCSIM_CA, VPCSIM_SECRET_ID, VPCSIM_SECRET_KEY, VPCSIM_STS_ID,
VPCSIM_STS_KEY, VPCSIM_STS_TOKEN). Works on the demo world (deploy/world.yaml): table rtb-4ahe1qy2
in vpc-amhnnao5, VPN gateway vpngw-dystbrkv, NAT gateway nat-0fkvq2hd. Prints one line per case,
"ok <case>" or "FAIL <case>: <why>" ("skip <case>: <why>" when a case cannot run), and exits 1 when
any case failed. Never prints keys or tokens.
"""
import json
import os
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vpc.v20170312 import models, vpc_client

REGION = "ap-guangzhou"
TABLE = "rtb-4ahe1qy2"
VPC = "vpc-amhnnao5"
VPN = "vpngw-dystbrkv"
NAT = "nat-0fkvq2hd"
DEST = "203.0.113.0/24"

ENV = ["VPCSIM_ENDPOINT", "VPCSIM_CA", "VPCSIM_SECRET_ID", "VPCSIM_SECRET_KEY",
       "VPCSIM_STS_ID", "VPCSIM_STS_KEY", "VPCSIM_STS_TOKEN"]
args = sys.argv[1:] + [os.environ.get(name, "") for name in ENV[len(sys.argv) - 1:]]
endpoint, ca_file, secret_id, secret_key, sts_id, sts_key, sts_token = (args + [""] * 7)[:7]
if not (endpoint and ca_file and secret_id and secret_key):
    sys.exit(__doc__)

failures = 0


def report(case, ok, why=""):
    global failures
    if ok:
        print("ok " + case, flush=True)
    else:
        failures += 1
        print("FAIL %s: %s" % (case, why), flush=True)


def client(sid, key, token=None):
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, certification=ca_file))
    return vpc_client.VpcClient(credential.Credential(sid, key, token), REGION, profile)


def request(model, fields):
    req = model()
    req.from_json_string(json.dumps(fields))
    return req


def error_code(call):
    """The SDK exception's code for a call expected to fail, or a description of what happened."""
    try:
        call()
    except TencentCloudSDKException as e:
        return e.get_code()
    return "no error"


def describe(vpc):
    fields = {"Filters": [{"Name": "route-table-id", "Values": [TABLE]}, {"Name": "vpc-id", "Values": [VPC]}],
              "Offset": "0", "Limit": "100"}
    resp = vpc.DescribeRouteTables(request(models.DescribeRouteTablesRequest, fields))
    return [r for t in resp.RouteTableSet for r in t.RouteSet if r.RouteType == "USER"]


def main():
    vpc = client(secret_id, secret_key)
    item = None
    try:
        fields = {"RouteTableId": TABLE, "Routes": [{"DestinationCidrBlock": DEST, "GatewayType": "VPN",
                                                      "GatewayId": VPN, "Enabled": True}]}
        resp = vpc.CreateRoutes(request(models.CreateRoutesRequest, fields))
        new = resp.RouteTableSet[0].RouteSet[0]
        item = new.RouteItemId
        report("create-routes", resp.TotalCount == 1 and item.startswith("rti-") and new.RouteId > 0,
               "unexpected answer %s" % resp.to_json_string())
    except TencentCloudSDKException as e:
        report("create-routes", False, e.get_code())

    try:
        mine = [r for r in describe(vpc) if r.RouteItemId == item]
        report("describe-route-tables", len(mine) == 1 and mine[0].DestinationCidrBlock == DEST
               and mine[0].GatewayId == VPN, "route %s not listed as made" % item)
    except TencentCloudSDKException as e:
        report("describe-route-tables", False, e.get_code())

    try:
        fields = {"RouteTableId": TABLE, "Routes": [{"RouteItemId": item, "DestinationCidrBlock": DEST,
                                                      "GatewayType": "NAT", "GatewayId": NAT}]}
        resp = vpc.ReplaceRoutes(request(models.ReplaceRoutesRequest, fields))
        after = [r for r in describe(vpc) if r.RouteItemId == item]
        report("replace-routes", resp.NewRouteSet[0].RouteItemId == item and len(after) == 1
               and after[0].GatewayType == "NAT", "hop not replaced in place")
    except TencentCloudSDKException as e:
        report("replace-routes", False, e.get_code())

    try:
        resp = vpc.DeleteRoutes(request(models.DeleteRoutesRequest,
                                        {"RouteTableId": TABLE, "Routes": [{"RouteItemId": item}]}))
        left = [r for r in describe(vpc) if r.RouteItemId == item]
        report("delete-routes", len(resp.RouteSet) == 1 and not left, "route still listed")
    except TencentCloudSDKException as e:
        report("delete-routes", False, e.get_code())

    # Every business error of the contract, as the SDK raises it.
    def create(table, dest, gw_type, gw_id):
        fields = {"RouteTableId": table, "Routes": [{"DestinationCidrBlock": dest, "GatewayType": gw_type,
                                                      "GatewayId": gw_id}]}
        return error_code(lambda: vpc.CreateRoutes(request(models.CreateRoutesRequest, fields)))

    business = [
        ("business-error", (TABLE, "198.51.100.0/24", "VPN", "vpngw-nothere"),
         "InvalidParameterValue.RouteNextHopInvalid"),
        ("error-malformed-cidr", (TABLE, "198.51.100/24", "VPN", VPN), "InvalidParameterValue.Malformed"),
        ("error-vpc-cidr-conflict", (TABLE, "10.0.7.0/24", "VPN", VPN), "InvalidParameterValue.VpcCidrConflict"),
        ("error-unknown-gateway-type", (TABLE, "198.51.100.0/24", "TELEPORTER", VPN), "InvalidParameter"),
        ("error-duplicate", (TABLE, "192.168.0.0/16", "NAT", NAT), "InvalidParameterValue.Duplicate"),
        ("error-ecmp", (TABLE, "192.168.0.0/16", "VPN", VPN), "UnsupportedOperation.EcmpWithUserRoute"),
        ("error-unknown-table", ("rtb-nothere1", "198.51.100.0/24", "VPN", VPN), "ResourceNotFound"),
    ]
    for case, args, want in business:
        got = create(*args)
        report(case, got == want, "%s instead of %s" % (got, want))

    describe_vpcs = lambda c: c.DescribeVpcs(request(models.DescribeVpcsRequest, {}))
    got = error_code(lambda: describe_vpcs(client(secret_id, secret_key + "x")))
    report("bad-signature", got == "AuthFailure.SignatureFailure", got)
    got = error_code(lambda: describe_vpcs(client("AKIDnobodyHasThisId000000000000000", secret_key)))
    report("unknown-secret-id", got == "AuthFailure.SecretIdNotFound", got)

    if sts_id and sts_key and sts_token:
        try:
            resp = describe_vpcs(client(sts_id, sts_key, sts_token))
            report("sts-with-token", resp.TotalCount >= 1, "no VPC")
        except TencentCloudSDKException as e:
            report("sts-with-token", False, e.get_code())
        got = error_code(lambda: describe_vpcs(client(sts_id, sts_key)))
        report("sts-without-token", got == "AuthFailure.TokenFailure", got)
    else:
        print("skip sts-with-token: no STS credentials given", flush=True)
        print("skip sts-without-token: no STS credentials given", flush=True)

    # The SDK takes its timestamp from time.time(); shift that clock back 10 minutes for one call.
    real_time = time.time
    time.time = lambda: real_time() - 600
    try:
        got = error_code(lambda: describe_vpcs(vpc))
    finally:
        time.time = real_time
    report("stale-timestamp", got == "AuthFailure.SignatureExpire", got)


main()
sys.exit(1 if failures else 0)
