#!/usr/bin/env bash
# Runs the test control plane in the foreground until killed (SIGTERM/SIGINT), for demos and
# manual poking. Builds the binaries first if needed (seconds when cached).
#
# Prints the launcher's READY line on stdout, e.g.
#   READY kubeconfig=<repo>/target/cluster/demo.kubeconfig url=https://127.0.0.1:PORT ...
# The kubeconfig is written atomically before that line and removed on exit.
#
# Usage: bash tests/cluster/up.sh [--kubeconfig PATH] [launcher flags...]
#   e.g. bash tests/cluster/up.sh &   then wait for READY, use kubectl, kill %1
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=$repo/target
if [[ ${CARGO_TARGET_DIR:-} == /* ]]; then target=$CARGO_TARGET_DIR; fi

bash "$here/build.sh" >&2
kubeconfig=$target/cluster/demo.kubeconfig
if [[ ${1:-} == --kubeconfig ]]; then
	kubeconfig=$2
	shift 2
fi
echo "up.sh: starting the control plane; kubeconfig will be $kubeconfig (Ctrl-C or SIGTERM stops it)" >&2
exec "$target/cluster/bin/launcher" -watch-stdin=false -kubeconfig "$kubeconfig" "$@"
