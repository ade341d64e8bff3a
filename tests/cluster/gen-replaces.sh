#!/usr/bin/env bash
# Regenerates the k8s.io staging-module replaces in tests/cluster/go.mod.
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) at the
# placeholder v0.0.0 and points them at ./staging/src with replaces that only apply inside its
# own repository. This script reads those `=> ./staging/src/k8s.io/...` lines from the go.mod that
# the module proxy serves for the required k8s.io/kubernetes version and replaces each staging
# module with its published tag (v1.37.2 -> v0.37.2), then runs `go mod tidy`.
#
# Usage: bash tests/cluster/gen-replaces.sh [KUBERNETES_VERSION]
#   With no argument it keeps the version go.mod already requires.
set -euo pipefail

cd "$(dirname "$0")"
export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod

current=$(awk '{ for (i = 1; i < NF; i++) if ($i == "k8s.io/kubernetes" && $(i + 1) ~ /^v1\./) { print $(i + 1); exit } }' go.mod)
version=${1:-$current}
[[ $version =~ ^v1\.[0-9]+\.[0-9]+$ ]] || {
	echo "gen-replaces: need a Kubernetes version like v1.37.2 (go.mod has '${current}')" >&2
	exit 1
}
staging_version="v0.${version#v1.}"

upstream_gomod=$(go mod download -json "k8s.io/kubernetes@${version}" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[[ -f $upstream_gomod ]] || {
	echo "gen-replaces: could not download k8s.io/kubernetes@${version}" >&2
	exit 1
}

mapfile -t staging < <(
	sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/k8s\.io/.*$|\1|p' "$upstream_gomod"
)
((${#staging[@]} > 0)) || {
	echo "gen-replaces: no staging replaces found in ${upstream_gomod}" >&2
	exit 1
}

# Drop every existing k8s.io replace first, so modules that a release removed do not linger.
edits=()
while read -r old; do
	edits+=("-dropreplace=${old}")
done < <(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => k8s\.io/.*$|\1|p' go.mod)
edits+=("-require=k8s.io/kubernetes@${version}")
for module in "${staging[@]}"; do
	edits+=("-replace=${module}=${module}@${staging_version}")
done
go mod edit "${edits[@]}"

echo "gen-replaces: k8s.io/kubernetes ${version}, ${#staging[@]} staging modules at ${staging_version}"
go mod tidy
