#!/usr/bin/env bash
# Renders deploy/operator.yaml (plain manifests for kubectl users) from the chart at the
# repository root. tests/chart.rs fails when the committed file differs from this output.
#
# Usage: bash deploy/render.sh            # writes deploy/operator.yaml
#        bash deploy/render.sh -           # prints to stdout
# Needs helm: $HELM, else target/cluster/bin/helm (bash tests/cluster/build.sh), else PATH.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
helm=${HELM:-}
if [[ -z $helm ]]; then
	if [[ -x $repo/target/cluster/bin/helm ]]; then helm=$repo/target/cluster/bin/helm; else helm=helm; fi
fi

# The settings kubectl users get: namespace vpcroute-system, default credentials from a Secret
# they create themselves (see the header below).
namespace=vpcroute-system
release=vpcroute-operator
secret=vpcroute-credentials

render() {
	cat <<HEADER
# vpcroute-operator plain manifests, rendered from the Helm chart by deploy/render.sh
# (helm template $release . --namespace $namespace --set credentials.existingSecret=$secret).
# Do not edit by hand: change the chart and run \`bash deploy/render.sh\`.
#
# Install:
#   kubectl apply --server-side -f crds/                # the VpcRoute CRD (first, and on upgrades)
#   kubectl create namespace $namespace
#   kubectl -n $namespace create secret generic $secret \\
#     --from-literal=secretId=AKID... --from-literal=secretKey=...
#   kubectl apply -f deploy/operator.yaml
# Uninstall: delete your VpcRoutes first (the operator removes their routes), then
#   kubectl delete -f deploy/operator.yaml
HEADER
	# Isolated helm state: rendering reads no repositories, plugins or user configuration.
	local home
	home=$(mktemp -d)
	trap 'rm -rf "$home"' RETURN
	HELM_CONFIG_HOME=$home/config HELM_CACHE_HOME=$home/cache HELM_DATA_HOME=$home/data \
		"$helm" template "$release" "$repo" --namespace "$namespace" --skip-crds \
		--set "credentials.existingSecret=$secret"
}

if [[ ${1:-} == - ]]; then
	render
else
	out=$repo/deploy/operator.yaml
	render >"$out.tmp"
	mv "$out.tmp" "$out"
	echo "render.sh: wrote $out"
fi
