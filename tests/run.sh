#!/usr/bin/env bash
# The whole test suite, from a fresh clone: builds the Kubernetes control plane from Go modules
# (cached under target/cluster/), the Python virtualenv with Tencent's official SDK (for the
# interop test), then runs every Rust test — unit tests, the emulator and client over HTTPS,
# and the cluster tests against a real kube-apiserver. Cluster tests fail (never skip) when the
# control plane cannot start.
#
# Usage: bash tests/run.sh [extra cargo test args]
# Stress size: VPCROUTE_STRESS_ROUTES (default 40; the issue's on-demand size is 200).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

echo "tests/run.sh: building the control plane (first run: 10-15 minutes)"
bash tests/cluster/build.sh
echo "tests/run.sh: preparing the Python SDK virtualenv"
bash tests/interop/setup-venv.sh
echo "tests/run.sh: cargo test"
export RUST_TEST_THREADS=${RUST_TEST_THREADS:-4}
cargo test --workspace "$@"
