#!/usr/bin/env bash
# Creates target/py-venv with Tencent's official Python SDKs, used to drive vpc-sim with clients
# nobody here wrote:
#   - the legacy API 2.0 SDK (PyPI qcloudapi-sdk-python, module QcloudApi), for tests/sdk_interop.rs;
#   - the API 3.0 SDK (PyPI tencentcloud-sdk-python-common + tencentcloud-sdk-python-vpc, module
#     tencentcloud), for crates/vpc-sim/tests/sdk3_interop.rs.
# Idempotent: exits at once when the venv already holds the pinned versions.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/target/py-venv"
sdk_version="2.0.15"
sdk3_version="3.1.193"

if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import sys, QcloudApi; sys.exit(QcloudApi.__version__ != '$sdk_version')" 2>/dev/null &&
  "$venv/bin/python" -c "import sys, tencentcloud; from tencentcloud.vpc.v20170312 import vpc_client; sys.exit(tencentcloud.__version__ != '$sdk3_version')" 2>/dev/null; then
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "qcloudapi-sdk-python==$sdk_version" \
  "tencentcloud-sdk-python-common==$sdk3_version" "tencentcloud-sdk-python-vpc==$sdk3_version"
"$venv/bin/python" -c "import QcloudApi; print('qcloudapi-sdk-python', QcloudApi.__version__, 'in $venv')"
"$venv/bin/python" -c "import tencentcloud; print('tencentcloud-sdk-python', tencentcloud.__version__, 'in $venv')"
