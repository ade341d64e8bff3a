#!/usr/bin/env python3
"""TKE pod identity against vpc-sim with Tencent's official Python SDK (tencentcloud-sdk-python):
DefaultTkeOIDCRoleArnProvider reads TKE_REGION, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE and
TKE_ROLE_ARN, OIDCRoleArnCredential exchanges the token with vpc-sim's STS
AssumeRoleWithWebIdentity (unsigned, `Authorization: SKIP`), and a VpcClient signed with the
temporary key and token calls DescribeVpcs; after the key's lifetime it does so again.

Usage: qcloud_sdk3_oidc.py HOST:PORT CA_FILE WAIT_SECONDS. The SDK's STS call verifies TLS with
certifi's bundle only (it passes `verify=certifi.where()`, so REQUESTS_CA_BUNDLE is ignored):
run it with a certifi copy that includes vpc-sim's CA first on PYTHONPATH. Prints one JSON line;
never prints keys or tokens.
"""
import json
import sys
import time

from tencentcloud.common.credential import DefaultTkeOIDCRoleArnProvider
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vpc.v20170312 import models, vpc_client

if len(sys.argv) != 4:
    sys.exit(__doc__)
endpoint, ca_file, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])

cred = DefaultTkeOIDCRoleArnProvider().get_credentials()
cred.endpoint = endpoint
client = vpc_client.VpcClient(
    cred, "ap-guangzhou", ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, certification=ca_file)))


def describe():
    secret_id, _key, token = cred.get_credential_info()
    answer = json.loads(client.DescribeVpcs(models.DescribeVpcsRequest()).to_json_string())
    return secret_id, bool(token), sorted(v["VpcId"] for v in answer["VpcSet"])


first_id, first_token, first_vpcs = describe()
time.sleep(wait)
second_id, second_token, second_vpcs = describe()
print(json.dumps({
    "temporary": first_id.startswith("AKIDtmp") and first_token and second_token,
    "rotated": first_id != second_id,
    "vpcs": [first_vpcs, second_vpcs],
}))
