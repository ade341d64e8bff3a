#!/usr/bin/env python3
"""Calls vpc-sim through Tencent's legacy Python SDK (qcloudapi-sdk-python, module QcloudApi).

Usage: qcloud_sdk_create_route.py CONFIG_JSON

CONFIG_JSON keys: endpoint ("127.0.0.1:PORT"), secretId, secretKey, region, method ("GET" or
"POST"), signatureMethod ("HmacSHA1" or "HmacSHA256"), action (default "CreateRoute") and params
(nested dicts and lists; the SDK flattens them into routeSet.0.destinationCidrBlock and so on).

Prints the API's JSON answer on stdout; exits 2 with the SDK's error on stderr when the call
fails at the transport level. Certificate verification stays on: the SDK's http.client uses the
default SSL context, so point SSL_CERT_FILE at the emulator's CA.
"""
import json
import sys

from QcloudApi.modules import base


def main():
    cfg = json.loads(sys.argv[1])
    # QcloudApi('vpc', ...) hard-codes vpc.api.qcloud.com. The Base class takes its host from the
    # `endpoint` setting: it connects there over HTTPS and signs exactly that host, port included,
    # which is also the Host header http.client sends.
    service = base.Base({
        "endpoint": cfg["endpoint"],
        "secretId": cfg["secretId"],
        "secretKey": cfg["secretKey"],
        "Region": cfg["region"],
        "method": cfg.get("method", "GET"),
        "SignatureMethod": cfg.get("signatureMethod", "HmacSHA1"),
    })
    try:
        answer = service.call(cfg.get("action", "CreateRoute"), cfg.get("params", {}))
    except Exception as error:  # the SDK wraps transport failures in its own exceptions
        print("sdk call failed: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 2
    sys.stdout.write(answer.decode("utf-8") if isinstance(answer, bytes) else answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
