#!/usr/bin/env bash
# Creates target/py-venv with Tencent's official legacy Python SDK (PyPI qcloudapi-sdk-python,
# module QcloudApi), used by tests/sdk_interop.rs to drive vpc-sim with a client nobody here wrote.
# Idempotent: exits at once when the venv already holds the pinned version.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/target/py-venv"
sdk_version="2.0.15"

if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import sys, QcloudApi; sys.exit(QcloudApi.__version__ != '$sdk_version')" 2>/dev/null; then
  exit 0
fi

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "qcloudapi-sdk-python==$sdk_version"
"$venv/bin/python" -c "import QcloudApi; print('qcloudapi-sdk-python', QcloudApi.__version__, 'in $venv')"
